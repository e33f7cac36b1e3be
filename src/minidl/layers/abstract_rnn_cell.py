"""``AbstractRNNCell``: Keras 2's base class for your own RNN cell.

A cell is one timestep: ``call(inputs, states)`` takes x_t (batch, features)
and the states after step t - 1, and returns ``(output, new_states)``.  A
subclass says what it carries with two properties::

    state_size   an int (one state (batch, size)), a TensorShape (one state of several
                 dimensions: TensorShape([20, 30]) is (batch, 20, 30)), or a list of
                 those (one per state; see rnn_sizes.py)
    output_size  the size of the output, by the same rule (a list: several outputs)

and ``get_initial_state`` gives the zero states a sequence starts from.
``layers.RNN(MyCell(...))`` runs the cell over a sequence; it also takes a plain
``Layer`` with a ``state_size`` attribute -- this base class only writes the
contract down.  As in Keras, an ``output_size`` left abstract is read by
``RNN`` as the first state's size.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.rnn_sizes import is_multiple, pack_states, state_shapes
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
        """The size of each state: an int (or a TensorShape) for one state, a list of them
        for several."""
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
        """Zero states (batch, *shape): one Tensor for an int (or TensorShape) ``state_size``,
        else a list nested as ``state_size``.  The batch is ``inputs``' first axis, or
        ``batch_size``."""
        if inputs is not None:
            batch_size = inputs.shape[0]
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        zeros = [Tensor(np.zeros((batch_size, *shape), dtype)) for shape in state_shapes(self)]
        if not is_multiple(self.state_size):
            return zeros[0]
        return pack_states(self.state_size, zeros)
