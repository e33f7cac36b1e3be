"""Wrappers: ``Wrapper`` (the base, for your own too), ``Bidirectional`` and
``TimeDistributed``.

``Bidirectional``: a recurrent layer run forwards and backwards, outputs merged.

``Bidirectional(LSTM(32))`` holds two copies of the LSTM (made from its
config): ``forward_lstm`` reads the sequence from the start, ``backward_lstm``
(``go_backwards`` flipped) from the end.  The backward copy's sequence output
is reversed again so that step t of both describes the same input step, then
the two are merged along the features:

=========== ==========================================
merge_mode  output
=========== ==========================================
"concat"    [forward, backward] on the last axis (2U)
"sum"       forward + backward
"mul"       forward * backward
"ave"       (forward + backward) / 2
None        the list [forward, backward]
=========== ==========================================

Weights: the forward layer's, then the backward layer's (Keras's order), so
``Bidirectional(LSTM(32))`` on 16 features has 2 * 6272 parameters.  With a
mask, padded steps output zeros (Keras's ``zero_output_for_mask`` for
``return_sequences``).
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.layers.base import Layer, name_weights_under
from minidl.layers.nest import is_shape
from minidl.layers.node import is_symbolic
from minidl.layers.recurrent import _SequenceLayer
from minidl.layers.rnn_sizes import is_multiple, output_size
from minidl.tensor import Tensor

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Wrapper(Layer):
    """The base of the layers that wrap another layer (Keras 2's ``layers.Wrapper``):
    ``TimeDistributed``, ``Bidirectional``, and your own -- subclass it and write
    ``call`` with ``self.layer``::

        class Doubled(layers.Wrapper):
            def call(self, inputs):
                return 2 * self.layer(inputs)

        Doubled(layers.Dense(3))   # Dense's weights are the wrapper's

    It keeps ``layer`` (tracked: its weights train with the wrapper's), builds it
    with the wrapper's input shape unless it is built, and saves it in its config
    (``{"layer": the layer's config}``, as Keras)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer!r} supplied to wrapper is not a supported layer "
                             "type. Please ensure wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        self.layer.maybe_build(input_shape)

    def get_config(self):
        from minidl.layers import serialize_nested

        return {**super().get_config(), "layer": serialize_nested(self.layer)}

    @classmethod
    def from_config(cls, config):
        from minidl.layers import deserialize

        return cls(**{**config, "layer": deserialize(config["layer"])})


class Bidirectional(Wrapper):
    """Keras's Bidirectional wrapper for a recurrent layer: SimpleRNN, LSTM, GRU or
    ``RNN(cell)`` (a built-in cell, your own, or a stack of cells)."""

    supports_masking = True  # as Keras 2 (compute_mask says what goes on)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from minidl.layers import serialize_nested

        if isinstance(layer, Layer) and kwargs.get("dtype") is None:
            kwargs["dtype"] = layer.dtype  # the wrapped layer's dtype, as Keras
        # (Layer's __init__, not Wrapper's: Wrapper would track ``layer``; here the two
        # copies below are the tracked layers)
        Layer.__init__(self, **kwargs)
        label = f'Bidirectional layer "{self.name}"'
        for argument, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not isinstance(value, _SequenceLayer):
                hint = (" A cell is one timestep: wrap it in layers.RNN(cell) first."
                        if callable(getattr(value, "call", None))
                        and getattr(value, "state_size", None) is not None else "")
                raise ValueError(
                    f"{label}: {argument} must be a recurrent layer (SimpleRNN, LSTM, GRU or "
                    f"RNN(cell)) with a go_backwards argument, received {value!r}.{hint}")
        cell = getattr(layer, "cell", None)
        if cell is not None and is_multiple(output_size(cell)):
            raise ValueError(
                f"{label} wraps an RNN whose cell {type(cell).__name__} gives several outputs "
                f"(output_size {output_size(cell)!r}), which it cannot merge (Keras 2 refuses "
                "it too).")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"{label}: merge_mode must be one of {MERGE_MODES}, received "
                             f"{merge_mode!r}.")
        if backward_layer is not None and (
                backward_layer.go_backwards == layer.go_backwards
                or backward_layer.return_sequences != layer.return_sequences
                or backward_layer.return_state != layer.return_state
                or backward_layer.stateful != layer.stateful):
            raise ValueError(
                f"{label}: backward_layer must read the other way (go_backwards "
                f"{not layer.go_backwards}) and share return_sequences, return_state and "
                "stateful with layer.")
        # the given layers are kept as configs (as layers, their weights would be tracked)
        self._layer_config = serialize_nested(layer)
        # Keras 2's ``bidirectional.layer``: the layer given, never built here (the two
        # copies below do the work); untracked, so its weights are not the wrapper's
        object.__setattr__(self, "layer", layer)
        self._backward_config = None if backward_layer is None else serialize_nested(backward_layer)
        self.forward_layer = self._copy(layer, "forward_", layer.go_backwards)
        self.backward_layer = self._copy(backward_layer or layer, "backward_",
                                         not layer.go_backwards if backward_layer is None
                                         else backward_layer.go_backwards)
        for recurrent in (self.forward_layer, self.backward_layer):
            recurrent.zero_output_for_mask = layer.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self._initial_weights = weights

    @staticmethod
    def _copy(layer, prefix, go_backwards):
        """A new layer made from ``layer``'s config (so no weights or states are shared),
        as Keras does; the classes of its cells are found by name even if unregistered."""
        from minidl.utils.object_registration import CustomObjectScope

        config = {**layer.get_config(), "name": prefix + layer.name,
                  "go_backwards": go_backwards}
        config.pop("batch_input_shape", None)
        cell = getattr(layer, "cell", None)
        cells = [cell, *getattr(cell, "cells", [])] if cell is not None else []
        with CustomObjectScope({type(c).__name__: type(c) for c in cells}):
            return type(layer).from_config(config)

    def build(self, input_shape):
        input_shape = _SequenceLayer._sequence_shape(input_shape)  # (not the states')
        for recurrent in (self.forward_layer, self.backward_layer):
            recurrent.maybe_build(input_shape)
            name_weights_under(self.name, recurrent)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        """``layer(x)``, ``layer(x, initial_state=[h_fw, c_fw, h_bw, c_bw])`` or
        ``layer([x, *states])``: the first half of the states starts the forward layer,
        the second half the backward one.  States from other layers of a functional
        model become inputs of this layer, as in Keras."""
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and initial_state is None:
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is None:
            return super().__call__(inputs, *args, **kwargs)
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2 * (
                self.forward_layer._state_count):
            raise ValueError(
                f'Bidirectional layer "{self.name}": initial_state must be a list of '
                f"{2 * self.forward_layer._state_count} states, the forward layer's then the "
                f"backward layer's, received {initial_state!r}.")
        initial_state = list(initial_state)
        if is_symbolic(inputs) or any(is_symbolic(s) for s in initial_state):
            return super().__call__([inputs, *initial_state], *args, **kwargs)
        return super().__call__(inputs, *args, initial_state=initial_state, **kwargs)

    def _merge(self, forward, backward):
        if self.merge_mode == "concat":
            return ops.concatenate([forward, backward], axis=-1)
        if self.merge_mode is not None and forward.shape != backward.shape:
            raise ValueError(
                f'Bidirectional layer "{self.name}": merge_mode={self.merge_mode!r} needs the '
                f"forward and backward outputs of one shape, received {tuple(forward.shape)} and "
                f"{tuple(backward.shape)}; give backward_layer the same units, or use "
                "merge_mode='concat'.")
        if self.merge_mode == "sum":
            return ops.add(forward, backward)
        if self.merge_mode == "mul":
            return ops.mul(forward, backward)
        if self.merge_mode == "ave":
            return ops.mul(ops.add(forward, backward), 0.5)
        return [forward, backward]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [sequence, *initial states]
            inputs, initial_state = inputs[0], list(inputs[1:])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        forward = self.forward_layer(inputs, mask=mask, training=training,
                                     initial_state=forward_state)
        backward = self.backward_layer(inputs, mask=mask, training=training,
                                       initial_state=backward_state)
        states = []
        if self.return_state:
            forward, *forward_states = forward
            backward, *backward_states = backward
            states = forward_states + backward_states
        if self.return_sequences:  # step t of both outputs: input step t
            steps = (slice(None, None, -1),) if self.forward_layer.time_major else (
                slice(None), slice(None, None, -1))
            backward = ops.getitem(backward, steps)
        output = self._merge(forward, backward)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(
            _SequenceLayer._sequence_shape(input_shape))
        states = []
        if self.return_state:
            shape, *states = shape
            states = states * 2
        if self.merge_mode == "concat":
            output = [(*shape[:-1], shape[-1] * 2)]
        elif self.merge_mode is None:
            output = [shape, shape]
        else:
            output = [shape]
        return output + states if len(output) + len(states) > 1 else output[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            masks += [None] * (2 * self.forward_layer._state_count)
        return masks if len(masks) > 1 else masks[0]

    def reset_states(self, states=None):
        """As Keras 2: both layers' states back to zeros, or to ``states`` (a list: the
        forward layer's states, then the backward layer's).  A refused call changes
        neither layer."""
        if not self.stateful:
            raise AttributeError(f'Bidirectional layer "{self.name}": reset_states() is for '
                                 "stateful layers (stateful=True).")
        if states is not None and not isinstance(states, (list, tuple)):
            raise ValueError(f'Bidirectional layer "{self.name}": reset_states(states=...) '
                             f"takes a list of states, received {type(states).__name__}.")
        before = [self.forward_layer._state_values, self.backward_layer._state_values]
        half = None if states is None else len(states) // 2
        try:
            self.forward_layer.reset_states(None if states is None else states[:half])
            self.backward_layer.reset_states(None if states is None else states[half:])
        except Exception:
            self.forward_layer._state_values, self.backward_layer._state_values = before
            raise

    def get_config(self):
        config = {**super().get_config(), "layer": self._layer_config,
                  "merge_mode": self.merge_mode}
        if self._backward_config is not None:
            config["backward_layer"] = self._backward_config
        return config

    @classmethod
    def from_config(cls, config):
        from minidl.layers import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Apply ``layer`` to every timestep: ``TimeDistributed(Dense(8))`` on
    (batch, timesteps, features) gives (batch, timesteps, 8), the same Dense
    (one set of weights) at each step.

    The steps are folded into the batch -- (batch * timesteps, ...) -- so the
    layer runs once, on one big batch; the result is unfolded again.

    Masks, as Keras 2: the input's mask is folded the same way and given to
    the layer (``TimeDistributed(LSTM(8))`` on (batch, steps, words, F) after
    ``Masking`` skips each step's padded words).  The output's mask is the
    layer's own, unfolded (``TimeDistributed(Embedding(..., mask_zero=True))``);
    if the layer makes none, the input's mask reduced to (batch, steps): a step
    is real when any of its positions is.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: layer must be a Layer, received {layer!r}.")
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = layer.dtype
        super().__init__(layer, **kwargs)

    def _check(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f'TimeDistributed layer "{self.name}" needs inputs of at least 3 axes (batch, '
                f"timesteps, ...), received shape {tuple(input_shape)}.")

    def build(self, input_shape):
        self._check(input_shape)
        built = self.layer.built
        self.layer.maybe_build((None, *input_shape[2:]))
        if not built:  # Keras 2 names them "time_distributed/kernel", not "dense/kernel"
            for weight in self.layer.weights:
                if weight.name and weight.name.startswith(f"{self.layer.name}/"):
                    weight.name = f"{self.name}/{weight.name[len(self.layer.name) + 1:]}"

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        if not is_shape(inner):
            raise ValueError(
                f'TimeDistributed layer "{self.name}" wraps a layer with several outputs '
                f'({type(self.layer).__name__} "{self.layer.name}" gives {inner}), which it '
                "cannot unfold (Keras 2 refuses it too): wrap a layer with one output.")
        return (input_shape[0], input_shape[1], *inner[1:])

    def call(self, inputs, training=None, mask=None):
        self._check(inputs.shape)
        batch, steps = inputs.shape[:2]
        folded = ops.reshape(inputs, (batch * steps, *inputs.shape[2:]))
        inner_mask = self._fold_mask(inputs, mask)
        if inner_mask is not None and self.layer._call_takes_mask:
            outputs = self.layer(folded, training=training, mask=inner_mask)
        else:
            outputs = self.layer(folded, training=training)
        return ops.reshape(outputs, (batch, steps, *outputs.shape[1:]))

    def _fold_mask(self, inputs, mask):
        """``mask`` (batch, steps, ...) as (batch * steps, ...), or None."""
        if mask is None:
            return None
        mask = np.asarray(getattr(mask, "data", mask), dtype=bool)
        if mask.ndim < 2 or mask.shape[:2] != tuple(inputs.shape[:2]):
            raise ValueError(
                f'TimeDistributed layer "{self.name}": the mask must start with the (batch, '
                f"steps) axes {tuple(inputs.shape[:2])} of its inputs {tuple(inputs.shape)}, "
                f"received a mask of shape {mask.shape}.")
        return mask.reshape((-1, *mask.shape[2:]))

    def compute_mask(self, inputs, mask=None):
        """The layer's mask of the folded steps, unfolded; else ``mask`` reduced to (batch,
        steps) with any() (see the class docstring)."""
        batch, steps = inputs.shape[:2]
        inner_mask = self._fold_mask(inputs, mask)
        if self.layer._makes_masks or (inner_mask is not None and self.layer.supports_masking):
            folded = np.reshape(getattr(inputs, "data", inputs), (batch * steps, *inputs.shape[2:]))
            if folded.dtype.kind in "fc":  # (word indices stay an integer array)
                folded = Tensor(folded, dtype=folded.dtype)
            output_mask = self.layer.compute_mask(folded, inner_mask)
            if output_mask is not None:
                output_mask = np.asarray(getattr(output_mask, "data", output_mask), dtype=bool)
                return output_mask.reshape((batch, steps, *output_mask.shape[1:]))
        if mask is None:
            return None
        mask = np.asarray(getattr(mask, "data", mask), dtype=bool)
        return mask.reshape(mask.shape[:2] + (-1,)).any(axis=2) if mask.ndim > 2 else mask
