"""Resizing images without weights: UpSampling2D, ZeroPadding2D, Cropping2D.

* ``UpSampling2D(size=(2, 2))``: (N, H, W, C) -> (N, 2H, 2W, C), each pixel
  repeated (``interpolation="nearest"``) or blended with its neighbours
  (``"bilinear"``, as ``tf.image.resize`` does: half-pixel centres).
* ``ZeroPadding2D(padding=(1, 1))``: zeros around the image,
  (N, H, W, C) -> (N, H + top + bottom, W + left + right, C).
* ``Cropping2D(cropping=((0, 0), (0, 0)))``: rows and columns removed from the
  edges, (N, H, W, C) -> (N, H - top - bottom, W - left - right, C).

``padding`` and ``cropping`` take Keras's three forms: an int (the same on
every side), ``(symmetric_height, symmetric_width)``, or
``((top, bottom), (left, right))``.  ``data_format="channels_first"`` takes
(N, C, H, W) and gives (N, C, H', W') (see ``channels_first.py``).
"""

from __future__ import annotations

import numbers

from minidl.layers.base import Layer, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.conv import check_image_shape
from minidl.ops import resampling


def check_edges(label, argument, value):
    """``value`` in any of Keras's three forms as ``((top, bottom), (left, right))``
    of non-negative ints, else a ValueError naming the layer and the forms."""

    def count(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    if count(value):
        edges = ((value, value), (value, value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(count(v) for v in value):
        edges = ((value[0], value[0]), (value[1], value[1]))
    elif (isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(pair, (tuple, list)) and len(pair) == 2 and all(count(v) for v in pair)
            for pair in value)):
        edges = tuple(tuple(pair) for pair in value)
    else:
        raise ValueError(
            f"{label}: {argument} must be a non-negative int, a tuple of 2 of them "
            f"(symmetric height, symmetric width), or ((top, bottom), (left, right)); "
            f"received {value!r}."
        )
    return tuple(tuple(int(v) for v in pair) for pair in edges)


class UpSampling2D(ChannelsFirstMixin, Layer):
    """Repeats (or interpolates) rows and columns: (N, H, W, C) -> (N, H*fh, W*fw, C)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        label = f'UpSampling2D layer "{self.name}"'
        self._set_data_format(data_format)
        self.size = check_positive_ints(label, "size", size, 2)
        if interpolation not in resampling.INTERPOLATIONS:
            raise ValueError(
                f"{label}: interpolation must be one of {resampling.INTERPOLATIONS}, received "
                f"{interpolation!r} (Keras's area, bicubic, gaussian, lanczos and mitchellcubic "
                "resizes are not in minidl)."
            )
        self.interpolation = interpolation

    def build(self, input_shape):
        check_image_shape(self, self._channels_last(input_shape))

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        batch, height, width, channels = input_shape
        return self._channels_first((
            batch, *(None if n is None else n * f for n, f in zip((height, width), self.size)),
            channels))

    def call(self, inputs):
        inputs = self._channels_last(inputs)
        check_image_shape(self, inputs.shape)
        return self._channels_first(resampling.upsample2d(inputs, self.size, self.interpolation))

    def get_config(self):
        return {**super().get_config(), "size": tuple(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}


class ZeroPadding2D(ChannelsFirstMixin, Layer):
    """Zeros around each image: ``padding`` rows/columns at the edges."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.padding = check_edges(f'ZeroPadding2D layer "{self.name}"', "padding", padding)

    def build(self, input_shape):
        check_image_shape(self, self._channels_last(input_shape))

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        batch, height, width, channels = input_shape
        sizes = (None if n is None else n + before + after
                 for n, (before, after) in zip((height, width), self.padding))
        return self._channels_first((batch, *sizes, channels))

    def call(self, inputs):
        inputs = self._channels_last(inputs)
        check_image_shape(self, inputs.shape)
        return self._channels_first(resampling.zero_pad2d(inputs, self.padding))

    def get_config(self):
        return {**super().get_config(), "padding": tuple(tuple(pair) for pair in self.padding),
                "data_format": self.data_format}


class Cropping2D(ChannelsFirstMixin, Layer):
    """Removes ``cropping`` rows/columns at the edges of each image."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.cropping = check_edges(f'Cropping2D layer "{self.name}"', "cropping", cropping)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_image_shape(self, input_shape)
        batch, height, width, channels = input_shape
        sizes = tuple(None if n is None else n - before - after
                      for n, (before, after) in zip((height, width), self.cropping))
        if any(size is not None and size < 1 for size in sizes):
            raise ValueError(
                f'Cropping2D layer "{self.name}": cropping {self.cropping} leaves nothing of '
                f"images of size {(height, width)} (input shape {tuple(input_shape)}); crop less."
            )
        return self._channels_first((batch, *sizes, channels))

    def call(self, inputs):
        inputs = self._channels_last(inputs)
        check_image_shape(self, inputs.shape)
        return self._channels_first(resampling.crop2d(inputs, self.cropping))

    def get_config(self):
        return {**super().get_config(), "cropping": tuple(tuple(pair) for pair in self.cropping),
                "data_format": self.data_format}
