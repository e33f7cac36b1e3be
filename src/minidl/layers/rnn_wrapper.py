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

Your own cell may go further, as in Keras (the guide "Working with RNNs",
"RNNs with list/dict inputs, or nested inputs"):

- states of several dimensions: ``state_size = [TensorShape([10]),
  TensorShape([20, 30])]`` is two states, (batch, 10) and (batch, 20, 30)
  (the rule for sizes: ``rnn_sizes.py``);
- several outputs per step: ``output_size`` a list, and the cell returns a
  tuple (or list) of tensors; the layer returns them nested the same way,
  each (batch, *size), or (batch, T, *size) with return_sequences (it learns
  the nesting from one step on zeros when it is built, as Keras's symbolic
  call runs the cell);
- nested inputs: ``rnn((x1, x2))``, a tuple (or named tuple) of sequences
  (batch, T, ...), gives the cell the tuple ``(x1[:, t], x2[:, t])`` at each
  step, and its ``build`` the tuple of their shapes without the time axis.
  A *list* is still ``[sequence, *initial_states]`` (Keras's rule); a dict,
  which Keras 2 also takes, is refused (pass a named tuple).

The states reach the cell nested as ``state_size`` in a tuple (``(h,)`` for one
state), as Keras hands them; ``return_state`` gives the output (each output when
the cell returns a list of them), then the states nested alike.

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

from minidl import activations, autograd, ops, random
from minidl._kernels import RECURRENT_ACTIVATIONS
from minidl.layers.base import Layer, name_weights_under
from minidl.layers.nest import flatten, format_nest, is_shape, map_nest, pack_as
from minidl.layers.recurrent import _SequenceLayer
from minidl.layers.rnn_loop import call_cell, checked_outputs, checked_states, run_cell_loop
from minidl.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from minidl.layers.rnn_sizes import is_multiple, output_shapes, output_size, pack_states, \
    state_shapes
from minidl.layers.stacked_rnn_cells import StackedRNNCells, check_cell
from minidl.ops.gru_reset_before import gru_reset_before
from minidl.ops.recurrent import gru, lstm, simple_rnn
from minidl.tensor import Tensor
from minidl.tensor_shape import TensorShape

_BUILT_IN_CELLS = (LSTMCell, GRUCell, SimpleRNNCell)


def _fused_op(cell):
    """The sequence op that runs ``cell`` in one piece, or None (then: a loop of calls)."""
    for cls in _BUILT_IN_CELLS:
        if isinstance(cell, cls) and all(getattr(type(cell), method) is getattr(cls, method)
                                         for method in ("call", "step", "get_initial_state")):
            functions = [cell.activation, getattr(cell, "recurrent_activation", cell.activation)]
            if all(activations.is_builtin(f) and activations.serialize(f)
                   in RECURRENT_ACTIVATIONS for f in functions):
                return cls
    return None


def _swap_batch_and_time(tensor):
    """(batch, T, ...) <-> (T, batch, ...)."""
    return ops.transpose(tensor, (1, 0, *range(2, tensor.ndim)))


class RNN(_SequenceLayer):
    """Keras 2's ``RNN(cell, return_sequences=False, return_state=False, ...)``."""

    _nested_inputs = True  # a tuple of sequences reaches build and call as a tuple

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
        self._step_shapes = None  # what the cell reads at each step: (batch, ...), or a nest
        self._output_nest = None  # how the cell nests several outputs (a tuple, a list...)
        self._state_values = None  # a stateful layer's states between calls (arrays)

    def _label(self):
        return f'RNN layer "{self.name}"'

    @property
    def _state_shapes(self):
        return state_shapes(self.cell)

    @property
    def _state_count(self):
        return len(self._state_shapes)

    def _shapes_of_states(self, n):
        return [(n, *dims) for dims in self._state_shapes]

    # --- building and shapes -----------------------------------------------------
    @staticmethod
    def _split_shapes(input_shape):
        """(the sequence's shape, or a tuple of them; the initial states' shapes), from
        one shape, a tuple of shapes (nested input) or [sequence, *states]."""
        states = []
        if isinstance(input_shape, list) and input_shape and isinstance(
                input_shape[0], (list, tuple, TensorShape)):
            input_shape, states = input_shape[0], [tuple(s) for s in input_shape[1:]]
        return tuple(input_shape) if isinstance(input_shape, list) else input_shape, states

    def build(self, input_shape):
        sequence, state_shapes_given = self._split_shapes(input_shape)
        if state_shapes_given:
            self._check_state_shapes(state_shapes_given)
        shapes = [tuple(s) for s in flatten(sequence, is_leaf=is_shape)]
        built_in = isinstance(getattr(self.cell, "cells", [self.cell])[0], _BUILT_IN_CELLS)
        if built_in and not is_shape(sequence):
            raise ValueError(
                f"{self._label()} received nested inputs (a {type(sequence).__name__} of "
                f"{len(shapes)} sequences, shapes {format_nest(sequence)}), but its cell "
                f"{type(self.cell).__name__} reads one tensor (batch, features) per step. "
                "Concatenate the sequences along the features axis, or write a cell whose "
                "call(inputs, states) takes the tuple (Keras 2 refuses it too).")
        for shape in shapes:
            if len(shape) < 3 or None in shape[2:] or (built_in and len(shape) != 3):
                raise ValueError(
                    f"{self._label()} needs inputs of shape (batch, timesteps, features) with a "
                    f"known number of features, received input shape {format_nest(sequence)}. "
                    "A cell alone takes one step (batch, features): call the cell itself, or "
                    "reshape x to (samples, timesteps, features).")
        self._check_unroll(shapes[0])
        batch_axis = 1 if self.time_major else 0
        self._step_shapes = pack_as(sequence, [(s[batch_axis], *s[2:]) for s in shapes],
                                    is_leaf=is_shape)
        if not is_shape(sequence):  # the cell (a stack's first) reads the nest as given
            for cell in (self.cell, *getattr(self.cell, "cells", [])[:1]):
                if isinstance(cell, Layer):
                    cell._nested_inputs = True  # (see Layer._nested_inputs)
        if isinstance(self.cell, Layer):
            built = self.cell.built  # (a cell built before keeps its weights' names)
            self.cell.maybe_build(self._step_shapes)
            if not built:
                name_weights_under(self.name, self.cell)
        if _fused_op(self.cell) is None and is_multiple(output_size(self.cell)):
            self._output_nest = self._probe_output_nest()
        if self.stateful and self._state_values is None:  # zeros, as Keras 2's build makes
            self.reset_states(batch_size=shapes[0][batch_axis])  # (if the batch size is known)

    def _probe_output_nest(self):
        """How the cell nests its outputs (a tuple, a list, a named tuple...), from one
        step on zeros: the layer returns them nested alike, as Keras (whose symbolic
        call runs the cell) does."""
        zeros = map_nest(lambda shape: Tensor(np.zeros((1, *shape[1:]), self._dtype)),
                         self._step_shapes, is_leaf=is_shape)
        with autograd.no_grad():
            output, new_states = call_cell(self.cell, zeros, self._starting_states(1), False)
        checked_states(self, flatten(new_states), self._shapes_of_states(1),
                       "call (one step on zeros, batch 1, to learn how it nests its outputs)")
        checked_outputs(self, output, [(1, *dims) for dims in output_shapes(self.cell)])
        return map_nest(lambda _: None, output)

    def _check_state_shapes(self, shapes):
        """The inputs after the sequence are initial states: one (batch, *shape) each."""
        expected = self._state_shapes
        if len(shapes) != len(expected) or any(
                len(shape) != len(dims) + 1 or any(d not in (None, e) for d, e in zip(
                    shape[1:], dims)) for shape, dims in zip(shapes, expected)):
            raise ValueError(
                f"{self._label()} takes one sequence (batch, timesteps, features) (or a tuple "
                "of sequences, nested input), then initial states of shapes "
                f"{[('batch', *dims) for dims in expected]}; received more inputs of shapes "
                f"{shapes}.")

    def compute_output_shape(self, input_shape):
        sequence, _ = self._split_shapes(input_shape)
        first = tuple(flatten(sequence, is_leaf=is_shape)[0])
        if len(first) < 3:
            raise ValueError(self._shape_message(first))
        self._check_unroll(first)
        batch, steps = first[:2]
        if self.time_major:
            steps, batch = batch, steps
        if not self.return_sequences:
            outputs = [(batch, *dims) for dims in output_shapes(self.cell)]
        elif self.time_major:
            outputs = [(steps, batch, *dims) for dims in output_shapes(self.cell)]
        else:
            outputs = [(batch, steps, *dims) for dims in output_shapes(self.cell)]
        output = self._pack_outputs(outputs)
        if self.return_state:
            return self._with_states(output, [(batch, *dims) for dims in self._state_shapes])
        return output

    def _pack_outputs(self, flat):
        """One value per output of the cell, nested as the cell returns its outputs."""
        if self._output_nest is not None:
            return pack_as(self._output_nest, flat)
        size = output_size(self.cell)  # (not built yet: output_size's own nesting)
        return pack_as(size, flat, is_leaf=lambda s: not is_multiple(s)) \
            if is_multiple(size) else flat[0]

    def _with_states(self, output, flat_states):
        """What ``return_state`` gives, as Keras: the output (the outputs, when the cell
        returns a list of them), then the states nested as the cell's ``state_size``
        (``[output, [h1, c1], h2]`` for a stack of an LSTMCell and a GRUCell)."""
        head = list(output) if type(output) is list else [output]
        return head + list(pack_states(self.cell.state_size, flat_states))

    def compute_mask(self, inputs, mask=None):
        """The input mask goes on with the output sequence (``return_sequences``); the
        last output and the states have none (Keras's rule).  Of several outputs only the
        first carries it, as in Keras 2 (which pairs its flat outputs with [mask, None...])."""
        if isinstance(mask, (list, tuple)):
            mask = flatten(mask)[0]
        output_mask = mask if self.return_sequences else None
        masks = self._pack_outputs([output_mask] + [None] * (len(output_shapes(self.cell)) - 1))
        return self._with_states(masks, [None] * self._state_count) if self.return_state \
            else masks

    def _shape_message(self, received):
        expected = "(batch, timesteps, features)" if self._step_shapes is None else format_nest(
            self._step_shapes, lambda s: f"(batch, timesteps, {', '.join(map(str, s[1:]))})")
        return (f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
                f"{expected}, received shape {format_nest(received)}.")

    # --- calling -------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        sequences = inputs[0] if isinstance(inputs, list) and inputs else inputs
        if isinstance(sequences, dict):
            raise NotImplementedError(
                f"{self._label()} received a dict of sequences (keys {sorted(sequences)}): "
                "minidl's nested inputs are a tuple or a named tuple (Keras 2 also takes a "
                "dict). Pass a named tuple: collections.namedtuple('Inputs', sorted(d))(**d), "
                "and read inputs.<key> in the cell.")
        return super().__call__(inputs, *args, **kwargs)

    def _sequence_inputs(self, inputs, mask, initial_state):
        """``call``'s arguments made plain: [sequence, *states] split, each sequence's
        shape checked, the mask a boolean (batch, timesteps) array or None, and
        time-major sequences (timesteps, batch, ...) turned batch-major."""
        if isinstance(inputs, list):  # [sequence (or a tuple of them), *initial states]
            inputs, rest = inputs[0], inputs[1:]
            initial_state = list(rest) if rest else initial_state
        sequences = flatten(inputs)
        expected = flatten(self._step_shapes, is_leaf=is_shape)
        if len(sequences) != len(expected) or any(
                x.ndim != len(e) + 1 or tuple(x.shape[2:]) != tuple(e[1:])
                for x, e in zip(sequences, expected)):
            raise ValueError(self._shape_message(map_nest(lambda x: tuple(x.shape), inputs)))
        if len({tuple(x.shape[:2]) for x in sequences}) > 1:
            axes = "timesteps and batch" if self.time_major else "batch and timesteps"
            raise ValueError(f"{self._label()}: nested input sequences must have the same "
                             f"{axes} sizes, received shapes "
                             f"{format_nest(map_nest(lambda x: tuple(x.shape), inputs))}.")
        if isinstance(mask, (list, tuple)):
            mask = flatten(mask)[0]
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
            if mask.shape != tuple(sequences[0].shape[:2]):
                axes = "timesteps, batch" if self.time_major else "batch, timesteps"
                raise ValueError(f"{self._label()}: mask must have shape "
                                 f"{tuple(sequences[0].shape[:2])} ({axes}), one value per "
                                 f"step, received {mask.shape}.")
            if self.time_major:
                mask = mask.T
        if self.time_major:
            inputs = pack_as(inputs, [_swap_batch_and_time(x) for x in sequences])
        return inputs, mask, initial_state

    def call(self, inputs, mask=None, training=None, initial_state=None):
        inputs, mask, initial_state = self._sequence_inputs(inputs, mask, initial_state)
        n = flatten(inputs)[0].shape[0]
        states = self._initial_states(initial_state, n)
        fused = _fused_op(self.cell)
        if fused is None:  # your own cell: called at each step (rnn_loop.py)
            if states[0] is None:
                states = self._starting_states(n)
            output, finals = run_cell_loop(self, inputs, states, mask, training)
            if self.return_sequences and self.time_major:
                output = map_nest(_swap_batch_and_time, output)
        else:
            sequence, *finals = self._run_fused(fused, inputs, states, mask, training)
            if self.return_sequences:
                output = _swap_batch_and_time(sequence) if self.time_major else sequence
            elif mask is None:
                output = finals[0]  # the last h, without the sequence
            else:
                output = sequence[:, -1]
        if self.stateful:
            self._state_values = [np.array(f.data) for f in finals]
        return self._with_states(output, finals) if self.return_state else output
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

    def get_initial_state(self, inputs):
        """The states a sequence of ``inputs`` starts from, a list nested as the cell's
        ``state_size`` (``[h, c]`` for an LSTMCell, ``[[h1, c1], h2]`` for a stack of an
        LSTMCell and a GRUCell): the cell's ``get_initial_state`` if it has one (Keras's
        rule), else zeros (batch, *shape)."""
        first = flatten(inputs[0] if isinstance(inputs, list) else inputs)[0]
        states = self._starting_states(first.shape[1 if self.time_major else 0])
        return list(pack_states(self.cell.state_size, states))

    def _starting_states(self, n):
        make = getattr(self.cell, "get_initial_state", None)
        if make is None:
            return [Tensor(np.zeros((n, *dims), self._dtype)) for dims in self._state_shapes]
        states = flatten(make(inputs=None, batch_size=n, dtype=self.dtype))
        return checked_states(self, [self._to_tensors(s) for s in states],
                              self._shapes_of_states(n), "get_initial_state")

    def _initial_states(self, initial_state, n):
        """``initial_state=``, a stateful layer's last states, or Nones (zeros)."""
        expected = self._shapes_of_states(n)
        if initial_state is None:
            if not self.stateful:
                return [None] * len(expected)
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
        initial_state = flatten(initial_state)
        if len(initial_state) != len(expected):
            raise ValueError(
                f"{self._label()} has {len(expected)} state(s), received initial_state with "
                f"{len(initial_state)}: pass a list of arrays of shapes {expected}."
            )
        states = []
        for k, (state, shape) in enumerate(zip(initial_state, expected)):
            state = self._to_tensors(state)
            if tuple(state.shape) != shape:
                raise ValueError(f"{self._label()}: initial_state[{k}] must have shape "
                                 f"{shape}, received {tuple(state.shape)}.")
            states.append(state)
        return states

    def reset_states(self, states=None, batch_size=None):
        """A stateful layer's states back to zeros (or to ``states``), for the next
        independent sequences."""
        if not self.stateful:
            raise AttributeError(f"{self._label()}: reset_states() is for stateful layers "
                                 "(stateful=True).")
        shapes = self._state_shapes
        if batch_size is None:
            shape = self._batch_input_shape
            batch_size = None if shape is None else shape[1 if self.time_major else 0]
            if batch_size is None and self._state_values is not None:
                batch_size = self._state_values[0].shape[0]
        if states is None:
            self._state_values = None if batch_size is None else [
                np.zeros((batch_size, *dims), self.dtype) for dims in shapes]
            return
        states = flatten(states)
        if batch_size is None:  # (nothing fixes the batch yet: the states' own)
            batch_size = (np.shape(states[0]) or (None,))[0] if states else None
        expected = [(batch_size, *dims) for dims in shapes]
        if len(states) != len(shapes) or any(
                np.shape(s) != e for s, e in zip(states, expected)):
            raise ValueError(f"{self._label()}: reset_states needs {len(shapes)} array(s) of "
                             f"shapes {expected} (batch first), received shapes "
                             f"{[np.shape(s) for s in states]}.")
        self._state_values = [np.array(s, self.dtype) for s in states]

    @property
    def states(self):
        """A stateful layer's current states (arrays, or Nones before the batch size is
        known), nested as the cell's ``state_size`` (``([h1, c1], h2)`` for a stack of an
        LSTMCell and a GRUCell, a named tuple for a named tuple), as Keras."""
        return pack_states(self.cell.state_size,
                           self._state_values or [None] * self._state_count)

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

