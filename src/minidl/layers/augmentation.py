"""Random image augmentation: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast, RandomBrightness.

Each layer changes every image of a batch ``(N, H, W, C)`` (or one image
``(H, W, C)``) at random, and only while training: ``fit`` runs them,
``predict`` and ``evaluate`` (``training=False``) pass the images through
unchanged.  As in Keras 2, a layer called directly, ``layer(images)``, or a
model of them called without ``training=`` (``augment = Sequential([...]);
augment(images)``) augments: their ``training`` defaults to True.  The random
numbers come from
``minidl.utils.set_random_seed``'s generator, or from the layer's own when it
is given ``seed=`` (see ``base_random.py``).

Rotation, zoom and translation draw one transform per image and resample
the image with it (``minidl.ops.image.affine_transform``): output pixel
``(x, y)`` reads the input at ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``, the
same transforms as Keras 2.  Points that fall outside the image are filled
according to ``fill_mode`` ("reflect", "wrap", "constant" with
``fill_value``, "nearest").  Factors are fractions: ``RandomRotation(0.1)``
turns by up to 10% of a full turn (36 degrees) either way,
``RandomZoom(0.2)`` zooms by up to 20% in or out, ``RandomTranslation(0.1,
0.2)`` shifts by up to 10% of the height and 20% of the width.  A pair
``(lower, upper)`` gives the range itself.

Gradients flow back to the images (flips move the gradient back; the
resampling sends it back through the same bilinear weights), as in Keras.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import ops
from minidl.layers.base_random import BaseRandomLayer
from minidl.layers.image_preprocessing import check_image_input, on_image_batch
from minidl.ops import image as image_ops


def factor_range(label, name, factor, symmetric=True, ordered=True, limit=None):
    """``(lower, upper)`` from a factor: a pair as given, a number ``f`` as
    ``(-f, f)`` (or ``(f, f)`` when not ``symmetric``).  ``ordered``: refuse
    ``upper < lower``; ``limit``: refuse values beyond ``[-limit, limit]``."""
    if isinstance(factor, (tuple, list)):
        bounds = tuple(factor)
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        bounds = (-factor, factor) if symmetric else (factor, factor)
    else:
        bounds = ()
    if len(bounds) != 2 or not all(isinstance(b, numbers.Real) and not isinstance(b, bool)
                                   and np.isfinite(b) for b in bounds):
        raise ValueError(f"{label}: {name} must be a number or a pair (lower, upper) of numbers, "
                         f"received {factor!r}.")
    lower, upper = float(bounds[0]), float(bounds[1])
    if ordered and upper < lower:
        raise ValueError(f"{label}: {name} {factor!r} has its upper bound below its lower bound "
                         f"(a negative number f gives (-f, f): give a positive one).")
    if limit is not None and (abs(lower) > limit or abs(upper) > limit):
        raise ValueError(f"{label}: {name} must have values in [-{limit}, {limit}], "
                         f"received {factor!r}.")
    return lower, upper


def as_config(factor):
    """A factor as given, JSON-ready (numbers as floats, a pair as a list)."""
    if factor is None:
        return None
    return [float(f) for f in factor] if isinstance(factor, (tuple, list)) else float(factor)


class ImageAugmentation(BaseRandomLayer):
    """The part every augmentation layer shares: images only, identity unless training.

    Subclasses implement ``augment(images)`` for a 4-D batch (a Tensor).
    """

    def build(self, input_shape):
        check_image_input(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape)
        return tuple(input_shape)

    def call(self, inputs, training=True):
        if not training:
            return inputs
        return on_image_batch(self.augment, inputs)

    def augment(self, images):
        raise NotImplementedError


class RandomFlip(ImageAugmentation):
    """Flip each image left-right and/or upside down, each with probability 1/2.

    ``mode``: "horizontal" (left-right), "vertical" (upside down) or
    "horizontal_and_vertical" (each, independently).
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f'RandomFlip layer "{self.name}": mode must be one of {self.MODES}, '
                             f"received {mode!r}.")
        self.mode = mode

    def augment(self, images):
        n = images.shape[0]
        horizontal = self.mode != "vertical" and self.generator.random(n) < 0.5
        vertical = self.mode != "horizontal" and self.generator.random(n) < 0.5
        return image_ops.flip(images, horizontal, vertical)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class AffineAugmentation(ImageAugmentation):
    """Rotation, zoom and translation: draw a transform per image, resample with it.

    Subclasses implement ``transforms(n, height, width)``: an (n, 6) array of
    rows ``[a0, a1, a2, b0, b1, b2]`` (see the module docstring).
    """

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(seed=seed, **kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        if fill_mode not in image_ops.FILL_MODES:
            raise ValueError(f"{label}: fill_mode must be one of {image_ops.FILL_MODES}, "
                             f"received {fill_mode!r}.")
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(f"{label}: interpolation must be one of {image_ops.INTERPOLATIONS}, "
                             f"received {interpolation!r}.")
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise TypeError(f"{label}: fill_value must be a number, received {fill_value!r}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def augment(self, images):
        n, height, width = images.shape[:3]
        transforms = self.transforms(n, np.float32(height), np.float32(width))
        return image_ops.affine_transform(images, transforms, self.interpolation, self.fill_mode,
                                          self.fill_value)

    def transforms(self, n, height, width):
        raise NotImplementedError

    def uniform(self, lower, upper, n):
        """``n`` numbers drawn uniformly from ``[lower, upper)``, in float32: the
        transforms are computed in float32, as Keras does, to read the same pixels."""
        return self.generator.uniform(lower, upper, n).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "interpolation": self.interpolation}


def rotation_transforms(angles, height, width):
    """Rotations by ``angles`` (radians, counter-clockwise) about the image centre."""
    cos, sin = np.cos(angles), np.sin(angles)
    x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2
    y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2
    return np.stack([cos, -sin, x_offset, sin, cos, y_offset], axis=1)


class RandomRotation(AffineAugmentation):
    """Rotate each image by a random angle: ``factor`` times a full turn (2 pi)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self._bounds = factor_range(f'RandomRotation layer "{self.name}"', "factor", factor)

    def transforms(self, n, height, width):
        lower, upper = self._bounds
        return rotation_transforms(self.uniform(lower * 2 * np.pi, upper * 2 * np.pi, n),
                                   height, width)

    def get_config(self):
        return {**super().get_config(), "factor": as_config(self.factor)}


class RandomZoom(AffineAugmentation):
    """Zoom each image by a random factor: ``1 + height_factor`` vertically
    (positive: zoom out, negative: zoom in) and ``1 + width_factor``
    horizontally (``width_factor=None``: the same as vertically, keeping the aspect ratio)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        label = f'RandomZoom layer "{self.name}"'
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_bounds = factor_range(label, "height_factor", height_factor, limit=1.0)
        self._width_bounds = None if width_factor is None else factor_range(
            label, "width_factor", width_factor)
        if self._width_bounds is not None and self._width_bounds[0] < -1:
            raise ValueError(f"{label}: width_factor must have values of at least -1 (a zoom "
                             f"factor 1 + w of at least 0), received {width_factor!r}.")

    def transforms(self, n, height, width):
        zoom_y = self.uniform(1 + self._height_bounds[0], 1 + self._height_bounds[1], n)
        zoom_x = zoom_y if self._width_bounds is None else self.uniform(
            1 + self._width_bounds[0], 1 + self._width_bounds[1], n)
        zeros = np.zeros(n, np.float32)
        return np.stack([zoom_x, zeros, (width - 1) / 2 * (1 - zoom_x),
                         zeros, zoom_y, (height - 1) / 2 * (1 - zoom_y)], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": as_config(self.height_factor),
                "width_factor": as_config(self.width_factor)}


class RandomTranslation(AffineAugmentation):
    """Shift each image by a random fraction of its height (positive: down)
    and of its width (positive: right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        label = f'RandomTranslation layer "{self.name}"'
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_bounds = factor_range(label, "height_factor", height_factor, limit=1.0)
        self._width_bounds = factor_range(label, "width_factor", width_factor, limit=1.0)

    def transforms(self, n, height, width):
        shift_y = self.uniform(*self._height_bounds, n) * height
        shift_x = self.uniform(*self._width_bounds, n) * width
        ones, zeros = np.ones(n, np.float32), np.zeros(n, np.float32)
        return np.stack([ones, zeros, -shift_x, zeros, ones, -shift_y], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": as_config(self.height_factor),
                "width_factor": as_config(self.width_factor)}


class RandomContrast(ImageAugmentation):
    """Scale each channel's distance from its mean by a random factor, then clip to [0, 255]::

        y = clip((x - mean) * c + mean, 0, 255),   mean over the pixels of one channel of one image

    ``c`` is drawn from ``[1 - lower, 1 + upper]`` (``factor`` f: ``[1 - f, 1 + f]``),
    one value for the whole batch, as Keras 2 draws it.
    """

    def __init__(self, factor, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        label = f'RandomContrast layer "{self.name}"'
        lower, upper = factor_range(label, "factor", factor, symmetric=False, ordered=False)
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"{label}: factor must be in [0, 1] (a pair: lower in [0, 1], upper "
                             f">= 0), received {factor!r}.")
        self.factor = factor
        self._range = (1 - lower, 1 + upper)

    def augment(self, images):
        contrast = self.generator.uniform(*self._range)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        return ops.clip(ops.add(ops.mul(ops.sub(images, mean), contrast), mean), 0, 255)

    def get_config(self):
        return {**super().get_config(), "factor": as_config(self.factor)}


class RandomBrightness(ImageAugmentation):
    """Add a random brightness to each image, then clip to ``value_range`` ``[low, high]``::

        y = clip(x + d * (high - low), low, high),   d drawn from [lower, upper) per image

    ``factor`` f gives ``[-|f|, |f|]``, a pair ``(lower, upper)`` that range
    (values in [-1, 1]; d = -1 makes the image black, d = 1 white).
    ``value_range`` is the range of the input's values: (0, 255) for raw
    pixels, (0, 1) after ``Rescaling(1 / 255)``.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        label = f'RandomBrightness layer "{self.name}"'
        self.factor = sorted(factor_range(label, "factor", factor, ordered=False, limit=1.0))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
                for v in value_range):
            raise ValueError(f"{label}: value_range must be a pair (low, high) of numbers, "
                             f"received {value_range!r}.")
        self.value_range = sorted(value_range)  # as Keras 2, which sorts both

    def augment(self, images):
        low, high = self.value_range
        delta = self.generator.uniform(*self.factor, (images.shape[0], 1, 1, 1)) * (high - low)
        return ops.clip(ops.add(images, delta.astype(images.dtype)), low, high)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}
