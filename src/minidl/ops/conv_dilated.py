"""Dilation and groups of ``conv2d``, built from the plain convolution.

**Dilation** (dh, dw) spreads the kernel's taps apart: tap (i, j) reads the
input pixel i*dh rows and j*dw columns from the window's corner, so a k-tap
kernel spans ``(k - 1) * d + 1`` pixels (Keras pads "same" for that span):

    z[n, oh, ow, :] = b + sum over taps (i, j) of  xp[n, oh + i*dh, ow + j*dw, :] @ w[i, j]

How it runs (no new kernel; TensorFlow's space-to-batch trick).  Cut the padded
image xp into dh * dw sub-images, sub-image (r, q) holding the pixels whose row
is r modulo dh and whose column is q modulo dw:

    sub[r, q][n, a, b, :] = xp[n, a*dh + r, b*dw + q, :]

Pixels d apart in xp are neighbours in a sub-image, so output pixel
(a*dh + r, b*dw + q) is the plain (undilated, "valid") convolution of
sub-image (r, q) at (a, b).  The dh*dw sub-images go through conv2d as one
batch, and their outputs interleave back into the image.  Moving the pixels
around is reshapes and transposes (each an op with its own backward), so the
gradients need no new calculus.

**Groups** g split the C input channels into g groups of C/g and the F filters
into g groups of F/g: filter group k sees only channel group k.  The kernel is
(kh, kw, C/g, F), g times fewer weights than a full convolution; the outputs
are the g group convolutions side by side, in group order (as Keras):

    out[..., k*F/g:(k+1)*F/g] = conv2d(x[..., k*C/g:(k+1)*C/g], w[..., k*F/g:(k+1)*F/g])
"""

from __future__ import annotations

import numpy as np

from minidl.errors import ArgumentTypeError
from minidl.ops._geometry import pair, window_geometry
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import concatenate, getitem, reshape, transpose


def dilated_grouped_conv2d(conv2d, x, w, b, strides, padding, activation, dilation_rate,
                           groups):
    """``conv2d`` (the plain op, x and w Tensors checked by it) with ``dilation_rate``
    (an int or a pair) and ``groups`` (a positive int dividing C and F), both
    checked here; w is (kh, kw, C/groups, F).  See the module docstring."""
    dilation = pair(dilation_rate, "dilation_rate", "conv2d")
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"conv2d: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras); received strides={tuple(strides)}, dilation_rate={dilation}."
        )
    groups = check_groups(groups, x.shape, w.shape, "conv2d")
    if dilation == (1, 1):
        return grouped_conv2d(conv2d, x, w, b, strides, padding, activation, groups)
    return _dilated(conv2d, x, w, b, padding, activation, dilation, groups)


def check_groups(groups, x_shape, w_shape, op):
    """``groups`` as an int that divides the input channels (x's last axis, which
    must be ``groups`` times the kernel's in_channels, w's axis -2) and the filters
    (w's last axis); a TypeError or ValueError naming ``op`` otherwise."""
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)):
        raise ArgumentTypeError(f"{op}: groups must be a positive integer, received {groups!r}.")
    channels, (kernel_channels, filters) = x_shape[-1], w_shape[-2:]
    if groups < 1 or channels % groups or filters % groups:
        raise ValueError(
            f"{op}: groups must be a positive integer dividing both the input channels and "
            f"the filters, received groups={groups!r} with {channels} channels (x "
            f"{tuple(x_shape)}) and {filters} filters (kernel {tuple(w_shape)})."
        )
    if kernel_channels * groups != channels:
        raise ValueError(
            f"{op}: with groups={groups} the kernel must have {channels // groups} input "
            f"channels (x {tuple(x_shape)} has {channels}), received kernel {tuple(w_shape)}."
        )
    return int(groups)


def grouped_conv2d(conv2d, x, w, b, strides, padding, activation, groups):
    """The ``groups`` group convolutions side by side (see the module docstring)."""
    if groups == 1:
        return conv2d(x, w, b, strides, padding, activation)
    width, count = x.shape[-1] // groups, w.shape[-1] // groups
    return concatenate([
        conv2d(getitem(x, (Ellipsis, slice(k * width, (k + 1) * width))),
               getitem(w, (Ellipsis, slice(k * count, (k + 1) * count))),
               None if b is None else getitem(b, slice(k * count, (k + 1) * count)),
               strides, padding, activation)
        for k in range(groups)], axis=-1)


def _dilated(conv2d, x, w, b, padding, activation, dilation, groups):
    """Stride 1, dilation (dh, dw): the sub-images' plain convolution, interleaved back."""
    n, h, width, c = x.shape
    kh, kw, _, f = w.shape
    (dh, dw) = dilation
    spans = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    out_h, out_w, top, left = window_geometry((h, width), spans, (1, 1), padding, "conv2d",
                                              f"kernel {(kh, kw)} dilated by {dilation}, spanning")
    # pad as Keras does, then on to whole rows and columns of sub-images
    rows, cols = -(-(out_h + spans[0] - 1) // dh), -(-(out_w + spans[1] - 1) // dw)
    xp = zero_pad2d(x, ((top, rows * dh - h - top), (left, cols * dw - width - left)))
    subs = transpose(reshape(xp, (n, rows, dh, cols, dw, c)), (2, 4, 0, 1, 3, 5))
    y = grouped_conv2d(conv2d, reshape(subs, (dh * dw * n, rows, cols, c)), w, b, (1, 1),
                       "valid", activation, groups)
    a, bw = y.shape[1:3]  # each sub-image's output, (rows - kh + 1, cols - kw + 1)
    y = transpose(reshape(y, (dh, dw, n, a, bw, f)), (2, 3, 0, 4, 1, 5))
    y = reshape(y, (n, a * dh, bw * dw, f))
    return getitem(y, (slice(None), slice(0, out_h), slice(0, out_w)))
