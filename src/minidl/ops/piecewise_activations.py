"""Activations defined piece by piece: rectified_linear (relu with every option
of Keras's, and PReLU's learned slopes), relu6, hard_sigmoid, selu, softsign.

Each is one formula on one side of a point and another formula on the other
side, so the forward computes a mask of where each piece applies and the
backward reuses it.  At the joins the derivative is not defined; the one
chosen there is TensorFlow's (``relu``'s is 0 at 0, a clip passes the
gradient at its bounds).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops.activations import elu
from minidl.ops.arithmetic import as_tensor, mul

# Keras's SELU constants (Klambauer et al. 2017): they keep activations at mean 0, variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def rectified_linear(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's ``relu(x, alpha, max_value, threshold)``, in one op.

        y = min(x, max_value)                      where x > threshold
        y = negative_slope * (x - threshold)       where x <= threshold

    (Keras clips the upper piece to [0, max_value], which matters only for a
    negative ``threshold``.)  ``negative_slope`` is a number, or a Tensor that
    broadcasts against x: PReLU's learned slopes, one per unit.

    d/dx = 1 on the upper piece up to max_value, negative_slope below the
    threshold, 0 elsewhere;  d/dslope = x - threshold below the threshold.
    """
    x = as_tensor(x)
    slope = as_tensor(negative_slope, x)
    threshold = float(threshold)  # a Python float keeps float32 float32
    above = x.data > threshold
    below = x.data < threshold
    upper = np.where(above | np.isnan(x.data), x.data, 0)  # a NaN stays NaN (as Keras)
    passes = above
    if max_value is not None:
        passes = above & (x.data >= 0) & (x.data <= max_value)
        upper = np.clip(upper, 0, float(max_value))
    shifted = np.where(below, x.data - threshold, 0)  # x - threshold below it, else 0
    out = upper + slope.data * shifted

    def backward(grad):
        grad_x = grad * (passes + below * slope.data)
        grad_slope = unbroadcast(grad * shifted, slope.shape) if slope.requires_grad else None
        return grad_x, grad_slope

    return record(out, (x, slope), backward)


def relu6(x):
    """min(max(x, 0), 6): ``rectified_linear(x, max_value=6)``."""
    return rectified_linear(x, max_value=6.0)


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1).

    0 below x = -2.5, 1 above 2.5.  d/dx = 0.2 between them (bounds
    included, as TensorFlow's clip), 0 outside.  (Keras 3 and PyTorch use
    x / 6 + 0.5 instead.)
    """
    x = as_tensor(x)
    line = 0.2 * x.data + 0.5
    inside = (line >= 0) & (line <= 1)
    out = np.clip(line, 0, 1)
    return record(out, (x,), lambda grad: (np.where(inside, 0.2 * grad, 0),))


def selu(x):
    """Scaled exponential linear unit: scale * elu(x, alpha) with Keras's constants.

    scale * x where x > 0, scale * alpha * (e^x - 1) elsewhere.  The
    derivative is scale times elu's.
    """
    return mul(elu(x, SELU_ALPHA), SELU_SCALE)


def softsign(x):
    """x / (1 + |x|), values in (-1, 1).   d/dx = 1 / (1 + |x|)^2."""
    x = as_tensor(x)
    denominator = 1 + np.abs(x.data)
    return record(x.data / denominator, (x,), lambda grad: (grad / denominator / denominator,))
