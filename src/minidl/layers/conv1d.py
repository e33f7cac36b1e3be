"""Conv1D: a small learned filter slid along a sequence.

Sequences are ``(batch, steps, channels)`` (a text model's Embedding output,
or a time series with one channel per measured quantity), and the kernel has
Keras's layout ``(kernel_size, in_channels, filters)``.  Each output step is the
dot product of ``kernel_size`` consecutive steps (``dilation_rate`` apart)
with each filter, plus a bias per filter; parameters:
``kernel_size * in_channels * filters + filters`` (5 * 32 * 8 + 8 = 1288).

Output steps for ``n`` input steps, stride ``s``, span ``(kernel_size - 1) *
dilation_rate + 1``:

* ``padding="valid"``: ``(n - span) // s + 1``
* ``padding="same"`` and ``"causal"``: ``ceil(n / s)``; "causal" adds all its
  zeros in front, so step t never sees a later step (see ``ops.conv1d``).

``groups=g`` splits the channels into g groups, each convolved with its own
``filters / g`` filters (the kernel is ``(kernel_size, in_channels / g,
filters)``, g times fewer weights); the outputs are concatenated in group order.
``data_format="channels_first"`` takes ``(batch, channels, steps)`` and gives
``(batch, filters, steps')``.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.errors import ArgumentTypeError
from minidl import activations, initializers, ops
from minidl.layers.base import Layer, check_positive_int
from minidl.layers.core import ActivationMixin, WeightRegularizersMixin
from minidl.ops._geometry import check_padding
from minidl.ops.conv1d import PADDINGS


def check_sequence_shape(layer, input_shape):
    """Raise unless ``input_shape`` is ``(batch, steps, channels)`` with known channels."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[2] is None or 0 in input_shape[1:]:
        hint = (" Add a channel axis: reshape x to (-1, steps, 1), or use layers.Reshape((steps, 1))."
                if len(input_shape) == 2 else "")
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects sequences of shape '
            f"(None, steps, channels), received input shape {input_shape}.{hint}"
        )


def one_positive_int(label, argument, value):
    """An int or a 1-tuple of one positive int, as an int."""
    received = value
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        error = ValueError if isinstance(value, (int, np.integer)) else ArgumentTypeError
        raise error(
            f"{label}: {argument} must be a positive integer or a tuple of one, received "
            f"{received!r}."
        )
    return int(value)


def sequence_output_length(length, span, stride, padding):
    """Output steps (see the module docstring); None stays None."""
    if length is None:
        return None
    if padding == "valid":
        return (length - span) // stride + 1
    return math.ceil(length / stride)


class Conv1D(WeightRegularizersMixin, ActivationMixin, Layer):
    """1-D convolution over ``(batch, steps, channels)`` sequences."""

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"{label}: data_format must be 'channels_last' (batch, steps, channels) or "
                f"'channels_first' (batch, channels, steps), received {data_format!r}."
            )
        self.data_format = data_format or "channels_last"
        self.groups = check_positive_int(label, "groups", groups)
        self.filters = check_positive_int(label, "filters", filters)
        if self.filters % self.groups:
            raise ValueError(f"{label}: the number of filters must be evenly divisible by "
                             f"groups, received filters={filters}, groups={groups}.")
        self.kernel_size = one_positive_int(label, "kernel_size", kernel_size)
        self.strides = one_positive_int(label, "strides", strides)
        self.dilation_rate = one_positive_int(label, "dilation_rate", dilation_rate)
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(
                f"{label}: strides > 1 together with dilation_rate > 1 is not supported (as in "
                f"Keras); received strides={strides!r}, dilation_rate={dilation_rate!r}."
            )
        self.padding = check_padding(padding, label, PADDINGS)
        self._set_activation(activation)
        self._set_kernel_and_bias(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self._in_channels = None

    @property
    def _span(self):
        return (self.kernel_size - 1) * self.dilation_rate + 1

    def _channels_last(self, value):
        """A channels_first shape or tensor as channels_last, and back (the same swap)."""
        if self.data_format == "channels_last":
            return value
        if isinstance(value, (tuple, list)):
            value = tuple(value)
            return (value[0], value[2], value[1]) if len(value) == 3 else value
        return ops.transpose(value, (0, 2, 1)) if value.ndim == 3 else value

    def build(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_sequence_shape(self, input_shape)
        if input_shape[2] % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be evenly divisible '
                f"by groups={self.groups}, received input shape {tuple(input_shape)} "
                f"({input_shape[2]} channels)."
            )
        steps = input_shape[1]
        if self.padding == "valid" and steps is not None and steps < self._span:
            raise ValueError(
                f'Layer "{self.name}": its kernel spans {self._span} steps (kernel_size '
                f"{self.kernel_size}, dilation_rate {self.dilation_rate}) but the sequences have "
                f"{steps} (input shape {tuple(input_shape)}); use a smaller kernel_size or "
                "padding='same' or 'causal'."
            )
        self._in_channels = input_shape[2]
        self._add_kernel_and_bias((self.kernel_size, self._in_channels // self.groups,
                                   self.filters), self.filters)

    def compute_output_shape(self, input_shape):
        received = tuple(input_shape)
        input_shape = self._channels_last(input_shape)
        check_sequence_shape(self, input_shape)
        if self._in_channels is not None and input_shape[2] != self._in_channels:
            raise ValueError(self._shape_message(received))
        steps = sequence_output_length(input_shape[1], self._span, self.strides, self.padding)
        return self._channels_last((input_shape[0], steps, self.filters))

    def call(self, inputs):
        received = inputs.shape
        inputs = self._channels_last(inputs)
        if inputs.ndim != 3 or inputs.shape[2] != self._in_channels:
            raise ValueError(self._shape_message(received))
        if self.groups == 1:
            y = ops.conv1d(inputs, self.kernel, self.bias, self.strides, self.padding,
                           self.dilation_rate, self._fused)
        else:  # each group of channels with its own filters, side by side
            width, count = self._in_channels // self.groups, self.filters // self.groups
            y = ops.concatenate([
                ops.conv1d(inputs[:, :, g * width:(g + 1) * width],
                           self.kernel[:, :, g * count:(g + 1) * count],
                           None if self.bias is None else self.bias[g * count:(g + 1) * count],
                           self.strides, self.padding, self.dilation_rate, self._fused)
                for g in range(self.groups)], axis=-1)
        y = y if self._after is None else self._after(y)
        return self._channels_last(y)

    def _shape_message(self, received):
        hint = " Add a channel axis: x.reshape(-1, steps, 1)." if len(received) == 2 else ""
        expected = ((None, self._in_channels, "steps") if self.data_format == "channels_first"
                    else (None, "steps", self._in_channels))
        return (
            f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
            f"({', '.join(map(str, expected))}), received shape {tuple(received)}.{hint}"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": (self.kernel_size,),  # tuples, as tf_keras 2.21 gives them
            "strides": (self.strides,),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": (self.dilation_rate,),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
        }
