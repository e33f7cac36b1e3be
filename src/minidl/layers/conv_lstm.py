"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D: an LSTM whose products are convolutions (Keras 2's).

An LSTM reads vectors; a ConvLSTM reads a sequence of images (or of 1-D
signals, or of volumes) and keeps images as its states, so that what it remembers stays
where it was seen (Shi et al. 2015, "Convolutional LSTM Network").  Keras's
example "Next-frame video prediction with convolutional LSTMs" stacks them.

Shapes, channels-last, for ConvLSTM2D (ConvLSTM1D drops the ``cols`` axis, ConvLSTM3D
reads volumes and has a ``depth`` axis before ``rows``, its kernels (kd, kh, kw, ...))::

    inputs      (batch, time, rows, cols, channels)
    kernel      (kh, kw, channels, 4 * filters)      gates i, f, c, o, as LSTM
    recurrent   (kh, kw, filters,  4 * filters)
    bias        (4 * filters,)
    h, c        (batch, rows', cols', filters)      rows', cols': as Conv2D's output
                                                    with the same strides and padding

One step, for the frame x_t (``*`` is a convolution, ``.`` an elementwise product)::

    z = x_t * kernel + bias + h_{t-1} * recurrent_kernel      (batch, rows', cols', 4F)
    i, f, g, o = the four quarters of z along the last axis
    c_t = rec(f) . c_{t-1} + rec(i) . act(g)
    h_t = rec(o) . act(c_t)                                    the step's output

(act = ``activation``, tanh; rec = ``recurrent_activation``, in Keras 2
``hard_sigmoid``: clip(0.2 x + 0.5, 0, 1).)  ``x_t * kernel`` uses the
layer's ``strides``, ``padding`` and ``dilation_rate``; ``h * recurrent_kernel``
always stride 1 and padding "same", so the states keep their size.
Parameters: ``(kh*kw*channels + kh*kw*filters + 1) * 4 * filters``.

The output is h after the last step, or every h with ``return_sequences``
(batch, time, rows', cols', filters), then [h, c] with ``return_state``.
The layer composes ``ops.conv2d`` (``ops.conv1d``, ``ops.conv3d``) and elementwise ops step by
step, so autograd sends the gradients back through time with no new kernel.
``dropout`` drops input values and ``recurrent_dropout`` values of h, with
one mask per gate drawn once per call and shared by its steps (as Keras
does).  A ``mask`` (batch, time) marks the real steps: at a padded step the
states stay and the output repeats the previous one.

``data_format="channels_first"`` takes (batch, time, channels, rows, cols) and gives
(batch, time, filters, rows', cols'), states (batch, filters, rows', cols'): the layer
moves the channels last as it starts and back at the end (see ``channels_first.py``).
"""

from __future__ import annotations

import numpy as np

from minidl import activations, initializers, ops, random, regularizers
from minidl.layers.base import check_positive_int, check_positive_ints
from minidl.layers.channels_first import move_axis, normalize_data_format
from minidl.layers.conv import conv_output_length
from minidl.layers.recurrent import (RecurrentConstraints, _rate, _SequenceLayer,
                                     forget_bias_one)
from minidl.ops._geometry import check_padding
from minidl.tensor import Tensor

_GATES = 4  # i, f, c, o


class _ConvLSTM(RecurrentConstraints, _SequenceLayer):
    """What ConvLSTM1D, ConvLSTM2D and ConvLSTM3D share; they set ``_rank`` (1, 2 or 3)."""

    _rank = 2
    _state_count = 2
    _integer_inputs = "refuse"  # as the convolutions
    supports_masking = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="hard_sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, dropout=0.0, recurrent_dropout=0.0,
                 unroll=False, time_major=False, **kwargs):
        super().__init__(**kwargs)
        label, rank = self._label(), self._rank
        self.data_format = normalize_data_format(self, data_format)
        if unroll or time_major:  # (Keras: "Unrolling isn't possible with convolutional RNNs")
            raise ValueError(f"{label}: unroll and time_major must be False for a convolutional "
                             f"RNN, received unroll={unroll!r}, time_major={time_major!r}.")
        self.filters = check_positive_int(label, "filters", filters)
        self.kernel_size = check_positive_ints(label, "kernel_size", kernel_size, rank)
        self.strides = check_positive_ints(label, "strides", strides, rank)
        self.dilation_rate = check_positive_ints(label, "dilation_rate", dilation_rate, rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{label}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported (as in Keras); received strides={strides!r}, "
                             f"dilation_rate={dilation_rate!r}.")
        self.padding = check_padding(padding, label)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
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
        self.unroll = self.time_major = False
        self.kernel = self.recurrent_kernel = self.bias = None
        self._in_channels = None
        self._state_values = None  # a stateful layer's states between calls (arrays)

    def _label(self):
        return f'{type(self).__name__} layer "{self.name}"'

    def _spatial_names(self):
        return {1: "steps", 2: "rows, cols", 3: "depth, rows, cols"}[self._rank]

    # --- data_format="channels_first": channels moved last, and back ----------------
    def _last(self, value, axis):
        """A channels-first shape, Tensor or array (channels on ``axis``) as channels-last."""
        if self.data_format == "channels_last":
            return value
        if isinstance(value, np.ndarray):
            return np.moveaxis(value, axis, -1)
        return move_axis(value, axis, -1)

    def _first(self, value, axis):
        """A channels-last shape, Tensor or array back as channels-first (channels on
        ``axis``: 2 for sequences, 1 for states)."""
        if self.data_format == "channels_last":
            return value
        if isinstance(value, np.ndarray):
            return np.moveaxis(value, -1, axis)
        return move_axis(value, -1, axis)

    def _frames_last(self, shape):
        """An input shape (batch, time, channels, ...) as (batch, time, ..., channels)."""
        return self._last(tuple(shape), 2) if len(shape) == self._rank + 3 else tuple(shape)

    # --- shapes -------------------------------------------------------------------
    def _check_shape(self, shape):
        """``shape`` is (batch, time, *spatial, channels) with known, matching channels."""
        shape = tuple(shape)
        channels = self._in_channels
        if len(shape) == self._rank + 3 and shape[-1] and channels in (None, shape[-1]) and (
                0 not in shape[2:]):
            return shape
        expected = f"(batch, time, {self._spatial_names()}, {channels or 'channels'})"
        if self.data_format == "channels_first":
            expected = f"(batch, time, {channels or 'channels'}, {self._spatial_names()})"
            shape = self._first(shape, 2) if len(shape) == self._rank + 3 else shape
        hint = ""
        if len(shape) == self._rank + 2:
            hint = (" A sequence of one-channel frames needs a channels axis: reshape x to "
                    f"{self._first((*shape, 1), 2)}; one frame per sample needs a time axis: x[:, None].")
        raise ValueError(
            f'Input of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
            f"layer: expected ndim={self._rank + 3}, shape {expected}, received shape "
            f"{shape}.{hint}")

    def _state_shape(self, input_shape):
        """(batch, *spatial', filters): the shape of h and c, and of each step's output."""
        spatial = tuple(
            conv_output_length(n, (k - 1) * d + 1, s, self.padding)
            for n, k, s, d in zip(input_shape[2:-1], self.kernel_size, self.strides,
                                  self.dilation_rate))
        return (input_shape[0], *spatial, self.filters)

    def compute_output_shape(self, input_shape):
        input_shape = self._check_shape(self._frames_last(self._sequence_shape(input_shape)))
        state = self._state_shape(input_shape)
        if self.return_sequences:
            output = self._first((state[0], input_shape[1], *state[1:]), 2)
        else:
            output = self._first(state, 1)
        state = self._first(state, 1)
        return [output, state, state] if self.return_state else output

    # --- weights --------------------------------------------------------------------
    def build(self, input_shape):
        input_shape = self._check_shape(self._frames_last(self._sequence_shape(input_shape)))
        for n, k, d in zip(input_shape[2:-1], self.kernel_size, self.dilation_rate):
            if self.padding == "valid" and n is not None and (k - 1) * d + 1 > n:
                raise ValueError(
                    f"{self._label()}: kernel_size {self.kernel_size} (dilation_rate "
                    f"{self.dilation_rate}) is larger than its input frames "
                    f"{input_shape[2:-1]} (input shape {input_shape}); use a smaller "
                    "kernel_size or padding='same'.")
        self._in_channels = input_shape[-1]
        width = _GATES * self.filters
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self._in_channels, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel",
                                                (*self.kernel_size, self.filters, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                init = forget_bias_one(init, self.filters)
            self.bias = self.add_weight("bias", (width,), initializer=init,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    # --- the convolutions of one step -------------------------------------------------
    def _input_conv(self, x, kernel, bias):
        if self._rank == 1:
            return ops.conv1d(x, kernel, bias, self.strides[0], self.padding,
                              self.dilation_rate[0])
        if self._rank == 3:
            return ops.conv3d(x, kernel, bias, self.strides, self.padding, "linear",
                              self.dilation_rate)
        return ops.conv2d(x, kernel, bias, self.strides, self.padding, "linear",
                          self.dilation_rate)

    def _recurrent_conv(self, h, kernel):
        if self._rank == 1:
            return ops.conv1d(h, kernel, None, 1, "same")
        if self._rank == 3:
            return ops.conv3d(h, kernel, None, 1, "same")
        return ops.conv2d(h, kernel, None, (1, 1), "same")

    def _gate_inputs(self, x, h, input_masks, recurrent_masks):
        """z = x * kernel + bias + h * recurrent_kernel, (batch, *spatial', 4F); with
        dropout masks, each gate's quarter from its own masked x and h (as Keras)."""
        if input_masks is None and recurrent_masks is None:
            return ops.add(self._input_conv(x, self.kernel, self.bias),
                           self._recurrent_conv(h, self.recurrent_kernel))
        f, quarters = self.filters, []
        for k in range(_GATES):
            gate = (Ellipsis, slice(k * f, (k + 1) * f))
            x_k = x if input_masks is None else ops.mul(x, input_masks[k])
            h_k = h if recurrent_masks is None else ops.mul(h, recurrent_masks[k])
            bias = None if self.bias is None else self.bias[k * f:(k + 1) * f]
            quarters.append(ops.add(self._input_conv(x_k, self.kernel[gate], bias),
                                    self._recurrent_conv(h_k, self.recurrent_kernel[gate])))
        return ops.concatenate(quarters, axis=-1)

    def _dropout_masks(self, rate, shape):
        """One inverted-dropout mask per gate, or None."""
        if not rate:
            return None
        generator = random.get_generator()
        return [((generator.random(shape) >= rate) / (1 - rate)).astype(self._dtype)
                for _ in range(_GATES)]

    # --- calling --------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [sequence, *initial states]
            inputs, initial_state = inputs[0], list(inputs[1:])
        if inputs.ndim == self._rank + 3:
            inputs = self._last(inputs, 2)
        self._check_shape(inputs.shape)
        n, steps = inputs.shape[:2]
        if steps == 0:
            raise ValueError(f"{self._label()} received sequences of 0 timesteps (input shape "
                             f"{tuple(inputs.shape)}): there is no step to read.")
        mask = self._step_mask(mask, n, steps)
        state_shape = self._state_shape(inputs.shape)
        h, c = self._initial_states(initial_state, state_shape)
        input_masks = recurrent_masks = None
        if training:
            input_masks = self._dropout_masks(self.dropout, (n, *inputs.shape[2:]))
            recurrent_masks = self._dropout_masks(self.recurrent_dropout, state_shape)
        rec, act, f = self.recurrent_activation, self.activation, self.filters
        output, outputs = None, []
        for t in range(steps - 1, -1, -1) if self.go_backwards else range(steps):
            z = self._gate_inputs(inputs[:, t], h, input_masks, recurrent_masks)
            i, forget, g, o = (z[..., k * f:(k + 1) * f] for k in range(_GATES))
            new_c = ops.add(ops.mul(rec(forget), c), ops.mul(rec(i), act(g)))
            new_h = ops.mul(rec(o), act(new_c))
            if mask is None:
                output, h, c = new_h, new_h, new_c
            else:  # a padded step keeps the states and repeats the last output
                keep = mask[:, t].reshape((n,) + (1,) * (len(state_shape) - 1))
                previous = Tensor(np.zeros(state_shape, self._dtype)) if output is None else output
                output = ops.where(keep, new_h, previous)
                h, c = ops.where(keep, new_h, h), ops.where(keep, new_c, c)
            if self.return_sequences:
                outputs.append(output)
        if self.stateful:
            self._state_values = [np.array(h.data), np.array(c.data)]
        if self.return_sequences:
            output = self._first(ops.stack(outputs, axis=1), 2)
        else:
            output = self._first(output, 1)
        return [output, self._first(h, 1), self._first(c, 1)] if self.return_state else output

    def _step_mask(self, mask, n, steps):
        """The mask as a boolean (batch, time) array, or None."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        if mask.shape != (n, steps):
            raise ValueError(
                f"{self._label()}: a mask must mark whole timesteps, shape (batch, time) = "
                f"{(n, steps)}, received shape {mask.shape}. (Masking before a "
                f"{type(self).__name__} makes one per position; Keras refuses it too.)")
        return mask

    def _initial_states(self, initial_state, shape):
        """[h, c]: ``initial_state=``, a stateful layer's last states, or zeros."""
        if initial_state is None:
            if not self.stateful:
                return [Tensor(np.zeros(shape, self._dtype)) for _ in range(2)]
            if self._state_values is not None and self._state_values[0].shape != shape:
                raise ValueError(
                    f"{self._label()} is stateful with states of shape "
                    f"{self._state_values[0].shape}, received inputs that give {shape}: a "
                    "stateful layer keeps one state per sample, so every batch must have that "
                    "size (pass batch_size= to fit/predict), or call reset_states().")
            if self._state_values is None:
                self._state_values = [np.zeros(shape, self._dtype) for _ in range(2)]
            return [Tensor(s) for s in self._state_values]
        if isinstance(initial_state, (Tensor, np.ndarray)):
            initial_state = [initial_state]
        states = [self._to_tensors(s) for s in initial_state]
        if len(states) != 2 or any(tuple(s.shape) != self._first(shape, 1) for s in states):
            layout = (f"filters, {self._spatial_names()}" if self.data_format == "channels_first"
                      else f"{self._spatial_names()}, filters")
            raise ValueError(
                f"{self._label()} has 2 states, h and c, each of shape {self._first(shape, 1)} "
                f"(batch, {layout}); received initial_state of shapes "
                f"{[tuple(s.shape) for s in states]}.")
        return [self._last(s, 1) for s in states]

    def get_initial_state(self, inputs):
        """Keras 2's zero states [h, c] for a batch of ``inputs``."""
        shape = self._state_shape(self._frames_last(
            np.shape(inputs.data if isinstance(inputs, Tensor) else inputs)))
        return [Tensor(np.zeros(self._first(shape, 1), self._dtype)) for _ in range(2)]

    def reset_states(self, states=None):
        """A stateful layer's states back to zeros (at the next call), or to ``states``,
        two arrays [h, c] of the states' shape."""
        if not self.stateful:
            raise AttributeError(f"{self._label()}: reset_states() is for stateful layers "
                                 "(stateful=True).")
        if states is None:
            self._state_values = None
            return
        states = [np.array(s, self._dtype) for s in states] if isinstance(
            states, (list, tuple)) else []
        moved = [self._last(s, 1) if s.ndim == self._rank + 2 else s for s in states]
        if len(states) != 2 or states[0].shape != states[1].shape or moved[0].shape[-1:] != (
                self.filters,):
            layout = (f"{self.filters}, {self._spatial_names()}"
                      if self.data_format == "channels_first"
                      else f"{self._spatial_names()}, {self.filters}")
            raise ValueError(f"{self._label()}: reset_states needs 2 arrays [h, c] of one shape "
                             f"(batch, {layout}), received shapes {[s.shape for s in states]}.")
        self._state_values = [np.ascontiguousarray(s) for s in moved]

    @property
    def states(self):
        """A stateful layer's current states [h, c] (arrays), or Nones."""
        if self._state_values is None:
            return [None, None]
        return [self._first(s, 1) for s in self._state_values]

    # --- config ---------------------------------------------------------------------
    def get_config(self):
        config = {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": False,
            "time_major": False,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            **self._constraints_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }
        return config


class ConvLSTM2D(_ConvLSTM):
    """Keras 2's ConvLSTM2D: inputs (batch, time, rows, cols, channels); see the module
    docstring.  ``ConvLSTM2D(8, (3, 3), padding="same")`` on 1-channel frames has
    (9*1 + 9*8 + 1) * 32 = 2624 parameters."""

    _rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


class ConvLSTM1D(_ConvLSTM):
    """Keras 2's ConvLSTM1D: inputs (batch, time, steps, channels), a sequence of 1-D
    signals; see the module docstring."""

    _rank = 1


class ConvLSTM3D(_ConvLSTM):
    """Keras 2's ConvLSTM3D: inputs (batch, time, depth, rows, cols, channels), a sequence
    of volumes; see the module docstring.  Parameters: ``(kd*kh*kw*channels +
    kd*kh*kw*filters + 1) * 4 * filters``."""

    _rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
