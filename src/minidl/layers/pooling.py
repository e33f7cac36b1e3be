"""Pooling: shrink feature maps by summarising small windows.

``MaxPooling2D((2, 2))`` keeps the largest value of each 2x2 window (a
(N, 26, 26, 32) map becomes (N, 13, 13, 32)); ``AveragePooling2D`` keeps
the mean; ``GlobalAveragePooling2D`` averages each channel over the whole
image, (N, H, W, C) -> (N, C), and ``GlobalMaxPooling2D`` keeps its maximum.
Pooling has no weights.  ``strides`` defaults to ``pool_size`` (windows that
do not overlap).
"""

from __future__ import annotations

from minidl import ops
from minidl.layers.base import Layer, check_positive_ints
from minidl.ops._geometry import check_padding
from minidl.layers.conv import check_image_shape, check_window_fits, conv_output_length


class _Pooling2D(Layer):
    """Shared arguments and shapes; subclasses say how a window is summarised."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{label}: only data_format='channels_last' (NHWC) is supported.")
        self.pool_size = check_positive_ints(label, "pool_size", pool_size, 2)
        self.strides = (
            self.pool_size if strides is None else check_positive_ints(label, "strides", strides, 2)
        )
        self.padding = check_padding(padding, label)

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        if self.padding == "valid":
            check_window_fits(self, input_shape, self.pool_size, "pool_size")

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        height, width = (
            conv_output_length(n, k, s, self.padding)
            for n, k, s in zip(input_shape[1:3], self.pool_size, self.strides)
        )
        return (input_shape[0], height, width, input_shape[3])

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(
                f'Layer "{self.name}" expects images (N, H, W, C), received shape {inputs.shape}.'
            )
        return self._pool(inputs)

    def _pool(self, x):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": tuple(self.pool_size),
            "strides": tuple(self.strides),
            "padding": self.padding,
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


class _GlobalPooling2D(Layer):
    """One number per channel from the whole image: (N, H, W, C) -> (N, C), or
    (N, 1, 1, C) with ``keepdims=True``; subclasses say how."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": only data_format="channels_last" '
                f"(NHWC) is supported, received {data_format!r}."
            )
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_image_shape(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        batch, channels = input_shape[0], input_shape[3]
        return (batch, 1, 1, channels) if self.keepdims else (batch, channels)

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(
                f'Layer "{self.name}" expects images (N, H, W, C), received shape {inputs.shape}.'
            )
        y = self._pool(inputs)
        if self.keepdims:
            y = ops.reshape(y, (y.shape[0], 1, 1, y.shape[1]))
        return y

    def _pool(self, x):
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean of each channel over height and width."""

    def _pool(self, x):
        return ops.global_avg_pool2d(x)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum of each channel over height and width (the gradient goes to the
    maximum; ties share it, as in TensorFlow)."""

    def _pool(self, x):
        return ops.global_max_pool2d(x)
