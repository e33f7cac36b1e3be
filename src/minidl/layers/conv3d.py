"""Conv3D: a small learned filter slid through a volume (a video clip, a CT scan).

Volumes are channels-last, ``(batch, depth, height, width, channels)`` (D frames or
slices of H x W pixels), and the kernel has Keras's layout
``(kernel_d, kernel_h, kernel_w, in_channels, filters)``.  Each output voxel is the
dot product of one ``kd x kh x kw x in`` box with each filter, plus a bias per
filter; parameters: ``kd * kh * kw * in * filters + filters`` (3*3*3*1*64 + 64 =
1792).  Output size along each axis, for input size ``n``, kernel ``k``, stride ``s``:
``padding="valid"`` ``(n - k) // s + 1``, ``padding="same"`` ``ceil(n / s)``.
``dilation_rate=d`` spreads the taps d voxels apart (``k`` above is then the span
``(k - 1) * d + 1``; strides must be 1, as in Keras); ``groups=g`` gives each of g
groups of ``in / g`` channels its own ``filters / g`` filters (kernel
``(kd, kh, kw, in / g, filters)``), as Conv2D does.
How it runs: ``ops.conv3d`` (one 2-D convolution over the depth slices laid side by
side).  ``data_format="channels_first"`` takes (batch, channels, depth, height, width)
(see ``channels_first.py``).
"""

from __future__ import annotations

from minidl import activations, initializers, ops
from minidl.layers.base import Layer, check_positive_int, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.conv import check_dilation_and_groups, conv_output_length
from minidl.layers.core import ActivationMixin, WeightRegularizersMixin
from minidl.ops._geometry import check_padding


def check_volume_shape(layer, input_shape):
    """Raise unless ``input_shape`` is ``(batch, depth, height, width, channels)``, none 0."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 5 or 0 in input_shape[1:]:
        axes = ("depth", "height", "width")
        if getattr(layer, "data_format", None) == "channels_first":
            axes, one = ("channels", *axes), "1, depth, height, width"
        else:
            axes, one = (*axes, "channels"), "depth, height, width, 1"
        hint = (f" Add a channel axis: reshape x to (-1, {one}), or use "
                f"layers.Reshape(({one}))." if len(input_shape) == 4 else "")
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects volumes of shape (None, '
            f"{', '.join(axes)}), received input shape {input_shape}.{hint}"
        )


def check_box_fits(layer, input_shape, box, what):
    """Raise when a ``valid`` window (kernel or pool) is larger than the volume."""
    sizes = tuple(input_shape[1:4])
    if any(n is not None and k > n for n, k in zip(sizes, box)):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}): {what} {tuple(box)} is larger than '
            f"its input volume {sizes} (input shape {tuple(input_shape)}); use a smaller "
            f"{what}, padding='same', or fewer pooling layers before it."
        )


def volume_output_shape(input_shape, box, strides, padding, channels):
    """(batch, OD, OH, OW, channels) for a window moved through the volume."""
    sizes = (conv_output_length(n, k, s, padding)
             for n, k, s in zip(input_shape[1:4], box, strides))
    return (input_shape[0], *sizes, channels)


class Conv3D(ChannelsFirstMixin, WeightRegularizersMixin, ActivationMixin, Layer):
    """3-D convolution over volumes, channels-last (or ``data_format="channels_first"``)."""

    _input_rank = 5
    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self._set_data_format(data_format)
        self.filters = check_positive_int(label, "filters", filters)
        self.kernel_size = check_positive_ints(label, "kernel_size", kernel_size, 3)
        self.strides = check_positive_ints(label, "strides", strides, 3)
        self.padding = check_padding(padding, label)
        self.dilation_rate, self.groups = check_dilation_and_groups(
            label, self.filters, self.strides, dilation_rate, groups)
        self._set_activation(activation)
        self._set_kernel_and_bias(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self._in_channels = None

    def build(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        if input_shape[4] is None:
            raise ValueError(self._shape_message(received))
        if self.padding == "valid":
            check_box_fits(self, input_shape, self._spans, self._window_name)
        if input_shape[4] % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be evenly divisible '
                f"by the number of groups, received groups={self.groups}, but the input has "
                f"{input_shape[4]} channels (input shape {tuple(input_shape)})."
            )
        self._in_channels = input_shape[4]
        self._add_kernel_and_bias(
            (*self.kernel_size, self._in_channels // self.groups, self.filters), self.filters)

    @property
    def _spans(self):
        """The voxels the (dilated) kernel spans along each axis, (k - 1) * d + 1."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))

    @property
    def _window_name(self):
        return "kernel_size" if self.dilation_rate == (1, 1, 1) else "dilated kernel_size"

    def compute_output_shape(self, input_shape):
        received, input_shape = input_shape, self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        if self._in_channels is not None and input_shape[4] != self._in_channels:
            raise ValueError(self._shape_message(received))
        return self._channels_first(volume_output_shape(
            input_shape, self._spans, self.strides, self.padding, self.filters))

    def call(self, inputs):
        received, inputs = inputs.shape, self._channels_last(inputs)
        shape = inputs.shape
        if len(shape) != 5 or shape[4] != self._in_channels:
            raise ValueError(self._shape_message(received))
        if self.padding == "valid":  # sizes unknown at build are known now
            check_box_fits(self, shape, self._spans, self._window_name)
        y = ops.conv3d(inputs, self.kernel, self.bias, self.strides, self.padding, self._fused,
                       self.dilation_rate, self.groups)
        return self._channels_first(y if self._after is None else self._after(y))

    def _shape_message(self, received):
        hint = ""
        if len(received) == 4:
            hint = " Add a channel axis: x.reshape(-1, depth, height, width, 1)."
        elif self.data_format == "channels_last" and len(received) == 5 and (
                received[1] == self._in_channels):
            hint = (" Volumes must be channels-last (N, D, H, W, C); move the channel axis "
                    'with np.moveaxis(x, 1, -1), or give the layer data_format="channels_first".')
        expected = self._expected_shape("depth", "height", "width", self._in_channels)
        return (
            f'Input of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
            f"layer: expected shape {expected}, received shape {tuple(received)}.{hint}"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
        }
