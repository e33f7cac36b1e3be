"""Which algorithm computes a convolution: decided here, once, and why.

``ops.conv2d`` states the math, out = act(conv(x, w) + b), and hands the work
to a ``Convolution``.  It picks one of three ways the kernels compute it, by
the shapes and the backend alone (never by the values):

* **direct** (``conv2d_forward``/``conv2d_backward``, see ``conv_direct.h``)
  when a patch holds at most DIRECT_MAX_PATCH values (kh * kw * C), such as
  a first layer's 3x3x1 on grey images.  im2col would copy every pixel
  kh * kw times for a product whose inner size is too small to keep BLAS
  busy; the direct kernel sums the taps in vector registers instead.
* **Winograd** F(4x4, 3x3) (``conv2d_winograd_forward``/``_backward``, see
  ``conv_winograd.h``) for a 3x3 kernel at stride 1 with at least
  WINOGRAD_MIN_CHANNELS channels and filters -- the tutorials' second
  convolution: each 4x4 tile of outputs costs 36 multiplications per pair of
  channels instead of 144.  Only with the backends in WINOGRAD_BACKENDS: the
  NumPy twins of those kernels show the algorithm, but their einsums over
  many small arrays cost more than im2col's one product.
* **im2col** (``im2col``, ``dense_forward``; ``dense_backward``, ``col2im``)
  for everything else: copy every patch into one row of a matrix ``cols``
  (N*OH*OW, kh*kw*C), and the convolution is one product with the kernel
  reshaped to (kh*kw*C, F) -- the dense layer's fused kernels, bias and
  activation included.  The backward is dense's backward, then col2im adds
  each row of dL/dcols back to the pixels it was copied from.

All three give the same results up to rounding (tests/test_ops_conv.py runs
every test through each).  A ``Convolution`` calls its kernels through
``minidl._kernels.current`` when it runs, so a switch of backend, and
``minidl.profile()`` (which times that module's functions), see exactly the
kernels that ran.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels

ALGORITHMS = ("direct", "winograd", "im2col")
# patches of at most this many values (kh * kw * in_channels) are convolved directly
DIRECT_MAX_PATCH = 32
# 3x3 kernels at stride 1 with at least this many input channels and filters go through
# Winograd's F(4x4, 3x3) (bench/winograd_crossover.py, on AVX-512: with 16 it wins by 2.6x
# on 13x13 images and 4.5x on 26x26; with 8, too few for its products, it takes 1.5-1.7x
# as long as im2col)
WINOGRAD_MIN_CHANNELS = 16
# the backends whose Winograd kernels beat im2col (the compiled, vectorised ones)
WINOGRAD_BACKENDS = ("compiled",)


def choose_algorithm(w_shape, strides, backend):
    """"direct", "winograd" or "im2col" for a (kh, kw, C, F) kernel at ``strides``
    with the kernels of ``backend`` ("compiled" or "reference"); see the module
    docstring for why."""
    kh, kw, c, f = w_shape
    if kh * kw * c <= DIRECT_MAX_PATCH:
        return "direct"
    if (backend in WINOGRAD_BACKENDS and (kh, kw) == (3, 3) and tuple(strides) == (1, 1)
            and min(c, f) >= WINOGRAD_MIN_CHANNELS):
        return "winograd"
    return "im2col"


class Convolution:
    """One convolution of x (N, H, W, C) with w (kh, kw, C, F), both C-contiguous
    and of one dtype, at ``strides`` (sh, sw) with ``pads`` (top, left) giving
    an (OH, OW) ``out_size``; ``algorithm`` is how the kernels compute it.

    ``forward`` writes out (N, OH, OW, F) = act(conv(x, w) + b); ``backward``
    writes the gradients given dL/dout (grad_x and grad_b may be None when not
    wanted).  im2col keeps its patch matrix from forward to backward.
    """

    def __init__(self, x, w, strides, pads, out_size):
        self.x, self.w = x, w
        self.strides, self.pads, self.out_size = tuple(strides), tuple(pads), tuple(out_size)
        self.algorithm = choose_algorithm(w.shape, strides, _kernels.current.NAME)
        self.cols = None

    def forward(self, b, out, activation):
        kernels = _kernels.current
        x, w, (sh, sw), (pad_top, pad_left) = self.x, self.w, self.strides, self.pads
        if self.algorithm == "direct":
            kernels.conv2d_forward(x, w, b, sh, sw, pad_top, pad_left, out, activation)
        elif self.algorithm == "winograd":
            kernels.conv2d_winograd_forward(x, w, b, pad_top, pad_left, out, activation)
        else:
            rows, patch, f = self._matrix_shape()
            self.cols = np.empty((rows, patch), x.dtype)
            kernels.im2col(x, *self._geometry(), self.cols)
            kernels.dense_forward(self.cols, w.reshape(patch, f), b, out.reshape(rows, f),
                                  activation)

    def backward(self, out, grad_out, grad_x, grad_w, grad_b, activation):
        kernels = _kernels.current
        x, w, (sh, sw), (pad_top, pad_left) = self.x, self.w, self.strides, self.pads
        if self.algorithm == "direct":
            kernels.conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x,
                                    grad_w, grad_b, activation)
        elif self.algorithm == "winograd":
            kernels.conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x,
                                             grad_w, grad_b, activation)
        else:
            rows, patch, f = self._matrix_shape()
            grad_cols = None if grad_x is None else np.empty_like(self.cols)
            kernels.dense_backward(self.cols, w.reshape(patch, f), out.reshape(rows, f),
                                   grad_out.reshape(rows, f), grad_cols,
                                   grad_w.reshape(patch, f), grad_b, activation)
            if grad_x is not None:
                kernels.col2im(grad_cols, *self._geometry(), grad_x)

    def _matrix_shape(self):
        """im2col's product: cols (rows, patch) @ w (patch, F) = out (rows, F)."""
        kh, kw, c, f = self.w.shape
        return self.x.shape[0] * self.out_size[0] * self.out_size[1], kh * kw * c, f

    def _geometry(self):
        """im2col's and col2im's window arguments: kh, kw, sh, sw, pads, out size."""
        return (*self.w.shape[:2], *self.strides, *self.pads, *self.out_size)
