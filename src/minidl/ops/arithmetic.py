"""Elementwise arithmetic: add, sub, mul, div, neg, pow.

Each function computes its output and, right beside it, ``backward``: the
gradient of the loss with respect to each input, given ``grad``, the gradient
with respect to the output.  Inputs may broadcast against each other (NumPy
rules), so each input's gradient is summed back to that input's shape
(``unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
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


def add(a, b):
    """a + b.   d/da = 1, d/db = 1."""
    a, b = _pair(a, b)

    def backward(grad):
        return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)

    return record(a.data + b.data, (a, b), backward)


def sub(a, b):
    """a - b.   d/da = 1, d/db = -1."""
    a, b = _pair(a, b)

    def backward(grad):
        return unbroadcast(grad, a.shape), unbroadcast(-grad, b.shape)

    return record(a.data - b.data, (a, b), backward)


def mul(a, b):
    """a * b.   d/da = b, d/db = a."""
    a, b = _pair(a, b)

    def backward(grad):
        return unbroadcast(grad * b.data, a.shape), unbroadcast(grad * a.data, b.shape)

    return record(a.data * b.data, (a, b), backward)


def div(a, b):
    """a / b.   d/da = 1 / b, d/db = -a / b**2."""
    a, b = _pair(a, b)

    def backward(grad):
        grad_a = unbroadcast(grad / b.data, a.shape)
        grad_b = unbroadcast(-grad * a.data / (b.data * b.data), b.shape)
        return grad_a, grad_b

    return record(a.data / b.data, (a, b), backward)


def neg(a):
    """-a.   d/da = -1."""
    a = as_tensor(a)
    return record(-a.data, (a,), lambda grad: (-grad,))


def pow(a, exponent):
    """a ** exponent (exponent a number or a Tensor).

    d/da = exponent * a**(exponent - 1);  d/dexponent = a**exponent * log(a).
    """
    a, exponent = _pair(a, exponent)
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
