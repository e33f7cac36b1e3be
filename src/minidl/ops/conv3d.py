"""``conv3d``: 3-D convolution of NDHWC volumes with a (kd, kh, kw, C, F) kernel (Keras layout).

A volume batch ``x`` is (N, D, H, W, C); the kernel ``w`` (kd, kh, kw, C, F).  With
xp the input padded with zeros (Keras's rule for ``padding`` on each axis, see
``_geometry``), output voxel (od, oh, ow) of filter f, strides (sd, sh, sw):

    z[n, od, oh, ow, :] = b + sum over taps (i, j, k) of
                              xp[n, od*sd + i, oh*sh + j, ow*sw + k, :] @ w[i, j, k]
    out = act(z)                                                     (N, OD, OH, OW, F)

OD, OH, OW: "valid" (n - k) // s + 1, "same" ceil(n / s), on each axis.  With
``dilation_rate`` (dd, dh, dw) tap (i, j, k) reads xp[n, od + i*dd, oh + j*dh, ow + k*dw]
and k is the dilated span (k - 1) * d + 1 in these sizes; ``groups`` g convolve each
of g groups of C/g channels with its own F/g filters (kernel (kd, kh, kw, C/g, F)),
the outputs side by side in group order.

How it runs (no new kernel: the 2-D convolution's kernels do the work).  Split the
sum over taps by depth: for output depth od, tap i reads the depth slice
xp[:, od*sd + i], one image (N, H, W, C).  Lay the kd slices an output depth reads
side by side along the channels, (N, H, W, kd*C), and the whole sum over (i, j, k) is
one 2-D convolution of that image with the kernel w seen as (kh, kw, kd*C, F):

    columns[n, od, :, :, i*C + c] = xp[n, od*sd + i, :, :, c]         (N, OD, H, W, kd*C)
    out[n, od] = conv2d(columns[n, od], w.transpose(1, 2, 0, 3, 4).reshape(kh, kw, kd*C, F))

so the N * OD column images are one conv2d batch (strides (sh, sw), Keras's padding on
height and width, bias and activation fused).  The columns are kd strided depth
slices (``getitem``) joined by ``concatenate``: a depth-only im2col that costs kd
copies of the input.  Dilation: the depth slices are dd apart, and conv2d is
dilated by (dh, dw) (``conv_dilated``); groups: one such convolution per group.
Backward is conv2d's, through the slices, concatenation, reshapes and the depth
padding (each an op with its own backward).

Measured on the 2-core development machine: x (2, 16, 32, 32, 3), 16 filters of
3x3x3, "valid": forward 5 ms, forward and backward 13 ms (PyTorch's conv3d on the
same data, 2 threads: 9 ms).
"""

from __future__ import annotations

from minidl.ops._geometry import check_padding, output_size, triple
from minidl.ops._volumes import along_depth, volume_batch
from minidl.ops.arithmetic import as_tensor
from minidl.ops.conv2d import conv2d
from minidl.ops.conv_dilated import check_groups
from minidl.ops.dense import check_activation
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import concatenate, getitem, reshape, transpose


def conv3d(x, w, b=None, strides=(1, 1, 1), padding="valid", activation="linear",
           dilation_rate=(1, 1, 1), groups=1):
    """act(conv3d(x, w) + b): x (N, D, H, W, C), w (kd, kh, kw, C / groups, F), b (F,)
    or None -> (N, OD, OH, OW, F); ``strides`` and ``dilation_rate`` ints or triples,
    not both above 1 (as in Keras); ``groups`` divides C and F.  Runs in w's dtype."""
    w = as_tensor(w)
    x = volume_batch(as_tensor(x, w), "conv3d")
    strides = triple(strides, "strides", "conv3d")
    padding = check_padding(padding, "conv3d")
    check_activation(activation, "conv3d")
    if w.ndim != 5:
        raise ValueError(
            f"conv3d: kernel must be 5-D (depth, height, width, in_channels, filters), "
            f"received {w.shape}."
        )
    dilation = triple(dilation_rate, "dilation_rate", "conv3d")
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"conv3d: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras); received strides={strides}, dilation_rate={dilation}."
        )
    if groups != 1:
        groups = check_groups(groups, x.shape, w.shape, "conv3d")
        if groups > 1:  # each group of channels with its own filters, side by side
            width, count = x.shape[-1] // groups, w.shape[-1] // groups
            return concatenate([
                conv3d(getitem(x, (Ellipsis, slice(k * width, (k + 1) * width))),
                       getitem(w, (Ellipsis, slice(k * count, (k + 1) * count))),
                       None if b is None else getitem(b, slice(k * count, (k + 1) * count)),
                       strides, padding, activation, dilation)
                for k in range(groups)], axis=-1)
    n, depth, height, width, channels = x.shape
    kd, kh, kw, kernel_channels, filters = w.shape
    if kernel_channels != channels:
        raise ValueError(
            f"conv3d: input has {channels} channels (shape {x.shape}) but the kernel {w.shape} "
            f"expects {kernel_channels}."
        )
    spans = tuple((k - 1) * d + 1 for k, d in zip((kd, kh, kw), dilation))
    if padding == "valid" and any(s > n for s, n in zip(spans, (depth, height, width))):
        raise ValueError(
            f"conv3d: kernel {(kd, kh, kw)} (dilation_rate {dilation}, spanning {spans}) is "
            f"larger than the input volume {(depth, height, width)}; use padding='same' or a "
            "smaller kernel."
        )
    out_depth, front = output_size(depth, spans[0], strides[0], padding)
    back = max((out_depth - 1) * strides[0] + spans[0] - depth, 0) - front
    if front or back:
        x = along_depth(zero_pad2d, x, ((front, back), (0, 0)))
    last = (out_depth - 1) * strides[0] + 1  # span of the depths one tap reads
    slices = [getitem(x, (slice(None), slice(i * dilation[0], i * dilation[0] + last,
                                              strides[0])))
              for i in range(kd)]
    columns = slices[0] if kd == 1 else concatenate(slices, axis=4)
    kernel = reshape(transpose(w, (1, 2, 0, 3, 4)), (kh, kw, kd * channels, filters))
    out = conv2d(reshape(columns, (n * out_depth, height, width, kd * channels)), kernel, b,
                 strides[1:], padding, activation, dilation[1:])
    return reshape(out, (n, out_depth, *out.shape[1:]))
