# cython: language_level=3
"""Convolution: im2col/col2im (one big matrix product) and a direct kernel.

im2col copies, for every output pixel, the kh x kw x C input values under the
kernel into one row of ``cols``; convolution is then ``cols @ kernel``
(see ``dense.pyx``).  col2im is its adjoint: it adds each row back onto the
pixels it came from, which is the gradient with respect to the input.

``conv2d_forward``/``conv2d_backward`` convolve directly, without ``cols``:
the better choice when a patch holds only a few values, as in a first layer
on grey images (3x3x1); see ``conv_direct.h``.

All loop over images in parallel (``prange``): image n only ever reads or
writes its own rows and pixels (the direct backward keeps one partial weight
gradient per image and adds them in order), so threads never share a sum and
the result is the same on every run.
"""

cimport cython
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

import numpy as np

from minidl._kernels.checks import check_conv2d, check_conv2d_backward, check_im2col

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

_ACTIVATION_CODES = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3}  # as in dense.pyx

# Parallel loops pay for waking threads only when there is enough work.
PARALLEL_MIN_VALUES = 1 << 18


def im2col(x, int kh, int kw, int sh, int sw, int pad_top, int pad_left,
           int out_h, int out_w, cols):
    """Unfold NHWC patches of ``x`` into the rows of ``cols``."""
    check_im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "im2col")
    if x.dtype.itemsize == 4:
        _im2col[float](x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)
    else:
        _im2col[double](x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)


cdef _im2col(floating[:, :, :, ::1] x, int kh, int kw, int sh, int sw, int pad_top,
             int pad_left, int out_h, int out_w, floating[:, ::1] cols):
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


cdef inline void _copy_patch_row(floating *image, floating *dest, Py_ssize_t y, Py_ssize_t x0,
                                 Py_ssize_t h, Py_ssize_t w, Py_ssize_t c,
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


def col2im(cols, int kh, int kw, int sh, int sw, int pad_top, int pad_left,
           int out_h, int out_w, grad_x):
    """Fold the rows of ``cols`` back onto the NHWC image ``grad_x`` (summing)."""
    check_im2col(grad_x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "col2im")
    if grad_x.dtype.itemsize == 4:
        _col2im[float](cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)
    else:
        _col2im[double](cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)


cdef _col2im(floating[:, ::1] cols, int kh, int kw, int sh, int sw, int pad_top,
             int pad_left, int out_h, int out_w, floating[:, :, :, ::1] grad_x):
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


cdef inline void _add_patch_row(floating *image, floating *source, Py_ssize_t y, Py_ssize_t x0,
                                Py_ssize_t w, Py_ssize_t c, Py_ssize_t kw) noexcept nogil:
    """image[y, x0 + j, k] += source[j*c + k] for the kernel columns inside the image."""
    cdef Py_ssize_t t, lo, hi
    lo = 0 if x0 >= 0 else -x0
    hi = kw if x0 + kw <= w else w - x0
    image = image + (y * w + x0) * c
    for t in range(lo * c, hi * c):
        image[t] += source[t]


cdef minidl_conv_shape _shape_of(x, w, out, int sh, int sw, int pad_top, int pad_left):
    cdef minidl_conv_shape s
    s.h, s.w, s.c = x.shape[1], x.shape[2], x.shape[3]
    s.kh, s.kw, s.f = w.shape[0], w.shape[1], w.shape[3]
    s.sh, s.sw, s.pt, s.pl = sh, sw, pad_top, pad_left
    s.oh, s.ow = out.shape[1], out.shape[2]
    return s


def conv2d_forward(x, w, b, int sh, int sw, int pad_top, int pad_left, out,
                   str activation="linear"):
    """out (N, OH, OW, F) = act(conv(x, w) + b), computed directly; see conv_direct.h."""
    check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation)
    cdef minidl_conv_shape s = _shape_of(x, w, out, sh, sw, pad_top, pad_left)
    if x.dtype.itemsize == 4:
        _direct_forward[float](x, w, b, out, &s, _ACTIVATION_CODES[activation])
    else:
        _direct_forward[double](x, w, b, out, &s, _ACTIVATION_CODES[activation])


cdef _direct_forward(floating[:, :, :, ::1] x, floating[:, :, :, ::1] w, object b_obj,
                     floating[:, :, :, ::1] out, minidl_conv_shape *s, int code):
    cdef Py_ssize_t i, n = x.shape[0]
    cdef Py_ssize_t image = s.h * s.w * s.c, out_image = s.oh * s.ow * s.f
    cdef floating[::1] b
    cdef floating *bias = NULL
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


def conv2d_backward(x, w, out, grad_out, int sh, int sw, int pad_top, int pad_left,
                    grad_x, grad_w, grad_b, str activation="linear"):
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


cdef _direct_backward(floating[:, :, :, ::1] x, floating[:, :, :, ::1] w,
                      floating[:, :, :, ::1] out, floating[:, :, :, ::1] grad_out,
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
