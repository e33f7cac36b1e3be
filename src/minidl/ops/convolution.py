"""Keras 3's convolutions of any rank: conv, conv_transpose, depthwise_conv.

``keras.ops.conv(inputs, kernel)`` takes 1-D, 2-D or 3-D inputs with their
batch and channel axes -- (N, W, C), (N, H, W, C) or (N, D, H, W, C) -- and a
kernel laid out as Keras's layers keep theirs, (spatial..., in_channels / groups,
out_channels).  Each function picks minidl's op of that rank (conv1d, conv2d,
conv3d, ...), which does the work and defines the backward; there is no bias
and no activation here.  ``data_format="channels_first"`` inputs, (N, C, ...),
are transposed to channels-last and the result back.  A kernel with fewer input
channels than the inputs have is a group convolution (``groups = C / kernel's
in_channels``), as in Keras.
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor
from minidl.ops.conv1d import conv1d
from minidl.ops.conv1d_transpose import conv1d_transpose
from minidl.ops.conv2d import conv2d
from minidl.ops.conv2d_transpose import conv2d_transpose
from minidl.ops.conv3d import conv3d
from minidl.ops.conv3d_transpose import conv3d_transpose
from minidl.ops.depthwise import depthwise_conv1d, depthwise_conv2d
from minidl.ops.shaping import transpose


def _channels_last(inputs, kernel, data_format, op, ranks):
    """inputs and kernel as Tensors, inputs channels-last; the spatial rank; whether the
    result goes back to channels-first."""
    from minidl.backend import image_data_format

    inputs, kernel = as_tensor(inputs), as_tensor(kernel)
    data_format = image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', "
                         f"received {data_format!r}.")
    rank = inputs.ndim - 2
    if rank not in ranks or kernel.ndim != rank + 2:
        raise ValueError(f"{op}: inputs of shape {inputs.shape} and kernel of shape {kernel.shape} "
                         f"must be {' or '.join(f'{r}-D' for r in ranks)} images with batch and "
                         "channel axes, and a kernel of the same spatial rank plus 2 axes.")
    first = data_format == "channels_first"
    if first:
        inputs = transpose(inputs, (0, *range(2, inputs.ndim), 1))
    return inputs, kernel, rank, first


def _back(out, first):
    return transpose(out, (0, out.ndim - 1, *range(1, out.ndim - 1))) if first else out


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """The convolution of ``inputs`` with ``kernel`` (spatial..., in_channels / groups,
    out_channels)."""
    x, w, rank, first = _channels_last(inputs, kernel, data_format, "conv", (1, 2, 3))
    channels = x.shape[-1]
    if channels % w.shape[-2] or w.shape[-1] % (channels // w.shape[-2]):
        raise ValueError(f"conv: the inputs' {channels} channels must be a multiple of the "
                         f"kernel's {w.shape[-2]} input channels (kernel shape {w.shape}), and "
                         "the output channels a multiple of the groups.")
    groups = channels // w.shape[-2]
    if rank == 1:
        if groups != 1:
            raise NotImplementedError("conv: minidl's 1-D convolution has no groups; use a kernel "
                                      f"with all {channels} input channels.")
        out = conv1d(x, w, strides=strides, padding=padding, dilation_rate=dilation_rate)
    else:
        out = (conv2d if rank == 2 else conv3d)(x, w, strides=strides, padding=padding,
                                                dilation_rate=dilation_rate, groups=groups)
    return _back(out, first)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """The transposed convolution (the gradient of ``conv`` with respect to its inputs)
    of ``inputs`` with ``kernel`` (spatial..., out_channels, in_channels)."""
    x, w, rank, first = _channels_last(inputs, kernel, data_format, "conv_transpose", (1, 2, 3))
    if rank == 3:
        if dilation_rate not in (1, (1, 1, 1), [1, 1, 1]):
            raise NotImplementedError("conv_transpose: minidl's 3-D transposed convolution has no "
                                      f"dilation, received dilation_rate={dilation_rate!r}.")
        out = conv3d_transpose(x, w, strides=strides, padding=padding,
                               output_padding=output_padding)
    else:
        out = (conv1d_transpose if rank == 1 else conv2d_transpose)(
            x, w, strides=strides, padding=padding, output_padding=output_padding,
            dilation_rate=dilation_rate)
    return _back(out, first)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved with its own ``multiplier`` filters: ``kernel``
    (spatial..., in_channels, multiplier), output channels in_channels * multiplier."""
    x, w, rank, first = _channels_last(inputs, kernel, data_format, "depthwise_conv", (1, 2))
    out = (depthwise_conv1d if rank == 1 else depthwise_conv2d)(
        x, w, strides=strides, padding=padding, dilation_rate=dilation_rate)
    return _back(out, first)
