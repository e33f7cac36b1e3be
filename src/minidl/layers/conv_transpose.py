"""Conv2DTranspose and Conv1DTranspose: a learned upsampling, the transpose of a
strided Conv2D (Conv1D).

Where ``Conv2D(filters, 3, strides=2, padding="same")`` turns a (N, 28, 28, C)
image into (N, 14, 14, filters), ``Conv2DTranspose(filters, 3, strides=2,
padding="same")`` turns (N, 14, 14, C) into (N, 28, 28, filters): every input
pixel adds a copy of the kernel, scaled by its value, into the output.  It is
the decoder's half of an autoencoder and the generator of a DCGAN.

The kernel has Keras's layout ``(kernel_h, kernel_w, filters, in_channels)``
(filters and inputs swapped relative to Conv2D: it is the kernel of the
convolution it transposes), so weights copied from Keras give Keras's
outputs; parameters: ``kh * kw * filters * in + filters``.

Output size along one axis, input ``n``, kernel ``k``, stride ``s`` (Keras's
``deconv_output_length``, see ``minidl.ops.conv2d_transpose``):

* ``padding="valid"``: ``n * s + max(k - s, 0)``
* ``padding="same"``: ``n * s``
* with ``output_padding=p``: ``(n - 1) * s + k + p`` ("valid"), or
  ``(n - 1) * s + k - 2 * (k // 2) + p`` ("same")

with ``k`` the dilated span ``(k - 1) * d + 1`` for ``dilation_rate=d`` (stride 1
and the same d on both axes, as Keras requires).

Conv1DTranspose is the same over ``(batch, steps, channels)`` sequences (an
autoencoder's decoder for time series): kernel ``(kernel_size, filters,
in_channels)``, parameters ``kernel_size * filters * in + filters``, and the
rules above along the steps, with ``k`` the dilated span ``(kernel_size - 1) *
dilation_rate + 1`` (see ``minidl.ops.conv1d_transpose``).
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.conv import Conv2D, check_image_shape
from minidl.layers.conv1d import Conv1D, check_sequence_shape
from minidl.ops._geometry import check_padding
from minidl.ops.conv2d_transpose import check_output_padding, transposed_geometry


class Conv2DTranspose(Conv2D):
    """Transposed 2-D convolution over images (Keras's arguments; ``data_format`` as
    Conv2D's)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        label = f'Conv2DTranspose layer "{self.name}"'
        self.output_padding = check_output_padding(output_padding, self.strides, label)
        if self.dilation_rate[0] != self.dilation_rate[1]:
            raise ValueError(
                f"{label}: expected the 2 dimensions of the dilation_rate argument to be equal "
                f"to each other (as in Keras), received dilation_rate={dilation_rate!r}."
            )
        if self.groups != 1:
            raise ValueError(
                f"{label}: groups={self.groups} is not supported: Keras's Conv2DTranspose takes "
                "it but ignores it (its kernel stays (kh, kw, filters, in_channels)); pass "
                "groups=1, or Conv2D(groups=...) for a grouped convolution."
            )

    def build(self, input_shape):
        self._in_channels = self._channels_last(input_shape)[3] if len(input_shape) == 4 else None
        self.compute_output_shape(input_shape)  # refuses sizes it cannot produce
        shape = (*self.kernel_size, self.filters, self._in_channels)
        self._add_kernel_and_bias(shape, self.filters)

    def compute_output_shape(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        if self._in_channels is not None and input_shape[3] != self._in_channels:
            raise ValueError(self._shape_message(received))
        extra = self.output_padding or (None, None)
        height, width = (
            None if n is None else transposed_geometry(
                n, k, s, self.padding, p, f'Conv2DTranspose layer "{self.name}"')[0]
            for n, k, s, p in zip(input_shape[1:3], self._spans, self.strides, extra)
        )
        return self._channels_first((input_shape[0], height, width, self.filters))

    def call(self, inputs):
        received, inputs = inputs.shape, self._channels_last(inputs)
        shape = inputs.shape
        if len(shape) != 4 or shape[3] != self._in_channels:
            raise ValueError(self._shape_message(received))
        y = ops.conv2d_transpose(inputs, self.kernel, self.bias, self.strides, self.padding,
                                 self.output_padding, self.dilation_rate)
        return self._channels_first(self.activation(y))

    def get_config(self):
        output_padding = None if self.output_padding is None else tuple(self.output_padding)
        return {**super().get_config(), "output_padding": output_padding}


class Conv1DTranspose(Conv1D):
    """Transposed 1-D convolution over ``(batch, steps, channels)`` sequences (Keras's
    arguments)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding="valid",
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        label = f'Conv1DTranspose layer "{self.name}"'
        if self.data_format != "channels_last":  # (Conv1D takes it; this layer does not yet)
            raise ValueError(f"{label}: data_format must be 'channels_last' (batch, steps, "
                             f"channels), received {data_format!r}.")
        self.padding = check_padding(padding, label, ("valid", "same"))  # no "causal"
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = one_non_negative_int(label, output_padding)
            if self.output_padding >= self.strides:
                raise ValueError(
                    f"{label}: output_padding must be smaller than strides, received "
                    f"output_padding={output_padding!r} with strides={strides!r}."
                )

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)
        self._in_channels = input_shape[2]
        self.compute_output_shape(input_shape)  # refuses sizes it cannot produce
        self._add_kernel_and_bias((self.kernel_size, self.filters, self._in_channels),
                                  self.filters)

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        if self._in_channels is not None and input_shape[2] != self._in_channels:
            raise ValueError(self._shape_message(input_shape))
        steps = input_shape[1]
        if steps is not None:
            steps = transposed_geometry(steps, self._span, self.strides, self.padding,
                                        self.output_padding,
                                        f'Conv1DTranspose layer "{self.name}"')[0]
        return (input_shape[0], steps, self.filters)

    def call(self, inputs):
        if inputs.ndim != 3 or inputs.shape[2] != self._in_channels:
            raise ValueError(self._shape_message(inputs.shape))
        y = ops.conv1d_transpose(inputs, self.kernel, self.bias, self.strides, self.padding,
                                 self.output_padding, self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        output_padding = None if self.output_padding is None else (self.output_padding,)
        return {**super().get_config(), "output_padding": output_padding}


def one_non_negative_int(label, value):
    """``output_padding``: an int or a tuple of one, 0 or more, as an int."""
    received = value
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"{label}: output_padding must be None, a non-negative integer or a tuple of one, "
            f"received {received!r}."
        )
    return int(value)
