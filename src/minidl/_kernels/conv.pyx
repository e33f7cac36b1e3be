# cython: language_level=3
"""Convolution without a patch matrix: the direct kernel and Winograd's.

(im2col/col2im, convolution as one matrix product, stand in ``im2col.pyx``;
``conv_plan.py`` says which of the three runs for which shapes.)

``conv2d_forward``/``conv2d_backward`` convolve directly, without ``cols``:
the better choice when a patch holds only a few values, as in a first layer
on grey images (3x3x1); see ``conv_direct.h``.

``conv2d_winograd_forward``/``_backward`` convolve with a 3x3 kernel at stride 1
by Winograd's F(4x4, 3x3): 36 multiplications per 4x4 tile of outputs and pair
of channels instead of 144.  See ``conv_winograd.h``.

Both are written with explicit vectors and compiled once per instruction set
(AVX-512, AVX2, SSE2; see ``isa.h``); ``vector_isa`` tells which copy runs and
lets tests run the others.

Both loop over images in parallel (``prange``): image n only ever reads or
writes its own rows and pixels (the direct backward keeps one partial weight
gradient per image and adds them in order; Winograd's threads take chunks of
whole images, each with its own partial weight gradient, added in chunk order),
so threads never share a sum and the result is the same on every run and every
thread count.  float32 and float64 share one source: the loops are written for
Cython's fused type ``floating``, and the small ``_..._of`` functions below are
the one place that picks a header function's _float or _double copy.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset

import contextlib

import numpy as np

from minidl._kernels.checks import (
    check_conv2d,
    check_conv2d_backward,
    check_conv2d_winograd,
    check_conv2d_winograd_backward,
)

cdef extern from "conv_direct.h" nogil:
    ctypedef struct minidl_conv_shape:
        Py_ssize_t h, w, c, kh, kw, f, sh, sw, pt, pl, oh, ow
    void minidl_conv_direct_forward_float(const float *x, const float *w, const float *b,
                                          float *out, const minidl_conv_shape *s, int activation)
    void minidl_conv_direct_forward_double(const double *x, const double *w, const double *b,
                                           double *out, const minidl_conv_shape *s,
                                           int activation)
    void minidl_conv_direct_backward_float(const float *x, const float *w, const float *out,
                                          const float *grad_out, float *grad_x, float *grad_w,
                                          float *grad_b, const minidl_conv_shape *s,
                                          int activation)
    void minidl_conv_direct_backward_double(const double *x, const double *w, const double *out,
                                           const double *grad_out, double *grad_x,
                                           double *grad_w, double *grad_b,
                                           const minidl_conv_shape *s, int activation)

cdef extern from "isa.h" nogil:
    int minidl_cpu_isa()
    int minidl_chosen_isa

cdef extern from "transpose.h" nogil:
    void minidl_transpose_float(const float *src, Py_ssize_t rows, Py_ssize_t cols, float *dst)
    void minidl_transpose_double(const double *src, Py_ssize_t rows, Py_ssize_t cols,
                                 double *dst)

cdef extern from "conv_winograd.h" nogil:
    void minidl_wino_kernel_float(const float *w, float *u, Py_ssize_t plane, Py_ssize_t e0,
                                  Py_ssize_t e1, float *mid)
    void minidl_wino_kernel_double(const double *w, double *u, Py_ssize_t plane, Py_ssize_t e0,
                                   Py_ssize_t e1, double *mid)
    void minidl_wino_kernel_grad_float(const float *du, Py_ssize_t chunks, float *grad_w,
                                       Py_ssize_t plane, Py_ssize_t e0, Py_ssize_t e1,
                                       float *mid)
    void minidl_wino_kernel_grad_double(const double *du, Py_ssize_t chunks, double *grad_w,
                                        Py_ssize_t plane, Py_ssize_t e0, Py_ssize_t e1,
                                        double *mid)
    void minidl_wino_forward_float(const float *x, const float *u, const float *bias,
                                   float *out, const minidl_conv_shape *s, Py_ssize_t images,
                                   int activation, float *scratch)
    void minidl_wino_forward_double(const double *x, const double *u, const double *bias,
                                    double *out, const minidl_conv_shape *s,
                                    Py_ssize_t images, int activation, double *scratch)
    void minidl_wino_backward_float(const float *x, const float *ut, const float *out,
                                    const float *grad_out, float *grad_x, float *du,
                                    float *grad_b, const minidl_conv_shape *s,
                                    Py_ssize_t images, int activation, float *scratch)
    void minidl_wino_backward_double(const double *x, const double *ut, const double *out,
                                     const double *grad_out, double *grad_x, double *du,
                                     double *grad_b, const minidl_conv_shape *s,
                                     Py_ssize_t images, int activation, double *scratch)
    int MINIDL_WINO_POINTS
    Py_ssize_t MINIDL_WINO_SCRATCH(Py_ssize_t c, Py_ssize_t f)

from minidl._kernels import ACTIVATIONS
from minidl._kernels.activation_codes cimport activation_codes

_ACTIVATION_CODES = activation_codes(ACTIVATIONS)

# Parallel loops pay for waking threads only when there is enough work.
PARALLEL_MIN_VALUES = 1 << 18


# --- the header functions, one name for float and double ------------------------------
cdef inline void _direct_forward_of(const floating *x, const floating *w, const floating *b,
                                    floating *out, const minidl_conv_shape *s,
                                    int code) noexcept nogil:
    if floating is float:
        minidl_conv_direct_forward_float(x, w, b, out, s, code)
    else:
        minidl_conv_direct_forward_double(x, w, b, out, s, code)


cdef inline void _direct_backward_of(const floating *x, const floating *w, const floating *out,
                                     const floating *grad_out, floating *grad_x,
                                     floating *grad_w, floating *grad_b,
                                     const minidl_conv_shape *s, int code) noexcept nogil:
    if floating is float:
        minidl_conv_direct_backward_float(x, w, out, grad_out, grad_x, grad_w, grad_b, s, code)
    else:
        minidl_conv_direct_backward_double(x, w, out, grad_out, grad_x, grad_w, grad_b, s, code)


cdef inline void _transpose_of(const floating *src, Py_ssize_t rows, Py_ssize_t cols,
                               floating *dst) noexcept nogil:
    if floating is float:
        minidl_transpose_float(src, rows, cols, dst)
    else:
        minidl_transpose_double(src, rows, cols, dst)


cdef inline void _wino_kernel_of(const floating *w, floating *u, Py_ssize_t plane,
                                 Py_ssize_t e0, Py_ssize_t e1, floating *mid) noexcept nogil:
    if floating is float:
        minidl_wino_kernel_float(w, u, plane, e0, e1, mid)
    else:
        minidl_wino_kernel_double(w, u, plane, e0, e1, mid)


cdef inline void _wino_kernel_grad_of(const floating *du, Py_ssize_t chunks, floating *grad_w,
                                      Py_ssize_t plane, Py_ssize_t e0, Py_ssize_t e1,
                                      floating *mid) noexcept nogil:
    if floating is float:
        minidl_wino_kernel_grad_float(du, chunks, grad_w, plane, e0, e1, mid)
    else:
        minidl_wino_kernel_grad_double(du, chunks, grad_w, plane, e0, e1, mid)


cdef inline void _wino_forward_of(const floating *x, const floating *u, const floating *bias,
                                  floating *out, const minidl_conv_shape *s, Py_ssize_t images,
                                  int code, floating *scratch) noexcept nogil:
    if floating is float:
        minidl_wino_forward_float(x, u, bias, out, s, images, code, scratch)
    else:
        minidl_wino_forward_double(x, u, bias, out, s, images, code, scratch)


cdef inline void _wino_backward_of(const floating *x, const floating *ut, const floating *out,
                                   const floating *grad_out, floating *grad_x, floating *du,
                                   floating *grad_b, const minidl_conv_shape *s,
                                   Py_ssize_t images, int code,
                                   floating *scratch) noexcept nogil:
    if floating is float:
        minidl_wino_backward_float(x, ut, out, grad_out, grad_x, du, grad_b, s, images, code,
                                   scratch)
    else:
        minidl_wino_backward_double(x, ut, out, grad_out, grad_x, du, grad_b, s, images, code,
                                    scratch)


cdef minidl_conv_shape _shape_of(const Py_ssize_t *x, const Py_ssize_t *w, const Py_ssize_t *out,
                                 Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
                                 Py_ssize_t pad_left) noexcept:
    """The sizes the headers read, from the shapes of x (N, H, W, C), of the kernel
    (kh, kw, C, F) and of out (N, OH, OW, F)."""
    cdef minidl_conv_shape s
    s.h, s.w, s.c = x[1], x[2], x[3]
    s.kh, s.kw, s.f = w[0], w[1], w[3]
    s.sh, s.sw, s.pt, s.pl = sh, sw, pad_top, pad_left
    s.oh, s.ow = out[1], out[2]
    return s


# --- direct convolution ---------------------------------------------------------------
def conv2d_forward(x, w, b, sh, sw, pad_top, pad_left, out, activation="linear"):
    """out (N, OH, OW, F) = act(conv(x, w) + b), computed directly; see conv_direct.h."""
    check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation)
    _direct_forward(x, w, b, out, sh, sw, pad_top, pad_left, _ACTIVATION_CODES[activation])


def _direct_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                    object b_obj, floating[:, :, :, ::1] out, Py_ssize_t sh, Py_ssize_t sw,
                    Py_ssize_t pad_top, Py_ssize_t pad_left, int code):
    cdef minidl_conv_shape s = _shape_of(x.shape, w.shape, out.shape, sh, sw, pad_top, pad_left)
    cdef Py_ssize_t i, n = x.shape[0]
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef const floating[::1] b
    cdef const floating *bias = NULL
    cdef bint parallel = n * out_image * s.kh * s.kw * s.c >= PARALLEL_MIN_VALUES
    if b_obj is not None and s.f > 0:
        b = b_obj
        bias = &b[0]
    if n == 0 or out_image == 0:
        return
    for i in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        _direct_forward_of(&x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], bias,
                           &out[0, 0, 0, 0] + i * out_image, &s, code)


def conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                    activation="linear"):
    """grad_x (or None), grad_w, grad_b (or None) of the direct convolution."""
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w,
                          grad_b, activation)
    n = x.shape[0]
    # one partial weight (and bias) gradient per image, summed in image order below
    partial_w = np.zeros((n, w.size), x.dtype)
    partial_b = np.zeros((n, w.shape[3]), x.dtype) if grad_b is not None else None
    if n > 0:
        _direct_backward(x, w, out, grad_out, grad_x, partial_w, partial_b, sh, sw, pad_top,
                         pad_left, _ACTIVATION_CODES[activation])
    np.sum(partial_w, axis=0, out=grad_w.reshape(-1))  # images added in order 0, 1, ...
    if grad_b is not None:
        np.sum(partial_b, axis=0, out=grad_b)


def _direct_backward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                     const floating[:, :, :, ::1] out, const floating[:, :, :, ::1] grad_out,
                     object grad_x_obj, floating[:, ::1] partial_w, object partial_b_obj,
                     Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top, Py_ssize_t pad_left,
                     int code):
    cdef minidl_conv_shape s = _shape_of(x.shape, w.shape, out.shape, sh, sw, pad_top, pad_left)
    cdef Py_ssize_t i, n = x.shape[0]
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef floating[:, :, :, ::1] grad_x
    cdef floating[:, ::1] partial_b
    cdef floating *grad_x_at = NULL
    cdef floating *partial_b_at = NULL
    cdef floating *partial_w_at = NULL
    cdef Py_ssize_t weights = partial_w.shape[1]
    cdef bint parallel = n * out_image * s.kh * s.kw * s.c >= PARALLEL_MIN_VALUES
    if grad_x_obj is not None:
        grad_x = grad_x_obj
        grad_x_at = &grad_x[0, 0, 0, 0]
    if partial_b_obj is not None and s.f > 0:
        partial_b = partial_b_obj
        partial_b_at = &partial_b[0, 0]
    if weights > 0:
        partial_w_at = &partial_w[0, 0]
    if out_image == 0:
        if grad_x_at != NULL:
            memset(grad_x_at, 0, n * image * sizeof(floating))
        return
    for i in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        _direct_backward_of(
            &x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], &out[0, 0, 0, 0] + i * out_image,
            &grad_out[0, 0, 0, 0] + i * out_image,
            grad_x_at + i * image if grad_x_at != NULL else NULL,
            partial_w_at + i * weights if partial_w_at != NULL else NULL,
            partial_b_at + i * s.f if partial_b_at != NULL else NULL, &s, code)


# --- Winograd's F(4x4, 3x3) -----------------------------------------------------------
# A chunk (the work one thread takes at a time) holds at least this many tiles, and a
# call makes at most this many chunks.
WINOGRAD_CHUNK_TILES = 64
WINOGRAD_MAX_CHUNKS = 16


def conv2d_winograd_forward(x, w, b, pad_top, pad_left, out, activation="linear"):
    """out = act(conv(x, w) + b) for a 3x3 kernel at stride 1, by Winograd's F(4x4, 3x3):
    4x fewer multiplications than the direct sum; see conv_winograd.h."""
    check_conv2d_winograd(x, w, b, pad_top, pad_left, out, activation)
    if x.size == 0 or out.size == 0:
        # nothing to transform (no channels: the output is act(b)); the direct kernel copes
        conv2d_forward(x, w, b, 1, 1, pad_top, pad_left, out, activation)
        return
    _winograd_forward(x, _winograd_kernel(w), b, out, w.shape[3], pad_top, pad_left,
                      _ACTIVATION_CODES[activation])


def conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w, grad_b,
                             activation="linear"):
    """The gradients of ``conv2d_winograd_forward`` (grad_x and grad_b may be None), by the
    same transforms transposed; see conv_winograd.h."""
    check_conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w,
                                   grad_b, activation)
    if x.size == 0 or out.size == 0:
        conv2d_backward(x, w, out, grad_out, 1, 1, pad_top, pad_left, grad_x, grad_w, grad_b,
                        activation)
        return
    c, f = w.shape[2], w.shape[3]
    u = _winograd_kernel(w)
    # U[xi] transposed, (F, C): dL/dV = W @ U^T reads its rows
    ut = np.empty((MINIDL_WINO_POINTS, f, c), x.dtype)
    _transpose_blocks(u.reshape(-1, f), ut.reshape(-1, c), c)
    _winograd_backward(x, ut, out, grad_out, grad_x, grad_w, grad_b, pad_top, pad_left,
                       _ACTIVATION_CODES[activation])


VECTOR_ISAS = ("baseline", "avx2", "avx512")
minidl_cpu_isa()  # which copy this CPU runs, found now, before threads ask


def vector_isa(name=None):
    """Which copy of the convolution kernels with explicit vectors (direct, Winograd)
    runs: ``"avx512"``, ``"avx2"`` or ``"baseline"`` (SSE2), each with vectors as wide as
    its registers (isa.h).  Normally this CPU's best; ``vector_isa(name)`` picks another
    this CPU can run (for tests and benchmarks); ``vector_isa("best")`` goes back.
    Returns the one in use."""
    global minidl_chosen_isa
    cdef int best = minidl_cpu_isa()
    if name == "best":
        minidl_chosen_isa = -1
    elif name is not None:
        if name not in VECTOR_ISAS:
            raise ValueError(f"vector_isa: {name!r} is not one of {VECTOR_ISAS} or 'best'.")
        if VECTOR_ISAS.index(name) > best:
            raise ValueError(f"vector_isa: this CPU cannot run {name!r}; it has up to "
                             f"{VECTOR_ISAS[best]!r}.")
        minidl_chosen_isa = VECTOR_ISAS.index(name)
    return VECTOR_ISAS[minidl_chosen_isa if minidl_chosen_isa >= 0 else best]


@contextlib.contextmanager
def using_vector_isa(name):
    """Inside: ``vector_isa(name)``; afterwards, the copy chosen before."""
    global minidl_chosen_isa
    previous = minidl_chosen_isa
    vector_isa(name)
    try:
        yield
    finally:
        minidl_chosen_isa = previous


def available_vector_isas():
    """The copies this CPU can run, narrowest first."""
    return VECTOR_ISAS[:minidl_cpu_isa() + 1]


def _transpose_blocks(const floating[:, ::1] src, floating[:, ::1] dst, Py_ssize_t rows):
    """dst's blocks (cols, rows) = src's blocks (rows, cols) transposed, one after
    another: src holds matrices of ``rows`` rows stacked, dst their transposes."""
    cdef Py_ssize_t block, cols = src.shape[1]
    if rows == 0 or cols == 0:
        return
    for block in range(src.shape[0] // rows):
        _transpose_of(&src[block * rows, 0], rows, cols, &dst[block * cols, 0])


def _winograd_kernel(w):
    """U = G w G^T: the (3, 3, C, F) kernel at the 36 points, (36, C, F)."""
    c, f = w.shape[2], w.shape[3]
    u = np.empty((MINIDL_WINO_POINTS, c, f), w.dtype)
    parts = 4 if c * f >= 4096 else 1
    mid = np.empty((parts, 18 * ((c * f + parts - 1) // parts)), w.dtype)
    _transform_kernel(w.reshape(-1), u.reshape(-1), mid, c * f)
    return u


def _transform_kernel(const floating[::1] w, floating[::1] u, floating[:, ::1] mid,
                      Py_ssize_t plane):
    """Each part of the (C, F) plane on its own thread."""
    cdef Py_ssize_t part, parts = mid.shape[0]
    for part in prange(parts, nogil=True, schedule="static", use_threads_if=parts > 1):
        _wino_kernel_of(&w[0], &u[0], plane, part * plane // parts,
                        (part + 1) * plane // parts, &mid[part, 0])


cdef Py_ssize_t _images_per_chunk(minidl_conv_shape *s, Py_ssize_t n):
    """Whole images per chunk: a power of two with at least WINOGRAD_CHUNK_TILES tiles,
    and enough for at most WINOGRAD_MAX_CHUNKS chunks (each keeps a partial weight
    gradient).  Fixed by the shapes alone, never by the thread count, so the sums
    come out the same on any number of threads."""
    cdef Py_ssize_t tiles = ((s.oh + 3) // 4) * ((s.ow + 3) // 4), images = 1
    while images < n and (images * tiles < WINOGRAD_CHUNK_TILES
                          or images * WINOGRAD_MAX_CHUNKS < n):
        images *= 2
    return images


def _winograd_forward(const floating[:, :, :, ::1] x, const floating[:, :, ::1] u,
                      object b_obj, floating[:, :, :, ::1] out, Py_ssize_t f,
                      Py_ssize_t pad_top, Py_ssize_t pad_left, int code):
    cdef minidl_conv_shape s
    s.h, s.w, s.c, s.kh, s.kw, s.f = x.shape[1], x.shape[2], x.shape[3], 3, 3, f
    s.sh, s.sw, s.pt, s.pl, s.oh, s.ow = 1, 1, pad_top, pad_left, out.shape[1], out.shape[2]
    cdef Py_ssize_t chunk, first, n = x.shape[0]
    cdef Py_ssize_t per_chunk = _images_per_chunk(&s, n)
    cdef Py_ssize_t chunks = (n + per_chunk - 1) // per_chunk
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef const floating[::1] b
    cdef const floating *bias = NULL
    cdef bint parallel = chunks > 1 and n * out_image * s.c >= PARALLEL_MIN_VALUES
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, ::1] scratch = np.empty((chunks, MINIDL_WINO_SCRATCH(s.c, s.f)), dtype)
    if b_obj is not None:
        b = b_obj
        bias = &b[0]
    for chunk in prange(chunks, nogil=True, schedule="static", use_threads_if=parallel):
        first = chunk * per_chunk
        _wino_forward_of(&x[0, 0, 0, 0] + first * image, &u[0, 0, 0], bias,
                         &out[0, 0, 0, 0] + first * out_image, &s,
                         min(per_chunk, n - first), code, &scratch[chunk, 0])


def _winograd_backward(const floating[:, :, :, ::1] x, const floating[:, :, ::1] ut,
                       const floating[:, :, :, ::1] out, const floating[:, :, :, ::1] grad_out,
                       object grad_x_obj, floating[:, :, :, ::1] grad_w, object grad_b_obj,
                       Py_ssize_t pad_top, Py_ssize_t pad_left, int code):
    cdef minidl_conv_shape s = _shape_of(x.shape, grad_w.shape, out.shape, 1, 1, pad_top, pad_left)
    cdef Py_ssize_t chunk, first, part, n = x.shape[0]
    cdef Py_ssize_t per_chunk = _images_per_chunk(&s, n)
    cdef Py_ssize_t chunks = (n + per_chunk - 1) // per_chunk
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef Py_ssize_t plane = s.c * s.f, parts = 4 if plane >= 1024 else 1
    cdef bint parallel = chunks > 1 and n * out_image * s.c >= PARALLEL_MIN_VALUES
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, ::1] scratch = np.empty((chunks, MINIDL_WINO_SCRATCH(s.c, s.f)), dtype)
    # each chunk's own dL/dU and bias gradient, added in chunk order below
    cdef floating[:, :, :, ::1] du = np.empty((chunks, MINIDL_WINO_POINTS, s.c, s.f), dtype)
    cdef floating[:, ::1] partial_b
    cdef floating[:, ::1] mid = np.empty((parts, 54 * ((plane + parts - 1) // parts)), dtype)
    cdef floating[:, :, :, ::1] grad_x
    cdef floating *grad_x_at = NULL
    cdef floating *partial_b_at = NULL
    if grad_x_obj is not None:
        grad_x = grad_x_obj
        grad_x_at = &grad_x[0, 0, 0, 0]
    if grad_b_obj is not None:
        partial_b = np.empty((chunks, s.f), dtype)
        partial_b_at = &partial_b[0, 0]
    for chunk in prange(chunks, nogil=True, schedule="static", use_threads_if=parallel):
        first = chunk * per_chunk
        _wino_backward_of(
            &x[0, 0, 0, 0] + first * image, &ut[0, 0, 0], &out[0, 0, 0, 0] + first * out_image,
            &grad_out[0, 0, 0, 0] + first * out_image,
            grad_x_at + first * image if grad_x_at != NULL else NULL, &du[chunk, 0, 0, 0],
            partial_b_at + chunk * s.f if partial_b_at != NULL else NULL, &s,
            min(per_chunk, n - first), code, &scratch[chunk, 0])
    # grad_w = G^T dU G, dU the chunks' sum; each part of the (C, F) plane on its own
    for part in prange(parts, nogil=True, schedule="static", use_threads_if=parallel):
        _wino_kernel_grad_of(&du[0, 0, 0, 0], chunks, &grad_w[0, 0, 0, 0], plane,
                             part * plane // parts, (part + 1) * plane // parts, &mid[part, 0])
    if grad_b_obj is not None:
        np.sum(partial_b, axis=0, out=grad_b_obj)  # chunks added in order 0, 1, ...
