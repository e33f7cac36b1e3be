"""What an RNN cell's ``state_size`` and ``output_size`` say (Keras's rule).

    state_size = 32                          one state (batch, 32)
    state_size = TensorShape([20, 30])       one state (batch, 20, 30)
    state_size = [32, 32]                    two states, (batch, 32) each (LSTMCell's h, c)
    state_size = [TensorShape([10]), TensorShape([20, 30])]
                                             two states, (batch, 10) and (batch, 20, 30)
    state_size = ([3, 3], 2)                 a stack of cells: their sizes, nested per cell

An int or a TensorShape is *one* state, the TensorShape giving its shape after
the batch axis; a list or a tuple (a named tuple too) holds several, maybe
nested.  So ``(20, 30)`` is two states, as in Keras: a state of several
dimensions is a TensorShape.  ``output_size`` follows the same rule: several
sizes there mean the cell returns several outputs at each step.

``RNN`` keeps the states flat between steps, one array (batch, *shape) each
(``state_shapes``), and hands each call of the cell the nesting of
``state_size`` (``pack_states``), as Keras does.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.nest import flatten, pack_as
from minidl.tensor_shape import TensorShape


def describe(cell):
    name = getattr(cell, "name", None)
    return f'{type(cell).__name__} "{name}"' if name else repr(cell)


def is_multiple(size):
    """True when ``size`` holds several sizes (a list or a tuple), Keras's
    ``is_multiple_state``; an int or a TensorShape is one."""
    return isinstance(size, (list, tuple))


def _is_one(size):
    return not is_multiple(size)


def _shape(size, cell, what):
    """One size as the shape it gives after the batch axis: 32 -> (32,), TensorShape([20,
    30]) -> (20, 30)."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0:
        return (int(size),)
    if isinstance(size, TensorShape) and size.rank and all(d is not None and d > 0
                                                          for d in size):
        return tuple(size)
    raise ValueError(
        f"The cell {describe(cell)} has {what} {getattr(cell, what)!r}: each size must be a "
        "positive integer (a state (batch, size)) or a TensorShape of known positive sizes (a "
        "state of several dimensions, TensorShape([20, 30]) for (batch, 20, 30)), several of "
        f"them in a list; received {size!r}.")


def shapes(size, cell, what="state_size"):
    """The shape after the batch axis of each state (or output) ``size`` describes, in
    order: ``[(3,), (3,), (2,)]`` for ``([3, 3], 2)``."""
    return [_shape(s, cell, what) for s in flatten(size, _is_one)]


def state_shapes(cell):
    """The shape after the batch axis of each of the cell's states, in order."""
    return shapes(cell.state_size, cell)


def output_size(cell):
    """A cell's ``output_size``, else (none, or AbstractRNNCell's abstract one) its first
    state's size (Keras's rule)."""
    try:
        size = getattr(cell, "output_size", None)
    except NotImplementedError:
        size = None
    return flatten(cell.state_size, _is_one)[0] if size is None else size


def output_shapes(cell):
    """The shape after the batch axis of each of the cell's outputs at one step."""
    return shapes(output_size(cell), cell, "output_size")


def pack_states(state_size, flat):
    """The flat list of states nested as ``state_size`` (lists, tuples and named tuples
    alike); one state (an int or a TensorShape state_size) in a list: ``[h]``."""
    if not is_multiple(state_size):
        return list(flat)
    return pack_as(state_size, flat, is_leaf=_is_one)
