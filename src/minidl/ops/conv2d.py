"""``conv2d``: 2-D convolution of NHWC images with an HWIO kernel (Keras layout).

Each output pixel is a dense layer applied to the kh x kw x C patch of input
pixels under the kernel.  With xp the input padded with zeros (Keras's rule for
``padding``, see ``_geometry``), tap (i, j) of the kernel reads, for output
pixel (oh, ow), the input pixel xp[n, oh*sh + i, ow*sw + j, :] (C values):

    z[n, oh, ow, :] = b + sum over taps (i, j) of  xp[n, oh*sh + i, ow*sw + j, :] @ w[i, j]
    out = act(z)                                                        (N, OH, OW, F)

Backward, with g = dL/dout and dL/dz = g * act'(out) as in ``dense``:

    dL/db       = dL/dz summed over n, oh, ow                                   (F,)
    dL/dw[i, j] = sum over n, oh, ow of  xp[n, oh*sh + i, ow*sw + j, :]^T dL/dz[n, oh, ow, :]
    dL/dxp[n, oh*sh + i, ow*sw + j, :] += dL/dz[n, oh, ow, :] @ w[i, j]^T    (every tap)

and dL/dx is dL/dxp without its padding.  How the kernels compute these sums
(directly, as one matrix product over im2col's patch matrix, or by Winograd's
transforms) is their choice, made by the shapes in ``_kernels/conv_plan.py``.

``dilation_rate`` and ``groups`` (Keras's Conv2D arguments) are built from this
plain convolution in ``conv_dilated``.
"""

from __future__ import annotations

import numpy as np

from minidl._kernels.conv_plan import Convolution
from minidl.autograd import record
from minidl.ops._geometry import check_padding, pair, window_geometry
from minidl.ops.arithmetic import as_tensor
from minidl.ops.conv_dilated import dilated_grouped_conv2d
from minidl.ops.dense import check_activation


def conv2d(x, w, b=None, strides=(1, 1), padding="valid", activation="linear",
           dilation_rate=(1, 1), groups=1):
    """act(conv(x, w) + b).

    Shapes: x (N, H, W, C), w (kh, kw, C / groups, F), b (F,) or None; the result
    is (N, OH, OW, F) with OH, OW as Keras computes them for ``padding``
    ("valid" or "same"), ``strides`` and ``dilation_rate`` (ints or pairs, not
    both above 1, as in Keras).  ``groups`` divides C and F (see ``conv_dilated``).
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
    if groups != 1 or dilation_rate not in ((1, 1), 1):
        return dilated_grouped_conv2d(conv2d, x, w, b, strides, padding, activation,
                                      dilation_rate, groups)
    n, h, width, c = x.shape
    kh, kw, kc, f = w.shape
    if kc != c:
        raise ValueError(
            f"conv2d: input has {c} channels (shape {x.shape}) but the kernel {w.shape} expects {kc}."
        )
    if b is not None and b.shape != (f,):
        raise ValueError(f"conv2d: bias must have shape ({f},), received {b.shape}.")
    out_h, out_w, pad_top, pad_left = window_geometry((h, width), (kh, kw), strides, padding, "conv2d")
    dtype = w.dtype
    x_data = np.ascontiguousarray(x.data, dtype=dtype)
    w_data = np.ascontiguousarray(w.data)
    b_data = None if b is None else np.ascontiguousarray(b.data, dtype=dtype)
    conv = Convolution(x_data, w_data, strides, (pad_top, pad_left), (out_h, out_w))
    out = np.empty((n, out_h, out_w, f), dtype)
    conv.forward(b_data, out, activation)

    def backward(grad):
        grad_out = np.ascontiguousarray(grad, dtype=dtype)
        grad_x = np.empty_like(x_data) if x.requires_grad else None
        grad_w = np.empty_like(w_data)
        grad_b = np.empty(f, dtype) if b is not None and b.requires_grad else None
        conv.backward(out, grad_out, grad_x, grad_w, grad_b, activation)
        if grad_x is not None:
            grad_x = grad_x.astype(x.dtype, copy=False)
        if grad_b is not None:
            grad_b = grad_b.astype(b.dtype, copy=False)
        return grad_x, grad_w, grad_b

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)
