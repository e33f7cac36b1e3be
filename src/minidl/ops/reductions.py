"""Reductions: sum, mean, max over some axes.

A reduction maps many inputs to one output, so backward spreads each output
gradient back over the inputs it came from: the gradient is first given back
its reduced axes (as size-1 axes) and then broadcast to the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple, maybe negative) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    try:
        return tuple(sorted(np.lib.array_utils.normalize_axis_tuple(axis, ndim)))
    except np.exceptions.AxisError as error:
        raise ValueError(f"reduction: {error}; the tensor has {ndim} axes.") from None


def _spread(grad, axes, keepdims, shape):
    """The output gradient broadcast back to the input ``shape`` (a real copy)."""
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape).copy()


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all axes when None).

    Every input adds into exactly one output with weight 1, so
    d out / d x = 1: each input receives its output's gradient.
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim)
    out = np.asarray(x.data.sum(axis=axes, keepdims=keepdims))

    def backward(grad):
        return (_spread(grad, axes, keepdims, x.shape),)

    return record(out, (x,), backward)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``: the sum divided by ``count``, the number of inputs
    averaged into each output.  d out / d x = 1 / count.
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim)
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


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``.

    d out / d x is 1 at the position of the maximum and 0 elsewhere; when
    several inputs tie for the maximum, the gradient is split equally
    between them (as TensorFlow does).
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim)
    if x.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}.")
    peak = x.data.max(axis=axes, keepdims=True)
    out = peak if keepdims else np.squeeze(peak, axis=axes)

    def backward(grad):
        winners = (x.data == peak).astype(x.dtype)
        winners /= winners.sum(axis=axes, keepdims=True)
        if not keepdims:
            grad = np.expand_dims(grad, axes)
        return (winners * grad,)

    return record(out, (x,), backward)
