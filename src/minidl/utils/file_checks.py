"""Reading files that may be damaged, foreign or made to hurt: model files and data sets.

minidl's readers (``minidl.models.saving``, ``minidl.datasets``) follow the same rules,
written once here:

* Only regular files are read. ``/dev/zero`` never ends, a FIFO waits for a writer
  forever, a directory is not a file.
* A zip archive that names a member twice is refused: which of the two a reader gets
  depends on the reader, so the file does not say what it holds.
* Nothing is "read all at once, then checked". Every read is bounded by the size its data
  must have, known before reading (from a manifest, a model or a header checked first), so
  a small file that expands to gigabytes (a zip member or a gzip file of deflated zeros)
  costs no more memory than the data it should hold.
* A ``.npy`` header is parsed and checked before its data is read: a header declaring
  2**40 elements must not allocate them. Sizes are computed with Python integers, which
  do not overflow (NumPy's int64 does).

A file that breaks a rule raises ``FileFormatError``, a ``ValueError`` naming the file.
"""

from __future__ import annotations

import collections
import math
import os
import stat
import zipfile
import zlib

import numpy as np

# What reading a damaged zip member or gzip stream raises (a RuntimeError: an encrypted member).
STREAM_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                 NotImplementedError)

# The most a .npy file holds besides its data: magic, version and header length (12 bytes),
# then a header of at most 10,000 bytes (NumPy's own limit for headers it parses).
NPY_HEADER_MAX = 12 + 10_000

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class FileFormatError(ValueError):
    """A file minidl cannot load: not its format, damaged, or not what the reader expects."""


def open_regular(path):
    """``path`` opened for reading in binary, if it is a regular file.

    The file is opened first and checked after (``fstat`` of the open file), so the file
    checked is the file read; ``O_NONBLOCK`` keeps the opening of a FIFO from waiting for a
    writer (it changes nothing for a regular file)."""
    path = os.fspath(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for is_kind, name in _KINDS if is_kind(mode)), "not a regular file")
            raise FileFormatError(
                f"{path!r} is {kind}, not a regular file: minidl reads models and data sets "
                "from regular files only."
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path, limit):
    """The first ``limit + 1`` bytes of the regular file ``path`` (one more than a caller
    accepts, so it can tell a larger file); a path that cannot be opened is a
    FileFormatError naming it."""
    try:
        file = open_regular(path)
    except OSError as error:
        raise FileFormatError(f"{path}: cannot be read ({error}).") from None
    with file:
        return file.read(limit + 1)


def open_zip(handle, path):
    """The zip archive in the open file ``handle`` (raises zipfile.BadZipFile if it is not
    one), refused if its directory names a member twice."""
    archive = zipfile.ZipFile(handle)
    counts = collections.Counter(info.filename for info in archive.infolist())
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        archive.close()
        raise FileFormatError(
            f"{path!r} names {', '.join(repeated)} twice: a zip archive must hold one member "
            "of each name, or what it holds depends on the program reading it."
        )
    return archive


def open_member(archive, name, max_size, where):
    """Member ``name`` of ``archive`` as a stream, refused if the archive's directory says
    it expands to more than ``max_size`` bytes. (The stream itself stops at that declared
    size, however much its compressed data would expand to.)"""
    info = archive.getinfo(name)
    if info.file_size > max_size:
        raise FileFormatError(
            f"{where} expands to {info.file_size} bytes; what it should hold needs at most "
            f"{max_size}."
        )
    return archive.open(info)


def read_exactly(stream, size, where):
    """Exactly ``size`` bytes from ``stream``, which must end right after them.

    At most ``size + 1`` bytes are read, however long the stream is: a shorter stream is
    truncated, a longer one holds more than its header says. Returns a writable buffer."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        count = stream.readinto(view[filled:])
        if not count:
            raise FileFormatError(
                f"{where} is truncated: its header announces {size} bytes of data, it holds "
                f"{filled}."
            )
        filled += count
    if stream.read(1):
        raise FileFormatError(
            f"{where} is too long: it holds more than the {size} bytes of data its header "
            "announces."
        )
    return buffer


def read_npy(stream, where, check_header):
    """The array in the ``.npy`` stream, in two steps: its header (shape, dtype) is read
    and given to ``check_header(shape, dtype)``, which raises FileFormatError if they are
    not what the caller expects; then exactly the bytes they need are read, and no more."""
    shape, fortran_order, dtype = _read_npy_header(stream, where)
    check_header(shape, dtype)
    data = read_exactly(stream, math.prod(shape) * dtype.itemsize, where)
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")


def read_npy_member(archive, name, where, max_data_bytes, check_header):
    """``read_npy`` of member ``name`` of ``archive``, whose data needs at most
    ``max_data_bytes`` bytes (the member's declared size is checked first)."""
    with open_member(archive, name, max_data_bytes + NPY_HEADER_MAX, where) as stream:
        return read_npy(stream, where, check_header)


def _read_npy_header(stream, where):
    """``(shape, fortran_order, dtype)`` from a ``.npy`` header, format version 1.0 or 2.0
    (what ``np.save`` writes for arrays of numbers)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(stream)
        if version not in readers:
            raise ValueError(f".npy format version {version}; versions 1.0 and 2.0 are read")
        return readers[version](stream, max_header_size=NPY_HEADER_MAX - 12)
    except ValueError as error:
        raise FileFormatError(f"{where} is damaged or not a .npy array ({error}).") from None
