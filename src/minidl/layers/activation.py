"""Activation layers: Softmax, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU.

Each applies one activation function, elementwise (Softmax along an axis),
so the output has the input's shape.  They are the activations of
``minidl.activations`` with their options as layer arguments
(``LeakyReLU(alpha=0.1)`` instead of ``Activation("leaky_relu")``), and
PReLU learns its negative slopes:

    ReLU             min(x, max_value) above threshold, negative_slope * (x - threshold) below
    LeakyReLU        x if x > 0 else alpha * x            (alpha 0.3 by default, as Keras 2)
    PReLU            x if x > 0 else alpha * x            alpha a weight: one per unit,
                                                          or one per group of shared_axes
    ELU              x if x > 0 else alpha * (e^x - 1)
    ThresholdedReLU  x if x > theta else 0
    Softmax          e^x / sum(e^x) along axis            a softmax output keeps its logits,
                                                          so a cross-entropy loss after it
                                                          runs the fused kernel

PReLU on images (N, H, W, C) usually learns one slope per channel:
``PReLU(shared_axes=[1, 2])`` has C parameters instead of H * W * C.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import activations, constraints, initializers, ops
from minidl.layers.base import Layer
from minidl.layers.node import KerasTensor

# What Keras adds to the scores a softmax mask hides: exp(-1e9 + x) is 0.
_MASKED_SCORE = -1e9


class _ActivationLayer(Layer):
    """A layer whose output has its input's shape."""

    supports_masking = True  # as Keras 2: a sequence's mask goes on, step by step

    def compute_output_shape(self, input_shape):
        return input_shape

    def _number(self, argument, value, minimum=None):
        """``value`` as a float, refused (naming this layer) if it is not a real
        number or is below ``minimum``."""
        bound = "" if minimum is None else f" >= {minimum}"
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or (minimum is not None and value < minimum)):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": {argument} must be a number{bound}, '
                f"received {value!r}."
            )
        return float(value)


class ReLU(_ActivationLayer):
    """Rectified linear unit with Keras's options (all >= 0):

    ``max_value`` caps the output, ``negative_slope`` is the slope below
    ``threshold`` (0: values below it become 0).
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else self._number("max_value", max_value, 0)
        self.negative_slope = self._number("negative_slope", negative_slope, 0)
        self.threshold = self._number("threshold", threshold, 0)

    def call(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ActivationLayer):
    """``x`` if ``x > 0`` else ``alpha * x``; Keras 2's default alpha is 0.3.

    Keras 3 calls alpha ``negative_slope``; either name is accepted.
    """

    def __init__(self, alpha=0.3, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is not None:
            if alpha not in (0.3, negative_slope):
                raise ValueError(
                    f'LeakyReLU layer "{self.name}": received alpha={alpha!r} and '
                    f"negative_slope={negative_slope!r}, two names for the same slope; give one."
                )
            alpha = negative_slope
        self.alpha = self._number("alpha", alpha)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ELU(_ActivationLayer):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (e^x - 1)``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = self._number("alpha", alpha)

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ThresholdedReLU(_ActivationLayer):
    """``x`` if ``x > theta`` else 0 (theta >= 0)."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = self._number("theta", theta, 0)

    def call(self, inputs):
        return ops.rectified_linear(inputs, threshold=self.theta)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


class PReLU(_ActivationLayer):
    """Parametric ReLU: ``x`` if ``x > 0`` else ``alpha * x``, alpha learned.

    ``alpha`` has the shape of one sample, with size 1 along ``shared_axes``
    (axes counted with the batch axis as 0, as in Keras): inputs (N, H, W, C)
    with ``shared_axes=[1, 2]`` give alpha (1, 1, C).  It starts at
    ``alpha_initializer`` (zeros: a plain relu).
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        label = f'PReLU layer "{self.name}"'
        if alpha_regularizer is not None:
            raise ValueError(
                f"{label}: alpha_regularizer={alpha_regularizer!r} is not supported (minidl's "
                "PReLU takes no regularizer yet); pass alpha_regularizer=None."
            )
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_constraint = self._constraint("alpha_constraint", alpha_constraint)
        axes = shared_axes
        if axes is not None:
            axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
            if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                   and a >= 1 for a in axes):
                raise ValueError(
                    f"{label}: shared_axes must be None, an axis or a list of axes (integers "
                    f">= 1; axis 0 is the batch), received {shared_axes!r}."
                )
            axes = [int(a) for a in axes]
        self.shared_axes = axes
        self.alpha = None

    def build(self, input_shape):
        label = f'PReLU layer "{self.name}"'
        shared = self.shared_axes or []
        if any(a >= len(input_shape) for a in shared):
            raise ValueError(
                f"{label}: shared_axes {shared} must be axes of the input, which has shape "
                f"{tuple(input_shape)} (axes 1 to {len(input_shape) - 1})."
            )
        shape = tuple(1 if axis in shared else size
                      for axis, size in enumerate(input_shape) if axis > 0)
        if None in shape:
            raise ValueError(
                f"{label}: input shape {tuple(input_shape)} has an unknown size on an axis "
                "that gets its own slopes; give the size, or share that axis (shared_axes)."
            )
        self.alpha = self.add_weight("alpha", shape=shape, initializer=self.alpha_initializer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs):
        expected = self.alpha.shape
        if inputs.ndim != len(expected) + 1 or any(
                a != 1 and a != d for a, d in zip(expected, inputs.shape[1:])):
            raise ValueError(
                f'PReLU layer "{self.name}" was built for inputs of shape '
                f"{self._build_input_shape}, received shape {tuple(inputs.shape)}."
            )
        return ops.rectified_linear(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": None,
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class Softmax(_ActivationLayer):
    """Softmax along ``axis`` (an axis, or a list of axes taken together).

    ``layer(scores, mask)`` (attention scores) leaves out the positions
    where ``mask`` is 0 or False: Keras adds -1e9 to their scores, or with
    ``robust_masking=True`` replaces the scores by -1e9 (safe for scores
    that are themselves huge).  The mask broadcasts against the scores.
    """

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def __init__(self, axis=-1, robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                               for a in axes):
            raise ValueError(
                f'Softmax layer "{self.name}": axis must be an integer or a list of integers, '
                f"received {axis!r}."
            )
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        self._axis = int(axes[0]) if len(axes) == 1 else tuple(int(a) for a in axes)
        self.robust_masking = bool(robust_masking)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = self._axis if isinstance(self._axis, tuple) else (self._axis,)
        if not all(-rank <= a < rank for a in axes):
            raise ValueError(
                f'Softmax layer "{self.name}": axis {self.axis} is out of range for inputs of '
                f"shape {tuple(input_shape)} (rank {rank})."
            )

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = self._mask_scores(inputs, mask)
        return ops.softmax(inputs, self._axis)

    def _mask_scores(self, scores, mask):
        if isinstance(mask, KerasTensor):
            raise TypeError(
                f'Softmax layer "{self.name}": the mask must be an array or a Tensor when the '
                "layer runs; a mask from the functional API (a KerasTensor) is not supported."
            )
        mask = np.asarray(getattr(mask, "data", mask))
        if self.robust_masking:
            keep = mask if mask.dtype == bool else mask > 0.5
            return ops.where(keep, scores, _MASKED_SCORE)
        return ops.add(scores, (1 - mask.astype(scores.dtype)) * _MASKED_SCORE)

    def get_config(self):
        config = {**super().get_config(), "axis": self.axis}
        if self.robust_masking:  # as Keras: the option appears only when it is on
            config["robust_masking"] = True
        return config
