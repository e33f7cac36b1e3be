"""The element-wise passes of one recurrent step (recurrent_step.h), for the modules that
run them: recurrent.pyx (one step a call) and lstm_sequence.pyx (an LSTM's whole loop)."""

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
