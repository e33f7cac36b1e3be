"""Image preprocessing layers: Resizing and CenterCrop.

Images are channels-last: a batch ``(N, H, W, C)`` or, as Keras also
accepts, one image ``(H, W, C)``.  Both layers work the same in training
and inference, have no weights, and change only the height and width:
``(N, H, W, C) -> (N, height, width, C)``.

* ``Resizing(height, width)`` stretches the image, reading it as
  ``tf.image.resize`` does (half-pixel centres, see ``minidl.ops.image``);
  with ``crop_to_aspect_ratio=True`` it first cuts the largest centred
  window of the target's aspect ratio, so nothing is distorted.
* ``CenterCrop(height, width)`` cuts the centred window of that size (the
  extra pixel of an odd difference is cut at the bottom/right); an image
  smaller than that is instead resized as ``crop_to_aspect_ratio`` does.
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.base import Layer
from minidl.ops import image as image_ops


def check_image_input(layer, input_shape):
    """Raise unless ``input_shape`` is ``(N, H, W, C)`` or one image ``(H, W, C)``
    (a shape of three axes with an unknown first one is a batch without channels)."""
    rank = len(input_shape)
    if rank not in (3, 4) or (rank == 3 and input_shape[0] is None):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects channels-last images, '
            f"(batch, height, width, channels) or (height, width, channels), received input "
            f"shape {tuple(input_shape)}."
            + (" Add a channel axis: reshape x to (-1, height, width, 1), or use "
               "layers.Reshape((height, width, 1))." if rank == 3 else "")
        )


def on_image_batch(transform, images):
    """``transform`` (N, H, W, C) -> (N, H', W', C) applied to a batch or to one image."""
    if images.ndim == 4:
        return transform(images)
    out = transform(ops.reshape(images, (1, *images.shape)))
    return ops.reshape(out, out.shape[1:])


def with_size(input_shape, height, width):
    """``input_shape`` with its height and width axes (-3, -2) replaced."""
    shape = list(input_shape)
    shape[-3:-1] = [height, width]
    return tuple(shape)


def check_size(label, height, width):
    """``(height, width)`` as positive ints, else a ValueError naming the layer."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{label}: {name} must be a positive integer, received {value!r}.")
    return int(height), int(width)


def crop_to_aspect(images, height, width):
    """The largest centred window of ``images`` (N, H, W, C) with the aspect
    ratio ``height : width`` (Keras's ``smart_resize``, float32 arithmetic as there)."""
    in_height, in_width = images.shape[1:3]
    crop_height = min(in_height, int(np.float32(in_width * height) / np.float32(width)))
    crop_width = min(in_width, int(np.float32(in_height * width) / np.float32(height)))
    top = (in_height - crop_height) // 2
    left = (in_width - crop_width) // 2
    if (crop_height, crop_width) == (in_height, in_width):
        return images
    return images[:, top:top + crop_height, left:left + crop_width, :]


def smart_resize(images, height, width):
    """Resize ``images`` (N, H, W, C) to ``(height, width)`` without distorting them:
    cut the largest centred window of that aspect ratio, then resize it (bilinear),
    as Keras's ``smart_resize``."""
    return image_ops.resize(crop_to_aspect(images, height, width), height, width)


class Resizing(Layer):
    """Resize images to ``(height, width)``; see the module docstring."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 **kwargs):
        super().__init__(**kwargs)
        label = f'Resizing layer "{self.name}"'
        self.height, self.width = check_size(label, height, width)
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(
                f"{label}: interpolation must be 'bilinear' or 'nearest' (minidl has no "
                f"bicubic, area, lanczos, gaussian or mitchellcubic), received {interpolation!r}."
            )
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)

    def build(self, input_shape):
        check_image_input(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape)
        return with_size(input_shape, self.height, self.width)

    def call(self, inputs):
        return on_image_batch(self._resize, inputs)

    def _resize(self, images):
        if self.crop_to_aspect_ratio:
            images = crop_to_aspect(images, self.height, self.width)
        if images.shape[1:3] == (self.height, self.width):
            return images
        return image_ops.resize(images, self.height, self.width, self.interpolation)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio}


class CenterCrop(Layer):
    """Cut the centred ``(height, width)`` window of each image; see the module docstring."""

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = check_size(f'CenterCrop layer "{self.name}"', height, width)

    def build(self, input_shape):
        check_image_input(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape)
        return with_size(input_shape, self.height, self.width)

    def call(self, inputs):
        return on_image_batch(self._crop, inputs)

    def _crop(self, images):
        in_height, in_width = images.shape[1:3]
        if in_height < self.height or in_width < self.width:  # too small: resize instead
            return smart_resize(images, self.height, self.width)
        top = (in_height - self.height) // 2
        left = (in_width - self.width) // 2
        return images[:, top:top + self.height, left:left + self.width, :]

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
