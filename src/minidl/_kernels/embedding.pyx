# cython: language_level=3
"""Embedding lookup: a gather forward and a scatter-add backward.

An embedding table ``weights`` (V, D) holds one learned row of D numbers per
word of a vocabulary of V words.  For N word indices (all the tokens of a
batch, flattened):

    forward    out[i, :] = weights[indices[i], :]                   (N, D)
    backward   grad_weights[v, :] = sum over i with indices[i] == v
                                    of grad_out[i, :]                (V, D)

The backward is a scatter-add: several tokens may be the same word, and
their gradients add up in that word's row.  Rows of words absent from the
batch get zeros.

Threads and determinism.  The forward splits the tokens over the threads:
each writes its own rows of ``out``.  The backward cannot split the tokens
(two threads could add into the same row at once, and the order of
floating-point additions would change from run to run), so it splits the
*vocabulary*: each thread owns a contiguous block of rows of grad_weights,
walks all the tokens in order and adds only those whose word is in its
block.  Every row therefore receives its gradients in token order, on one
thread or many: the same bits every time, and the same as the NumPy twin's
``np.add.at``.

An index outside [0, V) is never read or written: the loops stop and the
wrapper raises a ValueError naming the first bad token.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset

from minidl._kernels.checks import check_embedding, check_embedding_backward, embedding_range_error
from minidl._kernels.dense import blas_thread_limit

# below this many copied or added values one thread does all the work: waking a second
# costs more than it saves (bench/kernel_ratios.py, embedding cases)
PARALLEL_MIN_VALUES = 1 << 18


def embedding_forward(indices, weights, out):
    """out[i] = weights[indices[i]]."""
    check_embedding(indices, weights, out)
    cdef Py_ssize_t bad
    if weights.dtype.itemsize == 4:
        bad = _gather[float](indices, weights, out)
    else:
        bad = _gather[double](indices, weights, out)
    if bad >= 0:
        raise embedding_range_error("embedding_forward", indices, bad, weights.shape[0])


def embedding_backward(indices, grad_out, grad_weights):
    """grad_weights = 0, then grad_weights[indices[i]] += grad_out[i], in token order."""
    check_embedding_backward(indices, grad_out, grad_weights)
    cdef Py_ssize_t bad
    if grad_out.dtype.itemsize == 4:
        bad = _scatter_add[float](indices, grad_out, grad_weights, blas_thread_limit())
    else:
        bad = _scatter_add[double](indices, grad_out, grad_weights, blas_thread_limit())
    if bad >= 0:
        raise embedding_range_error("embedding_backward", indices, bad, grad_weights.shape[0])


cdef Py_ssize_t _first_bad(const int64_t[::1] indices, Py_ssize_t vocabulary) noexcept nogil:
    """The position of the first index outside [0, vocabulary), or -1."""
    cdef Py_ssize_t i
    for i in range(indices.shape[0]):
        if indices[i] < 0 or indices[i] >= vocabulary:
            return i
    return -1


cdef Py_ssize_t _gather(const int64_t[::1] indices, const floating[:, ::1] weights,
                        floating[:, ::1] out):
    cdef Py_ssize_t n = indices.shape[0], vocabulary = weights.shape[0], d = weights.shape[1]
    cdef Py_ssize_t i, bad
    cdef bint parallel = n * d >= PARALLEL_MIN_VALUES
    if n == 0:
        return -1
    with nogil:
        bad = _first_bad(indices, vocabulary)
        if bad >= 0 or d == 0:
            return bad
        for i in prange(n, schedule="static", use_threads_if=parallel):
            _copy_row(&out[i, 0], &weights[indices[i], 0], d)
    return -1


cdef inline void _copy_row(floating *dst, const floating *src, Py_ssize_t d) noexcept nogil:
    """dst[:d] = src[:d] as a plain loop, which GCC turns into a few vector moves: a
    row is short (32 floats in M6), and a call to memcpy per row cost more than the copy."""
    cdef Py_ssize_t j
    for j in range(d):
        dst[j] = src[j]


cdef Py_ssize_t _scatter_add(const int64_t[::1] indices, const floating[:, ::1] grad_out,
                             floating[:, ::1] grad_weights, int threads):
    cdef Py_ssize_t n = indices.shape[0], vocabulary = grad_weights.shape[0]
    cdef Py_ssize_t d = grad_weights.shape[1]
    cdef Py_ssize_t block, first, last, i, k, row, bad
    cdef int blocks = threads if threads > 1 and n * d >= PARALLEL_MIN_VALUES else 1
    if vocabulary == 0 or d == 0:
        return _first_bad(indices, vocabulary) if n > 0 else -1
    with nogil:
        bad = _first_bad(indices, vocabulary)
        if bad >= 0:
            return bad
        if blocks > vocabulary:
            blocks = <int>vocabulary
        for block in prange(blocks, schedule="static", chunksize=1, num_threads=blocks):
            first = vocabulary * block // blocks
            last = vocabulary * (block + 1) // blocks
            memset(&grad_weights[first, 0], 0, (last - first) * d * sizeof(floating))
            for i in range(n):
                row = indices[i]
                if first <= row < last:
                    for k in range(d):
                        grad_weights[row, k] += grad_out[i, k]
    return -1
