"""Nests: tensors (or shapes, or sizes) held in lists and tuples, as Keras holds them.

An RNN cell may read several tensors per step and carry several states, held
in lists, tuples and named tuples: ``((x1, x2), [h, c])``.  Keras works on such
a nest with ``tf.nest``; minidl with two functions, one the inverse of the other:

    flatten([a, (b, c)])              ->  [a, b, c]
    pack_as([0, (0, 0)], [x, y, z])   ->  [x, (y, z)]   (the same lists, tuples, named tuples)

Lists and tuples (named tuples too) hold parts; anything else is a leaf.  A
shape is a tuple too, so a nest of shapes says which tuples are leaves:
``is_leaf=is_shape`` (``((None, 10), (None, 20, 30))`` is two shapes).
(A dataset element is nested by another rule, tf.data's: see ``data/structure.py``.)
"""

from __future__ import annotations

import numpy as np

from minidl.tensor_shape import TensorShape


def _is_container(value, is_leaf):
    return isinstance(value, (list, tuple)) and not (is_leaf is not None and is_leaf(value))


def flatten(nest, is_leaf=None):
    """The leaves of ``nest``, in order."""
    if _is_container(nest, is_leaf):
        return [leaf for part in nest for leaf in flatten(part, is_leaf)]
    return [nest]


def like(container, parts):
    """``parts`` in a container of ``container``'s type (a named tuple keeps its class)."""
    if isinstance(container, tuple) and hasattr(container, "_fields"):
        return type(container)(*parts)
    return tuple(parts) if isinstance(container, tuple) else list(parts)


def pack_as(template, flat, is_leaf=None):
    """``flat`` (a list of leaves) nested as ``template`` (the inverse of ``flatten``)."""
    flat = list(flat)
    count = len(flatten(template, is_leaf))
    if count != len(flat):
        raise ValueError(f"Cannot nest {len(flat)} values as {template!r}, which holds {count}.")
    leaves = iter(flat)

    def pack(part):
        if _is_container(part, is_leaf):
            return like(part, [pack(p) for p in part])
        return next(leaves)

    return pack(template)


def map_nest(function, nest, is_leaf=None):
    """``nest`` with ``function`` applied to each leaf."""
    return pack_as(nest, [function(leaf) for leaf in flatten(nest, is_leaf)], is_leaf)


def is_shape(value):
    """True for one shape: a TensorShape, or a tuple of sizes (ints or None)."""
    return isinstance(value, TensorShape) or isinstance(value, tuple) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value)


def format_nest(nest, text=str):
    """A nest of shapes (or of anything ``text`` writes) for a message: ``((None, 5, 3),
    (None, 5, 2))``."""
    if _is_container(nest, is_shape):
        parts = ", ".join(format_nest(part, text) for part in nest)
        return f"[{parts}]" if isinstance(nest, list) else f"({parts}{',' * (len(nest) == 1)})"
    return text(nest)
