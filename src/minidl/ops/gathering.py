"""Ops that read values at given positions: take, take_along_axis, one_hot
(positions as a 0/1 table), segment_sum (positions to add into).

take and take_along_axis are indexing (``getitem``) with integer arrays: the
backward scatters the gradient back to the positions read, adding where a
position was read twice.  segment_sum adds rows into their segment, so each
row's gradient is its segment's gradient (a gather): the two are each
other's backward.  Positions are integers (floats holding whole numbers are
accepted, since a Tensor holds floats); negative positions count from the end
in take and take_along_axis.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops._dtypes import as_result, plain_values, requested_dtype
from minidl.ops.arithmetic import as_tensor
from minidl.ops.rearranging import _along, _axis
from minidl.ops.shaping import broadcast_to, getitem, ravel


def positions(indices, op):
    """``indices`` as an integer array; floats must hold whole numbers."""
    values = plain_values(indices)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            raise ValueError(f"{op}: indices must be whole numbers, received {values}.")
        values = values.astype(np.int64)
    elif values.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, received dtype {values.dtype}.")
    return values


def _in_range(index, size, op, axis, shape):
    """``index`` with negative positions counted from the end, checked against ``size``."""
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index[(index < -size) | (index >= size)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of range for axis {axis} of size {size} "
                         f"(tensor of shape {shape}).")
    return np.where(index < 0, index + size, index)


def take(x, indices, axis=None):
    """The values of x at ``indices`` along ``axis`` (of the flattened values when None):
    the result has x's shape with that axis replaced by the shape of ``indices``."""
    x = as_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x, "take")
    index = _in_range(positions(indices, "take"), x.shape[axis], "take", axis, x.shape)
    return getitem(x, _along(axis, index))


def take_along_axis(x, indices, axis=None):
    """``out[..., i, ...] = x[..., indices[..., i, ...], ...]`` along ``axis``: for each
    position of the other axes its own indices (what ``argsort`` gives).  ``indices``
    has x's number of axes; the other axes broadcast.  When ``axis`` is None, x is
    flattened and ``indices`` is one axis of positions."""
    x = as_tensor(x)
    index = positions(indices, "take_along_axis")
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x, "take_along_axis")
    if index.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {index.shape} need the "
                         f"{x.ndim} axes of x (shape {x.shape}).")
    others = list(np.broadcast_shapes(x.shape[:axis] + (1,) + x.shape[axis + 1:],
                                      index.shape[:axis] + (1,) + index.shape[axis + 1:]))
    if tuple(others[:axis] + [x.shape[axis]] + others[axis + 1:]) != x.shape:
        x = broadcast_to(x, others[:axis] + [x.shape[axis]] + others[axis + 1:])
    index = np.broadcast_to(index, others[:axis] + [index.shape[axis]] + others[axis + 1:])
    index = _in_range(index, x.shape[axis], "take_along_axis", axis, x.shape)
    grid = np.ogrid[tuple(slice(size) for size in index.shape)]
    return getitem(x, tuple(index if d == axis else grid[d] for d in range(x.ndim)))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """A new axis of ``num_classes`` at ``axis``: 1 at each value of x, 0 elsewhere
    (a value outside [0, num_classes) gives a row of zeros, as TensorFlow).
    float32 unless ``dtype`` says; no gradient flows through class indices."""
    if sparse:
        raise NotImplementedError("one_hot: minidl tensors are dense; sparse=True is not "
                                  "supported.")
    dtype = np.dtype(np.float32) if dtype is None else requested_dtype(dtype, "one_hot")
    classes = positions(x, "one_hot")
    table = classes[..., None] == np.arange(num_classes)
    if not -table.ndim <= axis < table.ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for the result's {table.ndim} "
                         f"axes (indices of shape {classes.shape}).")
    return as_result(np.moveaxis(table, -1, axis).astype(dtype))


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """``out[s] = sum of data[i] where segment_ids[i] == s``, for s in [0, num_segments)
    (``num_segments`` defaults to the largest id + 1; rows with a negative id are
    dropped).  ``segment_ids`` covers the first axes of ``data``; ``sorted`` (the ids
    are in order) changes nothing here.

    Backward: each row receives its segment's gradient (0 for dropped rows).
    """
    data = as_tensor(data)
    ids = positions(segment_ids, "segment_sum")
    if ids.shape != data.shape[:ids.ndim]:
        raise ValueError(f"segment_sum: segment_ids of shape {ids.shape} must match the first "
                         f"axes of data (shape {data.shape}).")
    if num_segments is None:
        count = int(ids.max()) + 1 if ids.size else 0
    else:
        count = int(num_segments)
    if ids.size and ids.max() >= count:
        raise ValueError(f"segment_sum: segment id {int(ids.max())} is out of range for "
                         f"num_segments={count}.")
    rows = data.data.reshape((math.prod(ids.shape),) + data.shape[ids.ndim:])
    ids = ids.reshape(-1)
    kept = ids >= 0
    out = np.zeros((count,) + rows.shape[1:], dtype=data.dtype)
    np.add.at(out, ids[kept], rows[kept])

    def backward(grad):
        grad_rows = np.zeros_like(rows)
        grad_rows[kept] = grad[ids[kept]]
        return (grad_rows.reshape(data.shape),)

    return record(out, (data,), backward)
