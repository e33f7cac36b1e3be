"""``conv3d_transpose``: the transposed convolution of NDHWC volumes (Keras's Conv3DTranspose).

As ``conv2d_transpose`` grows an image, this grows a volume: every input voxel adds
a copy of the kernel, weighted by its value, into the output box it maps to.  With
x (N, D, H, W, C), w (kd, kh, kw, F, C) (Keras's layout: filters before inputs, the
kernel of the convolution F -> C it undoes), strides (sd, sh, sw)::

    full[n, d*sd + i, h*sh + j, w*sw + k, f] += x[n, d, h, w, c] * w[i, j, k, f, c]
    out = full cropped to Keras's size ("same" crops before and after), + b[f]

Output size along each axis, input ``n``, kernel ``k``, stride ``s`` (Keras's
``deconv_output_length``, as for ``conv2d_transpose``):

* ``"valid"``: ``n * s + max(k - s, 0)``, or ``(n - 1) * s + k + output_padding``
* ``"same"``: ``n * s``, or ``(n - 1) * s + k - 2 * (k // 2) + output_padding``

How it runs (no new kernel).  Split the sum by depth tap i: the taps w[i] are a 2-D
transposed convolution of each input depth slice x[:, d] over height and width, and
the kd of them are one such convolution with the kernel seen as (kh, kw, kd*F, C)::

    y = conv2d_transpose(x as (N*D, H, W, C), w as (kh, kw, kd*F, C))   (N, D, OH, OW, kd*F)

Then tap i's image y[:, d, ..., i*F:(i+1)*F] belongs at depth d*sd + i: a col2im
along the depth only.  Write i = q*sd + r with r < sd: block q's taps r, laid after
each input depth d, are the output depths (d + q)*sd + r, so once the taps are moved
before the pixels (a transpose, zeros for the taps past the kernel) each block is a
run of D*sd depths, and the ceil(kd / sd) runs are added q*sd depths apart
(``zero_pad2d`` along the depth, ``add``; a single run, nothing to add, when the
stride is at least the kernel's depth).  Last, the depth is cut to Keras's size (the
"same" crop; zeros after for ``output_padding``).  Backward is conv2d_transpose's
(a conv2d) through the pads, slices, transposes and reshapes, each an op with its
own backward.

Measured on the 2-core development machine: x (2, 8, 16, 16, 16), 16 filters of
3x3x3, strides 2, "same": forward 8 ms, forward and backward 19 ms (PyTorch's
conv_transpose3d on the same data, 2 threads: 3 ms and 5 ms).
"""

from __future__ import annotations

import numpy as np

from minidl.ops._geometry import check_padding, triple
from minidl.ops._volumes import along_depth, volume_batch
from minidl.ops.arithmetic import add, as_tensor
from minidl.ops.conv2d_transpose import conv2d_transpose, transposed_geometry
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import getitem, reshape, transpose


def conv3d_transpose(x, w, b=None, strides=(1, 1, 1), padding="valid", output_padding=None):
    """The transposed convolution of ``x`` with ``w``, plus ``b``.

    Shapes: x (N, D, H, W, C), w (kd, kh, kw, F, C), b (F,) or None; the result is
    (N, OD, OH, OW, F) (sizes: see the module docstring).  ``strides``: an int or a
    triple; ``padding``: "valid" or "same"; ``output_padding``: None, an int or a
    triple, each smaller than its stride.  The computation runs in w's dtype.
    """
    w = as_tensor(w)
    x = volume_batch(as_tensor(x, w), "conv3d_transpose")
    b = None if b is None else as_tensor(b, w)
    strides = triple(strides, "strides", "conv3d_transpose")
    padding = check_padding(padding, "conv3d_transpose")
    output_padding = check_output_padding3(output_padding, strides, "conv3d_transpose")
    if w.ndim != 5:
        raise ValueError(
            "conv3d_transpose: kernel must be 5-D (depth, height, width, filters, "
            f"in_channels), received {w.shape}."
        )
    n, depth, height, width, channels = x.shape
    kd, kh, kw, filters, kernel_channels = w.shape
    if kernel_channels != channels:
        raise ValueError(
            f"conv3d_transpose: input has {channels} channels (shape {x.shape}) but the "
            f"kernel {w.shape} expects {kernel_channels}."
        )
    if b is not None and b.shape != (filters,):
        raise ValueError(
            f"conv3d_transpose: bias must have shape ({filters},), received {b.shape}.")
    extra = output_padding or (None, None, None)
    out_depth, front = transposed_geometry(depth, kd, strides[0], padding, extra[0],
                                           "conv3d_transpose")

    # every depth tap at once: a 2-D transposed convolution of each depth slice
    kernel = reshape(transpose(w, (1, 2, 0, 3, 4)), (kh, kw, kd * filters, channels))
    images = conv2d_transpose(reshape(x, (n * depth, height, width, channels)), kernel, None,
                              strides[1:], padding, None if output_padding is None else extra[1:])
    out_h, out_w = images.shape[1:3]
    taps = reshape(images, (n, depth, out_h, out_w, kd * filters))

    # depth d of tap i lands at d*sd + i: ceil(kd / sd) runs of D*sd depths, added
    # q*sd apart (the module docstring)
    stride, blocks = strides[0], -(-kd // strides[0])
    size = out_h * out_w * filters
    if kd > 1:
        taps = transpose(reshape(taps, (n, depth, out_h * out_w, kd, filters)), (0, 1, 3, 2, 4))
    taps = reshape(taps, (n, depth, kd, size))
    if blocks * stride > kd:
        taps = zero_pad2d(taps, ((0, 0), (0, blocks * stride - kd)))
    full = None
    for q in range(blocks):
        block = taps if blocks == 1 else getitem(
            taps, (slice(None), slice(None), slice(q * stride, (q + 1) * stride)))
        run = reshape(block, (n, depth * stride, out_h, out_w, filters))
        if blocks > 1:
            run = along_depth(zero_pad2d, run, ((q * stride, (blocks - 1 - q) * stride), (0, 0)))
        full = run if full is None else add(full, run)
    missing = front + out_depth - full.shape[1]  # output_padding past the last tap: zeros
    if missing > 0:
        full = along_depth(zero_pad2d, full, ((0, missing), (0, 0)))
    out = getitem(full, (slice(None), slice(front, front + out_depth)))
    return out if b is None else add(out, b)


def check_output_padding3(output_padding, strides, who):
    """``output_padding`` (None, an int or a triple) as None or a triple of ints in
    [0, stride), else a ValueError (Keras's wording)."""
    if output_padding is None:
        return None
    received = output_padding
    if isinstance(output_padding, (int, np.integer)) and not isinstance(output_padding, bool):
        output_padding = (int(output_padding),) * 3
    try:
        output_padding = tuple(int(p) for p in output_padding)
    except (TypeError, ValueError):
        output_padding = ()
    if len(output_padding) != 3 or min(output_padding) < 0 or isinstance(received, bool):
        raise ValueError(
            f"{who}: the `output_padding` argument must be None or a tuple of 3 non-negative "
            f"integers. Received: {received!r}"
        )
    if any(p >= s for p, s in zip(output_padding, strides)):
        raise ValueError(
            f"{who}: strides must be greater than output padding. Received "
            f"strides={tuple(strides)}, output_padding={output_padding}."
        )
    return output_padding
