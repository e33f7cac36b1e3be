"""``StackedRNNCells``: several RNN cells as one.

``StackedRNNCells([cell_1, ..., cell_k])`` is one step of k stacked recurrent
layers: cell 1 reads x_t, cell j reads cell j - 1's output, and the output is
cell k's.  ``RNN([cell_1, cell_2])`` is ``RNN(StackedRNNCells([cell_1, cell_2]))``.
Its ``state_size`` is a tuple of its cells' (``([3, 3], 2)`` for an LSTMCell
under a GRUCell), so its states are nested per cell (see ``rnn_sizes.py``).
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer, name_weights_under
from minidl.layers.nest import flatten, is_shape
from minidl.layers.rnn_sizes import describe, output_shapes, output_size, pack_states, \
    state_shapes
from minidl.tensor import Tensor


def check_cell(cell, who):
    """Refuse what cannot be a cell: it needs ``call(inputs, states)`` and ``state_size``."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{who}: a cell needs a call(inputs, states) method returning "
                         f"(output, new_states), received cell={cell!r}.")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(
            f"{who}: the cell {describe(cell)} needs a state_size attribute (an integer per "
            "state: self.state_size = units for one state, [units, units] for two, a "
            "TensorShape for a state of several dimensions); received "
            f"cell={cell!r}.")
    state_shapes(cell)


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
        """Cell 1 is built with ``input_shape`` (a nest for nested inputs), cell j with
        cell j - 1's output shape."""
        shape = input_shape
        batch = flatten(input_shape, is_leaf=is_shape)[0][0]
        for cell in self.cells:
            if isinstance(cell, Layer):
                built = cell.built  # (a cell built before keeps its weights' names)
                cell.maybe_build(shape)
                if not built:
                    name_weights_under(self.name, cell)
            shape = (batch, *output_shapes(cell)[0])

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states nested as ``state_size``."""
        if inputs is not None:
            batch_size = inputs.shape[0]
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        zeros = [Tensor(np.zeros((batch_size, *shape), dtype)) for shape in state_shapes(self)]
        return tuple(pack_states(self.state_size, zeros))

    def call(self, inputs, states, training=None):
        """``(output, new_states)``: states nested as ``state_size`` (or flat)."""
        flat = flatten(states)
        expected = state_shapes(self)
        if len(flat) != len(expected):
            raise ValueError(f'StackedRNNCells layer "{self.name}" has {len(expected)} states '
                             f"(state_size {self.state_size!r}), received {len(flat)}.")
        new_states, start = [], 0
        for cell in self.cells:
            count = len(state_shapes(cell))
            cell_states = pack_states(cell.state_size, flat[start:start + count])
            start += count
            if isinstance(cell, Layer):
                inputs, cell_new = cell(inputs, cell_states, training=training)
            else:
                inputs, cell_new = cell.call(inputs, cell_states)
            new_states.append(cell_new)
        return inputs, tuple(pack_states(self.state_size, flatten(new_states)))

    def get_config(self):
        from minidl.layers import serialize_nested

        return {**super().get_config(), "cells": [serialize_nested(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config):
        from minidl.layers import deserialize

        cells = [c if isinstance(c, Layer) else deserialize(c) for c in config["cells"]]
        return cls(**{**config, "cells": cells})
