"""ONNX converters of the image and preprocessing layers.

Rescaling and Normalization are an affine map with constants; the padding,
cropping and upsampling layers act on the height and width axes (1 and 2) of
channels-last images (on the steps, axis 1, of sequences for their 1-D
twins), so they need no transposes.  The random augmentation
layers act in training only: at inference they are an ``Identity``.
Conv2DTranspose and Conv1DTranspose are ONNX's ``ConvTranspose`` between two
``Transpose`` nodes, like Conv2D (see ``convert_conv``).
"""

from __future__ import annotations

import numpy as np

from minidl.layers import (
    Conv1DTranspose,
    Conv2DTranspose,
    Cropping1D,
    Cropping2D,
    Normalization,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from minidl.layers.preprocessing import EPSILON
from minidl.onnx.convert_conv import channels_first, channels_last
from minidl.onnx.convert_core import add_bias, apply_activation, identity
from minidl.onnx.registry import converter
from minidl.ops.conv2d_transpose import transposed_geometry

converter(RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast)(identity)


@converter(Rescaling)
def rescaling(b, layer, x, input_shape):
    """``x * scale + offset``."""
    y = b.node("Mul", [x, b.constant(layer._scale, f"{layer.name}/scale")], layer.name)
    return b.node("Add", [y, b.constant(layer._offset, f"{layer.name}/offset")], layer.name)


@converter(Normalization)
def normalization(b, layer, x, input_shape):
    """``(x - mean) / max(sqrt(variance), epsilon)``, or its inverse (``invert=True``)."""
    mean, variance = layer._statistics()
    if not layer.axis:
        mean, variance = mean.reshape(()), variance.reshape(())
    std = np.maximum(np.sqrt(variance), variance.dtype.type(EPSILON))
    mean = b.constant(mean, f"{layer.name}/mean")
    std = b.constant(std, f"{layer.name}/std")
    if layer.invert:
        return b.node("Add", [b.node("Mul", [x, std], layer.name), mean], layer.name)
    return b.node("Div", [b.node("Sub", [x, mean], layer.name), std], layer.name)


@converter(ZeroPadding2D)
def zero_padding2d(b, layer, x, input_shape):
    (top, bottom), (left, right) = layer.padding
    pads = b.ints([0, top, left, 0, 0, bottom, right, 0], f"{layer.name}/pads")
    return b.node("Pad", [x, pads], layer.name, mode="constant")


@converter(Cropping2D)
def cropping2d(b, layer, x, input_shape):
    (top, bottom), (left, right) = layer.cropping
    height, width = input_shape[1:3]
    starts = b.ints([top, left], f"{layer.name}/starts")
    ends = b.ints([height - bottom, width - right], f"{layer.name}/ends")
    return b.node("Slice", [x, starts, ends, b.ints([1, 2], "axes_1_2")], layer.name)


@converter(UpSampling2D)
def upsampling2d(b, layer, x, input_shape):
    """Nearest: each pixel repeated, (N, H, 1, W, 1, C) expanded to (N, H, fh, W, fw, C)
    and reshaped; bilinear: ``Resize`` with half-pixel centres, as TensorFlow."""
    (fh, fw), (height, width, channels) = layer.size, input_shape[1:]
    if layer.interpolation == "bilinear":
        scales = b.constant([1, fh, fw, 1], f"{layer.name}/scales")
        return b.node("Resize", [x, "", scales], layer.name, mode="linear",
                      coordinate_transformation_mode="half_pixel")
    grid = b.node("Unsqueeze", [x, b.ints([2, 4], "axes_2_4")], layer.name)
    target = b.ints([1, height, fh, width, fw, channels], f"{layer.name}/grid")  # 1 broadcasts to N
    repeated = b.node("Expand", [grid, target], layer.name)
    shape = b.ints([0, height * fh, width * fw, channels], f"{layer.name}/shape")
    return b.node("Reshape", [repeated, shape], layer.name)


@converter(ZeroPadding1D, any_length=True)
def zero_padding1d(b, layer, x, input_shape):
    left, right = layer.padding
    pads = b.ints([0, left, 0, 0, right, 0], f"{layer.name}/pads")
    return b.node("Pad", [x, pads], layer.name, mode="constant")


@converter(Cropping1D, any_length=True)
def cropping1d(b, layer, x, input_shape):
    """Steps ``left`` to ``-right`` (to the end when ``right`` is 0): any length."""
    left, right = layer.cropping
    starts = b.ints([left], f"{layer.name}/starts")
    ends = b.ints([-right if right else np.iinfo(np.int64).max], f"{layer.name}/ends")
    return b.node("Slice", [x, starts, ends, b.ints([1], "axes_1")], layer.name)


@converter(UpSampling1D, any_length=True)
def upsampling1d(b, layer, x, input_shape):
    """Each step repeated: (N, T, 1, C) broadcast to (N, T, size, C), then reshaped to
    (N, T * size, C); no size but ``size`` is written into the graph."""
    grid = b.node("Unsqueeze", [x, b.ints([2], "axes_2")], layer.name)
    repeated = b.node("Expand", [grid, b.ints([1, 1, layer.size, 1], f"{layer.name}/grid")],
                      layer.name)
    shape = b.ints([0, -1, input_shape[2]], f"{layer.name}/shape")
    return b.node("Reshape", [repeated, shape], layer.name)


def _conv_transpose(b, layer, x, input_shape, kernel, kernel_sizes, strides, output_paddings,
                    dilations):
    """``pads`` give the padding of the convolution this transposes; what ONNX's size
    formula, ``s * (n - 1) + span - pad_begin - pad_end + output_padding``, lacks
    to reach minidl's output size goes to ``output_padding``.  ``kernel``: ONNX's
    layout (in, out, *kernel_sizes)."""
    begins, ends, output_padding = [], [], []
    for n, k, s, p, d in zip(input_shape[1:-1], kernel_sizes, strides, output_paddings,
                             dilations):
        span = (k - 1) * d + 1
        out, before = transposed_geometry(n, span, s, layer.padding, p, layer.name)
        after = s * (n - 1) + span - before - out
        begins.append(before)
        ends.append(max(after, 0))
        output_padding.append(max(-after, 0))
    rank = len(input_shape)
    y = b.node("ConvTranspose", [channels_first(b, x, rank, layer.name),
                                 b.constant(kernel, f"{layer.name}/kernel")], layer.name,
               kernel_shape=list(kernel_sizes), strides=list(strides), pads=begins + ends,
               output_padding=output_padding, dilations=list(dilations))
    y = add_bias(b, layer, channels_last(b, y, rank, layer.name))
    return apply_activation(b, layer, y)


@converter(Conv2DTranspose)
def conv2d_transpose(b, layer, x, input_shape):
    kernel = layer.kernel.numpy().transpose(3, 2, 0, 1)  # (kh, kw, out, in) -> (in, out, kh, kw)
    return _conv_transpose(b, layer, x, input_shape, kernel, layer.kernel_size, layer.strides,
                           layer.output_padding or (None, None), layer.dilation_rate)


@converter(Conv1DTranspose)
def conv1d_transpose(b, layer, x, input_shape):
    kernel = layer.kernel.numpy().transpose(2, 1, 0)  # (k, out, in) -> (in, out, k)
    return _conv_transpose(b, layer, x, input_shape, kernel, [layer.kernel_size],
                           [layer.strides], [layer.output_padding], [layer.dilation_rate])
