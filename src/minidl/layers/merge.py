"""Merge layers: combine several inputs of a functional model into one.

``Concatenate(axis=-1)([a, b])`` joins along the feature axis
((None, 32) and (None, 16) give (None, 48)); ``Add()([a, b])`` adds
tensors of the same shape (as in a residual connection).
"""

from __future__ import annotations

from functools import reduce

from minidl import ops
from minidl.layers.base import Layer


class _Merge(Layer):
    _multi_input = True

    def _check_list(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) must be called on a list of at '
                f"least 2 inputs, received input shape {input_shape}."
            )


class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (the feature axis by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        rank = len(input_shape[0])
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank:
            raise ValueError(f'Concatenate layer "{self.name}": axis {self.axis} is out of range for rank {rank}.')
        others = [tuple(d for i, d in enumerate(s) if i not in (0, axis)) for s in input_shape]
        if any(len(s) != rank for s in input_shape) or len(set(others)) != 1:
            raise ValueError(
                f'Concatenate layer "{self.name}": inputs must match on every axis but axis '
                f"{self.axis}, received shapes {[tuple(s) for s in input_shape]}."
            )
        sizes = [s[axis] for s in input_shape]
        joined = None if None in sizes else sum(sizes)
        return tuple(joined if i == axis else d for i, d in enumerate(input_shape[0]))

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        axis = self.axis if self.axis >= 0 else inputs[0].ndim + self.axis
        return ops.concatenate(list(inputs), axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Add(_Merge):
    """The elementwise sum of its inputs (all of the same shape)."""

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        if len({tuple(s)[1:] for s in input_shape}) != 1:
            raise ValueError(
                f'Add layer "{self.name}": inputs must have the same shape, received '
                f"{[tuple(s) for s in input_shape]}."
            )
        return tuple(input_shape[0])

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        return reduce(ops.add, inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """The functional form of ``Concatenate``: ``concatenate([a, b])``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """The functional form of ``Add``: ``add([x, shortcut])`` (a residual connection)."""
    return Add(**kwargs)(inputs)
