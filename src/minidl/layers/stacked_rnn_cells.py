"""``StackedRNNCells``: several RNN cells as one, and how cells' states are held.

A cell's ``state_size`` says what states it carries: an int is one state of
that width, a list one state per entry; a stack of cells has a list of its
cells' sizes, so its states are nested (``[[h1, c1], h2]`` for an LSTMCell
under a GRUCell).  ``RNN`` keeps the states flat between steps
(``flat_state_sizes``) and hands each call the nesting the cell expects
(``pack_states``), as Keras does.

``StackedRNNCells([cell_1, ..., cell_k])`` is one step of k stacked recurrent
layers: cell 1 reads x_t, cell j reads cell j - 1's output, and the output is
cell k's.  ``RNN([cell_1, cell_2])`` is ``RNN(StackedRNNCells([cell_1, cell_2]))``.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer, name_weights_under
from minidl.tensor import Tensor


def _describe(cell):
    name = getattr(cell, "name", None)
    return f'{type(cell).__name__} "{name}"' if name else repr(cell)


def check_cell(cell, who):
    """Refuse what cannot be a cell: it needs ``call(inputs, states)`` and ``state_size``."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{who}: a cell needs a call(inputs, states) method returning "
                         f"(output, new_states), received cell={cell!r}.")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(
            f"{who}: the cell {_describe(cell)} needs a state_size attribute (an integer per "
            "state: self.state_size = units for one state, [units, units] for two); received "
            f"cell={cell!r}.")
    flat_state_sizes(cell)


def flat_state_sizes(cell):
    """Every state's width, in order: ``[3, 3, 2]`` for ``state_size`` ``([3, 3], 2)``."""
    sizes = []

    def visit(size):
        if isinstance(size, (list, tuple)):
            for s in size:
                visit(s)
        elif isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0:
            sizes.append(int(size))
        else:
            raise ValueError(
                f"The cell {_describe(cell)} has state_size {cell.state_size!r}: minidl's RNN "
                "takes states of shape (batch, size), each size a positive integer (an int, or "
                "a list of ints), not multi-dimensional states (a TensorShape).")

    visit(cell.state_size)
    return sizes


def output_size(cell):
    """The width of a cell's output: ``output_size``, else (none, or AbstractRNNCell's
    abstract one) the first state's (Keras's rule)."""
    try:
        size = getattr(cell, "output_size", None)
    except NotImplementedError:
        size = None
    return int(size) if size is not None else flat_state_sizes(cell)[0]


def pack_states(state_size, flat):
    """The flat list of states nested as ``state_size`` says; always a list at the
    top, as Keras hands a cell its states (``[h]`` for an int state_size)."""
    it = iter(flat)

    def pack(size):
        return [pack(s) for s in size] if isinstance(size, (list, tuple)) else next(it)

    return pack(state_size) if isinstance(state_size, (list, tuple)) else [next(it)]


def flatten_states(states):
    """A state, or nested lists of them, as one flat list."""
    if isinstance(states, (list, tuple)):
        return [s for part in states for s in flatten_states(part)]
    return [states]


class StackedRNNCells(Layer):
    """Cells run one after the other at each step; ``state_size`` lists theirs."""

    def __init__(self, cells, **kwargs):
        first = cells[0] if isinstance(cells, (list, tuple)) and cells else None
        if isinstance(first, Layer) and kwargs.get("dtype") is None:
            kwargs["dtype"] = first.dtype  # the cells' dtype
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f'StackedRNNCells layer "{self.name}": cells must be a non-empty '
                             f"list of cells, received {cells!r}.")
        for cell in cells:
            check_cell(cell, f'StackedRNNCells layer "{self.name}"')
        self.cells = list(cells)

    @property
    def state_size(self):
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self):
        return output_size(self.cells[-1])

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer):
                built = cell.built  # (a cell built before keeps its weights' names)
                cell.maybe_build(shape)
                if not built:
                    name_weights_under(self.name, cell)
            shape = (shape[0], output_size(cell))

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states nested as ``state_size``."""
        if inputs is not None:
            batch_size = inputs.shape[0]
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        zeros = [Tensor(np.zeros((batch_size, size), dtype)) for size in flat_state_sizes(self)]
        return tuple(pack_states(self.state_size, zeros))

    def call(self, inputs, states, training=None):
        """``(output, new_states)``: states nested as ``state_size`` (or flat)."""
        flat = flatten_states(states)
        expected = flat_state_sizes(self)
        if len(flat) != len(expected):
            raise ValueError(f'StackedRNNCells layer "{self.name}" has {len(expected)} states '
                             f"(state_size {self.state_size!r}), received {len(flat)}.")
        new_states, start = [], 0
        for cell in self.cells:
            count = len(flat_state_sizes(cell))
            cell_states = pack_states(cell.state_size, flat[start:start + count])
            start += count
            if isinstance(cell, Layer):
                inputs, cell_new = cell(inputs, cell_states, training=training)
            else:
                inputs, cell_new = cell.call(inputs, cell_states)
            new_states.append(cell_new)
        return inputs, tuple(pack_states(self.state_size, flatten_states(new_states)))

    def get_config(self):
        from minidl.layers import serialize_nested

        return {**super().get_config(), "cells": [serialize_nested(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config):
        from minidl.layers import deserialize

        cells = [c if isinstance(c, Layer) else deserialize(c) for c in config["cells"]]
        return cls(**{**config, "cells": cells})
