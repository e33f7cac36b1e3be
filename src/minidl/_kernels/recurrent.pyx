# cython: language_level=3
"""One timestep of an LSTM, a GRU or a SimpleRNN: the gates and the state update, fused.

A recurrent layer spends its time in two kinds of work.  The matrix products
(all timesteps' x @ W at once, then h_{t-1} @ U step after step) go to BLAS
through ``dense.pyx``'s ``gemm``.  What is left is element-wise: per step,
4 * units sigmoids and tanhs for an LSTM, a cell update and an output.  Done
with NumPy that is a dozen passes over the arrays, each allocating a
temporary; here it is one pass, each value read once, without the GIL.
Backward through time is the same: one pass per step gives every gate's
derivative (dL/dz) and the gradients flowing to the previous step's states.

The equations, the shapes and the order of the steps are in the NumPy twins
(``reference.py``: ``lstm_step_forward`` explains backpropagation through time).

The element-wise passes of a row are C (``recurrent_step.h``), compiled
once per instruction set so they run as vector instructions.  A GRU with
``reset_after=False`` needs a product in the middle of its step (r * h_{t-1}
before U_h), so its step is two passes each way (``gru_reset_before_step.h``).

A mask (uint8, one value per row) marks padded steps: a row whose mask is 0
keeps its previous state (h and c are copied through) and sends its gradient
straight back to the previous step, as Keras does.

Rows are independent, so a big batch is split over the OpenMP threads by rows;
every value is computed by one thread in one order, so the result is the same
on any number of threads.

The backward steps count subnormal floats as 0 while they run, on each thread
(``flush_denormals.h``), as TensorFlow does: a gradient sent back through a long
sequence shrinks into them, and x86 computes them ~100 times slower (a GRU over
200 steps, batch 128: 230 ms a training step, 42 with them flushed).  The forward steps keep
them: activations are not that small, and sigmoid(-inf) times an infinite cell
stays what the twin gives.
"""

from cython cimport floating
from cython.parallel cimport parallel, prange

import numpy as np
cimport numpy as cnp

cnp.import_array()

from minidl._kernels import RECURRENT_ACTIVATIONS
from minidl._kernels.activation_codes cimport activation_codes
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type
from minidl._kernels.flush_denormals cimport minidl_flush_begin, minidl_flush_end
from minidl._kernels.recurrent_step cimport (
    RECURRENT_PARALLEL_MIN_VALUES,
    _copy,
    _gru_backward_row,
    _gru_forward_row,
    _lstm_backward_row,
    _lstm_forward_row,
    _pass_back,
    _rnn_backward_row,
    _rnn_forward_row,
    _threads,
)
from minidl._kernels.recurrent_checks import (
    check_gru_reset_before_candidate_backward,
    check_gru_reset_before_gates_backward,
    check_gru_reset_before_gates_forward,
    check_gru_reset_before_state_forward,
    check_gru_step_backward,
    check_gru_step_forward,
    check_lstm_step_backward,
    check_lstm_step_forward,
    check_rnn_step_backward,
    check_rnn_step_forward,
)

_CODES = activation_codes(RECURRENT_ACTIVATIONS)

# rows * units at and above which a step is split over the threads (recurrent_step.pxd)
PARALLEL_MIN_VALUES = RECURRENT_PARALLEL_MIN_VALUES




cdef extern from "gru_reset_before_step.h" nogil:
    # GRU(reset_after=False): the passes before and after each product (see the header)
    void minidl_gru_rb_gates_forward_row_float(float *gates, const float *rec, const float *h,
                                               float *reset_h, Py_ssize_t u, int ract)
    void minidl_gru_rb_gates_forward_row_double(double *gates, const double *rec,
                                                const double *h, double *reset_h, Py_ssize_t u,
                                                int ract)
    void minidl_gru_rb_state_forward_row_float(float *gates, const float *rec_h,
                                               const float *h_prev, float *h, Py_ssize_t u,
                                               int act)
    void minidl_gru_rb_state_forward_row_double(double *gates, const double *rec_h,
                                                const double *h_prev, double *h, Py_ssize_t u,
                                                int act)
    void minidl_gru_rb_candidate_backward_row_float(const float *gates, const float *grad_h,
                                                    float *grad_cand, Py_ssize_t u, int act)
    void minidl_gru_rb_candidate_backward_row_double(const double *gates,
                                                     const double *grad_h, double *grad_cand,
                                                     Py_ssize_t u, int act)
    void minidl_gru_rb_gates_backward_row_float(const float *gates, const float *h_prev,
                                                const float *h, const float *grad_h,
                                                const float *grad_reset_h, float *grad_gates,
                                                float *grad_dropped, float *grad_h_prev,
                                                Py_ssize_t u, int ract)
    void minidl_gru_rb_gates_backward_row_double(const double *gates, const double *h_prev,
                                                 const double *h, const double *grad_h,
                                                 const double *grad_reset_h,
                                                 double *grad_gates, double *grad_dropped,
                                                 double *grad_h_prev, Py_ssize_t u, int ract)


# --- the steps: every row, on one thread or split over several (use_threads_if) ---


cdef inline bint _keep(const unsigned char *mask, Py_ssize_t n) noexcept nogil:
    return mask != NULL and mask[n] == 0


cdef void _lstm_forward(floating[:, ::1] gates, const floating[:, ::1] c_prev,
                        const floating[:, ::1] h_prev, floating[:, ::1] c, floating[:, ::1] h,
                        const unsigned char *mask, int act, int ract):
    cdef Py_ssize_t n, rows = c.shape[0], units = c.shape[1]
    if rows == 0 or units == 0:
        return
    with nogil:
        for n in prange(rows, schedule="static", use_threads_if=_threads(rows, rows * units * 4)):
            _lstm_forward_row(&gates[n, 0], &c_prev[n, 0], &h_prev[n, 0], &c[n, 0], &h[n, 0],
                              _keep(mask, n), units, act, ract)


cdef void _lstm_backward(const floating[:, ::1] gates, const floating[:, ::1] c_prev,
                         const floating[:, ::1] c, const floating[:, ::1] grad_h,
                         const floating[:, ::1] grad_c, floating[:, ::1] grad_gates,
                         floating[:, ::1] grad_c_prev, floating[:, ::1] grad_h_prev,
                         const unsigned char *mask, int act, int ract):
    cdef Py_ssize_t n, rows = c.shape[0], units = c.shape[1]
    cdef unsigned int saved = 0
    if rows == 0 or units == 0:
        return
    with nogil, parallel(use_threads_if=_threads(rows, rows * units * 4)):
        saved = minidl_flush_begin()  # each thread: subnormals as 0 (flush_denormals.h)
        for n in prange(rows, schedule="static"):
            _lstm_backward_row(&gates[n, 0], &c_prev[n, 0], &c[n, 0], &grad_h[n, 0],
                               &grad_c[n, 0], &grad_gates[n, 0], &grad_c_prev[n, 0],
                               &grad_h_prev[n, 0], _keep(mask, n), units, act, ract)
        minidl_flush_end(saved)


cdef void _gru_forward(floating[:, ::1] gates, const floating[:, ::1] rec,
                       const floating[:, ::1] h_prev, floating[:, ::1] h,
                       const unsigned char *mask, int act, int ract):
    cdef Py_ssize_t n, rows = h.shape[0], units = h.shape[1]
    if rows == 0 or units == 0:
        return
    with nogil:
        for n in prange(rows, schedule="static", use_threads_if=_threads(rows, rows * units * 3)):
            _gru_forward_row(&gates[n, 0], &rec[n, 0], &h_prev[n, 0], &h[n, 0],
                             _keep(mask, n), units, act, ract)


cdef void _gru_backward(const floating[:, ::1] gates, const floating[:, ::1] rec,
                        const floating[:, ::1] h_prev, const floating[:, ::1] grad_h,
                        floating[:, ::1] grad_gates, floating[:, ::1] grad_rec,
                        floating[:, ::1] grad_h_prev, const unsigned char *mask, int act,
                        int ract):
    cdef Py_ssize_t n, rows = h_prev.shape[0], units = h_prev.shape[1]
    cdef unsigned int saved = 0
    if rows == 0 or units == 0:
        return
    with nogil, parallel(use_threads_if=_threads(rows, rows * units * 3)):
        saved = minidl_flush_begin()  # each thread: subnormals as 0 (flush_denormals.h)
        for n in prange(rows, schedule="static"):
            _gru_backward_row(&gates[n, 0], &rec[n, 0], &h_prev[n, 0], &grad_h[n, 0],
                              &grad_gates[n, 0], &grad_rec[n, 0], &grad_h_prev[n, 0],
                              _keep(mask, n), units, act, ract)
        minidl_flush_end(saved)


# GRU(reset_after=False): two passes per step, each one row at a time (see
# gru_reset_before_step.h); masked rows keep h_prev and send dL/dh straight back
cdef void _gru_rb_gates_forward(floating[:, ::1] gates, const floating[:, ::1] rec,
                                const floating[:, ::1] h, floating[:, ::1] reset_h, int ract):
    cdef Py_ssize_t n, rows = h.shape[0], units = h.shape[1]
    if rows == 0 or units == 0:
        return
    with nogil:
        for n in prange(rows, schedule="static", use_threads_if=_threads(rows, rows * units * 2)):
            if floating is float:
                minidl_gru_rb_gates_forward_row_float(&gates[n, 0], &rec[n, 0], &h[n, 0],
                                                      &reset_h[n, 0], units, ract)
            else:
                minidl_gru_rb_gates_forward_row_double(&gates[n, 0], &rec[n, 0], &h[n, 0],
                                                       &reset_h[n, 0], units, ract)


cdef void _gru_rb_state_forward(floating[:, ::1] gates, const floating[:, ::1] rec_h,
                                const floating[:, ::1] h_prev, floating[:, ::1] h,
                                const unsigned char *mask, int act):
    cdef Py_ssize_t n, rows = h.shape[0], units = h.shape[1]
    if rows == 0 or units == 0:
        return
    with nogil:
        for n in prange(rows, schedule="static", use_threads_if=_threads(rows, rows * units)):
            if floating is float:
                minidl_gru_rb_state_forward_row_float(&gates[n, 0], &rec_h[n, 0],
                                                      &h_prev[n, 0], &h[n, 0], units, act)
            else:
                minidl_gru_rb_state_forward_row_double(&gates[n, 0], &rec_h[n, 0],
                                                       &h_prev[n, 0], &h[n, 0], units, act)
            if _keep(mask, n):
                _copy(&h[n, 0], &h_prev[n, 0], units)


cdef void _gru_rb_candidate_backward(const floating[:, ::1] gates,
                                     const floating[:, ::1] grad_h,
                                     floating[:, ::1] grad_cand, const unsigned char *mask,
                                     int act):
    cdef Py_ssize_t n, rows = grad_h.shape[0], units = grad_h.shape[1]
    cdef unsigned int saved = 0
    if rows == 0 or units == 0:
        return
    with nogil, parallel(use_threads_if=_threads(rows, rows * units)):
        saved = minidl_flush_begin()  # each thread: subnormals as 0 (flush_denormals.h)
        for n in prange(rows, schedule="static"):
            if _keep(mask, n):
                _pass_back(&grad_cand[n, 0], units, <floating *>NULL, 0)
            elif floating is float:
                minidl_gru_rb_candidate_backward_row_float(&gates[n, 0], &grad_h[n, 0],
                                                           &grad_cand[n, 0], units, act)
            else:
                minidl_gru_rb_candidate_backward_row_double(&gates[n, 0], &grad_h[n, 0],
                                                            &grad_cand[n, 0], units, act)
        minidl_flush_end(saved)


cdef void _gru_rb_gates_backward(const floating[:, ::1] gates, const floating[:, ::1] h_prev,
                                 const floating[:, ::1] h, const floating[:, ::1] grad_h,
                                 const floating[:, ::1] grad_reset_h,
                                 floating[:, ::1] grad_gates, floating[:, ::1] grad_dropped,
                                 floating[:, ::1] grad_h_prev, const unsigned char *mask,
                                 int ract):
    cdef Py_ssize_t n, rows = grad_h.shape[0], units = grad_h.shape[1]
    cdef unsigned int saved = 0
    if rows == 0 or units == 0:
        return
    with nogil, parallel(use_threads_if=_threads(rows, rows * units * 2)):
        saved = minidl_flush_begin()  # each thread: subnormals as 0 (flush_denormals.h)
        for n in prange(rows, schedule="static"):
            if _keep(mask, n):
                _pass_back(&grad_gates[n, 0], 2 * units, &grad_dropped[n, 0], units)
                _copy(&grad_h_prev[n, 0], &grad_h[n, 0], units)
            elif floating is float:
                minidl_gru_rb_gates_backward_row_float(
                    &gates[n, 0], &h_prev[n, 0], &h[n, 0], &grad_h[n, 0], &grad_reset_h[n, 0],
                    &grad_gates[n, 0], &grad_dropped[n, 0], &grad_h_prev[n, 0], units, ract)
            else:
                minidl_gru_rb_gates_backward_row_double(
                    &gates[n, 0], &h_prev[n, 0], &h[n, 0], &grad_h[n, 0], &grad_reset_h[n, 0],
                    &grad_gates[n, 0], &grad_dropped[n, 0], &grad_h_prev[n, 0], units, ract)
        minidl_flush_end(saved)


cdef void _rnn_forward(floating[:, ::1] pre, const floating[:, ::1] h_prev,
                       const unsigned char *mask, int act):
    cdef Py_ssize_t n, rows = pre.shape[0], units = pre.shape[1]
    if rows == 0 or units == 0:
        return
    with nogil:
        for n in prange(rows, schedule="static", use_threads_if=_threads(rows, rows * units)):
            _rnn_forward_row(&pre[n, 0], &h_prev[n, 0], _keep(mask, n), units, act)


cdef void _rnn_backward(const floating[:, ::1] h, const floating[:, ::1] grad_h,
                        floating[:, ::1] grad_pre, floating[:, ::1] grad_h_prev,
                        const unsigned char *mask, int act):
    cdef Py_ssize_t n, rows = h.shape[0], units = h.shape[1]
    cdef unsigned int saved = 0
    if rows == 0 or units == 0:
        return
    with nogil, parallel(use_threads_if=_threads(rows, rows * units)):
        saved = minidl_flush_begin()  # each thread: subnormals as 0 (flush_denormals.h)
        for n in prange(rows, schedule="static"):
            _rnn_backward_row(&h[n, 0], &grad_h[n, 0], &grad_pre[n, 0], &grad_h_prev[n, 0],
                              _keep(mask, n), units, act)
        minidl_flush_end(saved)


# --- the quick argument checks (the full ones are in recurrent_checks.py) ---
cdef bint _arrays_ok(tuple arrays, tuple widths, int outputs, object mask):
    """Yes/no: C-contiguous 2-D arrays of one float type, N rows each, widths[k] * units
    columns (units from the first), the first ``outputs`` of them writeable and apart from
    every other argument; a uint8 mask of N values or None.  A "no" costs only the slow
    path, where recurrent_checks.py names the problem."""
    cdef Py_ssize_t k, m, count = len(arrays), rows, units
    cdef int t = float_type(arrays[0])
    if t < 0:
        return False
    for k in range(count):
        if not array_of(arrays[k], 2, t, k < outputs):
            return False
    rows = dim(arrays[0], 0)
    units = dim(arrays[0], 1) // <Py_ssize_t>widths[0]
    for k in range(count):
        if dim(arrays[k], 0) != rows or dim(arrays[k], 1) != units * <Py_ssize_t>widths[k]:
            return False
    if mask is not None and not (array_of(mask, 1, cnp.NPY_UINT8, False) and dim(mask, 0) == rows):
        return False
    for k in range(outputs):
        if not apart(arrays[k], mask):
            return False
        for m in range(count):
            if m != k and not apart(arrays[k], arrays[m]):
                return False
    return True


cdef inline bint _known(object activation):
    """An activation the fused steps apply, by name (a list or an array is not one: the
    slow path says so, where ``in _CODES`` would raise a TypeError for it)."""
    return type(activation) is str and activation in _CODES


cdef inline const unsigned char *_mask_pointer(object mask):
    if mask is None:
        return NULL
    return <const unsigned char *>cnp.PyArray_DATA(<cnp.ndarray>mask)


# --- the kernels ----------------------------------------------------------
def lstm_step_forward(gates, c_prev, h_prev, c, h, mask, activation="tanh",
                      recurrent_activation="sigmoid"):
    """gates (N, 4U) in: z = x W + b + h_prev U, out: i, f, g, o; c, h (N, U) out."""
    if not (_arrays_ok((gates, c, h, c_prev, h_prev), (4, 1, 1, 1, 1), 3, mask)
            and _known(activation) and _known(recurrent_activation)):
        check_lstm_step_forward(gates, c_prev, h_prev, c, h, mask, activation,
                                recurrent_activation)
    cdef int act = _CODES[activation], ract = _CODES[recurrent_activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _lstm_forward[float](gates, c_prev, h_prev, c, h, m, act, ract)
    else:
        _lstm_forward[double](gates, c_prev, h_prev, c, h, m, act, ract)


def lstm_step_backward(gates, c_prev, c, grad_h, grad_c, mask, grad_gates, grad_c_prev,
                       grad_h_prev, activation="tanh", recurrent_activation="sigmoid"):
    """dL/dz of the four gates, dL/dc_prev and the part of dL/dh_prev not through U."""
    if not (_arrays_ok((grad_gates, grad_c_prev, grad_h_prev, gates, c_prev, c, grad_h, grad_c),
                       (4, 1, 1, 4, 1, 1, 1, 1), 3, mask)
            and _known(activation) and _known(recurrent_activation)):
        check_lstm_step_backward(gates, c_prev, c, grad_h, grad_c, mask, grad_gates,
                                 grad_c_prev, grad_h_prev, activation, recurrent_activation)
    cdef int act = _CODES[activation], ract = _CODES[recurrent_activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _lstm_backward[float](gates, c_prev, c, grad_h, grad_c, grad_gates, grad_c_prev,
                              grad_h_prev, m, act, ract)
    else:
        _lstm_backward[double](gates, c_prev, c, grad_h, grad_c, grad_gates, grad_c_prev,
                               grad_h_prev, m, act, ract)


def gru_step_forward(gates, rec, h_prev, h, mask, activation="tanh",
                     recurrent_activation="sigmoid"):
    """gates (N, 3U) in: x W + b_in, out: z, r, hh; rec (N, 3U) = h_prev U + b_rec; h out."""
    if not (_arrays_ok((gates, h, rec, h_prev), (3, 1, 3, 1), 2, mask)
            and _known(activation) and _known(recurrent_activation)):
        check_gru_step_forward(gates, rec, h_prev, h, mask, activation, recurrent_activation)
    cdef int act = _CODES[activation], ract = _CODES[recurrent_activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_forward[float](gates, rec, h_prev, h, m, act, ract)
    else:
        _gru_forward[double](gates, rec, h_prev, h, m, act, ract)


def gru_step_backward(gates, rec, h_prev, grad_h, mask, grad_gates, grad_rec, grad_h_prev,
                      activation="tanh", recurrent_activation="sigmoid"):
    """dL/d(x-side gates), dL/d(recurrent-side gates), the part of dL/dh_prev not through U."""
    if not (_arrays_ok((grad_gates, grad_rec, grad_h_prev, gates, rec, h_prev, grad_h),
                       (3, 3, 1, 3, 3, 1, 1), 3, mask)
            and _known(activation) and _known(recurrent_activation)):
        check_gru_step_backward(gates, rec, h_prev, grad_h, mask, grad_gates, grad_rec,
                                grad_h_prev, activation, recurrent_activation)
    cdef int act = _CODES[activation], ract = _CODES[recurrent_activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_backward[float](gates, rec, h_prev, grad_h, grad_gates, grad_rec, grad_h_prev,
                                 m, act, ract)
    else:
        _gru_backward[double](gates, rec, h_prev, grad_h, grad_gates, grad_rec,
                              grad_h_prev, m, act, ract)


def gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h,
                                   recurrent_activation="sigmoid"):
    """GRU(reset_after=False), before the candidate's product: gates (N, 3U) in: x W + b,
    out: z, r in the first 2U; rec (N, 2U) = dropped_h U_zr; reset_h (N, U) out:
    r * dropped_h (dropped_h: h_prev times the recurrent dropout mask, or h_prev)."""
    if not (_arrays_ok((gates, reset_h, rec, dropped_h), (3, 1, 2, 1), 2, None)
            and _known(recurrent_activation)):
        check_gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h,
                                             recurrent_activation)
    cdef int ract = _CODES[recurrent_activation]
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_rb_gates_forward[float](gates, rec, dropped_h, reset_h, ract)
    else:
        _gru_rb_gates_forward[double](gates, rec, dropped_h, reset_h, ract)


def gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask, activation="tanh"):
    """GRU(reset_after=False), after it: rec_h (N, U) = reset_h U_h; the candidate hh
    into gates' last U, and h (N, U) out (h_prev on masked rows)."""
    if not (_arrays_ok((gates, h, rec_h, h_prev), (3, 1, 1, 1), 2, mask)
            and _known(activation)):
        check_gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask, activation)
    cdef int act = _CODES[activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_rb_state_forward[float](gates, rec_h, h_prev, h, m, act)
    else:
        _gru_rb_state_forward[double](gates, rec_h, h_prev, h, m, act)


def gru_reset_before_candidate_backward(gates, grad_h, mask, grad_candidate, activation="tanh"):
    """grad_candidate (N, U) = dL/d(x_h + rec_h) (0 on masked rows)."""
    if not (_arrays_ok((grad_candidate, gates, grad_h), (1, 3, 1), 1, mask)
            and _known(activation)):
        check_gru_reset_before_candidate_backward(gates, grad_h, mask, grad_candidate,
                                                  activation)
    cdef int act = _CODES[activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_rb_candidate_backward[float](gates, grad_h, grad_candidate, m, act)
    else:
        _gru_rb_candidate_backward[double](gates, grad_h, grad_candidate, m, act)


def gru_reset_before_gates_backward(gates, h_prev, dropped_h, grad_h, grad_reset_h, mask,
                                    grad_gates, grad_dropped, grad_h_prev,
                                    recurrent_activation="sigmoid"):
    """grad_gates (N, 2U): dL/d of z's and r's pre-activations; grad_dropped (N, U):
    dL/d(dropped_h) through r * dropped_h; grad_h_prev (N, U): dL/dh_prev through
    z * h_prev (all of dL/dh on masked rows, whose other gradients are 0)."""
    if not (_arrays_ok((grad_gates, grad_dropped, grad_h_prev, gates, h_prev, dropped_h,
                        grad_h, grad_reset_h), (2, 1, 1, 3, 1, 1, 1, 1), 3, mask)
            and _known(recurrent_activation)):
        check_gru_reset_before_gates_backward(gates, h_prev, dropped_h, grad_h, grad_reset_h,
                                              mask, grad_gates, grad_dropped, grad_h_prev,
                                              recurrent_activation)
    cdef int ract = _CODES[recurrent_activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(gates) == cnp.NPY_FLOAT:
        _gru_rb_gates_backward[float](gates, h_prev, dropped_h, grad_h, grad_reset_h,
                                      grad_gates, grad_dropped, grad_h_prev, m, ract)
    else:
        _gru_rb_gates_backward[double](gates, h_prev, dropped_h, grad_h, grad_reset_h,
                                       grad_gates, grad_dropped, grad_h_prev, m, ract)


def rnn_step_forward(pre, h_prev, mask, activation="tanh"):
    """pre (N, U) in: x W + b + h_prev U, out: h = act(pre) (h_prev on masked rows)."""
    if not (_arrays_ok((pre, h_prev), (1, 1), 1, mask) and _known(activation)):
        check_rnn_step_forward(pre, h_prev, mask, activation)
    cdef int act = _CODES[activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(pre) == cnp.NPY_FLOAT:
        _rnn_forward[float](pre, h_prev, m, act)
    else:
        _rnn_forward[double](pre, h_prev, m, act)


def rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev, activation="tanh"):
    """dL/dpre = grad_h * act'(h); the part of dL/dh_prev not through U."""
    if not (_arrays_ok((grad_pre, grad_h_prev, h, grad_h), (1, 1, 1, 1), 2, mask)
            and _known(activation)):
        check_rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev, activation)
    cdef int act = _CODES[activation]
    cdef const unsigned char *m = _mask_pointer(mask)
    if float_type(h) == cnp.NPY_FLOAT:
        _rnn_backward[float](h, grad_h, grad_pre, grad_h_prev, m, act)
    else:
        _rnn_backward[double](h, grad_h, grad_pre, grad_h_prev, m, act)
