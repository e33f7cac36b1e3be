"""DepthwiseConv2D and DepthwiseConv1D: each input channel convolved with its own filters.

A Conv2D mixes every input channel into every output; a depthwise convolution does
not mix channels at all: input channel c is convolved with its own
``depth_multiplier`` (M) filters, and output channel ``c*M + m`` is filter m of
channel c (see ``ops.depthwise_conv2d`` for the formula).  Shapes, channels-last:

* DepthwiseConv2D: (batch, height, width, C) -> (batch, height', width', C*M);
  ``depthwise_kernel`` (kh, kw, C, M), ``bias`` (C*M,).
* DepthwiseConv1D: (batch, steps, C) -> (batch, steps', C*M);
  ``depthwise_kernel`` (k, C, M), ``bias`` (C*M,).

Parameters: kh*kw*C*M + C*M (3*3*32*1 + 32 = 320 for 32 channels), about C times
fewer than a Conv2D to as many channels.  Output size along one axis, with the
dilated kernel's span ``(k - 1) * dilation_rate + 1``: "valid" ``(n - span) // s + 1``,
"same" ``ceil(n / s)``.

``data_format="channels_first"`` takes (batch, C, height, width) ((batch, C, steps))
and gives the channels first too (see ``channels_first.py``).

``DepthwiseConvBase`` holds what these and the separable convolutions
(``separable_conv.py``) share: the arguments, the checks, the depthwise kernel.
"""

from __future__ import annotations

from minidl import activations, constraints, initializers, ops, regularizers
from minidl.layers.base import Layer, check_positive_int, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.conv import check_image_shape
from minidl.layers.conv1d import check_sequence_shape, sequence_output_length
from minidl.layers.core import ActivationMixin
from minidl.ops._geometry import check_padding


class DepthwiseConvBase(ChannelsFirstMixin, ActivationMixin, Layer):
    """The arguments, checks and depthwise kernel of the depthwise and separable
    convolutions; ``rank`` is 1 (sequences) or 2 (images)."""

    rank = 2
    paddings = ("valid", "same")
    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format,
                 dilation_rate, activation, use_bias, depthwise_initializer, bias_initializer,
                 depthwise_regularizer, bias_regularizer, depthwise_constraint, bias_constraint,
                 groups=1, **kwargs):
        super().__init__(**kwargs)
        label = self._label = f'{type(self).__name__} layer "{self.name}"'
        self._set_data_format(data_format)
        if groups != 1:  # Keras's configs carry groups=1 (its base class's argument)
            raise ValueError(f"{label}: groups must be 1, received {groups!r}.")
        self.kernel_size = self._ints("kernel_size", kernel_size)
        self.strides = self._ints("strides", strides)
        self.dilation_rate = self._ints("dilation_rate", dilation_rate)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{label}: strides > 1 together with dilation_rate > 1 is not supported (as in "
                f"Keras); received strides={strides!r}, dilation_rate={dilation_rate!r}."
            )
        self.padding = check_padding(padding, label, self.paddings)
        self.depth_multiplier = check_positive_int(label, "depth_multiplier", depth_multiplier)
        self._set_activation(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = self._regularizer("depthwise_regularizer",
                                                       depthwise_regularizer)
        self.bias_regularizer = self._regularizer("bias_regularizer", bias_regularizer)
        self.depthwise_constraint = self._constraint("depthwise_constraint", depthwise_constraint)
        self.bias_constraint = self._constraint("bias_constraint", bias_constraint)
        self.depthwise_kernel = self.bias = None
        self._in_channels = None

    def _ints(self, argument, value):
        """``value`` as a tuple of ``rank`` positive ints (an int is repeated)."""
        return check_positive_ints(self._label, argument, value, self.rank)

    @property
    def _input_rank(self):
        return self.rank + 2

    @property
    def _spans(self):
        """How many pixels (steps) the dilated kernel covers, per axis."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))

    def _out_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def _check_input_shape(self, input_shape):
        """``input_shape`` (channels-last) checked; the messages show ``received``."""
        received, input_shape = input_shape, tuple(self._channels_last(input_shape))
        (check_image_shape if self.rank == 2 else check_sequence_shape)(self, input_shape)
        if input_shape[-1] is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) needs a known number of channels '
                f"(the {'second' if self.data_format == 'channels_first' else 'last'} axis), "
                f"received input shape {tuple(received)}."
            )
        if self._in_channels is not None and input_shape[-1] != self._in_channels:
            raise ValueError(self._shape_message(received))
        return input_shape

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        sizes = tuple(input_shape)[1:-1]
        if self.padding == "valid" and any(
                n is not None and n < span for n, span in zip(sizes, self._spans)):
            raise ValueError(
                f'Layer "{self.name}": its kernel spans {self._spans} (kernel_size '
                f"{self.kernel_size}, dilation_rate {self.dilation_rate}) but its input is only "
                f"{sizes} (input shape {tuple(input_shape)}); use a smaller kernel_size or "
                "padding='same'."
            )
        self._in_channels = input_shape[-1]
        self._add_weights(self._in_channels)

    def _add_weights(self, channels):
        self._add_depthwise_kernel(channels)
        self._add_bias(self._out_channels(channels))

    def _add_depthwise_kernel(self, channels):
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def _add_bias(self, units):
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def compute_output_shape(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        sizes = (sequence_output_length(n, span, s, self.padding)
                 for n, span, s in zip(tuple(input_shape)[1:-1], self._spans, self.strides))
        return self._channels_first(
            (input_shape[0], *sizes, self._out_channels(input_shape[-1])))

    def _depthwise(self, inputs, bias):
        """The depthwise convolution of ``inputs`` (checked, moved channels-last), plus
        ``bias`` if not None; channels-last."""
        received, inputs = inputs.shape, self._channels_last(inputs)
        if inputs.ndim != self.rank + 2 or inputs.shape[-1] != self._in_channels:
            raise ValueError(self._shape_message(received))
        if self.rank == 2:
            return ops.depthwise_conv2d(inputs, self.depthwise_kernel, bias, self.strides,
                                        self.padding, self.dilation_rate)
        return ops.depthwise_conv1d(inputs, self.depthwise_kernel, bias, self.strides,
                                    self.padding, self.dilation_rate)

    def call(self, inputs):
        return self._channels_first(self.activation(self._depthwise(inputs, self.bias)))

    def _shape_message(self, received):
        axes = ("height", "width") if self.rank == 2 else ("steps",)
        expected = self._expected_shape(*axes, self._in_channels)
        hint = ""
        if len(received) == self.rank + 1:
            hint = (" Add a channel axis: x.reshape(-1, height, width, 1)." if self.rank == 2
                    else " Add a channel axis: x.reshape(-1, steps, 1).")
        return (
            f'Input of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
            f"layer: expected shape {expected}, received shape "
            f"{tuple(received)}.{hint}"
        )

    def get_config(self):
        """Keras 2's keys, in its order (``groups``: its base class's, always 1)."""
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": 1,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        }


class DepthwiseConv2D(DepthwiseConvBase):
    """Depthwise 2-D convolution over images (Keras's arguments)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv1D(DepthwiseConvBase):
    """Depthwise 1-D convolution over ``(batch, steps, channels)`` sequences (Keras's
    arguments; no "causal" padding, as in Keras)."""

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
