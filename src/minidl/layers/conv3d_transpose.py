"""Conv3DTranspose: a learned upsampling of volumes, the transpose of a strided Conv3D.

Where ``Conv3D(filters, 3, strides=2, padding="same")`` turns a (N, 16, 32, 32, C)
volume into (N, 8, 16, 16, filters), ``Conv3DTranspose(filters, 3, strides=2,
padding="same")`` turns (N, 8, 16, 16, C) into (N, 16, 32, 32, filters): every input
voxel adds a copy of the kernel, scaled by its value, into the output (the decoder
of a 3-D autoencoder or segmentation network).

The kernel has Keras's layout ``(kernel_d, kernel_h, kernel_w, filters, in_channels)``
(filters and inputs swapped relative to Conv3D: it is the kernel of the convolution
it transposes); parameters: ``kd * kh * kw * filters * in + filters``.  Output size
along each axis, input ``n``, kernel ``k``, stride ``s`` (Keras's
``deconv_output_length``):

* ``padding="valid"``: ``n * s + max(k - s, 0)``
* ``padding="same"``: ``n * s``
* with ``output_padding=p``: ``(n - 1) * s + k + p`` ("valid"), or
  ``(n - 1) * s + k - 2 * (k // 2) + p`` ("same")

How it runs: ``ops.conv3d_transpose`` (one 2-D transposed convolution of the depth
slices, then the depth taps added in place).  ``data_format="channels_first"`` takes
(batch, channels, depth, height, width) (see ``channels_first.py``).  Keras's
Conv3DTranspose takes ``dilation_rate`` and ``groups`` but does not use them; here
anything but 1 is refused.
"""

from __future__ import annotations

from minidl import ops
from minidl.layers.conv3d import Conv3D, check_volume_shape
from minidl.ops.conv3d_transpose import check_output_padding3
from minidl.ops.conv2d_transpose import transposed_geometry


class Conv3DTranspose(Conv3D):
    """Transposed 3-D convolution over volumes (Keras's arguments; ``data_format`` as
    Conv3D's)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        label = f'Conv3DTranspose layer "{self.name}"'
        self.output_padding = check_output_padding3(output_padding, self.strides, label)
        if self.dilation_rate != (1, 1, 1):
            raise ValueError(
                f"{label}: dilation_rate={dilation_rate!r} is not supported: Keras's "
                "Conv3DTranspose takes it but computes without it (and its get_config drops "
                "it); pass dilation_rate=1, or spread the kernel yourself."
            )
        if self.groups != 1:
            raise ValueError(
                f"{label}: groups={self.groups} is not supported: Keras's Conv3DTranspose takes "
                "it but ignores it (its kernel stays (kd, kh, kw, filters, in_channels)); pass "
                "groups=1, or Conv3D(groups=...) for a grouped convolution."
            )

    def build(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        if input_shape[4] is None:
            raise ValueError(self._shape_message(received))
        self.compute_output_shape(received)  # refuses sizes it cannot produce
        self._in_channels = input_shape[4]
        self._add_kernel_and_bias((*self.kernel_size, self.filters, self._in_channels),
                                  self.filters)

    def compute_output_shape(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        if self._in_channels is not None and input_shape[4] != self._in_channels:
            raise ValueError(self._shape_message(received))
        extra = self.output_padding or (None, None, None)
        sizes = (
            None if n is None else transposed_geometry(
                n, k, s, self.padding, p, f'Conv3DTranspose layer "{self.name}"')[0]
            for n, k, s, p in zip(input_shape[1:4], self.kernel_size, self.strides, extra)
        )
        return self._channels_first((input_shape[0], *sizes, self.filters))

    def call(self, inputs):
        received, inputs = inputs.shape, self._channels_last(inputs)
        shape = inputs.shape
        if len(shape) != 5 or shape[4] != self._in_channels:
            raise ValueError(self._shape_message(received))
        y = ops.conv3d_transpose(inputs, self.kernel, self.bias, self.strides, self.padding,
                                 self.output_padding)
        return self._channels_first(self.activation(y))

    def get_config(self):
        config = {**super().get_config(), "output_padding": self.output_padding}
        del config["dilation_rate"]  # as Keras's: it is not used
        return config
