"""Read IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by raw bytes::

    bytes 0-1   0x00 0x00
    byte  2     element type (0x08 = unsigned byte)
    byte  3     number of dimensions, n
    then n big-endian uint32: the size of each dimension
    then the data, row-major, one byte per element

So a label file (one number per image) starts with the magic number
``0x00000801`` and an image file (count x rows x columns) with ``0x00000803``.
The files are usually gzip-compressed; both forms are read here.

The reader checks everything it can before trusting the bytes: that it is a
regular file, the magic number, and the shape the header announces -- against
what the caller expects (28x28 images, at most so many of them) and a cap --
before reading any data. Then it reads exactly the bytes that shape needs,
streaming through gzip, and checks that the file ends there: a small gzip file
that would expand to gigabytes is refused after one byte too many. A truncated
download or a file of another kind is a ``FileFormatError`` (a ``ValueError``)
that names the file, never a wrong array.
"""

from __future__ import annotations

import gzip
import math
import struct

import numpy as np

from minidl.utils.file_checks import STREAM_ERRORS, FileFormatError, open_regular, read_exactly

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
_KINDS = {"labels": LABELS_MAGIC, "images": IMAGES_MAGIC}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 1 << 30  # more than any IDX data set in use (EMNIST's largest file: 550 MB)


def read_idx(path, kind, item_shape=None, max_items=None):
    """Return the array stored in the IDX file ``path`` (gzip or raw), as uint8.

    ``kind`` is ``"labels"`` (1-D, magic 0x00000801) or ``"images"``
    (3-D, magic 0x00000803). ``item_shape`` (e.g. ``(28, 28)``) and ``max_items``
    are what the caller's data set allows; they and ``MAX_BYTES`` are checked in
    the header, before any data is read.
    """
    if kind not in _KINDS:
        raise ValueError(f"read_idx: kind must be 'labels' or 'images', received {kind!r}.")
    with open_regular(path) as file:
        gzipped = file.read(2) == _GZIP_MAGIC
        file.seek(0)
        stream = gzip.GzipFile(fileobj=file) if gzipped else file
        try:
            shape = _read_header(stream, path, kind)
            _check_shape(shape, path, item_shape, max_items)
            data = read_exactly(stream, math.prod(shape), path)
        except STREAM_ERRORS as error:
            raise FileFormatError(
                f"{path}: damaged or truncated {'gzip ' if gzipped else ''}file ({error}). "
                "Delete it and download it again."
            ) from None
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_header(stream, path, kind):
    """The shape announced by the header, after checking the magic number."""
    expected = _KINDS[kind]
    magic_bytes = stream.read(4)
    if len(magic_bytes) < 4:
        raise FileFormatError(
            f"{path}: only {len(magic_bytes)} bytes, too short to be an IDX {kind} file."
        )
    (magic,) = struct.unpack(">I", magic_bytes)
    if magic != expected:
        raise FileFormatError(
            f"{path}: not an IDX {kind} file: magic number is 0x{magic:08x}, "
            f"expected 0x{expected:08x}. Is it the right file, or a web page saved by mistake?"
        )
    ndim = magic & 0xFF
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise FileFormatError(
            f"{path}: truncated: the header needs {4 + 4 * ndim} bytes, the file has "
            f"{4 + len(sizes)}."
        )
    return struct.unpack(f">{ndim}I", sizes)


def _check_shape(shape, path, item_shape, max_items):
    """Refuse a shape the caller's data set cannot have, or too large to read.

    The size is a Python integer: dimensions up to 2**32 - 1 each multiply past
    2**63, where NumPy's int64 product wraps around (to 0 for 2**22 x 2**21 x 2**21)."""
    if item_shape is not None and shape[1:] != tuple(item_shape):
        raise FileFormatError(
            f"{path}: the header announces items of shape {shape[1:]}, this data set's are "
            f"{tuple(item_shape)}."
        )
    if max_items is not None and shape[0] > max_items:
        raise FileFormatError(
            f"{path}: the header announces {shape[0]} items, this data set has at most "
            f"{max_items}."
        )
    if math.prod(shape) > MAX_BYTES:
        raise FileFormatError(
            f"{path}: the header announces shape {shape}, {math.prod(shape)} bytes of data; "
            f"more than the {MAX_BYTES} bytes an IDX file is read up to."
        )
