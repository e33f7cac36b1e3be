"""Ops that move values around without changing them: reshape (and
expand_dims, squeeze, ravel, flatten), transpose, broadcast_to, concatenate,
stack and indexing.

Their backward moves the gradient back the same way: reshape it back,
transpose it with the inverse permutation, sum it over the broadcast copies,
split it, or scatter it into the indexed positions.  Given integers or
booleans (no Tensor), the Keras 3 names keep them so (see ``ops._dtypes``).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops._dtypes import integers_by_numpy
from minidl.ops.arithmetic import as_tensor
from minidl.tensor import Tensor


@integers_by_numpy(lambda x, newshape: np.reshape(x, newshape))
def reshape(x, newshape):
    """The same values in a new shape ``newshape`` (one entry may be -1).

    Backward reshapes the gradient to ``x.shape``.
    """
    x = as_tensor(x)
    shape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} values) "
            f"into shape {shape}."
        ) from None
    return record(out, (x,), lambda grad: (grad.reshape(x.shape),))


@integers_by_numpy(np.expand_dims)
def expand_dims(x, axis):
    """``x`` with a new axis of size 1 at ``axis`` (an int or a tuple of them, counted in
    the result: (2, 3) with axis -1 gives (2, 3, 1), with axis (0, 3) gives (1, 2, 3, 1))."""
    x = as_tensor(x)
    axes = _new_axes(axis, x, "expand_dims")
    rest = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(rest) for i in range(x.ndim + len(axes))))


def _new_axes(axis, x, op):
    ndim = x.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    try:
        return np.lib.array_utils.normalize_axis_tuple(axis, ndim)
    except (np.exceptions.AxisError, ValueError) as error:
        raise ValueError(f"{op}: axis {axis} for a tensor of shape {x.shape} "
                         f"({ndim} axes after expanding): {error}.") from None


@integers_by_numpy(np.squeeze)
def squeeze(x, axis=None):
    """``x`` without its size-1 axes (all of them, or those of ``axis``, an int or a tuple)."""
    x = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, size in enumerate(x.shape) if size == 1)
    else:
        try:
            axes = np.lib.array_utils.normalize_axis_tuple(axis, x.ndim)
        except np.exceptions.AxisError as error:
            raise ValueError(f"squeeze: axis {axis} for a tensor of shape {x.shape}: "
                             f"{error}.") from None
        for i in axes:
            if x.shape[i] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {i} of a tensor of shape "
                                 f"{x.shape}: its size is {x.shape[i]}, not 1.")
    return reshape(x, tuple(size for i, size in enumerate(x.shape) if i not in axes))


@integers_by_numpy(np.ravel)
def ravel(x):
    """All the values in one axis, in row-major order: shape (size,)."""
    return reshape(x, (-1,))


@integers_by_numpy(np.broadcast_to)
def broadcast_to(x, shape):
    """``x`` repeated along new leading axes and its size-1 axes to ``shape`` (NumPy's
    broadcasting rules).  Backward sums the gradient over the copies (``unbroadcast``)."""
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        out = np.ascontiguousarray(np.broadcast_to(x.data, shape))
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to "
                         f"shape {shape} (sizes lined up at the last axis must be equal, "
                         "or 1 in the tensor).") from None
    return record(out, (x,), lambda grad: (unbroadcast(grad, x.shape),))


def flatten(x):
    """Keep the batch axis, flatten the rest: (N, d1, d2, ...) -> (N, d1*d2*...)."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("flatten: needs a batch axis, received a scalar (shape ()).")
    return reshape(x, (x.shape[0], -1))


@integers_by_numpy(np.transpose)
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
