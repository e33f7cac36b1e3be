"""RNN cells: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``.

A cell is ONE timestep of a recurrent layer: ``cell(x_t, states)`` takes the
input at step t, (batch, features), and the states after step t - 1, and
returns ``(output, new_states)``.  ``layers.RNN(cell)`` runs a cell over a
whole sequence.  Every cell says how many states it carries and their sizes
in ``state_size`` (an int for one state, a list for several), and the width
of its output in ``output_size``.

For F input features and U units (weights in the layout of the SimpleRNN,
LSTM and GRU layers, so ``RNN(LSTMCell(U))`` and ``LSTM(U)`` exchange weights)::

    SimpleRNNCell  h = act(x @ W + b + h_prev @ U)              W (F, U)   U (U, U)
    LSTMCell       i, f, g, o = split(x @ W + b + h_prev @ U)    W (F, 4U)  U (U, 4U)
                   c = rec(f) * c_prev + rec(i) * act(g)
                   h = rec(o) * act(c)                           states [h, c]
    GRUCell        z, r from x @ W + h_prev @ U (+ biases), then
                   reset_after=True:  hh = act(x W_h + b_h + r * (h_prev U_h + b'_h))
                   reset_after=False: hh = act(x W_h + b_h + (r * h_prev) U_h)
                   h = z * h_prev + (1 - z) * hh

(act = ``activation``, rec = ``recurrent_activation``.)  ``dropout`` drops
input features and ``recurrent_dropout`` state units, with one mask drawn at
the first training step and kept until ``reset_dropout_mask()`` /
``reset_recurrent_dropout_mask()`` (``RNN`` resets them for each sequence):
the same mask at every step, as Keras.
"""

from __future__ import annotations

import numpy as np

from minidl import activations, initializers, ops, random, regularizers
from minidl.layers.base import Layer, check_positive_int
from minidl.layers.recurrent import (RecurrentConstraints, ResetAfter, UnitForgetBias, _rate,
                                     check_implementation)
from minidl.tensor import Tensor


class _Cell(RecurrentConstraints, Layer):
    """What the three built-in cells share: arguments, weights, dropout, config.
    Subclasses set ``_gates`` and ``_state_count`` and write ``step``."""

    _gates = 1
    _state_count = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        label = self._label()
        self.units = check_positive_int(label, "units", units)
        self.activation = activations.get(activation)
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
        self.kernel = self.recurrent_kernel = self.bias = None
        self._dropout_mask = self._recurrent_dropout_mask = None

    def _label(self):
        return f'{type(self).__name__} layer "{self.name}"'

    @property
    def state_size(self):
        return self.units if self._state_count == 1 else [self.units] * self._state_count

    @property
    def output_size(self):
        return self.units

    # --- weights -------------------------------------------------------------
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or not input_shape[-1]:
            raise ValueError(
                f"{self._label()} is one timestep: it needs inputs of shape (batch, features) "
                f"with a known number of features, received input shape {input_shape}. Run it "
                "over a sequence (batch, timesteps, features) with layers.RNN(cell)."
            )
        width = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states of shape (batch, units): one Tensor, or a list for an LSTMCell."""
        if inputs is not None:
            batch_size = inputs.shape[0]
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        zeros = [Tensor(np.zeros((batch_size, self.units), dtype))
                 for _ in range(self._state_count)]
        return zeros[0] if self._state_count == 1 else zeros

    # --- one step ----------------------------------------------------------------
    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if len(states) != self._state_count:
            raise ValueError(f"{self._label()} has {self._state_count} state(s), received "
                             f"{len(states)}.")
        states = [self._to_tensors(s) for s in states]
        for k, state in enumerate(states):
            if state.ndim != 2 or state.shape != (inputs.shape[0], self.units):
                raise ValueError(
                    f"{self._label()}: states[{k}] must have shape ({inputs.shape[0]}, "
                    f"{self.units}) (batch, units), received {tuple(state.shape)}.")
        if inputs.ndim != 2 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
                f"(batch, {self.kernel.shape[0]}), received shape {tuple(inputs.shape)}.")
        if training:
            inputs, h = self._dropped(inputs, states[0])
        else:
            h = states[0]
        output, new_states = self.step(inputs, h, states)
        if self._state_count == 1 and not nested:
            return output, new_states[0]
        return output, new_states

    def _dropped(self, inputs, h):
        """inputs and h_prev times this sequence's dropout masks (drawn on first use)."""
        if self.dropout:
            if self._dropout_mask is None or self._dropout_mask.shape != inputs.shape:
                keep = random.get_generator().random(inputs.shape) >= self.dropout
                self._dropout_mask = (keep / (1 - self.dropout)).astype(self._dtype)
            inputs = ops.mul(inputs, self._dropout_mask)
        if self.recurrent_dropout:
            if (self._recurrent_dropout_mask is None
                    or self._recurrent_dropout_mask.shape != h.shape):
                keep = random.get_generator().random(h.shape) >= self.recurrent_dropout
                self._recurrent_dropout_mask = (keep / (1 - self.recurrent_dropout)).astype(
                    self._dtype)
            h = ops.mul(h, self._recurrent_dropout_mask)
        return inputs, h

    def reset_dropout_mask(self):
        """Draw a new input dropout mask at the next training step."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        """Draw a new recurrent dropout mask at the next training step."""
        self._recurrent_dropout_mask = None

    def _input_product(self, inputs):
        """x @ W + b (b the input bias row of a GRUCell with reset_after)."""
        z = ops.matmul(inputs, self.kernel)
        if self.bias is None:
            return z
        return ops.add(z, self.bias[0] if self.bias.ndim == 2 else self.bias)

    # --- config ----------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **self._extra_config(),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._bias_config(),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            **self._constraints_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    def _extra_config(self):
        return {}

    def _bias_config(self):
        return {}


class _GatedCell(_Cell):
    """LSTMCell and GRUCell: a ``recurrent_activation`` for the gates, and Keras's
    ``implementation`` (see ``recurrent.check_implementation``)."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 implementation=2, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = check_implementation(self._label(), implementation,
                                                   self.recurrent_dropout)

    def _extra_config(self):
        return {"recurrent_activation": activations.serialize(self.recurrent_activation)}

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}


class SimpleRNNCell(_Cell):
    """One step of SimpleRNN: ``h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)``;
    the output is h, the one state is h."""

    def step(self, inputs, h, states):
        h = self.activation(ops.add(self._input_product(inputs),
                                    ops.matmul(h, self.recurrent_kernel)))
        return h, [h]


class LSTMCell(UnitForgetBias, _GatedCell):
    """One step of LSTM (gates i, f, c, o in the weights); states [h, c], output h.
    ``unit_forget_bias=True`` starts the forget gate's bias at 1, as Keras."""

    _gates = 4
    _state_count = 2

    def step(self, inputs, h, states):
        z = ops.add(self._input_product(inputs), ops.matmul(h, self.recurrent_kernel))
        u = self.units
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        rec = self.recurrent_activation
        c = ops.add(ops.mul(rec(f), states[1]), ops.mul(rec(i), self.activation(g)))
        h = ops.mul(rec(o), self.activation(c))
        return h, [h, c]


class GRUCell(ResetAfter, _GatedCell):
    """One step of GRU (gates z, r, h in the weights); the output and the one state
    are h.  ``reset_after=True`` (Keras 2's default): bias (2, 3 * units), rows for
    x @ kernel and for h_prev @ recurrent_kernel; ``reset_after=False``: bias (3 * units,)."""

    _gates = 3

    def step(self, inputs, h, states):
        u, h_prev, rec = self.units, states[0], self.recurrent_activation
        x = self._input_product(inputs)
        x_z, x_r, x_h = x[:, :u], x[:, u:2 * u], x[:, 2 * u:]
        if self.reset_after:
            inner = ops.matmul(h, self.recurrent_kernel)
            if self.bias is not None:
                inner = ops.add(inner, self.bias[1])
            inner_z, inner_r, inner_h = inner[:, :u], inner[:, u:2 * u], inner[:, 2 * u:]
            r = rec(ops.add(x_r, inner_r))
            candidate = ops.mul(r, inner_h)
        else:
            gates = ops.matmul(h, self.recurrent_kernel[:, :2 * u])
            inner_z, inner_r = gates[:, :u], gates[:, u:]
            r = rec(ops.add(x_r, inner_r))
            candidate = ops.matmul(ops.mul(r, h), self.recurrent_kernel[:, 2 * u:])
        z = rec(ops.add(x_z, inner_z))
        hh = self.activation(ops.add(x_h, candidate))
        h = ops.add(ops.mul(z, h_prev), ops.mul(ops.sub(1.0, z), hh))
        return h, [h]
