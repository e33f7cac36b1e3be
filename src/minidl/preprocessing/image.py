"""Keras 2's ``keras.preprocessing.image``: image files to arrays, and ``ImageDataGenerator``.

    from minidl.preprocessing import image
    img = image.load_img("cat.jpg", target_size=(150, 150))   # a Pillow image
    x = image.img_to_array(img)                               # (150, 150, 3) float32

    datagen = image.ImageDataGenerator(rescale=1 / 255, rotation_range=40, width_shift_range=0.2,
                                       height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                       horizontal_flip=True, fill_mode="nearest")
    train = datagen.flow_from_directory("train/", target_size=(150, 150), batch_size=20,
                                        class_mode="binary")        # Found 2000 images belonging to 2 classes.
    model.fit(train, steps_per_epoch=100, epochs=30)

Each image a generator yields is transformed on its own, with parameters drawn
afresh (``get_random_transform``): an angle in [-rotation_range, rotation_range]
degrees; a shift of up to ``height_shift_range`` of the height and
``width_shift_range`` of the width (pixels when >= 1); a shear angle in
[-shear_range, shear_range] degrees; zooms zx, zy in [1 - zoom_range, 1 + zoom_range]
(drawn separately); a flip with probability 1/2. (One quirk kept from Keras 2, whose
results these match to the last bit: the shift drawn from ``height_shift_range`` is
scaled by the height but moves the picture along its width, and the other way round;
on square pictures, the usual case, it makes no difference.) These compose into one affine
map of output pixel positions to input positions,

    M = R(angle) @ T(tx, ty) @ Shear(shear) @ Zoom(zx, zy)     (3x3, about the image centre)

and every output pixel is read from the input at M @ (position, 1), interpolated
(bilinear by default, ``interpolation_order=1``) by ``scipy.ndimage.affine_transform``.
Positions outside the image are filled as ``fill_mode`` says: "nearest" repeats the
edge, "reflect" mirrors, "wrap" tiles, "constant" uses ``cval``. After the
transforms, ``standardize`` applies ``preprocessing_function``, then ``rescale``, then
the centring and scaling options (the featurewise ones need ``fit(x)`` first).

The iterators (``flow``, ``flow_from_directory``) are ``minidl.utils.Sequence``s:
``len()`` batches per epoch, ``it[i]`` a batch, reshuffled after each epoch; also
endless Python iterators (``next(it)``), as Keras's are. Reading files needs Pillow
(``pip install minidl[images]``). Images are channels last, as everywhere in minidl.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from minidl import backend
from minidl.utils.image_files import pillow_image_module
from minidl.utils.sequence import Sequence

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
FILL_MODES = ("constant", "nearest", "reflect", "wrap")
CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


# --- files and arrays ----------------------------------------------------------------------
def _check_data_format(data_format):
    data_format = data_format or backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', received {data_format!r}.")
    return data_format


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """The image file ``path`` as a Pillow image, converted to ``color_mode`` ("grayscale",
    "rgb", "rgba") and resized to ``target_size`` = (height, width) if given.

    ``keep_aspect_ratio`` first crops the largest centred window of the target's aspect
    ratio, so the picture is not stretched.
    """
    if grayscale:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"', DeprecationWarning,
                      stacklevel=2)
        color_mode = "grayscale"
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(COLOR_MODES)}, received {color_mode!r}.")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}, received {interpolation!r}.")
    image_module = pillow_image_module()
    path = Path(os.fspath(path))
    if path.exists() and not path.is_file():
        raise ValueError(f"load_img: {path} is not a regular file.")
    with open(path, "rb") as f:
        img = image_module.open(f)
        img.load()
    if img.mode != COLOR_MODES[color_mode]:
        img = img.convert(COLOR_MODES[color_mode])
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            resample = getattr(image_module.Resampling, interpolation.upper())
            if keep_aspect_ratio:
                w, h = img.size
                crop_w = min(w, round(h * width / height))
                crop_h = min(h, round(w * height / width))
                left, top = (w - crop_w) // 2, (h - crop_h) // 2
                img = img.crop((left, top, left + crop_w, top + crop_h))
            img = img.resize((width, height), resample)
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a float32 array (height, width, channels); 2-D images get one channel."""
    data_format = _check_data_format(data_format)
    x = np.asarray(img, dtype=dtype or np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}.")
    return x.transpose(2, 0, 1).copy() if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An array (height, width, 1, 3 or 4 channels) as a Pillow image. With ``scale``, the
    values are stretched to 0..255 first (minimum to 0, maximum to 255)."""
    image_module = pillow_image_module()
    data_format = _check_data_format(data_format)
    x = np.asarray(x, dtype=dtype or np.float32)
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects an image of 3 dimensions, received shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image_module.fromarray(x.astype(np.uint8), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer pixels
            return image_module.fromarray(x[:, :, 0].astype(np.int32), "I")
        return image_module.fromarray(x[:, :, 0].astype(np.uint8), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels}.")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an image array to ``path`` (format from the name, or ``file_format``)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format in ("jpg", "jpeg") or str(path).lower().endswith((".jpg", ".jpeg"))):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


# --- the transforms ------------------------------------------------------------------------
def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, fill_mode="nearest", cval=0.0,
                           order=1):
    """One image (height, width, channels) under rotation ``theta`` (degrees), shift (tx, ty),
    ``shear`` (degrees) and zoom (zx, zy), as Keras 2 computes it (see the module docstring)."""
    matrix = np.eye(3)
    if theta:
        t = np.deg2rad(theta)
        matrix = matrix @ np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx or ty:
        matrix = matrix @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    if shear:
        s = np.deg2rad(shear)
        matrix = matrix @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    if zx != 1 or zy != 1:
        matrix = matrix @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    if np.array_equal(matrix, np.eye(3)):
        return x
    from scipy import ndimage  # loaded on first use

    height, width = x.shape[0], x.shape[1]
    # about the centre: move it to the origin, transform, move it back
    centre = np.array([[1, 0, height / 2 - 0.5], [0, 1, width / 2 - 0.5], [0, 0, 1]])
    back = np.array([[1, 0, -(height / 2 - 0.5)], [0, 1, -(width / 2 - 0.5)], [0, 0, 1]])
    matrix = centre @ matrix @ back
    # the matrix was written for (x, y) = (column, row) positions; arrays index (row, column)
    matrix[:, [0, 1]] = matrix[:, [1, 0]]
    matrix[[0, 1]] = matrix[[1, 0]]
    channels = [ndimage.affine_transform(x[:, :, c], matrix[:2, :2], matrix[:2, 2], order=order,
                                         mode=fill_mode, cval=cval) for c in range(x.shape[2])]
    return np.stack(channels, axis=2)


def apply_channel_shift(x, intensity):
    """Add ``intensity`` to every value, clipped to the image's own range."""
    low, high = np.min(x), np.max(x)
    return np.clip(x + intensity, low, high)


def apply_brightness_shift(x, brightness):
    """Brightness times ``brightness`` (Pillow's ImageEnhance, on the image scaled to 0..255),
    returned in the image's own range."""
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    img = ImageEnhance.Brightness(array_to_img(x, scale=True)).enhance(brightness)
    out = img_to_array(img)
    return out / 255 * (high - low) + low if high > low else out


def _check_range(name, value, allow_list=False):
    if allow_list and isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
        raise ValueError(f"ImageDataGenerator: {name} must be a non-negative number, received {value!r}.")
    return value


class ImageDataGenerator:
    """Keras 2's real-time image augmentation; see the module docstring."""

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        if _check_data_format(data_format) != "channels_last":
            raise ValueError("ImageDataGenerator: minidl's images are channels last (N, H, W, C); "
                             "data_format='channels_first' is not supported. Transpose the images instead.")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: fill_mode must be one of {FILL_MODES}, received {fill_mode!r}.")
        if not 0 <= validation_split < 1:
            raise ValueError(f"ImageDataGenerator: validation_split must be in [0, 1), received {validation_split!r}.")
        if isinstance(zoom_range, (int, float)) and not isinstance(zoom_range, bool):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif isinstance(zoom_range, (list, tuple)) and len(zoom_range) == 2:
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(f"`zoom_range` should be a float or a tuple or list of two floats. Received: {zoom_range}")
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError("ImageDataGenerator: preprocessing_function must be callable.")
        self.rotation_range = _check_range("rotation_range", rotation_range)
        self.width_shift_range = _check_range("width_shift_range", width_shift_range, allow_list=True)
        self.height_shift_range = _check_range("height_shift_range", height_shift_range, allow_list=True)
        self.shear_range = _check_range("shear_range", shear_range)
        self.channel_shift_range = _check_range("channel_shift_range", channel_shift_range)
        self.brightness_range = brightness_range
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.validation_split = validation_split
        self.interpolation_order = interpolation_order
        self.dtype = np.dtype(dtype or "float32")
        self.data_format = "channels_last"
        self.mean = self.std = self.zca_whitening_matrix = None
        # the options that imply others, with Keras's warnings
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of "
                              "`featurewise_std_normalization`.", stacklevel=2)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)

    # --- one image -------------------------------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """The parameters of one random transform for an image of ``img_shape`` (H, W, C)."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = self._shift(rng, self.height_shift_range, img_shape[0])
        ty = self._shift(rng, self.width_shift_range, img_shape[1])
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx = zy = 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(rng.random() < 0.5) and bool(self.horizontal_flip)
        flip_vertical = bool(rng.random() < 0.5) and bool(self.vertical_flip)
        channel_shift = (rng.uniform(-self.channel_shift_range, self.channel_shift_range)
                         if self.channel_shift_range else None)
        brightness = (rng.uniform(self.brightness_range[0], self.brightness_range[1])
                      if self.brightness_range is not None else None)
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    @staticmethod
    def _shift(rng, shift_range, size):
        """A shift drawn as Keras draws it: uniform for a float, one of the values (with a
        random sign) for an int or a list; a fraction of ``size`` when all are below 1."""
        if not np.any(shift_range):
            return 0
        if isinstance(shift_range, list) or isinstance(shift_range, (int, np.integer)):
            choices = shift_range if isinstance(shift_range, list) else np.arange(0, shift_range + 1)
            shift = rng.choice(choices) * rng.choice([-1, 1])
        else:
            shift = rng.uniform(-shift_range, shift_range)
        return shift * size if np.max(shift_range) < 1 else shift

    def apply_transform(self, x, transform_parameters):
        """``x`` (H, W, C) transformed by the parameters ``get_random_transform`` drew."""
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"])
        if p.get("flip_horizontal", False):
            x = x[:, ::-1]
        if p.get("flip_vertical", False):
            x = x[::-1]
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"])
        return np.ascontiguousarray(x)

    def random_transform(self, x, seed=None):
        """``x`` (H, W, C) under one random transform."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def standardize(self, x):
        """``preprocessing_function``, ``rescale``, then the centring/scaling options, on a
        batch or one image (changed in place where it can be, as in Keras)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        if self.samplewise_center:
            x = x - np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, keepdims=True) + 1e-6)
        if self.featurewise_center:
            if self.mean is not None:
                x = x - self.mean
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it hasn't been fit "
                              "on any training data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_std_normalization:
            if self.std is not None:
                x = x / (self.std + 1e-6)
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, but it hasn't "
                              "been fit on any training data. Fit it first by calling `.fit(numpy_data)`.",
                              stacklevel=2)
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
                x = (flat @ self.zca_whitening_matrix).reshape(x.shape)
            else:
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, but it hasn't been fit on any "
                              "training data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the statistics the featurewise options need, from images x (N, H, W, C)."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}")
        if x.shape[3] not in (1, 3, 4):
            warnings.warn(f"Expected input to be images (as Numpy array) following the data format convention "
                          f"channels_last (channels on axis 3): {x.shape[3]} channels.", stacklevel=2)
        rng = np.random.default_rng(seed)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.stack([self.random_transform(image, rng) for _ in range(rounds) for image in x])
        if self.featurewise_center:
            self.mean = np.mean(x, axis=(0, 1, 2)).reshape(1, 1, -1)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=(0, 1, 2)).reshape(1, 1, -1)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = x.reshape(len(x), -1).astype(np.float64)
            sigma = flat.T @ flat / len(flat)
            u, s, _ = np.linalg.svd(sigma)
            self.zca_whitening_matrix = ((u / np.sqrt(s[None] + self.zca_epsilon)) @ u.T).astype(self.dtype)

    # --- iterators ---------------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False, subset=None):
        """Batches of augmented images from arrays: (x, y), (x, y, sample_weight) or x alone."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """Batches of augmented images read from one sub-folder per class of ``directory``."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode,
                                 classes=classes, class_mode=class_mode, batch_size=batch_size, shuffle=shuffle,
                                 seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio)


class Iterator(Sequence):
    """Batches of ``n`` samples in a (re)shuffled order: a Sequence and an endless iterator."""

    def __init__(self, n, batch_size, shuffle, seed):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
        self.n, self.batch_size, self.shuffle, self.seed = n, int(batch_size), shuffle, seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self._rng = np.random.default_rng(seed)

    def _set_index_array(self):
        self.index_array = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}")
        if self.index_array is None:
            self._set_index_array()
        indices = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(indices)

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            if self.index_array is None or self.batch_index == 0:
                self._set_index_array()
            idx = self.batch_index
            self.batch_index = (self.batch_index + 1) % len(self)
            self.total_batches_seen += 1
        return self._get_batches_of_transformed_samples(self.index_array[idx * self.batch_size:
                                                                         (idx + 1) * self.batch_size])

    next = __next__

    def _augment(self, images):
        """Transform each image on its own, then standardize the batch."""
        generator = self.image_data_generator
        batch = np.empty((len(images), *self.image_shape), dtype=generator.dtype)
        for i, image in enumerate(images):
            params = generator.get_random_transform(image.shape, self._rng)
            batch[i] = generator.standardize(generator.apply_transform(image.astype(generator.dtype), params))
        if self.save_to_dir:
            for i, image in enumerate(batch):
                name = f"{self.save_prefix}_{self.total_batches_seen}_{i}_{self._rng.integers(10_000)}"
                save_img(Path(self.save_to_dir) / f"{name}.{self.save_format}", image, scale=True)
        return batch


class NumpyArrayIterator(Iterator):
    """``ImageDataGenerator.flow``'s iterator over arrays."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None, seed=None,
                 save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False, subset=None):
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"Input data in `NumpyArrayIterator` should have rank 4. You passed an array with "
                             f"shape {x.shape}")
        if y is not None and len(x) != len(y):
            raise ValueError(f"`x` (images tensor) and `y` (labels) should have the same length. Found: "
                             f"x.shape = {x.shape}, y.shape = {np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"`x` (images tensor) and `sample_weight` should have the same length. Found: "
                             f"x.shape = {x.shape}, sample_weight.shape = {np.asarray(sample_weight).shape}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"Invalid subset name: {subset}; expected 'training' or 'validation'")
            split = int(len(x) * image_data_generator.validation_split)
            if y is not None and not ignore_class_split and subset == "validation" and split and \
                    not np.array_equal(np.unique(np.asarray(y)[:split]), np.unique(np.asarray(y))):
                raise ValueError("Training and validation subsets have different number of classes after the "
                                 "split. If your numpy arrays are sorted by the label, you might want to shuffle "
                                 "them.")
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x = x[part]
            y = None if y is None else np.asarray(y)[part]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[part]
        self.x, self.y = x, None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.image_shape = x.shape[1:]
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(len(x), batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = self._augment(self.x[index_array])
        if self.y is None:
            return batch_x
        out = (batch_x, self.y[index_array])
        return out + (self.sample_weight[index_array],) if self.sample_weight is not None else out


class DirectoryIterator(Iterator):
    """``ImageDataGenerator.flow_from_directory``'s iterator: one sub-folder per class."""

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype=None):
        if color_mode not in COLOR_MODES:
            raise ValueError(f"Invalid color mode: {color_mode}; expected 'rgb', 'rgba', or 'grayscale'.")
        if class_mode not in CLASS_MODES:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of {CLASS_MODES}")
        if subset not in (None, "training", "validation"):
            raise ValueError(f"Invalid subset name: {subset}; expected 'training' or 'validation'")
        directory = Path(os.fspath(directory))
        if not directory.is_dir():
            raise ValueError(f"flow_from_directory: {directory} is not a folder.")
        self.directory = str(directory)
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode, self.class_mode = color_mode, class_mode
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        self.image_shape = self.target_size + ({"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode],)
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        if classes is None:
            classes = sorted(entry.name for entry in directory.iterdir()
                             if entry.is_dir() and (follow_links or not entry.is_symlink()))
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        split = image_data_generator.validation_split
        part = (0.0, split) if subset == "validation" else (split, 1.0) if subset == "training" else None
        filenames, labels = [], []
        for name in classes:
            files = _image_files(directory / name, directory, follow_links)
            if part is not None:
                files = files[int(part[0] * len(files)):int(part[1] * len(files))]
            filenames += files
            labels += [self.class_indices[name]] * len(files)
        self.filenames = filenames
        self.classes = np.array(labels, dtype=np.int32)
        self.samples = len(filenames)
        self.filepaths = [str(directory / f) for f in filenames]
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self):
        return self.classes

    def _get_batches_of_transformed_samples(self, index_array):
        images = [img_to_array(load_img(self.filepaths[j], color_mode=self.color_mode,
                                        target_size=self.target_size, interpolation=self.interpolation,
                                        keep_aspect_ratio=self.keep_aspect_ratio))
                  for j in index_array]
        batch_x = self._augment(images)
        dtype = self.image_data_generator.dtype
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode is None:
            return batch_x
        labels = self.classes[index_array]
        if self.class_mode == "sparse":
            return batch_x, labels
        if self.class_mode == "binary":
            return batch_x, labels.astype(dtype)
        one_hot = np.zeros((len(labels), self.num_classes), dtype=dtype)
        one_hot[np.arange(len(labels)), labels] = 1
        return batch_x, one_hot


def _image_files(folder, root, follow_links):
    """The image files under ``folder`` (recursively, sorted as Keras walks them), relative to ``root``."""
    found = []
    for current, folders, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda item: item[0]):
        folders.sort()
        for name in sorted(files):
            path = Path(current) / name
            if name.lower().endswith(tuple("." + ext for ext in WHITE_LIST_FORMATS)) and \
                    (follow_links or not path.is_symlink()):
                found.append(str(path.relative_to(root)))
    return found
