"""``AbstractRNNCell``: Keras 2's base class for your own RNN cell.

A cell is one timestep: ``call(inputs, states)`` takes x_t (batch, features)
and the states after step t - 1, and returns ``(output, new_states)``.  A
subclass says what it carries with two properties::

    state_size   an int (one state (batch, size)), or a list of ints (one per state)
    output_size  the width of output (batch, output_size)

and ``get_initial_state`` gives the zero states a sequence starts from.
``layers.RNN(MyCell(...))`` runs the cell over a sequence; it also takes a plain
``Layer`` with a ``state_size`` attribute -- this base class only writes the
contract down.  As in Keras, an ``output_size`` left abstract is read by
``RNN`` as the first state's size.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.stacked_rnn_cells import flat_state_sizes, pack_states
from minidl.tensor import Tensor


class AbstractRNNCell(Layer):
    """Subclass it, define ``state_size`` (and ``output_size``) as properties, ``build``
    and ``call(inputs, states) -> (output, new_states)``."""

    def call(self, inputs, states):
        raise NotImplementedError(
            f"{type(self).__name__}: a subclass of AbstractRNNCell must define "
            "call(inputs, states) returning (output, new_states).")

    @property
    def state_size(self):
        """The size of each state: an int for one state, a list of ints for several."""
        raise NotImplementedError(
            f"{type(self).__name__}: a subclass of AbstractRNNCell must define the property "
            "state_size (an int for one state, a list of ints for several).")

    @property
    def output_size(self):
        """The width of the output of one step."""
        raise NotImplementedError(
            f"{type(self).__name__}: a subclass of AbstractRNNCell must define the property "
            "output_size.")

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states (batch, size): one Tensor for an int ``state_size``, else a list
        nested as ``state_size``.  The batch is ``inputs``' first axis, or ``batch_size``."""
        if inputs is not None:
            batch_size = inputs.shape[0]
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        zeros = [Tensor(np.zeros((batch_size, size), dtype)) for size in flat_state_sizes(self)]
        if not isinstance(self.state_size, (list, tuple)):
            return zeros[0]
        return pack_states(self.state_size, zeros)
