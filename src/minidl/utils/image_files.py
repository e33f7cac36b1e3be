"""Reading one image file into an array of the size a model wants.

``load_image`` reads a JPEG, PNG, BMP or GIF (its first frame) with Pillow,
converts it to 1, 3 or 4 channels, and resizes it as ``tf.image.resize``
does, so that the pixels match what Keras's ``image_dataset_from_directory``
gives.  Pillow is an optional dependency (``pip install minidl[images]``);
it is imported only here, when a file is read.
"""

from __future__ import annotations

import numpy as np

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # the file names image datasets read
_PILLOW_FORMATS = {"BMP", "GIF", "JPEG", "PNG"}  # what the contents must be (as TensorFlow)
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}  # Pillow's names for 1, 3 and 4 channels
INTERPOLATIONS = ("bilinear", "nearest")


def pillow_image_module():
    """Pillow's ``PIL.Image``, or an ImportError that says how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Reading image files needs Pillow, which is not installed: pip install "
            "minidl[images] (or pip install Pillow)."
        ) from None
    return Image


def load_image(path, image_size, num_channels, interpolation="bilinear",
               crop_to_aspect_ratio=False):
    """The image in file ``path`` as an array ``(height, width, num_channels)``.

    Values are 0-255: float32 after a bilinear resize, uint8 after a nearest
    one (``tf.image.resize`` keeps the dtype for nearest, so Keras does too).
    With ``crop_to_aspect_ratio`` the largest centred window of the target's
    aspect ratio is cut out first, so the image is not stretched.
    """
    pixels = _read_pixels(path, num_channels)
    height, width = image_size
    if crop_to_aspect_ratio:
        pixels = _crop_to_aspect(pixels, height, width)
    return _resize(pixels, height, width, interpolation)


def _read_pixels(path, num_channels):
    """The pixels of an image file as uint8 ``(height, width, num_channels)``."""
    image_module = pillow_image_module()
    try:
        with image_module.open(path) as image:
            if image.format not in _PILLOW_FORMATS:
                raise ValueError(
                    f"{path} is a {image.format} image; image datasets read JPEG, PNG, BMP and "
                    f"GIF files. Convert it or remove it from the directory."
                )
            pixels = np.asarray(image.convert(_MODES[num_channels]))  # a GIF's first frame
    except FileNotFoundError:
        raise
    except OSError as error:  # Pillow's "cannot identify image file", truncated files
        raise ValueError(
            f"{path} is not an image file that can be read ({error}). Remove it from the "
            f"directory, or replace it with a JPEG, PNG, BMP or GIF image."
        ) from None
    return pixels.reshape(pixels.shape[0], pixels.shape[1], num_channels)


def _crop_to_aspect(pixels, height, width):
    """The largest centred window of ``pixels`` with the aspect ratio height : width
    (Keras's ``smart_resize``, in float32 as there)."""
    in_height, in_width = pixels.shape[:2]
    crop_height = min(in_height, int(np.float32(in_width * height) / np.float32(width)))
    crop_width = min(in_width, int(np.float32(in_height * width) / np.float32(height)))
    top = (in_height - crop_height) // 2
    left = (in_width - crop_width) // 2
    return pixels[top:top + crop_height, left:left + crop_width]


def _resize(pixels, height, width, interpolation):
    """``tf.image.resize(pixels, (height, width), method=interpolation)``: half-pixel
    centres, no antialiasing, positions past the edge read the edge pixel."""
    if interpolation == "nearest":
        rows = _nearest_positions(pixels.shape[0], height)
        cols = _nearest_positions(pixels.shape[1], width)
        return pixels[rows][:, cols]
    pixels = pixels.astype(np.float32)
    top_row, bottom_row, down = _bilinear_positions(pixels.shape[0], height)
    left_col, right_col, right = _bilinear_positions(pixels.shape[1], width)
    right = right[:, None]  # broadcast over the channels

    def along_row(rows):
        left_values, right_values = rows[:, left_col], rows[:, right_col]
        return left_values + (right_values - left_values) * right

    top, bottom = along_row(pixels[top_row]), along_row(pixels[bottom_row])
    return top + (bottom - top) * down[:, None, None]


def _nearest_positions(in_size, out_size):
    """The input pixel each output pixel's centre falls in, along one axis."""
    scale = np.float32(in_size) / np.float32(out_size)
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
    return np.minimum(np.floor(centres), in_size - 1).astype(np.intp)


def _bilinear_positions(in_size, out_size):
    """Along one axis: for each output pixel, the two input pixels around its centre
    and the weight of the second, ``(lower, upper, weight)``."""
    scale = np.float32(in_size) / np.float32(out_size)
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(centres)
    lower = np.maximum(floor, 0).astype(np.intp)
    upper = np.minimum(np.ceil(centres), in_size - 1).astype(np.intp)
    return lower, upper, centres - floor
