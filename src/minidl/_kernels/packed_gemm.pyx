# cython: language_level=3
"""out (+)= a @ B, with B packed once and used many times: an LSTM's recurrent products.

The recurrent kernel U of an LSTM is constant over the batch's timesteps, and
each step multiplies it by a small matrix: h_{t-1} (N, U) @ U forward, and
dL/dz_t (N, 4U) @ U^T backward.  ``pack_panels`` rearranges U (or U^T) once per
batch into the order the inner loop reads it; ``packed_gemm`` then runs each
step's product from it (packed_gemm.h explains the layout and the loop).  At
M5's shapes, one thread, CPU time: 64 x 128 @ 128 x 512 in 57 us against
OpenBLAS's 70 (sgemm packs B again at every call), 64 x 512 @ 512 x 128 in 56-65
us against 100 (PyTorch's MKL: 66 and 87).

Threads: with more than one thread and a product of at least PARALLEL_MIN_MACS
multiply-adds, the rows of ``out`` are split between the threads (each row is
computed by one thread, in one order: the same result on any number of threads).
"""

cimport cython
from cython cimport floating

import numpy as np
cimport numpy as cnp

cnp.import_array()

from minidl._kernels.dense import blas_thread_limit
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type
from minidl._kernels.flush_denormals cimport minidl_flush_begin, minidl_flush_end
from minidl._kernels.panel_checks import PANEL, check_pack_panels, check_packed_gemm

from minidl._kernels.packed_product cimport (
    PACKED_PARALLEL_MIN_MACS,
    minidl_pack_panels_double,
    minidl_pack_panels_float,
    packed_product,
)

cdef extern from "isa.h" nogil:
    int minidl_cpu_isa()
    int minidl_chosen_isa


def choose_vector_isa(int code):
    """For tests: run copy ``code`` of packed_gemm (isa.h: 0 SSE2, 1 AVX2, 2 AVX-512,
    -1 this CPU's best; this module's own choice, apart from conv.vector_isa's).
    Returns the choice it replaces."""
    global minidl_chosen_isa
    if not -1 <= code <= minidl_cpu_isa():
        raise ValueError(f"choose_vector_isa: this CPU runs copies -1..{minidl_cpu_isa()}, "
                         f"received {code}.")
    previous, minidl_chosen_isa = minidl_chosen_isa, code
    return previous


# products below this many multiply-adds run on one thread (packed_product.pxd)
PARALLEL_MIN_MACS = PACKED_PARALLEL_MIN_MACS


def pack_panels(b, out, trans_b=False):
    """out = B (k, n) in panels of 64 columns (``panels_shape(k, n)``), zero past
    column n.  B is ``b`` (k, n), or ``b.T`` with ``trans_b`` (b is then (n, k))."""
    if not _pack_arguments_ok(b, out, trans_b):
        check_pack_panels(b, out, trans_b)
    cdef Py_ssize_t k = b.shape[1] if trans_b else b.shape[0]
    cdef Py_ssize_t n = b.shape[0] if trans_b else b.shape[1]
    if b.dtype.itemsize == 4:
        _pack[float](b, k, n, trans_b, out)
    else:
        _pack[double](b, k, n, trans_b, out)


cdef bint _pack_arguments_ok(object b, object out, bint trans_b):
    """Yes/no: the arguments check_pack_panels accepts (it names the problem on a "no")."""
    cdef int t = float_type(b)
    if t < 0 or not (array_of(b, 2, t, False) and array_of(out, 3, t, True)):
        return False
    cdef Py_ssize_t k = dim(b, 1 if trans_b else 0), n = dim(b, 0 if trans_b else 1)
    return (dim(out, 0) == (n + PANEL - 1) // PANEL and dim(out, 1) == k
            and dim(out, 2) == PANEL and apart(out, b))


cdef void _pack(const floating[:, ::1] b, Py_ssize_t k, Py_ssize_t n, bint trans,
                floating[:, :, ::1] out):
    if out.shape[0] == 0 or k == 0:
        return
    with nogil:
        if floating is float:
            minidl_pack_panels_float(&b[0, 0], k, n, trans, &out[0, 0, 0])
        else:
            minidl_pack_panels_double(&b[0, 0], k, n, trans, &out[0, 0, 0])


cdef bint _arguments_ok(object a, object packed, object out, bint trans_a):
    """Yes/no: the arguments check_packed_gemm accepts (a "no" only costs the slow path,
    where it names the problem)."""
    cdef int t = float_type(a)
    if t < 0 or not (array_of(a, 2, t, False) and array_of(packed, 3, t, False)
                     and array_of(out, 2, t, True)):
        return False
    cdef Py_ssize_t m = dim(a, 1 if trans_a else 0), k = dim(a, 0 if trans_a else 1)
    cdef Py_ssize_t n = dim(out, 1)
    return (dim(out, 0) == m and dim(packed, 1) == k and dim(packed, 2) == PANEL
            and dim(packed, 0) == (n + PANEL - 1) // PANEL
            and apart(out, a) and apart(out, packed))


def packed_gemm(a, packed, out, bint accumulate=True, bint trans_a=False):
    """out += op(a) @ B, for op(a) (m, k), B (k, n) packed by ``pack_panels``, out (m, n);
    op(a) is a, or a.T with ``trans_a`` (a is then (k, m)).  With ``accumulate=False``,
    out = op(a) @ B (out's old values are never read)."""
    if not _arguments_ok(a, packed, out, trans_a):
        check_packed_gemm(a, packed, out, trans_a)
    if a.dtype.itemsize == 4:
        _product[float](a, packed, out, blas_thread_limit(), accumulate, trans_a)
    else:
        _product[double](a, packed, out, blas_thread_limit(), accumulate, trans_a)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _product(const floating[:, ::1] a, const floating[:, :, ::1] packed,
                   floating[:, ::1] out, int threads, bint accumulate, bint trans_a):
    cdef Py_ssize_t m = out.shape[0], n = out.shape[1]
    cdef Py_ssize_t k = a.shape[0] if trans_a else a.shape[1]
    cdef const floating *pa = NULL
    cdef const floating *pb = NULL
    cdef unsigned int saved = 0
    if m == 0 or n == 0 or (k == 0 and accumulate):
        return
    if k > 0:  # (with k = 0 there is nothing to read: out = 0)
        pa, pb = &a[0, 0], &packed[0, 0, 0]
    with nogil:  # subnormals as 0 while it runs, on every thread (flush_denormals.h)
        saved = minidl_flush_begin()
        packed_product(pa, a.shape[1], k, pb, n, &out[0, 0], m, accumulate, trans_a, threads,
                       True)
        minidl_flush_end(saved)
