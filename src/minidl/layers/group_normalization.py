"""GroupNormalization: normalise each sample over groups of its channels.

The C channels (axis ``axis``, the last by default) are split into ``groups``
groups of C / groups consecutive channels.  For each sample and each group,
over the group's channels and every other non-batch axis (the height and
width of an image ``(N, H, W, C)``)::

    mean, var = mean and (biased) variance of x over the group
    y = gamma * (x - mean) / sqrt(var + epsilon) + beta

``gamma`` and ``beta`` are per channel, shape ``(C,)``: 2 * C parameters (C
with ``center`` or ``scale`` off).  ``groups=1`` is a layer normalisation over
all features at once; ``groups=C`` (or ``groups=-1``) is instance
normalisation.  As in LayerNormalization the statistics never mix samples, so
training and inference compute the same thing, even for a batch of one.

It is computed as a LayerNormalization: reshape ``(N, H, W, C)`` to
``(N, H, W, groups, C / groups)``, normalise over every axis but the batch and
the groups, reshape back (``ops.layer_norm`` holds the gradients).
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import ops
from minidl.layers.base import Layer
from minidl.layers.layer_normalization import ScaleAndOffsetMixin


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class GroupNormalization(ScaleAndOffsetMixin, Layer):
    """Normalises each sample over groups of channels; see the module docstring."""

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'GroupNormalization layer "{self.name}"'
        if not _is_int(groups) or not (groups >= 1 or groups == -1):
            raise ValueError(f"{label}: groups must be a positive integer (or -1: one group per "
                             f"channel), received {groups!r}.")
        if not _is_int(axis):
            raise TypeError(f"{label}: axis must be an int (the channel axis), received {axis!r}.")
        if (isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real)
                or not epsilon > 0):
            raise ValueError(f"{label}: epsilon must be a positive number, received {epsilon!r}.")
        self.groups, self.axis = int(groups), int(axis)
        self.epsilon = float(epsilon)
        self._set_scale_and_offset(center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint)

    def build(self, input_shape):
        label = f'GroupNormalization layer "{self.name}"'
        rank = len(input_shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if rank < 2:
            raise ValueError(f"{label}: expects inputs with a batch axis and at least one "
                             f"channel axis, received input shape {tuple(input_shape)}.")
        if not 1 <= axis < rank:
            raise ValueError(
                f"{label}: invalid axis {self.axis} for inputs of shape {tuple(input_shape)}: "
                f"the channel axis must be 1 <= axis < {rank} (or negative from the end); "
                "axis 0 is the batch.")
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{label}: axis {self.axis} of input shape {tuple(input_shape)} "
                             "must have a known size (gamma and beta have one value per channel).")
        groups = channels if self.groups == -1 else self.groups
        if groups > channels or channels % groups:
            raise ValueError(
                f"{label}: {channels} channels (axis {self.axis} of input shape "
                f"{tuple(input_shape)}) cannot be split into {groups} groups of equal size: "
                "give a number of groups that divides the number of channels.")
        self.groups = groups  # as Keras 2: -1 becomes the number of channels once built
        self._axis, self._rank, self._channels = axis, rank, channels
        self._add_scale_and_offset((channels,))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        axis, channels, shape = self._axis, self._channels, tuple(inputs.shape)
        if inputs.ndim != self._rank or shape[axis] != channels:
            raise ValueError(
                f'Input of GroupNormalization layer "{self.name}" is incompatible with the '
                f"layer: it was built for rank-{self._rank} inputs with {channels} channels on "
                f"axis {self.axis}, received shape {shape}.")
        per_group = channels // self.groups
        grouped = ops.reshape(inputs, shape[:axis] + (self.groups, per_group) + shape[axis + 1:])
        # gamma and beta broadcast against the grouped x: (groups, per_group, 1, ...)
        weight_shape = (self.groups, per_group) + (1,) * (self._rank - 1 - axis)
        gamma = None if self.gamma is None else ops.reshape(self.gamma, weight_shape)
        beta = None if self.beta is None else ops.reshape(self.beta, weight_shape)
        reduced = tuple(a for a in range(1, self._rank + 1) if a != axis)
        return ops.reshape(ops.layer_norm(grouped, gamma, beta, self.epsilon, reduced), shape)

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._scale_and_offset_config(),
        }
