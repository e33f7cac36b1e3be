"""Activation functions: relu, leaky_relu, elu, sigmoid, tanh, softplus,
log_sigmoid, softmax, log_softmax.

The elementwise ones have a derivative that is cheapest to write in terms of
their output y (sigmoid: y (1 - y), tanh: 1 - y^2), so backward reuses the
output instead of recomputing.  softmax and log_softmax mix a whole axis:
their backward is a Jacobian-vector product, written without forming the
Jacobian.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor


def relu(x):
    """max(x, 0).   d/dx = 1 where x > 0, else 0."""
    x = as_tensor(x)
    return record(np.maximum(x.data, 0), (x,), lambda grad: (grad * (x.data > 0),))


def leaky_relu(x, alpha=0.2):
    """x where x > 0, alpha * x elsewhere (Keras's default alpha is 0.2).

    d/dx = 1 where x > 0, alpha elsewhere.
    """
    x = as_tensor(x)
    positive = x.data > 0
    out = np.where(positive, x.data, alpha * x.data)
    return record(out, (x,), lambda grad: (np.where(positive, grad, alpha * grad),))


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (e^x - 1) elsewhere.

    d/dx = 1 where x > 0, alpha * e^x = y + alpha elsewhere.
    """
    x = as_tensor(x)
    positive = x.data > 0
    out = np.where(positive, x.data, alpha * np.expm1(np.minimum(x.data, 0)))
    return record(out, (x,), lambda grad: (np.where(positive, grad, grad * (out + alpha)),))


def _sigmoid(z):
    """1 / (1 + e^-z) without overflow: for z < 0 use e^z / (1 + e^z)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(x):
    """1 / (1 + e^-x).   d/dx = y (1 - y)."""
    x = as_tensor(x)
    out = _sigmoid(x.data)
    return record(out, (x,), lambda grad: (grad * out * (1 - out),))


def tanh(x):
    """Hyperbolic tangent.   d/dx = 1 - y^2."""
    x = as_tensor(x)
    out = np.tanh(x.data)
    return record(out, (x,), lambda grad: (grad * (1 - out * out),))


def softplus(x):
    """log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so it never overflows.

    d/dx = sigmoid(x).
    """
    x = as_tensor(x)
    out = np.maximum(x.data, 0) + np.log1p(np.exp(-np.abs(x.data)))
    return record(out, (x,), lambda grad: (grad * _sigmoid(x.data),))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), computed as min(x, 0) - log(1 + e^-|x|) so it
    never overflows.   d/dx = 1 - sigmoid(x) = sigmoid(-x)."""
    x = as_tensor(x)
    out = np.minimum(x.data, 0) - np.log1p(np.exp(-np.abs(x.data)))
    return record(out, (x,), lambda grad: (grad * _sigmoid(-x.data),))


def softmax(x, axis=-1):
    """y_i = e^{x_i} / sum_j e^{x_j} along ``axis``.

    The maximum is subtracted first (it cancels) so exp never overflows.
    dy_i/dx_j = y_i (delta_ij - y_j), so for an output gradient g:
    dL/dx = y * (g - sum(g * y)).

    A softmax over the last axis remembers its input: ``y._logits is x``.
    The cross-entropy losses use it to compute softmax and cross-entropy in
    one fused kernel (see ``minidl.losses``), as Keras does with
    ``_keras_logits``.
    """
    x = as_tensor(x)
    last = axis in (-1, x.ndim - 1)
    if last and x.ndim >= 1 and x.size and x.shape[-1] >= 1:  # rows of the last axis: a kernel
        rows = np.ascontiguousarray(x.data).reshape(-1, x.shape[-1])
        out = np.empty_like(rows)
        _kernels.current.softmax_forward(rows, out)
        out = out.reshape(x.shape)
    else:
        with np.errstate(invalid="ignore", over="ignore"):  # an inf logit gives NaN, as in Keras
            out = np.subtract(x.data, x.data.max(axis=axis, keepdims=True))
            np.exp(out, out=out)
            out /= out.sum(axis=axis, keepdims=True)

    def backward(grad):
        return (out * (grad - (grad * out).sum(axis=axis, keepdims=True)),)

    y = record(out, (x,), backward)
    if last:
        y._logits = x
    return y


def log_softmax(x, axis=-1):
    """y = x - log(sum e^x) along ``axis`` (the log of softmax, computed stably).

    dy_i/dx_j = delta_ij - softmax_j, so dL/dx = g - softmax(x) * sum(g).
    """
    x = as_tensor(x)
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(grad):
        return (grad - np.exp(out) * grad.sum(axis=axis, keepdims=True),)

    return record(out, (x,), backward)
