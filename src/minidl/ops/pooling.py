"""Pooling over NHWC images: max_pool2d, avg_pool2d, global_avg_pool2d, global_max_pool2d.

* Max pooling keeps the largest value of each window; the forward kernel
  records where it was (``argmax``), so backward sends each output gradient
  to that one input (d max / d x is 1 for the winner, 0 for the others).
* Average pooling divides each window's sum by the number of real pixels in
  it (padding is not counted, as in TensorFlow); backward shares each output
  gradient equally among those pixels.

Window sizes, strides and padding follow Keras (see ``_geometry``);
``strides=None`` means strides equal to ``pool_size``.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record
from minidl.ops._geometry import (check_image_batch, check_padding, image_batch, pair,
                                  window_geometry)
from minidl.ops.arithmetic import as_tensor
from minidl.ops.reductions import max, mean


def _pool_setup(x, pool_size, strides, padding, op):
    """Validated arguments and output geometry of a pooling op."""
    x = as_tensor(x)
    pool_size = pair(pool_size, "pool_size", op)
    strides = pool_size if strides is None else pair(strides, "strides", op)
    padding = check_padding(padding, op)
    check_image_batch(x, op)
    out_h, out_w, pad_top, pad_left = window_geometry(
        x.shape[1:3], pool_size, strides, padding, op, what="pool_size"
    )
    window = (*pool_size, *strides, pad_top, pad_left)
    return x, window, (x.shape[0], out_h, out_w, x.shape[3])


def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Maximum over each ``pool_size`` window: (N, H, W, C) -> (N, OH, OW, C)."""
    x, window, out_shape = _pool_setup(x, pool_size, strides, padding, "max_pool2d")
    out = np.empty(out_shape, x.dtype)
    argmax = np.empty(out_shape, np.int64)
    _kernels.current.max_pool2d_forward(x.data, *window, out, argmax)

    def backward(grad):
        grad_x = np.empty_like(x.data)
        _kernels.current.max_pool2d_backward(np.ascontiguousarray(grad), argmax, grad_x)
        return (grad_x,)

    return record(out, (x,), backward)


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Mean over each ``pool_size`` window: (N, H, W, C) -> (N, OH, OW, C)."""
    x, window, out_shape = _pool_setup(x, pool_size, strides, padding, "avg_pool2d")
    out = np.empty(out_shape, x.dtype)
    _kernels.current.avg_pool2d_forward(x.data, *window, out)

    def backward(grad):
        grad_x = np.empty_like(x.data)
        _kernels.current.avg_pool2d_backward(np.ascontiguousarray(grad), *window, grad_x)
        return (grad_x,)

    return record(out, (x,), backward)


def global_avg_pool2d(x):
    """Mean over height and width: (N, H, W, C) -> (N, C)."""
    return mean(image_batch(x, "global_avg_pool2d"), axis=(1, 2))


def global_max_pool2d(x):
    """Maximum over height and width: (N, H, W, C) -> (N, C) (ties share the gradient,
    as in TensorFlow; see ``reductions.max``)."""
    return max(image_batch(x, "global_max_pool2d"), axis=(1, 2))
