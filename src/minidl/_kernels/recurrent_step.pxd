"""The element-wise passes of one recurrent step (recurrent_step.h), for the modules that
run them: recurrent.pyx (one step a call) and lstm_sequence.pyx (an LSTM's whole loop):
the C declarations, each row with the mask's rule (a masked row keeps its state and
sends its gradient straight back), and when a step's rows are split over the threads."""

from cython cimport floating
from libc.string cimport memcpy, memset

cdef extern from "recurrent_step.h" nogil:
    # the element-wise passes of one row (see the header); float and double copies
    void minidl_lstm_forward_row_float(float *gates, const float *c_prev, float *c, float *h,
                                       Py_ssize_t u, int act, int ract)
    void minidl_lstm_forward_row_double(double *gates, const double *c_prev, double *c,
                                        double *h, Py_ssize_t u, int act, int ract)
    void minidl_lstm_backward_row_float(const float *gates, const float *c_prev, const float *c,
                                        const float *grad_h, const float *grad_c,
                                        float *grad_gates, float *grad_c_prev,
                                        float *grad_h_prev, Py_ssize_t u, int act, int ract)
    void minidl_lstm_backward_row_double(const double *gates, const double *c_prev,
                                         const double *c, const double *grad_h,
                                         const double *grad_c, double *grad_gates,
                                         double *grad_c_prev, double *grad_h_prev, Py_ssize_t u,
                                         int act, int ract)
    void minidl_gru_forward_row_float(float *gates, const float *rec, const float *h_prev,
                                      float *h, Py_ssize_t u, int act, int ract)
    void minidl_gru_forward_row_double(double *gates, const double *rec, const double *h_prev,
                                       double *h, Py_ssize_t u, int act, int ract)
    void minidl_gru_backward_row_float(const float *gates, const float *rec,
                                       const float *h_prev, const float *grad_h,
                                       float *grad_gates, float *grad_rec, float *grad_h_prev,
                                       Py_ssize_t u, int act, int ract)
    void minidl_gru_backward_row_double(const double *gates, const double *rec,
                                        const double *h_prev, const double *grad_h,
                                        double *grad_gates, double *grad_rec,
                                        double *grad_h_prev, Py_ssize_t u, int act, int ract)
    void minidl_rnn_forward_row_float(float *pre, Py_ssize_t u, int act)
    void minidl_rnn_forward_row_double(double *pre, Py_ssize_t u, int act)
    void minidl_rnn_backward_row_float(const float *h, const float *grad_h, float *grad_pre,
                                       float *grad_h_prev, Py_ssize_t u, int act)
    void minidl_rnn_backward_row_double(const double *h, const double *grad_h,
                                        double *grad_pre, double *grad_h_prev, Py_ssize_t u,
                                        int act)


# --- the rows: a masked row (keep) copies its state through ------------------
cdef inline void _copy(floating *dst, const floating *src, Py_ssize_t size) noexcept nogil:
    memcpy(dst, src, size * sizeof(floating))


cdef inline void _pass_back(floating *zeros_a, Py_ssize_t size_a, floating *zeros_b,
                            Py_ssize_t size_b) noexcept nogil:
    """A masked row's gradients: dL/dz of its gates (and of the recurrent part) are 0."""
    memset(zeros_a, 0, size_a * sizeof(floating))
    if zeros_b != NULL:
        memset(zeros_b, 0, size_b * sizeof(floating))


cdef inline void _lstm_forward_row(floating *gates, const floating *c_prev,
                                   const floating *h_prev, floating *c, floating *h,
                                   bint keep, Py_ssize_t units, int act,
                                   int ract) noexcept nogil:
    if floating is float:
        minidl_lstm_forward_row_float(gates, c_prev, c, h, units, act, ract)
    else:
        minidl_lstm_forward_row_double(gates, c_prev, c, h, units, act, ract)
    if keep:
        _copy(c, c_prev, units)
        _copy(h, h_prev, units)


cdef inline void _lstm_backward_row(const floating *gates, const floating *c_prev,
                                    const floating *c, const floating *grad_h,
                                    const floating *grad_c, floating *grad_gates,
                                    floating *grad_c_prev, floating *grad_h_prev, bint keep,
                                    Py_ssize_t units, int act, int ract) noexcept nogil:
    if keep:
        _pass_back(grad_gates, 4 * units, <floating *>NULL, 0)
        _copy(grad_c_prev, grad_c, units)
        _copy(grad_h_prev, grad_h, units)
    elif floating is float:
        minidl_lstm_backward_row_float(gates, c_prev, c, grad_h, grad_c, grad_gates,
                                       grad_c_prev, grad_h_prev, units, act, ract)
    else:
        minidl_lstm_backward_row_double(gates, c_prev, c, grad_h, grad_c, grad_gates,
                                        grad_c_prev, grad_h_prev, units, act, ract)


cdef inline void _gru_forward_row(floating *gates, const floating *rec, const floating *h_prev,
                                  floating *h, bint keep, Py_ssize_t units, int act,
                                  int ract) noexcept nogil:
    if floating is float:
        minidl_gru_forward_row_float(gates, rec, h_prev, h, units, act, ract)
    else:
        minidl_gru_forward_row_double(gates, rec, h_prev, h, units, act, ract)
    if keep:
        _copy(h, h_prev, units)


cdef inline void _gru_backward_row(const floating *gates, const floating *rec,
                                   const floating *h_prev, const floating *grad_h,
                                   floating *grad_gates, floating *grad_rec,
                                   floating *grad_h_prev, bint keep, Py_ssize_t units, int act,
                                   int ract) noexcept nogil:
    if keep:
        _pass_back(grad_gates, 3 * units, grad_rec, 3 * units)
        _copy(grad_h_prev, grad_h, units)
    elif floating is float:
        minidl_gru_backward_row_float(gates, rec, h_prev, grad_h, grad_gates, grad_rec,
                                      grad_h_prev, units, act, ract)
    else:
        minidl_gru_backward_row_double(gates, rec, h_prev, grad_h, grad_gates, grad_rec,
                                       grad_h_prev, units, act, ract)


cdef inline void _rnn_forward_row(floating *pre, const floating *h_prev, bint keep,
                                  Py_ssize_t units, int act) noexcept nogil:
    if keep:
        _copy(pre, h_prev, units)
    elif floating is float:
        minidl_rnn_forward_row_float(pre, units, act)
    else:
        minidl_rnn_forward_row_double(pre, units, act)


cdef inline void _rnn_backward_row(const floating *h, const floating *grad_h,
                                   floating *grad_pre, floating *grad_h_prev, bint keep,
                                   Py_ssize_t units, int act) noexcept nogil:
    if keep:
        _pass_back(grad_pre, units, <floating *>NULL, 0)
        _copy(grad_h_prev, grad_h, units)
    elif floating is float:
        minidl_rnn_backward_row_float(h, grad_h, grad_pre, grad_h_prev, units, act)
    else:
        minidl_rnn_backward_row_double(h, grad_h, grad_pre, grad_h_prev, units, act)


# --- when a step's rows are split over the threads ---------------------------------
# rows * units at and above which a step is split over the threads (below it,
# waking the threads costs more than the pass: a 64 x 128 LSTM step is ~30k values)
cdef enum:
    RECURRENT_PARALLEL_MIN_VALUES = 1 << 16


cdef inline int _threads(Py_ssize_t rows, Py_ssize_t values) noexcept nogil:
    return 0 if values < RECURRENT_PARALLEL_MIN_VALUES or rows < 2 else 1
