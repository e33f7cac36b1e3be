"""Reading the arrays of a ``.npz`` data set file, with errors that name the file.

A ``.npz`` file is a zip archive holding one ``.npy`` file per array. Each array is
read only after its ``.npy`` header passed the data set's bounds (dtype, the shape
of one row, at most so many rows), and no more bytes are read than those bounds
allow: a header declaring 2**40 elements, or a member of deflated zeros that
expands to gigabytes, is refused without allocating it (see
``minidl.utils.file_checks``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from minidl.utils.file_checks import (STREAM_ERRORS, FileFormatError, open_regular, open_zip,
                                      read_npy_member)


@dataclass(frozen=True)
class ArraySpec:
    """What one array of a data set file may be: a dtype among ``dtypes``, and the shape
    ``(rows, *row_shape)`` with at most ``max_rows`` rows."""

    dtypes: tuple
    row_shape: tuple
    max_rows: int

    def describe(self):
        """E.g. "uint8 of shape (n, 28, 28), n at most 60000"."""
        shape = str(("n", *self.row_shape)).replace("'", "")
        return f"{' or '.join(self.dtypes)} of shape {shape}, n at most {self.max_rows}"


def load_arrays(path, specs):
    """``{key: array}`` for each ``key: ArraySpec`` of ``specs``, from the ``.npz`` file ``path``.

    Pickled objects are refused (the dtype must be one of the spec's): a data file should
    hold plain numbers, and unpickling runs code.
    """
    def read(archive):
        check_keys(archive, path, specs)
        return {key: _read_array(archive, path, key, spec) for key, spec in specs.items()}

    return read_npz(path, read)


def read_npz(path, read):
    """``read(archive)`` on the zip archive of the ``.npz`` file ``path``, opened as a
    regular file whose signature is a zip's; a damaged archive is a FileFormatError
    naming ``path``."""
    try:
        file = open_regular(path)
    except OSError as error:
        raise FileFormatError(f"{path}: cannot be read ({error}).") from None
    with file:
        if file.read(4) != b"PK\x03\x04":
            # np.load would guess another format and talk about pickles
            raise FileFormatError(
                f"{path}: not a .npz file (it does not start like a zip archive); delete it and "
                "download it again."
            )
        try:
            with open_zip(file, path) as archive:
                return read(archive)
        except STREAM_ERRORS as error:
            raise FileFormatError(
                f"{path}: not a readable .npz file ({error}). Delete it and download it again."
            ) from None


def check_keys(archive, path, keys):
    """A FileFormatError naming the arrays of ``keys`` the archive does not hold."""
    held = sorted(name[: -len(".npy")] for name in archive.namelist() if name.endswith(".npy"))
    missing = [key for key in keys if key not in held]
    if missing:
        raise FileFormatError(f"{path}: arrays {missing} are missing; the file holds {held}.")


def _read_array(archive, path, key, spec):
    """Array ``key``, its header checked against ``spec`` before its data is read."""
    def check_header(shape, dtype):
        if (dtype.name not in spec.dtypes or len(shape) == 0 or shape[1:] != spec.row_shape
                or shape[0] > spec.max_rows):
            raise FileFormatError(
                f"{path}: {key} should be {spec.describe()}, the file holds {dtype} of shape "
                f"{shape}."
            )

    largest = spec.max_rows * math.prod(spec.row_shape) * max(
        np.dtype(dtype).itemsize for dtype in spec.dtypes)
    return read_npy_member(archive, f"{key}.npy", f"{path}: {key}.npy", largest, check_header)
