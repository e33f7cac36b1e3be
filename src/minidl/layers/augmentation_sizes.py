"""Random augmentation that changes the image size: RandomCrop, RandomHeight, RandomWidth.

Images are channels-last, a batch ``(N, H, W, C)`` or one image ``(H, W, C)``;
the random numbers come from the layer's ``seed=`` or from minidl's generator,
as for the other augmentation layers (``augmentation.py``, ``base_random.py``).
One draw serves the whole batch, as in Keras 2, so the images keep one size.

* ``RandomCrop(height, width)``: in training, the same random
  ``(height, width)`` window of every image, ``(N, H, W, C) -> (N, height,
  width, C)``.  At inference (and in training when an image is smaller than
  the window) it does what ``Resizing(height, width, crop_to_aspect_ratio=True)``
  does: the largest centred window of the target's aspect ratio, resized to
  ``(height, width)``, so training and inference give the same shape.
* ``RandomHeight(factor)`` / ``RandomWidth(factor)``: in training, resize the
  batch to ``int(H * (1 + d))`` rows (or ``int(W * (1 + d))`` columns), ``d``
  drawn from ``[-factor, factor]`` (or a pair ``(lower, upper)``); at inference
  nothing changes.  The size is not known before the call, so the output
  shape says ``None`` there, as Keras's does, even at inference.

Gradients flow back to the images: a crop sends them to its window, a resize
through its bilinear weights.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.augmentation import ImageAugmentation, as_config, factor_range
from minidl.layers.base_random import BaseRandomLayer
from minidl.layers.image_preprocessing import (
    check_image_input,
    check_size,
    on_image_batch,
    smart_resize,
    with_size,
)
from minidl.ops import image as image_ops


class RandomCrop(BaseRandomLayer):
    """Crop a random ``(height, width)`` window while training; see the module docstring."""

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height, self.width = check_size(f'RandomCrop layer "{self.name}"', height, width)

    def build(self, input_shape):
        check_image_input(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape)
        return with_size(input_shape, self.height, self.width)

    def call(self, inputs, training=True):
        return on_image_batch(lambda images: self._crop(images, training), inputs)

    def _crop(self, images, training):
        rows_left = images.shape[1] - self.height
        columns_left = images.shape[2] - self.width
        if not training or rows_left < 0 or columns_left < 0:
            return smart_resize(images, self.height, self.width)
        top = int(self.generator.integers(0, rows_left + 1))
        left = int(self.generator.integers(0, columns_left + 1))
        return images[:, top:top + self.height, left:left + self.width, :]

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomSide(ImageAugmentation):
    """What RandomHeight and RandomWidth share: resize one side by a random factor.

    Subclasses set ``SIDE``: 0 for the height, 1 for the width (axis ``SIDE - 3``).
    """

    SIDE = None

    def __init__(self, factor, interpolation="bilinear", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self._bounds = factor_range(label, "factor", factor)
        if self._bounds[0] < -1:
            raise ValueError(f"{label}: factor must have values of at least -1 (a size "
                             f"factor 1 + f of at least 0), received {factor!r}.")
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(
                f"{label}: interpolation must be 'bilinear' or 'nearest' (minidl has no "
                f"bicubic, area, lanczos, gaussian or mitchellcubic), received {interpolation!r}."
            )
        self.factor = factor
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape)
        shape = list(input_shape)
        shape[self.SIDE - 3] = None
        return tuple(shape)

    def augment(self, images):
        lower, upper = self._bounds
        scale = np.float32(self.generator.uniform(1 + lower, 1 + upper))
        size = list(images.shape[1:3])
        new = int(scale * np.float32(size[self.SIDE]))  # float32 and truncated, as Keras
        if new == 0:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": drew a size factor {scale:.4g}, '
                f"which resizes {size[self.SIDE]} pixels to 0 (images {tuple(images.shape)}); "
                f"raise the lower bound of factor={self.factor!r} above -1.")
        size[self.SIDE] = new
        return image_ops.resize(images, *size, self.interpolation)

    def get_config(self):
        return {**super().get_config(), "factor": as_config(self.factor),
                "interpolation": self.interpolation}


class RandomHeight(RandomSide):
    """Resize the batch's height by a random factor while training; see the module docstring."""

    SIDE = 0


class RandomWidth(RandomSide):
    """Resize the batch's width by a random factor while training; see the module docstring."""

    SIDE = 1
