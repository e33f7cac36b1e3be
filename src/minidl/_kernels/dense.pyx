# cython: language_level=3
"""Matrix products through BLAS, with the bias and activation fused in.

``dense_forward`` asks BLAS (``sgemm``/``dgemm``) for x @ w, then, while the
product is still in cache, adds the bias and applies the activation (in C,
``activation.h``): the "epilogue".  To keep it in cache the rows go in blocks
of about 1 MB of output: product of one block, epilogue of that block, next
block.  For a convolution's (7744, 64) output this saves two trips through
main memory.

``dense_backward`` does the reverse, block by block: dL/dz = grad_out * act'
into a small scratch block, then that block's share of the three gradients
(dL/dw accumulates over blocks, in a fixed order, so results do not vary).

BLAS is column-major; a C-contiguous (rows, cols) array is, to BLAS, the
transposed (cols, rows) matrix.  So C = A @ B is computed as C^T = B^T @ A^T,
which needs no copies: just swap the operands.  Which BLAS: numpy's bundled
OpenBLAS when ``blas_library.py`` finds it (faster here), else scipy's
``cython_blas``; either way the kernels get the four functions' addresses when
they load, so scipy (28 MB of memory with its own OpenBLAS and thread pool) is
imported only when its library is the one used.

Threads: big products are split here, one part per OpenMP thread, each part a
single-threaded BLAS call (``_gemm``); OpenBLAS's own thread pool stays idle,
so it never spins against the OpenMP loops (see ``threads.py``).  A product
split over threads must wait for the slowest part, and for a small one the
split costs more than it saves.  So products under PARALLEL_MIN_MACS
multiply-adds run on one thread: about 1M, so a 128x10 output layer stays
whole and a batch-64 128x128 Dense layer is split (M3's step was 7% faster
than with 2M, M1, M2 and M4 no different).

Subnormal floats (below 1.2e-38 in float32) count as 0 in every BLAS call, on
the thread that makes it (``flush_denormals.h``), as TensorFlow computes on the
CPU: x86 computes with them about 100 times slower, and a gradient sent back
through a long sequence shrinks into them (a GRU over 200 steps: its dL/dx and
dL/dW products took 16 ms instead of 3).  The twins keep them: each value
counted as 0 is off by less than 1.2e-38.
"""

from cython cimport floating
from cython.parallel cimport prange

from minidl._kernels.flush_denormals cimport minidl_flush_begin, minidl_flush_end

import numpy as np
cimport numpy as cnp

cnp.import_array()

from minidl._kernels import ACTIVATIONS
from minidl._kernels.activation_codes cimport MINIDL_LINEAR, activation_codes
from minidl._kernels.checks import check_dense, check_dense_backward, check_gemm
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type

_ACTIVATION_CODES = activation_codes(ACTIVATIONS)

# The BLAS functions, by address (float and double share one type).  numpy's
# OpenBLAS has the Fortran interface with 64-bit integers ("ILP64"), scipy's
# cython_blas the usual 32-bit one ("LP64").
ctypedef long long blas_int
ctypedef void (*gemm_function)(const char *, const char *, const blas_int *, const blas_int *,
                               const blas_int *, const void *, const void *, const blas_int *,
                               const void *, const blas_int *, const void *, void *,
                               const blas_int *) noexcept nogil
ctypedef void (*gemv_function)(const char *, const blas_int *, const blas_int *, const void *,
                               const void *, const blas_int *, const void *, const blas_int *,
                               const void *, void *, const blas_int *) noexcept nogil
ctypedef void (*gemm32_function)(const char *, const char *, const int *, const int *,
                                 const int *, const void *, const void *, const int *,
                                 const void *, const int *, const void *, void *,
                                 const int *) noexcept nogil
ctypedef void (*gemv32_function)(const char *, const int *, const int *, const void *,
                                 const void *, const int *, const void *, const int *,
                                 const void *, void *, const int *) noexcept nogil
cdef gemm_function _sgemm64 = NULL
cdef gemm_function _dgemm64 = NULL
cdef gemv_function _sgemv64 = NULL
cdef gemv_function _dgemv64 = NULL
cdef gemm32_function _sgemm32 = NULL
cdef gemm32_function _dgemm32 = NULL
cdef gemv32_function _sgemv32 = NULL
cdef gemv32_function _dgemv32 = NULL


def use_blas(size_t sgemm, size_t dgemm, size_t sgemv, size_t dgemv, bint ilp64):
    """Called by ``blas_library.py``: the four functions the kernels call, and whether
    they take 64-bit integers (numpy's OpenBLAS) or 32-bit ones (scipy's cython_blas)."""
    global _sgemm64, _dgemm64, _sgemv64, _dgemv64, _sgemm32, _dgemm32, _sgemv32, _dgemv32
    if not (sgemm and dgemm and sgemv and dgemv):
        raise ValueError("use_blas: every BLAS function needs an address.")
    _sgemm64 = _dgemm64 = _sgemm32 = _dgemm32 = NULL
    _sgemv64 = _dgemv64 = _sgemv32 = _dgemv32 = NULL
    if ilp64:
        _sgemm64, _dgemm64 = <gemm_function>sgemm, <gemm_function>dgemm
        _sgemv64, _dgemv64 = <gemv_function>sgemv, <gemv_function>dgemv
    else:
        _sgemm32, _dgemm32 = <gemm32_function>sgemm, <gemm32_function>dgemm
        _sgemv32, _dgemv32 = <gemv32_function>sgemv, <gemv32_function>dgemv


def blas_name():
    """``"numpy"`` or ``"scipy"``: whose OpenBLAS the products call."""
    return "numpy" if _sgemm64 != NULL else "scipy"


cdef double _PARALLEL_MIN_MACS = 1 << 20
PARALLEL_MIN_MACS = _PARALLEL_MIN_MACS
# a backward's two products of at least this many multiply-adds (and each below
# _PARALLEL_MIN_MACS) run side by side, one per thread
cdef double _SIDE_BY_SIDE_MIN_MACS = 1 << 17
# dense_backward computes dL/dx through transposes for at most this many rows,
# and products of at least this many multiply-adds (smaller ones gain nothing)
cdef int _TRANSPOSED_MAX_ROWS = 64
cdef double _TRANSPOSED_MIN_MACS = 1 << 16

ctypedef void (*set_threads_function)(int) noexcept nogil
cdef int _product_threads = 1  # what set_num_threads allows a big product


def configure_blas_threads(size_t setter_address, int max_threads):
    """Called by ``threads.py``: OpenBLAS's set_num_threads, and the thread count.

    OpenBLAS itself is told to use one thread, for good: big products are
    split here, one part per OpenMP thread (see ``_gemm``).
    """
    global _product_threads
    cdef set_threads_function set_blas_threads = <set_threads_function>setter_address
    if setter_address != 0:
        set_blas_threads(1)
    _product_threads = max_threads if max_threads > 0 else 1


def blas_thread_limit():
    """The most threads a big product may use."""
    return _product_threads


# BLAS's integer arguments.  scipy's cython_blas (LP64) takes C ints, so a size or a
# leading dimension above INT_MAX cannot be passed in one call: _blas_gemm then splits
# the product into calls that fit (as NumPy's dot does), along m and n by blocks, along
# k by adding each part's product into C (beta = 1 after the first part).  numpy's
# OpenBLAS (ILP64) takes 64-bit ints: one call.  _set_blas_dim_limit lowers the limit
# (tests check the splitting at small sizes against NumPy).
cdef Py_ssize_t _LP64_MAX = 2147483647
cdef Py_ssize_t _ILP64_MAX = 0x7FFFFFFFFFFFFFFF
cdef Py_ssize_t _dim_limit_set = 0  # 0: the library's own limit


cdef inline Py_ssize_t _dim_limit() noexcept nogil:
    if _dim_limit_set > 0:
        return _dim_limit_set
    return _ILP64_MAX if _sgemm64 != NULL else _LP64_MAX


def _set_blas_dim_limit(limit):
    """For tests: pass at most ``limit`` as any size or leading dimension of one BLAS call
    (``None``: the library's own limit, INT_MAX for LP64).  Returns the limit before."""
    global _dim_limit_set
    before = _dim_limit()
    if limit is None:
        _dim_limit_set = 0
    elif not 1 <= limit <= _ILP64_MAX:
        raise ValueError(
            f"_set_blas_dim_limit: limit must be a positive int, received {limit!r}.")
    else:
        _dim_limit_set = limit
    return before


cdef inline void _blas_call(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n,
                            Py_ssize_t k, floating alpha, const floating *a, Py_ssize_t lda,
                            const floating *b, Py_ssize_t ldb, floating beta, floating *c,
                            Py_ssize_t ldc) noexcept nogil:
    """One BLAS call; every size and leading dimension already within the library's limit."""
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    cdef blas_int m64 = m, n64 = n, k64 = k, lda64 = lda, ldb64 = ldb, ldc64 = ldc
    cdef int m32 = <int>m, n32 = <int>n, k32 = <int>k
    cdef int lda32 = <int>lda, ldb32 = <int>ldb, ldc32 = <int>ldc
    cdef gemm_function ilp64 = _sgemm64 if floating is float else _dgemm64
    cdef gemm32_function lp64 = _sgemm32 if floating is float else _dgemm32
    cdef unsigned int saved = minidl_flush_begin()  # subnormals as 0 (see the docstring)
    if ilp64 != NULL:
        ilp64(&ta, &tb, &n64, &m64, &k64, &alpha, b, &ldb64, a, &lda64, &beta, c, &ldc64)
    else:
        lp64(&ta, &tb, &n32, &m32, &k32, &alpha, b, &ldb32, a, &lda32, &beta, c, &ldc32)
    minidl_flush_end(saved)


cdef inline Py_ssize_t _fit_ld(Py_ssize_t ld, Py_ssize_t row, Py_ssize_t limit) noexcept nogil:
    """The leading dimension to pass for a part whose rows (as stored) are ``row`` long:
    ``ld`` itself if it fits; else the part has a single stored row, and BLAS never
    steps by ld, so any ld >= the row's length will do."""
    return ld if ld <= limit else (row if row > 1 else 1)


cdef void _blas_gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                     floating alpha, const floating *a, Py_ssize_t lda, const floating *b,
                     Py_ssize_t ldb, floating beta, floating *c, Py_ssize_t ldc) noexcept nogil:
    """Row-major C (m, n) = alpha op(A) op(B) + beta C (k >= 1): single-threaded BLAS,
    in one call when every size and leading dimension fits the library's ints.

    Otherwise in parts of at most ``limit`` rows of C, columns of C and terms of the
    sum; a leading dimension over the limit makes that matrix's parts one stored row
    each (A is stored (m, k), or (k, m) when transposed; B (k, n), or (n, k); C (m, n)).
    """
    cdef Py_ssize_t limit = _dim_limit()
    cdef Py_ssize_t mb = limit, nb = limit, kb = limit, i, j, p, mi, nj, kp
    if m <= limit and n <= limit and k <= limit and lda <= limit and ldb <= limit \
            and ldc <= limit:
        _blas_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    if lda > limit:
        if trans_a:
            kb = 1
        else:
            mb = 1
    if ldb > limit:
        if trans_b:
            nb = 1
        else:
            kb = 1
    if ldc > limit:
        mb = 1
    i = 0
    while i < m:
        mi = mb if mb <= m - i else m - i
        j = 0
        while j < n:
            nj = nb if nb <= n - j else n - j
            p = 0
            while p < k:
                kp = kb if kb <= k - p else k - p
                _blas_call(trans_a, trans_b, mi, nj, kp, alpha,
                           a + (p * lda + i if trans_a else i * lda + p),
                           _fit_ld(lda, mi if trans_a else kp, limit),
                           b + (j * ldb + p if trans_b else p * ldb + j),
                           _fit_ld(ldb, kp if trans_b else nj, limit),
                           beta if p == 0 else <floating>1, c + i * ldc + j,
                           _fit_ld(ldc, nj, limit))
                p += kp
            j += nj
        i += mi


cdef void _gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                floating alpha, const floating *a, Py_ssize_t lda, const floating *b,
                Py_ssize_t ldb, floating beta, floating *c, Py_ssize_t ldc) noexcept nogil:
    """Row-major C (m, n) = alpha op(A) op(B) + beta C.

    A big product is cut into one part per thread along C's longer side --
    rows of C need only their rows of op(A), columns only their columns of
    op(B) -- and each thread makes one single-threaded BLAS call.  The parts
    are fixed by the thread count, so results repeat bit for bit; against one
    thread they can differ in the last bits where a part's edge meets BLAS's
    tiling (OpenBLAS's own threads split the same way).
    """
    cdef Py_ssize_t parts = _product_threads if <double>m * n * k >= _PARALLEL_MIN_MACS else 1
    cdef Py_ssize_t p, start, stop, size = m if m >= n else n
    cdef bint by_rows = m >= n
    if parts > size:
        parts = size
    if parts <= 1:
        _blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    for p in prange(parts, schedule="static", chunksize=1, num_threads=parts):
        start = size * p // parts
        stop = size * (p + 1) // parts
        if by_rows:
            _blas_gemm(trans_a, trans_b, stop - start, n, k, alpha,
                       a + (start if trans_a else start * lda), lda, b, ldb, beta,
                       c + start * ldc, ldc)
        else:
            _blas_gemm(trans_a, trans_b, m, stop - start, k, alpha, a, lda,
                       b + (start * ldb if trans_b else start), ldb, beta, c + start, ldc)


cdef inline bint _side_by_side(double macs) noexcept nogil:
    """Whether a backward's two products of ``macs`` multiply-adds each should run at once,
    one per thread: each is too small to be split (see ``_gemm``), both together are not."""
    return _product_threads >= 2 and _SIDE_BY_SIDE_MIN_MACS <= macs < _PARALLEL_MIN_MACS


def gemm(a, b, out, bint trans_a=False, bint trans_b=False, double alpha=1.0, double beta=0.0):
    """out = alpha * op(a) @ op(b) + beta * out."""
    if not _gemm_arguments_ok(a, b, out, trans_a, trans_b):
        check_gemm(a, b, out, trans_a, trans_b)  # raises, naming what is wrong
    if float_type(a) == cnp.NPY_FLOAT:
        _gemm_checked[float](a, b, out, trans_a, trans_b, alpha, beta)
    else:
        _gemm_checked[double](a, b, out, trans_a, trans_b, alpha, beta)


cdef bint _gemm_arguments_ok(a, b, out, bint trans_a, bint trans_b):
    """The quick form of checks.check_gemm (see fast_checks.pxd)."""
    cdef int t = float_type(a)
    if not (array_of(a, 2, t, False) and array_of(b, 2, t, False) and array_of(out, 2, t, True)):
        return False
    return (dim(a, 0 if trans_a else 1) == dim(b, 1 if trans_b else 0)
            and dim(out, 0) == dim(a, 1 if trans_a else 0)
            and dim(out, 1) == dim(b, 0 if trans_b else 1)
            and apart(out, a) and apart(out, b))


cdef _gemm_checked(const floating[:, ::1] a, const floating[:, ::1] b, floating[:, ::1] out,
                   bint trans_a, bint trans_b, double alpha, double beta):
    cdef Py_ssize_t m = out.shape[0], n = out.shape[1]
    cdef Py_ssize_t k = a.shape[0] if trans_a else a.shape[1]
    cdef Py_ssize_t i, j
    if m == 0 or n == 0:
        return
    if k == 0:  # an empty product: out = beta * out
        for i in range(m):
            for j in range(n):
                out[i, j] = <floating>beta * out[i, j] if beta != 0.0 else 0
        return
    with nogil:
        _gemm(trans_a, trans_b, m, n, k, <floating>alpha, &a[0, 0], a.shape[1],
              &b[0, 0], b.shape[1], <floating>beta, &out[0, 0], n)


# Rows per block: about BLOCK_BYTES of output (it stays in the core's cache),
# and at least MIN_BLOCK_ROWS, so each BLAS call still has enough work.
BLOCK_BYTES = 1 << 20  # a core's L2 cache on recent x86; 256 KB blocks measured up to 8% slower
MIN_BLOCK_ROWS = 256


cdef Py_ssize_t _block_rows(Py_ssize_t n, Py_ssize_t m, Py_ssize_t itemsize):
    cdef Py_ssize_t rows = BLOCK_BYTES // (m * itemsize) if m > 0 else n
    if rows < MIN_BLOCK_ROWS:
        rows = MIN_BLOCK_ROWS
    return rows if rows < n else n


cdef extern from "transpose.h" nogil:
    void minidl_transpose_float(const float *src, Py_ssize_t rows, Py_ssize_t cols, float *dst)
    void minidl_transpose_double(const double *src, Py_ssize_t rows, Py_ssize_t cols,
                                 double *dst)

cdef extern from "activation.h" nogil:
    # out = act(out + bias) over a (rows, cols) block; grad_z = grad * act'(z) from y = act(z)
    void minidl_epilogue_float(float *out, Py_ssize_t rows, Py_ssize_t cols, const float *bias,
                               int activation)
    void minidl_epilogue_double(double *out, Py_ssize_t rows, Py_ssize_t cols,
                                const double *bias, int activation)
    void minidl_act_grad_float(const float *y, const float *grad, float *grad_z, Py_ssize_t size,
                               int activation)
    void minidl_act_grad_double(const double *y, const double *grad, double *grad_z,
                                Py_ssize_t size, int activation)


cdef inline void _epilogue(floating *out, Py_ssize_t rows, Py_ssize_t cols,
                           const floating *bias, int code) noexcept nogil:
    """out = act(out + bias) (activation.h)."""
    if floating is float:
        minidl_epilogue_float(out, rows, cols, bias, code)
    else:
        minidl_epilogue_double(out, rows, cols, bias, code)


def dense_forward(x, w, b, out, activation="linear"):
    """out = act(x @ w + b); see the module docstring."""
    if not _dense_arguments_ok(x, w, b, out, activation):
        check_dense(x, w, b, out, activation)  # raises, naming what is wrong
    if float_type(x) == cnp.NPY_FLOAT:
        _dense_forward[float](x, w, b, out, _ACTIVATION_CODES[activation])
    else:
        _dense_forward[double](x, w, b, out, _ACTIVATION_CODES[activation])


cdef bint _dense_arguments_ok(x, w, b, out, activation):
    """The quick form of checks.check_dense."""
    cdef int t = float_type(x)
    if not (array_of(x, 2, t, False) and array_of(w, 2, t, False)
            and array_of(out, 2, t, True) and type(activation) is str
            and activation in _ACTIVATION_CODES):
        return False
    if b is not None and not (array_of(b, 1, t, False) and dim(b, 0) == dim(w, 1)):
        return False
    return (dim(x, 1) == dim(w, 0) and dim(out, 0) == dim(x, 0) and dim(out, 1) == dim(w, 1)
            and apart(out, x) and apart(out, w) and apart(out, b))


cdef _dense_forward(const floating[:, ::1] x, const floating[:, ::1] w, object b,
                    floating[:, ::1] out, int code):
    cdef Py_ssize_t n = x.shape[0], k = x.shape[1], m = w.shape[1]
    cdef Py_ssize_t start, rows, block = _block_rows(n, m, sizeof(floating))
    cdef const floating[::1] bias
    cdef const floating *bias_ptr = NULL
    if b is not None:
        bias = b
        if m > 0:
            bias_ptr = &bias[0]
    if n == 0 or m == 0:
        return
    if k == 0:
        out[:, :] = 0
    start = 0
    with nogil:
        while start < n:
            rows = block if start + block <= n else n - start
            if k > 0:
                _gemm(False, False, rows, m, k, <floating>1.0, &x[start, 0], k, &w[0, 0], m,
                      <floating>0.0, &out[start, 0], m)
            if bias_ptr != NULL or code != MINIDL_LINEAR:
                _epilogue(&out[start, 0], rows, m, bias_ptr, code)
            start += rows


def dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation="linear"):
    """dL/dz = grad_out * act'(out), then grad_x, grad_w, grad_b (grad_out is not modified)."""
    if not _dense_backward_arguments_ok(x, w, out, grad_out, grad_x, grad_w, grad_b, activation):
        check_dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation)  # raises
    code = _ACTIVATION_CODES[activation]
    n, m = out.shape[0], out.shape[1]
    # dL/dz of one block of rows; for a linear layer dL/dz is grad_out itself
    scratch = None
    if code != MINIDL_LINEAR and n > 0 and m > 0:
        scratch = np.empty((_block_rows(n, m, x.dtype.itemsize), m), x.dtype)
    if float_type(x) == cnp.NPY_FLOAT:
        _dense_backward[float](x, w, out, grad_out, grad_x, grad_w, grad_b, scratch, code)
    else:
        _dense_backward[double](x, w, out, grad_out, grad_x, grad_w, grad_b, scratch, code)


cdef bint _dense_backward_arguments_ok(x, w, out, grad_out, grad_x, grad_w, grad_b,
                                       activation):
    """The quick form of checks.check_dense_backward."""
    cdef int t = float_type(x)
    if not (array_of(x, 2, t, False) and array_of(w, 2, t, False) and array_of(out, 2, t, False)
            and array_of(grad_out, 2, t, False) and array_of(grad_w, 2, t, True)
            and type(activation) is str and activation in _ACTIVATION_CODES):
        return False
    cdef Py_ssize_t n = dim(x, 0), k = dim(x, 1), m = dim(w, 1)
    if not (dim(w, 0) == k and dim(out, 0) == n and dim(out, 1) == m and dim(grad_out, 0) == n
            and dim(grad_out, 1) == m and dim(grad_w, 0) == k and dim(grad_w, 1) == m):
        return False
    if grad_x is not None and not (array_of(grad_x, 2, t, True) and dim(grad_x, 0) == n
                                   and dim(grad_x, 1) == k):
        return False
    if grad_b is not None and not (array_of(grad_b, 1, t, True) and dim(grad_b, 0) == m):
        return False
    for output in (grad_x, grad_w, grad_b):
        for other in (x, w, out, grad_out):
            if not apart(output, other):
                return False
    return apart(grad_x, grad_w) and apart(grad_x, grad_b) and apart(grad_w, grad_b)


cdef _dense_backward(const floating[:, ::1] x, const floating[:, ::1] w,
                     const floating[:, ::1] out, const floating[:, ::1] grad_out,
                     object grad_x_obj, floating[:, ::1] grad_w,
                     object grad_b_obj, object scratch_obj, int code):
    cdef Py_ssize_t n = x.shape[0], k = x.shape[1], m = w.shape[1]
    cdef Py_ssize_t start, rows, block = _block_rows(n, m, sizeof(floating))
    cdef int part
    cdef floating then_add
    cdef floating[:, ::1] grad_x
    cdef floating[::1] grad_b
    cdef floating[:, ::1] scratch
    cdef floating[::1] ones, grad_zt, grad_xt
    cdef const floating *grad_z
    cdef bint want_x = grad_x_obj is not None, want_b = grad_b_obj is not None
    dtype = np.float32 if floating is float else np.float64
    if want_x:
        grad_x = grad_x_obj
        # scratch for the transposes of _grad_x_block: blocks of at most
        # TRANSPOSED_MAX_ROWS rows take them (a small batch, or a big one's last block)
        rows = min(block, _TRANSPOSED_MAX_ROWS)
        grad_zt = np.empty(max(rows * m, 1), dtype)
        grad_xt = np.empty(max(rows * k, 1), dtype)
    if want_b:
        grad_b = grad_b_obj
        ones = np.ones(block, dtype)
    if scratch_obj is not None:
        scratch = scratch_obj
    if n == 0 or m == 0 or k == 0:  # empty sums
        grad_w[:, :] = 0
        if want_b:
            grad_b[:] = 0
        if want_x:
            grad_x[:, :] = 0
        if n == 0 or m == 0:
            return
    start = 0
    with nogil:
        while start < n:
            rows = block if start + block <= n else n - start
            # the first block writes the sums of grad_w and grad_b, the next ones add to them
            then_add = 0 if start == 0 else 1
            # 1. dL/dz = dL/dout * act'(z), written in terms of out
            if code == MINIDL_LINEAR:
                grad_z = &grad_out[start, 0]
            else:
                _activation_backward(&out[start, 0], &grad_out[start, 0], &scratch[0, 0],
                                     rows * m, code)
                grad_z = &scratch[0, 0]
            # 2. dL/dw += x_block^T @ dL/dz_block   (k, m)
            # 3. dL/dx_block = dL/dz_block @ w^T   (rows, k)
            if want_x and k > 0 and _side_by_side(<double>rows * k * m):
                # two products too small to split, but worth two threads: one each
                for part in prange(2, schedule="static", chunksize=1, num_threads=2):
                    if part == 0:
                        _blas_gemm(True, False, k, m, rows, <floating>1.0, &x[start, 0], k,
                                   grad_z, m, then_add, &grad_w[0, 0], m)
                    else:
                        _grad_x_block(grad_z, rows, m, k, &w[0, 0], &grad_x[start, 0],
                                      &grad_zt[0], &grad_xt[0], False)
            else:
                if k > 0:
                    _gemm(True, False, k, m, rows, <floating>1.0, &x[start, 0], k, grad_z, m,
                          then_add, &grad_w[0, 0], m)
                if want_x and k > 0:
                    _grad_x_block(grad_z, rows, m, k, &w[0, 0], &grad_x[start, 0],
                                  &grad_zt[0], &grad_xt[0], True)
            # 4. dL/db += column sums of dL/dz_block
            if want_b:
                _add_column_sums(grad_z, rows, m, &ones[0], then_add, &grad_b[0])
            start += rows


cdef void _grad_x_block(const floating *grad_z, Py_ssize_t rows, Py_ssize_t m, Py_ssize_t k,
                       const floating *w, floating *grad_x, floating *grad_zt,
                       floating *grad_xt, bint may_split) noexcept nogil:
    """grad_x (rows, k) = grad_z (rows, m) @ w^T, w (k, m).

    BLAS runs this product (row-major "A @ B^T") up to twice as slow as the same
    numbers as grad_x^T = w @ grad_z^T ("A @ B") at the tutorials' shapes, so for
    up to TRANSPOSED_MAX_ROWS rows the product is computed that way, between
    two small transposes (transpose.h) through the scratch buffers (products of
    under TRANSPOSED_MIN_MACS gain nothing from it).
    """
    if rows > _TRANSPOSED_MAX_ROWS or <double>rows * k * m < _TRANSPOSED_MIN_MACS:
        _product(may_split, False, True, rows, k, m, grad_z, m, w, m, grad_x, k)
        return
    _transpose(grad_z, rows, m, grad_zt)
    _product(may_split, False, False, k, rows, m, w, m, grad_zt, rows, grad_xt, rows)
    _transpose(grad_xt, k, rows, grad_x)


cdef inline void _product(bint may_split, bint trans_a, bint trans_b, Py_ssize_t m,
                          Py_ssize_t n, Py_ssize_t k, const floating *a, Py_ssize_t lda,
                          const floating *b, Py_ssize_t ldb, floating *c,
                          Py_ssize_t ldc) noexcept nogil:
    """c = op(a) @ op(b): split over the threads when it may be (``_gemm``), else one
    BLAS call (the caller already runs on a thread of its own)."""
    if may_split:
        _gemm(trans_a, trans_b, m, n, k, <floating>1.0, a, lda, b, ldb, <floating>0.0, c, ldc)
    else:
        _blas_gemm(trans_a, trans_b, m, n, k, <floating>1.0, a, lda, b, ldb, <floating>0.0, c,
                   ldc)


cdef inline void _transpose(const floating *src, Py_ssize_t rows, Py_ssize_t cols,
                            floating *dst) noexcept nogil:
    if floating is float:
        minidl_transpose_float(src, rows, cols, dst)
    else:
        minidl_transpose_double(src, rows, cols, dst)


cdef inline void _activation_backward(const floating *out, const floating *grad,
                                      floating *grad_z, Py_ssize_t size,
                                      int code) noexcept nogil:
    """grad_z = grad * act'(z): relu' = [y > 0], sigmoid' = y (1 - y), tanh' = 1 - y^2."""
    if floating is float:
        minidl_act_grad_float(out, grad, grad_z, size, code)
    else:
        minidl_act_grad_double(out, grad, grad_z, size, code)


cdef void _add_column_sums(const floating *a, Py_ssize_t rows, Py_ssize_t cols,
                           const floating *ones, floating beta, floating *sums) noexcept nogil:
    """sums = a^T @ ones + beta * sums: the column sums of a (rows, cols) block (added to
    sums when beta is 1), by BLAS's gemv; in parts, as ``_blas_gemm``, when a size is
    over the library's limit (``ones`` holds at least ``rows`` ones).

    (A plain double loop here cannot keep the sums in registers, because the
    compiler must assume ``sums`` and ``a`` may overlap; gemv is 5x faster.)
    """
    cdef Py_ssize_t limit = _dim_limit()
    cdef Py_ssize_t rb = limit if cols <= limit else 1, i, j, ri, cj
    j = 0
    while j < cols:
        cj = limit if limit <= cols - j else cols - j
        i = 0
        while i < rows:
            ri = rb if rb <= rows - i else rows - i
            _blas_gemv(a + i * cols + j, ri, cj, _fit_ld(cols, cj, limit), ones,
                       beta if i == 0 else <floating>1, sums + j)
            i += ri
        j += cj


cdef inline void _blas_gemv(const floating *a, Py_ssize_t rows, Py_ssize_t cols,
                            Py_ssize_t lda, const floating *ones, floating beta,
                            floating *sums) noexcept nogil:
    """sums (cols,) = a^T @ ones + beta * sums for a (rows, cols) block with row stride
    lda: one BLAS call, every size within the library's limit."""
    cdef char no = b'N'
    cdef floating alpha = 1
    cdef blas_int rows64 = rows, cols64 = cols, lda64 = lda, one64 = 1
    cdef int rows32 = <int>rows, cols32 = <int>cols, lda32 = <int>lda, one = 1
    cdef gemv_function ilp64 = _sgemv64 if floating is float else _dgemv64
    cdef gemv32_function lp64 = _sgemv32 if floating is float else _dgemv32
    if ilp64 != NULL:
        ilp64(&no, &cols64, &rows64, &alpha, a, &lda64, ones, &one64, &beta, sums, &one64)
    else:
        lp64(&no, &cols32, &rows32, &alpha, a, &lda32, ones, &one, &beta, sums, &one)
