"""Regularization layers: SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization.

The first five add noise while training and pass their input through
unchanged otherwise (``predict``, ``evaluate``), as Dropout does:

* ``SpatialDropout2D(rate)``: Dropout of whole feature maps.  Neighbouring
  pixels of one channel are strongly correlated, so dropping single pixels
  hardly regularizes a convolution; this drops a channel of an image
  entirely (one draw per image and channel, mask shape ``(N, 1, 1, C)``).
* ``SpatialDropout1D(rate)``: the same for sequences ``(N, steps, C)``: a
  channel is dropped at every step at once (mask shape ``(N, 1, C)``);
  ``SpatialDropout3D(rate)`` for volumes ``(N, D, H, W, C)`` (``(N, 1, 1, 1, C)``).
  Both pass a sequence's mask on, as Dropout does.  With
  ``data_format="channels_first"`` the channels are axis 1: (N, C, H, W) draws a
  mask of shape ``(N, C, 1, 1)``.
* ``GaussianNoise(stddev)``: ``y = x + e``, ``e ~ Normal(0, stddev)``.
* ``GaussianDropout(rate)``: ``y = x * e``, ``e ~ Normal(1, sqrt(rate / (1 - rate)))``,
  the same mean and variance as Dropout's scaled mask.
* ``AlphaDropout(rate)``: Dropout for SELU networks.  A dropped value becomes
  SELU's negative saturation ``alpha' = -scale * alpha`` (about -1.7581) instead
  of 0, then an affine map restores the mean 0 and variance 1 of a
  SELU-normalised input (Klambauer et al., 2017)::

      kept ~ Bernoulli(1 - rate)      (one draw per value, or per ``noise_shape``)
      a = ((1 - rate) * (1 + rate * alpha'^2)) ** -0.5,   b = -a * alpha' * rate
      y = a * (x * kept + alpha' * (1 - kept)) + b,        dy/dx = a * kept

``ActivityRegularization(l1, l2)`` passes its input through and adds a
penalty on it to the loss (``add_loss``), in training and inference alike::

    (l1 * sum(|x|) + l2 * sum(x^2)) / batch_size

(Keras 2 divides by the batch size, so the penalty is per sample.)
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import ops, random
from minidl.layers.base import Layer
from minidl.layers.base_random import BaseRandomLayer
from minidl.layers.channels_first import DATA_FORMATS, ChannelsFirstMixin
from minidl.layers.core import Dropout


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per sample and channel (the last axis),
    shared by every position of that channel; ``rank`` axes, batch included."""

    rank = None
    expects = ""  # the input shape it takes, for error messages

    def __init__(self, rate, **kwargs):
        if kwargs.get("noise_shape") is not None:
            raise ValueError(
                f"{type(self).__name__}: noise_shape is fixed to (batch, "
                f"{'1, ' * (self.rank - 2)}channels); received noise_shape="
                f"{kwargs['noise_shape']!r}."
            )
        super().__init__(rate, **kwargs)

    def build(self, input_shape):
        if len(input_shape) != self.rank:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}" expects {self.expects}, received '
                f"input shape {tuple(input_shape)}."
            )

    def _noise_shape(self, input_shape):
        return (input_shape[0], *(1,) * (self.rank - 2), input_shape[-1])


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of sequences ``(N, steps, C)``; see the module docstring."""

    rank = 3
    expects = "sequences of shape (batch, steps, channels)"


class _ImageSpatialDropout(ChannelsFirstMixin, _SpatialDropout):
    """SpatialDropout2D and 3D: Keras's ``data_format`` argument; channels-first, the
    mask is (N, C, 1, 1) ((N, C, 1, 1, 1))."""

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        if data_format is not None and data_format not in DATA_FORMATS:  # (Keras's words)
            raise ValueError(f'{type(self).__name__} layer "{self.name}": `data_format` must be '
                             f'"channels_last" or "channels_first". Received: '
                             f"data_format={data_format}.")
        self._set_data_format(data_format)

    @property
    def _input_rank(self):
        return self.rank

    def _noise_shape(self, input_shape):
        return self._channels_first(super()._noise_shape(self._channels_last(input_shape)))

    def get_config(self):
        # tf_keras 2.21's config has no data_format (its layers reload with
        # image_data_format()); minidl's names it when channels-first, so that the
        # layer reloads as it was (Keras's from_config takes it too)
        config = super().get_config()
        if self.data_format == "channels_first":
            config["data_format"] = self.data_format
        return config


class SpatialDropout2D(_ImageSpatialDropout):
    """Drop whole channels of images ``(N, H, W, C)``; see the module docstring."""

    rank = 4
    expects = "images of shape (batch, height, width, channels)"


class SpatialDropout3D(_ImageSpatialDropout):
    """Drop whole channels of volumes ``(N, D, H, W, C)``; see the module docstring."""

    rank = 5
    expects = "volumes of shape (batch, depth, height, width, channels)"


def _check_rate(label, name, value, upper=None):
    """A number >= 0 (and < ``upper`` when given), else a ValueError naming the layer."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)
            or value < 0 or (upper is not None and value >= upper)):
        bound = f"in [0, {upper})" if upper is not None else "a non-negative number"
        raise ValueError(f"{label}: {name} must be {bound}, received {value!r}.")
    return float(value)


class GaussianNoise(BaseRandomLayer):
    """Add ``Normal(0, stddev)`` noise while training; see the module docstring."""

    supports_masking = True  # as Keras 2: a sequence's mask goes on

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_rate(f'GaussianNoise layer "{self.name}"', "stddev", stddev)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = self.generator.standard_normal(inputs.shape, dtype=inputs.dtype)
        return ops.add(inputs, noise * inputs.dtype.type(self.stddev))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(BaseRandomLayer):
    """Multiply by ``Normal(1, sqrt(rate / (1 - rate)))`` noise while training."""

    supports_masking = True  # as Keras 2: a sequence's mask goes on

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(f'GaussianDropout layer "{self.name}"', "rate", rate, upper=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        stddev = inputs.dtype.type(np.sqrt(self.rate / (1 - self.rate)))
        noise = self.generator.standard_normal(inputs.shape, dtype=inputs.dtype) * stddev + 1
        return ops.mul(inputs, noise)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(Dropout):
    """Dropout that keeps a SELU-normalised input's mean and variance; see the module
    docstring.  Inference passes the input through."""

    # SELU's constants (``activations.selu``), as tf_keras writes them
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, noise_shape=noise_shape, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f'AlphaDropout layer "{self.name}": seed must be a non-negative '
                             f"integer or None, received {seed!r}.")
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        generator = self._generator or random.get_generator()
        dtype, rate = inputs.dtype, self.rate
        kept = generator.random(self._noise_shape(inputs.shape) or inputs.shape,
                                dtype=dtype) >= dtype.type(rate)
        saturation = -self.alpha * self.scale
        a = ((1 - rate) * (1 + rate * saturation ** 2)) ** -0.5
        b = -a * saturation * rate
        return ops.add(ops.mul(inputs, (a * kept).astype(dtype)),
                       np.where(kept, b, a * saturation + b).astype(dtype))

    def get_config(self):
        config = {**Layer.get_config(self), "rate": self.rate, "seed": self.seed}
        if self.noise_shape is not None:  # (tf_keras 2.21 leaves it out, losing it)
            config["noise_shape"] = self.noise_shape
        return config


class ActivityRegularization(Layer):
    """Identity that adds ``(l1 * sum|x| + l2 * sum x^2) / batch_size`` to the loss."""

    supports_masking = True  # as Keras 2: a sequence's mask goes on

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        label = f'ActivityRegularization layer "{self.name}"'
        self.l1 = _check_rate(label, "l1", l1)
        self.l2 = _check_rate(label, "l2", l2)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        penalty = 0.0
        if self.l1:
            penalty = ops.mul(ops.sum(ops.abs(inputs)), self.l1)
        if self.l2:
            penalty = ops.add(penalty, ops.mul(ops.sum(ops.mul(inputs, inputs)), self.l2))
        if self.l1 or self.l2:
            self.add_loss(ops.div(penalty, inputs.shape[0]))
        return inputs

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
