"""``RNN(cell)``: run a cell over every timestep of a sequence (Keras 2's RNN layer).

For inputs (batch, timesteps, features) and a cell with states s (zeros, or
``initial_state``)::

    for t in 0 .. T-1:              (T-1 .. 0 with go_backwards)
        y_t, s = cell(x_t, s)
    output = y_{T-1}                (every y_t with return_sequences: (batch, T, out))

and with ``return_state`` the final states follow the output, nested as the
cell's ``state_size``: ``[output, h, c]`` for an LSTMCell, ``[output, [h1, c1],
h2]`` for a stack of an LSTMCell and a GRUCell (as Keras).  The cell may be your
own layer with ``state_size`` and ``call(inputs, states)``, or a list of
cells (``StackedRNNCells``); each step is a call on minidl Tensors, so
autograd records it and gradients flow back through time.

A built-in cell as it is (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, not
a subclass with its own ``call``) runs as the SimpleRNN, LSTM and GRU layers
do, through the fused sequence op (``ops.lstm`` ...): ``RNN(LSTMCell(64))``
gives what ``LSTM(64)`` gives with the same weights, as fast.

A ``mask`` (batch, T) marks the real steps: at a padded step the states stay
as they were and the output repeats the previous one (0 before the first
real step; 0 at every padded step with ``zero_output_for_mask=True``).
``stateful=True`` starts each batch from the last batch's final states until
``reset_states()``.  ``unroll=True`` changes nothing, but needs a known
number of timesteps (as Keras).
"""

from __future__ import annotations

import numpy as np

from minidl import activations, ops, random
from minidl._kernels import RECURRENT_ACTIVATIONS
from minidl.layers.base import Layer, name_weights_under
from minidl.layers.recurrent import _SequenceLayer
from minidl.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from minidl.layers.stacked_rnn_cells import (
    StackedRNNCells,
    check_cell,
    flat_state_sizes,
    flatten_states,
    output_size,
    pack_states,
)
from minidl.ops.gru_reset_before import gru_reset_before
from minidl.ops.recurrent import gru, lstm, simple_rnn
from minidl.tensor import Tensor


def _fused_op(cell):
    """The sequence op that runs ``cell`` in one piece, or None (then: a loop of calls)."""
    for cls in (LSTMCell, GRUCell, SimpleRNNCell):
        if isinstance(cell, cls) and all(getattr(type(cell), method) is getattr(cls, method)
                                         for method in ("call", "step", "get_initial_state")):
            functions = [cell.activation, getattr(cell, "recurrent_activation", cell.activation)]
            if all(activations.is_builtin(f) and activations.serialize(f)
                   in RECURRENT_ACTIVATIONS for f in functions):
                return cls
    return None


class RNN(_SequenceLayer):
    """Keras 2's ``RNN(cell, return_sequences=False, return_state=False, ...)``."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, zero_output_for_mask=False,
                 **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if isinstance(cell, Layer) and kwargs.get("dtype") is None:
            kwargs["dtype"] = cell.dtype  # the cell's dtype, as Keras
        super().__init__(**kwargs)
        check_cell(cell, f'RNN layer "{self.name}"')
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # the same math either way: minidl never unrolls
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._input_dim = None
        self._state_values = None  # a stateful layer's states between calls (arrays)

    def _label(self):
        return f'RNN layer "{self.name}"'

    @property
    def _state_sizes(self):
        return flat_state_sizes(self.cell)

    @property
    def _state_count(self):
        return len(self._state_sizes)

    # --- building and shapes -----------------------------------------------------
    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                        (tuple, list)):
            self._check_state_shapes([tuple(s) for s in input_shape[1:]])
        input_shape = self._sequence_shape(input_shape)
        if len(input_shape) != 3 or not input_shape[-1]:
            raise ValueError(
                f"{self._label()} needs inputs of shape (batch, timesteps, features) with a "
                f"known number of features, received input shape {tuple(input_shape)}. "
                "A cell alone takes one step (batch, features): call the cell itself, or "
                "reshape x to (samples, timesteps, features)."
            )
        self._check_unroll(input_shape)
        self._input_dim = input_shape[-1]
        batch = input_shape[1] if self.time_major else input_shape[0]
        if isinstance(self.cell, Layer):
            built = self.cell.built  # (a cell built before keeps its weights' names)
            self.cell.maybe_build((batch, self._input_dim))
            if not built:
                name_weights_under(self.name, self.cell)
        if self.stateful and self._state_values is None:  # zeros, as Keras 2's build makes
            self.reset_states(batch_size=batch)  # (if the batch size is known)

    def _check_state_shapes(self, shapes):
        """The inputs after the sequence are initial states: one (batch, size) per state."""
        sizes = self._state_sizes
        if len(shapes) != len(sizes) or any(
                len(shape) != 2 or shape[-1] not in (None, size)
                for shape, size in zip(shapes, sizes)):
            raise ValueError(
                f"{self._label()} takes one sequence (batch, timesteps, features), then "
                f"initial states of shapes {[('batch', size) for size in sizes]}; received "
                f"more inputs of shapes {shapes}. Nested inputs (several tensors per "
                "timestep) are not supported: concatenate them along the features axis.")

    def compute_output_shape(self, input_shape):
        shapes = self._output_shapes(input_shape, output_size(self.cell), self._state_sizes)
        return [shapes[0], *self._nest_states(shapes[1:])] if self.return_state else shapes

    def _nest_states(self, flat):
        """The states as ``return_state`` gives them: nested as the cell's ``state_size``
        (``[[h1, c1], h2]`` for a stack of an LSTMCell and a GRUCell), as Keras."""
        return pack_states(self.cell.state_size, flat)

    # --- calling -------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None, initial_state=None):
        inputs, mask, initial_state = self._sequence_inputs(inputs, mask, initial_state)
        states = self._initial_states(initial_state, inputs.shape[0])
        fused = _fused_op(self.cell)
        if fused is not None:
            sequence, *finals = self._run_fused(fused, inputs, states, mask, training)
        else:
            sequence, *finals = self._run_loop(inputs, states, mask, training)
        if self.stateful:
            self._state_values = [np.array(f.data) for f in finals]
        if self.return_sequences:
            output = ops.transpose(sequence, (1, 0, 2)) if self.time_major else sequence
        elif fused is not None and mask is None:
            output = finals[0]  # the last h, without the sequence
        else:
            output = sequence[:, -1]
        return [output, *self._nest_states(finals)] if self.return_state else output

    def _run_fused(self, cls, inputs, states, mask, training):
        """A built-in cell over the sequence in one op, as the SimpleRNN/LSTM/GRU layers."""
        cell, n = self.cell, inputs.shape[0]
        if training and cell.dropout:
            inputs = ops.dropout(inputs, cell.dropout, training=True,
                                 noise_shape=(n, 1, inputs.shape[-1]))
        recurrent_mask = None
        if training and cell.recurrent_dropout:
            keep = random.get_generator().random((n, cell.units)) >= cell.recurrent_dropout
            recurrent_mask = keep / (1 - cell.recurrent_dropout)
        common = dict(mask=mask, go_backwards=self.go_backwards,
                      zero_output_for_mask=self.zero_output_for_mask,
                      recurrent_dropout_mask=recurrent_mask,
                      activation=activations.serialize(cell.activation),
                      return_sequences=self.return_sequences or mask is not None)
        arguments = (inputs, cell.kernel, cell.recurrent_kernel, cell.bias)
        if cls is SimpleRNNCell:
            return simple_rnn(*arguments, states[0], **common)
        common["recurrent_activation"] = activations.serialize(cell.recurrent_activation)
        if cls is LSTMCell:
            return lstm(*arguments, states[0], states[1], **common)
        return (gru if cell.reset_after else gru_reset_before)(*arguments, states[0], **common)

    def _run_loop(self, inputs, states, mask, training):
        """The cell called once per step; returns (outputs (N, T, out), *final states)."""
        n, steps = inputs.shape[:2]
        if states[0] is None:
            states = self._starting_states(n)
        for cell in getattr(self.cell, "cells", [self.cell]):
            for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                getattr(cell, reset, lambda: None)()
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        output, outputs = None, []
        for t in order:
            packed = pack_states(self.cell.state_size, states)
            if isinstance(self.cell, Layer):
                step_output, new_states = self.cell(inputs[:, t], packed, training=training)
            else:
                step_output, new_states = self.cell.call(inputs[:, t], packed)
            new_states = self._checked(flatten_states(new_states), n)
            self._check_output(step_output, n)
            if mask is not None:
                keep = mask[:, t:t + 1]
                if output is None:
                    output = Tensor(np.zeros(step_output.shape, step_output.dtype))
                previous = 0.0 if self.zero_output_for_mask else output
                step_output = ops.where(keep, step_output, previous)
                new_states = [ops.where(keep, new, old) for new, old in zip(new_states, states)]
            output, states = step_output, new_states
            outputs.append(output)
        return (ops.stack(outputs, axis=1), *states)

    def get_initial_state(self, inputs):
        """The states a sequence of ``inputs`` starts from, a list nested as the cell's
        ``state_size`` (``[h, c]`` for an LSTMCell, ``[[h1, c1], h2]`` for a stack of an
        LSTMCell and a GRUCell): the cell's ``get_initial_state`` if it has one (Keras's
        rule), else zeros (batch, size)."""
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return self._nest_states(self._starting_states(inputs.shape[1 if self.time_major else 0]))

    def _starting_states(self, n):
        make = getattr(self.cell, "get_initial_state", None)
        if make is None:
            return [Tensor(np.zeros((n, size), self._dtype)) for size in self._state_sizes]
        states = flatten_states(make(inputs=None, batch_size=n, dtype=self.dtype))
        return self._checked([self._to_tensors(s) for s in states], n, "get_initial_state")

    def _checked(self, new_states, n, where="call"):
        """The states a cell gave (from ``where``): as many as it has, (batch, size) each."""
        sizes = self._state_sizes
        if len(new_states) != len(sizes) or any(
                tuple(s.shape) != (n, size) for s, size in zip(new_states, sizes)):
            raise ValueError(
                f"{self._label()}: the cell {type(self.cell).__name__} has state_size "
                f"{self.cell.state_size!r}, so its states must have shapes "
                f"{[(n, size) for size in sizes]}; its {where} gave "
                f"{[tuple(getattr(s, 'shape', ())) for s in new_states]}.")
        return new_states

    def _check_output(self, output, n):
        """A step's output: one Tensor (batch, output_size), as the output shape says."""
        width = output_size(self.cell)
        if not isinstance(output, Tensor) or tuple(output.shape) != (n, width):
            raise ValueError(
                f"{self._label()}: each call of the cell {type(self.cell).__name__} must return "
                f"(output, new_states) with output one tensor of shape ({n}, {width}) (batch, "
                f"output_size); it returned {type(output).__name__} "
                f"{tuple(getattr(output, 'shape', ()))}. Nested outputs are not supported.")

    def _initial_states(self, initial_state, n):
        """``initial_state=``, a stateful layer's last states, or Nones (zeros)."""
        sizes = self._state_sizes
        if initial_state is None:
            if not self.stateful:
                return [None] * len(sizes)
            if self._state_values is None or self._state_values[0].shape[0] != n:
                if self._state_values is not None:
                    raise ValueError(
                        f"{self._label()} is stateful with batch size "
                        f"{self._state_values[0].shape[0]}, received a batch of {n}: give every "
                        "batch the same size (or call reset_states() between sequences of "
                        "another batch size)."
                    )
                self.reset_states(batch_size=n)
            return [Tensor(s) for s in self._state_values]
        initial_state = flatten_states(initial_state)
        if len(initial_state) != len(sizes):
            raise ValueError(
                f"{self._label()} has {len(sizes)} state(s), received initial_state with "
                f"{len(initial_state)}: pass a list of arrays of shapes "
                f"{[(n, size) for size in sizes]}."
            )
        states = []
        for k, (state, size) in enumerate(zip(initial_state, sizes)):
            state = self._to_tensors(state)
            if tuple(state.shape) != (n, size):
                raise ValueError(f"{self._label()}: initial_state[{k}] must have shape "
                                 f"({n}, {size}), received {tuple(state.shape)}.")
            states.append(state)
        return states

    def reset_states(self, states=None, batch_size=None):
        """A stateful layer's states back to zeros (or to ``states``), for the next
        independent sequences."""
        if not self.stateful:
            raise AttributeError(f"{self._label()}: reset_states() is for stateful layers "
                                 "(stateful=True).")
        sizes = self._state_sizes
        if batch_size is None:
            shape = self._batch_input_shape
            batch_size = None if shape is None else shape[1 if self.time_major else 0]
            if batch_size is None and self._state_values is not None:
                batch_size = self._state_values[0].shape[0]
        if states is None:
            self._state_values = None if batch_size is None else [
                np.zeros((batch_size, size), self.dtype) for size in sizes]
            return
        states = flatten_states(states)
        if batch_size is None:  # (nothing fixes the batch yet: the states' own)
            batch_size = (np.shape(states[0]) or (None,))[0] if states else None
        if len(states) != len(sizes) or any(
                np.shape(s) != (batch_size, size) for s, size in zip(states, sizes)):
            raise ValueError(f"{self._label()}: reset_states needs {len(sizes)} array(s) of "
                             f"shapes {[(batch_size, size) for size in sizes]} (batch, size), "
                             f"received shapes {[np.shape(s) for s in states]}.")
        self._state_values = [np.array(s, self.dtype) for s in states]

    @property
    def states(self):
        """A stateful layer's current states (arrays, or Nones before the batch size is
        known), nested as the cell's ``state_size`` (``([h1, c1], h2)`` for a stack of an
        LSTMCell and a GRUCell), as Keras."""
        values = self._state_values or [None] * self._state_count
        states = self._nest_states(list(values))
        return tuple(states) if isinstance(self.cell.state_size, tuple) else states

    # --- config ----------------------------------------------------------------------
    def get_config(self):
        from minidl.layers import serialize_nested

        config = {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
        }
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        config["cell"] = serialize_nested(self.cell)
        return config

    @classmethod
    def from_config(cls, config):
        from minidl.layers import deserialize

        cell = config["cell"]
        return cls(**{**config, "cell": cell if isinstance(cell, Layer) else deserialize(cell)})
