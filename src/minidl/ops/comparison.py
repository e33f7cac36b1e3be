"""Comparisons and logic: equal, not_equal, less, less_equal, greater,
greater_equal, logical_and, logical_or, logical_not, any, all, isnan, isfinite.

Each answers yes or no, position by position, so the result is a boolean
array (an ``EagerArray``, see ``ops._dtypes``), outside the graph: a step
from false to true has no gradient.  To compute with it, cast it:
``ops.cast(ops.greater(x, 0), "float32")`` is 1.0 where x > 0, else 0.0.
Inputs broadcast against each other (NumPy's rules); for the logical ops
and any/all, a number is true when it is not zero.
"""

from __future__ import annotations

import numpy as np

from minidl.eager_array import eager
from minidl.ops._dtypes import plain_values


def _compare(name, test, x1, x2):
    a, b = plain_values(x1), plain_values(x2)
    try:
        return eager(np.asarray(test(a, b)))
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast (sizes "
                         "lined up at the last axis must be equal, or 1).") from None


def equal(x1, x2):
    """x1 == x2."""
    return _compare("equal", np.equal, x1, x2)


def not_equal(x1, x2):
    """x1 != x2."""
    return _compare("not_equal", np.not_equal, x1, x2)


def less(x1, x2):
    """x1 < x2."""
    return _compare("less", np.less, x1, x2)


def less_equal(x1, x2):
    """x1 <= x2."""
    return _compare("less_equal", np.less_equal, x1, x2)


def greater(x1, x2):
    """x1 > x2."""
    return _compare("greater", np.greater, x1, x2)


def greater_equal(x1, x2):
    """x1 >= x2."""
    return _compare("greater_equal", np.greater_equal, x1, x2)


def logical_and(x1, x2):
    """x1 and x2 (each true when not zero)."""
    return _compare("logical_and", np.logical_and, x1, x2)


def logical_or(x1, x2):
    """x1 or x2 (each true when not zero)."""
    return _compare("logical_or", np.logical_or, x1, x2)


def logical_not(x):
    """not x (true where x is zero)."""
    return eager(np.asarray(np.logical_not(plain_values(x))))


def isnan(x):
    """True where x is NaN (never for integers)."""
    return eager(np.asarray(np.isnan(plain_values(x))))


def isfinite(x):
    """True where x is neither NaN nor infinite."""
    return eager(np.asarray(np.isfinite(plain_values(x))))


def _reduce(name, reduction, x, axis, keepdims):
    values = plain_values(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    try:
        return eager(np.asarray(reduction(values, axis=axis, keepdims=keepdims)))
    except np.exceptions.AxisError as error:
        raise ValueError(f"{name}: axis {axis} for a tensor of shape {values.shape}: "
                         f"{error}.") from None


def any(x, axis=None, keepdims=False):
    """True where some value along ``axis`` (all axes when None) is true (not zero)."""
    return _reduce("any", np.any, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    """True where every value along ``axis`` (all axes when None) is true (not zero)."""
    return _reduce("all", np.all, x, axis, keepdims)
