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
"""

from __future__ import annotations

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
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(
            maxlen, (int, np.integer)) or maxlen < 0):
        error = ValueError if isinstance(maxlen, (int, np.integer)) else ArgumentTypeError
        raise error(f"pad_sequences: maxlen must be None or an integer >= 0, received {maxlen!r}.")
    lengths, entry_shape = _lengths_and_entry_shape(sequences)
    if maxlen is None:
        maxlen = max(lengths, default=0)
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(
            f"pad_sequences: dtype {dtype} cannot hold the padding value {value!r}; pass "
            "dtype=object (or a string dtype) to pad with strings."
        )
    padded = np.full((len(sequences), maxlen, *entry_shape), value, dtype=dtype)
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
