"""Resizing sequences without weights: UpSampling1D, ZeroPadding1D, Cropping1D.

Sequences are ``(batch, steps, channels)``; each layer changes the number of steps:

* ``UpSampling1D(size=2)``: every step repeated ``size`` times,
  (N, T, C) -> (N, T * size, C).  Its gradient adds the copies back up.
* ``ZeroPadding1D(padding=1)``: zero steps at the start and the end,
  (N, T, C) -> (N, left + T + right, C).
* ``Cropping1D(cropping=(1, 1))``: steps removed at the start and the end,
  (N, T, C) -> (N, T - left - right, C).

``padding`` and ``cropping`` are an int (the same at both ends) or a pair
``(left, right)``.  A sequence is an image one pixel wide, so each layer is
its 2-D twin's op (``minidl.ops.resampling``) on ``(N, T, 1, C)``.  As in
Keras 2, none of them passes a mask on (the steps no longer line up with it).
"""

from __future__ import annotations

import numbers

from minidl import ops
from minidl.layers.base import Layer
from minidl.layers.conv1d import check_sequence_shape, one_positive_int
from minidl.ops import resampling


def check_ends(label, argument, value):
    """``value``, an int or a pair of ints >= 0, as ``(left, right)``; else a ValueError."""

    def count(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    if count(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(count(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise ValueError(
        f"{label}: {argument} must be a non-negative int or a tuple of 2 of them "
        f"(left, right); received {value!r}."
    )


def _on_images(function, inputs, *args):
    """``function`` (a 2-D op) applied to sequences, seen as images of width 1."""
    batch, steps, channels = inputs.shape
    out = function(ops.reshape(inputs, (batch, steps, 1, channels)), *args)
    return ops.reshape(out, (batch, out.shape[1], channels))


class _Resampling1D(Layer):
    """Shared shape checks: (batch, steps, channels) in and out; unknown steps stay unknown."""

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        batch, steps, channels = input_shape
        return (batch, None if steps is None else self._steps(steps, input_shape), channels)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return self._resample(inputs)


class UpSampling1D(_Resampling1D):
    """Each step ``size`` times: (N, T, C) -> (N, T * size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = one_positive_int(f'UpSampling1D layer "{self.name}"', "size", size)

    def _steps(self, steps, input_shape):
        return steps * self.size

    def _resample(self, inputs):
        return _on_images(resampling.upsample2d, inputs, (self.size, 1))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding1D(_Resampling1D):
    """Zero steps at both ends: (N, T, C) -> (N, left + T + right, C)."""

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = check_ends(f'ZeroPadding1D layer "{self.name}"', "padding", padding)

    def _steps(self, steps, input_shape):
        return steps + sum(self.padding)

    def _resample(self, inputs):
        return _on_images(resampling.zero_pad2d, inputs, (self.padding, (0, 0)))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class Cropping1D(_Resampling1D):
    """Steps removed at both ends: (N, T, C) -> (N, T - left - right, C)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = check_ends(f'Cropping1D layer "{self.name}"', "cropping", cropping)

    def _steps(self, steps, input_shape):
        if steps - sum(self.cropping) < 1:
            raise ValueError(
                f'Cropping1D layer "{self.name}": cropping {self.cropping} leaves nothing of '
                f"sequences of {steps} steps (input shape {tuple(input_shape)}); crop less."
            )
        return steps - sum(self.cropping)

    def _resample(self, inputs):
        return _on_images(resampling.crop2d, inputs, (self.cropping, (0, 0)))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}
