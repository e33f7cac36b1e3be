"""Writing Keras 3 ``.keras`` files: ``model.save("model.keras")``.

Keras 3's ``.keras`` file is a zip archive (members stored, not compressed)::

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         {"module": "keras", "class_name": "Sequential" | "Functional",
                         "config": {...}, "registered_name": ..., "build_config": {...},
                         "compile_config": {...} or absent}
    model.weights.h5    HDF5, one group per object Keras tracks:
                        layers/<snake_case class name>[_<n>]/vars/0, 1, ...
                        (numbered per class in the order of Keras's ``model.layers``),
                        layers/lstm/cell/vars/... for a recurrent layer,
                        optimizer/vars/0 (iterations), 1 (learning rate), then the slots,
                        each ``vars`` group carrying the object's name (attribute "name").

This module turns a minidl Sequential or functional model into those three members:
each layer's Keras-2-style config (minidl's) becomes Keras 3's serialized form
(``module``/``class_name``/``config``/``registered_name``/``build_config``, dtypes as
``DTypePolicy``, initializers and regularizers with their module), a functional model's
calls become Keras 3's ``inbound_nodes`` (``{"args": [keras tensors], "kwargs": {}}``),
and its layers are listed in the order Keras 3 itself rebuilds them (``_keras_order``,
the depth-then-traversal order of Keras's ``map_graph``) -- the order that numbers the
HDF5 groups and the optimizer's slots.

Only models Keras can rebuild are written this way: layers of the classes in
``_LAYERS`` (minidl's own, not subclasses), activations Keras 3 has, no nested models,
no calls with extra arguments.  ``plan`` raises ``NotKerasWritable`` naming what
stands in the way; ``saving.save_model`` then writes minidl's own layout and warns.
Keras gets the compile state (``compile_config`` and the optimizer's variables) when the
optimizer is one of ``_OPTIMIZER_SLOTS`` with a constant learning rate and the loss and
metrics are given by name; otherwise Keras loads the model uncompiled.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np

# minidl layer classes Keras 3 has under the same name and arguments (checked against
# Keras 3.15's signatures), with the HDF5 sub-path of their variables.
_LAYERS = {
    "InputLayer", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "BatchNormalization",
    "Activation", "ReLU", "Softmax", "LeakyReLU", "Add", "Subtract", "Multiply", "Average",
    "Maximum", "Minimum", "Concatenate", "Reshape", "ZeroPadding1D", "ZeroPadding2D",
    "UpSampling1D", "UpSampling2D", "Cropping1D", "Rescaling",
    "Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "AlphaDropout",
    "UnitNormalization", "Conv3D", "MaxPooling3D", "AveragePooling3D",
    "GlobalAveragePooling3D", "GlobalMaxPooling3D", "UpSampling3D", "ZeroPadding3D",
    "Cropping3D",
}
_RECURRENT = {"LSTM", "GRU", "SimpleRNN"}  # variables under layers/<name>/cell/vars
# minidl-only arguments: dropped when they have the value Keras 3 behaves as
# (``implementation`` only chooses how minidl computes), else the model is not writable.
_DROPPED = {"time_major": False, "input_length": None}
_ALWAYS_DROPPED = {"implementation", "batch_input_shape", "input_shape"}
# Keras 3 classes whose __init__ takes no **kwargs: the base Layer's arguments they lack
_CLASS_DROPPED = {"SpatialDropout1D": {"trainable": True, "noise_shape": None},
                  "SpatialDropout2D": {"trainable": True, "noise_shape": None},
                  "SpatialDropout3D": {"trainable": True, "noise_shape": None}}
_RENAMED = {("LeakyReLU", "alpha"): "negative_slope"}
_ACTIVATIONS = {
    "celu", "elu", "exponential", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish",
    "leaky_relu", "linear", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu",
    "softmax", "softplus", "softsign", "swish", "tanh",
}
_INITIALIZERS = {"Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                 "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal",
                 "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "Identity"}
_REGULARIZERS = {"L1", "L2", "L1L2"}
_CONSTRAINTS = {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}  # (Keras 3 has no RadialConstraint)
# Keras 3's optimizer variables after iterations and learning_rate: slot lists built by
# ``add_optimizer_variables``; a tuple of names is interleaved per weight, lists follow
# one another.  Values: minidl's slot names, grouped the way Keras builds them.
_OPTIMIZER_SLOTS = {
    "SGD": lambda o: [("momentum",)] if o.momentum > 0 else [],
    "Adam": lambda o: [("m", "v")] + ([("v_max",)] if o.amsgrad else []),
    "RMSprop": lambda o: [("rms",)] + ([("momentum",)] if o.momentum > 0 else []),
    "Adagrad": lambda o: [("accumulator",)],
    "Adamax": lambda o: [("m", "u")],
}
_OPTIMIZER_KEYS = {"name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm",
                   "clipvalue", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum",
                   "nesterov", "rho", "initial_accumulator_value"}
KERAS_VERSION = "3.15.1"  # the Keras whose format this follows


class NotKerasWritable(Exception):
    """The model has something Keras 3 cannot rebuild; the message says what."""


@dataclass
class KerasPlan:
    """What ``write`` puts in the archive: Keras's config, and for each of
    ``model.weights`` (in minidl's order) its dataset path in model.weights.h5."""
    config: dict
    weight_paths: list
    groups: list = field(default_factory=list)  # (vars group path, object name), all layers
    trainable_order: list = field(default_factory=list)  # model.trainable_weights, Keras's order


def to_snake_case(name):
    """Keras's ``naming.to_snake_case``: ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# --- the architecture ----------------------------------------------------------
def plan(model):
    """The ``KerasPlan`` of a built Sequential or functional ``model``, or
    ``NotKerasWritable`` naming the first thing Keras 3 could not rebuild."""
    from minidl.models.functional import Functional
    from minidl.models.sequential import Sequential

    if type(model) is Sequential:
        layers = list(model.layers)
        config = _sequential_config(model, layers)
    elif type(model) is Functional:
        layers = _keras_order(model)
        config = _functional_config(model, layers)
        _check_merged_masks(model)
    else:
        raise NotKerasWritable(
            f'model "{model.name}" is a {type(model).__name__}; Keras 3 rebuilds Sequential '
            "and functional models from a file, not subclassed ones.")
    weight_paths, groups, used = {}, [("vars", model.name)], {}
    trainable_order = []
    for layer in layers:
        base = to_snake_case(type(layer).__name__)
        used[base] = used.get(base, -1) + 1
        path = f"layers/{base}" + (f"_{used[base]}" if used[base] else "")
        for weight, weight_path in _variable_paths(layer, path, groups):
            weight_paths[id(weight)] = weight_path
            if _is_trainable(layer, weight):
                trainable_order.append(weight)
    return KerasPlan(config=config, weight_paths=[weight_paths[id(w)] for w in model.weights],
                     groups=groups, trainable_order=trainable_order)


def _is_trainable(layer, weight):
    return any(w is weight for w in layer.trainable_weights)


def _variable_paths(layer, path, groups):
    """``[(weight, dataset path)]`` of ``layer``'s weights in model.weights.h5, in Keras's
    order (a layer's variables created trainable, then the others -- batch normalization's
    moving statistics -- whether or not it is frozen); appends the ``vars`` groups Keras
    writes for the layer (and its cell, or its wrapped layers) to ``groups``."""
    groups.append((f"{path}/vars", layer.name))
    class_name = type(layer).__name__
    if class_name == "Bidirectional":
        found = []
        for attribute in ("forward_layer", "backward_layer"):
            found += _variable_paths(getattr(layer, attribute), f"{path}/{attribute}", groups)
        return found
    if layer._sublayers():
        raise NotKerasWritable(f'layer "{layer.name}" holds other layers, which this writer '
                               "does not translate.")
    if class_name in _RECURRENT:
        path += "/cell"
        groups.append((f"{path}/vars", f"{to_snake_case(class_name)}_cell"))
    ordered = list(layer._own_trainable) + list(layer._own_non_trainable)
    return [(weight, f"{path}/vars/{i}") for i, weight in enumerate(ordered)]


def _layer_entry(layer):
    """Keras 3's serialized form of one minidl layer (None for an InputLayer, written
    from the model's inputs)."""
    import minidl.layers

    class_name = type(layer).__name__
    if getattr(minidl.layers, class_name, None) is not type(layer) or class_name not in _LAYERS:
        from minidl.models.model import Model

        what = "a model inside the model" if isinstance(layer, Model) else (
            f"a {class_name}, which Keras 3 has no built-in layer for" if
            getattr(minidl.layers, class_name, None) is not type(layer) else
            f"a {class_name}, which this writer does not translate")
        raise NotKerasWritable(f'layer "{layer.name}" is {what}.')
    if class_name == "InputLayer":
        return None
    entry = _translate(class_name, layer.get_config(), layer.name)
    shape = getattr(layer, "_build_input_shape", None)
    if shape is not None:
        entry["build_config"] = {"input_shape": _shape_list(shape)}
    return entry


def _translate(class_name, minidl_config, name):
    """``{"module", "class_name", "config", "registered_name"}`` of a minidl layer config."""
    if class_name not in _LAYERS:
        raise NotKerasWritable(f'layer "{name}" is a {class_name}, which this writer does not '
                               "translate.")
    config = {}
    dropped = {**_DROPPED, **_CLASS_DROPPED.get(class_name, {})}
    for key, value in minidl_config.items():
        if key in _ALWAYS_DROPPED:
            continue
        if key in dropped:
            if value != dropped[key]:
                raise NotKerasWritable(f'layer "{name}" ({class_name}) has {key}={value!r}, '
                                       "which Keras 3's layer does not have.")
            continue
        if class_name == "Bidirectional" and key in ("layer", "backward_layer"):
            if value is not None:
                inner = value["config"]
                config[key] = _translate(value["class_name"], inner, inner.get("name", name))
            continue
        config[_RENAMED.get((class_name, key), key)] = _value(name, key, value)
    return {"module": "keras.layers", "class_name": class_name, "config": config,
            "registered_name": None}


def _value(name, key, value):
    """A config value in Keras 3's form; what Keras 3 lacks raises NotKerasWritable."""
    if key == "dtype":
        return {"module": "keras", "class_name": "DTypePolicy",
                "config": {"name": value}, "registered_name": None}
    if key == "activation" or key == "recurrent_activation":
        if not (isinstance(value, str) and value in _ACTIVATIONS):
            raise NotKerasWritable(f'layer "{name}" has {key}={value!r}, which is not one '
                                   "of Keras 3's activations.")
        return value
    if isinstance(value, dict) and "class_name" in value:
        if key.endswith("_initializer") and value["class_name"] in _INITIALIZERS:
            module = "keras.initializers"
        elif key.endswith("_regularizer") and value["class_name"] in _REGULARIZERS:
            module = "keras.regularizers"
        elif key.endswith("_constraint") and value["class_name"] in _CONSTRAINTS:
            module = "keras.constraints"
        else:
            raise NotKerasWritable(f'layer "{name}" has {key}={value!r}, which Keras 3 '
                                   "has no built-in counterpart for.")
        return {"module": module, "class_name": value["class_name"],
                "config": dict(value.get("config") or {}), "registered_name": None}
    if isinstance(value, tuple):
        return list(value)
    return value


def _shape_list(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [_shape_list(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _input_entry(name, shape, dtype):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": _shape_list(shape), "dtype": str(dtype), "sparse": False,
                       "ragged": False, "name": name, "optional": False},
            "registered_name": None}


def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": str(dtype)},
            "registered_name": None}


def _sequential_config(model, layers):
    shape = _shape_list(model.input_shapes[0])
    input_layer = getattr(model, "_input_layer", None)
    name = input_layer.name if input_layer is not None else "input_layer"
    entries = [_input_entry(name, shape, _input_dtype(model))]
    entries += [_layer_entry(layer) for layer in layers]
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": model.name, "trainable": model.trainable,
                       "dtype": _policy("float32"), "layers": entries,
                       "build_input_shape": shape},
            "registered_name": None, "build_config": {"input_shape": shape}}


def _input_dtype(model):
    return str(np.dtype(model._input_dtype()))


def _keras_order(model):
    """``model``'s layers in the order Keras 3's ``Functional`` lists them
    (``keras.src.ops.function.map_graph``): a depth-first walk from each output gives
    every node, and every layer the index of its first visit; each node's depth is its
    distance from the outputs (the largest, over paths), a layer's the largest of its
    nodes'; layers come by decreasing depth, ties by first visit."""
    order, finished, visits = [], set(), {}

    def walk(tensor):
        node = tensor.node
        if id(node) in finished:
            return
        visits.setdefault(id(tensor.layer), len(visits))
        for parent in node.inputs:
            walk(parent)
        finished.add(id(node))
        order.append(node)

    for output in model.outputs:
        walk(output)
    node_depth, layer_depth, layers = {}, {}, {}
    in_graph = {id(n) for n in order}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for tensor in node.inputs:
            if id(tensor.node) in in_graph:
                node_depth[id(tensor.node)] = max(depth + 1, node_depth.get(id(tensor.node), 0))
    for tensor in model.inputs:  # inputs no output depends on
        if id(tensor.layer) not in layer_depth:
            layer_depth[id(tensor.layer)], visits[id(tensor.layer)] = 0, -1
            layers[id(tensor.layer)] = tensor.layer
    keys = sorted(layers, key=lambda k: (-layer_depth[k], visits[k]))
    return [layers[k] for k in keys]


def _check_merged_masks(model):
    """Refuse a model in which a timestep mask reaches a merge layer: Keras 3's merge
    layers OR their inputs' masks and fill masked values from the other inputs, where
    minidl (as Keras 2) ANDs them, so Keras 3 would predict something else.  Masks are
    followed from ``Embedding(mask_zero=True)`` and ``Masking`` as minidl passes them."""
    from minidl.layers import Bidirectional, Embedding, Masking
    from minidl.layers.recurrent import _Recurrent

    masked, done = set(), set()  # ids of the KerasTensors that carry a mask

    def visit(tensor):
        node = tensor.node
        if id(node) in done:
            return
        done.add(id(node))
        for parent in node.inputs:
            visit(parent)
        layer = node.layer
        incoming = any(id(t) in masked for t in node.inputs)
        if (incoming and node.list_input and layer.supports_masking
                and not isinstance(layer, (_Recurrent, Bidirectional))):  # [x, *states]
            raise NotKerasWritable(
                f'layer "{layer.name}" ({type(layer).__name__}) merges timestep masks, which '
                "Keras 3 combines differently (logical OR) from minidl and Keras 2 (AND)")
        if isinstance(layer, Embedding):
            out = layer.mask_zero
        elif isinstance(layer, Masking):
            out = True
        elif isinstance(layer, (_Recurrent, Bidirectional)):
            out = incoming and layer.return_sequences
        else:
            out = incoming and layer.supports_masking
        if out:
            masked.update(id(t) for t in node.outputs[:1])

    for output in model.outputs:
        visit(output)


def _keras_tensor(tensor, model):
    ref = model._tensor_ref(tensor)
    return {"class_name": "__keras_tensor__",
            "config": {"shape": _shape_list(tensor.shape), "dtype": str(np.dtype(tensor.dtype)),
                       "keras_history": ref}}


def _functional_config(model, layers):
    from minidl.layers import InputLayer

    entries = []
    for layer in layers:
        if isinstance(layer, InputLayer):
            tensor = next(t for t in model.inputs if t.layer is layer)
            entry = _input_entry(layer.name, tensor.shape, np.dtype(tensor.dtype))
            entry.update(name=layer.name, inbound_nodes=[])
            entries.append(entry)
            continue
        entry = _layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = []
        for node in model._model_nodes(layer):
            if node.call_args or set(node.call_kwargs) - {"training"} or node.captured:
                raise NotKerasWritable(f'layer "{layer.name}" is called with arguments or tensors '
                                       "besides its inputs, which this writer does not translate.")
            tensors = [_keras_tensor(t, model) for t in node.inputs]
            entry["inbound_nodes"].append({"args": [tensors if node.list_input else tensors[0]],
                                           "kwargs": dict(node.call_kwargs)})
        entries.append(entry)

    def refs(nested, tensors):  # a dict for dict inputs/outputs, as Keras 3 writes them
        if nested is not None:
            return {key: model._tensor_ref(t) for key, t in nested.items()}
        found = [model._tensor_ref(t) for t in tensors]
        return found if len(found) > 1 else found[0]

    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model.name, "trainable": model.trainable, "layers": entries,
                       "input_layers": refs(model._nested_inputs, model.inputs),
                       "output_layers": refs(model._nested_outputs, model.outputs)},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


# --- compile state -----------------------------------------------------------------
def optimizer_variables(model, optimizer, keras_plan):
    """``(keras optimizer config, [(dataset path, array), ...], minidl slot paths)`` of
    ``optimizer`` as Keras 3 stores it, or None when Keras 3's layout of this optimizer is
    not known here (or its learning rate is a schedule)."""
    from minidl import optimizers

    serialized = optimizers.serialize(optimizer)
    layout = _OPTIMIZER_SLOTS.get(serialized["class_name"])
    config = serialized["config"]
    if layout is None or not isinstance(config.get("learning_rate"), (int, float)) or (
            set(config) - _OPTIMIZER_KEYS):
        return None
    state = optimizer.get_state(list(model.trainable_weights))
    names = list(optimizer.slot_names())
    index = {id(w): i for i, w in enumerate(model.trainable_weights)}
    arrays = [("optimizer/vars/0", np.asarray(state["iterations"], dtype=np.int64)),
              ("optimizer/vars/1", np.asarray(config["learning_rate"], dtype=np.float32))]
    slot_paths = [[None] * len(names) for _ in model.trainable_weights]
    for group in layout(optimizer):
        for weight in keras_plan.trainable_order:
            for slot in group:
                path = f"optimizer/vars/{len(arrays)}"
                i, j = index[id(weight)], names.index(slot)
                arrays.append((path, state["slots"][i][j]))
                slot_paths[i][j] = path
    keras_config = {"module": "keras.optimizers", "class_name": serialized["class_name"],
                    "config": dict(config), "registered_name": None}
    return keras_config, arrays, slot_paths


def compile_config(compile_args, optimizer_config):
    """Keras 3's ``compile_config``, or None if the loss or a metric is not a name."""
    def named(value):
        if value is None or isinstance(value, str):
            return True
        if isinstance(value, (list, tuple)):
            return all(named(v) for v in value)
        if isinstance(value, dict):
            return all(named(v) for v in value.values())
        return False

    args = compile_args
    if not all(named(args.get(k)) for k in ("loss", "metrics", "weighted_metrics")):
        return None
    weights = args.get("loss_weights")
    return {"optimizer": optimizer_config, "loss": args["loss"], "loss_weights": weights,
            "metrics": args.get("metrics"), "weighted_metrics": args.get("weighted_metrics"),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


# --- the HDF5 member -----------------------------------------------------------------
def weights_h5(h5py, groups, datasets, optimizer_name=None):
    """The bytes of model.weights.h5: a ``vars`` group (with its object's name) for every
    entry of ``groups``, and every ``(path, array)`` of ``datasets``."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        for path, name in groups:
            handle.require_group(path).attrs["name"] = name
        if optimizer_name is not None:
            handle.require_group("optimizer/vars").attrs["name"] = optimizer_name
        for path, array in datasets:
            handle.create_dataset(path, data=np.asarray(array))
    return buffer.getvalue()
