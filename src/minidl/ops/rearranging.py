"""Ops that copy, cut, reorder or pad values without computing new ones:
tile, repeat, split, slice, flip, roll, pad, triu, tril.

Every output value is one input value (or a constant), so the gradient goes
back to where the value came from: summed over the copies (tile, repeat),
moved back (roll), cut out of the padding (pad), zero where a constant was
written (pad, triu, tril).  Most are written with ``getitem``, whose backward
scatters the gradient back to the positions read (adding where a position
was read twice); tile, roll and a constant pad have their own short backward.

Given integers or booleans (no Tensor), they stay so, as in Keras 3 (see
``ops._dtypes``).
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from minidl.autograd import record
from minidl.ops._dtypes import integers_by_numpy
from minidl.ops.arithmetic import as_tensor
from minidl.ops.selection import where
from minidl.ops.shaping import getitem, ravel


def _axis(axis, x, op):
    """One axis of ``x`` (maybe negative) as an index in [0, ndim), checked."""
    try:
        return np.lib.array_utils.normalize_axis_index(operator.index(axis), x.ndim)
    except np.exceptions.AxisError:
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape "
                         f"{x.shape} ({x.ndim} axes).") from None


def _along(axis, index):
    """An index that applies ``index`` to ``axis`` and takes everything elsewhere."""
    return (builtins.slice(None),) * axis + (index,)


@integers_by_numpy(lambda x, repeats: np.tile(x, repeats))
def tile(x, repeats):
    """``x`` repeated ``repeats[i]`` times along axis i (NumPy's ``np.tile``: fewer
    repeats than axes count from the last axis; more add leading axes).

    Backward: the output is a grid of copies of x, reshaped as (r0, d0, r1, d1, ...);
    each input value's gradient is the sum over its copies, the r axes.
    """
    x = as_tensor(x)
    repeats = (repeats,) if np.ndim(repeats) == 0 else tuple(repeats)
    repeats = tuple(operator.index(r) for r in repeats)
    if any(r < 0 for r in repeats):
        raise ValueError(f"tile: repeats must not be negative, received {repeats}.")
    ndim = max(x.ndim, len(repeats))
    shape = (1,) * (ndim - x.ndim) + x.shape
    repeats = (1,) * (ndim - len(repeats)) + repeats
    out = np.tile(x.data.reshape(shape), repeats)

    def backward(grad):
        grid = grad.reshape([size for pair in zip(repeats, shape) for size in pair])
        return (grid.sum(axis=tuple(range(0, 2 * ndim, 2))).reshape(x.shape),)

    return record(out, (x,), backward)


@integers_by_numpy(np.repeat)
def repeat(x, repeats, axis=None):
    """Each value repeated ``repeats`` times (a number, or one count per position)
    along ``axis`` (of the flattened values when None): [a, b] -> [a, a, b, b]."""
    x = as_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x, "repeat")
    try:
        positions = np.repeat(np.arange(x.shape[axis]), repeats)
    except ValueError:
        raise ValueError(f"repeat: repeats {repeats!r} must be one count, or one per position "
                         f"along axis {axis} of shape {x.shape}, none negative.") from None
    return getitem(x, _along(axis, positions))


def split(x, indices_or_sections, axis=0):
    """``x`` cut along ``axis`` into a list of tensors: ``n`` equal pieces (n must
    divide the size), or pieces ending before each of the sorted ``indices``."""
    x = as_tensor(x)
    axis = _axis(axis, x, "split")
    size = x.shape[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = operator.index(indices_or_sections)
        if sections <= 0 or size % sections:
            raise ValueError(f"split: cannot split axis {axis} of size {size} (shape {x.shape}) "
                             f"into {sections} equal pieces.")
        ends = [size // sections * i for i in range(1, sections)]
    else:
        ends = [operator.index(i) for i in indices_or_sections]
    bounds = [0, *ends, size]
    return [getitem(x, _along(axis, builtins.slice(start, max(start, stop))))
            for start, stop in zip(bounds[:-1], bounds[1:])]


def slice(inputs, start_indices, shape):  # Keras's name: the builtin is builtins.slice here
    """The block of ``inputs`` that starts at ``start_indices`` and has ``shape``
    (a size of -1 takes the rest of that axis)."""
    x = as_tensor(inputs)
    start_indices, shape = tuple(start_indices), tuple(shape)
    if len(start_indices) != x.ndim or len(shape) != x.ndim:
        raise ValueError(f"slice: start_indices {start_indices} and shape {shape} need one entry "
                         f"per axis of the tensor of shape {x.shape}.")
    index = []
    for start, size, dim in zip(start_indices, shape, x.shape):
        stop = dim if size == -1 else start + size
        if not 0 <= start <= stop <= dim:
            raise ValueError(f"slice: the block at {start_indices} of shape {shape} does not fit "
                             f"in the tensor of shape {x.shape}.")
        index.append(builtins.slice(start, stop))
    return getitem(x, tuple(index))


@integers_by_numpy(np.flip)
def flip(x, axis=None):
    """``x`` with the order of values reversed along ``axis`` (an int, a tuple, or all
    axes when None)."""
    x = as_tensor(x)
    axes = range(x.ndim) if axis is None else [
        _axis(a, x, "flip") for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    reverse = [builtins.slice(None)] * x.ndim
    for a in axes:
        reverse[a] = builtins.slice(None, None, -1)
    return getitem(x, tuple(reverse))


@integers_by_numpy(np.roll)
def roll(x, shift, axis=None):
    """Values shifted ``shift`` places along ``axis`` (of the flattened values when
    None), those pushed off one end coming back at the other: roll([1, 2, 3], 1)
    is [3, 1, 2].  Backward rolls the gradient back by -shift."""
    x = as_tensor(x)
    if axis is not None:
        for a in (axis if isinstance(axis, (tuple, list)) else (axis,)):
            _axis(a, x, "roll")
    back = tuple(-s for s in shift) if isinstance(shift, (tuple, list)) else -shift
    try:
        out = np.roll(x.data, shift, axis)
    except ValueError as error:
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} for a tensor of shape "
                         f"{x.shape}: {error}.") from None
    return record(out, (x,), lambda grad: (np.roll(grad, back, axis),))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` with ``pad_width`` values added before and after each axis (``n``,
    ``(before, after)`` for every axis, or one pair per axis).

    ``mode`` "constant" writes ``constant_values`` (default 0); the others repeat
    values of x: "edge" the end values, "reflect" a mirror image without the end
    value (1 2 3 -> 3 2 | 1 2 3 | 2 1), "symmetric" with it (2 1 | 1 2 3 | 3 2),
    "wrap" the other end (2 3 | 1 2 3 | 1 2).
    """
    x = as_tensor(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, received {mode!r}.")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is only used with mode='constant', received "
                         f"constant_values={constant_values!r} with mode={mode!r}.")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} must be one number, one (before, after) "
                         f"pair, or one pair per axis of the tensor of shape {x.shape}.") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must not be negative, received {pad_width!r}.")
    if mode == "constant":
        return _pad_constant(x, widths, 0 if constant_values is None else constant_values)
    if any(size == 0 for size in x.shape) and widths.any():
        raise ValueError(f"pad: mode {mode!r} repeats values of x, and x (shape {x.shape}) "
                         "has none.")
    # each output position along an axis reads one input position: pad the positions
    positions = [np.pad(np.arange(size), width, mode=mode) for size, width in zip(x.shape, widths)]
    return getitem(x, np.ix_(*positions))


def _pad_constant(x, widths, value):
    """The constant padding: backward cuts the gradient of x out of the padded one."""
    out = np.pad(x.data, widths, constant_values=value)
    inside = tuple(builtins.slice(before, before + size)
                   for (before, _), size in zip(widths, x.shape))
    return record(out, (x,), lambda grad: (np.ascontiguousarray(grad[inside]),))


def _triangle(x, k, keep, op):
    """``x`` where ``keep`` (np.triu or np.tril) keeps its last two axes, 0 elsewhere;
    the gradient passes where x was kept."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: needs a matrix (or a batch of them), received shape {x.shape}.")
    kept = keep(np.ones(x.shape[-2:], dtype=bool), operator.index(k))
    return where(kept, x, 0)


@integers_by_numpy(np.triu)
def triu(x, k=0):
    """The upper triangle of x's last two axes (on and above diagonal ``k``), 0 below."""
    return _triangle(x, k, np.triu, "triu")


@integers_by_numpy(np.tril)
def tril(x, k=0):
    """The lower triangle of x's last two axes (on and below diagonal ``k``), 0 above."""
    return _triangle(x, k, np.tril, "tril")
