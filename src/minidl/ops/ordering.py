"""Ops about the order of values: argmax, argmin, argsort, sort, top_k.

argmax, argmin and argsort answer with positions: int32 arrays (EagerArrays,
see ``ops._dtypes``), with no gradient.  sort and top_k's values are the
inputs moved to new places, read with ``take_along_axis`` at the positions
argsort finds, so the gradient goes back to where each value came from.
Ties keep their order (a stable sort, as TensorFlow's): ``argsort([3, 1, 3])``
is [1, 0, 2], and among equal values top_k picks the first ones.
"""

from __future__ import annotations

import numpy as np

from minidl.eager_array import eager
from minidl.ops._dtypes import is_exact, plain_values, resolved
from minidl.ops.gathering import take_along_axis
from minidl.ops.shaping import ravel


def _checked_axis(values, axis, op):
    if values.size == 0:
        raise ValueError(f"{op}: cannot order an empty tensor of shape {values.shape}.")
    if axis is not None and not -values.ndim <= axis < max(values.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape "
                         f"{values.shape} ({values.ndim} axes).")


def _arg_extreme(pick, x, axis, keepdims, op):
    values = plain_values(x)
    _checked_axis(values, axis, op)
    if axis is None:
        index = pick(values)
        out = np.reshape(index, (1,) * values.ndim) if keepdims else index
    else:
        out = pick(values, axis=axis, keepdims=keepdims)
    return eager(np.asarray(out, dtype=np.int32))


def argmax(x, axis=None, keepdims=False):
    """The position of the largest value along ``axis`` (in the flattened values when
    None); the first one when several tie.  int32."""
    return _arg_extreme(np.argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims=False):
    """The position of the smallest value along ``axis`` (in the flattened values when
    None); the first one when several tie.  int32."""
    return _arg_extreme(np.argmin, x, axis, keepdims, "argmin")


def argsort(x, axis=-1):
    """The positions that would sort x in ascending order along ``axis`` (the flattened
    values when None); ties in their order.  int32."""
    values = plain_values(x)
    _checked_axis(values, axis, "argsort")
    return eager(np.argsort(values, axis=axis, kind="stable").astype(np.int32))


def sort(x, axis=-1):
    """x sorted in ascending order along ``axis`` (the flattened values when None).
    The gradient goes back to each value's place before sorting."""
    x = resolved(x)
    if is_exact(x):
        values = plain_values(x)
        _checked_axis(values, axis, "sort")
        return eager(np.sort(values, axis=axis, kind="stable"))
    order = argsort(x, axis)
    return take_along_axis(ravel(x) if axis is None else x, order, 0 if axis is None else axis)


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their positions:
    ``(values, indices)``, values largest first (with ``sorted=False``, in the order
    they have in x); indices int32.  The gradient of values goes back to the
    positions they were taken from."""
    x = resolved(x)
    values = plain_values(x)
    if values.ndim == 0 or not 0 <= k <= values.shape[-1]:
        raise ValueError(f"top_k: k={k} must be between 0 and the size of the last axis of "
                         f"the tensor of shape {values.shape}.")
    keys = values.astype(np.int64) if values.dtype.kind in "bu" else values
    order = np.argsort(-keys, axis=-1, kind="stable")[..., :k]  # largest first, ties in order
    if not sorted:
        order = np.sort(order, axis=-1)
    indices = eager(order.astype(np.int32))
    if is_exact(x):
        return eager(np.take_along_axis(values, order, axis=-1)), indices
    return take_along_axis(x, order, axis=-1), indices
