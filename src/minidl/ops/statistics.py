"""Spread of values: var, std, and moments (the mean and the variance together).

    var(x)  = mean((x - mean(x))^2)     (dividing by the count n, as NumPy's default
    std(x)  = sqrt(var(x))               and Keras's: not n - 1)

All three are built from ``mean``, ``sub``, ``mul`` and ``sqrt``, so their
gradients come from those ops' backwards: d var / d x_i = 2 (x_i - mean) / n.
(``std``'s gradient is infinite where every value is the same, as TensorFlow's.)
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor, mul, sub
from minidl.ops.elementwise import sqrt
from minidl.ops.reductions import mean
from minidl.ops.shaping import squeeze


def var(x, axis=None, keepdims=False):
    """The variance over ``axis`` (all axes when None)."""
    x = as_tensor(x)
    centered = sub(x, mean(x, axis=axis, keepdims=True))
    return mean(mul(centered, centered), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """The standard deviation over ``axis`` (all axes when None): sqrt(var(x))."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of x over ``axes`` (an int or a tuple), as Keras 3's
    ``ops.moments`` (BatchNormalization's statistics).

    ``synchronized`` (Keras: average the statistics over every device of a
    distributed run) changes nothing on minidl's one device.
    """
    x = as_tensor(x)
    average = mean(x, axis=axes, keepdims=True)
    centered = sub(x, average)
    variance = mean(mul(centered, centered), axis=axes, keepdims=keepdims)
    return (average if keepdims else squeeze(average, axes)), variance
