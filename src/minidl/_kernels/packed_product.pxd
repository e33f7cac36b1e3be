"""The packed products of packed_gemm.h, for the modules that run them (packed_gemm.pyx,
lstm_sequence.pyx): the C declarations, and ``packed_product``, which splits the rows
of the output between the threads."""

from cython cimport floating
from cython.parallel cimport prange

cdef extern from "packed_gemm.h" nogil:
    void minidl_pack_panels_float(const float *b, Py_ssize_t k, Py_ssize_t n, int trans,
                                  float *packed)
    void minidl_pack_panels_double(const double *b, Py_ssize_t k, Py_ssize_t n, int trans,
                                   double *packed)
    void minidl_pack_panel_rows_float(const float *b, Py_ssize_t k, Py_ssize_t n,
                                      Py_ssize_t first, Py_ssize_t last, float *packed)
    void minidl_pack_panel_rows_double(const double *b, Py_ssize_t k, Py_ssize_t n,
                                       Py_ssize_t first, Py_ssize_t last, double *packed)
    void minidl_packed_gemm_float(const float *a, Py_ssize_t lda, Py_ssize_t k,
                                  const float *packed, Py_ssize_t n, float *c, Py_ssize_t ldc,
                                  Py_ssize_t first, Py_ssize_t last, int accumulate,
                                  int trans_a)
    void minidl_packed_gemm_double(const double *a, Py_ssize_t lda, Py_ssize_t k,
                                   const double *packed, Py_ssize_t n, double *c,
                                   Py_ssize_t ldc, Py_ssize_t first, Py_ssize_t last,
                                   int accumulate, int trans_a)

cdef extern from "flush_denormals.h" nogil:
    # subnormals as 0 on the calling thread until minidl_flush_end (the header says why)
    unsigned int minidl_flush_begin()
    void minidl_flush_end(unsigned int old)

# products below this many multiply-adds run on one thread (as dense.pyx's gemm)
cdef enum:
    PACKED_PARALLEL_MIN_MACS = 1 << 20


cdef inline void packed_product(const floating *a, Py_ssize_t lda, Py_ssize_t k,
                                const floating *packed, Py_ssize_t n, floating *c,
                                Py_ssize_t m, bint accumulate, bint trans_a,
                                int threads, bint flush=False) noexcept nogil:
    """c (m, n) (+)= op(a) @ B, B packed: with more than one thread and a product of at
    least PACKED_PARALLEL_MIN_MACS, the threads get (nearly) equal shares of rows, each
    an even number (rows left over after the full register tiles go two at a time; a
    row's sums are the same in any tile, so any split gives the same bits).  With
    ``flush`` and more than one thread, each thread computes with subnormals as 0, as
    the caller does (flush_denormals.h: the caller's own thread is the caller's to set)."""
    cdef int parts = threads if threads > 1 and <double>m * n * k >= PACKED_PARALLEL_MIN_MACS else 1
    cdef Py_ssize_t part, first, last, share = (m + parts - 1) // parts
    cdef unsigned int saved = 0
    share += share % 2
    for part in prange(parts, schedule="static", chunksize=1, num_threads=parts,
                       use_threads_if=parts > 1):
        first = part * share
        last = first + share if first + share < m else m
        if flush and parts > 1:
            saved = minidl_flush_begin()
        if first < last:
            if floating is float:
                minidl_packed_gemm_float(a, lda, k, packed, n, c, n, first, last, accumulate,
                                         trans_a)
            else:
                minidl_packed_gemm_double(a, lda, k, packed, n, c, n, first, last, accumulate,
                                          trans_a)
        if flush and parts > 1:
            minidl_flush_end(saved)
