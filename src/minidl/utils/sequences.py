"""``pad_sequences``: lists of different lengths made into one rectangular array.

Text arrives as sequences of word indices of different lengths; a batch must
be one array.  Keras's answer, reproduced here with its arguments and defaults:

    pad_sequences([[1, 2, 3], [4, 5]], maxlen=4)
    # [[0, 1, 2, 3],
    #  [0, 0, 4, 5]]           padding="pre": zeros go in front

Every row gets length ``maxlen`` (the longest sequence when None).  A longer
sequence loses values at its start (``truncating="pre"``) or its end
(``"post"``); a shorter one gets ``value`` in front (``padding="pre"``) or
behind (``"post"``).  Padding in front keeps the last words next to the end
of the sequence, where a recurrent layer reads them last.  An empty sequence
becomes a row of ``value``.  Entries may themselves be arrays (a sequence of
vectors): the result is then ``(num_samples, maxlen, *entry_shape)``.

Refused with a ValueError, where NumPy would go on: a padding ``value`` the
dtype cannot hold (NaN or 1e10 in int32, -1 in uint8), and a result larger
than the machine's memory (``maxlen=10**12``), before any of it is allocated.
"""

from __future__ import annotations

import math
import os

import numpy as np

from minidl.errors import ArgumentTypeError

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """``sequences`` (a list of lists) as an array of shape ``(len(sequences), maxlen)``.

    See the module docstring for the rules; the arguments are Keras's.
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(
                f'pad_sequences: {name} must be "pre" or "post", received {side!r}.'
            )
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            f"pad_sequences: `sequences` must be a list of sequences, received "
            f"{type(sequences).__name__}."
        )
    if maxlen is not None:
        whole = isinstance(maxlen, (int, np.integer)) and not isinstance(maxlen, (bool, np.bool_))
        if not whole or maxlen < 0:  # (a TypeError for a float or a bool, as Keras)
            error = ValueError if whole else ArgumentTypeError
            raise error(f"pad_sequences: maxlen must be None or an integer >= 0, received "
                        f"{maxlen!r}.")
    lengths, entry_shape = _lengths_and_entry_shape(sequences)
    if maxlen is None:
        maxlen = max(lengths, default=0)
    dtype = np.dtype(dtype)
    _check_value(value, dtype)
    padded = _filled((len(sequences), maxlen, *entry_shape), value, dtype, max(lengths, default=0))
    for row, (sequence, length) in enumerate(zip(sequences, lengths)):
        if length == 0 or maxlen == 0:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != entry_shape:
            raise ValueError(
                f"pad_sequences: the entries of sequence {row} have shape {kept.shape[1:]}, "
                f"those of the first non-empty sequence {entry_shape}; all must agree."
            )
        if padding == "post":
            padded[row, :len(kept)] = kept
        else:
            padded[row, maxlen - len(kept):] = kept
    return padded


def _check_value(value, dtype):
    """A padding ``value`` that ``dtype`` can hold: a string needs an object or string
    dtype, an integer dtype a finite number in its range (NumPy would write NaN as
    -2147483648 into int32, with only a warning)."""
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(
            f"pad_sequences: dtype {dtype} cannot hold the padding value {value!r}; pass "
            "dtype=object (or a string dtype) to pad with strings."
        )
    number = np.asarray(value)
    if dtype.kind in "iu" and number.ndim == 0 and number.dtype.kind in "iuf":
        limits = np.iinfo(dtype)
        if not (np.isfinite(number) and limits.min <= number <= limits.max):
            raise ValueError(
                f"pad_sequences: dtype {dtype} cannot hold the padding value {value!r} (its "
                f"values are whole numbers from {limits.min} to {limits.max}); pass a float "
                "dtype (dtype='float32') to pad with it, or another value."
            )


def _filled(shape, value, dtype, longest):
    """``np.full(shape, value, dtype)``, or a ValueError saying why not when the array
    cannot fit in this machine's memory (maxlen=10**12 asks for terabytes)."""
    needed = math.prod(shape) * max(dtype.itemsize, 1)
    memory = _physical_memory()
    message = (
        f"pad_sequences: the padded array would have shape {shape} ({dtype}, "
        f"{_in_bytes(needed)}), more than {{}}; maxlen={shape[1]} is the length of every "
        f"row (the longest sequence is {longest} long): pass a smaller maxlen."
    )
    if memory is not None and needed > memory:
        raise ValueError(message.format(f"this machine's memory ({_in_bytes(memory)})"))
    try:
        return np.full(shape, value, dtype=dtype)
    except MemoryError:
        raise ValueError(message.format("the memory free now")) from None


def _physical_memory():
    """The machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _in_bytes(count):
    """1234567 -> "1.2 MB"."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


def _lengths_and_entry_shape(sequences):
    """Each sequence's length, and the shape of one entry of the first non-empty one."""
    lengths, entry_shape = [], None
    for row, sequence in enumerate(sequences):
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError(
                f"pad_sequences: `sequences` must be a list of sequences; entry {row} is "
                f"{sequence!r}, which has no length."
            ) from None
        if entry_shape is None and len(sequence):
            entry_shape = np.asarray(sequence).shape[1:]
    return lengths, entry_shape or ()
