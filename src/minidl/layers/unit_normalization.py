"""UnitNormalization: scale each sample to length 1 along ``axis``.

    y = x / sqrt(max(sum(x^2 over axis), 1e-12))

as tf_keras 2.21 (``tf.linalg.l2_normalize``): the epsilon keeps an all-zero
vector at zero.  No weights; training and inference compute the same thing.
``axis`` is an int or a list of ints (``[1, 2]``: the whole (steps, C) of each
sequence has length 1).  Inputs and outputs have the same shape; a sequence's
mask goes on (``supports_masking``, as Keras 2).  The gradient is ``ops.l2_normalize``'s.
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.base import Layer


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class UnitNormalization(Layer):
    """Divides each sample by its L2 norm over ``axis``; see the module docstring."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(_is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]
        elif _is_int(axis):
            self.axis = int(axis)
        else:
            raise TypeError(
                f'UnitNormalization layer "{self.name}": invalid value for `axis` argument: '
                f"expected an int or a list/tuple of ints. Received: axis={axis!r}")

    def _axes(self, shape):
        """``axis`` as non-negative axes of ``shape``, checked as Keras checks them."""
        rank = len(shape)
        given = [self.axis] if isinstance(self.axis, int) else self.axis
        axes = [a + rank if a < 0 else a for a in given]
        label = f'UnitNormalization layer "{self.name}"'
        if not axes or any(not 0 <= a < rank for a in axes):
            raise ValueError(
                f"{label}: invalid value for `axis` argument. Expected 0 <= axis < inputs.rank "
                f"(with inputs.rank={rank}, input shape {tuple(shape)}). Received: "
                f"axis={self.axis!r}")
        if len(set(axes)) != len(axes):
            raise ValueError(f"{label}: duplicate axis: {tuple(axes)}.")
        return tuple(axes)

    def build(self, input_shape):
        self._axes(input_shape)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return tuple(input_shape)

    def call(self, inputs):
        return ops.l2_normalize(inputs, axis=self._axes(inputs.shape))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
