# cython: language_level=3
"""Max and average pooling over NHWC images.

Max pooling keeps, for every window and channel, the largest input, and
records where it was (``argmax``: the flat index (h * W + w) * C + c within
the image).  Its backward needs nothing else: each output's gradient goes to
that one input.  Average pooling divides by the number of real pixels in the
window (padding is not counted, as in TensorFlow), and its backward shares
each gradient equally among them.

Loops run over images in parallel; each image writes only its own outputs.
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memset

from minidl._kernels.checks import check_argmax_range, check_pool, check_pool_backward

PARALLEL_MIN_VALUES = 1 << 17


def max_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out, argmax):
    """out = max over each window; argmax = where the max was."""
    check_pool(x, ph, pw, sh, sw, pad_top, pad_left, out, argmax)
    if x.dtype.itemsize == 4:
        _max_forward[float](x, ph, pw, sh, sw, pad_top, pad_left, out, argmax)
    else:
        _max_forward[double](x, ph, pw, sh, sw, pad_top, pad_left, out, argmax)


cdef _max_forward(const floating[:, :, :, ::1] x, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t sh,
                  Py_ssize_t sw, Py_ssize_t pad_top, Py_ssize_t pad_left,
                  floating[:, :, :, ::1] out, int64_t[:, :, :, ::1] argmax):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t out_h = out.shape[1], out_w = out.shape[2]
    cdef Py_ssize_t b, oh, ow, y_lo, y_hi, x_lo, x_hi
    cdef bint parallel = x.shape[0] * h * w * c >= PARALLEL_MIN_VALUES
    if n == 0 or c == 0:
        return
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        for oh in range(out_h):
            y_lo = oh * sh - pad_top
            y_hi = y_lo + ph
            for ow in range(out_w):
                x_lo = ow * sw - pad_left
                x_hi = x_lo + pw
                _max_window(&x[b, 0, 0, 0], &out[b, oh, ow, 0], &argmax[b, oh, ow, 0],
                            y_lo if y_lo > 0 else 0, y_hi if y_hi < h else h,
                            x_lo if x_lo > 0 else 0, x_hi if x_hi < w else w, w, c)


cdef extern from "max_window.h" nogil:
    # out[k], where[k] = max and argmax of image[y_lo:y_hi, x_lo:x_hi, k]; see the header
    void minidl_max_window_float(const float *image, float *out, int64_t *where,
                                 Py_ssize_t y_lo, Py_ssize_t y_hi, Py_ssize_t x_lo,
                                 Py_ssize_t x_hi, Py_ssize_t w, Py_ssize_t c)
    void minidl_max_window_double(const double *image, double *out, int64_t *where,
                                  Py_ssize_t y_lo, Py_ssize_t y_hi, Py_ssize_t x_lo,
                                  Py_ssize_t x_hi, Py_ssize_t w, Py_ssize_t c)
    void minidl_max_window_float_narrow(const float *image, float *out, int64_t *where,
                                        Py_ssize_t y_lo, Py_ssize_t y_hi, Py_ssize_t x_lo,
                                        Py_ssize_t x_hi, Py_ssize_t w, Py_ssize_t c)
    void minidl_max_window_double_narrow(const double *image, double *out, int64_t *where,
                                         Py_ssize_t y_lo, Py_ssize_t y_hi, Py_ssize_t x_lo,
                                         Py_ssize_t x_hi, Py_ssize_t w, Py_ssize_t c)
    # how many of where[0:n] lie outside [0, size)
    Py_ssize_t minidl_count_outside(const int64_t *where, Py_ssize_t n, int64_t size)


cdef inline void _max_window(const floating *image, floating *out, int64_t *where,
                             Py_ssize_t y_lo, Py_ssize_t y_hi, Py_ssize_t x_lo, Py_ssize_t x_hi,
                             Py_ssize_t w, Py_ssize_t c) noexcept nogil:
    if floating is float:
        if c >= 8:
            minidl_max_window_float(image, out, where, y_lo, y_hi, x_lo, x_hi, w, c)
        else:
            minidl_max_window_float_narrow(image, out, where, y_lo, y_hi, x_lo, x_hi, w, c)
    else:
        if c >= 8:
            minidl_max_window_double(image, out, where, y_lo, y_hi, x_lo, x_hi, w, c)
        else:
            minidl_max_window_double_narrow(image, out, where, y_lo, y_hi, x_lo, x_hi, w, c)


def max_pool2d_backward(grad_out, argmax, grad_x):
    """grad_x = 0, then each grad_out value added at its argmax.  Every index is checked
    before anything is written: a refused call leaves grad_x as it was."""
    check_pool_backward(grad_out, argmax, grad_x)
    cdef Py_ssize_t size = grad_x.shape[1] * grad_x.shape[2] * grad_x.shape[3]
    if _count_outside(argmax, size):
        check_argmax_range(argmax, size)  # raises, naming the kernel, as the reference does
    if grad_x.dtype.itemsize == 4:
        _max_backward[float](grad_out, argmax, grad_x)
    else:
        _max_backward[double](grad_out, argmax, grad_x)


cdef Py_ssize_t _count_outside(const int64_t[:, :, :, ::1] argmax, Py_ssize_t size):
    """How many indices lie outside [0, size): one pass over argmax, image by image in
    parallel (``minidl_count_outside`` in max_window.h), so that a bad index is found
    before grad_x is touched."""
    cdef Py_ssize_t n = argmax.shape[0]
    cdef Py_ssize_t per_image = argmax.shape[1] * argmax.shape[2] * argmax.shape[3]
    cdef Py_ssize_t b, bad = 0
    cdef bint parallel = n * per_image >= PARALLEL_MIN_VALUES
    if n == 0 or per_image == 0:
        return 0
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        bad += minidl_count_outside(&argmax[b, 0, 0, 0], per_image, size)
    return bad


cdef void _max_backward(const floating[:, :, :, ::1] grad_out,
                        const int64_t[:, :, :, ::1] argmax,
                        floating[:, :, :, ::1] grad_x):
    cdef Py_ssize_t n = grad_x.shape[0]
    cdef Py_ssize_t size = grad_x.shape[1] * grad_x.shape[2] * grad_x.shape[3]
    cdef Py_ssize_t per_image = grad_out.shape[1] * grad_out.shape[2] * grad_out.shape[3]
    cdef Py_ssize_t b, t, index
    cdef floating *image
    cdef const floating *grads
    cdef const int64_t *where
    cdef bint parallel = n * size >= PARALLEL_MIN_VALUES
    if n == 0 or size == 0:
        return
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        image = &grad_x[b, 0, 0, 0]
        memset(image, 0, size * sizeof(floating))
        if per_image == 0:
            continue
        grads = &grad_out[b, 0, 0, 0]
        where = &argmax[b, 0, 0, 0]
        for t in range(per_image):
            index = where[t]
            if 0 <= index < size:  # (checked already; kept so no index can write outside)
                image[index] = image[index] + grads[t]


def avg_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out):
    """out = mean of the real pixels in each window."""
    check_pool(x, ph, pw, sh, sw, pad_top, pad_left, out, None)
    if x.dtype.itemsize == 4:
        _avg[float](x, out, ph, pw, sh, sw, pad_top, pad_left, False)
    else:
        _avg[double](x, out, ph, pw, sh, sw, pad_top, pad_left, False)


def avg_pool2d_backward(grad_out, ph, pw, sh, sw, pad_top, pad_left, grad_x):
    """grad_x: each window's gradient shared equally among its real pixels."""
    check_pool(grad_x, ph, pw, sh, sw, pad_top, pad_left, grad_out, None, backward=True)
    if grad_x.dtype.itemsize == 4:
        _avg[float](grad_out, grad_x, ph, pw, sh, sw, pad_top, pad_left, True)
    else:
        _avg[double](grad_out, grad_x, ph, pw, sh, sw, pad_top, pad_left, True)


cdef _avg(const floating[:, :, :, ::1] source, floating[:, :, :, ::1] dest, Py_ssize_t ph,
          Py_ssize_t pw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pad_top, Py_ssize_t pad_left,
          bint backward):
    """Forward: dest (pooled) = window means of source (the image).
    Backward: dest (the image's gradient) = spread of source (the pooled gradient)."""
    cdef Py_ssize_t n = source.shape[0], h, w, c = source.shape[3]
    cdef Py_ssize_t out_h, out_w
    cdef Py_ssize_t b, oh, ow, k, y, xx, y_lo, y_hi, x_lo, x_hi
    cdef floating scale
    cdef bint parallel
    if backward:
        h, w, out_h, out_w = dest.shape[1], dest.shape[2], source.shape[1], source.shape[2]
    else:
        h, w, out_h, out_w = source.shape[1], source.shape[2], dest.shape[1], dest.shape[2]
    parallel = n * h * w * c >= PARALLEL_MIN_VALUES
    if n == 0 or c == 0:
        return
    for b in prange(n, nogil=True, schedule="static", use_threads_if=parallel):
        if backward:
            memset(&dest[b, 0, 0, 0], 0, h * w * c * sizeof(floating))
        for oh in range(out_h):
            y_lo = oh * sh - pad_top
            y_hi = y_lo + ph
            if y_lo < 0:
                y_lo = 0
            if y_hi > h:
                y_hi = h
            for ow in range(out_w):
                x_lo = ow * sw - pad_left
                x_hi = x_lo + pw
                if x_lo < 0:
                    x_lo = 0
                if x_hi > w:
                    x_hi = w
                scale = 1.0 / ((y_hi - y_lo) * (x_hi - x_lo))
                if not backward:
                    for k in range(c):
                        dest[b, oh, ow, k] = 0
                for y in range(y_lo, y_hi):
                    for xx in range(x_lo, x_hi):
                        for k in range(c):
                            if backward:
                                dest[b, y, xx, k] += source[b, oh, ow, k] * scale
                            else:
                                dest[b, oh, ow, k] += source[b, y, xx, k]
                if not backward:
                    for k in range(c):
                        dest[b, oh, ow, k] = dest[b, oh, ow, k] * scale
