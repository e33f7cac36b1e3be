# cython: language_level=3
"""Optimizer updates: one pass over a flat weight buffer, Keras's rules.

Each function reads the gradient once and updates the weights and the
optimizer's state (velocity, running averages) in the same loop, instead of
the several temporary arrays the NumPy version makes.  The loops are C
(``update_rules.h``); the rules are written out in ``reference.py``.
Buffers of 128k values or more (the tutorials' biggest weight matrices) are
split into chunks that the OpenMP threads share (each value belongs to one
chunk: no sums between threads).
"""

from cython cimport floating
from cython.parallel cimport prange

cimport numpy as cnp

from minidl._kernels.checks import check_optimizer, check_required_state
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type

cnp.import_array()

cdef Py_ssize_t _PARALLEL_MIN_VALUES = 1 << 17  # buffers this long are split over threads
PARALLEL_MIN_VALUES = _PARALLEL_MIN_VALUES
cdef Py_ssize_t CHUNK = 1 << 16

cdef extern from "update_rules.h" nogil:
    # each updates n weights (and the state buffers) in place; see the header.
    # a NULL velocity (SGD) or momentum buffer (RMSprop) means "without momentum"
    void minidl_sgd_float(float *w, const float *g, float *v, Py_ssize_t n, float lr,
                          float momentum, int nesterov)
    void minidl_sgd_double(double *w, const double *g, double *v, Py_ssize_t n, double lr,
                           double momentum, int nesterov)
    void minidl_rmsprop_float(float *w, const float *g, float *s, float *m, Py_ssize_t n,
                              float lr, float rho, float momentum, float epsilon)
    void minidl_rmsprop_double(double *w, const double *g, double *s, double *m, Py_ssize_t n,
                               double lr, double rho, double momentum, double epsilon)
    # Adam and AdamW: one rule, AdamW's with the decoupled decay; a NULL vmax: not AMSGrad
    void minidl_adam_float(float *w, const float *g, float *m, float *v, float *vmax,
                           Py_ssize_t n, float lr_t, float decay, float one_minus_b1,
                           float one_minus_b2, float epsilon)
    void minidl_adam_double(double *w, const double *g, double *m, double *v, double *vmax,
                            Py_ssize_t n, double lr_t, double decay, double one_minus_b1,
                            double one_minus_b2, double epsilon)
    void minidl_adamw_float(float *w, const float *g, float *m, float *v, float *vmax,
                            Py_ssize_t n, float lr_t, float decay, float one_minus_b1,
                            float one_minus_b2, float epsilon)
    void minidl_adamw_double(double *w, const double *g, double *m, double *v, double *vmax,
                             Py_ssize_t n, double lr_t, double decay, double one_minus_b1,
                             double one_minus_b2, double epsilon)


cdef bint _buffers_ok(param, grad, state_1, state_2, state_3):
    """The quick form of checks.check_optimizer: 1-D buffers of one size and dtype,
    the outputs (param and the state buffers given) apart from each other and grad."""
    cdef int t = float_type(param)
    if not (array_of(param, 1, t, True) and array_of(grad, 1, t, False)):
        return False
    cdef Py_ssize_t n = dim(param, 0)
    if dim(grad, 0) != n or not apart(param, grad):
        return False
    outputs = [param]
    for state in (state_1, state_2, state_3):
        if state is None:
            continue
        if not (array_of(state, 1, t, True) and dim(state, 0) == n and apart(state, grad)):
            return False
        for other in outputs:
            if not apart(state, other):
                return False
        outputs.append(state)
    return True


cdef inline char *_data(object a):
    """The first byte of a checked buffer, or NULL for None."""
    return NULL if a is None else cnp.PyArray_BYTES(<cnp.ndarray>a)


cdef inline floating *_at(char *buffer, Py_ssize_t start, floating *kind) noexcept nogil:
    """Element ``start`` of a buffer of ``floating`` (NULL stays NULL)."""
    return NULL if buffer == NULL else <floating *>buffer + start


def sgd_update(param, grad, velocity, double lr, double momentum=0.0, bint nesterov=False):
    if not _buffers_ok(param, grad, velocity, None, None):
        check_optimizer("sgd_update", param, grad, velocity)  # raises, naming what is wrong
    cdef char *v = _data(velocity) if momentum != 0.0 else NULL
    if float_type(param) == cnp.NPY_FLOAT:
        _sgd[float](_data(param), _data(grad), v, dim(param, 0), lr, momentum, nesterov)
    else:
        _sgd[double](_data(param), _data(grad), v, dim(param, 0), lr, momentum, nesterov)


cdef void _sgd(char *w, char *g, char *v, Py_ssize_t n, floating lr, floating momentum,
               bint nesterov) noexcept:
    cdef Py_ssize_t c, start
    cdef floating *kind = NULL
    for c in prange((n + CHUNK - 1) // CHUNK, nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_sgd_float(_at(w, start, kind), _at(g, start, kind), _at(v, start, kind),
                             min(CHUNK, n - start), lr, momentum, nesterov)
        else:
            minidl_sgd_double(_at(w, start, kind), _at(g, start, kind), _at(v, start, kind),
                              min(CHUNK, n - start), lr, momentum, nesterov)


def rmsprop_update(param, grad, mean_square, momentum_buffer, double lr, double rho=0.9,
                   double momentum=0.0, double epsilon=1e-7):
    if mean_square is None or (momentum > 0.0 and momentum_buffer is None):
        check_required_state("rmsprop_update", mean_square=mean_square,
                             **({"momentum_buffer": momentum_buffer} if momentum > 0.0 else {}))
    if not _buffers_ok(param, grad, mean_square, momentum_buffer, None):
        check_optimizer("rmsprop_update", param, grad, mean_square, momentum_buffer)  # raises
    cdef char *m = _data(momentum_buffer) if momentum > 0.0 else NULL
    if float_type(param) == cnp.NPY_FLOAT:
        _rmsprop[float](_data(param), _data(grad), _data(mean_square), m, dim(param, 0), lr,
                        rho, momentum, epsilon)
    else:
        _rmsprop[double](_data(param), _data(grad), _data(mean_square), m, dim(param, 0), lr,
                         rho, momentum, epsilon)


cdef void _rmsprop(char *w, char *g, char *s, char *m, Py_ssize_t n, floating lr, floating rho,
                   floating momentum, floating epsilon) noexcept:
    cdef Py_ssize_t c, start
    cdef floating *kind = NULL
    for c in prange((n + CHUNK - 1) // CHUNK, nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_rmsprop_float(_at(w, start, kind), _at(g, start, kind), _at(s, start, kind),
                                 _at(m, start, kind), min(CHUNK, n - start), lr, rho, momentum,
                                 epsilon)
        else:
            minidl_rmsprop_double(_at(w, start, kind), _at(g, start, kind), _at(s, start, kind),
                                  _at(m, start, kind), min(CHUNK, n - start), lr, rho, momentum,
                                  epsilon)


def adam_update(param, grad, m, v, v_max, double lr_t, double beta_1=0.9, double beta_2=0.999,
                double epsilon=1e-7):
    if m is None or v is None:
        check_required_state("adam_update", m=m, v=v)  # raises
    if not _buffers_ok(param, grad, m, v, v_max):
        check_optimizer("adam_update", param, grad, m, v, v_max)  # raises
    _adam_or_adamw(param, grad, m, v, v_max, lr_t, 0.0, False, beta_1, beta_2, epsilon)


def adamw_update(param, grad, m, v, v_max, double lr_t, double decay, double beta_1=0.9,
                 double beta_2=0.999, double epsilon=1e-7):
    if m is None or v is None:
        check_required_state("adamw_update", m=m, v=v)  # raises
    if not _buffers_ok(param, grad, m, v, v_max):
        check_optimizer("adamw_update", param, grad, m, v, v_max)  # raises
    _adam_or_adamw(param, grad, m, v, v_max, lr_t, decay, True, beta_1, beta_2, epsilon)


cdef inline void _adam_or_adamw(param, grad, m, v, v_max, double lr_t, double decay,
                                bint decoupled, double beta_1, double beta_2, double epsilon):
    """Adam's step over checked buffers; ``decoupled``: AdamW's (the decay first)."""
    if float_type(param) == cnp.NPY_FLOAT:
        _adam[float](_data(param), _data(grad), _data(m), _data(v), _data(v_max),
                     dim(param, 0), lr_t, decay, decoupled, 1 - beta_1, 1 - beta_2, epsilon)
    else:
        _adam[double](_data(param), _data(grad), _data(m), _data(v), _data(v_max),
                      dim(param, 0), lr_t, decay, decoupled, 1 - beta_1, 1 - beta_2, epsilon)


cdef void _adam(char *w, char *g, char *m, char *v, char *v_max, Py_ssize_t n, floating lr_t,
                floating decay, bint decoupled, floating b1, floating b2,
                floating eps) noexcept:
    cdef Py_ssize_t c, start, size
    cdef floating *kind = NULL
    for c in prange((n + CHUNK - 1) // CHUNK, nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        size = min(CHUNK, n - start)
        if floating is float:
            if decoupled:
                minidl_adamw_float(_at(w, start, kind), _at(g, start, kind), _at(m, start, kind),
                                   _at(v, start, kind), _at(v_max, start, kind), size, lr_t,
                                   decay, b1, b2, eps)
            else:
                minidl_adam_float(_at(w, start, kind), _at(g, start, kind), _at(m, start, kind),
                                  _at(v, start, kind), _at(v_max, start, kind), size, lr_t,
                                  decay, b1, b2, eps)
        else:
            if decoupled:
                minidl_adamw_double(_at(w, start, kind), _at(g, start, kind),
                                    _at(m, start, kind), _at(v, start, kind),
                                    _at(v_max, start, kind), size, lr_t, decay, b1, b2, eps)
            else:
                minidl_adam_double(_at(w, start, kind), _at(g, start, kind),
                                   _at(m, start, kind), _at(v, start, kind),
                                   _at(v_max, start, kind), size, lr_t, decay, b1, b2, eps)


# --- Keras 2's other optimizers -------------------------------------------------
# These take typed memoryviews (``const`` for the gradient, which may be read-only)
# once the quick checks have passed; each chunk of CHUNK values goes to the C loop
# of update_rules.h, as above.

cdef extern from "update_rules.h" nogil:
    void minidl_adagrad_float(float *w, const float *g, float *a, Py_ssize_t n, float lr,
                              float epsilon)
    void minidl_adagrad_double(double *w, const double *g, double *a, Py_ssize_t n, double lr,
                               double epsilon)
    void minidl_adadelta_float(float *w, const float *g, float *a, float *d, Py_ssize_t n,
                               float lr, float rho, float epsilon)
    void minidl_adadelta_double(double *w, const double *g, double *a, double *d, Py_ssize_t n,
                                double lr, double rho, double epsilon)
    void minidl_adamax_float(float *w, const float *g, float *m, float *u, Py_ssize_t n,
                             float lr_t, float one_minus_b1, float beta_2, float epsilon)
    void minidl_adamax_double(double *w, const double *g, double *m, double *u, Py_ssize_t n,
                              double lr_t, double one_minus_b1, double beta_2, double epsilon)
    void minidl_nadam_float(float *w, const float *g, float *m, float *v, Py_ssize_t n, float lr,
                            float one_minus_b1, float one_minus_b2, float m_scale, float g_scale,
                            float v_scale, float epsilon)
    void minidl_nadam_double(double *w, const double *g, double *m, double *v, Py_ssize_t n,
                             double lr, double one_minus_b1, double one_minus_b2, double m_scale,
                             double g_scale, double v_scale, double epsilon)
    void minidl_ftrl_float(float *w, const float *g, float *a, float *z, Py_ssize_t n, float lr,
                           float lr_power, float l1, float l2, float l2_shrinkage, float beta)
    void minidl_ftrl_double(double *w, const double *g, double *a, double *z, Py_ssize_t n,
                            double lr, double lr_power, double l1, double l2,
                            double l2_shrinkage, double beta)


cdef inline Py_ssize_t _chunks(Py_ssize_t n) noexcept nogil:
    return (n + CHUNK - 1) // CHUNK


cdef inline Py_ssize_t _chunk_size(Py_ssize_t n, Py_ssize_t start) noexcept nogil:
    return min(CHUNK, n - start)


def adagrad_update(param, grad, accumulator, double lr, double epsilon=1e-7):
    if accumulator is None:
        check_required_state("adagrad_update", accumulator=accumulator)  # raises
    if not _buffers_ok(param, grad, accumulator, None, None):
        check_optimizer("adagrad_update", param, grad, accumulator)  # raises
    if float_type(param) == cnp.NPY_FLOAT:
        _adagrad[float](param, grad, accumulator, lr, epsilon)
    else:
        _adagrad[double](param, grad, accumulator, lr, epsilon)


cdef void _adagrad(floating[::1] w, const floating[::1] g, floating[::1] a, floating lr,
                   floating eps) noexcept:
    cdef Py_ssize_t c, start, n = w.shape[0]
    for c in prange(_chunks(n), nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_adagrad_float(&w[start], &g[start], &a[start], _chunk_size(n, start), lr, eps)
        else:
            minidl_adagrad_double(&w[start], &g[start], &a[start], _chunk_size(n, start), lr, eps)


def adadelta_update(param, grad, accumulated_grad, accumulated_delta, double lr, double rho=0.95,
                    double epsilon=1e-7):
    if accumulated_grad is None or accumulated_delta is None:
        check_required_state("adadelta_update", accumulated_grad=accumulated_grad,
                             accumulated_delta=accumulated_delta)  # raises
    if not _buffers_ok(param, grad, accumulated_grad, accumulated_delta, None):
        check_optimizer("adadelta_update", param, grad, accumulated_grad, accumulated_delta)
    if float_type(param) == cnp.NPY_FLOAT:
        _adadelta[float](param, grad, accumulated_grad, accumulated_delta, lr, rho, epsilon)
    else:
        _adadelta[double](param, grad, accumulated_grad, accumulated_delta, lr, rho, epsilon)


cdef void _adadelta(floating[::1] w, const floating[::1] g, floating[::1] a, floating[::1] d,
                    floating lr, floating rho, floating eps) noexcept:
    cdef Py_ssize_t c, start, n = w.shape[0]
    for c in prange(_chunks(n), nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_adadelta_float(&w[start], &g[start], &a[start], &d[start],
                                  _chunk_size(n, start), lr, rho, eps)
        else:
            minidl_adadelta_double(&w[start], &g[start], &a[start], &d[start],
                                   _chunk_size(n, start), lr, rho, eps)


def adamax_update(param, grad, m, u, double lr_t, double beta_1=0.9, double beta_2=0.999,
                  double epsilon=1e-7):
    if m is None or u is None:
        check_required_state("adamax_update", m=m, u=u)  # raises
    if not _buffers_ok(param, grad, m, u, None):
        check_optimizer("adamax_update", param, grad, m, u)  # raises
    if float_type(param) == cnp.NPY_FLOAT:
        _adamax[float](param, grad, m, u, lr_t, 1 - beta_1, beta_2, epsilon)
    else:
        _adamax[double](param, grad, m, u, lr_t, 1 - beta_1, beta_2, epsilon)


cdef void _adamax(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] u,
                  floating lr_t, floating b1, floating beta_2, floating eps) noexcept:
    cdef Py_ssize_t c, start, n = w.shape[0]
    for c in prange(_chunks(n), nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_adamax_float(&w[start], &g[start], &m[start], &u[start],
                                _chunk_size(n, start), lr_t, b1, beta_2, eps)
        else:
            minidl_adamax_double(&w[start], &g[start], &m[start], &u[start],
                                 _chunk_size(n, start), lr_t, b1, beta_2, eps)


def nadam_update(param, grad, m, v, double lr, double m_scale, double g_scale, double v_scale,
                 double beta_1=0.9, double beta_2=0.999, double epsilon=1e-7):
    if m is None or v is None:
        check_required_state("nadam_update", m=m, v=v)  # raises
    if not _buffers_ok(param, grad, m, v, None):
        check_optimizer("nadam_update", param, grad, m, v)  # raises
    if float_type(param) == cnp.NPY_FLOAT:
        _nadam[float](param, grad, m, v, lr, 1 - beta_1, 1 - beta_2, m_scale, g_scale, v_scale,
                      epsilon)
    else:
        _nadam[double](param, grad, m, v, lr, 1 - beta_1, 1 - beta_2, m_scale, g_scale, v_scale,
                       epsilon)


cdef void _nadam(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v,
                 floating lr, floating b1, floating b2, floating m_scale, floating g_scale,
                 floating v_scale, floating eps) noexcept:
    cdef Py_ssize_t c, start, n = w.shape[0]
    for c in prange(_chunks(n), nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_nadam_float(&w[start], &g[start], &m[start], &v[start], _chunk_size(n, start),
                               lr, b1, b2, m_scale, g_scale, v_scale, eps)
        else:
            minidl_nadam_double(&w[start], &g[start], &m[start], &v[start],
                                _chunk_size(n, start), lr, b1, b2, m_scale, g_scale, v_scale,
                                eps)


def ftrl_update(param, grad, accumulator, linear, double lr, double lr_power=-0.5,
                double l1=0.0, double l2=0.0, double l2_shrinkage=0.0, double beta=0.0):
    if accumulator is None or linear is None:
        check_required_state("ftrl_update", accumulator=accumulator, linear=linear)  # raises
    if not _buffers_ok(param, grad, accumulator, linear, None):
        check_optimizer("ftrl_update", param, grad, accumulator, linear)  # raises
    if not lr > 0:
        raise ValueError(f"ftrl_update: lr must be > 0 (the rule divides by it), received {lr!r}.")
    if float_type(param) == cnp.NPY_FLOAT:
        _ftrl[float](param, grad, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta)
    else:
        _ftrl[double](param, grad, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta)


cdef void _ftrl(floating[::1] w, const floating[::1] g, floating[::1] a, floating[::1] z,
                floating lr, floating lr_power, floating l1, floating l2, floating l2_shrinkage,
                floating beta) noexcept:
    cdef Py_ssize_t c, start, n = w.shape[0]
    for c in prange(_chunks(n), nogil=True, schedule="static",
                    use_threads_if=n >= _PARALLEL_MIN_VALUES):
        start = c * CHUNK
        if floating is float:
            minidl_ftrl_float(&w[start], &g[start], &a[start], &z[start], _chunk_size(n, start),
                              lr, lr_power, l1, l2, l2_shrinkage, beta)
        else:
            minidl_ftrl_double(&w[start], &g[start], &a[start], &z[start], _chunk_size(n, start),
                               lr, lr_power, l1, l2, l2_shrinkage, beta)
