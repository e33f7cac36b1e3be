"""ONNX converters of the core layers and the activations.

Dense is ``MatMul`` then ``Add`` (``MatMul`` broadcasts, so inputs of rank > 2
work as in minidl: transformed along the last axis), then its activation.
Layers that only act in training (Dropout and the other noise layers) are an
``Identity``.  Flatten and Reshape keep minidl's channels-last order, since
values stay NHWC between layers (see ``graph``).
"""

from __future__ import annotations

import math


from minidl import activations
from minidl.layers import (
    ELU,
    ActivityRegularization,
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    LeakyReLU,
    Permute,
    PReLU,
    ReLU,
    RepeatVector,
    Reshape,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
    ThresholdedReLU,
)
from minidl.onnx.registry import converter

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Keras's constants


def rectified_linear(b, x, base, slope=0.0, max_value=None, threshold=0.0):
    """Keras's general relu, as ``ops.rectified_linear`` computes it::

        y = min(x, max_value)            where x > threshold  (clipped to [0, max_value])
        y = slope * (x - threshold)      where x <= threshold
    """
    zero, t = b.constant(0.0, "zero"), b.constant(threshold, f"{base}/threshold")
    upper = b.node("Where", [b.node("Greater", [x, t], base), x, zero], base)
    if max_value is not None:
        upper = b.node("Clip", [upper, zero, b.constant(max_value, f"{base}/max_value")], base)
    if slope == 0.0:
        return upper
    below = b.node("Less", [x, t], base)
    shifted = b.node("Where", [below, b.node("Sub", [x, t], base), zero], base)
    lower = b.node("Mul", [shifted, b.constant(slope, f"{base}/slope")], base)
    return b.node("Add", [upper, lower], base)


def _gelu(b, x, base, approximate):
    """x * Phi(x): Phi(x) = (1 + erf(x / sqrt 2)) / 2, or its tanh approximation."""
    half, one = b.constant(0.5, "half"), b.constant(1.0, "one")
    if approximate:
        cube = b.node("Mul", [b.node("Mul", [x, x], base), x], base)
        inner = b.node("Add", [x, b.node("Mul", [cube, b.constant(0.044715, "gelu_c")], base)], base)
        scaled = b.node("Mul", [inner, b.constant(math.sqrt(2 / math.pi), "sqrt_2_over_pi")], base)
        gate = b.node("Tanh", [scaled], base)
    else:
        gate = b.node("Erf", [b.node("Div", [x, b.constant(math.sqrt(2), "sqrt_2")], base)], base)
    phi = b.node("Mul", [b.node("Add", [gate, one], base), half], base)
    return b.node("Mul", [x, phi], base)


_ACTIVATIONS = {
    "linear": lambda b, x, base: x,
    "relu": lambda b, x, base: b.node("Relu", [x], base),
    "sigmoid": lambda b, x, base: b.node("Sigmoid", [x], base),
    "tanh": lambda b, x, base: b.node("Tanh", [x], base),
    "softmax": lambda b, x, base: b.node("Softmax", [x], base, axis=-1),
    "log_softmax": lambda b, x, base: b.node("LogSoftmax", [x], base, axis=-1),
    "elu": lambda b, x, base: b.node("Elu", [x], base, alpha=1.0),
    "leaky_relu": lambda b, x, base: b.node("LeakyRelu", [x], base, alpha=0.2),
    "softplus": lambda b, x, base: b.node("Softplus", [x], base),
    "softsign": lambda b, x, base: b.node("Softsign", [x], base),
    "selu": lambda b, x, base: b.node("Selu", [x], base, alpha=_SELU_ALPHA, gamma=_SELU_SCALE),
    "relu6": lambda b, x, base: b.node(
        "Clip", [x, b.constant(0.0, "zero"), b.constant(6.0, "six")], base),
    "gelu": lambda b, x, base: _gelu(b, x, base, approximate=False),
    "swish": lambda b, x, base: b.node("Mul", [x, b.node("Sigmoid", [x], base)], base),
    "mish": lambda b, x, base: b.node(
        "Mul", [x, b.node("Tanh", [b.node("Softplus", [x], base)], base)], base),
    "hard_sigmoid": lambda b, x, base: b.node("HardSigmoid", [x], base, alpha=0.2, beta=0.5),
    "exponential": lambda b, x, base: b.node("Exp", [x], base),
}


def apply_activation(b, layer, x, activation=None):
    """The nodes of ``layer``'s activation (a built-in one) applied to ``x``."""
    activation = layer.activation if activation is None else activation
    name = activations.serialize(activation)
    if not activations.is_builtin(activation) or name not in _ACTIVATIONS:
        raise NotImplementedError(
            f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) uses the activation '
            f"{name!r}, which is not a built-in activation the exporter knows "
            f"({', '.join(sorted(_ACTIVATIONS))})."
        )
    return _ACTIVATIONS[name](b, x, layer.name)


def add_bias(b, layer, y):
    """``y + bias`` when the layer has one."""
    if layer.bias is None:
        return y
    return b.node("Add", [y, b.constant(layer.bias.numpy(), f"{layer.name}/bias")], layer.name)


@converter(Dense, any_length=True)
def dense(b, layer, x, input_shape):
    """``activation(x @ kernel + bias)``."""
    kernel = b.constant(layer.kernel.numpy(), f"{layer.name}/kernel")
    y = add_bias(b, layer, b.node("MatMul", [x, kernel], layer.name))
    return apply_activation(b, layer, y)


@converter(Activation, any_length=True)
def activation_layer(b, layer, x, input_shape):
    return apply_activation(b, layer, x)


@converter(Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, GaussianDropout,
           GaussianNoise, ActivityRegularization, any_length=True, channels_first=True)
def identity(b, layer, x, input_shape):
    """Active in training only: at inference the input passes through."""
    return b.node("Identity", [x], layer.name)


identity.keeps_mask = True  # minidl's call returns its input, with the input's mask


@converter(Flatten, channels_first=True)
def flatten(b, layer, x, input_shape):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), row-major over the channels-last axes
    (``data_format="channels_first"``: the channels moved last first, as the layer does)."""
    rank = len(input_shape)
    if layer.data_format == "channels_first" and rank > 2:
        x = b.transpose(x, [0, *range(2, rank), 1], layer.name)
    return b.node("Flatten", [x], layer.name, axis=1)


@converter(Reshape)
def reshape(b, layer, x, input_shape):
    """The batch axis is kept (0 in ONNX's shape means "as in the input")."""
    shape = b.ints([0, *layer._output_shape], f"{layer.name}/shape")
    return b.node("Reshape", [x, shape], layer.name)


@converter(Permute)
def permute(b, layer, x, input_shape):
    return b.transpose(x, [0, *layer.dims], layer.name)


@converter(RepeatVector)
def repeat_vector(b, layer, x, input_shape):
    """(N, F) -> (N, n, F): unsqueeze to (N, 1, F), then tile n times along axis 1."""
    unsqueezed = b.node("Unsqueeze", [x, b.ints([1], "axis_1")], layer.name)
    return b.node("Tile", [unsqueezed, b.ints([1, layer.n, 1], f"{layer.name}/repeats")], layer.name)


@converter(Embedding, masks=True, any_length=True)
def embedding(b, layer, x, input_shape, mask=None):
    """``embeddings[indices]``: a ``Gather`` of rows.  Float inputs (minidl's
    default) are cast to int64 first.  With ``mask_zero`` the output's mask is
    ``indices != 0`` (a float 0/1 value; see ``graph.convert_layer``)."""
    table = b.constant(layer.embeddings.numpy(), f"{layer.name}/embeddings")
    indices = b.node("Cast", [x], layer.name, to=7)  # TensorProto.INT64
    output = b.node("Gather", [table, indices], layer.name, axis=0)
    if not layer.mask_zero:
        return output, None
    zero = b.node("Equal", [x, b.constant(0.0, "zero")], layer.name)
    return output, b.node("Cast", [b.node("Not", [zero], layer.name)], layer.name, to=1)


@converter(ReLU, any_length=True)
def relu_layer(b, layer, x, input_shape):
    if layer.max_value is None and layer.threshold == 0 and layer.negative_slope == 0:
        return b.node("Relu", [x], layer.name)
    return rectified_linear(b, x, layer.name, layer.negative_slope, layer.max_value, layer.threshold)


@converter(LeakyReLU, any_length=True)
def leaky_relu_layer(b, layer, x, input_shape):
    return b.node("LeakyRelu", [x], layer.name, alpha=layer.alpha)


@converter(ELU, any_length=True)
def elu_layer(b, layer, x, input_shape):
    return b.node("Elu", [x], layer.name, alpha=layer.alpha)


@converter(ThresholdedReLU, any_length=True)
def thresholded_relu_layer(b, layer, x, input_shape):
    return rectified_linear(b, x, layer.name, threshold=layer.theta)


@converter(PReLU)
def prelu_layer(b, layer, x, input_shape):
    """``x`` if ``x > 0`` else ``alpha * x``; alpha (one sample's shape) broadcasts."""
    return b.node("PRelu", [x, b.constant(layer.alpha.numpy(), f"{layer.name}/alpha")], layer.name)


@converter(Softmax)
def softmax_layer(b, layer, x, input_shape):
    """ONNX's Softmax normalises along one axis; several axes are refused."""
    if isinstance(layer._axis, tuple):
        raise NotImplementedError(
            f'ONNX export: Softmax layer "{layer.name}" normalises over several axes '
            f"{layer._axis}; ONNX's Softmax takes one axis. Reshape so one axis holds them.")
    return b.node("Softmax", [x], layer.name, axis=int(layer._axis))
