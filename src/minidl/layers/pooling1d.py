"""Pooling over sequences ``(batch, steps, channels)``.

``MaxPooling1D(pool_size=2)`` keeps the largest value of each window of 2
steps, per channel ((N, 100, 8) becomes (N, 50, 8)); ``AveragePooling1D`` keeps
the mean.  ``strides`` defaults to ``pool_size``.  Output steps: "valid"
``(n - pool_size) // strides + 1``, "same" ``ceil(n / strides)``.

``GlobalMaxPooling1D`` and ``GlobalAveragePooling1D`` summarise the whole
sequence, (N, steps, C) -> (N, C) (or (N, 1, C) with ``keepdims=True``): a
text model's usual way from word vectors to one vector per text.  With
``data_format="channels_first"`` they read (N, C, steps) and reduce the last
axis, (N, C, steps) -> (N, C) (or (N, C, 1)), as in Keras.
No weights.

``data_format="channels_first"`` takes (N, C, steps) instead (and gives (N, C,
steps') or (N, C, 1)): the layers swap the two axes, pool, and swap back.
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.base import Layer
from minidl.layers.channels_first import normalize_data_format
from minidl.layers.conv1d import check_sequence_shape, one_positive_int, sequence_output_length
from minidl.ops._geometry import check_padding


def _check_data_format(layer, data_format):
    """``data_format`` as "channels_last" (None too) or "channels_first"."""
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(
            f'{type(layer).__name__} layer "{layer.name}": data_format must be '
            f'"channels_last" (batch, steps, channels) or "channels_first" (batch, channels, '
            f"steps), received {data_format!r}."
        )
    return data_format or "channels_last"


def _swap(layer, value):
    """A channels_first shape or tensor as channels_last, and back (the same swap)."""
    if layer.data_format == "channels_last":
        return value
    if isinstance(value, (tuple, list)):
        value = tuple(value)
        return (value[0], value[2], value[1], *value[3:]) if len(value) == 3 else value
    return ops.transpose(value, (0, 2, 1)) if value.ndim == 3 else value


def _check_call(layer, inputs):
    if inputs.ndim != 3:
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects sequences (batch, steps, '
            f"channels), received shape {inputs.shape}."
        )


class _Pooling1D(Layer):
    """Shared arguments and shapes; subclasses say how a window is summarised."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last",
                 **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self.data_format = _check_data_format(self, data_format)
        self.pool_size = one_positive_int(label, "pool_size", pool_size)
        self.strides = self.pool_size if strides is None else one_positive_int(label, "strides", strides)
        self.padding = check_padding(padding, label)

    def build(self, input_shape):
        input_shape = _swap(self, input_shape)
        check_sequence_shape(self, input_shape)
        steps = input_shape[1]
        if self.padding == "valid" and steps is not None and steps < self.pool_size:
            raise ValueError(
                f'Layer "{self.name}": pool_size {self.pool_size} is longer than its input '
                f"sequences ({steps} steps, input shape {tuple(input_shape)}); use a smaller "
                "pool_size, padding='same', or fewer pooling layers before it."
            )

    def compute_output_shape(self, input_shape):
        input_shape = _swap(self, input_shape)
        check_sequence_shape(self, input_shape)
        steps = sequence_output_length(input_shape[1], self.pool_size, self.strides, self.padding)
        return _swap(self, (input_shape[0], steps, input_shape[2]))

    def call(self, inputs):
        _check_call(self, inputs)
        pooled = self._pool(_swap(self, inputs), self.pool_size, self.strides, self.padding)
        return _swap(self, pooled)

    def get_config(self):
        return {
            **super().get_config(),
            "strides": (self.strides,),  # tuples, as tf_keras 2.21 gives them
            "pool_size": (self.pool_size,),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling1D):
    """The maximum of each window of steps."""

    _pool = staticmethod(ops.max_pool1d)


class AveragePooling1D(_Pooling1D):
    """The mean of each window of steps (padding not counted, as in TensorFlow)."""

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    _pool = staticmethod(ops.avg_pool1d)


class _GlobalPooling1D(Layer):
    """One number per channel from the whole sequence."""

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        # "channels_last" (batch, steps, channels) or "channels_first" (batch, channels, steps)
        self.data_format = normalize_data_format(self, data_format)
        self.keepdims = bool(keepdims)
        self._steps_axis = 1 if self.data_format == "channels_last" else 2

    def _check_shape(self, input_shape):
        if self.data_format == "channels_last":
            return check_sequence_shape(self, input_shape)
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[1] is None or 0 in input_shape[1:]:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}, data_format="channels_first") '
                f"expects sequences of shape (None, channels, steps), received input shape "
                f"{input_shape}."
            )

    def build(self, input_shape):
        self._check_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        if self.data_format == "channels_first":
            batch, channels = input_shape[0], input_shape[1]
            return (batch, channels, 1) if self.keepdims else (batch, channels)
        batch, channels = input_shape[0], input_shape[2]
        return _swap(self, (batch, 1, channels)) if self.keepdims else (batch, channels)

    def call(self, inputs):
        _check_call(self, inputs)
        return self._reduce(inputs, axis=self._steps_axis, keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean of each channel over the steps; with a mask (from
    ``Embedding(mask_zero=True)`` or ``Masking``) the mean over the unmasked
    steps only, as in Keras:

        out[n, c] = sum_t m[n, t] x[n, t, c] / sum_t m[n, t]      m: (batch, steps) 0/1

    so a padded sequence gives the same result as the unpadded one.  A
    sequence with every step masked gives NaN (0 / 0), as in Keras.  The mask
    stops here (the output has no steps left to mask).  With
    ``data_format="channels_first"`` the steps are the last axis, x[n, c, t].
    """

    _reduce = staticmethod(ops.mean)

    def call(self, inputs, mask=None):
        _check_call(self, inputs)
        axis = self._steps_axis
        if mask is None:
            return ops.mean(inputs, axis=axis, keepdims=self.keepdims)
        mask = np.asarray(getattr(mask, "data", mask))
        steps_shape = (inputs.shape[0], inputs.shape[axis])
        if mask.shape != steps_shape:
            raise ValueError(
                f'GlobalAveragePooling1D layer "{self.name}": the mask must have shape (batch, '
                f"steps) = {steps_shape} for inputs of shape {tuple(inputs.shape)} "
                f'(data_format="{self.data_format}"), received a mask of shape {mask.shape}.'
            )
        weights = np.expand_dims(mask.astype(inputs.dtype), 3 - axis)
        total = ops.sum(ops.mul(inputs, weights), axis=axis, keepdims=self.keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):  # all masked: NaN, as Keras
            return ops.div(total, weights.sum(axis=axis, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum of each channel over the steps (ties share the gradient, as in
    TensorFlow; see ``ops.max``)."""

    _reduce = staticmethod(ops.max)
