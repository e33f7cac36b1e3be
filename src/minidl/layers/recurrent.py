"""Recurrent layers: ``SimpleRNN``, ``LSTM`` and ``GRU``, with Keras 2's arguments.

A recurrent layer reads a sequence, shaped (batch, timesteps, features), one
step at a time, carrying a state from step to step; it returns the last
output (batch, units), or every step's output (batch, timesteps, units) with
``return_sequences=True``, and the final states too with ``return_state=True``.

Weights, in Keras's layout (so ``get_weights``/``set_weights`` exchange them
with Keras unchanged), for F input features and U units:

=========== ================= ======================== ==========================
layer       kernel            recurrent_kernel         bias
=========== ================= ======================== ==========================
SimpleRNN   (F, U)            (U, U)                   (U,)
LSTM        (F, 4U) i f c o   (U, 4U)                  (4U,)
GRU         (F, 3U) z r h     (U, 3U)                  (2, 3U): input, recurrent
GRU         (F, 3U) z r h     (U, 3U)                  (3U,) with reset_after=False
=========== ================= ======================== ==========================

so ``LSTM(32)`` on 16 features has 16*128 + 32*128 + 128 = 6272 parameters.
The computation is ``minidl.ops.lstm`` / ``gru`` / ``simple_rnn`` (one product
for every timestep's input, then one product and one fused kernel per step).

``dropout`` drops input features and ``recurrent_dropout`` state units, with
one mask per sequence shared by all its steps (as Keras does).  A ``mask``
(from ``Masking`` or ``Embedding(mask_zero=True)``, or passed as ``mask=``)
marks padded steps: they leave the state unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np

from minidl.errors import ArgumentTypeError
from minidl import activations, constraints, initializers, ops, random, regularizers
from minidl.layers.base import Layer, check_positive_int, to_snake_case
from minidl.layers.node import is_symbolic
from minidl.layers.nest import flatten
from minidl.ops.gru_reset_before import gru_reset_before
from minidl.ops.recurrent import gru, lstm, simple_rnn
from minidl.tensor import Tensor
from minidl._kernels import RECURRENT_ACTIVATIONS


def _rate(label, name, value):
    """A dropout rate in [0, 1): a TypeError (also a ValueError) for what is not a number, as Keras, a
    ValueError outside the range (Keras clips it silently)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ArgumentTypeError(f"{label}: {name} must be a number in [0, 1), received "
                                f"{value!r}.")
    if not 0 <= value < 1:
        raise ValueError(f"{label}: {name} must be a number in [0, 1), received {value!r}.")
    return float(value)


def check_implementation(label, implementation, recurrent_dropout):
    """Keras 2's ``implementation`` of LSTM and GRU (and their cells): 1 or 2 (the same
    results in minidl; the config keeps it), 0 accepted with Keras's deprecation
    warning; with ``recurrent_dropout`` Keras switches to 1, and the config says so."""
    if isinstance(implementation, bool) or implementation not in (0, 1, 2):
        raise ValueError(f"{label}: implementation must be 1 or 2, received "
                         f"{implementation!r}.")
    if implementation == 0:
        warnings.warn(f"{label}: implementation=0 is deprecated (as in Keras); it runs as "
                      "implementation=1.", DeprecationWarning, stacklevel=4)
    if recurrent_dropout and implementation != 1:
        return 1
    return int(implementation)


class RecurrentConstraints:
    """``kernel_constraint``, ``recurrent_constraint`` and ``bias_constraint`` (see
    ``minidl.constraints``), shared by the recurrent layers, their cells and ConvLSTM:
    checked once, handed to ``add_weight``, and written in the config as Keras does."""

    def _set_constraints(self, kernel_constraint, recurrent_constraint, bias_constraint):
        self.kernel_constraint = self._constraint("kernel_constraint", kernel_constraint)
        self.recurrent_constraint = self._constraint("recurrent_constraint",
                                                     recurrent_constraint)
        self.bias_constraint = self._constraint("bias_constraint", bias_constraint)

    def _constraints_config(self):
        return {"kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class _SequenceLayer(Layer):
    """What every layer over a sequence (batch, timesteps, features) with states
    shares, the recurrent layers here and ``RNN``: initial states given in the
    call (also as inputs of a functional model), and the mask rule.  Subclasses
    say how many states they return (``_state_count``)."""

    @staticmethod
    def _sequence_shape(input_shape):
        """The sequence's shape, from [sequence, *initial states] (see ``__call__``)."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                        (tuple, list)):
            return tuple(input_shape[0])
        return tuple(input_shape)

    # --- calling ---------------------------------------------------------------
    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        """``layer(x)``, ``layer(x, initial_state=[h, c])`` or ``layer([x, h, c])``.

        As in Keras, initial states from other layers (symbolic tensors of a
        functional model, e.g. an encoder's final states) become inputs of
        this layer, so the model's graph includes the layers that made them.
        A list is [sequence, *states]; a tuple is nested input to ``RNN`` (one
        tensor each per step), Keras's rule (``standardize_args``).
        """
        if isinstance(inputs, list) and len(inputs) > 1 and initial_state is None:
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is None:
            return super().__call__(inputs, *args, **kwargs)
        initial_state = flatten(initial_state)  # (a stack of cells nests its states)
        if is_symbolic(inputs) or any(is_symbolic(s) for s in initial_state):
            return super().__call__([inputs, *initial_state], *args, **kwargs)
        return super().__call__(inputs, *args, initial_state=initial_state, **kwargs)

    def _check_unroll(self, input_shape):
        """Keras refuses ``unroll=True`` when the number of timesteps is not known."""
        steps = input_shape[0 if self.time_major else 1] if len(input_shape) >= 3 else 0
        if self.unroll and steps is None:
            raise ValueError(
                f"{self._label()}: cannot unroll a RNN if the time dimension is undefined "
                f"(unroll=True needs a fixed number of timesteps), received input shape "
                f"{tuple(input_shape)}. Give the number of timesteps: input_shape=(timesteps, "
                "features) on the first layer of a Sequential model (input_length= on an "
                "Embedding), or Input(shape=(timesteps, features)); or leave unroll=False "
                "(minidl computes the same either way).")

    def _output_shapes(self, input_shape, width, state_widths):
        """The output shape for (batch, timesteps, features) inputs (time-major ones
        swapped): the sequence of ``width`` values per step or the last step, then a
        (batch, w) state for each of ``state_widths`` with ``return_state``."""
        input_shape = self._sequence_shape(input_shape)
        if len(input_shape) != 3:
            raise ValueError(self._shape_message(input_shape))
        self._check_unroll(input_shape)
        batch, steps = input_shape[:2]
        if self.time_major:
            steps, batch = batch, steps
        if self.return_sequences:
            output = (steps, batch, width) if self.time_major else (batch, steps, width)
        else:
            output = (batch, width)
        if self.return_state:
            return [output] + [(batch, w) for w in state_widths]
        return output

    def _shape_message(self, received):
        return (
            f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
            f"(batch, timesteps, {self._input_dim}), received shape {tuple(received)}."
        )

    def _sequence_inputs(self, inputs, mask, initial_state):
        """``call``'s arguments made plain: [sequence, *states] split, the sequence's
        shape checked, the mask a boolean (batch, timesteps) array or None, and a
        time-major sequence (timesteps, batch, features) turned batch-major."""
        if isinstance(inputs, (list, tuple)):  # [sequence, *initial states]
            inputs, initial_state = inputs[0], list(inputs[1:])
        if inputs.ndim != 3 or inputs.shape[-1] != self._input_dim:
            raise ValueError(self._shape_message(inputs.shape))
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
            if mask.shape != tuple(inputs.shape[:2]):
                axes = "timesteps, batch" if self.time_major else "batch, timesteps"
                raise ValueError(f"{self._label()}: mask must have shape {tuple(inputs.shape[:2])} "
                                 f"({axes}), one value per step, received {mask.shape}.")
            if self.time_major:
                mask = mask.T
        if self.time_major:
            inputs = ops.transpose(inputs, (1, 0, 2))
        return inputs, mask, initial_state

    def compute_mask(self, inputs, mask=None):
        """The input mask goes on with the sequence (``return_sequences``); the
        last output and the states have none (Keras's rule)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self._state_count
        return output_mask


class _Recurrent(RecurrentConstraints, _SequenceLayer):
    """What SimpleRNN, LSTM and GRU share; subclasses set ``_gates``, ``_state_count``
    and ``_run`` (the op) and may add arguments."""

    _gates = 1
    _state_count = 1
    _zero_output_for_mask = False  # padded steps output 0 (set by Bidirectional)
    supports_masking = True  # as Keras 2: reads the mask; compute_mask says what goes on

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, time_major=False, **kwargs):
        super().__init__(**kwargs)
        label = self._label()
        self.units = check_positive_int(label, "units", units)
        self.activation = self._activation("activation", activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = self._regularizer("kernel_regularizer", kernel_regularizer)
        self.recurrent_regularizer = self._regularizer("recurrent_regularizer",
                                                       recurrent_regularizer)
        self.bias_regularizer = self._regularizer("bias_regularizer", bias_regularizer)
        self._set_constraints(kernel_constraint, recurrent_constraint, bias_constraint)
        self.dropout = _rate(label, "dropout", dropout)
        self.recurrent_dropout = _rate(label, "recurrent_dropout", recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # the same math either way: minidl never unrolls (but
        # refuses, as Keras, an unknown number of timesteps: _check_unroll)
        self.time_major = bool(time_major)
        self.kernel = self.recurrent_kernel = self.bias = None
        self._input_dim = None
        self._state_values = None  # a stateful layer's states between calls (arrays)

    def _label(self):
        return f'{type(self).__name__} layer "{self.name}"'

    def _activation(self, argument, activation):
        """The activation function; only those the fused step kernel applies."""
        function = activations.get(activation)
        name = activations.serialize(function) if activations.is_builtin(function) else None
        if name not in RECURRENT_ACTIVATIONS:
            raise ValueError(
                f"{self._label()}: {argument} must be one of {RECURRENT_ACTIVATIONS} (the "
                f"activations the fused recurrent kernel applies), received {activation!r}."
            )
        return function

    @staticmethod
    def _name(function):
        return activations.serialize(function)

    # --- weights -------------------------------------------------------------
    def build(self, input_shape):
        input_shape = self._sequence_shape(input_shape)
        if len(input_shape) != 3 or not input_shape[-1]:
            raise ValueError(
                f"{self._label()} needs inputs of shape (batch, timesteps, features) with a "
                f"known number of features, received input shape {tuple(input_shape)}. "
                "A sequence of single values needs a features axis: reshape x to "
                "(samples, timesteps, 1)."
            )
        self._check_unroll(input_shape)
        self._input_dim = input_shape[-1]
        width = self._gates * self.units
        cell = self._cell_name()  # Keras 2 names them "lstm/lstm_cell/kernel"
        self.kernel = self.add_weight(f"{cell}/kernel", (self._input_dim, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(f"{cell}/recurrent_kernel", (self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(f"{cell}/bias", self._bias_shape(),
                                        initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        if self.stateful and self._state_values is None:  # zeros, as Keras 2's build makes
            self.reset_states(batch_size=input_shape[1 if self.time_major else 0])  # (if known)

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    # --- the cell ----------------------------------------------------------------
    _cell_class = "SimpleRNNCell"
    _layer_only = ("name", "trainable", "dtype", "batch_input_shape", "return_sequences",
                   "return_state", "go_backwards", "stateful", "unroll", "time_major",
                   "activity_regularizer")

    def _cell_name(self):
        return to_snake_case(self._cell_class)  # "lstm_cell", as Keras 2 names it

    @property
    def cell(self):
        """Keras 2's ``layer.cell``: one step of this layer, a SimpleRNNCell, LSTMCell or
        GRUCell with the layer's arguments, named "lstm_cell" (...), that shares the
        layer's weights (``layer.cell.kernel is layer.kernel`` once built).

        minidl runs the whole sequence in one fused op (``ops.lstm``), not step by step
        through the cell; the cell is there to read (its config, its weights) or to run
        one step.  It is not a sublayer: the weights are counted once, in the layer."""
        from minidl.layers import rnn_cells  # (rnn_cells imports this module)

        cell = vars(self).get("_cell")
        if cell is None:
            config = {key: getattr(self, key, value) for key, value in self.get_config().items()
                      if key not in self._layer_only}
            cell = getattr(rnn_cells, self._cell_class)(name=self._cell_name(),
                                                       dtype=self.dtype, **config)
            object.__setattr__(self, "_cell", cell)  # untracked: not a second owner
        if self.kernel is not None and cell.kernel is not self.kernel:
            cell.kernel, cell.recurrent_kernel = self.kernel, self.recurrent_kernel
            if self.use_bias:
                cell.bias = self.bias
            cell.built = True
        return cell

    # --- shapes ----------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        return self._output_shapes(input_shape, self.units, [self.units] * self._state_count)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        inputs, mask, initial_state = self._sequence_inputs(inputs, mask, initial_state)
        if inputs.shape[1] == 0:
            raise ValueError(f"{self._label()} received sequences of 0 timesteps (input shape "
                             f"{tuple(inputs.shape)}): there is no step to read.")
        n = inputs.shape[0]
        states = self._initial_states(initial_state, n)
        if training and self.dropout:
            inputs = ops.dropout(inputs, self.dropout, training=True,
                                 noise_shape=(n, 1, inputs.shape[-1]))
        recurrent_mask = None
        if training and self.recurrent_dropout:
            keep = random.get_generator().random((n, self.units)) >= self.recurrent_dropout
            recurrent_mask = keep / (1 - self.recurrent_dropout)
        # the op gives the whole output sequence only when it is used (the final
        # state is the output otherwise): no copy of T steps, no zeros sent back
        sequence, *finals = self._run(inputs, states, mask, recurrent_mask,
                                      self.return_sequences or mask is not None)
        if self.stateful:
            self._state_values = [np.array(f.data) for f in finals]
        if self.return_sequences:
            output = ops.transpose(sequence, (1, 0, 2)) if self.time_major else sequence
        elif mask is None:
            output = finals[0]  # the last h: the same values as sequence[:, -1], one op less
        else:
            output = sequence[:, -1]  # 0 for a sequence with no real step (Keras's rule)
        return [output, *finals] if self.return_state else output

    @property
    def zero_output_for_mask(self):
        """Keras 2's flag: padded steps output 0 (True inside a Bidirectional that
        returns sequences) rather than the last real step's output."""
        return self._zero_output_for_mask

    @zero_output_for_mask.setter
    def zero_output_for_mask(self, value):
        self._zero_output_for_mask = bool(value)

    def get_initial_state(self, inputs):
        """Keras 2's zero states for a batch of ``inputs``: a list of one array
        (batch, units) of zeros per state (two for an LSTM)."""
        shape = np.shape(inputs.data if isinstance(inputs, Tensor) else inputs)
        batch = shape[1 if self.time_major else 0]
        return [Tensor(np.zeros((batch, self.units), self._dtype))
                for _ in range(self._state_count)]

    def _initial_states(self, initial_state, n):
        """The states to start from: ``initial_state=``, a stateful layer's last
        states, or None (zeros)."""
        count = self._state_count
        if initial_state is None:
            # (a stateful layer's batch size is fixed by its first batch, or by
            # batch_input_shape, which Keras requires and minidl does not)
            if not self.stateful:
                return [None] * count
            if self._state_values is None or self._state_values[0].shape[0] != n:
                if self._state_values is not None:
                    raise ValueError(
                        f"{self._label()} is stateful with batch size "
                        f"{self._state_values[0].shape[0]}, received a batch of {n}: a stateful "
                        "layer keeps one state per sample, so every batch must have that "
                        "size (as in Keras: pass batch_size= to fit/predict, with a number "
                        "of samples it divides)."
                    )
                self.reset_states(batch_size=n)
            return [Tensor(s) for s in self._state_values]
        if isinstance(initial_state, (Tensor, np.ndarray)):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        if len(initial_state) != count:
            raise ValueError(
                f"{self._label()} has {count} state(s), received initial_state with "
                f"{len(initial_state)}: pass a list of {count} arrays of shape "
                f"(batch, {self.units})."
            )
        states = []
        for k, state in enumerate(initial_state):
            state = self._to_tensors(state)
            if tuple(state.shape) != (n, self.units):
                raise ValueError(
                    f"{self._label()}: initial_state[{k}] must have shape ({n}, {self.units}) "
                    f"(batch, units), received {tuple(state.shape)}."
                )
            states.append(state)
        return states

    def reset_states(self, states=None, batch_size=None):
        """A stateful layer's states back to zeros (or to ``states``, arrays of
        shape (batch, units)), for the next independent sequences."""
        if not self.stateful:
            raise AttributeError(f"{self._label()}: reset_states() is for stateful layers "
                                 "(stateful=True).")
        if batch_size is None:
            shape = self._batch_input_shape
            batch_size = None if shape is None else shape[1 if self.time_major else 0]
            if batch_size is None and self._state_values is not None:
                batch_size = self._state_values[0].shape[0]
        if states is None:
            if batch_size is None:
                self._state_values = None
                return
            self._state_values = [np.zeros((batch_size, self.units), self.dtype)
                                  for _ in range(self._state_count)]
            return
        states = [states] if isinstance(states, np.ndarray) else list(states)
        if batch_size is None:  # (nothing fixes the batch yet: the states' own)
            batch_size = (np.shape(states[0]) or (None,))[0] if states else None
        if len(states) != self._state_count or any(
                np.shape(s) != (batch_size, self.units) for s in states):
            raise ValueError(f"{self._label()}: reset_states needs {self._state_count} array(s) "
                             f"of shape ({batch_size}, {self.units}) (batch, units), received "
                             f"shapes {[np.shape(s) for s in states]}.")
        self._state_values = [np.array(s, self.dtype) for s in states]

    @property
    def states(self):
        """A stateful layer's current states (arrays), or Nones."""
        if self._state_values is None:
            return [None] * self._state_count
        return list(self._state_values)

    # --- config ----------------------------------------------------------------
    def get_config(self):
        base = super().get_config()
        base.pop("activity_regularizer", None)  # (in Keras's place below)
        return {
            **base,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
            "units": self.units,
            "activation": self._name(self.activation),
            **self._extra_config(),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._bias_config(),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            **self._constraints_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    def _extra_config(self):
        return {}

    def _bias_config(self):
        return {}


class _Gated(_Recurrent):
    """LSTM and GRU: a recurrent_activation for the gates, and Keras's
    ``implementation`` argument (see ``check_implementation``)."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 implementation=2, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = self._activation("recurrent_activation",
                                                     recurrent_activation)
        self.implementation = check_implementation(self._label(), implementation,
                                                   self.recurrent_dropout)

    def _extra_config(self):
        return {"recurrent_activation": self._name(self.recurrent_activation)}

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}


class SimpleRNN(_Recurrent):
    """A fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel
    + bias)``."""

    def __init__(self, units, **kwargs):
        if "implementation" in kwargs:  # Keras 2 takes it, warns and ignores it
            kwargs.pop("implementation")
            warnings.warn("SimpleRNN: the implementation argument is deprecated (as in Keras) "
                          "and does nothing; remove it.", DeprecationWarning, stacklevel=2)
        super().__init__(units, **kwargs)

    def _run(self, inputs, states, mask, recurrent_mask, return_sequences):
        return simple_rnn(inputs, self.kernel, self.recurrent_kernel, self.bias, states[0],
                          mask=mask, go_backwards=self.go_backwards,
                          zero_output_for_mask=self._zero_output_for_mask,
                          recurrent_dropout_mask=recurrent_mask,
                          activation=self._name(self.activation),
                          return_sequences=return_sequences)


def forget_bias_one(init, units):
    """The initializer of a (4 * units,) LSTM bias, gates i, f, c, o: ``init`` for
    each quarter but the forget gate's, which starts at 1 (``unit_forget_bias``)."""

    def initializer(shape, dtype=np.float32):
        return np.concatenate([init((units,), dtype), np.ones(units, dtype),
                               init((2 * units,), dtype)])

    return initializer


class UnitForgetBias:
    """LSTM and LSTMCell: ``unit_forget_bias=True`` starts the forget gate's bias at 1
    (the second quarter of the (4 * units,) bias), as Keras does."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        return forget_bias_one(self.bias_initializer, self.units)

    def _bias_config(self):
        return {"unit_forget_bias": self.unit_forget_bias}


class ResetAfter:
    """GRU and GRUCell: ``reset_after=True`` gives a bias of shape (2, 3 * units) (one
    row for x @ kernel, one for h @ recurrent_kernel), ``False`` one of (3 * units,)."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        if not isinstance(reset_after, (bool, np.bool_)):
            raise ValueError(f"{self._label()}: reset_after must be True or False, received "
                             f"{reset_after!r}.")
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class LSTM(UnitForgetBias, _Gated):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras 2's LSTM.

    Gates i, f, c, o (in that order in the weights); ``unit_forget_bias=True``
    starts the forget gate's bias at 1 (so the cell remembers at first), as
    Keras does.  Two states: h (the output) and c (the cell).
    """

    _cell_class = "LSTMCell"

    _gates = 4
    _state_count = 2

    def _run(self, inputs, states, mask, recurrent_mask, return_sequences):
        return lstm(inputs, self.kernel, self.recurrent_kernel, self.bias, states[0], states[1],
                    mask=mask, go_backwards=self.go_backwards,
                    zero_output_for_mask=self._zero_output_for_mask,
                    recurrent_dropout_mask=recurrent_mask,
                    activation=self._name(self.activation),
                    recurrent_activation=self._name(self.recurrent_activation),
                    return_sequences=return_sequences)


class GRU(ResetAfter, _Gated):
    """Gated recurrent unit (Cho et al. 2014), Keras 2's GRU.  Gates z, r, h.

    ``reset_after=True`` (Keras 2's default, and PyTorch's form): the reset gate
    multiplies h_{t-1} @ U after the product; the bias (2, 3 * units) has one
    row added to x @ kernel and one to h @ recurrent_kernel (``ops.gru``).
    ``reset_after=False`` (Keras 1's GRU): the reset gate multiplies h_{t-1}
    before its product with the candidate's recurrent kernel, and there is one
    bias (3 * units,) (``ops.gru_reset_before``): 3 * units fewer parameters.
    """

    _gates = 3
    _cell_class = "GRUCell"

    def _run(self, inputs, states, mask, recurrent_mask, return_sequences):
        op = gru if self.reset_after else gru_reset_before
        return op(inputs, self.kernel, self.recurrent_kernel, self.bias, states[0], mask=mask,
                  go_backwards=self.go_backwards, zero_output_for_mask=self._zero_output_for_mask,
                  recurrent_dropout_mask=recurrent_mask,
                  activation=self._name(self.activation),
                  recurrent_activation=self._name(self.recurrent_activation),
                  return_sequences=return_sequences)
