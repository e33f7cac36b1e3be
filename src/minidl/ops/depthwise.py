"""``depthwise_conv2d``, ``depthwise_conv1d``: each channel convolved with its own filters.

In a depthwise convolution input channel c meets only its own M filters (M, the
depth multiplier): there is no sum over channels.  With x (N, H, W, C), the kernel
w (kh, kw, C, M), strides (sh, sw), dilation (dh, dw) and xp the input padded with
zeros (Keras's rule for ``padding``, see ``_geometry``, applied to the dilated
window's span ``(k - 1) * d + 1``):

    z[n, oh, ow, c, m] = sum over taps (i, j) of
                             xp[n, oh*sh + i*dh, ow*sw + j*dw, c] * w[i, j, c, m]
    out[n, oh, ow, c*M + m] = z[n, oh, ow, c, m] + b[c*M + m]          (N, OH, OW, C*M)

Output channel c*M + m is filter m of input channel c (TensorFlow's order).  The
kernel has kh*kw*C*M weights; a Conv2D from C to C*M channels has C times more.

How it runs: one multiply-add per tap.  The input pixels that tap (i, j) reads,
one per output pixel, form a strided slice of xp shaped like the output,

    xp[:, i*dh : i*dh + (OH-1)*sh + 1 : sh,  j*dw : j*dw + (OW-1)*sw + 1 : sw, :]

so z += slice[..., None] * w[i, j] (w[i, j] is (C, M)): kh*kw whole-array NumPy
operations, no loop over pixels or channels, and no new compiled kernel.

Backward, with g = dL/dz (N, OH, OW, C, M) and the same slices:

    dL/db[c*M + m]      = g summed over n, oh, ow
    dL/dw[i, j, c, m]   = sum over n, oh, ow of  slice_ij[n, oh, ow, c] * g[n, oh, ow, c, m]
    dL/dxp[slice_ij]   += sum over m of  g[n, oh, ow, c, m] * w[i, j, c, m]     (every tap)

and dL/dx is dL/dxp without its padding.

``depthwise_conv1d`` runs the same on images of height 1: x (N, L, C) as
(N, 1, L, C), w (k, C, M) as (1, k, C, M); ``"causal"`` first puts (k - 1) * d
zeros in front of each sequence (as ``conv1d`` does), so step t never sees a
later step.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops._geometry import check_padding, pair, window_geometry
from minidl.ops.arithmetic import as_tensor
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import reshape


def depthwise_conv2d(x, w, b=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """conv(x, w) + b, channel by channel.

    Shapes: x (N, H, W, C), w (kh, kw, C, M), b (C*M,) or None; the result is
    (N, OH, OW, C*M).  ``strides`` and ``dilation_rate`` are ints or pairs, not
    both above 1 (as in Keras); ``padding`` "valid" or "same".  The computation
    runs in w's dtype.
    """
    op = "depthwise_conv2d"
    w = as_tensor(w)
    x = as_tensor(x, w)
    b = None if b is None else as_tensor(b, w)
    strides = pair(strides, "strides", op)
    dilation = pair(dilation_rate, "dilation_rate", op)
    padding = check_padding(padding, op)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"{op}: x must be (batch, height, width, channels) and w (kernel_h, kernel_w, "
            f"channels, depth_multiplier); received x {x.shape} and w {w.shape}."
        )
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"{op}: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras); received strides={strides}, dilation_rate={dilation}."
        )
    n, h, width, c = x.shape
    kh, kw, kc, m = w.shape
    if kc != c:
        raise ValueError(
            f"{op}: x has {c} channels (shape {x.shape}) but the kernel {w.shape} expects {kc}."
        )
    if b is not None and b.shape != (c * m,):
        raise ValueError(f"{op}: bias must have shape ({c * m},), received {b.shape}.")
    (sh, sw), (dh, dw) = strides, dilation
    spans = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    out_h, out_w, top, left = window_geometry((h, width), spans, strides, padding, op,
                                              "dilated kernel")
    bottom = max((out_h - 1) * sh + spans[0] - h - top, 0)
    right = max((out_w - 1) * sw + spans[1] - width - left, 0)
    dtype = w.dtype
    xp = np.pad(np.asarray(x.data, dtype), ((0, 0), (top, bottom), (left, right), (0, 0)))
    w_data = w.data
    windows = [(i, j, (slice(None), slice(i * dh, i * dh + (out_h - 1) * sh + 1, sh),
                       slice(j * dw, j * dw + (out_w - 1) * sw + 1, sw)))
               for i in range(kh) for j in range(kw)]

    z = np.zeros((n, out_h, out_w, c, m), dtype)
    for i, j, window in windows:
        z += xp[window][..., None] * w_data[i, j]
    out = z.reshape(n, out_h, out_w, c * m)
    if b is not None:
        out += b.data

    def backward(grad):
        g = np.asarray(grad, dtype).reshape(n, out_h, out_w, c, m)
        grad_w = np.empty_like(w_data)
        grad_xp = np.zeros_like(xp) if x.requires_grad else None
        for i, j, window in windows:
            grad_w[i, j] = np.einsum("nhwc,nhwcm->cm", xp[window], g)
            if grad_xp is not None:
                grad_xp[window] += np.einsum("nhwcm,cm->nhwc", g, w_data[i, j])
        grad_x = None
        if grad_xp is not None:
            grad_x = grad_xp[:, top:top + h, left:left + width].astype(x.dtype, copy=False)
        grad_b = None if b is None else g.sum(axis=(0, 1, 2)).reshape(c * m).astype(b.dtype)
        return grad_x, grad_w, grad_b

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)


def depthwise_conv1d(x, w, b=None, strides=1, padding="valid", dilation_rate=1):
    """conv1d(x, w) + b, channel by channel: x (N, L, C), w (k, C, M), b (C*M,) or None
    -> (N, OL, C*M).

    OL: "valid" (L - (k-1)*d - 1) // s + 1; "same" and "causal" ceil(L / s).
    """
    op = "depthwise_conv1d"
    w = as_tensor(w)
    x = as_tensor(x, w)
    strides, dilation = _one(strides, "strides", op), _one(dilation_rate, "dilation_rate", op)
    padding = check_padding(padding, op, ("valid", "same", "causal"))
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"{op}: x must be (batch, steps, channels) and w (kernel_size, channels, "
            f"depth_multiplier); received x {x.shape} and w {w.shape}."
        )
    n, length, channels = x.shape
    k, kernel_channels, m = w.shape
    image = reshape(x, (n, 1, length, channels))
    if padding == "causal":
        image = zero_pad2d(image, ((0, 0), ((k - 1) * dilation, 0)))
        padding = "valid"
    out = depthwise_conv2d(image, reshape(w, (1, k, kernel_channels, m)), b, (1, strides),
                           padding, (1, dilation))
    return reshape(out, (n, out.shape[2], out.shape[3]))


def _one(value, what, op):
    """An int or a 1-tuple of one positive int, as an int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {what} must be a positive integer, received {value!r}.")
    return int(value)
