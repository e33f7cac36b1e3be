"""Conv2D: a small learned filter slid over an image.

Images are channels-last, ``(batch, height, width, channels)``, and the
kernel has Keras's layout ``(kernel_h, kernel_w, in_channels, filters)``.
Each output pixel is the dot product of one ``kernel_h x kernel_w x in``
window with each filter, plus a bias per filter; parameters:
``kh * kw * in * filters + filters`` (3*3*1*32 + 32 = 320).

Output size along one axis, for input size ``n``, kernel ``k``, stride ``s``:

* ``padding="valid"`` (no padding): ``(n - k) // s + 1``
* ``padding="same"`` (zeros added around): ``ceil(n / s)``

``dilation_rate=d`` spreads the kernel's taps d pixels apart, so that it spans
``(k - 1) * d + 1`` pixels (that span is ``k`` in the sizes above) with the
same weights; strides above 1 are then refused, as in Keras.  ``groups=g``
splits the input channels into g groups, each convolved with its own
``filters / g`` filters: the kernel is ``(kh, kw, in / g, filters)``, g times
fewer weights, and the outputs are concatenated in group order
(``minidl.ops.conv_dilated`` shows how both run).
"""

from __future__ import annotations

import math

import numpy as np

from minidl import activations, initializers, ops
from minidl.layers.base import Layer, check_positive_int, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.core import ActivationMixin, WeightRegularizersMixin
from minidl.ops._geometry import check_padding


def conv_output_length(length, kernel, stride, padding, dilation=1):
    """Output size along one axis (see the module docstring)."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    return (length - kernel) // stride + 1


def check_dilation_and_groups(label, filters, strides, dilation_rate, groups):
    """``(dilation_rate, groups)`` of a convolution with these ``strides`` (a tuple, one
    per axis) and ``filters``, checked as Keras checks them: dilation only with stride 1,
    and the filters split evenly into the groups (the input channels are checked at build)."""
    dilation = check_positive_ints(label, "dilation_rate", dilation_rate, len(strides))
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"{label}: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras); received strides={strides!r}, dilation_rate={dilation_rate!r}."
        )
    groups_checked = check_positive_int(label, "groups", groups)
    if filters % groups_checked:
        raise ValueError(
            f"{label}: the number of filters must be evenly divisible by the number of "
            f"groups, received groups={groups!r}, filters={filters!r}."
        )
    return dilation, groups_checked


def check_image_shape(layer, input_shape):
    """Raise unless ``input_shape`` is ``(batch, height, width, channels)``, none of them 0
    (``(batch, channels, height, width)`` in the message of a channels-first layer)."""
    if len(input_shape) != 4 or 0 in tuple(input_shape)[1:]:
        first = getattr(layer, "data_format", None) == "channels_first"
        hint = (
            " Add a channel axis: reshape x to (-1, 1, height, width), "
            "or use layers.Reshape((1, height, width))." if first else
            " Add a channel axis: reshape x to (-1, height, width, 1), "
            "or use layers.Reshape((height, width, 1))."
        ) if len(input_shape) == 3 else ""
        expected = "channels, height, width" if first else "height, width, channels"
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects images of shape '
            f"(None, {expected}), received input shape {tuple(input_shape)}.{hint}"
        )


def check_window_fits(layer, input_shape, window, what):
    """Raise when a ``valid`` window is larger than the image."""
    height, width = input_shape[1:3]
    if (height is not None and window[0] > height) or (width is not None and window[1] > width):
        raise ValueError(
            f'Layer "{layer.name}": {what} {window} is larger than its input image '
            f"{(height, width)} (input shape {tuple(input_shape)}); use a smaller {what}, "
            "padding='same', or fewer pooling layers before it."
        )


class Conv2D(ChannelsFirstMixin, WeightRegularizersMixin, ActivationMixin, Layer):
    """2-D convolution over images, channels-last (or ``data_format="channels_first"``)."""

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{label}: filters must be a positive integer, received {filters!r}.")
        self._set_data_format(data_format)
        self.filters = int(filters)
        self.kernel_size = check_positive_ints(label, "kernel_size", kernel_size, 2)
        self.strides = check_positive_ints(label, "strides", strides, 2)
        self.dilation_rate, self.groups = check_dilation_and_groups(
            label, self.filters, self.strides, dilation_rate, groups)
        self.padding = check_padding(padding, label)
        self._set_activation(activation)
        self._set_kernel_and_bias(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self._in_channels = None

    def build(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        if self.padding == "valid":
            check_window_fits(self, input_shape, self._spans, self._window_name)
        if input_shape[3] is not None and input_shape[3] % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be evenly divisible '
                f"by the number of groups, received groups={self.groups}, but the input has "
                f"{input_shape[3]} channels (input shape {tuple(input_shape)})."
            )
        self._in_channels = input_shape[3]
        shape = (*self.kernel_size, self._in_channels // self.groups, self.filters)
        self._add_kernel_and_bias(shape, self.filters)

    @property
    def _spans(self):
        """The pixels the (dilated) kernel spans, (kh - 1) * dh + 1 by (kw - 1) * dw + 1."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))

    @property
    def _window_name(self):
        return "kernel_size" if self.dilation_rate == (1, 1) else "dilated kernel_size"

    def compute_output_shape(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        if self._in_channels is not None and input_shape[3] != self._in_channels:
            raise ValueError(self._shape_message(received))
        height, width = (
            conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(input_shape[1:3], self.kernel_size, self.strides,
                                  self.dilation_rate)
        )
        return self._channels_first((input_shape[0], height, width, self.filters))

    def call(self, inputs):
        received, inputs = inputs.shape, self._channels_last(inputs)
        shape = inputs.shape
        if len(shape) != 4 or shape[3] != self._in_channels:
            raise ValueError(self._shape_message(received))
        y = ops.conv2d(inputs, self.kernel, self.bias, self.strides, self.padding, self._fused,
                       self.dilation_rate, self.groups)
        return self._channels_first(y if self._after is None else self._after(y))

    def _shape_message(self, received):
        hint = ""
        if len(received) == 3:
            hint = " Add a channel axis: x.reshape(-1, height, width, 1)."
        elif self.data_format == "channels_last" and len(received) == 4 and (
                received[1] == self._in_channels):
            hint = (" Images must be channels-last (N, H, W, C); transpose x with (0, 2, 3, 1), "
                    'or give the layer data_format="channels_first".')
        expected = self._expected_shape("height", "width", self._in_channels)
        return (
            f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
            f"{expected}, received shape {tuple(received)}.{hint}"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": tuple(self.kernel_size),
            "strides": tuple(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": tuple(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
        }
