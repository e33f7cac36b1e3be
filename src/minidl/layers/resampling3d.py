"""Resizing volumes without weights: UpSampling3D, ZeroPadding3D, Cropping3D.

Volumes are ``(batch, depth, height, width, channels)``:

* ``UpSampling3D(size=(2, 2, 2))``: each voxel repeated into a 2x2x2 block,
  (N, D, H, W, C) -> (N, 2D, 2H, 2W, C).
* ``ZeroPadding3D(padding=(1, 1, 1))``: zeros around the volume,
  (N, D, H, W, C) -> (N, D + front + back, H + top + bottom, W + left + right, C).
* ``Cropping3D(cropping=((1, 1), (1, 1), (1, 1)))``: voxels removed at the edges,
  (N, D, H, W, C) -> (N, D - front - back, H - top - bottom, W - left - right, C).

``padding`` and ``cropping`` take Keras's three forms: an int (the same on every
side), ``(symmetric_depth, symmetric_height, symmetric_width)``, or
``((front, back), (top, bottom), (left, right))``.  How they run: ``ops.resampling3d``.
``data_format="channels_first"`` takes (N, C, D, H, W) (see ``channels_first.py``).
"""

from __future__ import annotations

import numbers

from minidl import ops
from minidl.layers.base import Layer, check_positive_ints
from minidl.layers.channels_first import ChannelsFirstMixin
from minidl.layers.conv3d import check_volume_shape


def check_faces(label, argument, value):
    """``value`` in any of Keras's three forms as ``((front, back), (top, bottom),
    (left, right))`` of non-negative ints, else a ValueError naming the layer."""

    def count(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    def triple(v):
        return isinstance(v, (tuple, list)) and len(v) == 3

    if count(value):
        return ((int(value),) * 2,) * 3
    if triple(value) and all(count(v) for v in value):
        return tuple((int(v), int(v)) for v in value)
    if triple(value) and all(isinstance(pair, (tuple, list)) and len(pair) == 2
                             and all(count(v) for v in pair) for pair in value):
        return tuple((int(a), int(b)) for a, b in value)
    raise ValueError(
        f"{label}: {argument} must be a non-negative int, a tuple of 3 of them (symmetric "
        f"depth, height, width), or ((front, back), (top, bottom), (left, right)); "
        f"received {value!r}."
    )


class _Resampling3D(ChannelsFirstMixin, Layer):
    """Shared: (batch, D, H, W, C) in and out (or (batch, C, D, H, W) with
    ``data_format="channels_first"``); unknown sizes stay so."""

    _input_rank = 5

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._set_data_format(data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        input_shape = self._channels_last(input_shape)
        check_volume_shape(self, input_shape)
        sizes = tuple(None if n is None else self._size(axis, n, input_shape)
                      for axis, n in enumerate(input_shape[1:4]))
        return self._channels_first((input_shape[0], *sizes, input_shape[4]))

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return self._channels_first(self._resample(self._channels_last(inputs)))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class UpSampling3D(_Resampling3D):
    """Each voxel repeated: (N, D, H, W, C) -> (N, D*fd, H*fh, W*fw, C)."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = check_positive_ints(f'UpSampling3D layer "{self.name}"', "size", size, 3)

    def _size(self, axis, n, input_shape):
        return n * self.size[axis]

    def _resample(self, inputs):
        return ops.upsample3d(inputs, self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding3D(_Resampling3D):
    """Zeros around each volume: ``padding`` voxels at each face."""

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = check_faces(f'ZeroPadding3D layer "{self.name}"', "padding", padding)

    def _size(self, axis, n, input_shape):
        return n + sum(self.padding[axis])

    def _resample(self, inputs):
        return ops.zero_pad3d(inputs, self.padding)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class Cropping3D(_Resampling3D):
    """Removes ``cropping`` voxels at each face of each volume."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = check_faces(f'Cropping3D layer "{self.name}"', "cropping", cropping)

    def _size(self, axis, n, input_shape):
        if n - sum(self.cropping[axis]) < 1:
            raise ValueError(
                f'Cropping3D layer "{self.name}": cropping {self.cropping} leaves nothing of '
                f"volumes of size {tuple(input_shape[1:4])} (input shape {tuple(input_shape)}); "
                "crop less."
            )
        return n - sum(self.cropping[axis])

    def _resample(self, inputs):
        return ops.crop3d(inputs, self.cropping)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}
