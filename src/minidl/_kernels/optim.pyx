# cython: language_level=3
"""Optimizer updates: one pass over a flat weight buffer, Keras's rules.

Each function reads the gradient once and updates the weights and the
optimizer's state (velocity, running averages) in the same loop, instead of
the several temporary arrays the NumPy version makes.  The rules are written
out in ``reference.py``.
"""

cimport cython
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt, sqrtf

cimport numpy as cnp

from minidl._kernels.checks import check_optimizer
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type

cnp.import_array()

PARALLEL_MIN_VALUES = 1 << 20
cdef Py_ssize_t ADAM_CHUNK = 1 << 16

cdef extern from "adam_step.h" nogil:
    # w, m, v updated for n weights by Adam's rule; see the header
    void minidl_adam_float(float *w, const float *g, float *m, float *v, Py_ssize_t n,
                           float lr_t, float one_minus_b1, float one_minus_b2, float epsilon)
    void minidl_adam_double(double *w, const double *g, double *m, double *v, Py_ssize_t n,
                            double lr_t, double one_minus_b1, double one_minus_b2,
                            double epsilon)


cdef inline floating _root(floating value) noexcept nogil:
    """sqrt in the buffer's own precision (float stays float, so loops vectorize)."""
    if floating is float:
        return sqrtf(value)
    else:
        return sqrt(value)


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


def sgd_update(param, grad, velocity, double lr, double momentum=0.0, bint nesterov=False):
    if not _buffers_ok(param, grad, velocity, None, None):
        check_optimizer("sgd_update", param, grad, velocity)  # raises, naming what is wrong
    use_velocity = velocity is not None and momentum != 0.0
    if float_type(param) == cnp.NPY_FLOAT:
        _sgd[float](param, grad, velocity if use_velocity else param, lr, momentum,
                    nesterov, use_velocity)
    else:
        _sgd[double](param, grad, velocity if use_velocity else param, lr, momentum,
                     nesterov, use_velocity)


cdef _sgd(floating[::1] w, floating[::1] g, floating[::1] v, double lr, double momentum,
          bint nesterov, bint use_velocity):
    cdef Py_ssize_t i, n = w.shape[0]
    cdef floating lr_ = lr, mom = momentum
    with nogil:
        if not use_velocity:
            for i in range(n):
                w[i] -= lr_ * g[i]
        elif nesterov:
            for i in range(n):
                v[i] = mom * v[i] - lr_ * g[i]
                w[i] += mom * v[i] - lr_ * g[i]
        else:
            for i in range(n):
                v[i] = mom * v[i] - lr_ * g[i]
                w[i] += v[i]


def rmsprop_update(param, grad, mean_square, momentum_buffer, double lr, double rho=0.9,
                   double momentum=0.0, double epsilon=1e-7):
    if not _buffers_ok(param, grad, mean_square, momentum_buffer, None):
        check_optimizer("rmsprop_update", param, grad, mean_square, momentum_buffer)  # raises
    use_momentum = momentum_buffer is not None and momentum > 0.0
    buffer = momentum_buffer if use_momentum else mean_square
    if float_type(param) == cnp.NPY_FLOAT:
        _rmsprop[float](param, grad, mean_square, buffer, lr, rho, momentum, epsilon, use_momentum)
    else:
        _rmsprop[double](param, grad, mean_square, buffer, lr, rho, momentum, epsilon, use_momentum)


cdef _rmsprop(floating[::1] w, floating[::1] g, floating[::1] s, floating[::1] m, double lr,
              double rho, double momentum, double epsilon, bint use_momentum):
    cdef Py_ssize_t i, n = w.shape[0]
    cdef floating lr_ = lr, rho_ = rho, mom = momentum, eps = epsilon, step
    with nogil:
        for i in range(n):
            s[i] = rho_ * s[i] + (1 - rho_) * g[i] * g[i]
            step = lr_ * g[i] / _root(s[i] + eps)
            if use_momentum:
                m[i] = mom * m[i] + step
                w[i] -= m[i]
            else:
                w[i] -= step


def adam_update(param, grad, m, v, v_max, double lr_t, double beta_1=0.9, double beta_2=0.999,
                double epsilon=1e-7):
    if not _buffers_ok(param, grad, m, v, v_max):
        check_optimizer("adam_update", param, grad, m, v, v_max)  # raises
    amsgrad = v_max is not None
    if float_type(param) == cnp.NPY_FLOAT:
        _adam[float](param, grad, m, v, v_max if amsgrad else v, lr_t, beta_1, beta_2, epsilon,
                     amsgrad)
    else:
        _adam[double](param, grad, m, v, v_max if amsgrad else v, lr_t, beta_1, beta_2, epsilon,
                      amsgrad)


cdef _adam(floating[::1] w, floating[::1] g, floating[::1] m, floating[::1] v,
           floating[::1] v_max, double lr_t, double beta_1, double beta_2, double epsilon,
           bint amsgrad):
    cdef Py_ssize_t i, c, chunks, start, size, n = w.shape[0]
    cdef floating a = lr_t, b1 = 1 - beta_1, b2 = 1 - beta_2, eps = epsilon, gi
    cdef bint parallel = n >= PARALLEL_MIN_VALUES
    if n == 0:
        return
    if amsgrad:
        with nogil:
            for i in range(n):
                gi = g[i]
                m[i] += b1 * (gi - m[i])
                v[i] += b2 * (gi * gi - v[i])
                if v[i] > v_max[i]:
                    v_max[i] = v[i]
                w[i] -= a * m[i] / (_root(v_max[i]) + eps)
    else:
        # chunks of the buffer, in parallel when it is big enough to pay for it
        chunks = (n + ADAM_CHUNK - 1) // ADAM_CHUNK
        for c in prange(chunks, nogil=True, schedule="static", use_threads_if=parallel):
            start = c * ADAM_CHUNK
            size = ADAM_CHUNK if start + ADAM_CHUNK <= n else n - start
            if floating is float:
                minidl_adam_float(&w[start], &g[start], &m[start], &v[start], size, a, b1, b2, eps)
            else:
                minidl_adam_double(&w[start], &g[start], &m[start], &v[start], size, a, b1, b2,
                                   eps)
