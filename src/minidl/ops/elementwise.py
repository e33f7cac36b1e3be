"""Elementwise functions: exp, log, sqrt, abs, clip, square, log1p, expm1, sin,
cos, erf, nan_to_num.

Each output value depends on one input value only, so the backward is the
output gradient times the derivative f'(x), position by position.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops._dtypes import integers_by_numpy
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


@integers_by_numpy(np.abs)
def abs(x):
    """|x|.   d/dx = sign(x) (0 at x = 0, as NumPy's sign gives)."""
    x = as_tensor(x)
    return record(np.abs(x.data), (x,), lambda grad: (grad * np.sign(x.data),))


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max] (either bound may be None).

    d/dx = 1 where x_min <= x <= x_max, 0 where x was clipped.
    """
    x = as_tensor(x)
    if x_min is not None and x_max is not None and x_min > x_max:
        raise ValueError(f"clip: x_min {x_min} is greater than x_max {x_max}.")
    out = np.clip(x.data, x_min, x_max)

    def backward(grad):
        inside = np.ones(x.shape, dtype=bool)
        if x_min is not None:
            inside &= x.data >= x_min
        if x_max is not None:
            inside &= x.data <= x_max
        return (grad * inside,)

    return record(out, (x,), backward)


@integers_by_numpy(np.square)
def square(x):
    """x^2.   d/dx = 2x."""
    x = as_tensor(x)
    return record(x.data * x.data, (x,), lambda grad: (2 * grad * x.data,))


def log1p(x):
    """log(1 + x), exact for small x.   d/dx = 1 / (1 + x)."""
    x = as_tensor(x)
    return record(np.log1p(x.data), (x,), lambda grad: (grad / (1 + x.data),))


def expm1(x):
    """e^x - 1, exact for small x.   d/dx = e^x."""
    x = as_tensor(x)
    out = np.expm1(x.data)
    return record(out, (x,), lambda grad: (grad * (out + 1),))


def sin(x):
    """sin x.   d/dx = cos x."""
    x = as_tensor(x)
    return record(np.sin(x.data), (x,), lambda grad: (grad * np.cos(x.data),))


def cos(x):
    """cos x.   d/dx = -sin x."""
    x = as_tensor(x)
    return record(np.cos(x.data), (x,), lambda grad: (-grad * np.sin(x.data),))


def erf(x):
    """The error function, erf x = 2/sqrt(pi) * integral from 0 to x of e^(-t^2) dt.
    d/dx = 2/sqrt(pi) * e^(-x^2)."""
    from scipy.special import erf as scipy_erf  # imported here: scipy.special is slow to import

    x = as_tensor(x)
    out = scipy_erf(x.data).astype(x.dtype, copy=False)
    slope = 2 / math.sqrt(math.pi)
    return record(out, (x,), lambda grad: (grad * slope * np.exp(-x.data * x.data),))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by
    default the largest and smallest finite numbers of x's dtype).  d/dx = 1 where x
    was finite, 0 where a value was replaced."""
    x = as_tensor(x)
    out = np.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    finite = np.isfinite(x.data)
    return record(out, (x,), lambda grad: (grad * finite,))
