"""LayerNormalization: normalise each sample over its own features.

For each sample (and, for a sequence, each step), over the ``axis`` axes
(the last one by default)::

    mean, var = mean and (biased) variance of x over ``axis``
    y = gamma * (x - mean) / sqrt(var + epsilon) + beta

Unlike BatchNormalization, the statistics never mix samples, so training and
inference compute the same thing and nothing is kept between batches.  This
is the normalisation of the Transformer (``LayerNormalization(epsilon=1e-6)``
after each attention and feed-forward block).

``gamma`` and ``beta`` have the shape of the normalised axes: ``(C,)`` for
inputs ``(batch, steps, C)`` and ``axis=-1``; ``(steps, C)`` for ``axis=[1, 2]``.
Parameters: 2 * C (C with ``center`` or ``scale`` off).  A sequence's mask goes
on to the output unchanged (``supports_masking``, as Keras 2).
"""

from __future__ import annotations

import numpy as np

from minidl import constraints, initializers, ops, regularizers
from minidl.layers.base import Layer


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class ScaleAndOffsetMixin:
    """What LayerNormalization and GroupNormalization share: the learned ``gamma``
    (scale, with ``scale=True``) and ``beta`` (offset, with ``center=True``) applied
    after normalising, with their initializers, regularizers and constraints, and
    those arguments in the config (in Keras's order, after the layer's own)."""

    def _set_scale_and_offset(self, center, scale, beta_initializer, gamma_initializer,
                              beta_regularizer, gamma_regularizer, beta_constraint,
                              gamma_constraint):
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = self._regularizer("beta_regularizer", beta_regularizer)
        self.gamma_regularizer = self._regularizer("gamma_regularizer", gamma_regularizer)
        self.beta_constraint = self._constraint("beta_constraint", beta_constraint)
        self.gamma_constraint = self._constraint("gamma_constraint", gamma_constraint)
        self.gamma = self.beta = None

    def _add_scale_and_offset(self, shape):
        """gamma and beta of ``shape`` (each only if asked for)."""
        if self.scale:
            self.gamma = self.add_weight("gamma", shape=shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape=shape,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def _scale_and_offset_config(self):
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class LayerNormalization(ScaleAndOffsetMixin, Layer):
    """Normalises each sample over its feature axes; see the module docstring."""

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'LayerNormalization layer "{self.name}"'
        if isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis):
            axis = [int(a) for a in axis]
        elif _is_int(axis):
            axis = int(axis)
        else:
            raise TypeError(f"{label}: expected an int or a non-empty list/tuple of ints for "
                            f"the argument 'axis', received: {axis!r}.")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"{label}: epsilon must be a positive number, received {epsilon!r}.")
        self.axis = axis
        self.epsilon = float(epsilon)
        self._set_scale_and_offset(center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        given = [self.axis] if isinstance(self.axis, int) else self.axis
        axes = [a + rank if a < 0 else a for a in given]
        label = f'LayerNormalization layer "{self.name}"'
        if any(not 1 <= a < rank for a in axes):
            raise ValueError(
                f"{label}: invalid axis {self.axis!r} for inputs of shape {tuple(input_shape)}: "
                f"each axis must be a feature axis, 1 <= axis < {rank} (or negative from the "
                "end); axis 0 is the batch.")
        if len(set(axes)) != len(axes):
            raise ValueError(f"{label}: duplicate axis in {self.axis!r}.")
        if any(input_shape[a] is None for a in axes):
            raise ValueError(
                f"{label}: the normalised axes {axes} of input shape {tuple(input_shape)} must "
                "have known sizes (gamma and beta have their shape).")
        self.axis = sorted(axes)  # as Keras 2: a list of positive axes once built
        param_shape = tuple(input_shape[a] for a in self.axis)
        # gamma and beta broadcast against x: 1 along the axes not normalised
        self._broadcast_shape = tuple(input_shape[a] if a in self.axis else 1
                                      for a in range(1, rank))
        self._add_scale_and_offset(param_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        expected = len(self._broadcast_shape) + 1
        if inputs.ndim != expected or any(
                inputs.shape[a] != self._broadcast_shape[a - 1] for a in self.axis):
            raise ValueError(
                f'Input of LayerNormalization layer "{self.name}" is incompatible with the '
                f"layer: it was built for rank-{expected} inputs with sizes "
                f"{[self._broadcast_shape[a - 1] for a in self.axis]} along axes {self.axis}, "
                f"received shape {tuple(inputs.shape)}.")
        gamma, beta = self.gamma, self.beta
        if self._broadcast_shape[:-1] and (gamma is not None or beta is not None):
            gamma = None if gamma is None else ops.reshape(gamma, self._broadcast_shape)
            beta = None if beta is None else ops.reshape(beta, self._broadcast_shape)
        return ops.layer_norm(inputs, gamma, beta, self.epsilon, tuple(self.axis))

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._scale_and_offset_config(),
        }
