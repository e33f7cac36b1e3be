"""Elements with structure: one array, a tuple of arrays, a dict of arrays, or a nest of those.

A dataset element may be one array (``x``), a tuple (``(x, y)``), a dict
(``{"age": a, "fare": f}``) or a nest of them (``({"age": a, "fare": f}, y)``).
Every operation works on the arrays inside, the *leaves*, and keeps the nest
around them.  Two functions do all of it:

    flatten(({"a": 1, "b": 2}, 3))              ->  [1, 2, 3]
    pack_like(({"a": 0, "b": 0}, 0), [4, 5, 6])  ->  ({"a": 4, "b": 5}, 6)

Tuples (named tuples too) and dicts are structure; anything else is a leaf.
A Python *list* is a leaf, as in tf.data: ``from_tensor_slices([[1, 2], [3, 4]])``
slices one 2x2 array.  Leaves become NumPy arrays with ``to_array``.
"""

from __future__ import annotations

import functools
import operator

import numpy as np


def flatten(structure):
    """The leaves of ``structure``, in order (a dict's in its own key order)."""
    if isinstance(structure, tuple):
        return [leaf for part in structure for leaf in flatten(part)]
    if isinstance(structure, dict):
        return [leaf for part in structure.values() for leaf in flatten(part)]
    return [structure]


def pack_like(template, leaves):
    """``leaves`` put back into the nest of ``template`` (the inverse of ``flatten``)."""
    return _pack(template, iter(leaves))


def packer(template):
    """``pack_like`` for one template, prepared once.

    A pipeline packs every element (or batch) into the same nest; for one array
    or a flat tuple such as the usual ``(x, y)`` that needs no walk of the nest.
    """
    if not isinstance(template, (tuple, dict)):
        return operator.itemgetter(0)
    if type(template) is tuple and not any(isinstance(part, (tuple, dict)) for part in template):
        return tuple
    return functools.partial(pack_like, template)


def _pack(template, leaves):
    if isinstance(template, tuple):
        parts = [_pack(part, leaves) for part in template]
        return type(template)(*parts) if hasattr(template, "_fields") else tuple(parts)
    if isinstance(template, dict):
        return {key: _pack(part, leaves) for key, part in template.items()}
    return next(leaves)


def map_structure(function, structure):
    """``structure`` with ``function`` applied to every leaf."""
    return pack_like(structure, [function(leaf) for leaf in flatten(structure)])


def to_array(value):
    """One leaf as a NumPy array.

    Arrays keep their dtype.  Python numbers and lists of them get the dtypes
    TensorFlow gives them: float32 for floats, int32 for integers (int64 when
    a value does not fit).  A minidl Tensor gives its array (``Tensor.__array__``).
    """
    if isinstance(value, np.ndarray):
        return value
    array = np.asarray(value)
    if isinstance(value, np.generic):
        return array
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (array.size == 0 or _fits_int32(array)):
        return array.astype(np.int32)
    return array


def _fits_int32(array):
    limits = np.iinfo(np.int32)
    return limits.min <= array.min() and array.max() <= limits.max


def as_element(value):
    """What a ``map`` function or a generator returned, as a dataset element:
    lists become tuples (tf.data does the same) and leaves become arrays."""
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        parts = [as_element(part) for part in value]
        return type(value)(*parts) if hasattr(value, "_fields") else tuple(parts)
    if isinstance(value, dict):
        return {key: as_element(part) for key, part in value.items()}
    return to_array(value)


def spec_of(element):
    """The ``TensorSpec`` of every array of ``element``, in its structure (strings, of
    whatever NumPy dtype, as dtype object: TensorFlow's one tf.string)."""
    def spec(leaf):
        dtype = np.asarray(leaf).dtype
        return TensorSpec(np.shape(leaf), object if dtype.kind in "US" else dtype)

    return map_structure(spec, element)


class TensorSpec:
    """The shape and dtype of one leaf, for ``Dataset.from_generator(output_signature=...)``.

    ``shape`` may hold None for a size that varies (``TensorSpec((None,), "int32")``).
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = None if shape is None else tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name}, name={self.name!r})"

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name)
                == (other.shape, other.dtype, other.name))

    def __hash__(self):
        return hash((self.shape, self.dtype, self.name))

    def without_first_axis(self):
        """The spec of one row of such arrays (``from_tensor_slices``, ``unbatch``)."""
        return TensorSpec(None if self.shape is None else self.shape[1:], self.dtype)

    def with_first_axis(self, size, new=False):
        """The first axis set to ``size`` (None: unknown), or a new first axis of it."""
        if self.shape is None:  # (any rank)
            return self
        rest = self.shape if new else self.shape[1:]
        return TensorSpec((size, *rest), self.dtype)

    def conform(self, array, where):
        """``array`` cast to this dtype, or a ValueError if its shape does not fit."""
        if self.shape is not None and not _shape_fits(array.shape, self.shape):
            raise ValueError(
                f"{where}: expected shape {self.shape} (None: any size), received an array of "
                f"shape {array.shape}."
            )
        return array.astype(self.dtype, copy=False)


def _shape_fits(shape, expected):
    return len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))
