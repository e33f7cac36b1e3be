"""``TensorShape``: a shape whose sizes may be unknown, as ``tf.TensorShape``.

    >>> shape = minidl.TensorShape([20, 30])
    >>> shape.rank, shape.as_list(), shape[1:]
    (2, [20, 30], TensorShape([30]))
    >>> shape == (20, 30), minidl.TensorShape([None, 3]).is_fully_defined()
    (True, False)

minidl's own shapes are plain tuples (``(None, 784)``); this class is for code
written for TensorFlow that says ``tf.TensorShape``, above all an RNN cell's
``state_size`` and ``output_size``: there a TensorShape is *one* state of
several dimensions (``TensorShape([20, 30])``: a state (batch, 20, 30)),
while a list or a tuple is several states (see ``layers.rnn_structure``).
Anything that takes a shape takes a TensorShape too (``Input(shape=...)``,
``add_weight(shape=...)``), since it iterates like a tuple.
"""

from __future__ import annotations

import operator


class TensorShape:
    """Sizes of each axis (an int, or None when unknown), in order."""

    def __init__(self, dims):
        if isinstance(dims, TensorShape):
            dims = dims._dims
        elif dims is None:
            raise ValueError(
                "TensorShape(None) (a shape of unknown rank) is not supported by minidl: give "
                "the sizes, None for an unknown one, e.g. TensorShape([None, 32]).")
        elif not hasattr(dims, "__iter__") or isinstance(dims, (str, bytes)):
            dims = [dims]  # TensorShape(5) is TensorShape([5]), as TensorFlow
        self._dims = tuple(_dimension(d, dims) for d in dims)

    @property
    def rank(self):
        """The number of axes."""
        return len(self._dims)

    ndims = rank

    def as_list(self):
        """The sizes as a list: ``[20, 30]``, ``[None, 3]``."""
        return list(self._dims)

    def is_fully_defined(self):
        """True when every size is known."""
        return None not in self._dims

    def concatenate(self, other):
        """This shape's axes followed by ``other``'s: ``[20].concatenate([30]) == [20, 30]``."""
        return TensorShape(self._dims + TensorShape(other)._dims)

    def __len__(self):
        return len(self._dims)

    def __iter__(self):
        return iter(self._dims)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __bool__(self):
        return True  # a known shape, even a scalar's (TensorShape([])), as TensorFlow

    def __eq__(self, other):
        """Equal to a TensorShape, tuple or list of the same sizes (None equals None)."""
        try:
            return self._dims == TensorShape(other)._dims
        except (TypeError, ValueError):
            return False

    def __hash__(self):
        return hash(self._dims)

    def __repr__(self):
        return f"TensorShape({list(self._dims)})"

    def __str__(self):
        return str(self._dims)


def _dimension(size, dims):
    """One axis's size: None, or a non-negative integer (anything with ``__index__``)."""
    if size is None:
        return None
    try:
        size = operator.index(size)
    except TypeError:
        raise TypeError(f"TensorShape: each size must be an integer or None, received {size!r} "
                        f"in {dims!r}.") from None
    if size < 0:
        raise ValueError(f"TensorShape: sizes must be >= 0, received {size} in {dims!r}.")
    return size
