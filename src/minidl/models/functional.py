"""Functional models: any graph of layers, from ``Input`` to outputs.

    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(x)
    model = Model(inputs=inputs, outputs=outputs)

Calling layers on ``Input`` placeholders recorded a ``Node`` per call (see
``minidl.layers.node``).  The model walks those nodes back from the outputs,
puts them in an order where every node comes after the nodes it reads
(a topological order), and replays them on real data in ``call``.  A layer
called twice has two nodes but one set of weights: the weights are shared.

Inputs and outputs may also be dicts of placeholders, as in Keras:
``Model(inputs={"age": age, "fare": fare}, outputs={"priority": p, "department": d})``.
Inside, they are lists in the order of the sorted keys (Keras's ``model.inputs`` and
``model.outputs``: ``output_names`` and the logs follow it); the model takes its data as
a dict by those keys (or by the Input layers' names), returns a dict by the output keys,
and compile/fit take losses, metrics and targets by the output keys too.
"""

from __future__ import annotations

import warnings

from minidl.layers.input import InputLayer
from minidl.layers.node import KerasTensor, SymbolicMask, flat_outputs
from minidl.layers.node import scope as node_scope
from minidl.models.model import Model, check_input_shape
from minidl.utils.traceback_utils import filter_traceback


class Functional(Model):
    """A model defined by its input and output placeholders."""

    @classmethod
    def _default_name(cls):
        return "model"

    @filter_traceback
    def __init__(self, inputs, outputs, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._nested_inputs = _checked_dict(inputs, "inputs")
        self._nested_outputs = _checked_dict(outputs, "outputs")
        self.inputs = _as_list(_flat(inputs), "inputs")
        self.outputs = _as_list(_flat(outputs), "outputs")
        for tensor in self.inputs:
            if not isinstance(tensor.layer, InputLayer):
                raise ValueError(
                    f'Model "{self.name}": inputs must come from Input(shape=...), received '
                    f"{tensor!r}."
                )
        self._nodes = self._topological_nodes()
        self._layers = [t.layer for t in self.inputs]
        for node in self._nodes:
            if node.layer not in self._layers:
                self._layers.append(node.layer)
        self._shapes = ([t.shape for t in self.inputs], [t.shape for t in self.outputs])
        self._build_input_shape = self.inputs[0].shape
        self.built = True

    def _topological_nodes(self):
        """The layer calls between inputs and outputs, each after the calls it reads."""
        input_ids = {id(t) for t in self.inputs}
        order, done, missing = [], set(), []

        def visit(tensor, path):
            if id(tensor) in input_ids:
                return
            node = tensor.node
            if id(node) in done:
                return
            if not node.inputs:  # an Input that was not given to the model
                missing.append((tensor, path))
                return
            for parent in (*node.inputs, *node.captured):
                visit(parent, path or node.layer.name)
            done.add(id(node))
            order.append(node)

        for output in self.outputs:
            visit(output, None)
        if missing:
            tensor, layer = missing[0]
            raise ValueError(
                f'Graph disconnected in model "{self.name}": layer "{layer}" needs input '
                f'"{tensor.layer.name}" of shape {tensor.shape}, which is not in inputs=. '
                "Pass every Input the outputs depend on: Model(inputs=[...], outputs=...)."
            )
        return order

    @property
    def layers(self):
        return list(self._layers)

    def _is_input_list(self, inputs):
        return len(self.inputs) > 1

    def _check_inputs(self, inputs):
        values = inputs if isinstance(inputs, list) else [inputs]
        if len(values) != len(self.inputs):
            raise ValueError(
                f'Model "{self.name}" expects {len(self.inputs)} inputs '
                f"{[t.shape for t in self.inputs]}, received {len(values)}."
            )
        for i, (tensor, value) in enumerate(zip(self.inputs, values)):
            if value.shape[1:] != tensor.shape[1:]:
                check_input_shape(self.name, i, tensor.shape, value.shape)
        return values

    def call(self, inputs, training=None):
        """Replay the layer calls in order on real tensors.

        A call recorded with an explicit ``training=`` (``base(x, training=False)``
        in the transfer-learning recipe) keeps it; the others get the model's.
        """
        values = {id(t): v for t, v in zip(self.inputs, self._check_inputs(inputs))}
        with node_scope(values):  # (a layer's call may read tensors of this graph)
            return self._run_nodes(values, training)

    def _run_nodes(self, values, training):
        for node in self._nodes:
            args = [values[id(t)] for t in node.inputs]
            kwargs = node.call_kwargs
            if isinstance(kwargs.get("mask"), SymbolicMask):  # mask=x._keras_mask
                kwargs = {**kwargs, "mask": kwargs["mask"].resolve(values)}
            if "training" not in kwargs:
                kwargs = {**kwargs, "training": training}
            out = node.layer(args if node.list_input else args[0], *node.call_args, **kwargs)
            for tensor, value in zip(node.outputs, flat_outputs(out)):
                values[id(tensor)] = value
        return self._structured_outputs([values[id(t)] for t in self.outputs])

    def _flat_inputs(self, values, what):
        """Input data given as a dict, as the list the model takes: by the keys of
        ``Model(inputs={...})``, or by the Input layers' names."""
        keys = sorted(self._nested_inputs) if self._nested_inputs is not None else []
        names = self.input_names
        found = []
        for i, name in enumerate(names):
            key = keys[i] if keys and keys[i] in values else name
            if key not in values:
                raise ValueError(f"{what}: no data for input {keys[i] if keys else name!r}; "
                                 f"the model's inputs are {keys or names}.")
            found.append(key)
        unknown = [k for k in values if k not in found]
        if unknown:  # Keras 2 ignores them, and says so
            warnings.warn(f"{what}: the dict has keys {unknown} which did not match any model "
                          f"input (the inputs are {keys or names}). They will be ignored by the "
                          "model.", UserWarning, stacklevel=4)
        return [values[key] for key in found]

    def _structured_outputs(self, flat):
        """Per-output values in ``outputs`` order as the model returns them: a dict
        by the output keys for dict outputs, else one value or a list."""
        if self._nested_outputs is not None:
            by_key = dict(zip(sorted(self._nested_outputs), flat))
            return {key: by_key[key] for key in self._nested_outputs}
        return flat[0] if len(flat) == 1 else list(flat)

    def _by_output_name(self, value):
        """A dict keyed by output keys (``Model(outputs={...})``) re-keyed by output
        names, which compile's and fit's per-output arguments use; else unchanged."""
        if not isinstance(value, dict) or self._nested_outputs is None:
            return value
        names = dict(zip(sorted(self._nested_outputs), self.output_names))
        return {names.get(key, key): v for key, v in value.items()}

    def _input_dtype(self):
        return self.inputs[0].layer._dtype

    def integer_inputs(self):
        return [t.layer._data_dtype for t in self.inputs]

    @property
    def output_names(self):
        """The output layers' names, made unique as Keras 2 does: a layer giving two
        outputs (an LSTM's ``return_state``, a layer called twice) is ``rnn``, ``rnn_1``,
        ``rnn_2``, the names that key the losses, metrics and logs of each output."""
        names, counts = [], {}
        for tensor in self.outputs:
            base = name = tensor.layer.name
            while name in names:
                counts[base] = counts.get(base, 0) + 1
                name = f"{base}_{counts[base]}"
            names.append(name)
        return names

    def compute_output_shape(self, input_shape):
        return self._structured_outputs([t.shape for t in self.outputs])

    # --- config: layers, and which node feeds which ----------------------
    def _model_nodes(self, layer):
        """``layer``'s nodes that belong to this model, in creation order."""
        ours = {id(n) for n in self._nodes} | {id(t.node) for t in self.inputs}
        return [n for n in layer._inbound_nodes if id(n) in ours]

    def _tensor_ref(self, tensor):
        """``[layer name, node index within this model, tensor index]``."""
        return [tensor.layer.name, self._model_nodes(tensor.layer).index(tensor.node),
                tensor.tensor_index]

    def get_config(self):
        from minidl.layers import serialize

        layers = []
        for layer in self._layers:
            entry = serialize(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {"inputs": [self._tensor_ref(t) for t in node.inputs], "list_input": node.list_input,
                 **({"kwargs": _config_kwargs(node, layer)} if node.call_kwargs else {})}
                for node in self._model_nodes(layer) if node.inputs
            ]
            layers.append(entry)
        return {
            "name": self.name,
            "layers": layers,
            "input_layers": self._refs(self._nested_inputs, self.inputs),
            "output_layers": self._refs(self._nested_outputs, self.outputs),
        }

    def _refs(self, nested, flat):
        """Keras's config of the inputs or outputs: a list of tensor references, or a
        dict of them for dict inputs or outputs."""
        if nested is not None:
            return {key: self._tensor_ref(t) for key, t in nested.items()}
        return [self._tensor_ref(t) for t in flat]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the layers, then replay their calls in an order where each
        call's inputs already exist."""
        from minidl.layers import deserialize

        layers, pending, produced = {}, {}, {}
        for entry in config["layers"]:
            layer = deserialize(entry, custom_objects)
            name = entry.get("name", layer.name)
            layers[name] = layer
            pending[name] = list(entry.get("inbound_nodes", []))
            if isinstance(layer, InputLayer):
                produced[(name, 0)] = [layer.output]

        def lookup(ref):
            outs = produced.get((ref[0], ref[1]))
            return None if outs is None else outs[ref[2]]

        while any(pending.values()):
            progress = False
            for name, nodes in pending.items():
                while nodes:
                    args = [lookup(ref) for ref in nodes[0]["inputs"]]
                    if any(a is None for a in args):
                        break
                    spec = nodes.pop(0)
                    kwargs = spec.get("kwargs") or {}
                    if not isinstance(kwargs, dict) or not all(
                            isinstance(v, (bool, int, float, str, type(None)))
                            for v in kwargs.values()):
                        raise ValueError(
                            f"Model config {config.get('name')!r}: layer {name!r} has call "
                            f"arguments {kwargs!r}; a config stores only flags and numbers."
                        )
                    out = layers[name](args if spec["list_input"] else args[0], **kwargs)
                    index = sum(1 for key in produced if key[0] == name)
                    produced[(name, index)] = flat_outputs(out)
                    progress = True
            if not progress:
                raise ValueError(
                    f"Model config {config.get('name')!r} is inconsistent: some layer calls "
                    "read tensors that no layer produces."
                )
        def tensors(refs):
            if isinstance(refs, dict):
                return {key: lookup(ref) for key, ref in refs.items()}
            found = [lookup(ref) for ref in refs]
            return found if len(found) > 1 else found[0]

        return cls(inputs=tensors(config["input_layers"]),
                   outputs=tensors(config["output_layers"]), name=config.get("name"))


def _checked_dict(tensors, what):
    """The dict of placeholders given as inputs or outputs (string keys), or None."""
    if not isinstance(tensors, dict):
        return None
    if not tensors or not all(isinstance(key, str) for key in tensors):
        raise TypeError(f"Model({what}=...) as a dict needs string keys and at least one "
                        f"placeholder, received {tensors!r}.")
    return dict(tensors)


def _flat(tensors):
    """A dict's placeholders in the order of its sorted keys (Keras's flattening)."""
    return [tensors[key] for key in sorted(tensors)] if isinstance(tensors, dict) else tensors


def _as_list(tensors, what):
    items = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if any(isinstance(t, (list, tuple)) for t in items):
        raise TypeError(
            f"Model({what}=...) takes one placeholder or a flat list of them; minidl does not "
            f"nest them as Keras 2 may (received {_nesting(tensors)}, e.g. an RNN over stacked "
            "cells with return_state gives [output, [h1, c1], h2]). Pass them flat: "
            f"{what}=[output, h1, c1, h2].")
    if not items or not all(isinstance(t, KerasTensor) for t in items):
        raise TypeError(
            f"Model({what}=...) takes the placeholders made by Input() and by calling layers "
            f"on them, received {tensors!r}."
        )
    return items


def _nesting(tensors):
    """The shape of a nest of placeholders, for messages: ``[t, [t, t], t]``."""
    if isinstance(tensors, (list, tuple)):
        return "[" + ", ".join(_nesting(t) for t in tensors) + "]"
    return "t"


def _config_kwargs(node, layer):
    """A layer call's keyword arguments as config data: plain flags and numbers only
    (``training=False``, MultiHeadAttention's ``use_causal_mask=True``)."""
    plain = (bool, int, float, str, type(None))
    unstorable = [name for name, value in node.call_kwargs.items() if type(value) not in plain]
    if unstorable or node.call_args:
        raise NotImplementedError(
            f'Layer "{layer.name}" was called with extra arguments '
            f"{unstorable or list(node.call_args)}, which a model config cannot "
            "store; save the weights with save_weights() and rebuild the model in code."
        )
    return dict(node.call_kwargs)
