# cython: language_level=3
"""im2col and col2im: convolution as one big matrix product.

A convolution's output pixel (n, oh, ow) is a dense layer applied to the
kh x kw x C patch of input pixels under the kernel.  im2col copies each patch
into one row of a matrix ``cols`` (N*OH*OW, kh*kw*C), in (i, j, c) order --
the order of an HWIO kernel reshaped to (kh*kw*C, F) -- so that

    conv(x, w) = cols @ w.reshape(kh*kw*C, F)          (N*OH*OW, F)

one product, which BLAS runs near the machine's peak (``dense.pyx``, bias and
activation fused).  Row (n, oh, ow), kernel row i reads input row
oh*sh - pad_top + i, columns ow*sw - pad_left + j for j < kw; pixels in the
padding are 0.  col2im is the adjoint: it adds each row of dL/dcols back onto
the pixels it was copied from, which gives dL/dx.  ``_kernels/conv_plan.py``
says when the kernels convolve this way; ``reference.py`` has the NumPy twins.

Both loop over images in parallel (``prange``): image n only reads and writes
its own rows of ``cols`` and its own pixels, so threads never share a sum and
the result is the same on every thread count.  float32 and float64 share one
source (Cython's fused type ``floating``).
"""

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset

from minidl._kernels.checks import check_im2col

# Parallel loops pay for waking threads only when there is enough work.
PARALLEL_MIN_VALUES = 1 << 18


def im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols):
    """Unfold NHWC patches of ``x`` into the rows of ``cols``."""
    check_im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "im2col")
    _im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)


def _im2col(const floating[:, :, :, ::1] x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
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


def col2im(cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x):
    """Fold the rows of ``cols`` back onto the NHWC image ``grad_x`` (summing)."""
    check_im2col(grad_x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "col2im")
    _col2im(cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)


def _col2im(const floating[:, ::1] cols, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
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
