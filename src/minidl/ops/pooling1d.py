"""Pooling over sequences (N, L, C): ``max_pool1d`` and ``avg_pool1d``.

A window of ``pool_size`` steps moved by ``strides`` steps; each channel is
summarised on its own (the maximum, or the mean of the steps inside the
sequence: "same" padding is not counted, as in TensorFlow).  Output steps:
"valid" (L - p) // s + 1, "same" ceil(L / s).

They run as the 2-D pooling ops on images of height 1, (N, 1, L, C) with a
(1, p) window: the same kernels, the same backward (the maximum's gradient
goes to the step that won; the mean's is shared among the window's steps).
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor
from minidl.ops.pooling import avg_pool2d, max_pool2d
from minidl.ops.shaping import reshape


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Maximum over each window of ``pool_size`` steps: (N, L, C) -> (N, OL, C)."""
    return _pool1d(max_pool2d, x, pool_size, strides, padding, "max_pool1d")


def avg_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over each window of ``pool_size`` steps: (N, L, C) -> (N, OL, C)."""
    return _pool1d(avg_pool2d, x, pool_size, strides, padding, "avg_pool1d")


def _pool1d(pool2d, x, pool_size, strides, padding, op):
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"{op}: input must be 3-D (batch, steps, channels), received shape {x.shape}.")
    strides = pool_size if strides is None else strides
    for what, value in (("pool_size", pool_size), ("strides", strides)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{op}: {what} must be a positive integer, received {value!r}.")
    n, length, channels = x.shape
    out = pool2d(reshape(x, (n, 1, length, channels)), (1, pool_size), (1, strides), padding)
    return reshape(out, (n, out.shape[2], channels))
