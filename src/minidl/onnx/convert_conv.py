"""ONNX converters of the convolution, pooling and batch-normalization layers.

ONNX's ``Conv``, ``MaxPool`` and ``AveragePool`` read channels first
(N, C, H, W); minidl's values are channels last (N, H, W, C).  Each of these
layers is therefore three nodes: ``Transpose`` to NCHW, the op, ``Transpose``
back.  Kernels move from Keras's layout (kh, kw, in, out) to ONNX's
(out, in, kh, kw) once, at export.

Padding is written out explicitly.  TensorFlow's ``"same"`` pads an axis of
size n, window k, stride s by ``total = max((ceil(n / s) - 1) * s + k - n, 0)``,
``total // 2`` before and the rest after (ONNX's SAME_UPPER); the sizes are
known at export, so the pads are numbers.  ``MaxPool`` ignores padded cells
and ``AveragePool`` (count_include_pad=0) leaves them out of the count, as
TensorFlow does.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.layers import (
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Conv1D,
    Conv2D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    SeparableConv1D,
    SeparableConv2D,
)
from minidl.onnx.convert_core import add_bias, apply_activation
from minidl.onnx.registry import converter


def same_pads(sizes, windows, strides):
    """ONNX ``pads`` ([begins..., ends...]) for TensorFlow's ``"same"`` padding."""
    begins, ends = [], []
    for n, k, s in zip(sizes, windows, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def channels_first(b, x, rank, base):
    """(N, ..., C) -> (N, C, ...)."""
    return b.transpose(x, [0, rank - 1, *range(1, rank - 1)], base)


def channels_last(b, x, rank, base):
    """(N, C, ...) -> (N, ..., C)."""
    return b.transpose(x, [0, *range(2, rank), 1], base)


def _conv(b, layer, x, input_shape, kernel, strides, pads, dilations):
    """Conv (+ bias + activation) of a channels-last input (or, for a layer with
    ``data_format="channels_first"``, of a channels-first one); ``kernel`` in ONNX's
    layout, ``group`` the layer's ``groups``."""
    rank = len(input_shape)
    first = _is_channels_first(layer)
    weights = b.constant(kernel, f"{layer.name}/kernel")
    nchw = x if first else channels_first(b, x, rank, layer.name)
    y = b.node("Conv", [nchw, weights], layer.name, kernel_shape=list(kernel.shape[2:]),
               strides=list(strides), pads=list(pads), dilations=list(dilations),
               group=getattr(layer, "groups", 1))
    y = apply_activation(b, layer, add_bias(b, layer, channels_last(b, y, rank, layer.name)))
    return channels_first(b, y, rank, layer.name) if first else y


@converter(Conv2D, channels_first=True)
def conv2d(b, layer, x, input_shape):
    """With ``groups``, Keras's kernel (kh, kw, in/groups, out) is already ONNX's grouped
    layout (out, in/groups, kh, kw) once transposed; "same" pads for the dilated span."""
    kernel = layer.kernel.numpy().transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    sizes = input_shape[2:4] if _is_channels_first(layer) else input_shape[1:3]
    spans = [(k - 1) * d + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate)]
    pads = (same_pads(sizes, spans, layer.strides)
            if layer.padding == "same" else [0, 0, 0, 0])
    return _conv(b, layer, x, input_shape, kernel, layer.strides, pads, layer.dilation_rate)


@converter(Conv1D, channels_first=True)
def conv1d(b, layer, x, input_shape):
    """``"causal"`` pads only the start, by the window's span minus one."""
    kernel = layer.kernel.numpy().transpose(2, 1, 0)  # (k, in, out) -> (out, in, k)
    span = layer.dilation_rate * (layer.kernel_size - 1) + 1
    if layer.padding == "same":
        steps = input_shape[2:3] if _is_channels_first(layer) else input_shape[1:2]
        pads = same_pads(steps, [span], [layer.strides])
    elif layer.padding == "causal":
        pads = [span - 1, 0]
    else:
        pads = [0, 0]
    return _conv(b, layer, x, input_shape, kernel, [layer.strides], pads, [layer.dilation_rate])


@converter(DepthwiseConv2D, DepthwiseConv1D, SeparableConv2D, SeparableConv1D)
def depthwise_conv(b, layer, x, input_shape):
    """A depthwise convolution is ONNX's ``Conv`` with ``group`` = the input channels
    (each group one channel and its M filters): Keras's kernel (*k, C, M) becomes
    (C*M, 1, *k), output channel c*M + m as in Keras.  A separable layer adds a 1x1
    ``Conv`` with its pointwise kernel (1.., C*M, F) as (F, C*M, 1..)."""
    rank, name = len(input_shape), layer.name
    kernel = layer.depthwise_kernel.numpy()
    window = list(kernel.shape[:-2])
    kernel = np.moveaxis(kernel.reshape(*window, -1), -1, 0)[:, None]
    if layer.padding == "same":
        pads = same_pads(input_shape[1:-1], layer._spans, layer.strides)
    elif layer.padding == "causal":
        pads = [layer._spans[0] - 1, 0]
    else:
        pads = [0] * (2 * len(window))
    y = b.node("Conv", [channels_first(b, x, rank, name),
                        b.constant(kernel, f"{name}/depthwise_kernel")], name,
               kernel_shape=window, strides=list(layer.strides), pads=pads,
               dilations=list(layer.dilation_rate), group=input_shape[-1])
    if isinstance(layer, (SeparableConv2D, SeparableConv1D)):
        pointwise = layer.pointwise_kernel.numpy()
        in_channels, filters = pointwise.shape[-2:]
        ones = [1] * len(window)
        pointwise = pointwise.reshape(in_channels, filters).T.reshape(filters, in_channels, *ones)
        y = b.node("Conv", [y, b.constant(pointwise, f"{name}/pointwise_kernel")], name,
                   kernel_shape=ones, strides=ones, pads=[0, 0] * len(window))
    return apply_activation(b, layer, add_bias(b, layer, channels_last(b, y, rank, name)))


def _is_channels_first(layer):
    return getattr(layer, "data_format", "channels_last") == "channels_first"


def _pool(b, layer, x, input_shape, op, windows, strides):
    """ONNX pools channels-first: a channels-last layer's input is transposed there
    and back; a ``data_format="channels_first"`` layer's is already in that layout."""
    rank = len(input_shape)
    first = _is_channels_first(layer)
    spatial = input_shape[2:] if first else input_shape[1:rank - 1]
    pads = (same_pads(spatial, windows, strides)
            if layer.padding == "same" else [0] * (2 * (rank - 2)))
    y = b.node(op, [x if first else channels_first(b, x, rank, layer.name)], layer.name,
               kernel_shape=list(windows), strides=list(strides), pads=pads)
    return y if first else channels_last(b, y, rank, layer.name)


@converter(MaxPooling2D, channels_first=True)
def max_pool2d(b, layer, x, input_shape):
    return _pool(b, layer, x, input_shape, "MaxPool", layer.pool_size, layer.strides)


@converter(AveragePooling2D, channels_first=True)
def avg_pool2d(b, layer, x, input_shape):
    return _pool(b, layer, x, input_shape, "AveragePool", layer.pool_size, layer.strides)


@converter(MaxPooling1D, channels_first=True)
def max_pool1d(b, layer, x, input_shape):
    return _pool(b, layer, x, input_shape, "MaxPool", [layer.pool_size], [layer.strides])


@converter(AveragePooling1D, channels_first=True)
def avg_pool1d(b, layer, x, input_shape):
    return _pool(b, layer, x, input_shape, "AveragePool", [layer.pool_size], [layer.strides])


@converter(GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalMaxPooling1D, any_length=True,
           channels_first=True)
def global_pool(b, layer, x, input_shape):
    """The mean or maximum over every axis but the batch and the channels."""
    op = "ReduceMax" if isinstance(layer, (GlobalMaxPooling2D, GlobalMaxPooling1D)) else "ReduceMean"
    axes = list(range(1, len(input_shape) - 1))
    if getattr(layer, "data_format", None) == "channels_first":  # (batch, channels, ...)
        axes = list(range(2, len(input_shape)))
    return b.reduce(op, x, axes, layer.name, keepdims=layer.keepdims)


@converter(GlobalAveragePooling1D, masks=True, any_length=True, channels_first=True)
def global_average_pool1d(b, layer, x, input_shape, mask=None):
    """The mean over the steps; with a timestep mask m (float 0/1, (batch, steps)) the
    mean over the unmasked steps, ``sum_t m x / sum_t m``, as the layer computes it.
    The mask stops here."""
    steps = 2 if layer.data_format == "channels_first" else 1
    if mask is None:
        return b.reduce("ReduceMean", x, [steps], layer.name, keepdims=layer.keepdims), None
    weights = b.node("Unsqueeze", [mask, b.ints([3 - steps], f"axis_{3 - steps}")], layer.name)
    total = b.reduce("ReduceSum", b.node("Mul", [x, weights], layer.name), [steps], layer.name,
                     keepdims=layer.keepdims)
    count = b.reduce("ReduceSum", weights, [steps], layer.name, keepdims=layer.keepdims)
    return b.node("Div", [total, count], layer.name), None


@converter(BatchNormalization, masks=True)
def batch_norm(b, layer, x, input_shape, mask=None):
    """Inference: ``(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta``,
    in that order, as ``ops.batch_norm`` computes it.  A timestep mask changes nothing
    at inference and goes on (``supports_masking``)."""
    shape = layer._param_shape or (-1,)

    def parameter(weight, what):
        return b.constant(np.reshape(weight, shape), f"{layer.name}/{what}")

    mean = layer.moving_mean.numpy().astype(np.float32)
    inv_std = 1 / np.sqrt(layer.moving_variance.numpy().astype(np.float32) + np.float32(layer.epsilon))
    y = b.node("Sub", [x, parameter(mean, "moving_mean")], layer.name)
    y = b.node("Mul", [y, parameter(inv_std, "inv_std")], layer.name)
    if layer.gamma is not None:
        y = b.node("Mul", [y, parameter(layer.gamma.numpy(), "gamma")], layer.name)
    if layer.beta is not None:
        y = b.node("Add", [y, parameter(layer.beta.numpy(), "beta")], layer.name)
    return y, mask
