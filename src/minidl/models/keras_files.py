"""Reading Keras 3 ``.keras`` files: ``load_model("model.keras")``.

A ``.keras`` file is a zip archive of three members::

    metadata.json       {"keras_version": "3.x", ...}
    config.json         {"class_name": "Sequential" | "Functional", "config": {...}}
    model.weights.h5    HDF5: layers/<group>/vars/0, 1, ... one dataset per weight,
                        the group's ``vars`` carrying the layer's name (attribute "name");
                        a recurrent layer's under layers/<group>/cell/vars, a wrapper's
                        under .../layer/ (TimeDistributed) or .../forward_layer/ and
                        .../backward_layer/ (Bidirectional)

The architecture is translated into minidl's own config and rebuilt with
``layers.deserialize``; then each layer's weights are read from the HDF5 file
(with ``h5py``, an optional extra: ``pip install minidl[keras]``), in the order
Keras and minidl both create them (kernel then bias; gamma, beta, moving mean,
moving variance), and checked against the layer's shapes before any is set.

Keras 2 ``.h5`` files (``tf.keras``'s ``model.save("model.h5")``, and minidl's:
``keras_h5`` draws the layout) are read too: one HDF5 file whose attribute
``model_config`` is the architecture (Keras 2's config, translated the same way) and
whose group ``model_weights/<layer>`` lists its weights' paths, in order, in the
attribute ``weight_names``; layers are matched by position, as Keras 2 does.  Such a
model comes back compiled as its ``training_config`` says, with its optimizer's state
(``keras_h5.compile_from_training_config``); ``load_h5_weights`` reads the weights of
``save_weights("w.h5")`` (or Keras 3's ``.weights.h5``) into a model.  A dataset is read
only when it is plain data stored in the file itself (no links, no external storage).

Keras 3 configs carry arguments minidl does not have (``quantization_config``,
BatchNormalization's ``renorm``, ...).  Such an argument is dropped only when it has
the value that turns its feature off (``_INERT``); any other value, and any Keras
layer minidl lacks, is an error naming the layer.  A ``.keras`` model comes back
uncompiled: compile it to train it.

Masks: Keras 3 writes the mask of ``Embedding(mask_zero=True)`` or ``Masking`` in a
functional model as operations (``NotEqual``, ``Any``) given to later layers as
``mask=``; minidl computes the same masks itself, so those are left out.  A model in
which Keras and minidl would mask differently (a mask reaching a layer that Keras uses it
in and minidl does not) is refused, as are ``Lambda`` layers (their function is Python
bytecode, never run).  Weight constraints (``kernel_constraint``, ...) load as
``minidl.constraints`` objects; your own need ``custom_objects``, as in Keras.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile

from minidl.layers.base import Layer
from minidl.utils.object_registration import get_registered_object
from minidl.utils.file_checks import FileFormatError

# Keras 3 arguments minidl lacks, with the value that means "not used".
_INERT = {
    "kernel_constraint": None, "bias_constraint": None, "beta_constraint": None,
    "gamma_constraint": None, "embeddings_constraint": None, "alpha_constraint": None,
    "quantization_config": None, "lora_rank": None, "lora_alpha": None, "groups": 1,
    "synchronized": False, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
    "beta_regularizer": None, "gamma_regularizer": None, "alpha_regularizer": None,
    "sparse": False, "ragged": False, "optional": False, "activity_regularizer": None,
    "recurrent_constraint": None, "data_format": "channels_last", "antialias": False,
    "pad_to_aspect_ratio": False, "value_range": [0, 255], "rms_scaling": False,
}
# Keras arguments minidl's layer takes but supports one value of (others: an error);
# none at present (GRU's reset_after=False is read since minidl has ops.gru_reset_before).
_REQUIRED = {}
# Wrappers, and their arguments that are layer configs (translated in turn): RNN's cell too.
_WRAPPERS = {"Bidirectional": ("layer", "backward_layer"), "TimeDistributed": ("layer",),
             "RNN": ("cell",), "StackedRNNCells": ("cells",), "SpectralNormalization": ("layer",)}
_MODELS = ("Sequential", "Functional", "Model")
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)
_JSON_MAX = 16 << 20  # bytes of config.json: far more than any model needs


class KerasFileError(FileFormatError):
    """A Keras file minidl cannot read; the message names the file and the part."""


def is_keras_archive(filepath):
    """True for a zip holding ``config.json`` and ``model.weights.h5`` (Keras 3's format)."""
    try:
        if not os.path.isfile(filepath) or not zipfile.is_zipfile(filepath):
            return False
        with zipfile.ZipFile(filepath) as archive:
            names = set(archive.namelist())
    except (OSError, TypeError, ValueError, zipfile.BadZipFile):
        return False
    return {"config.json", "model.weights.h5"} <= names


def is_keras_h5(filepath):
    """True for a regular file with HDF5's 8-byte signature (Keras 2's ``.h5`` container)."""
    try:
        if not os.path.isfile(filepath):  # a FIFO or a device is never opened
            return False
        with open(filepath, "rb") as handle:
            return handle.read(8) == b"\x89HDF\r\n\x1a\n"
    except (OSError, TypeError, ValueError):
        return False


def _require_h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading Keras .keras files needs the h5py package, an optional extra of minidl: "
            "pip install minidl[keras]  (or: pip install h5py)."
        ) from None
    return h5py


def load_keras_model(filepath, custom_objects=None):
    """The minidl model of a Keras 3 ``.keras`` file, weights included (uncompiled)."""
    h5py = _require_h5py()
    label = repr(os.fspath(filepath))
    with zipfile.ZipFile(filepath) as archive:
        if archive.getinfo("config.json").file_size > _JSON_MAX:
            raise KerasFileError(f"{label}: config.json is over {_JSON_MAX} bytes.")
        try:
            config = json.loads(archive.read("config.json"))
        except ValueError as error:
            raise KerasFileError(f"{label}: config.json is not JSON ({error}).") from None
        weights = archive.read("model.weights.h5")
    model = _rebuild(config, custom_objects, label)
    with h5py.File(io.BytesIO(weights), "r") as handle:
        assignments = _guarded(lambda: _read_weights(model, handle, label), label)
    _assign(model, assignments, label)
    return model


def load_keras_h5(filepath, custom_objects=None, compile=True):  # noqa: A002 (Keras's name)
    """The minidl model of a Keras 2 ``.h5`` file, weights included; compiled with its
    optimizer's state when the file holds a ``training_config`` and ``compile``."""
    from minidl.models import keras_h5

    label = repr(os.fspath(filepath))
    h5py = _require_h5py_for(label, "a Keras 2 .h5 model")
    with _open_h5(h5py, filepath, label) as handle:
        if "model_config" not in handle.attrs or "model_weights" not in handle:
            raise KerasFileError(f"{label}: an HDF5 file without a Keras model (no model_config "
                                 "attribute or model_weights group); a file of save_weights() "
                                 "is read by model.load_weights().")
        config = _json_attribute(handle, "model_config", label)
        model = _rebuild(config, custom_objects, label)
        assignments = _guarded(lambda: _read_h5_weights(model, handle["model_weights"], label),
                               label)
        training = _json_attribute(handle, "training_config", label) if compile and (
            "training_config" in handle.attrs) else None
        _assign(model, assignments, label)
        if training is not None:
            optimizer_group = handle.get("optimizer_weights")
            keras_h5.compile_from_training_config(
                model, _dict(training, label, "training_config"), optimizer_group, label,
                lambda group, name, shape: _plain_dataset(h5py, group, name, shape, label)[()])
    return model


def load_h5_weights(model, filepath):
    """Set ``model``'s weights from an HDF5 file: Keras 2's (``save_weights("w.h5")``, or a
    whole model's ``model_weights``), matched layer by layer in order as Keras 2 does, or
    Keras 3's ``.weights.h5`` (``layers/<name>/vars``).  Everything is read and checked
    before any weight is set."""
    label = repr(os.fspath(filepath))
    h5py = _require_h5py_for(label, "a Keras .h5 weights file")
    with _open_h5(h5py, filepath, label) as handle:
        if "layer_names" in handle.attrs or "layer_names0" in handle.attrs:
            group = handle
        elif "model_weights" in handle:
            group = handle["model_weights"]
        elif "layers" in handle:
            assignments = _guarded(lambda: _read_weights(model, handle, label), label)
            group = None
        else:
            raise KerasFileError(f"{label}: an HDF5 file without Keras weights (no layer_names "
                                 "attribute, model_weights group or layers group).")
        if group is not None:
            assignments = _guarded(lambda: _read_h5_weights(model, group, label), label)
    _assign(model, assignments, label)


def _require_h5py_for(label, what):
    try:
        return _require_h5py()
    except ImportError:
        raise KerasFileError(
            f"{label} is not a minidl file: it is an HDF5 file, perhaps {what}; reading it "
            "needs h5py: pip install minidl[keras]  (or: pip install h5py)."
        ) from None


def _open_h5(h5py, filepath, label):
    try:
        return h5py.File(filepath, "r")
    except OSError as error:
        raise KerasFileError(f"{label} is not a minidl file, and HDF5 cannot open it as a "
                             f"Keras .h5 file either ({error}).") from None


def _json_attribute(handle, name, label):
    raw = handle.attrs[name]
    if len(raw) > _JSON_MAX:
        raise KerasFileError(f"{label}: {name} is over {_JSON_MAX} bytes.")
    try:
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except (ValueError, RecursionError) as error:
        raise KerasFileError(f"{label}: {name} is not JSON ({error}).") from None


def _plain_dataset(h5py, group, name, shape, label):
    """Dataset ``name`` of ``group``: a plain one (no link, no external or virtual storage,
    so nothing outside this file is read) of numbers in ``shape``, checked before it is read."""
    try:
        link = group.get(name, getlink=True)
        dataset = group.get(name) if isinstance(link, h5py.HardLink) else None
    except (KeyError, ValueError, OSError, TypeError):
        dataset = None
    where = f"{label}: {group.name}/{name}"
    if not isinstance(dataset, h5py.Dataset) or dataset.external or dataset.is_virtual:
        raise KerasFileError(f"{where} is missing or not a plain dataset.")
    if tuple(dataset.shape) != tuple(shape) or dataset.dtype.kind not in "fiu":
        raise KerasFileError(f"{where} holds {dataset.dtype} of shape {tuple(dataset.shape)}; "
                             f"expected numbers of shape {tuple(shape)}.")
    return dataset


def _rebuild(config, custom_objects, label):
    """The model of a Keras config; a config that breaks the rebuild is a KerasFileError
    naming the file (a Keras feature minidl lacks stays a NotImplementedError)."""
    from minidl.layers import deserialize

    converted = _guarded(lambda: _model_config(config, label), label)
    _check_masks(converted, label)
    return _guarded(lambda: deserialize(converted, custom_objects), label)


# Keras layers whose output depends on a mask they receive and that stop it (Keras's
# GlobalAveragePooling1D averages over the unmasked steps only); minidl's twin must take
# the mask in ``call``.
_MASK_USERS = {"GlobalAveragePooling1D"}
# Keras layers that pass a mask on (``supports_masking``, or merging their inputs' masks).
_KERAS_PASSES = {
    "Dense", "Activation", "Dropout", "TimeDistributed", "Masking", "BatchNormalization",
    "GaussianNoise", "GaussianDropout", "ActivityRegularization", "ReLU", "LeakyReLU", "ELU",
    "PReLU", "ThresholdedReLU", "Softmax", "Concatenate", "Add", "Subtract", "Multiply",
    "Average", "Maximum", "Minimum", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "AlphaDropout", "LayerNormalization", "GroupNormalization", "UnitNormalization",
}


def _check_masks(config, label):
    """Refuse a model in which Keras and minidl would mask differently -- it would load and
    predict something else: a mask (``Embedding(mask_zero=True)``, ``Masking``) reaching a
    layer that Keras uses it in and minidl does not, or a mask Keras passes on (through a
    merge layer, say) and minidl drops before a layer that uses it.  Each layer's output
    is followed as Keras masks it and as minidl does; a functional model's layer is masked
    when any of its inputs is."""
    if config.get("class_name") not in ("Sequential", "Functional"):
        return
    masked = {}  # layer name -> (Keras's output has a mask, minidl's has)
    previous = (False, False)
    for entry in config["config"]["layers"]:
        if entry.get("class_name") in ("Sequential", "Functional"):
            _check_masks(entry, label)
            incoming = (False, False)
        elif config["class_name"] == "Sequential":
            incoming = previous
        else:
            refs = [ref[0] for node in entry.get("inbound_nodes", []) for ref in node["inputs"]]
            incoming = tuple(any(masked.get(r, (False, False))[i] for r in refs) for i in (0, 1))
        previous = _output_masked(entry, incoming, label)
        masked[entry.get("name") or entry["config"].get("name")] = previous


def _output_masked(entry, incoming, label):
    """``(Keras's, minidl's)``: whether the layer's output carries a mask."""
    import minidl.layers

    class_name, config = entry["class_name"], entry["config"]
    if class_name == "Embedding":
        return (bool(config.get("mask_zero")),) * 2
    if class_name == "Masking":
        return True, True
    keras_masked, minidl_masked = incoming
    if not keras_masked:
        return False, False
    cls = getattr(minidl.layers, str(class_name), None)
    if not isinstance(cls, type):
        return False, False
    name = config.get("name")
    if "mask" in inspect.signature(cls.call).parameters:
        if not minidl_masked:
            raise NotImplementedError(
                f'{label}: Keras gives layer "{name}" ({class_name}) the mask of its padded '
                "input, but in minidl the mask is dropped by an earlier layer that Keras passes "
                "it through (such as a merge layer), so this model cannot be loaded as Keras "
                "made it.")
        if class_name in _MASK_USERS:  # used here, and no mask goes on
            return False, False
        if class_name in ("SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional"):
            inner = config.get("layer", {}).get("config", config)  # Bidirectional's layer
            return (bool(inner.get("return_sequences", False)),) * 2
        return class_name in _KERAS_PASSES, bool(getattr(cls, "supports_masking", False))
    if class_name in _MASK_USERS:
        raise NotImplementedError(
            f'{label}: Keras gives layer "{name}" ({class_name}) the mask of its padded input '
            f"and uses it, but minidl's {class_name} does not (it would count the padded "
            "steps), so this model cannot be loaded as Keras made it.")
    return class_name in _KERAS_PASSES, minidl_masked and bool(
        getattr(cls, "supports_masking", False))


def _guarded(function, label):
    """``function()``, with the errors a malformed file causes as KerasFileError."""
    try:
        return function()
    except KerasFileError:
        raise
    except _MALFORMED as error:
        raise KerasFileError(f"{label}: cannot rebuild the model from it "
                             f"({type(error).__name__}: {error}).") from None


def _assign(model, assignments, label):
    """Set every layer's weights, once all were read and checked; each layer with
    weights must have had its own."""
    from minidl.models.model import Model

    loaded = {id(layer) for layer, _ in assignments}
    missing = [layer.name for layer in model.layers
               if layer.weights and not isinstance(layer, Model) and id(layer) not in loaded]
    if missing:
        raise KerasFileError(f"{label}: the file has no weights for layers {missing}.")
    for layer, arrays in assignments:
        layer.set_weights(arrays)


# --- the architecture ------------------------------------------------------------
def _model_config(config, label):
    """minidl's ``{"class_name", "config"}`` of a Keras 3 Sequential/Functional config."""
    if not isinstance(config, dict) or config.get("class_name") not in _MODELS:
        found = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise KerasFileError(f"{label}: holds a {found!r}; minidl reads Sequential and "
                             "functional models.")
    inner = _dict(config.get("config"), label, "config")
    entries = inner.get("layers")
    if not isinstance(entries, list):
        raise KerasFileError(f"{label}: the model config has no list of layers.")
    if config["class_name"] == "Sequential":
        return {"class_name": "Sequential", "config": {
            "name": inner.get("name"),
            "layers": [_layer_entry(e, label) for e in entries],
            "build_input_shape": inner.get("build_input_shape"),
        }}
    mask_ops = _mask_operations(entries, inner.get("output_layers"))
    _refuse_keras3_merged_masks(entries, mask_ops, label)
    layers = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") in mask_ops:
            continue
        converted = _layer_entry(entry, label)
        converted["name"] = converted["config"]["name"]
        converted["inbound_nodes"] = [_node(n, converted, label, mask_ops)
                                      for n in entry.get("inbound_nodes") or []]
        layers.append(converted)
    nested = {entry["name"] for entry in layers if entry["class_name"] in _MODELS}
    keras2 = any(isinstance(node, list) for entry in entries if isinstance(entry, dict)
                 for node in entry.get("inbound_nodes") or [])

    def own(ref):  # Keras 2 counts the call a nested model's own inputs made as its node 0
        return [ref[0], ref[1] - 1, *ref[2:]] if (
            keras2 and ref[0] in nested and isinstance(ref[1], int) and ref[1] > 0) else ref

    def owns(refs):  # a list, or a dict for a model's dict inputs or outputs
        if isinstance(refs, dict):
            return {key: own(ref) for key, ref in refs.items()}
        return [own(ref) for ref in refs]

    for entry in layers:
        for node in entry["inbound_nodes"]:
            node["inputs"] = [own(ref) for ref in node["inputs"]]
    return {"class_name": "Functional", "config": {
        "name": inner.get("name"), "layers": layers,
        "input_layers": owns(_refs(inner.get("input_layers"), label)),
        "output_layers": owns(_refs(inner.get("output_layers"), label)),
    }}


def _dict(value, label, what):
    if not isinstance(value, dict):
        raise KerasFileError(f"{label}: {what} must be a JSON object, found {type(value).__name__}.")
    return value


def _refs(refs, label):
    """``[[layer, node, tensor], ...]``; Keras writes a single one unnested, and a dict of
    them for a model's dict inputs or outputs (kept a dict, by the same keys)."""
    if isinstance(refs, dict) and refs and all(isinstance(key, str) for key in refs):
        return {key: _refs(ref, label)[0] for key, ref in refs.items()}
    if isinstance(refs, list) and refs and isinstance(refs[0], str):
        refs = [refs]
    if not isinstance(refs, list) or not all(isinstance(r, list) and len(r) == 3 for r in refs):
        raise KerasFileError(f"{label}: input_layers/output_layers must list [layer, node, tensor] "
                             f"references, found {refs!r}.")
    return refs


def _history(value):
    """The ``[layer, node, tensor]`` references of the Keras 3 tensors in ``value``."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        return [history] if isinstance(history, list) and history else []
    if isinstance(value, (list, tuple)):
        return [h for v in value for h in _history(v)]
    if isinstance(value, dict):
        return [h for v in value.values() for h in _history(v)]
    return []


def _refuse_keras3_merged_masks(entries, mask_ops, label):
    """Keras 3 merges masks unlike Keras 2 (which minidl follows): its merge layers OR the
    masks (Keras 2: AND) and fill an input's masked values from the other inputs, and it
    records the combining as operations (``LogicalOr``, ``ExpandDims``, ``ZerosLike`` ...).
    A model with such operations would load to predict something else: refused."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        class_name, name = entry.get("class_name"), entry.get("name")
        if class_name in ("LogicalOr", "LogicalAnd") or (
                name in mask_ops and class_name not in ("NotEqual", "Any")):
            raise NotImplementedError(
                f'{label}: Keras 3 combines timestep masks with "{name}" ({class_name}), as its '
                "merge layers do (logical OR of the masks, masked values filled from the other "
                "inputs); minidl follows Keras 2 (logical AND, values as they are), so this "
                "model cannot be loaded as Keras 3 made it. Save it with Keras 2 (tf_keras, "
                ".h5), or keep masks away from merge layers.")


def _mask_operations(entries, outputs):
    """Names of the entries of a Keras 3 functional config that only compute masks.

    Keras 3 records the mask of ``Embedding(mask_zero=True)`` (or ``Masking``) as
    operations of its own -- ``NotEqual`` (``tokens != 0``), then ``Any`` for Masking --
    whose output reaches later layers only as their ``mask=`` argument.  minidl computes
    and passes those masks itself (``Layer.compute_mask``), so such entries -- not layers
    of minidl, used only as masks or by other such entries -- are left out, with the
    ``mask=`` arguments naming them (``_node``)."""
    import minidl.layers

    uses = {}  # name -> [(user name, "mask" or "data")]
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for node in entry.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
            for history in _history(kwargs.get("mask")):
                uses.setdefault(history[0], []).append((entry.get("name"), "mask"))
            rest = [node.get("args"), {k: v for k, v in kwargs.items() if k != "mask"}]
            for history in _history(rest):
                uses.setdefault(history[0], []).append((entry.get("name"), "data"))
    if isinstance(outputs, dict):
        outputs = list(outputs.values())  # dict outputs
    if isinstance(outputs, list) and outputs and isinstance(outputs[0], str):
        outputs = [outputs]  # a single output, unnested
    for ref in outputs if isinstance(outputs, list) else []:
        if isinstance(ref, list) and ref:
            uses.setdefault(ref[0], []).append((None, "data"))
    candidates = {e.get("name") for e in entries if isinstance(e, dict) and not isinstance(
        getattr(minidl.layers, str(e.get("class_name")), None), type)}
    mask_only = set()
    changed = True
    while changed:
        changed = False
        for name in candidates - mask_only:
            found = uses.get(name, [])
            if found and all(kind == "mask" or user in mask_only for user, kind in found):
                mask_only.add(name)
                changed = True
    return mask_only


def _takes_mask(class_name):
    """Whether minidl's layer uses a mask given to it, or passes it on."""
    import minidl.layers

    cls = getattr(minidl.layers, str(class_name), None)
    return isinstance(cls, type) and (
        "mask" in inspect.signature(cls.call).parameters or getattr(cls, "supports_masking", False))


def _node(node, entry, label, mask_ops=frozenset()):
    """One call record as minidl's ``{"inputs": [[layer, node, tensor], ...], "list_input"}``.

    Keras 3 writes ``{"args": [tensor or [tensors]], "kwargs": {...}}``; Keras 2 a
    list of ``[layer, node, tensor, kwargs]``, one per input (a list for merge layers).
    A Keras 3 ``mask=`` made by ``mask_ops`` is dropped (minidl passes the same mask
    itself), once minidl's layer is known to use it or pass it on."""
    layer_name = entry["name"]
    if isinstance(node, dict) and isinstance(node.get("kwargs"), dict) and "mask" in node["kwargs"]:
        masks = _history(node["kwargs"]["mask"])
        if masks and all(h[0] in mask_ops for h in masks):
            if not _takes_mask(entry["class_name"]):
                raise NotImplementedError(
                    f'{label}: Keras gives layer "{layer_name}" ({entry["class_name"]}) the mask '
                    f"of its padded input, which minidl's {entry['class_name']} does not use "
                    "(it would count the padded steps); this model cannot be loaded as Keras "
                    "made it.")
            node = {**node, "kwargs": {k: v for k, v in node["kwargs"].items() if k != "mask"}}
    if isinstance(node, list) and entry["class_name"] == "TFOpLambda":
        node = _operator_node(node, entry, label)
    if isinstance(node, list) and entry["class_name"] == "MultiHeadAttention":
        node = _attention_node(node, entry, label)
    if isinstance(node, list):  # Keras 2
        if not all(isinstance(ref, list) and len(ref) in (3, 4) for ref in node):
            raise KerasFileError(f'{label}: layer "{layer_name}" has a call record {node!r}.')
        kwargs = {}
        for ref in node:
            kwargs.update(ref[3] if len(ref) == 4 and isinstance(ref[3], dict) else {})
        inputs = [list(ref[:3]) for ref in node]
        list_input = len(node) > 1 or _is_merge(entry["class_name"])
    else:
        args, kwargs = node.get("args"), node.get("kwargs") or {}
        if not isinstance(args, list) or len(args) != 1:
            raise KerasFileError(f'{label}: layer "{layer_name}" is called with {args!r}; minidl '
                                 "reads calls on one tensor or one list of tensors.")
        tensors = args[0] if isinstance(args[0], list) else [args[0]]
        try:
            inputs = [list(t["config"]["keras_history"]) for t in tensors]
        except (KeyError, TypeError):
            raise KerasFileError(f'{label}: layer "{layer_name}" has a call on something other '
                                 f"than Keras tensors: {args!r}.") from None
        list_input = isinstance(args[0], list)
    extra = {k: v for k, v in kwargs.items() if v is not None and k != "training"}
    if extra:
        raise NotImplementedError(f'{label}: layer "{layer_name}" is called with arguments '
                                  f"{extra!r}, which minidl's models do not replay.")
    call = {"inputs": inputs, "list_input": list_input}
    # Keras 2 replays a recorded ``training=True`` (Monte-Carlo dropout) even in predict.
    # Keras 3 records one for every random layer called while the model is built (their
    # ``call`` defaults to training=True) but replays it only when the model itself is
    # called without ``training``: fit and predict pass their own, so in Keras 3 files the
    # recorded value is dropped and minidl's fit/predict/evaluate decide, as in Keras 3.
    if kwargs.get("training") is not None and isinstance(node, list):
        call["kwargs"] = {"training": bool(kwargs["training"])}
    return call


def _operator_node(node, entry, label):
    """A Keras 2 TFOpLambda call (``x + y``: ``[x..., {"y": y, "name": None}]``, one
    reference rather than a list of them, with ``["_CONSTANT_VALUE", -1, c, ...]`` for a
    constant first operand) as a call on its symbolic operands; a constant operand goes
    into the layer's config."""
    if node and isinstance(node[0], str):
        node = [node]
    if len(node) != 1 or not isinstance(node[0], list) or len(node[0]) != 4 \
            or not isinstance(node[0][3], dict):
        raise KerasFileError(f'{label}: layer "{entry["name"]}" has a call record {node!r}.')
    first, kwargs = node[0][:3], dict(node[0][3])
    operands = [first] if "y" not in kwargs else [first, kwargs.pop("y")]
    symbolic = [isinstance(o, list) and len(o) == 3 and isinstance(o[0], str)
                and o[0] != "_CONSTANT_VALUE" for o in operands]
    if len(operands) == 2 and symbolic == [True, False]:
        entry["config"].update(constant=operands[1], constant_first=False)
        operands = operands[:1]
    elif len(operands) == 2 and symbolic == [False, True] and first[0] == "_CONSTANT_VALUE":
        entry["config"].update(constant=first[2], constant_first=True)
        operands = operands[1:]
    elif not all(symbolic):
        raise NotImplementedError(f'{label}: layer "{entry["name"]}" (TFOpLambda) is called on '
                                  f"{operands!r}; minidl reads calls on Keras tensors and numbers.")
    return [[*operands[0], kwargs]] + [list(o) for o in operands[1:]]


def _attention_node(node, entry, label):
    """A Keras 2 MultiHeadAttention call, ``[[query..., {"value": v, "key": k}]]``, as a
    call on minidl's packed form ``[query, value(, key)]``."""
    if len(node) != 1 or not isinstance(node[0], list) or len(node[0]) != 4 \
            or not isinstance(node[0][3], dict) or "value" not in node[0][3]:
        raise KerasFileError(f'{label}: layer "{entry["name"]}" has a call record {node!r}.')
    kwargs = dict(node[0][3])
    operands = [node[0][:3], kwargs.pop("value")]
    if kwargs.get("key") is not None:
        operands.append(kwargs.pop("key"))
    return [[*operands[0], kwargs]] + [list(o) for o in operands[1:]]


def _is_merge(class_name):
    import minidl.layers
    from minidl.layers.merge import _Merge

    cls = getattr(minidl.layers, str(class_name), None)
    return isinstance(cls, type) and issubclass(cls, _Merge)


def _layer_entry(entry, label, bidirectional_part=False):
    """One layer's ``{"class_name", "config"}`` in minidl's terms (nested models too);
    ``bidirectional_part``: the entry is one half of a Bidirectional."""
    import minidl.layers

    entry = _dict(entry, label, "a layer entry")
    class_name = entry.get("class_name")
    if class_name in _MODELS:
        return _model_config(entry, label)
    config = dict(_dict(entry.get("config"), label, f"the config of layer {class_name!r}"))
    name = config.get("name", class_name)
    cls = getattr(minidl.layers, str(class_name), None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        own = get_registered_object(str(class_name))  # custom_objects are in scope
        if isinstance(own, type) and issubclass(own, Layer):  # your class reads its config
            return {"class_name": class_name, "config": entry.get("config")}
        raise NotImplementedError(f'{label}: Keras layer "{name}" ({class_name}) has no '
                                  "counterpart in minidl, so this model cannot be loaded.")
    if class_name == "Lambda":
        raise NotImplementedError(
            f'{label}: Keras layer "{name}" (Lambda) holds its function as Python bytecode, and '
            "minidl never runs code from a file: build the model in minidl, with the function "
            "(or a small Layer subclass) in the Lambda's place.")
    if class_name == "InputLayer" and "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    axis = config.get("axis")
    if class_name == "BatchNormalization" and isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]  # Keras 2 writes [3]
    if class_name in _WRAPPERS:
        config = _wrapped_configs(class_name, config, name, label)
    required = _REQUIRED.get(class_name, {})
    accepted = _accepted_arguments(cls)
    converted = {}
    for key, value in config.items():
        value = _plain(value) if key not in _WRAPPERS.get(class_name, ()) else value
        if key in required:
            if value != required[key]:
                raise NotImplementedError(
                    f'{label}: Keras layer "{name}" ({class_name}) has {key}={value!r}; minidl\'s '
                    f"{class_name} supports only {key}={required[key]!r}.")
            converted[key] = value
        elif key in accepted:
            converted[key] = value
        elif not _is_inert(key, value, config, bidirectional_part):
            raise NotImplementedError(
                f'{label}: Keras layer "{name}" ({class_name}) has {key}={value!r}, which '
                f"minidl's {class_name} does not support.")
    return {"class_name": class_name, "config": converted}


def _is_inert(key, value, config, bidirectional_part):
    """Whether the Keras argument ``key=value``, which minidl's layer lacks, changes nothing.

    ``zero_output_for_mask``: minidl's recurrent layers carry the last output over masked
    steps (False, Keras's default), and inside Bidirectional output zeros there when they
    return sequences (what Keras's Bidirectional sets).  A recurrent layer's ``seed`` only
    seeds its dropout masks, so it changes nothing when there is no dropout."""
    if key == "zero_output_for_mask":
        return value == (bidirectional_part and bool(config.get("return_sequences")))
    if key == "seed":
        return value is None or not (config.get("dropout") or config.get("recurrent_dropout"))
    if key in ("fill_mode", "fill_value"):  # Resizing's padding, used only with pad_to_aspect_ratio
        return not config.get("pad_to_aspect_ratio")
    if key in ("query_shape", "key_shape", "value_shape"):  # Keras 2's MultiHeadAttention
        return True  # records the shapes it was built for; minidl builds on the first call
    if key == "rng_type":  # Keras 2's choice of random generator: minidl draws its own
        return value in (None, "stateful", "stateless", "legacy_stateful")
    return key in _INERT and _INERT[key] == value


def _wrapped_configs(class_name, config, name, label):
    """A wrapper's config with the wrapped layers' configs translated too.

    Keras 3's Bidirectional always writes both halves: ``layer`` is its forward layer
    (named ``forward_<name>``) and ``backward_layer`` the backward one.  Their names lose
    those prefixes (minidl adds them again); when the backward half is the forward one
    read the other way (the usual ``Bidirectional(LSTM(...))``), minidl's config keeps
    only ``layer``, as the user wrote it; otherwise both are kept."""
    config = dict(config)
    inside = class_name == "Bidirectional"
    for key in _WRAPPERS[class_name]:
        if isinstance(config.get(key), list):  # StackedRNNCells' cells
            config[key] = [_layer_entry(_dict(entry, label, f'a cell of layer "{name}"'), label)
                           for entry in config[key]]
        elif config.get(key) is not None:
            entry = _dict(config[key], label, f'the {key} of layer "{name}"')
            config[key] = _layer_entry(entry, label, bidirectional_part=inside)
    forward, backward = config.get("layer"), config.get("backward_layer")
    if inside and forward is not None and backward is not None:
        # minidl prefixes the halves' names itself: "forward_lstm" is given as "lstm"
        for half, prefix in ((forward, "forward_"), (backward, "backward_")):
            half_name = str(half["config"].get("name", ""))
            if half_name.startswith(prefix):
                half["config"]["name"] = half_name[len(prefix):]
        f, b = dict(forward["config"]), dict(backward["config"])
        if (forward["class_name"] == backward["class_name"]
                and b.pop("go_backwards", None) is (not f.pop("go_backwards", False))
                and f == b):
            config.pop("backward_layer")
    return config


def _plain(value):
    """Keras 3's serialized objects in Keras 2's form: a dtype policy becomes its name,
    ``{"module", "class_name", "config", "registered_name"}`` becomes
    ``{"class_name", "config"}`` without the None-valued options."""
    if isinstance(value, dict) and "class_name" in value:
        if value["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
            return value.get("config", {}).get("name")
        inner = {k: v for k, v in (value.get("config") or {}).items() if v is not None}
        return {"class_name": value["class_name"], "config": inner}
    return value


def _accepted_arguments(cls):
    """The keyword arguments ``cls(...)`` takes, its base classes' up to ``Layer`` included."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if klass is Layer:
            break
    return names - {"self"}


# --- the weights -----------------------------------------------------------------------
def _read_weights(model, handle, label):
    """Keras 3's ``model.weights.h5``: ``[(layer, arrays)]``, shapes checked."""
    from minidl.models.model import Model

    found, layers_group = [], handle.get("layers")
    for key in layers_group or []:
        group = layers_group[key]
        name = group["vars"].attrs.get("name", key) if "vars" in group else key
        layer = _layer_named(model, _text(name), label)
        if isinstance(layer, Model):
            found += _read_weights(layer, group, label)
            continue
        datasets = _layer_datasets(group, label, layer)
        if datasets or layer.weights:
            found.append((layer, _checked(layer, datasets, label)))
    return found


# Sub-groups of a layer's group holding the variables of objects it owns, in the order
# minidl's layer lists their weights: a recurrent layer's cell, a wrapper's layer(s).
_OWNED = ("cell", "layer", "forward_layer", "backward_layer")


def _layer_datasets(group, label, layer=None):
    """The datasets of one layer's group in Keras 3's layout, in minidl's weight order:
    ``vars/0``, ``vars/1``, ... then those of ``cell`` (``layers/lstm/cell/vars/...``),
    ``layer`` (TimeDistributed), ``forward_layer`` and ``backward_layer`` (Bidirectional),
    each in the same way; a StackedRNNCells' ``cells/<cell name>`` in the order of the
    cells of ``layer`` (the minidl layer the group is read into)."""
    variables = group["vars"] if "vars" in group else {}
    found = [variables[str(i)] for i in range(len(variables))]
    if type(layer).__name__ == "SpectralNormalization":
        # Keras 3 keeps the wrapped layer's kernel again as the wrapper's vars/0 (the same
        # variable), then vector_u; minidl's order: the layer's weights, then vector_u
        if "layer" not in group or len(found) != 2:
            raise KerasFileError(f"{label}: the weights of {group.name!r} are not a "
                                 "SpectralNormalization's (vars/0 the kernel, vars/1 vector_u, "
                                 "then the wrapped layer's).")
        return _layer_datasets(group["layer"], label, layer.layer) + found[1:]
    unknown = sorted(set(group) - {"vars", "cells", *_OWNED})
    if unknown:
        raise KerasFileError(f"{label}: the weights of {group.name!r} have parts {unknown} that "
                             f"minidl does not know (it reads vars and {list(_OWNED)}).")
    for part in _OWNED:
        if part in group:
            found += _layer_datasets(group[part], label, getattr(layer, part, None))
    if "cells" in group:
        cells = getattr(layer, "cells", [])
        missing = [cell.name for cell in cells if cell.name not in group["cells"]]
        if missing or len(cells) != len(group["cells"]):
            raise KerasFileError(f"{label}: the weights of {group.name!r} hold cells "
                                 f"{sorted(group['cells'])}, where the config names "
                                 f"{[cell.name for cell in cells]}.")
        for cell in cells:
            found += _layer_datasets(group["cells"][cell.name], label, cell)
    return found


def _read_h5_weights(model, group, label):
    """Keras 2's ``model_weights`` layout: ``[(layer, arrays)]``, shapes checked.

    As Keras 2 does, the file's layers that list weights are matched in order with the
    model's layers that have weights, in Keras 2's order (``keras_h5.keras2_layers``; their
    names may differ: a model built again counts its layer names on); each lists its weights trainable first (``keras_h5.legacy_weights``),
    a nested model all its inner layers' weights."""
    import h5py

    from minidl.models.keras_h5 import attribute_list, keras2_layers, legacy_weights

    saved = [name for name in attribute_list(group, "layer_names")
             if attribute_list(_subgroup(group, name, label), "weight_names")]
    layers = [layer for layer in keras2_layers(model) if legacy_weights(layer)]
    if len(saved) != len(layers):
        raise KerasFileError(
            f"{label} holds weights for {len(saved)} layers {saved}, but model "
            f"\"{model.name}\" has {len(layers)} layers with weights "
            f"{[layer.name for layer in layers]}; was it saved from another architecture?")
    top = group.get("top_level_model_weights")
    if top is not None and attribute_list(top, "weight_names"):
        raise KerasFileError(f"{label}: top_level_model_weights lists weights, which minidl's "
                             "Sequential and functional models do not have.")
    found = []
    for name, layer in zip(saved, layers):
        source = _subgroup(group, name, label)
        weights = legacy_weights(layer)
        paths = attribute_list(source, "weight_names")
        if len(paths) != len(weights):
            raise KerasFileError(
                f'{label}: layer "{name}" of the file has {len(paths)} weights; layer '
                f'"{layer.name}" ({type(layer).__name__}) has {len(weights)}.')
        try:
            datasets = [_plain_dataset(h5py, source, path, weight.shape, label)
                        for path, weight in zip(paths, weights)]
        except KerasFileError as error:
            raise KerasFileError(f'{error} (layer "{layer.name}", '
                                 f"{type(layer).__name__}, has weights of shapes "
                                 f"{[tuple(w.shape) for w in weights]})") from None
        by_weight = {id(w): d[()] for w, d in zip(weights, datasets)}
        found.append((layer, [by_weight[id(w)] for w in layer.weights]))
    return found


def _subgroup(group, name, label):
    import h5py

    found = group.get(name)
    if not isinstance(found, h5py.Group):
        raise KerasFileError(f"{label}: layer_names lists {name!r}, which has no group.")
    return found


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _layer_named(model, name, label):
    try:
        return model.get_layer(name)
    except ValueError:
        raise KerasFileError(f"{label}: the weights name a layer {name!r} that the model's "
                             "config does not have.") from None


def _checked(layer, datasets, label):
    """The arrays of ``datasets``, read only once their shapes and types fit ``layer``."""
    expected = [tuple(w.shape) for w in layer.weights]
    if [tuple(d.shape) for d in datasets] != expected:
        raise KerasFileError(
            f'{label}: layer "{layer.name}" ({type(layer).__name__}) has weights of shapes '
            f"{[tuple(d.shape) for d in datasets]} in the file; minidl's layer has {expected}.")
    if any(d.dtype.kind not in "fiu" for d in datasets):  # Normalization's count is int64
        raise KerasFileError(f'{label}: layer "{layer.name}" has weights of types '
                             f"{[str(d.dtype) for d in datasets]}; minidl reads numeric weights.")
    return [d[()] for d in datasets]
