"""EinsumDense: a dense layer whose product is an einsum equation (Keras 2's rules).

``EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")`` computes

    y[a, b, d] = activation(sum_c x[a, b, c] * kernel[c, d] + bias[d])

that is a Dense(64) applied to every step of a (batch, steps, 128) sequence.
The equation is "input,kernel->output" in one of three forms, as in Keras:
"ab,bc->ac" (every axis named), "...b,bc->...c" (the batch and any leading
axes as "...") or "ab...,bc->ac..." (trailing axes as "...").

Shapes, as tf_keras 2.21 derives them:
- ``output_shape`` gives the output's sizes without the batch axis and
  without the "..." axes: one entry per output letter (after the first letter,
  the batch, when there is no leading "..."); None where the input knows it.
- the kernel has one axis per kernel letter, sized from the input if the
  letter is there, otherwise from ``output_shape``: (128, 64) above.
- the bias covers the output from its first ``bias_axes`` letter to the end,
  size 1 on letters not in ``bias_axes``, so it broadcasts: "abc,cde->abde"
  with bias_axes="de" has a bias of (d, e); bias_axes="b" on "abc,cd->abd" a
  bias of (b, 1).
"""

from __future__ import annotations

import re

import numpy as np

from minidl import activations, initializers, ops
from minidl.layers.base import Layer
from minidl.layers.core import WeightRegularizersMixin

# Keras 2's three forms, with "..." written as "0"; the groups are input, kernel, output.
_FORMS = (
    ("none", re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)")),
    ("left", re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)")),
    ("right", re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0")),
)


class EinsumDense(WeightRegularizersMixin, Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)`` (see the module docstring)."""

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._label = f'EinsumDense layer "{self.name}"'
        self.equation = equation
        self._elided, self._input_spec, self._kernel_spec, self._output_spec = self._split(equation)
        self.partial_output_shape = self._check_output_shape(output_shape)
        self.bias_axes = self._check_bias_axes(bias_axes)
        self.activation = activations.get(activation)
        self._set_kernel_and_bias(bias_axes is not None, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self.full_output_shape = None

    # --- the arguments ----------------------------------------------------
    def _split(self, equation):
        """(where "..." is, input letters, kernel letters, output letters)."""
        if isinstance(equation, str):
            for elided, form in _FORMS:
                match = form.fullmatch(equation.replace("...", "0"))
                if match:
                    specs = match.groups()
                    break
            else:
                specs = None
        if not isinstance(equation, str) or specs is None:
            raise ValueError(
                f"{self._label}: invalid einsum equation {equation!r}. Equations must be in "
                "the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]... "
                "(for example 'ab,bc->ac' or '...b,bc->...c')."
            )
        for spec in specs:
            repeated = sorted({char for char in spec if spec.count(char) > 1})
            if repeated:
                raise ValueError(f"{self._label}: letter {repeated[0]!r} appears twice in "
                                 f"{spec!r} of the equation {equation!r}.")
        input_spec, kernel_spec, output_spec = specs
        for char in output_spec:
            if char not in input_spec and char not in kernel_spec:
                raise ValueError(
                    f"{self._label}: dimension {char!r} was specified in the output "
                    f"{output_spec!r} but has no corresponding dim in the input spec "
                    f"{input_spec!r} or weight spec {kernel_spec!r}."
                )
        for char in kernel_spec:
            if char not in input_spec and char not in output_spec:
                raise ValueError(
                    f"{self._label}: weight dimension {char!r} did not have a match in either "
                    f"the input spec {input_spec!r} or the output spec {output_spec!r}. For "
                    "this layer, the weight must be fully specified."
                )
        return elided, input_spec, kernel_spec, output_spec

    def _check_output_shape(self, output_shape):
        """``output_shape`` as a list, one entry per output letter it describes."""
        entries = [output_shape] if isinstance(output_shape, (int, np.integer)) else output_shape
        described = self._output_spec if self._elided == "left" else self._output_spec[1:]
        if (isinstance(output_shape, bool) or not isinstance(entries, (list, tuple))
                or any(isinstance(n, bool) or not (n is None or isinstance(n, (int, np.integer)))
                       or (n is not None and n <= 0) for n in entries)):
            raise ValueError(
                f"{self._label}: output_shape must be a positive integer or a tuple of positive "
                f"integers and None, received {output_shape!r}."
            )
        if len(entries) != len(described):
            raise ValueError(
                f"{self._label}: output_shape={output_shape!r} has {len(entries)} entries, but "
                f"the equation {self.equation!r} has {len(described)} output axes besides the "
                f"batch{' and ...' if self._elided != 'none' else ''} ({described!r}): give one "
                "size (or None) for each."
            )
        return [None if n is None else int(n) for n in entries]

    def _check_bias_axes(self, bias_axes):
        if bias_axes is None:
            return None
        if not isinstance(bias_axes, str) or not bias_axes:
            raise ValueError(f"{self._label}: bias_axes must be a string of output letters "
                             f"or None, received {bias_axes!r}.")
        for char in bias_axes:
            if char not in self._output_spec:
                raise ValueError(
                    f"{self._label}: bias dimension {char!r} was requested, but is not part of "
                    f"the output spec {self._output_spec!r}."
                )
        return bias_axes

    # --- shapes -----------------------------------------------------------
    def _shapes(self, input_shape):
        """(kernel shape, bias shape or None, output shape) for inputs of ``input_shape``."""
        input_shape, spec = tuple(input_shape), self._input_spec
        least = len(spec) + (self._elided == "left")  # a leading "..." holds the batch
        if len(input_shape) < least or (self._elided == "none" and len(input_shape) != least):
            raise ValueError(
                f"{self._label}: the equation {self.equation!r} expects inputs of "
                f"{'at least ' if self._elided != 'none' else ''}{least} axes, received input "
                f"shape {input_shape}."
            )
        elided = len(input_shape) - len(spec)
        letters = input_shape[elided:] if self._elided == "left" else input_shape[:len(spec)]
        sizes = dict(zip(spec, letters))
        described = self._output_spec if self._elided == "left" else self._output_spec[1:]
        for char, size in zip(described, self.partial_output_shape):
            if char in sizes and size is not None and sizes[char] is not None and size != sizes[char]:
                raise ValueError(
                    f"{self._label}: input shape and output shape do not match at shared "
                    f"dimension {char!r}. Input shape is {sizes[char]}, and output shape is "
                    f"{size} (input shape {input_shape}, output_shape "
                    f"{tuple(self.partial_output_shape)})."
                )
            sizes.setdefault(char, size)
        kernel_shape = tuple(sizes.get(char) for char in self._kernel_spec)
        if None in kernel_shape:
            raise ValueError(
                f"{self._label}: the kernel {self._kernel_spec!r} needs a known size for every "
                f"letter, received input shape {input_shape} and output_shape "
                f"{tuple(self.partial_output_shape)} (kernel shape {kernel_shape}); give the "
                "size in output_shape."
            )
        output = tuple(sizes.get(char) for char in self._output_spec)
        bias_shape = None
        if self.bias_axes is not None:
            first = min(self._output_spec.find(char) for char in self.bias_axes)
            bias_shape = tuple(sizes.get(char) if char in self.bias_axes else 1
                               for char in self._output_spec[first:])
            if None in bias_shape:
                raise ValueError(
                    f"{self._label}: bias_axes={self.bias_axes!r} needs known sizes, received "
                    f"input shape {input_shape} (bias shape {bias_shape})."
                )
        if self._elided == "left":
            output = input_shape[:elided] + output
        elif self._elided == "right":
            output = output + input_shape[len(spec):]
            if bias_shape is not None:
                bias_shape = bias_shape + (1,) * elided
        return kernel_shape, bias_shape, output

    def build(self, input_shape):
        kernel_shape, bias_shape, self.full_output_shape = self._shapes(input_shape)
        self.kernel = self.add_weight("kernel", shape=kernel_shape,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight("bias", shape=bias_shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def compute_output_shape(self, input_shape):
        kernel_shape, _, output = self._shapes(input_shape)
        self._check_kernel(kernel_shape, input_shape)
        return output

    def _check_kernel(self, kernel_shape, input_shape):
        if self.kernel is not None and kernel_shape != self.kernel.shape:
            raise ValueError(
                f'Input of layer "{self.name}" is incompatible with the layer: its kernel '
                f"{self._kernel_spec!r} has shape {self.kernel.shape}, but input shape "
                f"{tuple(input_shape)} asks for {kernel_shape} (equation {self.equation!r})."
            )

    def call(self, inputs):
        self._check_kernel(self._shapes(inputs.shape)[0], inputs.shape)
        y = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": list(self.partial_output_shape),
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
        }
