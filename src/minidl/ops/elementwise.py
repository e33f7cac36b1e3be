"""Elementwise functions: exp, log, sqrt, abs, clip, cast.

Each output value depends on one input value only, so the backward is the
output gradient times the derivative f'(x), position by position.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor


def exp(x):
    """e^x.   d/dx = e^x, the output itself."""
    x = as_tensor(x)
    out = np.exp(x.data)
    return record(out, (x,), lambda grad: (grad * out,))


def log(x):
    """Natural logarithm.   d/dx = 1 / x."""
    x = as_tensor(x)
    return record(np.log(x.data), (x,), lambda grad: (grad / x.data,))


def sqrt(x):
    """Square root.   d/dx = 1 / (2 sqrt(x))."""
    x = as_tensor(x)
    out = np.sqrt(x.data)
    return record(out, (x,), lambda grad: (grad / (2 * out),))


def abs(x):
    """|x|.   d/dx = sign(x) (0 at x = 0, as NumPy's sign gives)."""
    x = as_tensor(x)
    return record(np.abs(x.data), (x,), lambda grad: (grad * np.sign(x.data),))


def clip(x, min_value, max_value):
    """x limited to [min_value, max_value] (either bound may be None).

    d/dx = 1 where min_value <= x <= max_value, 0 where x was clipped.
    """
    x = as_tensor(x)
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValueError(f"clip: min_value {min_value} is greater than max_value {max_value}.")
    out = np.clip(x.data, min_value, max_value)

    def backward(grad):
        inside = np.ones(x.shape, dtype=bool)
        if min_value is not None:
            inside &= x.data >= min_value
        if max_value is not None:
            inside &= x.data <= max_value
        return (grad * inside,)

    return record(out, (x,), backward)


def cast(x, dtype):
    """The same values in another float dtype (float32 <-> float64).

    d/dx = 1: the gradient is cast back to x's dtype.
    """
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if dtype.type not in (np.float32, np.float64):
        raise TypeError(f"cast: Tensors hold float32 or float64, received dtype {dtype}.")
    if x.dtype == dtype:
        return x
    source = x.dtype
    return record(x.data.astype(dtype), (x,), lambda grad: (grad.astype(source),))
