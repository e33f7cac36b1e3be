"""Elementwise arithmetic: add, sub, mul, div, neg, pow (and Keras 3's names for
them: subtract, multiply, divide, negative, power).

Each function computes its output and, right beside it, ``backward``: the
gradient of the loss with respect to each input, given ``grad``, the gradient
with respect to the output.  Inputs may broadcast against each other (NumPy
rules), so each input's gradient is summed back to that input's shape
(``unbroadcast``).

Given only integers (no Tensor, no floats), add, subtract, multiply, negative
and power compute in integers, as Keras 3 does (see ``ops._dtypes``); divide
always gives floats (``ops.divide(1, 2)`` is 0.5).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops._dtypes import integers_by_numpy
from minidl.tensor import Tensor


def as_tensor(value, like=None):
    """``value`` as a Tensor; numbers and arrays take the dtype of ``like``."""
    if isinstance(value, Tensor):
        return value
    resolve = getattr(type(value), "_resolve_symbolic", None)
    if resolve is not None:  # a KerasTensor read inside a layer (see layers/node.py)
        return resolve(value)
    dtype = like.dtype if like is not None else None
    return Tensor(value, dtype=dtype)


def _pair(a, b):
    """Both operands as Tensors; a number or list takes the other side's dtype."""
    if isinstance(a, Tensor) or (isinstance(a, np.ndarray) and not isinstance(b, Tensor)):
        a = as_tensor(a)
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


@integers_by_numpy(np.add, operands=2)
def add(x1, x2):
    """a + b (x1 + x2).   d/da = 1, d/db = 1."""
    a, b = _pair(x1, x2)

    def backward(grad):
        return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)

    return record(a.data + b.data, (a, b), backward)


@integers_by_numpy(np.subtract, operands=2)
def sub(x1, x2):
    """a - b (x1 - x2).   d/da = 1, d/db = -1."""
    a, b = _pair(x1, x2)

    def backward(grad):
        return unbroadcast(grad, a.shape), unbroadcast(-grad, b.shape)

    return record(a.data - b.data, (a, b), backward)


@integers_by_numpy(np.multiply, operands=2)
def mul(x1, x2):
    """a * b (x1 * x2).   d/da = b, d/db = a."""
    a, b = _pair(x1, x2)

    def backward(grad):
        return unbroadcast(grad * b.data, a.shape), unbroadcast(grad * a.data, b.shape)

    return record(a.data * b.data, (a, b), backward)


def div(x1, x2):
    """a / b (x1 / x2), in floats.   d/da = 1 / b, d/db = -a / b**2."""
    a, b = _pair(x1, x2)

    def backward(grad):
        grad_a = unbroadcast(grad / b.data, a.shape)
        grad_b = unbroadcast(-grad * a.data / (b.data * b.data), b.shape)
        return grad_a, grad_b

    return record(a.data / b.data, (a, b), backward)


@integers_by_numpy(np.negative, operands=1)
def neg(x):
    """-x.   d/dx = -1."""
    a = as_tensor(x)
    return record(-a.data, (a,), lambda grad: (-grad,))


@integers_by_numpy(np.power, operands=2)
def pow(x1, x2):
    """a ** exponent (a = x1; the exponent x2 a number or a Tensor).

    d/da = exponent * a**(exponent - 1);  d/dexponent = a**exponent * log(a).
    """
    a, exponent = _pair(x1, x2)
    out = np.power(a.data, exponent.data)

    def backward(grad):
        grad_a = unbroadcast(grad * exponent.data * np.power(a.data, exponent.data - 1), a.shape)
        grad_e = None
        if exponent.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a.data > 0, np.log(np.where(a.data > 0, a.data, 1)), 0)
            grad_e = unbroadcast(grad * out * log_a, exponent.shape)
        return grad_a, grad_e

    return record(out, (a, exponent), backward)


# Keras 3's names (keras.ops.subtract, ...)
subtract, multiply, divide, negative, power = sub, mul, div, neg, pow
