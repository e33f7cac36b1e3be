"""Reductions: sum, mean, max, min over some axes (and cumsum, the running sum).

A reduction maps many inputs to one output, so backward spreads each output
gradient back over the inputs it came from: the gradient is first given back
its reduced axes (as size-1 axes) and then broadcast to the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops._dtypes import integers_by_numpy
from minidl.ops.arithmetic import as_tensor
from minidl.ops.conversion import cast
from minidl.ops.selection import maximum, minimum
from minidl.ops.shaping import ravel


def _axes(axis, ndim, op="reduction", shape=None):
    """``axis`` (None, an int or a tuple, maybe negative) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    try:
        return tuple(sorted(np.lib.array_utils.normalize_axis_tuple(axis, ndim)))
    except np.exceptions.AxisError as error:
        shape = "" if shape is None else f" of shape {shape}"
        raise ValueError(f"{op}: {error}; the tensor{shape} has {ndim} axes.") from None


def _spread(grad, axes, keepdims, shape):
    """The output gradient broadcast back to the input ``shape`` (a real copy)."""
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape).copy()


@integers_by_numpy(lambda x, axis=None, keepdims=False: np.sum(x, _numpy_axis(axis),
                                                                 keepdims=keepdims))
def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all axes when None).

    Every input adds into exactly one output with weight 1, so
    d out / d x = 1: each input receives its output's gradient.
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "sum", x.shape)
    out = np.asarray(x.data.sum(axis=axes, keepdims=keepdims))

    def backward(grad):
        return (_spread(grad, axes, keepdims, x.shape),)

    return record(out, (x,), backward)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``: the sum divided by ``count``, the number of inputs
    averaged into each output.  d out / d x = 1 / count.
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, "mean", x.shape)
    count = math.prod(x.shape[a] for a in axes)
    if len(axes) == x.ndim and not keepdims:  # the mean of everything (a loss): one number
        out = np.asarray(np.add.reduce(x.data, axis=None) / count, dtype=x.dtype)

        def backward(grad):
            return (np.full(x.shape, grad / count, dtype=x.dtype),)

        return record(out, (x,), backward)
    out = np.asarray(x.data.mean(axis=axes, keepdims=keepdims))

    def backward(grad):
        return (_spread(grad / count, axes, keepdims, x.shape),)

    return record(out, (x,), backward)


def _integer_extreme(reduction):
    """NumPy's max or min with Keras's arguments (``initial=None``: no initial value)."""

    def compute(x, axis=None, keepdims=False, initial=None):
        extra = {} if initial is None else {"initial": initial}
        return reduction(x, axis=_numpy_axis(axis), keepdims=keepdims, **extra)

    return compute


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _extreme(name, pick, x, axis, keepdims, initial):
    """The largest (``pick`` np.max) or smallest (np.min) value over ``axis``, and
    ``initial`` when it goes beyond that.

    d out / d x is 1 at the position of the extreme and 0 elsewhere; when
    several inputs tie, the gradient is split equally between them (as
    TensorFlow does).
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim, name, x.shape)
    if x.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}.")
    peak = pick(x.data, axis=axes, keepdims=True)
    out = peak if keepdims else np.squeeze(peak, axis=axes)

    def backward(grad):
        winners = (x.data == peak).astype(x.dtype)
        winners /= winners.sum(axis=axes, keepdims=True)
        if not keepdims:
            grad = np.expand_dims(grad, axes)
        return (winners * grad,)

    result = record(out, (x,), backward)
    if initial is None:
        return result
    return (maximum if pick is np.max else minimum)(result, initial)


@integers_by_numpy(_integer_extreme(np.max))
def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis`` (all axes when None); at least ``initial`` when given.
    The gradient goes to the maximum (split between ties)."""
    return _extreme("max", np.max, x, axis, keepdims, initial)


@integers_by_numpy(_integer_extreme(np.min))
def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis`` (all axes when None); at most ``initial`` when given.
    The gradient goes to the minimum (split between ties)."""
    return _extreme("min", np.min, x, axis, keepdims, initial)


@integers_by_numpy(lambda x, axis=None, dtype=None: np.cumsum(x, axis, dtype))
def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (of the flattened values when None): out[i] is
    x[0] + ... + x[i].

    Input x[j] is in every out[i] with i >= j, so its gradient is the sum of
    those outputs' gradients: the running sum of the gradient taken from the end.
    """
    x = as_tensor(x if dtype is None else cast(x, dtype))
    if axis is None:
        x, axis = ravel(x), 0
    try:
        out = np.cumsum(x.data, axis=axis)
    except np.exceptions.AxisError as error:
        raise ValueError(f"cumsum: axis {axis} for a tensor of shape {x.shape}: {error}.") from None

    def backward(grad):
        return (np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis),)

    return record(out, (x,), backward)
