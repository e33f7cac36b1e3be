"""Ops that move values around without changing them: reshape, transpose,
flatten, concatenate and indexing.

Their backward moves the gradient back the same way: reshape it back,
transpose it with the inverse permutation, split it, or scatter it into
the indexed positions.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor
from minidl.tensor import Tensor


def reshape(x, shape):
    """The same values in a new ``shape`` (one entry may be -1).

    Backward reshapes the gradient to ``x.shape``.
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} values) "
            f"into shape {shape}."
        ) from None
    return record(out, (x,), lambda grad: (grad.reshape(x.shape),))


def flatten(x):
    """Keep the batch axis, flatten the rest: (N, d1, d2, ...) -> (N, d1*d2*...)."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("flatten: needs a batch axis, received a scalar (shape ()).")
    return reshape(x, (x.shape[0], -1))


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None).

    Output axis i is input axis ``axes[i]``; backward applies the inverse
    permutation ``argsort(axes)`` to the gradient.
    """
    x = as_tensor(x)
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
    normalized = [a + x.ndim if a < 0 else a for a in axes]
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}."
        )
    inverse = tuple(int(i) for i in np.argsort(normalized))
    out = np.asarray(x.data.transpose(axes), order="C")
    return record(out, (x,), lambda grad: (np.asarray(grad.transpose(inverse), order="C"),))


def concatenate(tensors, axis=0):
    """Join tensors along ``axis``; backward cuts the gradient into the same pieces."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor, received an empty list.")
    dtype = np.result_type(*(t.dtype for t in tensors))
    try:
        out = np.concatenate([t.data for t in tensors], axis=axis).astype(dtype, copy=False)
    except ValueError as error:
        shapes = [t.shape for t in tensors]
        raise ValueError(f"concatenate: shapes {shapes} along axis {axis}: {error}") from None
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def backward(grad):
        return tuple(
            np.ascontiguousarray(g, dtype=t.dtype) for g, t in zip(np.split(grad, ends, axis), tensors)
        )

    return record(out, tuple(tensors), backward)


def stack(tensors, axis=0):
    """Join tensors of one shape along a new ``axis`` (``tf.stack``, ``keras.ops.stack``):
    n tensors of shape S give shape S with n inserted at ``axis``.  The backward takes
    slice i along that axis back to tensor i."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor, received an empty list.")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: every tensor must have one shape, received {[t.shape for t in tensors]}.")
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for a result of {ndim} dimensions.")
    axis = axis % ndim
    dtype = np.result_type(*(t.dtype for t in tensors))
    out = np.stack([t.data for t in tensors], axis=axis).astype(dtype, copy=False)

    def backward(grad):
        return tuple(np.ascontiguousarray(np.take(grad, i, axis=axis), dtype=t.dtype)
                     for i, t in enumerate(tensors))

    return record(out, tuple(tensors), backward)


def _plain_index(index):
    """The index with Tensors turned into arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index):
    """True for ints, slices, None and Ellipsis only (no arrays): then each
    input position appears at most once in the output."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in parts)


def getitem(x, index):
    """``x[index]`` with NumPy's rules (ints, slices, arrays, masks).

    Backward scatters the gradient into a zero array shaped like ``x``;
    with integer-array indices a position may be picked several times, so
    the gradients are added there (``np.add.at``).
    """
    x = as_tensor(x)
    index = _plain_index(index)
    out = np.asarray(x.data[index], order="C")

    def backward(grad):
        grad_x = np.zeros_like(x.data)
        if _is_basic(index):
            grad_x[index] = grad
        else:
            np.add.at(grad_x, index, grad)
        return (grad_x,)

    return record(out, (x,), backward)
