"""Keras 2's HDF5 files: ``model.save("model.h5")`` and ``model.save_weights("w.h5")``.

This is the layout tf_keras 2.21 writes (its legacy ``hdf5_format``), shown for a
Sequential model of a Dense, a BatchNormalization, a Dropout and a Dense, compiled
with Adam::

    /                             attributes keras_version "2.21.0", backend,
                                  model_config    JSON {"class_name": "Sequential",
                                                        "config": model.get_config()}
                                  training_config JSON {"loss", "metrics", "weighted_metrics",
                                                        "loss_weights", "optimizer_config"}
    /model_weights                attributes layer_names [every layer of model.layers],
                                  backend, keras_version
        dense/                    attribute weight_names ["dense/kernel:0", "dense/bias:0"]
            dense/kernel:0        a dataset named by its weight's name: one group more
            dense/bias:0
        batch_normalization/      gamma, beta, moving_mean, moving_variance
        dropout/                  weight_names [] (a layer without weights)
        dense_1/ ...
        top_level_model_weights/  weight_names []
    /optimizer_weights            attribute weight_names, in the optimizer's own order:
        iteration:0               int64, the steps taken
        Adam/m/dense/kernel:0     then, weight by weight, Adam's m and v
        Adam/v/dense/kernel:0 ...

A recurrent layer's weights are its cell's (``lstm/lstm_cell/kernel:0``), a
Bidirectional's its two layers' (``bidirectional/forward_lstm/lstm_cell/kernel:0``,
then ``backward_lstm``), a nested model's all its inner layers' (``conv2d/kernel:0``).
Every layer lists its trainable weights first, then the others (Keras 2's "legacy"
order).  A weights-only file (``save_weights``) is the ``model_weights`` group's
contents at the root of the file.  ``include_optimizer=False`` or an uncompiled
model writes neither ``training_config`` nor ``optimizer_weights``.

Keras 2 loads the weights by position: the model's layers that have weights, in order,
against the file's layers whose ``weight_names`` are not empty.  So does minidl
(``keras_files.load_keras_h5``, ``load_h5_weights``), which also reads back the compile
state written here (``compile_from_training_config``).

The optimizer's variables follow ``iteration:0`` in the order its ``build`` creates
them (``_slot_groups``): Adam's m and v weight by weight, then amsgrad's vhat for every
weight; RMSprop's velocity for every weight, then its momentum.  An optimizer with
Keras 2's legacy ``decay`` is one of ``tf.keras.optimizers.legacy``: its variables are
``RMSprop/iter:0`` and ``RMSprop/dense/kernel/rms:0``, each slot for every weight in turn.
"""

from __future__ import annotations

import io
import json

import numpy as np

from minidl.models.model_config import json_default
from minidl.utils.file_checks import FileFormatError

KERAS_VERSION = "2.21.0"  # the tf_keras whose format this follows
_MODELS = ("Sequential", "Functional")
_HEADER_LIMIT = 64512  # bytes: a longer list attribute is split ("layer_names0", "layer_names1")

# Keras 2's optimizer variables after the step count: groups that follow one another,
# each a tuple of (Keras's slot name, minidl's slot name) taken weight by weight.  A
# minidl name of None is a slot minidl does not keep (SGD's momentum when it is 0):
# written as zeros, ignored when read.
_SLOT_GROUPS = {
    "SGD": lambda o: [(("m", "momentum" if o.momentum > 0 else None),)],
    "RMSprop": lambda o: [(("velocity", "rms"),)] + (
        [(("momentum", "momentum"),)] if o.momentum > 0 else []),
    "Adam": lambda o: [(("m", "m"), ("v", "v"))] + ([(("vhat", "v_max"),)] if o.amsgrad else []),
    "AdamW": lambda o: [(("m", "m"), ("v", "v"))] + ([(("vhat", "v_max"),)] if o.amsgrad else []),
    "Adagrad": lambda o: [(("accumulator", "accumulator"),)],
    "Adadelta": lambda o: [(("accumulated_grad", "accumulated_grad"),
                            ("accumulated_delta_var", "accumulated_delta_var"))],
    "Adamax": lambda o: [(("m", "m"), ("u", "u"))],
    "Nadam": lambda o: [(("m", "m"), ("v", "v"))],
    "Ftrl": lambda o: [(("accumulator", "accumulator"), ("linear", "linear"))],
}
# tf.keras.optimizers.legacy (what an optimizer with ``decay`` is in Keras 2): every
# slot for every weight in turn, except Ftrl's, taken weight by weight.
_LEGACY_SLOT_GROUPS = {
    "SGD": lambda o: [(("momentum", "momentum"),)] if o.momentum > 0 else [],
    "RMSprop": lambda o: [(("rms", "rms"),)] + (
        [(("momentum", "momentum"),)] if o.momentum > 0 else []),
    "Adam": lambda o: [(("m", "m"),), (("v", "v"),)] + ([(("vhat", "v_max"),)] if o.amsgrad else []),
    "Adagrad": lambda o: [(("accumulator", "accumulator"),)],
    "Adadelta": lambda o: [(("accum_grad", "accumulated_grad"),), (("accum_var", "accumulated_delta_var"),)],
    "Adamax": lambda o: [(("m", "m"),), (("v", "u"),)],
    "Ftrl": lambda o: [(("accumulator", "accumulator"), ("linear", "linear"))],
}
# What tf_keras's new optimizers add to their config (minidl's have none of it).
_KERAS_OPTIMIZER_KEYS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                         "jit_compile": False, "is_legacy_optimizer": False}
_SUBCLASSED = (
    "Saving the model to HDF5 format requires the model to be a Functional model or a "
    "Sequential model. It does not work for subclassed models, because such models are "
    "defined via the body of a Python method, which isn't safely serializable. Save it with "
    "a name that does not end in .h5 (minidl's own format, given get_config()), or use "
    "save_weights().")


# --- writing ------------------------------------------------------------------------
def check_writable(model):
    """Refuse, as tf_keras does, a model that is neither Sequential nor functional."""
    from minidl.models.functional import Functional
    from minidl.models.sequential import Sequential

    if not isinstance(model, (Functional, Sequential)):
        raise NotImplementedError(f'model "{model.name}": {_SUBCLASSED}')


def model_config(architecture):
    """Keras 2's ``model_config`` of minidl's ``{"class_name", "config"}``: a functional
    model's calls in Keras 2's form, ``[[layer, node, tensor, kwargs], ...]`` per call,
    with a nested model's node numbers one up (Keras 2 counts the call its own inputs
    made as node 0), in models inside models too."""
    config = dict(architecture["config"])
    if isinstance(config.get("layers"), list):
        config["layers"] = [model_config(entry) if entry.get("class_name") in _MODELS else entry
                            for entry in config["layers"]]
    if architecture["class_name"] != "Functional":
        return {**architecture, "config": config}
    nested = {entry["name"] for entry in config["layers"] if entry.get("class_name") in _MODELS}

    def ref(reference, kwargs=None):
        name, node, tensor = reference
        found = [name, node + (name in nested), tensor]
        return found if kwargs is None else [*found, kwargs]

    layers = []
    for entry in config["layers"]:
        calls = [[ref(r, call.get("kwargs") or {}) for r in call["inputs"]]
                 for call in entry.get("inbound_nodes", [])]
        layers.append({**entry, "inbound_nodes": calls})
    def refs(references):  # a dict for a model's dict inputs or outputs, as tf_keras
        if isinstance(references, dict):
            return {key: ref(r) for key, r in references.items()}
        return [ref(r) for r in references]

    config.update(layers=layers, input_layers=refs(config["input_layers"]),
                  output_layers=refs(config["output_layers"]))
    return {**architecture, "config": config}


def model_h5(h5py, model, model_config, training_config, optimizer):
    """The bytes of the whole-model file (``training_config`` and ``optimizer`` None
    for a model saved uncompiled or without its optimizer)."""
    def write(handle):
        handle.attrs["keras_version"] = KERAS_VERSION
        handle.attrs["backend"] = "minidl"
        handle.attrs["model_config"] = _json_bytes(model_config)
        if training_config is not None:
            handle.attrs["training_config"] = _json_bytes(training_config)
        _write_weights(handle.create_group("model_weights"), model)
        if optimizer is not None:
            _write_optimizer(handle, model, optimizer)

    return _h5_bytes(h5py, write)


def weights_h5(h5py, model):
    """The bytes of the weights-only file of ``save_weights``."""
    return _h5_bytes(h5py, lambda handle: _write_weights(handle, model))


def _h5_bytes(h5py, write):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        write(handle)
    return buffer.getvalue()


def _json_bytes(value):
    return json.dumps(value, default=json_default).encode("utf8")


def keras2_layers(model):
    """``model.layers`` in Keras 2's order: a functional model's by decreasing depth, then
    order of first visit from the outputs (tf_keras's ``_map_graph_network``, which Keras 3
    kept: ``keras_writer._keras_order``).  Positions in the file follow it."""
    from minidl.models.functional import Functional
    from minidl.models.keras_writer import _keras_order

    return _keras_order(model) if isinstance(model, Functional) else list(model.layers)


def keras2_weights(layer, trainable):
    """Keras 2's ``layer.trainable_weights`` (or ``non_trainable_weights``): a nested
    model's gathered from its layers in Keras 2's order; a frozen one's all non-trainable."""
    from minidl.models.model import Model

    if not isinstance(layer, Model):
        return list(layer.trainable_weights if trainable else layer.non_trainable_weights)
    children = keras2_layers(layer)
    if not layer.trainable:
        return [] if trainable else [w for child in children for w in legacy_weights(child)]
    return [w for child in children for w in keras2_weights(child, trainable)]


def legacy_weights(layer):
    """A layer's (or nested model's) weights in Keras 2's h5 order: trainable, then the rest."""
    return keras2_weights(layer, True) + keras2_weights(layer, False)


def _write_weights(group, model):
    layers = keras2_layers(model)
    _write_list(group, "layer_names", [layer.name.encode("utf8") for layer in layers])
    group.attrs["backend"] = b"minidl"
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layer in sorted(layers, key=lambda layer: layer.name):  # as tf_keras: by name
        _write_arrays(group.create_group(layer.name), legacy_weights(layer), layer.name)
    _write_arrays(group.create_group("top_level_model_weights"), [], model.name)


def _write_arrays(group, weights, owner):
    """``weight_names`` and one dataset per weight, named by the weight (``dense/kernel:0``)."""
    names = [f"{weight.name or 'Variable'}:0" for weight in weights]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f'save(): layer "{owner}" has two weights named {twice[0]!r}; an .h5 '
                         "file names each dataset by its weight. Give the layers distinct names.")
    _write_list(group, "weight_names", [name.encode("utf8") for name in names])
    for name, weight in zip(names, weights):
        group.create_dataset(name, data=np.asarray(weight.data))


def _write_list(group, name, items):
    """A list of names as one attribute, or -- past HDF5's header limit -- as
    ``name0``, ``name1``, ... (tf_keras's ``save_attributes_to_hdf5_group``)."""
    array = np.asarray(items)
    chunks = 1
    while any(part.nbytes > _HEADER_LIMIT for part in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = items
    else:
        for i, part in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{i}"] = part


def _write_optimizer(handle, model, optimizer):
    names, arrays = optimizer_variables(model, optimizer)
    group = handle.create_group("optimizer_weights")
    _write_list(group, "weight_names", [name.encode("utf8") for name in names])
    for name, array in zip(names, arrays):
        group.create_dataset(name, data=array)


def slot_groups(optimizer, legacy):
    """``_SLOT_GROUPS`` (or ``_LEGACY_SLOT_GROUPS``) of ``optimizer``; for a class Keras 2
    has no layout of here, minidl's own slots weight by weight."""
    from minidl.utils.object_registration import get_registered_name

    table = _LEGACY_SLOT_GROUPS if legacy else _SLOT_GROUPS
    layout = table.get(get_registered_name(type(optimizer)))
    if layout is None:
        return [tuple((name, name) for name in optimizer.slot_names())]
    return layout(optimizer)


def is_legacy(optimizer):
    """Whether Keras 2 would hold ``optimizer`` as a ``tf.keras.optimizers.legacy`` one
    (Keras 2's new optimizers take no ``decay``)."""
    from minidl.utils.object_registration import get_registered_name

    return bool(optimizer.decay) and get_registered_name(type(optimizer)) in _LEGACY_SLOT_GROUPS


def optimizer_variables(model, optimizer):
    """``(names, arrays)`` of the optimizer's variables, in Keras 2's order and names."""
    legacy = is_legacy(optimizer)
    weights = keras2_weights(model, True)  # the order Keras 2 builds the optimizer in
    state = optimizer.get_state(weights)
    slots = {name: i for i, name in enumerate(optimizer.slot_names())}
    prefix = optimizer.name
    names = [f"{prefix}/iter:0" if legacy else "iteration:0"]
    arrays = [np.asarray(state["iterations"], dtype=np.int64)]
    for group in slot_groups(optimizer, legacy):
        for i, weight in enumerate(weights):
            for keras_slot, minidl_slot in group:
                weight_name = weight.name or "Variable"
                names.append(f"{prefix}/{weight_name}/{keras_slot}:0" if legacy
                             else f"{prefix}/{keras_slot}/{weight_name}:0")
                arrays.append(np.zeros(weight.shape, weight.dtype) if minidl_slot is None
                              else state["slots"][i][slots[minidl_slot]])
    return names, arrays


def training_config(model, optimizer):
    """Keras 2's ``training_config``: the compile arguments, the metrics as the objects
    ``fit`` made of them (one list per output), and the optimizer's config."""
    from minidl import optimizers

    args = model._compile_args
    built = getattr(model.compiled_metrics, "_metrics", None) is not None
    metrics, weighted = args["metrics"], args["weighted_metrics"]
    if built:
        container = model.compiled_metrics
        metrics = None if metrics is None else _metric_lists(container._metrics)
        weighted = None if weighted is None else _metric_lists(container._weighted)
    else:
        metrics, weighted = _nested(metrics, _metric_entry), _nested(weighted, _metric_entry)
    serialized = optimizers.serialize(optimizer)
    config = dict(serialized["config"])
    if is_legacy(optimizer):
        config = {k: v for k, v in config.items() if v is not None and k != "weight_decay"}
    else:
        config.update(_KERAS_OPTIMIZER_KEYS)
        if serialized["class_name"] == "RMSprop":  # (what tf_keras's RMSprop has by default)
            config["ema_overwrite_frequency"] = 100
    if serialized["class_name"] == "RMSprop":
        config["centered"] = False
    class_name = serialized["class_name"]
    if not is_legacy(optimizer) and class_name in _SLOT_GROUPS:
        class_name = f"Custom>{class_name}"  # how tf_keras 2.21 registers its new optimizers
    return {"loss": _nested(args["loss"], _loss_entry),
            "metrics": metrics, "weighted_metrics": weighted, "loss_weights": args["loss_weights"],
            "optimizer_config": {"class_name": class_name, "config": config}}


def _nested(value, serialize):
    """A compile argument (one object, a list, a dict by output) with each object
    (de)serialized; ``{"class_name": ...}`` is one serialized object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and "class_name" in value:
        return serialize(value)
    if isinstance(value, dict):
        return {key: _nested(v, serialize) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested(v, serialize) for v in value]
    return serialize(value)


def _loss_entry(loss):
    """One loss as Keras 2 serializes it: a name; a class with its config and the name of
    the function it wraps (``fn``); your own by the name ``custom_objects`` finds it by."""
    from minidl import losses

    found = losses.serialize(loss)
    if isinstance(found, dict) and callable(getattr(loss, "fn", None)):
        return {"class_name": found["class_name"],
                "config": {**loss.get_config(), "fn": loss.fn.__name__}}
    return found or _own_name(loss)


def _metric_lists(groups):
    """The built metric objects, one list per output (``[None]`` for an output without)."""
    return [[_metric_entry(metric) for metric in group] or [None] for group in groups]


def _metric_entry(metric):
    """One metric as Keras 2 serializes it: ``MeanMetricWrapper`` with its function's name
    for a metric given as a name or function, else the class and its config."""
    from minidl import metrics as metrics_module

    if isinstance(metric, str):
        return metric
    if type(metric) is metrics_module.MeanMetricWrapper:
        return {"class_name": "MeanMetricWrapper",
                "config": {"name": metric.name, "dtype": "float32", "fn": _own_name(metric.fn)}}
    found = metrics_module.serialize(metric)
    if found is not None:
        return found
    if isinstance(metric, metrics_module.Metric):
        return {"class_name": _own_name(type(metric)), "config": metric.get_config()}
    return _own_name(metric)


def _own_name(value):
    """The name your own loss, metric or class is found again by (``custom_objects``)."""
    from minidl.utils.object_registration import get_registered_name

    target = value if hasattr(value, "__name__") else type(value)
    return get_registered_name(target)


# --- reading the compile state ------------------------------------------------------
def compile_from_training_config(model, config, optimizer_group, label, read_dataset):
    """Compile ``model`` as ``training_config`` says and restore its optimizer's variables
    from ``optimizer_group`` (None: a fresh optimizer).  ``read_dataset(group, name,
    shape)`` reads one dataset, checked.  A loss, metric or optimizer of your own that
    ``custom_objects`` does not give is a ValueError saying so."""
    from minidl import losses

    outputs = list(model._output_names_or_default())
    try:
        optimizer = _optimizer(config["optimizer_config"])
        loss = _nested(config.get("loss"), lambda entry: losses.deserialize(_loss_config(entry)))
        metrics, names = _read_metrics(config.get("metrics"), outputs)
        weighted, _ = _read_metrics(config.get("weighted_metrics"), outputs, names)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted,
                      loss_weights=config.get("loss_weights"))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ValueError(
            f"{label}: cannot compile the model as it was saved ({type(error).__name__}: {error}). "
            "A loss, metric or optimizer of your own must be given in custom_objects; or load "
            "it with compile=False and compile it yourself.") from None
    if optimizer_group is not None:
        _restore_optimizer(model, optimizer_group, label, read_dataset)


def _optimizer(entry):
    """The minidl optimizer of Keras 2's ``optimizer_config`` (``Custom>Adam``: tf_keras's
    name of its own Adam); arguments minidl lacks are dropped when they change nothing."""
    from minidl import optimizers

    class_name, config = entry["class_name"], dict(entry["config"])
    if isinstance(class_name, str) and class_name.startswith("Custom>") \
            and class_name[len("Custom>"):] in _SLOT_GROUPS:
        class_name = class_name[len("Custom>"):]
    if config.get("use_ema") is False:  # no moving average: its settings change nothing
        config.pop("ema_momentum", None)
        config.pop("ema_overwrite_frequency", None)
    if config.get("centered") is False:
        config.pop("centered")
    return optimizers.deserialize({"class_name": class_name, "config": config})


def _loss_config(entry):
    """A Keras 2 loss entry for ``losses.deserialize``: its class's ``fn`` (the function
    the class wraps, implied by the class) dropped."""
    if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
        return {**entry, "config": {k: v for k, v in entry["config"].items() if k != "fn"}}
    return entry


def _is_per_output(value, outputs):
    """Whether compile's metrics are in Keras 2's built form: one list per output."""
    return isinstance(value, list) and len(value) == len(outputs) and all(
        isinstance(group, list) for group in value)


def _read_metrics(value, outputs, plain=None):
    """``(compile()'s metrics argument, the names of the metrics per output or None)`` from
    what ``training_config`` holds.  In the built form (one list per output) names get
    back the form compile() gives them again: without the output's prefix (several
    outputs) and without the ``weighted_`` compile() adds to a weighted metric named as an
    unweighted one (``plain``: those names, per output)."""
    from minidl import metrics as metrics_module

    if not _is_per_output(value, outputs):
        return _nested(value, metrics_module.deserialize), None  # compile()'s own arguments
    groups = []
    for i, group in enumerate(value):
        made = []
        for entry in group:
            if entry is None or isinstance(entry, str):  # no metric; a name compile() resolves
                made += [] if entry is None else [entry]
                continue
            metric = _metric_object(entry)
            name = metric.name
            if len(outputs) > 1 and name.startswith(f"{outputs[i]}_"):
                name = name[len(outputs[i]) + 1:]
            if plain is not None and name.startswith("weighted_") and name[9:] in plain[i]:
                name = name[9:]
            metric.name = name
            made.append(metric)
        groups.append(made)
    names = [[getattr(metric, "name", metric) for metric in group] for group in groups]
    return (groups if len(outputs) > 1 else groups[0]), names


def _metric_object(entry):
    from minidl import metrics as metrics_module

    if isinstance(entry, dict) and entry.get("class_name") == "MeanMetricWrapper":
        config = entry.get("config") or {}
        fn = metrics_module.get(config["fn"])
        if isinstance(fn, str) or not callable(fn):
            raise ValueError(f"MeanMetricWrapper names {config['fn']!r}, not a metric function")
        return metrics_module.MeanMetricWrapper(fn, name=config.get("name"))
    found = metrics_module.deserialize(entry)
    found = metrics_module.get(found) if isinstance(found, str) else found
    if not isinstance(found, metrics_module.Metric):
        found = metrics_module.MeanMetricWrapper(found)
    return found


def _is_slot(name, kind, legacy):
    """Whether variable ``name`` is a slot ``kind``: ``Adam/m/dense/kernel:0`` (or
    ``m/dense/kernel:0``: an optimizer tf_keras restored names its slots so) and, legacy,
    ``Adam/dense/kernel/m:0`` are ``m``'s."""
    parts = name.split("/")
    if legacy:
        return parts[-1] == f"{kind}:0"
    return kind in parts[:2]


def _restore_optimizer(model, group, label, read_dataset):
    """Set the optimizer's step count and slots from ``optimizer_weights``, read in the
    order ``optimizer_variables`` writes them.  A file whose variables do not fit that
    order leaves the optimizer fresh, with a warning, as tf_keras does."""
    import warnings

    from minidl.models.saving import _check_second_moment

    optimizer, weights = model.optimizer, keras2_weights(model, True)
    names = attribute_list(group, "weight_names")
    legacy = bool(names) and names[0] != "iteration:0"
    layout = [(i, keras_slot, minidl_slot) for slots in slot_groups(optimizer, legacy)
              for i in range(len(weights)) for keras_slot, minidl_slot in slots]
    if len(names) == 1:  # an optimizer that had not taken a step yet (tf_keras writes so)
        layout = []
    if len(names) != 1 + len(layout) or not all(
            _is_slot(name, kind, legacy) for name, (_, kind, _) in zip(names[1:], layout)):
        warnings.warn(
            f"{label}: its optimizer_weights {names[:3]}... do not fit the variables of "
            f"{type(optimizer).__name__} for this model ({1 + len(layout)} expected); the "
            "model is compiled with a fresh optimizer.", stacklevel=4)
        return
    steps = read_dataset(group, names[0], ())
    if steps.dtype.kind not in "iu" or int(steps) < 0:
        raise FileFormatError(f"{label}: {names[0]} must be a non-negative integer, found {steps!r}.")
    slot_names = optimizer.slot_names()
    slots = [[None] * len(slot_names) for _ in weights]
    for name, (i, _, minidl_slot) in zip(names[1:], layout):
        array = read_dataset(group, name, tuple(weights[i].shape))
        if minidl_slot is not None:
            if minidl_slot in optimizer.nonnegative_slots():
                _check_second_moment(array, f"{label}: {name}", minidl_slot)
            slots[i][slot_names.index(minidl_slot)] = array
    if not layout:
        optimizer.iterations = int(steps)
        return
    optimizer.set_state({"iterations": int(steps), "slots": slots}, weights)


def attribute_list(group, name):
    """A list attribute as ``_write_list`` writes it (whole, or split in ``name0``, ...)."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values += list(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]
