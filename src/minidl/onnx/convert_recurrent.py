"""ONNX converters of the sequence layers: SimpleRNN, LSTM, GRU, Bidirectional,
TimeDistributed and Masking.

SimpleRNN, LSTM and GRU are ONNX's ``RNN``, ``LSTM`` and ``GRU`` ops.  Those
read time-major sequences (T, N, F) and give ``Y`` (T, directions, N, U) and
the final states ``Y_h`` (and ``Y_c``) (directions, N, U), so a ``Transpose``
goes on each side.  Weights move from Keras's layout at export:

========= ====================== =================================== ===================
layer     Keras kernel (F, G*U)  ONNX W (dirs, G*U, F), R (dirs, G*U, U)  ONNX B (dirs, 2*G*U)
========= ====================== =================================== ===================
SimpleRNN one gate               kernel.T, recurrent_kernel.T        [bias, 0]
LSTM      gates i f c o          gates reordered to i o f c, then .T [bias (i o f c), 0]
GRU       gates z r h            z r h (the same order), .T          [bias[0], bias[1]]
 (reset_after=False: one bias)                                       [bias, 0]
========= ====================== =================================== ===================

Keras 2's GRU (``reset_after=True``) applies the reset gate after the
recurrent product, which is ONNX's ``linear_before_reset=1``; Keras 1's
(``reset_after=False``) applies it before, ONNX's ``linear_before_reset=0``.  The
activations go in the ``activations`` attribute (LSTM: recurrent_activation,
activation, activation; GRU: recurrent_activation, activation; RNN: activation).

``go_backwards``: the sequence is reversed (a ``Slice`` with step -1) and run
forwards, so the outputs come in the order the steps ran, as in Keras.
``Bidirectional`` of a forward and a backward copy of one layer is one node
with ``direction="bidirectional"``, whose backward outputs are already lined
up with the input steps (Keras reverses them back too); its merge
(concat, sum, mul, ave, or both outputs) follows.

Masks (``Embedding(mask_zero=True)``, ``Masking``): a padded step leaves the
state as it was, anywhere in the sequence (padding before the words, as
``pad_sequences`` puts it by default, or after).  ONNX's ``sequence_lens``
can only skip steps at the end, so each sequence is first compacted: its real
steps moved to the front, in order (a stable sort by ``t + T * padded``, with
``TopK``), and ``sequence_lens`` = the number of real steps.  Skipping a
padded step and leaving it out give the same states, so the final states are
exactly minidl's.  For ``return_sequences`` the output at step t is the
compacted output at ``cumsum(mask)[t] - 1`` (the last real step up to t),
0 where no real step has come yet, and 0 at every padded step for the
copies inside Bidirectional (Keras's ``zero_output_for_mask``).

None of these nodes needs the number of timesteps (the compaction reads it
from the mask's shape), so a model built for sequences of any length
(``Embedding`` without ``input_length``) exports with a ``"timesteps"`` axis.
"""

from __future__ import annotations

import numpy as np

from minidl.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Masking,
    SimpleRNN,
    TimeDistributed,
)
from minidl.onnx import registry
from minidl.onnx.registry import converter

_OPS = {SimpleRNN: "RNN", LSTM: "LSTM", GRU: "GRU"}
_LSTM_ORDER = (0, 3, 1, 2)  # Keras's i f c o -> ONNX's i o f c
# Keras name -> (ONNX activation, alpha, beta); None: it takes no parameters
_ACTIVATIONS = {
    "tanh": ("Tanh", None),
    "sigmoid": ("Sigmoid", None),
    "relu": ("Relu", None),
    "linear": ("Affine", (1.0, 0.0)),  # alpha * x + beta
    "hard_sigmoid": ("HardSigmoid", (0.2, 0.5)),  # clip(0.2 x + 0.5, 0, 1), Keras 2's
}
_INT64_MIN = np.iinfo(np.int64).min


def _activation_names(layer):
    """The Keras activation names of the ONNX op's ``activations``, in its order."""
    activation = layer._name(layer.activation)
    if isinstance(layer, SimpleRNN):
        return [activation]
    recurrent = layer._name(layer.recurrent_activation)
    if isinstance(layer, LSTM):  # f (the gates), g (the candidate cell), h (the output)
        return [recurrent, activation, activation]
    return [recurrent, activation]


def _activation_attributes(layer, cells):
    """``activations`` and, where one needs them, ``activation_alpha`` / ``_beta``.

    The ONNX spec says the alphas are "consumed in the order of the activation
    functions"; runtimes read that either as one value per activation or as one
    per activation that takes parameters.  Every slot gets a value (an activation
    without parameters gets the values of the one that has them), which both
    readings take the same way: at most one kind of activation with parameters
    occurs besides ones without (e.g. [Sigmoid, Affine, Affine]), or all have them.
    """
    names = [name for cell in cells for name in _activation_names(cell)]
    for name in names:
        if name not in _ACTIVATIONS:
            raise NotImplementedError(
                f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) uses the activation '
                f"{name!r}, which ONNX's recurrent ops do not have; they have "
                f"{', '.join(sorted(_ACTIVATIONS))}.")
    attributes = {"activations": [_ACTIVATIONS[n][0] for n in names]}
    parameters = [_ACTIVATIONS[n][1] for n in names]
    kinds = {p for p in parameters if p is not None}
    if kinds:
        if len(kinds) > 1 and None in parameters:  # e.g. [Sigmoid, HardSigmoid, Affine]
            raise NotImplementedError(
                f'ONNX export: layer "{layer.name}" combines the activations {names}, whose '
                "parameters ONNX runtimes may read in different ways; use tanh or sigmoid "
                "for one of them.")
        fill = next(iter(kinds))
        parameters = [fill if p is None else p for p in parameters]
        attributes["activation_alpha"] = [float(p[0]) for p in parameters]
        attributes["activation_beta"] = [float(p[1]) for p in parameters]
    return attributes


def _onnx_weights(cell):
    """``W`` (G*U, F), ``R`` (G*U, U) and ``B`` (2*G*U,) of one direction, ONNX's layout."""
    gates, units = cell._gates, cell.units
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    if isinstance(cell, LSTM):
        def reorder(m):
            blocks = np.split(m, gates, axis=-1)
            return np.concatenate([blocks[i] for i in _LSTM_ORDER], axis=-1)
    else:
        def reorder(m):
            return m
    zeros = np.zeros(gates * units, kernel.dtype)
    if cell.bias is None:
        input_bias, recurrent_bias = zeros, zeros
    elif isinstance(cell, GRU) and cell.reset_after:  # (2, 3U): to x @ kernel, to h @ U
        input_bias, recurrent_bias = cell.bias.numpy()
    else:
        input_bias, recurrent_bias = reorder(cell.bias.numpy()), zeros
    return (reorder(kernel).T, reorder(recurrent).T,
            np.concatenate([input_bias, recurrent_bias]))


def _check(layer, cell):
    label = f'ONNX export: layer "{layer.name}" ({type(layer).__name__})'
    if cell.stateful:
        raise NotImplementedError(
            f"{label} is stateful: its states carry over from one predict batch to the next, "
            "which an ONNX graph cannot do. Export a copy built with stateful=False (and the "
            "same weights), and give it the states as initial_state inputs if needed.")
    if cell.time_major:
        raise NotImplementedError(
            f"{label} is time_major (inputs (timesteps, batch, features)); the exported graph "
            "has the batch first. Use time_major=False (transpose the data instead).")


def _sequence_node(b, layer, cells, x, direction, lengths="", initial=(), sequence=True):
    """One ONNX RNN/LSTM/GRU node over ``x`` (N, T, F) for ``cells`` (one layer, or
    the forward and backward copies); returns ``Y`` (N, T, dirs, U), or None unless
    ``sequence`` (the node then skips writing it), and the finals ``[Y_h, Y_c]``
    (dirs, N, U)."""
    cell = cells[0]
    weights = [_onnx_weights(c) for c in cells]
    w, r, bias = (b.constant(np.stack(parts), f"{layer.name}/{what}")
                  for parts, what in zip(zip(*weights), ("W", "R", "B")))
    inputs = [b.transpose(x, [1, 0, 2], layer.name), w, r, bias, lengths, *initial]
    while inputs[-1] == "":
        inputs.pop()
    attributes = _activation_attributes(layer, cells)
    if isinstance(cell, GRU):  # reset gate after (1) or before (0) the recurrent product
        attributes["linear_before_reset"] = int(cell.reset_after)
    outputs = b.node(_OPS[type(cell)], inputs, layer.name, n_outputs=1 + cell._state_count,
                     hidden_size=cell.units, direction=direction, **attributes)
    if not sequence:
        b.nodes[-1].output[0] = ""  # an optional output left out
        return None, outputs[1:]
    y = b.transpose(outputs[0], [2, 0, 1, 3], layer.name)  # (T, dirs, N, U) -> (N, T, dirs, U)
    return y, outputs[1:]


def _reverse_steps(b, x, base):
    """``x[:, ::-1]``."""
    return b.node("Slice", [x, b.ints([-1], "minus_1"), b.ints([_INT64_MIN], "int64_min"),
                            b.ints([1], "axis_1"), b.ints([-1], "minus_1")], base)


def _pick(b, x, index, axis, base):
    """``x`` at ``index`` of ``axis``: an int drops the axis, a list ([-1]) keeps it."""
    return b.node("Gather", [x, b.ints(index, f"{base}/index")], base, axis=axis)


def _steps_at(b, x, index, width, base):
    """``x[n, index[n, t], :]`` for x (N, T, width) and int64 index (N, T)."""
    index = b.node("Unsqueeze", [index, b.ints([2], "axis_2")], base)
    index = b.node("Expand", [index, b.ints([1, 1, width], f"{base}/width")], base)
    return b.node("GatherElements", [x, index], base, axis=1)


class _Compacted:
    """The real steps of each masked sequence moved to its front (see the module
    docstring): ``x`` (N, T, F) compacted, ``lengths`` (N,) int32, and what the
    outputs need to go back to the steps' places."""

    def __init__(self, b, x, mask, features, base):
        self.b, self.mask, self.base = b, mask, base
        # T from the mask's shape: the graph runs sequences of any length
        shape = b.node("Shape", [mask], base)
        count = b.node("Gather", [shape, b.ints([1], "index_1")], base, axis=0)  # [T]
        t = b.node("Range", [b.ints(0, "int_0"), b.node("Gather", [shape, b.ints(1, "int_1")],
                                                         base, axis=0), b.ints(1, "int_1")], base)
        padded = b.node("Sub", [b.constant(1.0, "one"), mask], base)
        key = b.node("Add", [b.node("Mul", [padded, b.node("Cast", [count], base, to=1)], base),
                             b.node("Cast", [t], base, to=1)], base)
        _, order = b.node("TopK", [key, count], base, n_outputs=2, axis=1, largest=0, sorted=1)
        self.x = _steps_at(b, x, order, features, base)
        self.lengths = b.node("Cast", [b.reduce("ReduceSum", mask, [1], base)], base, to=6)
        count = b.node("CumSum", [mask, b.ints(1, "axis_1_scalar")], base)  # real steps up to t
        self.seen = b.node("Min", [count, b.constant(1.0, "one")], base)  # 1 after a real step
        place = b.node("Max", [b.node("Sub", [count, b.constant(1.0, "one")], base),
                               b.constant(0.0, "zero")], base)
        self.place = b.node("Cast", [place], base, to=7)  # int64
        self.any = _pick(b, self.seen, [-1], 1, base)  # (N, 1): the sequence has a real step

    def sequence(self, y, units, zero_output_for_mask):
        """The output at every step from the compacted outputs ``y`` (N, T, U)."""
        b, base = self.b, self.base
        y = _steps_at(b, y, self.place, units, base)
        keep = self.mask if zero_output_for_mask else self.seen
        return b.node("Mul", [y, b.node("Unsqueeze", [keep, b.ints([2], "axis_2")], base)], base)

    def last(self, h, zero_output_for_mask):
        """The last step's output: h at the last real step; 0 with none (or, for
        ``zero_output_for_mask``, when the last step is padding)."""
        keep = _pick(self.b, self.mask, [-1], 1, self.base) if zero_output_for_mask else self.any
        return self.b.node("Mul", [h, keep], self.base)

    def state(self, h, initial):
        """A final state: the initial one where a sequence has no real step."""
        b, base = self.b, self.base
        if initial is None:
            return b.node("Mul", [h, self.any], base)
        has = b.node("Cast", [self.any], base, to=9)  # bool
        return b.node("Where", [has, h, initial], base)


def _one_direction(b, layer, cell, x, input_shape, mask, initial_states):
    """``cell`` (a SimpleRNN, LSTM or GRU, maybe a Bidirectional's copy) over ``x``;
    returns (output sequence or None, last output, final states), as minidl's layer."""
    _check(layer, cell)
    features = input_shape[2]
    zero_output = cell._zero_output_for_mask
    if cell.go_backwards:
        x = _reverse_steps(b, x, layer.name)
        mask = None if mask is None else _reverse_steps(b, mask, layer.name)
    initial = [b.node("Unsqueeze", [s, b.ints([0], "axis_0")], layer.name)
               for s in initial_states]
    if mask is None:
        y, finals = _sequence_node(b, layer, [cell], x, "forward", initial=initial,
                                   sequence=cell.return_sequences)
        finals = [_pick(b, f, 0, 0, layer.name) for f in finals]
        sequence = _pick(b, y, 0, 2, layer.name) if cell.return_sequences else None
        return sequence, finals[0], finals
    packed = _Compacted(b, x, mask, features, layer.name)
    y, finals = _sequence_node(b, layer, [cell], packed.x, "forward", packed.lengths, initial,
                               sequence=cell.return_sequences)
    finals = [_pick(b, f, 0, 0, layer.name) for f in finals]
    sequence = None
    if cell.return_sequences:
        sequence = packed.sequence(_pick(b, y, 0, 2, layer.name), cell.units, zero_output)
    last = packed.last(finals[0], zero_output)
    states = [packed.state(f, s if initial_states else None)
              for f, s in zip(finals, initial_states or [None] * len(finals))]
    return sequence, last, states


@converter(SimpleRNN, LSTM, GRU, masks=True, any_length=True)
def recurrent(b, layer, x, input_shape, mask=None):
    """The output (last step, or every step with ``return_sequences``), then the
    final states with ``return_state`` (LSTM: h, c).  Initial states given as
    inputs (``layer([x, h, c])``) are the node's ``initial_h`` / ``initial_c``."""
    initial_states = []
    if isinstance(x, list):  # [sequence, *initial states]
        (x, *initial_states), input_shape = x, input_shape[0]
    sequence, last, states = _one_direction(b, layer, layer, x, input_shape, mask,
                                            initial_states)
    output = sequence if layer.return_sequences else last
    out_mask = mask if layer.return_sequences else None
    if layer.return_state:
        return [output, *states], [out_mask] + [None] * len(states)
    return output, out_mask


def _one_node(layer):
    """True when the two copies fit one ``direction="bidirectional"`` node."""
    forward, backward = layer.forward_layer, layer.backward_layer
    return (type(forward) is type(backward) and forward.units == backward.units
            and not forward.go_backwards and backward.go_backwards
            and _activation_names(forward) == _activation_names(backward))


def _bidirectional_node(b, layer, x, input_shape, mask):
    """Both directions in one node; returns per direction (sequence, last, states)."""
    forward, backward = layer.forward_layer, layer.backward_layer
    for cell in (forward, backward):
        _check(layer, cell)
    units = forward.units
    packed = None
    if mask is not None:
        packed = _Compacted(b, x, mask, input_shape[2], layer.name)
        x = packed.x
    y, finals = _sequence_node(b, layer, [forward, backward], x, "bidirectional",
                               "" if packed is None else packed.lengths,
                               sequence=layer.return_sequences)
    results = []
    for d, cell in enumerate((forward, backward)):
        states = [_pick(b, f, d, 0, layer.name) for f in finals]
        sequence = _pick(b, y, d, 2, layer.name) if layer.return_sequences else None
        last = states[0]
        if packed is not None:
            zero_output = cell._zero_output_for_mask
            if sequence is not None:
                sequence = packed.sequence(sequence, units, zero_output)
            last = packed.last(last, zero_output)
            states = [packed.state(s, None) for s in states]
        results.append((sequence, last, states))
    return results


@converter(Bidirectional, masks=True, any_length=True)
def bidirectional(b, layer, x, input_shape, mask=None):
    """Forward and backward outputs merged (``merge_mode``), then with
    ``return_state`` the forward layer's final states and the backward one's.
    Initial states given as inputs (``layer([x, *states])``: the forward layer's,
    then the backward layer's) start the two directions, each its own node."""
    initial_states = []
    if isinstance(x, list):  # [sequence, *initial states]
        (x, *initial_states), input_shape = x, input_shape[0]
    if isinstance(mask, list):
        mask = mask[0]
    if _one_node(layer) and not initial_states:
        (forward, last_f, states_f), (backward, last_b, states_b) = _bidirectional_node(
            b, layer, x, input_shape, mask)
    else:  # e.g. a backward_layer of another class, or initial states: two nodes
        half = len(initial_states) // 2
        forward, last_f, states_f = _one_direction(b, layer, layer.forward_layer, x,
                                                   input_shape, mask, initial_states[:half])
        backward, last_b, states_b = _one_direction(b, layer, layer.backward_layer, x,
                                                    input_shape, mask, initial_states[half:])
        if backward is not None:  # reversed as minidl's Bidirectional does
            backward = _reverse_steps(b, backward, layer.name)
    if not layer.return_sequences:
        forward, backward = last_f, last_b
    mode, base = layer.merge_mode, layer.name
    if mode == "concat":
        outputs = [b.node("Concat", [forward, backward], base, axis=-1)]
    elif mode == "sum":
        outputs = [b.node("Add", [forward, backward], base)]
    elif mode == "mul":
        outputs = [b.node("Mul", [forward, backward], base)]
    elif mode == "ave":
        summed = b.node("Add", [forward, backward], base)
        outputs = [b.node("Mul", [summed, b.constant(0.5, "half")], base)]
    else:
        outputs = [forward, backward]
    out_mask = mask if layer.return_sequences else None
    masks = [out_mask] * len(outputs)
    if layer.return_state:
        states = states_f + states_b
        return outputs + states, masks + [None] * len(states)
    return (outputs if len(outputs) > 1 else outputs[0]), (masks if len(masks) > 1 else out_mask)


@converter(TimeDistributed, masks=True, any_length=True)
def time_distributed(b, layer, x, input_shape, mask=None):
    """The steps folded into the batch, (N * T, ...), the wrapped layer's nodes,
    and the result unfolded to (N, T, ...), as minidl computes it.  A mask (N, T, ...)
    is folded too and given to a layer that reads masks; the output's mask is the
    layer's own unfolded, else the input's (reduced to (N, T) with a max -- any real
    position -- unless the layer passes masks on), as ``TimeDistributed.compute_mask``."""
    inner = layer.layer
    step_shape = (None, *input_shape[2:])
    convert = registry.find(inner)
    folded = b.node("Reshape", [x, b.ints([-1, *input_shape[2:]], f"{layer.name}/folded")],
                    layer.name)
    inner_mask = None
    if mask is not None:
        inner_mask = b.node("Reshape", [mask, b.ints([-1, *input_shape[2:-1]],
                                                     f"{layer.name}/folded_mask")], layer.name)
    if registry.reads_masks(inner):
        y, inner_out = convert(b, inner, folded, step_shape, mask=inner_mask)
    else:
        if mask is not None and inner._call_takes_mask:
            raise NotImplementedError(
                f'ONNX export: TimeDistributed layer "{layer.name}" gives the timestep mask of '
                f'its input to its layer "{inner.name}" ({type(inner).__name__}), which the '
                "exporter cannot give it.")
        y, inner_out = convert(b, inner, folded, step_shape), None
    out_shape = inner.compute_output_shape(step_shape)
    batch_and_steps = b.node("Slice", [b.node("Shape", [x], layer.name), b.ints([0], "int_0_list"),
                                       b.ints([2], "int_2_list")], layer.name)
    unfolded = b.node("Concat", [batch_and_steps, b.ints(list(out_shape[1:]),
                                                         f"{layer.name}/step_shape")],
                      layer.name, axis=0)
    if inner_out is not None:
        mask_shape = b.node("Concat", [batch_and_steps, b.ints(list(out_shape[1:-1]),
                                                               f"{layer.name}/mask_shape")],
                            layer.name, axis=0)
        out_mask = b.node("Reshape", [inner_out, mask_shape], layer.name)
    elif mask is None or len(input_shape) <= 3 or (inner.supports_masking
                                                  and not registry.reads_masks(inner)):
        out_mask = mask
    else:
        out_mask = b.reduce("ReduceMax", mask, list(range(2, len(input_shape) - 1)), layer.name,
                            keepdims=False)
    return b.node("Reshape", [y, unfolded], layer.name), out_mask


@converter(Masking, masks=True, any_length=True)
def masking(b, layer, x, input_shape, mask=None):
    """mask = any(x != mask_value) over the features; the output is x * mask."""
    differs = b.node("Not", [b.node("Equal", [x, b.constant(layer.mask_value,
                                                            f"{layer.name}/mask_value")],
                                    layer.name)], layer.name)
    new_mask = b.reduce("ReduceMax", b.node("Cast", [differs], layer.name, to=1),
                        [len(input_shape) - 1], layer.name)
    keep = b.node("Unsqueeze", [new_mask, b.ints([-1], "axis_minus_1")], layer.name)
    return b.node("Mul", [x, keep], layer.name), new_mask
