"""Arithmetic on the symbolic tensors of a functional model: ``res = x + inputs``.

Between the layers of a functional model, Keras 2 lets you write Python
arithmetic on the placeholders::

    x = layers.Dense(3)(inputs)
    res = x + inputs          # a residual connection, no Add() layer needed
    y = res * 2.0

Each operator becomes a layer without weights, ``TFOpLambda``, named after the
TensorFlow function it stands for, as Keras 2 names them in ``summary()``:

    x + y    tf.__operators__.add        x - y    tf.math.subtract
    x * y    tf.math.multiply            x / y    tf.math.truediv
    -x       tf.math.negative            x ** y   tf.math.pow

``y`` is another symbolic tensor (the layer then has two inputs) or a
constant (a number, an array or a Tensor), which may come first (``1.0 - x``).  Shapes
broadcast as in NumPy, lined up at the last axis, batch axis included.  The
output carries no mask, and the layer is saved and loaded like any other.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import ops
from minidl.layers.base import Layer, unique_name
from minidl.layers.merge import _broadcast
from minidl.tensor import Tensor

# Keras 2's name of each operator (the TensorFlow function it calls) -> minidl's op
FUNCTIONS = {
    "__operators__.add": ops.add,
    "math.subtract": ops.sub,
    "math.multiply": ops.mul,
    "math.truediv": ops.div,
    "math.pow": lambda x, y: x ** y,
    "math.negative": lambda x: -x,
}
UNARY = {"math.negative"}


class TFOpLambda(Layer):
    """``function(x, y)`` (or ``function(x)``) of its input(s); see the module docstring.

    ``constant``: the operand that is not a symbolic tensor (None when both are);
    ``constant_first``: it comes first, as in ``1.0 - x``.
    """

    def __init__(self, function, constant=None, constant_first=False, **kwargs):
        if function not in FUNCTIONS:
            raise ValueError(
                f"TFOpLambda: function must be one of {sorted(FUNCTIONS)}, received {function!r}."
            )
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(f"tf.{function}")
        super().__init__(**kwargs)
        if isinstance(constant, Tensor):
            constant = constant.numpy()
        if constant is not None and not isinstance(constant, (numbers.Number, np.ndarray, list)):
            raise TypeError(
                f'TFOpLambda layer "{self.name}": the constant operand must be a number or an '
                f"array, received {type(constant).__name__} {constant!r}."
            )
        self.function = function
        self.constant = None if constant is None else np.asarray(constant, dtype=self._dtype)
        self.constant_first = bool(constant_first)
        self._multi_input = function not in UNARY and constant is None

    def call(self, inputs):
        function = FUNCTIONS[self.function]
        if self.function in UNARY:
            return function(inputs)
        if self.constant is None:
            return function(*inputs)
        if self.constant_first:
            return function(self.constant, inputs)
        return function(inputs, self.constant)

    def compute_output_shape(self, input_shape):
        if self.function in UNARY:
            return tuple(input_shape)
        if self.constant is None:
            first, second = (tuple(shape) for shape in input_shape)
        else:
            first, second = tuple(input_shape), self.constant.shape
            if self.constant_first:
                first, second = second, first
        try:
            return _broadcast(first, second)
        except ValueError:
            raise ValueError(
                f'Layer "{self.name}" (TFOpLambda, {self.function}): operands of shapes {first} '
                f"and {second} do not broadcast (sizes lined up at the last axis must be equal "
                "or 1)."
            ) from None

    def get_config(self):
        config = {**super().get_config(), "function": self.function}
        if self.constant is not None:
            config.update(constant=self.constant.tolist(), constant_first=self.constant_first)
        return config


def operator_layer(function, inputs, constant=None, constant_first=False):
    """Apply a new TFOpLambda to symbolic ``inputs`` (one tensor, or a list of two)."""
    return TFOpLambda(function, constant=constant, constant_first=constant_first)(inputs)
