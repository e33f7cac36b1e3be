"""Step functions: floor, ceil, round, sign, floor_divide, and mod.

floor, ceil, round, sign and floor_divide are flat between their jumps, so
their derivative is 0 almost everywhere (and undefined at the jumps): the
gradient sent back is 0, as TensorFlow's (which has none) leaves it.

``mod(x1, x2) = x1 - x2 * floor(x1 / x2)`` (the result has the sign of x2,
as Python's ``%`` and NumPy's ``np.mod``) is a sawtooth: between its jumps
d/dx1 = 1 and d/dx2 = -floor(x1 / x2).

Given integers (no Tensor, no floats), round, sign, mod and floor_divide
stay integers, as in Keras 3 (see ``ops._dtypes``).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops._dtypes import integers_by_numpy
from minidl.ops.arithmetic import _pair, as_tensor


def _flat(out, inputs):
    """A result whose gradient is 0 for every input."""
    return record(out, inputs, lambda grad: tuple(np.zeros_like(t.data) for t in inputs))


def floor(x):
    """The largest whole number <= x (a float).   d/dx = 0."""
    x = as_tensor(x)
    return _flat(np.floor(x.data), (x,))


def ceil(x):
    """The smallest whole number >= x (a float).   d/dx = 0."""
    x = as_tensor(x)
    return _flat(np.ceil(x.data), (x,))


@integers_by_numpy(np.round)
def round(x, decimals=0):
    """x rounded to ``decimals`` decimals, halves to the even neighbour (as TensorFlow
    and NumPy: round(0.5) = 0, round(1.5) = 2).   d/dx = 0."""
    x = as_tensor(x)
    return _flat(np.round(x.data, decimals), (x,))


@integers_by_numpy(np.sign)
def sign(x):
    """-1, 0 or 1 as x is negative, zero or positive.   d/dx = 0."""
    x = as_tensor(x)
    return _flat(np.sign(x.data), (x,))


@integers_by_numpy(np.floor_divide, operands=2)
def floor_divide(x1, x2):
    """floor(x1 / x2).   d/dx1 = d/dx2 = 0."""
    a, b = _pair(x1, x2)
    return _flat(np.floor_divide(a.data, b.data), (a, b))


@integers_by_numpy(np.mod, operands=2)
def mod(x1, x2):
    """x1 - x2 * floor(x1 / x2), with the sign of x2.

    d/dx1 = 1, d/dx2 = -floor(x1 / x2).
    """
    a, b = _pair(x1, x2)
    out = np.mod(a.data, b.data)

    def backward(grad):
        grad_b = unbroadcast(-grad * np.floor_divide(a.data, b.data), b.shape) \
            if b.requires_grad else None
        return unbroadcast(grad, a.shape), grad_b

    return record(out, (a, b), backward)
