"""How ``RNN`` runs your own cell: one call per timestep.

    for t in 0 .. T-1                (T-1 .. 0 with go_backwards)
        y_t, s = cell(x_t, s)        x_t: step t of each sequence, nested as the inputs are
    output = y_{T-1}, or every y_t stacked on axis 1 (return_sequences)

At a padded step (``mask[:, t]`` False) every state keeps its value, whatever
its rank, and the output repeats the previous one (zeros before the first real
step, or at every padded step with ``zero_output_for_mask``).  Each step's
states and outputs are checked against the shapes the cell's ``state_size``
and ``output_size`` give (``rnn_sizes.py``), so a cell that returns something
else fails at once, naming what it returned.  Every step is a call on minidl
Tensors: autograd records it, and gradients flow back through time.

The built-in cells do not come here: ``RNN`` runs them through the fused
sequence ops (``rnn_wrapper.py``).
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.base import Layer
from minidl.layers.nest import flatten, format_nest, pack_as
from minidl.layers.rnn_sizes import output_shapes, output_size, pack_states, state_shapes
from minidl.tensor import Tensor


def call_cell(cell, step_inputs, flat_states, training):
    """One step: the cell gets its states nested as its ``state_size``, in a tuple (as
    Keras hands them: ``(h,)`` for one state).  Returns (output, new_states)."""
    states = tuple(pack_states(cell.state_size, flat_states))
    if isinstance(cell, Layer):
        return cell(step_inputs, states, training=training)
    return cell.call(step_inputs, states)


def run_cell_loop(layer, inputs, states, mask, training):
    """``layer.cell`` over ``inputs`` (a sequence (batch, T, ...) or a nest of them) from
    the flat list ``states``.  Returns (output, final states): the output nested as the
    cell returns it, each piece the last step's (batch, ...) or, with
    ``layer.return_sequences``, every step's (batch, T, ...)."""
    cell, sequences = layer.cell, flatten(inputs)
    n, steps = sequences[0].shape[:2]
    if steps == 0:
        raise ValueError(f"{layer._label()} received sequences of 0 timesteps (input shape "
                         f"{tuple(sequences[0].shape)}): there is no step to read.")
    for each in getattr(cell, "cells", [cell]):
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            getattr(each, reset, lambda: None)()
    state_shapes_now = [(n, *dims) for dims in state_shapes(cell)]
    output_shapes_now = [(n, *dims) for dims in output_shapes(cell)]
    order = range(steps - 1, -1, -1) if layer.go_backwards else range(steps)
    outputs, every_step = None, []
    for t in order:
        step_inputs = inputs[:, t] if isinstance(inputs, Tensor) else pack_as(
            inputs, [x[:, t] for x in sequences])
        step_output, new_states = call_cell(cell, step_inputs, states, training)
        new_states = checked_states(layer, flatten(new_states), state_shapes_now)
        new_outputs = checked_outputs(layer, step_output, output_shapes_now)
        if mask is not None:  # a padded step keeps the states and repeats the output
            keep = mask[:, t]
            if outputs is None or layer.zero_output_for_mask:
                outputs = [Tensor(np.zeros(o.shape, o.dtype)) for o in new_outputs]
            new_outputs = [ops.where(_per_sample(keep, new), new, old)
                           for new, old in zip(new_outputs, outputs)]
            new_states = [ops.where(_per_sample(keep, new), new, old)
                          for new, old in zip(new_states, states)]
        outputs, states = new_outputs, new_states
        if layer.return_sequences:
            every_step.append(outputs)
    if layer.return_sequences:
        outputs = [ops.stack(list(pieces), axis=1) for pieces in zip(*every_step)]
    return pack_as(step_output, outputs), states


def _per_sample(keep, tensor):
    """A (batch,) boolean array shaped to broadcast over ``tensor`` (batch, ...)."""
    return keep.reshape((-1,) + (1,) * (tensor.ndim - 1))


def checked_states(layer, states, expected, where="call"):
    """The flat states ``layer``'s cell gave (from ``where``): as many as it has, of the
    ``expected`` shapes (batch, *shape)."""
    if len(states) != len(expected) or any(
            tuple(getattr(s, "shape", ())) != e for s, e in zip(states, expected)):
        raise ValueError(
            f"{layer._label()}: the cell {type(layer.cell).__name__} has state_size "
            f"{layer.cell.state_size!r}, so its states must have shapes {expected}; its "
            f"{where} gave {[tuple(getattr(s, 'shape', ())) for s in states]}.")
    return states


def checked_outputs(layer, output, expected):
    """A step's output(s) as a flat list: Tensors of the ``expected`` shapes (batch,
    *shape), as the cell's ``output_size`` says."""
    flat = flatten(output)
    if len(flat) != len(expected) or any(
            not isinstance(o, Tensor) or tuple(o.shape) != e for o, e in zip(flat, expected)):
        raise ValueError(
            f"{layer._label()}: each call of the cell {type(layer.cell).__name__} must return "
            f"(output, new_states), the output shaped as its output_size "
            f"{output_size(layer.cell)!r}: {format_nest(layer._pack_outputs(expected))} (batch "
            f"first), a tensor each; it returned {type(output).__name__} "
            f"{format_nest(output, lambda o: str(tuple(getattr(o, 'shape', ()))))}. (A cell "
            "with several outputs says so with a list output_size, one size per output.)")
    return flat
