# cython: language_level=3
"""Convolution: im2col/col2im (one big matrix product), a direct kernel, Winograd.

im2col copies, for every output pixel, the kh x kw x C input values under the
kernel into one row of ``cols``; convolution is then ``cols @ kernel``
(see ``dense.pyx``).  col2im is its adjoint: it adds each row back onto the
pixels it came from, which is the gradient with respect to the input.

``conv2d_forward``/``conv2d_backward`` convolve directly, without ``cols``:
the better choice when a patch holds only a few values, as in a first layer
on grey images (3x3x1); see ``conv_direct.h``.

``conv2d_backward_sparse`` gives the same gradients by walking only the
nonzeros of dL/dz, the better choice when most of them are zero (behind a
max-pooling layer); ``gradient_nonzeros`` counts them.  See ``conv_sparse.h``.

``conv2d_winograd_forward``/``_backward`` convolve with a 3x3 kernel at stride 1
by Winograd's F(4x4, 3x3): 36 multiplications per 4x4 tile of outputs and pair
of channels instead of 144.  See ``conv_winograd.h``.

The direct, sparse and Winograd kernels are written with explicit vectors and
compiled once per instruction set (AVX-512, AVX2, SSE2; see ``isa.h``);
``vector_isa`` tells which copy runs and lets tests run the others.

All loop over images in parallel (``prange``): image n only ever reads or
writes its own rows and pixels (the direct backward keeps one partial weight
gradient per image and adds them in order; the sparse backward's second pass
gives each thread whole filters; Winograd's threads take chunks of whole images,
each with its own partial weight gradient, added in chunk order), so threads
never share a sum and the result is the same on every run and every thread
count.
"""

cimport cython
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

import contextlib

import numpy as np

from minidl._kernels.checks import (
    check_conv2d,
    check_conv2d_backward,
    check_conv2d_winograd,
    check_conv2d_winograd_backward,
    check_gradient_nonzeros,
    check_im2col,
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

cdef extern from "conv_sparse.h" nogil:
    void minidl_conv_sparse_grad_x_float(const float *wt, const float *out,
                                         const float *grad_out, float *grad_x,
                                         const minidl_conv_shape *s, int activation,
                                         float *value, int *index)
    void minidl_conv_sparse_grad_x_double(const double *wt, const double *out,
                                          const double *grad_out, double *grad_x,
                                          const minidl_conv_shape *s, int activation,
                                          double *value, int *index)
    void minidl_conv_sparse_grad_w_float(const float *x, const float *out,
                                         const float *grad_out, Py_ssize_t images,
                                         Py_ssize_t f0, Py_ssize_t nf, float *grad_wt,
                                         float *grad_b, const minidl_conv_shape *s,
                                         int activation, const int *pixel_row,
                                         const int *pixel_column, float *value, int *index)
    void minidl_conv_sparse_grad_w_double(const double *x, const double *out,
                                          const double *grad_out, Py_ssize_t images,
                                          Py_ssize_t f0, Py_ssize_t nf, double *grad_wt,
                                          double *grad_b, const minidl_conv_shape *s,
                                          int activation, const int *pixel_row,
                                          const int *pixel_column, double *value, int *index)
    Py_ssize_t minidl_count_nonzero_grad_z_float(const float *g, const float *out,
                                                 Py_ssize_t count, int activation)
    Py_ssize_t minidl_count_nonzero_grad_z_double(const double *g, const double *out,
                                                  Py_ssize_t count, int activation)
    int MINIDL_SPARSE_FILTERS

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


def im2col(x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
           Py_ssize_t pad_left, Py_ssize_t out_h, Py_ssize_t out_w, cols):
    """Unfold NHWC patches of ``x`` into the rows of ``cols``."""
    check_im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "im2col")
    if x.dtype.itemsize == 4:
        _im2col[float](x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)
    else:
        _im2col[double](x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)


cdef _im2col(const floating[:, :, :, ::1] x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
             Py_ssize_t sw, Py_ssize_t pad_top, Py_ssize_t pad_left, Py_ssize_t out_h,
             Py_ssize_t out_w, floating[:, ::1] cols):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t b, oh, ow, i, row, y
    cdef bint parallel = cols.shape[0] * cols.shape[1] >= PARALLEL_MIN_VALUES
    if n == 0 or c == 0:
        return
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        for oh in range(out_h):
            for ow in range(out_w):
                row = (b * out_h + oh) * out_w + ow
                for i in range(kh):
                    y = oh * sh - pad_top + i
                    _copy_patch_row(&x[b, 0, 0, 0], &cols[row, i * kw * c], y, ow * sw - pad_left,
                                    h, w, c, kw)


cdef inline void _copy_patch_row(const floating *image, floating *dest, Py_ssize_t y,
                                 Py_ssize_t x0, Py_ssize_t h, Py_ssize_t w, Py_ssize_t c,
                                 Py_ssize_t kw) noexcept nogil:
    """dest[j*c + k] = image[y, x0 + j, k] for j < kw: one kernel row of one patch.

    In NHWC the kw pixels side by side are one contiguous run of kw*c values,
    so the copy is a single run, with zeros where the row leaves the image.
    """
    cdef Py_ssize_t t, lo, hi, first, last
    if y < 0 or y >= h:
        for t in range(kw * c):
            dest[t] = 0
        return
    lo = 0 if x0 >= 0 else -x0               # first kernel column inside the image
    hi = kw if x0 + kw <= w else w - x0      # one past the last
    first = lo * c
    last = hi * c
    for t in range(first):
        dest[t] = 0
    image = image + (y * w + x0) * c
    for t in range(first, last):
        dest[t] = image[t]
    for t in range(last, kw * c):
        dest[t] = 0


def col2im(cols, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
           Py_ssize_t pad_left, Py_ssize_t out_h, Py_ssize_t out_w, grad_x):
    """Fold the rows of ``cols`` back onto the NHWC image ``grad_x`` (summing)."""
    check_im2col(grad_x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "col2im")
    if grad_x.dtype.itemsize == 4:
        _col2im[float](cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)
    else:
        _col2im[double](cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)


cdef _col2im(const floating[:, ::1] cols, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
             Py_ssize_t sw, Py_ssize_t pad_top, Py_ssize_t pad_left, Py_ssize_t out_h,
             Py_ssize_t out_w, floating[:, :, :, ::1] grad_x):
    cdef Py_ssize_t n = grad_x.shape[0], h = grad_x.shape[1], w = grad_x.shape[2]
    cdef Py_ssize_t c = grad_x.shape[3]
    cdef Py_ssize_t b, oh, ow, i, row, y
    cdef bint parallel = cols.shape[0] * cols.shape[1] >= PARALLEL_MIN_VALUES
    if n == 0 or c == 0:
        return
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        memset(&grad_x[b, 0, 0, 0], 0, h * w * c * sizeof(floating))
        for oh in range(out_h):
            for ow in range(out_w):
                row = (b * out_h + oh) * out_w + ow
                for i in range(kh):
                    y = oh * sh - pad_top + i
                    if 0 <= y < h:
                        _add_patch_row(&grad_x[b, 0, 0, 0], &cols[row, i * kw * c], y,
                                       ow * sw - pad_left, w, c, kw)


cdef inline void _add_patch_row(floating *image, const floating *source, Py_ssize_t y,
                                Py_ssize_t x0, Py_ssize_t w, Py_ssize_t c,
                                Py_ssize_t kw) noexcept nogil:
    """image[y, x0 + j, k] += source[j*c + k] for the kernel columns inside the image."""
    cdef Py_ssize_t t, lo, hi
    lo = 0 if x0 >= 0 else -x0
    hi = kw if x0 + kw <= w else w - x0
    image = image + (y * w + x0) * c
    for t in range(lo * c, hi * c):
        image[t] += source[t]


cdef minidl_conv_shape _shape_of(x, w, out, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
                                 Py_ssize_t pad_left):
    cdef minidl_conv_shape s
    s.h, s.w, s.c = x.shape[1], x.shape[2], x.shape[3]
    s.kh, s.kw, s.f = w.shape[0], w.shape[1], w.shape[3]
    s.sh, s.sw, s.pt, s.pl = sh, sw, pad_top, pad_left
    s.oh, s.ow = out.shape[1], out.shape[2]
    return s


def conv2d_forward(x, w, b, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
                   Py_ssize_t pad_left, out, str activation="linear"):
    """out (N, OH, OW, F) = act(conv(x, w) + b), computed directly; see conv_direct.h."""
    check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation)
    cdef minidl_conv_shape s = _shape_of(x, w, out, sh, sw, pad_top, pad_left)
    if x.dtype.itemsize == 4:
        _direct_forward[float](x, w, b, out, &s, _ACTIVATION_CODES[activation])
    else:
        _direct_forward[double](x, w, b, out, &s, _ACTIVATION_CODES[activation])


cdef _direct_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                     object b_obj, floating[:, :, :, ::1] out, minidl_conv_shape *s, int code):
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
        if floating is float:
            minidl_conv_direct_forward_float(&x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], bias,
                                             &out[0, 0, 0, 0] + i * out_image, s, code)
        else:
            minidl_conv_direct_forward_double(&x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], bias,
                                              &out[0, 0, 0, 0] + i * out_image, s, code)


def conv2d_backward(x, w, out, grad_out, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top,
                    Py_ssize_t pad_left, grad_x, grad_w, grad_b, str activation="linear"):
    """grad_x (or None), grad_w, grad_b (or None) of the direct convolution."""
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w,
                          grad_b, activation)
    cdef minidl_conv_shape s = _shape_of(x, w, out, sh, sw, pad_top, pad_left)
    n = x.shape[0]
    # one partial weight (and bias) gradient per image, summed in image order below
    partial_w = np.zeros((n, w.size), x.dtype)
    partial_b = np.zeros((n, s.f), x.dtype) if grad_b is not None else None
    if n > 0 and x.dtype.itemsize == 4:
        _direct_backward[float](x, w, out, grad_out, grad_x, partial_w, partial_b, &s,
                                _ACTIVATION_CODES[activation])
    elif n > 0:
        _direct_backward[double](x, w, out, grad_out, grad_x, partial_w, partial_b, &s,
                                 _ACTIVATION_CODES[activation])
    np.sum(partial_w, axis=0, out=grad_w.reshape(-1))  # images added in order 0, 1, ...
    if grad_b is not None:
        np.sum(partial_b, axis=0, out=grad_b)


cdef _direct_backward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                      const floating[:, :, :, ::1] out, const floating[:, :, :, ::1] grad_out,
                      object grad_x_obj, floating[:, ::1] partial_w, object partial_b_obj,
                      minidl_conv_shape *s, int code):
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
        if floating is float:
            minidl_conv_direct_backward_float(
                &x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], &out[0, 0, 0, 0] + i * out_image,
                &grad_out[0, 0, 0, 0] + i * out_image,
                grad_x_at + i * image if grad_x_at != NULL else NULL,
                partial_w_at + i * weights if partial_w_at != NULL else NULL,
                partial_b_at + i * s.f if partial_b_at != NULL else NULL, s, code)
        else:
            minidl_conv_direct_backward_double(
                &x[0, 0, 0, 0] + i * image, &w[0, 0, 0, 0], &out[0, 0, 0, 0] + i * out_image,
                &grad_out[0, 0, 0, 0] + i * out_image,
                grad_x_at + i * image if grad_x_at != NULL else NULL,
                partial_w_at + i * weights if partial_w_at != NULL else NULL,
                partial_b_at + i * s.f if partial_b_at != NULL else NULL, s, code)


def gradient_nonzeros(out, grad_out, str activation="linear"):
    """How many values of dL/dz = grad_out * act'(out) are nonzero (NaN counts)."""
    check_gradient_nonzeros(out, grad_out, activation)
    if out.dtype.itemsize == 4:
        return _count_nonzero_grad_z[float](out.reshape(-1), grad_out.reshape(-1),
                                            _ACTIVATION_CODES[activation])
    return _count_nonzero_grad_z[double](out.reshape(-1), grad_out.reshape(-1),
                                         _ACTIVATION_CODES[activation])


cdef Py_ssize_t _count_nonzero_grad_z(const floating[::1] out, const floating[::1] grad_out,
                                      int code):
    cdef Py_ssize_t size = out.shape[0], chunk = 1 << 16, part, lo
    cdef Py_ssize_t parts = (size + chunk - 1) // chunk, total = 0
    for part in prange(parts, nogil=True, schedule="static", use_threads_if=parts > 1):
        lo = part * chunk
        if floating is float:
            total += minidl_count_nonzero_grad_z_float(&grad_out[lo], &out[lo],
                                                       min(chunk, size - lo), code)
        else:
            total += minidl_count_nonzero_grad_z_double(&grad_out[lo], &out[lo],
                                                        min(chunk, size - lo), code)
    return total


def conv2d_backward_sparse(x, w, out, grad_out, Py_ssize_t sh, Py_ssize_t sw,
                           Py_ssize_t pad_top, Py_ssize_t pad_left, grad_x, grad_w, grad_b,
                           str activation="linear"):
    """The gradients of a convolution (as ``conv2d_backward``), walking only the
    nonzeros of dL/dz; see conv_sparse.h."""
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w,
                          grad_b, activation, "conv2d_backward_sparse")
    # nothing to walk, or an image, output image or kernel too big for the lists' C int
    # offsets (conv_sparse.h):
    # the direct kernel copes
    if x.size == 0 or w.size == 0 or out.size == 0 or max(x[0].size, w.size, out[0].size) >= 2**31:
        conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                        activation)
        return
    cdef minidl_conv_shape s = _shape_of(x, w, out, sh, sw, pad_top, pad_left)
    # (F, kh, kw, C): a filter's taps side by side, starting on a cache line
    patch = s.kh * s.kw * s.c
    wt = _aligned_empty((s.f, s.kh, s.kw, s.c), x.dtype)
    _transpose_into(w.reshape(patch, s.f), wt.reshape(s.f, patch))
    grad_wt = _aligned_empty(wt.shape, x.dtype)
    if x.ctypes.data % 64 and s.c * x.dtype.itemsize % 64 == 0:
        # rows of windows would start mid-line; a copy that starts on a line costs
        # less than the loads that straddle two lines (the second pass reads x often)
        x = _aligned_copy(x)
    if x.dtype.itemsize == 4:
        _sparse_backward[float](x, wt, out, grad_out, grad_x, grad_wt, grad_b, &s,
                                _ACTIVATION_CODES[activation])
    else:
        _sparse_backward[double](x, wt, out, grad_out, grad_x, grad_wt, grad_b, &s,
                                 _ACTIVATION_CODES[activation])
    _transpose_into(grad_wt.reshape(s.f, patch), grad_w.reshape(patch, s.f))


def _transpose_into(src, dst):
    """dst (cols, rows) = src (rows, cols) transposed (transpose.h)."""
    if src.dtype.itemsize == 4:
        _transpose_blocks[float](src, dst, src.shape[0])
    else:
        _transpose_blocks[double](src, dst, src.shape[0])


cdef _transpose_blocks(const floating[:, ::1] src, floating[:, ::1] dst, Py_ssize_t rows):
    """dst's blocks (cols, rows) = src's blocks (rows, cols) transposed, one after
    another: src holds matrices of ``rows`` rows stacked, dst their transposes."""
    cdef Py_ssize_t block, cols = src.shape[1]
    if rows == 0 or cols == 0:
        return
    for block in range(src.shape[0] // rows):
        if floating is float:
            minidl_transpose_float(&src[block * rows, 0], rows, cols, &dst[block * cols, 0])
        else:
            minidl_transpose_double(&src[block * rows, 0], rows, cols, &dst[block * cols, 0])


def _aligned_empty(shape, dtype, int alignment=64):
    """np.empty whose data starts on an ``alignment``-byte boundary (a cache line): a
    vector load that straddles two lines costs two."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buffer = np.empty(size + alignment // dtype.itemsize, dtype)
    skip = (-buffer.ctypes.data % alignment) // dtype.itemsize
    return buffer[skip:skip + size].reshape(shape)


def _aligned_copy(a):
    copy = _aligned_empty(a.shape, a.dtype)
    copy[...] = a
    return copy


cdef _sparse_backward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] wt,
                      const floating[:, :, :, ::1] out, const floating[:, :, :, ::1] grad_out,
                      object grad_x_obj, floating[:, :, :, ::1] grad_wt, object grad_b_obj,
                      minidl_conv_shape *s, int code):
    cdef Py_ssize_t i, block, n = x.shape[0], f = s.f
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef Py_ssize_t pixels = s.oh * s.ow
    cdef Py_ssize_t blocks = (f + MINIDL_SPARSE_FILTERS - 1) // MINIDL_SPARSE_FILTERS
    cdef floating[:, :, :, ::1] grad_x
    cdef floating[::1] grad_b
    cdef floating *grad_b_at = NULL
    cdef bint parallel = n * out_image >= PARALLEL_MIN_VALUES // 4
    dtype = np.float32 if floating is float else np.float64
    # scratch: the nonzeros a thread is walking (one row per image, per block of filters)
    cdef floating[:, ::1] x_values = np.empty((n, f), dtype)
    cdef int[:, ::1] x_index = np.empty((n, f), np.intc)
    cdef floating[:, ::1] w_values = np.empty((blocks, MINIDL_SPARSE_FILTERS * pixels), dtype)
    cdef int[:, ::1] w_index = np.empty((blocks, MINIDL_SPARSE_FILTERS * pixels), np.intc)
    cdef int[::1] pixel_row = np.arange(pixels, dtype=np.intc) // max(s.ow, 1)
    cdef int[::1] pixel_column = np.arange(pixels, dtype=np.intc) % max(s.ow, 1)
    if grad_b_obj is not None:
        grad_b = grad_b_obj
        grad_b_at = &grad_b[0]
    if grad_x_obj is not None:
        grad_x = grad_x_obj
        for i in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
            if floating is float:
                minidl_conv_sparse_grad_x_float(
                    &wt[0, 0, 0, 0], &out[0, 0, 0, 0] + i * out_image,
                    &grad_out[0, 0, 0, 0] + i * out_image, &grad_x[0, 0, 0, 0] + i * image, s,
                    code, &x_values[i, 0], &x_index[i, 0])
            else:
                minidl_conv_sparse_grad_x_double(
                    &wt[0, 0, 0, 0], &out[0, 0, 0, 0] + i * out_image,
                    &grad_out[0, 0, 0, 0] + i * out_image, &grad_x[0, 0, 0, 0] + i * image, s,
                    code, &x_values[i, 0], &x_index[i, 0])
    for block in prange(blocks, nogil=True, schedule="static", use_threads_if=parallel):
        if floating is float:
            minidl_conv_sparse_grad_w_float(
                &x[0, 0, 0, 0], &out[0, 0, 0, 0], &grad_out[0, 0, 0, 0], n,
                block * MINIDL_SPARSE_FILTERS,
                min(MINIDL_SPARSE_FILTERS, f - block * MINIDL_SPARSE_FILTERS),
                &grad_wt[0, 0, 0, 0], grad_b_at, s, code, &pixel_row[0], &pixel_column[0],
                &w_values[block, 0], &w_index[block, 0])
        else:
            minidl_conv_sparse_grad_w_double(
                &x[0, 0, 0, 0], &out[0, 0, 0, 0], &grad_out[0, 0, 0, 0], n,
                block * MINIDL_SPARSE_FILTERS,
                min(MINIDL_SPARSE_FILTERS, f - block * MINIDL_SPARSE_FILTERS),
                &grad_wt[0, 0, 0, 0], grad_b_at, s, code, &pixel_row[0], &pixel_column[0],
                &w_values[block, 0], &w_index[block, 0])


# A chunk (the work one thread takes at a time) holds at least this many tiles, and a
# call makes at most this many chunks.
WINOGRAD_CHUNK_TILES = 64
WINOGRAD_MAX_CHUNKS = 16


def conv2d_winograd_forward(x, w, b, Py_ssize_t pad_top, Py_ssize_t pad_left, out,
                            str activation="linear"):
    """out = act(conv(x, w) + b) for a 3x3 kernel at stride 1, by Winograd's F(4x4, 3x3):
    4x fewer multiplications than the direct sum; see conv_winograd.h."""
    check_conv2d_winograd(x, w, b, pad_top, pad_left, out, activation)
    if x.size == 0 or out.size == 0:
        # nothing to transform (no channels: the output is act(b)); the direct kernel copes
        conv2d_forward(x, w, b, 1, 1, pad_top, pad_left, out, activation)
        return
    cdef minidl_conv_shape s = _shape_of(x, w, out, 1, 1, pad_top, pad_left)
    u = _winograd_kernel(w)
    if x.dtype.itemsize == 4:
        _winograd_forward[float](x, u, b, out, &s, _ACTIVATION_CODES[activation])
    else:
        _winograd_forward[double](x, u, b, out, &s, _ACTIVATION_CODES[activation])


def conv2d_winograd_backward(x, w, out, grad_out, Py_ssize_t pad_top, Py_ssize_t pad_left,
                             grad_x, grad_w, grad_b, str activation="linear"):
    """The gradients of ``conv2d_winograd_forward`` (grad_x and grad_b may be None), by the
    same transforms transposed; see conv_winograd.h."""
    check_conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w,
                                   grad_b, activation)
    if x.size == 0 or out.size == 0:
        conv2d_backward(x, w, out, grad_out, 1, 1, pad_top, pad_left, grad_x, grad_w, grad_b,
                        activation)
        return
    cdef minidl_conv_shape s = _shape_of(x, w, out, 1, 1, pad_top, pad_left)
    u = _winograd_kernel(w)
    # U[xi] transposed, (F, C): dL/dV = W @ U^T reads its rows
    ut = np.empty((MINIDL_WINO_POINTS, s.f, s.c), x.dtype)
    if x.dtype.itemsize == 4:
        _transpose_blocks[float](u.reshape(-1, s.f), ut.reshape(-1, s.c), s.c)
        _winograd_backward[float](x, ut, out, grad_out, grad_x, grad_w, grad_b, &s,
                                  _ACTIVATION_CODES[activation])
    else:
        _transpose_blocks[double](u.reshape(-1, s.f), ut.reshape(-1, s.c), s.c)
        _winograd_backward[double](x, ut, out, grad_out, grad_x, grad_w, grad_b, &s,
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


def _winograd_kernel(w):
    """U = G w G^T: the (3, 3, C, F) kernel at the 36 points, (36, C, F)."""
    c, f = w.shape[2], w.shape[3]
    u = np.empty((MINIDL_WINO_POINTS, c, f), w.dtype)
    parts = 4 if c * f >= 4096 else 1
    mid = np.empty((parts, 18 * ((c * f + parts - 1) // parts)), w.dtype)
    if w.dtype.itemsize == 4:
        _transform_kernel[float](w.reshape(-1), u.reshape(-1), mid, c * f)
    else:
        _transform_kernel[double](w.reshape(-1), u.reshape(-1), mid, c * f)
    return u


cdef _transform_kernel(const floating[::1] w, floating[::1] u, floating[:, ::1] mid,
                       Py_ssize_t plane):
    """Each part of the (C, F) plane on its own thread."""
    cdef Py_ssize_t part, parts = mid.shape[0]
    for part in prange(parts, nogil=True, schedule="static", use_threads_if=parts > 1):
        if floating is float:
            minidl_wino_kernel_float(&w[0], &u[0], plane, part * plane // parts,
                                     (part + 1) * plane // parts, &mid[part, 0])
        else:
            minidl_wino_kernel_double(&w[0], &u[0], plane, part * plane // parts,
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


cdef _winograd_forward(const floating[:, :, :, ::1] x, const floating[:, :, ::1] u,
                       object b_obj, floating[:, :, :, ::1] out, minidl_conv_shape *s,
                       int code):
    cdef Py_ssize_t chunk, first, n = x.shape[0]
    cdef Py_ssize_t per_chunk = _images_per_chunk(s, n)
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
        if floating is float:
            minidl_wino_forward_float(&x[0, 0, 0, 0] + first * image, &u[0, 0, 0], bias,
                                      &out[0, 0, 0, 0] + first * out_image, s,
                                      min(per_chunk, n - first), code, &scratch[chunk, 0])
        else:
            minidl_wino_forward_double(&x[0, 0, 0, 0] + first * image, &u[0, 0, 0], bias,
                                       &out[0, 0, 0, 0] + first * out_image, s,
                                       min(per_chunk, n - first), code, &scratch[chunk, 0])


cdef _winograd_backward(const floating[:, :, :, ::1] x, const floating[:, :, ::1] ut,
                        const floating[:, :, :, ::1] out, const floating[:, :, :, ::1] grad_out,
                        object grad_x_obj, floating[:, :, :, ::1] grad_w, object grad_b_obj,
                        minidl_conv_shape *s, int code):
    cdef Py_ssize_t chunk, first, part, n = x.shape[0]
    cdef Py_ssize_t per_chunk = _images_per_chunk(s, n)
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
        if floating is float:
            minidl_wino_backward_float(
                &x[0, 0, 0, 0] + first * image, &ut[0, 0, 0], &out[0, 0, 0, 0] + first * out_image,
                &grad_out[0, 0, 0, 0] + first * out_image,
                grad_x_at + first * image if grad_x_at != NULL else NULL, &du[chunk, 0, 0, 0],
                partial_b_at + chunk * s.f if partial_b_at != NULL else NULL, s,
                min(per_chunk, n - first), code, &scratch[chunk, 0])
        else:
            minidl_wino_backward_double(
                &x[0, 0, 0, 0] + first * image, &ut[0, 0, 0], &out[0, 0, 0, 0] + first * out_image,
                &grad_out[0, 0, 0, 0] + first * out_image,
                grad_x_at + first * image if grad_x_at != NULL else NULL, &du[chunk, 0, 0, 0],
                partial_b_at + chunk * s.f if partial_b_at != NULL else NULL, s,
                min(per_chunk, n - first), code, &scratch[chunk, 0])
    # grad_w = G^T dU G, dU the chunks' sum; each part of the (C, F) plane on its own
    for part in prange(parts, nogil=True, schedule="static", use_threads_if=parallel):
        if floating is float:
            minidl_wino_kernel_grad_float(&du[0, 0, 0, 0], chunks, &grad_w[0, 0, 0, 0], plane,
                                          part * plane // parts, (part + 1) * plane // parts,
                                          &mid[part, 0])
        else:
            minidl_wino_kernel_grad_double(&du[0, 0, 0, 0], chunks, &grad_w[0, 0, 0, 0], plane,
                                           part * plane // parts, (part + 1) * plane // parts,
                                           &mid[part, 0])
    if grad_b_obj is not None:
        np.sum(partial_b, axis=0, out=grad_b_obj)  # chunks added in order 0, 1, ...
