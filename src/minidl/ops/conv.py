"""``conv2d``: 2-D convolution of NHWC images with an HWIO kernel (Keras layout).

The idea (im2col): copy every kh x kw x C patch the kernel visits into one
row of a matrix ``cols`` of shape (N*OH*OW, kh*kw*C).  The kernel, reshaped
to (kh*kw*C, F), then turns convolution into a single matrix product --
exactly a ``dense`` op, bias and activation fused:

    out (N*OH*OW, F) = act(cols @ w.reshape(kh*kw*C, F) + b)

Backward is the dense backward (giving dL/dcols, dL/dw, dL/db) followed by
col2im, which adds each row of dL/dcols back to the pixels it was copied
from.  Output sizes and padding follow Keras (see ``_geometry``).

When a patch holds few values (kh*kw*C <= DIRECT_MAX_PATCH, such as a first
layer's 3x3x1 on grey images), a product with so small an inner size wastes
BLAS, and im2col writes kh*kw copies of every pixel.  Those convolutions run
through the direct kernels (``conv2d_forward``/``conv2d_backward``) instead:
same math, no ``cols``.

A 3x3 kernel at stride 1 with at least WINOGRAD_MIN_CHANNELS channels and
filters -- the tutorials' second convolution -- runs with the compiled kernels
through Winograd's F(4x4, 3x3) (``conv2d_winograd_forward`` and ``_backward``):
each 4x4 tile of the output from its 6x6 input patch with 36 multiplications
per pair of channels instead of 144 (see ``_kernels/conv_winograd.h``).  The
NumPy twins keep im2col: there a product is the fastest way.

For the rest of im2col's convolutions: behind a max-pooling layer most of
dL/dz = dL/dout * act'(out) is zero (a pooling window passes its gradient to
one pixel only, and relu zeroes it where the output was 0).  When at most
SPARSE_MAX_FRACTION of it is nonzero, the backward walks the nonzeros
(``conv2d_backward_sparse``) instead of multiplying the zeros too.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record
from minidl.ops._geometry import check_padding, pair, window_geometry
from minidl.ops.arithmetic import as_tensor
from minidl.ops.dense import check_activation

# patches of at most this many values (kh * kw * in_channels) are convolved directly
DIRECT_MAX_PATCH = 32
# the backward walks the nonzeros of dL/dz when at most this fraction of them is
# nonzero (bench/sparse_crossover.py: the walk wins below about 40%, by 1.9x at
# the 15-17% the tutorial CNN's second convolution sees)
SPARSE_MAX_FRACTION = 0.25
# 3x3 kernels at stride 1 with at least this many input channels and filters go through
# Winograd's F(4x4, 3x3) when the kernels have a fast one (bench/winograd_crossover.py, on
# AVX-512: with 16 it wins by 2.6x on 13x13 images and 4.5x on 26x26; with 8, too few for
# its products, it takes 1.5-1.7x as long as im2col)
WINOGRAD_MIN_CHANNELS = 16


def conv2d(x, w, b=None, strides=(1, 1), padding="valid", activation="linear"):
    """act(conv(x, w) + b).

    Shapes: x (N, H, W, C), w (kh, kw, C, F), b (F,) or None; the result is
    (N, OH, OW, F) with OH, OW as Keras computes them for ``padding``
    ("valid" or "same") and ``strides`` (an int or a (sh, sw) pair).
    The computation runs in w's dtype.
    """
    w = as_tensor(w)
    x = as_tensor(x, w)
    b = None if b is None else as_tensor(b, w)
    strides = pair(strides, "strides", "conv2d")
    padding = check_padding(padding, "conv2d")
    check_activation(activation, "conv2d")
    if x.ndim != 4:
        raise ValueError(
            f"conv2d: input must be 4-D (batch, height, width, channels), received shape {x.shape}."
        )
    if w.ndim != 4:
        raise ValueError(
            f"conv2d: kernel must be 4-D (height, width, in_channels, filters), received {w.shape}."
        )
    n, h, width, c = x.shape
    kh, kw, kc, f = w.shape
    if kc != c:
        raise ValueError(
            f"conv2d: input has {c} channels (shape {x.shape}) but the kernel {w.shape} expects {kc}."
        )
    if b is not None and b.shape != (f,):
        raise ValueError(f"conv2d: bias must have shape ({f},), received {b.shape}.")
    out_h, out_w, pad_top, pad_left = window_geometry((h, width), (kh, kw), strides, padding, "conv2d")
    sh, sw = strides
    geometry = (kh, kw, sh, sw, pad_top, pad_left, out_h, out_w)

    kernels = _kernels.current
    dtype = w.dtype
    x_data = np.ascontiguousarray(x.data, dtype=dtype)
    b_data = None if b is None else np.ascontiguousarray(b.data, dtype=dtype)
    if kh * kw * c <= DIRECT_MAX_PATCH:
        return _conv2d_whole_images("direct", x, w, b, x_data, b_data,
                                    (*strides, pad_top, pad_left), (out_h, out_w), activation)
    if winograd_pays(kernels, w.shape, strides):
        return _conv2d_whole_images("winograd", x, w, b, x_data, b_data, (pad_top, pad_left),
                                    (out_h, out_w), activation)
    w2 = w.data.reshape(kh * kw * c, f)
    cols = np.empty((n * out_h * out_w, kh * kw * c), dtype)
    kernels.im2col(x_data, *geometry, cols)
    out = np.empty((n * out_h * out_w, f), dtype)
    kernels.dense_forward(cols, w2, b_data, out, activation)

    def backward(grad):
        kernels = _kernels.current
        grad_out = np.ascontiguousarray(grad.reshape(out.shape), dtype=dtype)
        grad_x = np.empty_like(x_data) if x.requires_grad else None
        grad_w = np.empty(w.shape, dtype)
        grad_b = np.empty(f, dtype) if b is not None and b.requires_grad else None
        if sparse_backward_pays(kernels, out, grad_out, activation):
            out_image = (n, out_h, out_w, f)
            kernels.conv2d_backward_sparse(x_data, np.ascontiguousarray(w.data),
                                           out.reshape(out_image), grad_out.reshape(out_image),
                                           *strides, pad_top, pad_left, grad_x, grad_w, grad_b,
                                           activation)
        else:
            grad_cols = np.empty_like(cols) if grad_x is not None else None
            kernels.dense_backward(cols, w2, out, grad_out, grad_cols, grad_w.reshape(w2.shape),
                                   grad_b, activation)
            if grad_x is not None:
                kernels.col2im(grad_cols, *geometry, grad_x)
        return _in_parent_dtypes(x, b, grad_x, grad_w, grad_b)

    parents = (x, w) if b is None else (x, w, b)
    return record(out.reshape(n, out_h, out_w, f), parents, backward)


def _in_parent_dtypes(x, b, grad_x, grad_w, grad_b):
    """The gradients, grad_x and grad_b cast back to x's and b's dtypes (the
    computation ran in w's); None stays None."""
    if grad_x is not None:
        grad_x = grad_x.astype(x.dtype, copy=False)
    if grad_b is not None:
        grad_b = grad_b.astype(b.dtype, copy=False)
    return grad_x, grad_w, grad_b


def sparse_backward_pays(kernels, out, grad_out, activation):
    """Whether the sparse backward pays: the kernels have one worth taking (the NumPy
    twins do not: their products are their fastest way), and few of dL/dz are nonzero."""
    return (kernels.SPARSE_BACKWARD
            and kernels.gradient_nonzeros(out, grad_out, activation)
            <= SPARSE_MAX_FRACTION * out.size)


def winograd_pays(kernels, w_shape, strides):
    """Whether conv2d goes through Winograd's F(4x4, 3x3): the kernels have a fast one,
    the kernel is 3x3 at stride 1, and both channel counts are big enough for its
    products to pay for its transforms."""
    kh, kw, c, f = w_shape
    return (kernels.WINOGRAD and (kh, kw) == (3, 3) and tuple(strides) == (1, 1)
            and min(c, f) >= WINOGRAD_MIN_CHANNELS)


def _conv2d_whole_images(kind, x, w, b, x_data, b_data, geometry, out_size, activation):
    """conv2d through a pair of kernels that take whole NHWC images and the HWIO kernel:
    ``kind`` "direct" (conv2d_forward/conv2d_backward, small patches; ``geometry`` the
    strides and paddings) or "winograd" (conv2d_winograd_*; ``geometry`` the paddings).
    Same results as im2col, up to rounding."""
    kernels = _kernels.current
    forward_kernel, backward_kernel = {
        "direct": ("conv2d_forward", "conv2d_backward"),
        "winograd": ("conv2d_winograd_forward", "conv2d_winograd_backward"),
    }[kind]
    dtype = w.dtype
    n, f = x.shape[0], w.shape[3]
    w_data = np.ascontiguousarray(w.data)
    out = np.empty((n, *out_size, f), dtype)
    getattr(kernels, forward_kernel)(x_data, w_data, b_data, *geometry, out, activation)

    def backward(grad):
        kernels = _kernels.current
        grad_out = np.ascontiguousarray(grad, dtype=dtype)
        grad_x = np.empty_like(x_data) if x.requires_grad else None
        grad_w = np.empty_like(w_data)
        grad_b = np.empty(f, dtype) if b is not None and b.requires_grad else None
        getattr(kernels, backward_kernel)(x_data, w_data, out, grad_out, *geometry, grad_x,
                                          grad_w, grad_b, activation)
        return _in_parent_dtypes(x, b, grad_x, grad_w, grad_b)

    backward.__qualname__ = f"conv2d_{kind}.backward"  # minidl.profile() names it so
    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)
