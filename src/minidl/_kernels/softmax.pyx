# cython: language_level=3
"""Softmax and cross-entropy in one pass per row.

For logits z (one row) and a label y:
    p_c  = exp(z_c - max z) / sum_k exp(z_k - max z)
    loss = log sum_k exp(z_k - max z) - (z_y - max z)
Subtracting the row maximum keeps every exp <= 1, so logits of +-1e4 are
fine, and the loss never takes the log of an underflowed probability.
The backward is (p - onehot(y)) * dL/dloss: the reason to fuse the two.
One row's softmax is C (``softmax_row.h``), where float32 exponentials run
as vector code.  ``softmax_forward`` is that softmax alone, for when no
cross-entropy follows.
"""

from cython cimport floating
from libc.stdint cimport int64_t

cimport numpy as cnp

from minidl._kernels.checks import check_softmax, check_softmax_xent
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type

cnp.import_array()


cdef bint _softmax_arguments_ok(logits, probs):
    """The quick form of checks.check_softmax."""
    cdef int t = float_type(logits)
    if not (array_of(logits, 2, t, False) and array_of(probs, 2, t, True)):
        return False
    cdef Py_ssize_t n = dim(logits, 0), c = dim(logits, 1)
    return c >= 1 and dim(probs, 0) == n and dim(probs, 1) == c and apart(probs, logits)


cdef bint _arguments_ok(logits, labels, probs, losses, bint backward):
    """The quick form of checks.check_softmax_xent (same argument roles)."""
    cdef int t = float_type(logits)
    if not (array_of(logits, 2, t, backward) and array_of(probs, 2, t, not backward)
            and array_of(losses, 1, t, not backward)):
        return False
    cdef Py_ssize_t n = dim(logits, 0), c = dim(logits, 1)
    if c < 1 or dim(probs, 0) != n or dim(probs, 1) != c or dim(losses, 0) != n:
        return False
    if array_of(labels, 1, cnp.NPY_INT64, False):
        if dim(labels, 0) != n:
            return False
    elif not (array_of(labels, 2, t, False) and dim(labels, 0) == n and dim(labels, 1) == c):
        return False
    return (apart(probs, logits) and apart(probs, labels) and apart(losses, logits)
            and apart(losses, labels) and apart(losses, probs))


def softmax_cross_entropy_forward(logits, labels, probs, losses):
    """probs = softmax(logits); losses = -log probs[label] (or -sum t log p)."""
    if not _arguments_ok(logits, labels, probs, losses, False):
        check_softmax_xent(logits, labels, probs, losses)  # raises, naming what is wrong
    if labels.ndim == 1 and not _labels_in_range(labels, logits.shape[1]):
        _bad_labels(labels, logits.shape[1])  # before anything is written
    cdef Py_ssize_t bad
    if float_type(logits) == cnp.NPY_FLOAT:
        if labels.ndim == 1:
            bad = _forward_sparse[float](logits, labels, probs, losses)
        else:
            bad = _forward_dense[float](logits, labels, probs, losses)
    else:
        if labels.ndim == 1:
            bad = _forward_sparse[double](logits, labels, probs, losses)
        else:
            bad = _forward_dense[double](logits, labels, probs, losses)
    if bad:
        _bad_labels(labels, logits.shape[1])


cdef bint _labels_in_range(const int64_t[::1] y, Py_ssize_t classes):
    """Every label in [0, classes): checked first, so that a refused call writes nothing
    (the loops check again, each index before they use it)."""
    cdef Py_ssize_t i
    for i in range(y.shape[0]):
        if not 0 <= y[i] < classes:
            return False
    return True


def _bad_labels(labels, classes):
    raise ValueError(
        f"softmax_cross_entropy: labels must be in [0, {classes}), received values from "
        f"{labels.min()} to {labels.max()}."
    )


cdef extern from "softmax_row.h" nogil:
    # p = softmax(z) over c values; *top = max z; returns log sum exp(z - top); see the header
    float minidl_softmax_row_float(const float *z, float *p, Py_ssize_t c, float *top)
    double minidl_softmax_row_double(const double *z, double *p, Py_ssize_t c, double *top)


cdef inline floating _softmax_row(const floating[:, ::1] z, floating[:, ::1] p,
                                  Py_ssize_t i, floating *top) noexcept nogil:
    """Write softmax of row i into p and its maximum into top; return log sum exp(z - top)."""
    if floating is float:
        return minidl_softmax_row_float(&z[i, 0], &p[i, 0], z.shape[1], top)
    else:
        return minidl_softmax_row_double(&z[i, 0], &p[i, 0], z.shape[1], top)


def softmax_forward(logits, probs):
    """probs = softmax(logits), row by row (a row with NaN or +inf comes out NaN)."""
    if not _softmax_arguments_ok(logits, probs):
        check_softmax(logits, probs)  # raises, naming what is wrong
    if float_type(logits) == cnp.NPY_FLOAT:
        _softmax_rows[float](logits, probs)
    else:
        _softmax_rows[double](logits, probs)


cdef void _softmax_rows(const floating[:, ::1] z, floating[:, ::1] p):
    cdef Py_ssize_t i
    cdef floating top
    with nogil:
        for i in range(z.shape[0]):
            _softmax_row(z, p, i, &top)


cdef Py_ssize_t _forward_sparse(const floating[:, ::1] z, const int64_t[::1] y, floating[:, ::1] p,
                                floating[::1] losses):
    cdef Py_ssize_t i, bad = 0, c = z.shape[1]
    cdef floating log_sum, top
    with nogil:
        for i in range(z.shape[0]):
            log_sum = _softmax_row(z, p, i, &top)
            if 0 <= y[i] < c:  # -log p[label] = log sum exp(z - top) - (z[label] - top)
                losses[i] = log_sum - (z[i, y[i]] - top)
            else:
                bad += 1
    return bad


cdef Py_ssize_t _forward_dense(const floating[:, ::1] z, const floating[:, ::1] t,
                               floating[:, ::1] p,
                               floating[::1] losses):
    cdef Py_ssize_t i, j
    cdef floating log_sum, top, total
    with nogil:
        for i in range(z.shape[0]):
            log_sum = _softmax_row(z, p, i, &top)
            total = 0
            for j in range(z.shape[1]):
                if t[i, j] != 0:
                    total = total + t[i, j] * (log_sum - (z[i, j] - top))
            losses[i] = total
    return 0


def softmax_cross_entropy_backward(probs, labels, grad_losses, grad_logits):
    """grad_logits = (probs * sum(t) - t) * grad_losses[:, None]."""
    if not _arguments_ok(grad_logits, labels, probs, grad_losses, True):
        check_softmax_xent(grad_logits, labels, probs, grad_losses, backward=True)  # raises
    if labels.ndim == 1 and not _labels_in_range(labels, probs.shape[1]):
        _bad_labels(labels, probs.shape[1])  # before anything is written
    cdef Py_ssize_t bad
    if float_type(probs) == cnp.NPY_FLOAT:
        bad = _backward[float](probs, labels, grad_losses, grad_logits)
    else:
        bad = _backward[double](probs, labels, grad_losses, grad_logits)
    if bad:
        _bad_labels(labels, probs.shape[1])


cdef Py_ssize_t _backward(const floating[:, ::1] p, object labels, const floating[::1] g,
                          floating[:, ::1] out):
    cdef Py_ssize_t i, j, bad = 0, n = p.shape[0], c = p.shape[1]
    cdef const int64_t[::1] y
    cdef const floating[:, ::1] t
    cdef floating mass
    if labels.ndim == 1:
        y = labels
        with nogil:
            for i in range(n):
                for j in range(c):
                    out[i, j] = p[i, j] * g[i]
                if 0 <= y[i] < c:
                    out[i, y[i]] -= g[i]
                else:
                    bad += 1
    else:
        t = labels
        with nogil:
            for i in range(n):
                mass = 0
                for j in range(c):
                    mass = mass + t[i, j]
                for j in range(c):
                    out[i, j] = (p[i, j] * mass - t[i, j]) * g[i]
    return bad
