"""What the TensorBoard callback writes, value by value: each function gives the
Summary.Value bytes (see ``event_file``) of one kind of summary, in the form
TensorFlow 2's ``tf.summary`` functions give it, so TensorBoard shows it in its tab.

=================  ==========================  =====================  ===================
summary            tensor                      plugin_name            plugin content
=================  ==========================  =====================  ===================
``scalar``         float32, shape ()           ``scalars``            empty
``histogram``      float64, shape (k, 3)       ``histograms``         empty
``image``          strings, shape (2 + n,)     ``images``             empty
``keras_model``    a string, shape ()          ``graph_keras_model``  ``b"1"``
=================  ==========================  =====================  ===================

A histogram's rows are ``[left edge, right edge, count]`` (``histogram_buckets``);
an image summary's strings are the width, the height (as decimal text), then one
PNG file per image (``png_bytes``).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from minidl.callbacks.event_file import summary_value

DEFAULT_BUCKET_COUNT = 30  # tf.summary.histogram's default
DEFAULT_MAX_IMAGES = 3  # tf.summary.image's max_outputs


def scalar(tag, value):
    """One number, shown as a curve over the steps in the Scalars tab."""
    return summary_value(tag, np.float32(value), "scalars")


def histogram(tag, data, bucket_count=DEFAULT_BUCKET_COUNT):
    """The distribution of ``data``'s values (any shape), for the Histograms and
    Distributions tabs."""
    return summary_value(tag, histogram_buckets(data, bucket_count), "histograms")


def keras_model(tag, model_json):
    """A model's Keras JSON config: the Graphs tab draws it as a graph of layers."""
    return summary_value(tag, np.array(model_json, dtype=object), "graph_keras_model", b"1")


def image(tag, images, max_outputs=DEFAULT_MAX_IMAGES):
    """Images ``(n, height, width, channels)`` with 1, 3 or 4 channels, floats in [0, 1]
    (outside it clipped, as ``tf.image.convert_image_dtype(..., saturate=True)``
    clips), for the Images tab; only the first ``max_outputs`` are kept."""
    images = np.asarray(images, dtype=np.float32)
    pixels = np.clip(np.nan_to_num(images * np.float32(255.5)), 0, 255).astype(np.uint8)
    _, height, width, _ = pixels.shape
    strings = [str(width).encode(), str(height).encode()]
    strings += [png_bytes(one) for one in pixels[:max_outputs]]
    return summary_value(tag, np.array(strings, dtype=object), "images")


def histogram_buckets(data, bucket_count=DEFAULT_BUCKET_COUNT):
    """``bucket_count`` equal-width buckets from the smallest value to the largest, as
    rows ``[left, right, count]`` (float64), by TensorBoard's rule (summary_v2._buckets):

        width = (max - min) / bucket_count
        bucket of x = min(floor((x - min) / width), bucket_count - 1)

    the edges are ``linspace(min, max, bucket_count + 1)`` with the last set to max.
    All values equal: every edge is that value and the last bucket holds them all.
    No values: zeros.  A NaN or an infinity: NaN edges and zero counts (TensorBoard
    draws nothing; TensorFlow gives no better answer there).
    """
    data = np.asarray(data, dtype=np.float64).ravel()
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = data.min(), data.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        return np.column_stack([np.full((bucket_count, 2), np.nan), np.zeros(bucket_count)])
    if low == high:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        return np.column_stack([np.full(bucket_count, high), np.full(bucket_count, high), counts])
    width = (high - low) / bucket_count
    index = np.minimum(np.floor((data - low) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(index, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    edges[-1] = high
    return np.column_stack([edges[:-1], edges[1:], counts])


def weight_images(weight, data_format="channels_last"):
    """A weight as a batch of images ``(n, height, width, channels)``, laid out as the
    Keras 2 callback lays it out (``_log_weight_as_image``), or None when it has no
    such layout.  After dropping axes of size 1:

    * 1-D (a bias): one image 1 pixel wide, ``len`` tall;
    * 2-D (a Dense kernel): one image, the longer axis across;
    * 3-D (a Conv1D kernel, or a Conv2D one with 1 output): one image per channel of
      the last axis (the first, channels_first);
    * 4-D with 1, 3 or 4 in the last axis (a Conv2D kernel): taken as it is, its
      first axis as the batch.
    """
    weight = np.squeeze(np.asarray(weight))
    if weight.ndim == 1:
        weight = weight.reshape(1, weight.shape[0], 1, 1)
    elif weight.ndim == 2:
        if weight.shape[0] > weight.shape[1]:
            weight = weight.T
        weight = weight.reshape(1, weight.shape[0], weight.shape[1], 1)
    elif weight.ndim == 3:
        if data_format == "channels_last":
            weight = np.transpose(weight, (2, 0, 1))
        weight = weight.reshape(weight.shape + (1,))
    if weight.ndim == 4 and weight.shape[-1] in (1, 3, 4):
        return weight
    return None


def png_bytes(pixels):
    """A PNG file of ``pixels``, uint8 ``(height, width, channels)`` with 1 (gray),
    3 (RGB) or 4 (RGBA) channels: the signature, then the chunks IHDR (size, 8 bits,
    colour type), IDAT (the rows, each after a 0 byte: "no filter", deflated) and IEND;
    each chunk is ``length, type, data, CRC-32 of type + data``."""
    height, width, channels = pixels.shape
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = pixels.reshape(height, width * channels)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))
