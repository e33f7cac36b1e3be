"""Comparing samples: batch_dot (a dot product per sample) and l2_normalize.

``batch_dot(x, y, axes)`` takes, for every sample n of the batch, the dot
product of ``x[n]`` and ``y[n]`` along one axis of each, as Keras's
``backend.batch_dot`` (what the ``Dot`` layer computes).  After
``l2_normalize`` of both along those axes the dot product is the cosine of
the angle between them (``Dot(axes, normalize=True)``).
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops.arithmetic import _pair, as_tensor
from minidl.ops.reductions import _axes


def batch_dot_axes(x_shape, y_shape, axes):
    """The summed axis of x and of y (non-negative), checked against Keras's rules.

    ``axes``: an int for both, a pair ``(axis_x, axis_y)``, or None for
    Keras's default (x's last axis with y's last if y is 2-D, else its
    second-to-last).  Unknown sizes (None) are taken to match.
    """
    shapes = f"shapes {tuple(x_shape)} and {tuple(y_shape)}"
    if len(x_shape) < 2 or len(y_shape) < 2:
        raise ValueError(f"batch_dot: needs inputs with a batch axis and at least one more, "
                         f"received {shapes}.")
    if not _same_size(x_shape[0], y_shape[0]):
        raise ValueError(f"batch_dot: the inputs have different batch sizes, received {shapes}.")
    if axes is None:
        axes = (len(x_shape) - 1, len(y_shape) - 1 if len(y_shape) == 2 else len(y_shape) - 2)
    elif _is_int(axes):
        axes = (axes, axes)
    if not isinstance(axes, (tuple, list)) or len(axes) != 2 or not all(map(_is_int, axes)):
        raise ValueError(f"batch_dot: axes must be an integer or a pair of integers, "
                         f"received {axes!r}.")
    axis_x, axis_y = (int(a) + len(shape) if a < 0 else int(a)
                      for a, shape in zip(axes, (x_shape, y_shape)))
    if not (1 <= axis_x < len(x_shape) and 1 <= axis_y < len(y_shape)):
        raise ValueError(
            f"batch_dot: axes {tuple(axes)} must name axes other than the batch axis (0) of "
            f"{shapes}; add a batch axis to unbatched inputs (x[None])."
        )
    if not _same_size(x_shape[axis_x], y_shape[axis_y]):
        raise ValueError(
            f"batch_dot: axis {axis_x} of the first input has size {x_shape[axis_x]} but axis "
            f"{axis_y} of the second has size {y_shape[axis_y]} ({shapes}); the summed axes "
            "must have the same size."
        )
    return axis_x, axis_y


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _same_size(a, b):
    return a is None or b is None or a == b


def batch_dot(x, y, axes=None):
    """Per-sample dot products along ``axes`` (an int for both, or ``(axis_x, axis_y)``).

    Shapes: x (N, *a, K, *b) and y (N, *c, K, *d), summed over K, give
    (N, *a, *b, *c, *d): x's other axes, then y's.  Two 2-D inputs give (N, 1).

    Computed as one batched matrix product: x moved to (N, P, K) (its other axes
    flattened into P), y to (N, K, Q), out = x @ y of shape (N, P, Q).  For an
    output gradient g of that shape:  dL/dx = g @ y^T,  dL/dy = x^T @ g
    (transposing the last two axes), moved back to the inputs' layouts.
    """
    x, y = _pair(x, y)
    axis_x, axis_y = batch_dot_axes(x.shape, y.shape, axes)
    x_moved = np.moveaxis(x.data, axis_x, -1)  # (N, *x_rest, K)
    y_moved = np.moveaxis(y.data, axis_y, 1)   # (N, K, *y_rest)
    n, k = x.shape[0], x.shape[axis_x]
    x_rest, y_rest = x_moved.shape[1:-1], y_moved.shape[2:]
    x3 = x_moved.reshape(n, math.prod(x_rest), k)
    y3 = y_moved.reshape(n, k, math.prod(y_rest))
    out = np.matmul(x3, y3).reshape((n, *x_rest, *y_rest) if x_rest or y_rest else (n, 1))

    def backward(grad):
        grad3 = grad.reshape(n, x3.shape[1], y3.shape[2])
        grad_x = grad_y = None
        if x.requires_grad:
            grad_x = np.matmul(grad3, y3.transpose(0, 2, 1)).reshape(x_moved.shape)
            grad_x = np.ascontiguousarray(np.moveaxis(grad_x, -1, axis_x))
        if y.requires_grad:
            grad_y = np.matmul(x3.transpose(0, 2, 1), grad3).reshape(y_moved.shape)
            grad_y = np.ascontiguousarray(np.moveaxis(grad_y, 1, axis_y))
        return grad_x, grad_y

    return record(out, (x, y), backward)


def l2_normalize(x, axis=-1, epsilon=1e-12):
    """x / ||x|| along ``axis``: y = x / sqrt(max(sum(x^2), epsilon)), as TensorFlow.

    ``epsilon`` keeps a zero vector at zero instead of dividing by 0.  With
    n = sqrt(sum(x^2)) and an output gradient g:
        dL/dx = (g - y * sum(g * y)) / n      (the part along y is removed)
    and where the sum is below epsilon, n is the constant sqrt(epsilon): dL/dx = g / n.
    """
    x = as_tensor(x)
    axes = _axes(axis, x.ndim)
    squares = np.sum(x.data * x.data, axis=axes, keepdims=True)
    measured = squares >= epsilon  # where the norm is the vector's own, not epsilon's
    norm = np.sqrt(np.maximum(squares, epsilon))
    out = x.data / norm

    def backward(grad):
        along = np.sum(grad * out, axis=axes, keepdims=True) * measured
        return ((grad - out * along) / norm,)

    return record(out, (x,), backward)
