"""Pooling: shrink feature maps by summarising small windows.

``MaxPooling2D((2, 2))`` keeps the largest value of each 2x2 window (a
(N, 26, 26, 32) map becomes (N, 13, 13, 32)); ``AveragePooling2D`` keeps
the mean; ``GlobalAveragePooling2D`` averages each channel over the whole
image, (N, H, W, C) -> (N, C), and ``GlobalMaxPooling2D`` keeps its maximum.
Pooling has no weights.  ``strides`` defaults to ``pool_size`` (windows that
do not overlap).  ``data_format="channels_first"`` takes (N, C, H, W) and gives
(N, C, H', W') (or (N, C) from the global poolings; see ``channels_first.py``).
"""

from __future__ import annotations

from minidl import ops
from minidl.layers.base import Layer, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.ops._geometry import check_padding
from minidl.layers.conv import check_image_shape, check_window_fits, conv_output_length


class _Pooling2D(ChannelsFirstMixin, Layer):
    """Shared arguments and shapes; subclasses say how a window is summarised."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self._set_data_format(data_format)
        self.pool_size = check_positive_ints(label, "pool_size", pool_size, 2)
        self.strides = (
            self.pool_size if strides is None else check_positive_ints(label, "strides", strides, 2)
        )
        self.padding = check_padding(padding, label)

    def build(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        if self.padding == "valid":
            check_window_fits(self, input_shape, self.pool_size, "pool_size")

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        height, width = (
            conv_output_length(n, k, s, self.padding)
            for n, k, s in zip(input_shape[1:3], self.pool_size, self.strides)
        )
        return self._channels_first((input_shape[0], height, width, input_shape[3]))

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(
                f'Layer "{self.name}" expects images {self._expected_shape("H", "W", "C")}, '
                f"received shape {inputs.shape}."
            )
        return self._channels_first(self._pool(self._channels_last(inputs)))

    def _pool(self, x):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": tuple(self.pool_size),
            "strides": tuple(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling2D):
    """The maximum of each window."""

    def _pool(self, x):
        return ops.max_pool2d(x, self.pool_size, self.strides, self.padding)


class AveragePooling2D(_Pooling2D):
    """The mean of each window (padding not counted, as in TensorFlow)."""

    _integer_inputs = "refuse"  # as in Keras: integer inputs are an error here

    def _pool(self, x):
        return ops.avg_pool2d(x, self.pool_size, self.strides, self.padding)


class _GlobalPooling2D(ChannelsFirstMixin, Layer):
    """One number per channel from the whole image: (N, H, W, C) -> (N, C), or
    (N, 1, 1, C) with ``keepdims=True`` ((N, C, 1, 1) channels-first); subclasses say how."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_image_shape(self, self._channels_last(input_shape))

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        batch, channels = input_shape[0], input_shape[3]
        return self._channels_first((batch, 1, 1, channels) if self.keepdims else (batch, channels))

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(
                f'Layer "{self.name}" expects images {self._expected_shape("H", "W", "C")}, '
                f"received shape {inputs.shape}."
            )
        y = self._pool(self._channels_last(inputs))
        if self.keepdims:
            y = ops.reshape(y, self._channels_first((y.shape[0], 1, 1, y.shape[1])))
        return y

    def _pool(self, x):
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean of each channel over height and width."""

    def _pool(self, x):
        return ops.global_avg_pool2d(x)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum of each channel over height and width (the gradient goes to the
    maximum; ties share it, as in TensorFlow)."""

    def _pool(self, x):
        return ops.global_max_pool2d(x)
