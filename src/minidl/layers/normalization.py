"""BatchNormalization: normalise each channel with the batch's statistics.

Training, for each channel (the ``axis``; the last one by default)::

    mean, var = mean and variance of the batch over every other axis
    y = gamma * (x - mean) / sqrt(var + epsilon) + beta

and running averages are kept for later::

    moving_mean     = momentum * moving_mean     + (1 - momentum) * mean
    moving_variance = momentum * moving_variance + (1 - momentum) * var

(``var`` is the batch's biased variance, as in Keras's non-fused path).
Inference (``training=False``: ``evaluate``, ``predict``) uses the moving
statistics instead, so one sample's output does not depend on the others.
A frozen layer (``trainable = False``, as when fine-tuning a pretrained
model) always runs in inference mode, as in Keras 2: its moving statistics
stay those it learned.

``gamma`` and ``beta`` are learned; the moving statistics are
non-trainable weights: 4 * C parameters, of which 2 * C trainable.

Masks (as Keras 2): a sequence's mask (``Embedding(mask_zero=True)``,
``Masking``) goes on to the output.  While training, the batch statistics are
taken over the unmasked steps only (m: the 0/1 mask, broadcast over the
features; every step is still normalised)::

    mean = sum(m * x) / sum(m)      var = sum(m * (x - mean)^2) / sum(m)

Inference uses the moving statistics, so there the mask changes nothing.
"""

from __future__ import annotations

import numpy as np

from minidl import autograd, constraints, initializers, ops
from minidl.layers.base import Layer


class BatchNormalization(Layer):
    """Normalises activations per channel; see the module docstring."""

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'BatchNormalization layer "{self.name}"'
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"{label}: axis must be an integer, received {axis!r}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{label}: momentum must be in [0, 1], received {momentum!r}.")
        if epsilon <= 0:
            raise ValueError(f"{label}: epsilon must be positive, received {epsilon!r}.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_constraint = self._constraint("beta_constraint", beta_constraint)
        self.gamma_constraint = self._constraint("gamma_constraint", gamma_constraint)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank or input_shape[axis] is None:
            raise ValueError(
                f'BatchNormalization layer "{self.name}": axis {self.axis} is not a known '
                f"feature axis of input shape {tuple(input_shape)}."
            )
        channels = input_shape[axis]
        self._reduce_axes = tuple(i for i in range(rank) if i != axis)
        # Parameters have shape (C,); to broadcast against x they need (1, C, 1, 1)
        # unless the channel axis is the last one.
        self._param_shape = None if axis == rank - 1 else tuple(
            channels if i == axis else 1 for i in range(rank)
        )
        if self.scale:
            self.gamma = self.add_weight("gamma", shape=(channels,),
                                         initializer=self.gamma_initializer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape=(channels,),
                                        initializer=self.beta_initializer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(
            "moving_mean", shape=(channels,), initializer=self.moving_mean_initializer,
            trainable=False)
        self.moving_variance = self.add_weight(
            "moving_variance", shape=(channels,), initializer=self.moving_variance_initializer,
            trainable=False)

    def _broadcast(self, tensor):
        if tensor is None or self._param_shape is None:
            return tensor
        return ops.reshape(tensor, self._param_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, training=False, mask=None):
        gamma, beta = self._broadcast(self.gamma), self._broadcast(self.beta)
        if not training or not self.trainable:  # frozen: inference mode, as in Keras 2 (TF 2)
            return ops.batch_norm(
                inputs, gamma, beta, self._broadcast(self.moving_mean),
                self._broadcast(self.moving_variance), self.epsilon)
        if mask is not None:
            y, batch_mean, batch_var = self._masked_train(inputs, gamma, beta, mask)
        else:
            y, batch_mean, batch_var = ops.batch_norm_train(
                inputs, gamma, beta, self.epsilon, self._reduce_axes)
        self._update_moving(self.moving_mean, batch_mean)
        self._update_moving(self.moving_variance, batch_var)
        return y

    def _masked_train(self, inputs, gamma, beta, mask):
        """The training form with the statistics of the unmasked steps (module docstring),
        composed of differentiable ops.  Returns ``(y, batch_mean, batch_var)``."""
        mask = np.asarray(getattr(mask, "data", mask))
        if mask.ndim >= inputs.ndim or mask.shape != tuple(inputs.shape[:mask.ndim]):
            raise ValueError(
                f'BatchNormalization layer "{self.name}": the mask must have the leading shape '
                f"of the inputs {tuple(inputs.shape)} (such as (batch, steps)), received a mask "
                f"of shape {mask.shape}.")
        weights = mask.astype(inputs.dtype).reshape(mask.shape + (1,) * (inputs.ndim - mask.ndim))
        axes = self._reduce_axes
        count = np.broadcast_to(weights, inputs.shape).sum(axis=axes, keepdims=True)
        if not count.all():
            raise ValueError(
                f'BatchNormalization layer "{self.name}": every step of the batch is masked, so '
                "there are no statistics to normalise with while training; check the padding.")
        mean = ops.div(ops.sum(ops.mul(inputs, weights), axis=axes, keepdims=True), count)
        centered = ops.sub(inputs, mean)
        var = ops.div(ops.sum(ops.mul(ops.mul(centered, centered), weights), axis=axes,
                              keepdims=True), count)
        y = ops.div(centered, ops.sqrt(ops.add(var, inputs.dtype.type(self.epsilon))))
        if gamma is not None:
            y = ops.mul(y, gamma)
        if beta is not None:
            y = ops.add(y, beta)
        return y, mean.data.reshape(-1), var.data.reshape(-1)

    def _update_moving(self, moving, batch_value):
        """moving = momentum * moving + (1 - momentum) * batch_value, in place."""
        moving.data *= self.momentum
        moving.data += (1.0 - self.momentum) * np.reshape(batch_value, moving.shape)
        autograd.mark_changed(moving)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
