"""RepeatVector and Permute: moving and copying axes of sequences.

``RepeatVector(n)`` turns one vector per sample into a sequence of ``n``
copies of it, (N, F) -> (N, n, F): how an encoder's summary is fed to a
decoder at every step.  Its gradient is the sum over the copies.

``Permute(dims)`` reorders the axes after the batch axis: ``dims`` numbers
them from 1, so ``Permute((2, 1))`` swaps steps and features, (N, T, F) ->
(N, F, T).  Its gradient is the inverse reordering.  Neither has weights.
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.errors import ArgumentTypeError
from minidl.layers.base import Layer, check_positive_int


class RepeatVector(Layer):
    """(N, F) -> (N, n, F): each sample's vector ``n`` times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int(f'RepeatVector layer "{self.name}"', "n", n,
                                    " (how many copies)")

    def _check(self, input_shape):
        if len(tuple(input_shape)) != 2:
            raise ValueError(
                f'Layer "{self.name}" (RepeatVector) expects one vector per sample, (None, '
                f"features), received input shape {tuple(input_shape)}."
            )

    def build(self, input_shape):
        self._check(input_shape)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        self._check(inputs.shape)
        batch, features = inputs.shape
        copies = np.zeros((1, self.n, 1), inputs.dtype)  # broadcasting makes the copies
        return ops.add(ops.reshape(inputs, (batch, 1, features)), copies)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Reorder the axes after the batch axis: ``dims`` is a permutation of 1..k."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        message = (f'Permute layer "{self.name}": dims must be a permutation of 1..k (axis 0, '
                   "the batch, stays first), e.g. (2, 1) to swap steps and features; received "
                   f"{dims!r}.")
        try:
            items = tuple(dims)
        except TypeError:
            raise ArgumentTypeError(message) from None
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))
                   for d in items):  # (not "21", nor 2.7 cut to 2)
            raise ArgumentTypeError(message)
        if not items or sorted(items) != list(range(1, len(items) + 1)):
            raise ValueError(message)
        self.dims = tuple(int(d) for d in items)

    def _check(self, input_shape):
        if len(tuple(input_shape)) != len(self.dims) + 1:
            raise ValueError(
                f'Layer "{self.name}" (Permute) with dims={self.dims} expects inputs of '
                f"{len(self.dims) + 1} axes (batch first), received input shape "
                f"{tuple(input_shape)}."
            )

    def build(self, input_shape):
        self._check(input_shape)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0, *self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": tuple(self.dims)}  # a tuple, as tf_keras 2.21
