"""Pooling over volumes ``(batch, depth, height, width, channels)``.

``MaxPooling3D((2, 2, 2))`` keeps the largest value of each 2x2x2 box (a
(N, 16, 64, 64, 32) clip becomes (N, 8, 32, 32, 32)); ``AveragePooling3D`` keeps
the mean (padding not counted, as in TensorFlow); ``strides`` defaults to
``pool_size``.  ``GlobalAveragePooling3D`` and ``GlobalMaxPooling3D`` summarise each
channel over the whole volume, (N, D, H, W, C) -> (N, C), or (N, 1, 1, 1, C) with
``keepdims=True``.  No weights.  How they run: ``ops.pooling3d``.
``data_format="channels_first"`` takes (N, C, D, H, W) (see ``channels_first.py``).
"""

from __future__ import annotations

from minidl import ops
from minidl.layers.base import Layer, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.conv3d import check_box_fits, check_volume_shape, volume_output_shape
from minidl.ops._geometry import check_padding


def _check_call(layer, inputs):
    if inputs.ndim != 5:
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects volumes '
            f'{layer._expected_shape("D", "H", "W", "C")}, received shape {inputs.shape}.'
        )


class _Pooling3D(ChannelsFirstMixin, Layer):
    """Shared arguments and shapes; subclasses say how a box is summarised."""

    _input_rank = 5

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self._set_data_format(data_format)
        self.pool_size = check_positive_ints(label, "pool_size", pool_size, 3)
        self.strides = (self.pool_size if strides is None
                        else check_positive_ints(label, "strides", strides, 3))
        self.padding = check_padding(padding, label)

    def build(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        if self.padding == "valid":
            check_box_fits(self, input_shape, self.pool_size, "pool_size")

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        return self._channels_first(volume_output_shape(
            input_shape, self.pool_size, self.strides, self.padding, input_shape[4]))

    def call(self, inputs):
        _check_call(self, inputs)
        inputs = self._channels_last(inputs)
        if self.padding == "valid":
            check_box_fits(self, inputs.shape, self.pool_size, "pool_size")
        return self._channels_first(
            self._pool(inputs, self.pool_size, self.strides, self.padding))

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling3D(_Pooling3D):
    """The maximum of each box."""

    _pool = staticmethod(ops.max_pool3d)


class AveragePooling3D(_Pooling3D):
    """The mean of each box (padding not counted, as in TensorFlow)."""

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    _pool = staticmethod(ops.avg_pool3d)


class _GlobalPooling3D(ChannelsFirstMixin, Layer):
    """One number per channel from the whole volume: (N, D, H, W, C) -> (N, C), or
    (N, 1, 1, 1, C) with ``keepdims=True`` ((N, C, 1, 1, 1) channels-first)."""

    _input_rank = 5

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_volume_shape(self, self._channels_last(input_shape))

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        batch, channels = input_shape[0], input_shape[4]
        return self._channels_first(
            (batch, 1, 1, 1, channels) if self.keepdims else (batch, channels))

    def call(self, inputs):
        _check_call(self, inputs)
        y = self._pool(self._channels_last(inputs))
        if self.keepdims:
            y = ops.reshape(y, self._channels_first((y.shape[0], 1, 1, 1, y.shape[1])))
        return y

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling3D(_GlobalPooling3D):
    """The mean of each channel over depth, height and width."""

    _pool = staticmethod(ops.global_avg_pool3d)


class GlobalMaxPooling3D(_GlobalPooling3D):
    """The maximum of each channel over depth, height and width (the gradient goes to
    the maximum; ties share it, as in TensorFlow)."""

    _pool = staticmethod(ops.global_max_pool3d)
