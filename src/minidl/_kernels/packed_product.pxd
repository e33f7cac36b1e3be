"""The packed products of packed_gemm.h, for the modules that run them (packed_gemm.pyx,
lstm_sequence.pyx): the C declarations, and ``packed_product``, which splits the rows
of the output between the threads."""

from cython cimport floating
from cython.parallel cimport prange

from minidl._kernels.flush_denormals cimport minidl_flush_begin, minidl_flush_end

cdef extern from "packed_gemm.h" nogil:
    void minidl_pack_panels_float(const float *b, Py_ssize_t k, Py_ssize_t n, int trans,
                                  float *packed)
    void minidl_pack_panels_double(const double *b, Py_ssize_t k, Py_ssize_t n, int trans,
                                   double *packed)
    void minidl_pack_panel_rows_float(const float *b, Py_ssize_t k, Py_ssize_t n,
                                      Py_ssize_t first, Py_ssize_t last, Py_ssize_t at,
                                      float *packed)
    void minidl_pack_panel_rows_double(const double *b, Py_ssize_t k, Py_ssize_t n,
                                       Py_ssize_t first, Py_ssize_t last, Py_ssize_t at,
                                       double *packed)
    void minidl_packed_gemm_float(const float *a, Py_ssize_t lda, Py_ssize_t k,
                                  const float *packed, Py_ssize_t n, float *c, Py_ssize_t ldc,
                                  Py_ssize_t first, Py_ssize_t last, int accumulate,
                                  int trans_a)
    void minidl_packed_gemm_double(const double *a, Py_ssize_t lda, Py_ssize_t k,
                                   const double *packed, Py_ssize_t n, double *c,
                                   Py_ssize_t ldc, Py_ssize_t first, Py_ssize_t last,
                                   int accumulate, int trans_a)


# products below this many multiply-adds run on one thread (as dense.pyx's gemm)
cdef enum:
    PACKED_PARALLEL_MIN_MACS = 1 << 20


cdef inline Py_ssize_t row_bound(Py_ssize_t total, int part, int parts) noexcept nogil:
    """Where thread ``part``'s rows of ``total`` begin (thread part + 1's bound: where
    they end): (nearly) equal shares, each an even number of rows (rows left over after
    the full register tiles go two at a time; a row's sums are the same in any tile, so
    any split gives the same bits)."""
    cdef Py_ssize_t share = (total + parts - 1) // parts
    share += share % 2
    return part * share if part * share < total else total


cdef inline void packed_rows(const floating *a, Py_ssize_t lda, Py_ssize_t k,
                             const floating *packed, Py_ssize_t n, floating *c, Py_ssize_t ldc,
                             Py_ssize_t first, Py_ssize_t last, bint accumulate,
                             bint trans_a) noexcept nogil:
    """Rows [first, last) of c (., n), row stride ldc, (+)= op(a) @ B, B packed, on the
    calling thread."""
    if first >= last or n <= 0:
        return
    if floating is float:
        minidl_packed_gemm_float(a, lda, k, packed, n, c, ldc, first, last, accumulate, trans_a)
    else:
        minidl_packed_gemm_double(a, lda, k, packed, n, c, ldc, first, last, accumulate,
                                  trans_a)


cdef inline void pack_rows(const floating *b, Py_ssize_t k, Py_ssize_t n, Py_ssize_t first,
                           Py_ssize_t last, Py_ssize_t at, floating *packed) noexcept nogil:
    """Rows [first, last) of b (., n) into their places in the panels of B (k, n), b
    holding B's rows from ``at`` on (b's row first is B's row at + first)."""
    if floating is float:
        minidl_pack_panel_rows_float(b, k, n, first, last, at, packed)
    else:
        minidl_pack_panel_rows_double(b, k, n, first, last, at, packed)


cdef inline void packed_product(const floating *a, Py_ssize_t lda, Py_ssize_t k,
                                const floating *packed, Py_ssize_t n, floating *c,
                                Py_ssize_t m, bint accumulate, bint trans_a,
                                int threads, bint flush=False) noexcept nogil:
    """c (m, n) (+)= op(a) @ B, B packed: with more than one thread and a product of at
    least PACKED_PARALLEL_MIN_MACS, the threads get shares of rows by ``row_bound``.
    With ``flush`` and more than one thread, each thread computes with subnormals as 0,
    as the caller does (flush_denormals.h: the caller's own thread is the caller's to
    set)."""
    cdef int parts = threads if threads > 1 and <double>m * n * k >= PACKED_PARALLEL_MIN_MACS else 1
    cdef Py_ssize_t part
    cdef unsigned int saved = 0
    for part in prange(parts, schedule="static", chunksize=1, num_threads=parts,
                       use_threads_if=parts > 1):
        if flush and parts > 1:
            saved = minidl_flush_begin()
        packed_rows(a, lda, k, packed, n, c, n, row_bound(m, part, parts),
                    row_bound(m, part + 1, parts), accumulate, trans_a)
        if flush and parts > 1:
            minidl_flush_end(saved)
