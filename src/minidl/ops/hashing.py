"""String hashes, bit for bit as TensorFlow's: what the Hashing layers bin with.

No gradient here: a hash is an index, not a number one could nudge.

    fingerprint64(["A", "B"])            uint64 FarmHash Fingerprint64 of each string's
                                         UTF-8 bytes (tf.strings.to_hash_bucket_fast)
    siphash64(["A", "B"], (k0, k1))      uint64 SipHash-2-4 under the 128-bit key (k0, k1)
                                         (tf.strings.to_hash_bucket_strong)
    fingerprint_cat64(h1, h2)            TensorFlow's FingerprintCat64: two 64-bit
                                         fingerprints mixed into one (tf.sparse.cross_hashed)

A value's bin is then ``hash mod num_bins`` (on the unsigned hash).  Strings are
hashed as UTF-8 bytes (bytes as they are); an integer by its decimal text, as
``tf.as_string`` writes it (Keras's Hashing turns integers into strings first).
The work is in the kernels ``fingerprint64`` and ``siphash64`` (``_kernels``),
which take the strings' bytes end to end and where each one starts.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels

_MUL = np.uint64(0xC6A4A7935BD1E995)  # FingerprintCat64's multiplier (Murmur2's)
_47 = np.uint64(47)


def string_bytes(values, who):
    """The values of the array ``values`` (any shape: str, bytes, or integers) as
    ``(data, offsets)``: their bytes end to end (uint8) and where each starts (int64,
    one more than there are values).  Floats, booleans and other objects are a
    TypeError naming ``who``, as Keras refuses them."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind in "iu":
        items = list(map(str, flat.tolist()))  # 42 -> "42", as tf.as_string writes it
    elif flat.dtype.kind in "USO":
        items = flat.tolist()
    else:
        raise TypeError(f"{who} takes strings or integers, received values of dtype "
                        f"{flat.dtype} (shape {np.shape(values)}). Keras hashes only strings and "
                        "integers: round floats to integers first (or bucket them with "
                        "Discretization).")
    try:
        text = "".join(items)
    except TypeError:  # bytes among the strings (or something else)
        text = None
    if text is not None and text.isascii():  # the quick way: one character, one byte
        data, lengths = text.encode("ascii"), list(map(len, items))
    else:
        encoded = [v.encode("utf-8") if isinstance(v, str) else v for v in items]
        odd = next((v for v in encoded if not isinstance(v, bytes)), None)
        if odd is not None:
            raise TypeError(f"{who} takes strings or integers, received {type(odd).__name__} "
                            f"{odd!r} among strings (shape {np.shape(values)}). Give one kind of "
                            "value per input.")
        data, lengths = b"".join(encoded), list(map(len, encoded))
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.frombuffer(data, np.uint8), offsets


def fingerprint64(values, who="fingerprint64"):
    """FarmHash Fingerprint64 of each value (see the module docstring), uint64, shaped
    as ``values``."""
    data, offsets = string_bytes(values, who)
    out = np.empty(len(offsets) - 1, np.uint64)
    _kernels.current.fingerprint64(data, offsets, out)
    return out.reshape(np.shape(values))


def siphash64(values, key, who="siphash64"):
    """SipHash-2-4 of each value under ``key``, two integers (taken mod 2**64, so -1
    is 2**64 - 1 as TensorFlow reads it), uint64, shaped as ``values``."""
    data, offsets = string_bytes(values, who)
    out = np.empty(len(offsets) - 1, np.uint64)
    key0, key1 = (int(k) % 2 ** 64 for k in key)
    _kernels.current.siphash64(data, offsets, key0, key1, out)
    return out.reshape(np.shape(values))


def fingerprint_cat64(first, second):
    """TensorFlow's FingerprintCat64 of two uint64 arrays (element by element):

        r = first ^ M;  r ^= mix(second * M) * M;  r *= M;  r = mix(mix(r) * M)

    with ``mix(x) = x ^ (x >> 47)`` and ``M = 0xC6A4A7935BD1E995``, all mod 2**64."""
    first = np.asarray(first, np.uint64)
    second = np.asarray(second, np.uint64)
    with np.errstate(over="ignore"):
        result = first ^ _MUL
        result ^= _shift_mix(second * _MUL) * _MUL
        result *= _MUL
        return _shift_mix(_shift_mix(result) * _MUL)


def _shift_mix(x):
    return x ^ (x >> _47)
