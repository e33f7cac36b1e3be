"""Saving and loading models: one zip file, readable with any zip tool.

The ``.mdl`` format (any file name works), format version 1::

    minidl.json          {"format": "minidl-model" | "minidl-weights", "format_version": 1,
                          "minidl_version": ..., "weights": [{"name", "shape", "dtype", "file"}],
                          "optimizer": {...} or null, "compile": {...} or null}
    model.json           the architecture: {"class_name": ..., "config": model.get_config(),
                         "build_config": {"input_shapes": [[None, 784], ...]}}
    weights/0000.npy     every weight of model.weights, in order (np.save format)
    optimizer/0000.npy   the optimizer's slots (Adam's m, v, ...) per trainable weight

A path ending in ``.keras`` gets Keras 3's layout instead (``keras_writer``): the zip
holds Keras's ``metadata.json``, ``config.json`` and ``model.weights.h5`` -- so
``keras.models.load_model("x.keras")`` rebuilds the model, its weights and, for the
optimizers Keras lays out the same way (SGD, Adam, RMSprop, Adagrad, Adamax), its
compile state -- and, beside them, ``minidl.json`` and ``model.json`` as above, except
that the manifest's ``"weights_file": "model.weights.h5"`` says every ``file`` is a
dataset of that HDF5 member (``layers/dense/vars/0``), so each array is stored once.
A model Keras cannot rebuild (a layer, activation or argument Keras lacks, a subclassed
or nested model), or a missing h5py (``pip install minidl[keras]``), gives minidl's own
layout under that name, with a warning saying why: minidl reads it, Keras cannot.

A path ending in ``.h5`` or ``.hdf5`` (or ``save_format="h5"``) gets Keras 2's HDF5 file
(``keras_h5``, whose docstring draws it), for ``save`` and ``save_weights`` alike: what
tf_keras 2.21 writes, so ``tf.keras.models.load_model`` rebuilds the model compiled, with the
optimizer's state.  A subclassed model is refused there (``NotImplementedError``, as in
tf_keras); without h5py the file is minidl's own layout, with a warning.

``model.save(path)`` writes all of it; ``load_model(path)`` rebuilds the model,
its weights, and -- when the loss and metrics were given by name -- compiles
it with the restored optimizer, so ``fit()`` continues where it stopped.
``save_weights``/``load_weights`` write and read only the weights.

A subclassed model (a ``Model`` subclass with its own ``__init__`` and ``call``)
saves when its class implements ``get_config`` (Keras 3's rule): the file holds
that config under the class's name, and ``load_model`` calls the class's
``from_config`` (``cls(**config)`` by default), builds it for the saved input
shapes and sets the weights -- given the class by ``custom_objects``, a
``custom_object_scope`` or ``register_keras_serializable``.  Without
``get_config``, ``save`` raises NotImplementedError and ``save_weights`` is the
way.

Writes are atomic: the archive goes to a temporary file in the same directory,
is flushed and fsynced, then renamed over the target (``os.replace``), so a
crash leaves either the old file or the new one, never half of one.

Reads trust nothing in the file. No file makes minidl run code: configuration
names are looked up in fixed lists (or among your own objects, see
``minidl.utils.object_registration``) and arrays are never unpickled. Only a regular file is read; every field of the manifest is
type-checked; each array's size is known from the manifest and the model before
it is read, its ``.npy`` header checked against them, and no more bytes read than
they need (``minidl.utils.file_checks``). Everything is checked before anything
is assigned, so a refused ``load_weights`` changes nothing. Whatever is wrong
raises ``FileFormatError`` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import reprlib
import time
import warnings
import zipfile

import numpy as np

from minidl.atomic_write import replacing
from minidl.layers.base import assign_all
from minidl.models.model_config import json_default
from minidl.utils.object_registration import (CustomObjectScope, get_registered_name,
                                              get_registered_object)
from minidl.utils.file_checks import (STREAM_ERRORS, FileFormatError, open_member, open_regular,
                                      open_zip, read_npy_member)

FORMAT_VERSION = 1
MANIFEST = "minidl.json"
KERAS_WEIGHTS = "model.weights.h5"  # in a .keras file, where the manifest's arrays are


# --- writing ---------------------------------------------------------------
@contextlib.contextmanager
def _replacing(filepath, overwrite):
    """A binary file open for writing that replaces ``filepath`` once the block ends
    without an error (``minidl.atomic_write.replacing``); its folder is made if needed."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise FileExistsError(f"cannot save to {filepath!r}: {directory!r} is a file, not a folder.")
        os.makedirs(directory, exist_ok=True)  # as TensorFlow does: "training_1/cp.ckpt"
    with replacing(filepath) as handle:
        yield handle


def _atomic_write(filepath, write, overwrite):
    """Call ``write(zipfile)`` into a temporary file next to ``filepath``, then rename it
    into place."""
    with _replacing(filepath, overwrite) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            write(archive)


def _save_format(filepath, save_format, method):
    """``"h5"`` for Keras 2's HDF5 file (a name ending in .h5 or .hdf5, or
    ``save_format="h5"``), ``"keras"`` for a name ending in .keras, else None
    (minidl's own format), as tf_keras chooses; TensorFlow's SavedModel is refused."""
    name = str(os.fspath(filepath))
    if save_format is None:
        if name.endswith((".h5", ".hdf5")):
            return "h5"
        return "keras" if name.lower().endswith(".keras") else None
    given = str(save_format).lower().strip()
    if given in ("h5", "hdf5") or (given == "keras" and method == "save_weights"):
        return "h5"  # (tf_keras's save_weights takes "keras" for its HDF5 file too)
    if given == "keras" and method == "save":
        if not name.endswith(".keras"):
            raise ValueError(f"save({name!r}, save_format='keras'): the file name must end in "
                             f".keras, received {name!r}.")
        return "keras"
    if given in ("tf", "tensorflow"):
        raise NotImplementedError(
            f"{method}({name!r}, save_format={save_format!r}): minidl does not write "
            "TensorFlow's SavedModel or checkpoint formats. Save to a name ending in .keras "
            "(Keras 3) or .h5 (Keras 2), or to any other name for minidl's own format.")
    raise ValueError(f"Unknown `save_format` argument. Expected one of 'keras', 'tf', or 'h5'. "
                     f"Received: save_format={save_format!r}")


def _h5py_or_warn(filepath, method):
    """h5py, or None after a warning that the file is minidl's own format instead."""
    try:
        import h5py
    except ImportError:
        warnings.warn(
            f"{method}({os.fspath(filepath)!r}): writing Keras 2's .h5 layout needs h5py, an "
            f"optional extra: pip install minidl[keras]  (or: pip install h5py). The file is "
            f"minidl's own format instead: minidl reads it, Keras cannot.", stacklevel=5)
        return None
    return h5py


def _write_array(archive, name, array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)  # (0-d stays 0-d)
    archive.writestr(name, buffer.getvalue())


def _write_weights(archive, model):
    entries = []
    for i, weight in enumerate(model.weights):
        file = f"weights/{i:04d}.npy"
        _write_array(archive, file, weight.data)
        entries.append({
            "name": weight.name or "Variable",  # (a Variable made without a name)
            "shape": list(weight.shape), "dtype": str(weight.dtype), "file": file,
        })
    return entries


def _manifest(kind, **extra):
    from minidl import __version__

    return {"format": kind, "format_version": FORMAT_VERSION, "minidl_version": __version__, **extra}


def save_weights(model, filepath, overwrite=True, save_format=None):
    """Write only the weights of ``model`` (see the module docstring; Keras 2's layout
    for a name ending in .h5 or .hdf5, or ``save_format="h5"``)."""
    from minidl.models import keras_h5

    _check_built(model, "save_weights")
    h5py = _h5py_or_warn(filepath, "save_weights") if _save_format(
        filepath, save_format, "save_weights") == "h5" else None
    if h5py is not None:
        data = keras_h5.weights_h5(h5py, model)
        with _replacing(filepath, overwrite) as handle:
            handle.write(data)
        return

    def write(archive):
        entries = _write_weights(archive, model)
        archive.writestr(MANIFEST, json.dumps(_manifest("minidl-weights", weights=entries), indent=1))

    _atomic_write(filepath, write, overwrite)


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None):
    """Write architecture, weights, optimizer state and compile settings of ``model``
    (Keras 3's layout too when ``filepath`` ends in ``.keras``, Keras 2's HDF5 file for
    ``.h5``, ``.hdf5`` or ``save_format="h5"``: see the module docstring).

    Losses and metrics are stored by name (built-in functions), as class and
    config (built-in classes), or by the name of your own function or class,
    which ``load_model`` then looks up in ``custom_objects``.
    """
    from minidl import losses, metrics, optimizers
    from minidl.models import keras_h5

    _check_built(model, "save")
    file_format = _save_format(filepath, save_format, "save")
    if file_format == "h5":
        keras_h5.check_writable(model)
    architecture = {"class_name": get_registered_name(type(model)), "config": model.get_config(),
                    "build_config": {"input_shapes": [list(s) for s in model.input_shapes]}}
    try:
        architecture_json = json.dumps(architecture, indent=1, default=json_default)
    except TypeError as error:
        raise ValueError(
            f"save(): the configuration of model {model.name!r} is not JSON-serializable ({error}); a "
            f"subclassed model must implement get_config() with plain values, or use save_weights()."
        ) from None
    compile_config = None
    optimizer = getattr(model, "optimizer", None)
    if getattr(model, "compiled_loss", None) is not None:
        args = model._compile_args
        compile_config = {
            "loss": _serialize_nested(args["loss"], losses.serialize),
            "metrics": _serialize_nested(args["metrics"], metrics.serialize),
            "weighted_metrics": _serialize_nested(args["weighted_metrics"], metrics.serialize),
            "loss_weights": args["loss_weights"],
        }

    optimizer = optimizer if include_optimizer else None
    h5py = _h5py_or_warn(filepath, "save") if file_format == "h5" else None
    if h5py is not None:
        compiled = compile_config is not None and optimizer is not None
        data = keras_h5.model_h5(
            h5py, model, keras_h5.model_config({key: architecture[key]
                                                for key in ("class_name", "config")}),
            keras_h5.training_config(model, optimizer) if compiled else None,
            optimizer if compiled else None)
        with _replacing(filepath, overwrite) as handle:
            handle.write(data)
        return
    keras_plan = _keras_plan(model, filepath) if file_format == "keras" else None
    if keras_plan is not None:
        write = keras_writer_function(model, keras_plan, architecture_json, compile_config,
                                      optimizer)
        _atomic_write(filepath, write, overwrite)
        return

    def write(archive):
        entries = _write_weights(archive, model)
        optimizer_entry = None
        if optimizer is not None:
            state = optimizer.get_state(list(model.trainable_weights))
            files = []
            for i, slots in enumerate(state["slots"]):
                names = []
                for j, array in enumerate(slots):
                    file = f"optimizer/{i:04d}_{j}.npy"
                    _write_array(archive, file, array)
                    names.append(file)
                files.append(names)
            optimizer_entry = {
                **optimizers.serialize(optimizer), "iterations": state["iterations"], "slots": files,
            }
        archive.writestr("model.json", architecture_json)
        manifest = _manifest("minidl-model", weights=entries, optimizer=optimizer_entry,
                             compile=compile_config)
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))

    _atomic_write(filepath, write, overwrite)


def _keras_plan(model, filepath):
    """``(h5py, KerasPlan)`` when ``filepath`` ends in ``.keras`` and Keras 3 can rebuild
    ``model``; else None, after a warning saying why the file is minidl's own layout."""
    from minidl.models import keras_writer

    try:
        import h5py
    except ImportError:
        warnings.warn(
            f"save({os.fspath(filepath)!r}): writing Keras 3's .keras layout needs h5py, an "
            f"optional extra: pip install minidl[keras]  (or: pip install h5py). The file is "
            f"minidl's own format instead: minidl's load_model reads it, Keras cannot.",
            stacklevel=4)
        return None
    try:
        return h5py, keras_writer.plan(model)
    except keras_writer.NotKerasWritable as reason:
        warnings.warn(
            f"save({os.fspath(filepath)!r}): Keras 3 could not load this model ({reason}) "
            f"The file is minidl's own format: minidl's load_model reads it, Keras cannot.",
            stacklevel=4)
        return None


def keras_writer_function(model, keras_plan, architecture_json, compile_config, optimizer):
    """``write(archive)`` putting Keras 3's three members in the archive, and minidl's
    manifest and model.json beside them (Keras ignores them): the manifest names, for
    each weight and optimizer slot, its dataset in model.weights.h5, so minidl reads every
    array from there and Keras and minidl share one copy of each."""
    from minidl import __version__, optimizers
    from minidl.models import keras_writer

    h5py, plan = keras_plan
    datasets = list(zip(plan.weight_paths, (w.data for w in model.weights)))
    keras_config = dict(plan.config)
    optimizer_entry, optimizer_name = None, None
    if optimizer is not None:
        keras_optimizer = keras_writer.optimizer_variables(model, optimizer, plan)
        state = optimizer.get_state(list(model.trainable_weights))
        if keras_optimizer is not None:
            optimizer_config, arrays, slot_paths = keras_optimizer
            datasets += arrays
            optimizer_name = optimizer_config["config"].get("name")
            keras_compile = keras_writer.compile_config(model._compile_args, optimizer_config) if (
                compile_config is not None) else None
            if keras_compile is not None:
                keras_config["compile_config"] = keras_compile
        else:  # Keras's layout of this optimizer is not known: minidl's slots, Keras-invisible
            slot_paths = [[f"minidl_optimizer/{i:04d}_{j}" for j in range(len(slots))]
                          for i, slots in enumerate(state["slots"])]
            datasets += [(path, array) for paths, slots in zip(slot_paths, state["slots"])
                         for path, array in zip(paths, slots)]
        optimizer_entry = {**optimizers.serialize(optimizer), "iterations": state["iterations"],
                           "slots": slot_paths}
    entries = [{"name": w.name or "Variable", "shape": list(w.shape), "dtype": str(w.dtype),
                "file": path} for w, path in zip(model.weights, plan.weight_paths)]
    manifest = _manifest("minidl-model", weights_file=KERAS_WEIGHTS, weights=entries,
                         optimizer=optimizer_entry, compile=compile_config)
    metadata = {"keras_version": keras_writer.KERAS_VERSION,
                "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"minidl {__version__}"}

    def write(archive):
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(keras_config, default=json_default))
        archive.writestr(KERAS_WEIGHTS, keras_writer.weights_h5(h5py, plan.groups, datasets,
                                                                optimizer_name))
        archive.writestr("model.json", architecture_json)
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))

    return write


def _serialize_nested(value, serialize):
    """A loss/metric argument (single, list or dict) as JSON-able data; your own
    functions and classes become ``{"custom_object": name}``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: _serialize_nested(v, serialize) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_nested(v, serialize) for v in value]
    result = serialize(value)
    if result is not None:
        return result
    name = get_registered_name(value if hasattr(value, "__name__") else type(value))
    config = getattr(value, "get_config", None)
    entry = {"custom_object": name}
    if config is not None and not isinstance(value, type):
        try:
            entry["config"] = json.loads(json.dumps(config()))
        except (TypeError, ValueError, NotImplementedError):
            pass
    return entry


def _deserialize_nested(value, deserialize, custom_objects, missing):
    """The inverse of ``_serialize_nested``; names of your own objects that
    ``custom_objects`` lacks are added to ``missing``."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_deserialize_nested(v, deserialize, custom_objects, missing) for v in value]
    if isinstance(value, dict) and "custom_object" in value:
        name = value["custom_object"]
        found = get_registered_object(name, custom_objects)
        if found is None:
            missing.append(name)
            return None
        if isinstance(found, type) and "config" in value:
            return found.from_config(value["config"]) if hasattr(found, "from_config") else found(
                **value["config"])
        return found
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _deserialize_nested(v, deserialize, custom_objects, missing)
                for k, v in value.items()}
    return deserialize(value)


def _check_built(model, method):
    if not getattr(model, "built", False):
        raise ValueError(
            f"{method}(): model {getattr(model, 'name', '')!r} has no weights yet; build it first "
            f"(give the first layer an input_shape, or call fit() or the model on data)."
        )


# --- reading ---------------------------------------------------------------
# What a configuration of the wrong types or nesting makes layers.deserialize, the models'
# from_config, the optimizers' and losses' deserialize and compile() raise.
_CONFIG_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)
_JSON_MAX = 16 << 20  # bytes of minidl.json or model.json: far more than any model needs
_WEIGHT_DTYPES = ("float32", "float64")
class _Archive:
    """A minidl zip opened for reading, its manifest checked, with errors that name the file.

    Only a regular file is opened, a zip naming a member twice is refused, and each member
    is read with a limit: what its data must take (see ``minidl.utils.file_checks``)."""

    def __init__(self, filepath, expected):
        self.path = os.fspath(filepath)
        self.manifest, self._h5 = None, None
        try:
            self.handle = open_regular(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {self.path!r}.") from None
        try:
            self.zip = self._open_zip(expected)
        except BaseException:
            self.handle.close()
            raise
        try:
            self.manifest = self._read_manifest(expected)
        except BaseException:
            self.close()
            raise

    def _open_zip(self, expected):
        try:
            return open_zip(self.handle, self.path)
        except zipfile.BadZipFile:
            raise FileFormatError(self._not_ours("it is not a zip archive", expected)) from None
        except STREAM_ERRORS as error:
            raise FileFormatError(f"{self.path!r} is damaged or truncated ({error}).") from None

    def _read_manifest(self, expected):
        if MANIFEST not in self.zip.namelist():
            raise FileFormatError(self._not_ours(f"it has no {MANIFEST}", expected))
        manifest = self.read_json(MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") not in (
                "minidl-model", "minidl-weights"):
            raise FileFormatError(self._not_ours("its manifest is not minidl's", expected))
        version = manifest.get("format_version")
        if type(version) is not int or version != FORMAT_VERSION:  # (True == 1 in Python)
            raise FileFormatError(
                f"{self.path!r} uses minidl file format version {version!r}; this minidl "
                f"({_version()}) reads version {FORMAT_VERSION}. Save it again with a matching minidl."
            )
        if expected == "minidl-model" and manifest["format"] != "minidl-model":
            raise FileFormatError(
                f"{self.path!r} holds only weights (written by save_weights()); rebuild the model "
                f"and call model.load_weights({self.path!r}) instead of load_model()."
            )
        _check_manifest(manifest, self.path)
        return manifest

    def _not_ours(self, reason, expected):
        writer = "model.save()" if expected == "minidl-model" else "model.save_weights()"
        return f"{self.path!r} is not a minidl file ({reason}); expected a file written by {writer}."

    def read_json(self, name):
        """The JSON member ``name`` (at most 16 MiB), parsed."""
        def read():
            with open_member(self.zip, name, _JSON_MAX, self.where(name)) as stream:
                return stream.read()  # the stream stops at the size open_member checked

        raw = self._read(name, read)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise FileFormatError(
                f"{self.where(name)} is not valid JSON ({_reason(error)})."
            ) from None

    def read_array(self, name, shape, dtype):
        """The array in member ``name``, which must have ``shape`` and ``dtype`` (a real
        float type): its ``.npy`` header is checked before any data is read, and no more
        data is read than that shape and dtype need.  In a ``.keras`` file (the manifest
        names a ``weights_file``) ``name`` is a dataset of that HDF5 member instead."""
        if self.manifest is not None and self.manifest.get("weights_file"):
            return self._read_h5_array(name, tuple(shape), np.dtype(dtype))
        where = self.where(name)
        shape, dtype = tuple(shape), np.dtype(dtype)

        def check_header(found_shape, found_dtype):
            if found_dtype.name != dtype.name or found_shape != shape:
                raise FileFormatError(
                    f"{where} holds an array of dtype {found_dtype} and shape {found_shape}; "
                    f"expected dtype {dtype.name} and shape {shape}."
                )

        return self._read(name, lambda: read_npy_member(
            self.zip, name, where, math.prod(shape) * dtype.itemsize, check_header))

    def _read_h5_array(self, name, shape, dtype):
        """Dataset ``name`` of the HDF5 member: a plain dataset (no link, no external or
        virtual storage) of exactly ``shape`` and ``dtype``, checked before it is read."""
        h5py = _require_h5py(self.path)
        where = f"{self.where(KERAS_WEIGHTS)}: {name}"
        if self._h5 is None:
            limit = _H5_OVERHEAD + 2 * _manifest_bytes(self.manifest)
            raw = self._read(KERAS_WEIGHTS, lambda: _read_member(self.zip, KERAS_WEIGHTS, limit,
                                                                 self.where(KERAS_WEIGHTS)))
            try:
                self._h5 = h5py.File(io.BytesIO(raw), "r")
            except OSError as error:
                raise FileFormatError(f"{self.where(KERAS_WEIGHTS)} is not an HDF5 file "
                                      f"({error}).") from None
        try:
            link = self._h5.get(name, getlink=True)
            dataset = self._h5.get(name) if isinstance(link, h5py.HardLink) else None
        except (KeyError, ValueError, OSError):
            dataset = None
        if not isinstance(dataset, h5py.Dataset) or dataset.external or dataset.is_virtual:
            raise FileFormatError(f"{where} is missing or not a plain dataset.")
        if tuple(dataset.shape) != shape or dataset.dtype != dtype:
            raise FileFormatError(
                f"{where} holds an array of dtype {dataset.dtype} and shape "
                f"{tuple(dataset.shape)}; expected dtype {dtype.name} and shape {shape}.")
        try:
            return np.array(dataset[()], dtype=dtype)
        except OSError as error:
            raise FileFormatError(f"{where} is damaged ({error}).") from None

    def _read(self, name, read):
        """``read()``, with a damaged or missing member reported as FileFormatError."""
        try:
            return read()
        except (*STREAM_ERRORS, KeyError) as error:
            raise FileFormatError(
                f"{self.path!r} is damaged or truncated: cannot read {name} ({error})."
            ) from None

    def where(self, name):
        """How messages name member ``name``: the file, then the member."""
        return f"{self.path!r}: {name}"

    def close(self):
        if self._h5 is not None:
            self._h5.close()
        self.zip.close()
        self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_H5_OVERHEAD = 4 << 20  # bytes of model.weights.h5 beyond its arrays: HDF5's own records


def _manifest_bytes(manifest):
    """Bytes of the arrays the manifest lists (weights; slots at most 3 times as many)."""
    weights = sum(math.prod(e["shape"]) * 8 for e in manifest["weights"])
    return 4 * weights


def _read_member(archive, name, limit, where):
    with open_member(archive, name, limit, where) as stream:
        return stream.read()


def _require_h5py(path):
    try:
        import h5py
    except ImportError:
        raise ImportError(
            f"{path!r} is a .keras file whose arrays are in HDF5; reading it needs h5py, an "
            f"optional extra of minidl: pip install minidl[keras]  (or: pip install h5py)."
        ) from None
    return h5py


def _check_manifest(manifest, path):
    """Check the type of every field of the manifest before any is used, so that a damaged
    or hand-edited file is refused naming the field, not with a KeyError or TypeError deep
    in the loading code. (Shapes are compared with the model's, dtypes with each array's
    header, when they are read.)"""
    _check(isinstance(manifest.get("minidl_version"), str), path, "minidl_version", "a string",
           manifest.get("minidl_version"))
    weights_file = manifest.get("weights_file")
    _check(weights_file in (None, KERAS_WEIGHTS), path, "weights_file",
           f"absent or {KERAS_WEIGHTS!r}", weights_file)
    weights = manifest.get("weights")
    _check(isinstance(weights, list), path, "weights", "a list", weights)
    for i, entry in enumerate(weights):
        _check_weight_entry(entry, path, f"weights[{i}]")
    if manifest["format"] == "minidl-model":
        optimizer, compile_config = manifest.get("optimizer"), manifest.get("compile")
        _check(optimizer is None or isinstance(optimizer, dict), path, "optimizer",
               "an object or null", optimizer)
        if optimizer is not None:
            _check_optimizer_entry(optimizer, path)
        _check(compile_config is None or isinstance(compile_config, dict), path, "compile",
               "an object or null", compile_config)


def _check_weight_entry(entry, path, field):
    _check(isinstance(entry, dict), path, field, "an object", entry)
    for key in ("name", "file"):
        _check(isinstance(entry.get(key), str), path, f"{field}.{key}", "a string",
               entry.get(key))
    shape = entry.get("shape")
    _check(isinstance(shape, list) and all(_is_count(d) for d in shape), path, f"{field}.shape",
           "a list of non-negative integers", shape)
    _check(entry.get("dtype") in _WEIGHT_DTYPES, path, f"{field}.dtype",
           " or ".join(repr(d) for d in _WEIGHT_DTYPES), entry.get("dtype"))


def _check_optimizer_entry(entry, path):
    _check(isinstance(entry.get("class_name"), str), path, "optimizer.class_name", "a string",
           entry.get("class_name"))
    _check(isinstance(entry.get("config"), dict), path, "optimizer.config", "an object",
           entry.get("config"))
    _check(_is_count(entry.get("iterations")), path, "optimizer.iterations",
           "a non-negative integer", entry.get("iterations"))
    slots = entry.get("slots")
    _check(isinstance(slots, list) and all(
        isinstance(files, list) and all(isinstance(f, str) for f in files) for files in slots),
        path, "optimizer.slots", "a list of lists of file names", slots)


def _is_count(value):
    """A non-negative int (JSON's true and false are Python bools, which are ints too)."""
    return type(value) is int and value >= 0


def _check(condition, path, field, expected, found):
    """Unless ``condition``, raise FileFormatError naming the file, the manifest's field,
    what it should be and (shortened) what it is."""
    if not condition:
        raise FileFormatError(
            f"{path!r}: in {MANIFEST}, {field} should be {expected}, found {reprlib.repr(found)}."
        )


def _reason(error):
    """An error met in a file's contents, in a few words (it may quote a long config)."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    text = str(error)
    return text if len(text) <= 200 else text[:197] + "..."


def _version():
    from minidl import __version__

    return __version__


def _read_weights(archive, model):
    """Every weight array of the file, checked against ``model``'s weights: their count and
    shapes in the manifest before anything is read, each array's dtype in its header."""
    entries = archive.manifest["weights"]
    weights = list(model.weights)
    if len(entries) != len(weights):
        raise FileFormatError(
            f"{archive.path!r} holds {len(entries)} weight arrays but model {model.name!r} has "
            f"{len(weights)} weights; was it saved from a different architecture?"
        )
    for entry, weight in zip(entries, weights):
        if tuple(entry["shape"]) != tuple(weight.shape):
            raise FileFormatError(
                f"{archive.path!r}: weight {entry['name']!r} has shape {tuple(entry['shape'])} "
                f"but {weight.name!r} of model {model.name!r} has shape {tuple(weight.shape)}."
            )
    return [archive.read_array(entry["file"], entry["shape"], entry["dtype"]) for entry in entries]


def _read_optimizer(archive, model, custom_objects=None):
    """The optimizer the file was saved with and its state, or ``(None, None)``.

    Its class (and its schedule's) comes from minidl's fixed list or ``custom_objects``
    (``optimizers.deserialize``); its state must
    be one array per slot name for each trainable weight, of that weight's shape and
    dtype, and the slots the optimizer names in ``nonnegative_slots()`` (sums and
    running means of squared gradients, Adamax's u) non-negative and finite."""
    from minidl import optimizers

    entry = archive.manifest.get("optimizer")
    if entry is None:
        return None, None
    try:
        optimizer = optimizers.deserialize(entry, custom_objects)
    except _CONFIG_ERRORS as error:
        raise FileFormatError(
            f"{archive.path!r}: cannot rebuild its optimizer {entry['class_name']!r} ({error})."
        ) from None
    names, weights, slots = optimizer.slot_names(), list(model.trainable_weights), entry["slots"]
    if len(slots) != len(weights) or any(len(files) != len(names) for files in slots):
        raise FileFormatError(
            f"{archive.path!r}: in {MANIFEST}, optimizer.slots should list {len(names)} file(s) "
            f"{names} for each of the {len(weights)} trainable weights, found "
            f"{[len(files) for files in slots]}."
        )
    state, nonnegative = [], optimizer.nonnegative_slots()
    for files, weight in zip(slots, weights):
        arrays = [archive.read_array(file, weight.shape, weight.dtype) for file in files]
        for name, file, array in zip(names, files, arrays):
            if name in nonnegative:
                _check_second_moment(array, archive.where(file), name)
        state.append(arrays)
    return optimizer, {"iterations": entry["iterations"], "slots": state}


def _check_second_moment(array, where, name):
    """A running mean or sum of squared gradients (Adam's v and v_max, RMSprop's rms,
    Adagrad's accumulator, ...) or Adamax's running maximum of |g| is never negative, NaN
    or infinite; the update divides by it or its square root, so such a value would
    silently turn the weights into NaN or stop them."""
    bad = array[~(np.isfinite(array) & (array >= 0))]
    if bad.size:
        raise FileFormatError(
            f"{where}: the optimizer slot {name!r} (a running mean or sum of squared gradients, "
            f"or of their size) must "
            f"hold non-negative finite numbers, found {bad.size} that are not, such as {bad[0]}."
        )


def load_weights(model, filepath):
    """Read weights written by ``save_weights`` (or ``save``) into a built model.

    Every array is read and checked before ``assign_all`` sets them all: a refused file
    changes nothing."""
    from minidl.models import keras_files

    _check_built(model, "load_weights")
    if keras_files.is_keras_h5(filepath):
        keras_files.load_h5_weights(model, filepath)
        return
    with _Archive(filepath, "minidl-weights") as archive:
        arrays = _read_weights(archive, model)
    assign_all(model.weights, arrays, f'Model "{model.name}"')


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 (Keras's name)
    """Rebuild a model saved with ``model.save(filepath)``: architecture, weights,
    and (when ``compile``) the optimizer with its state and the compile settings.

    Everything is read and checked before the weights and the optimizer's state are set.
    ``custom_objects`` is in effect for the whole load as a ``custom_object_scope`` (as in
    Keras 2), so every deserializer finds your own objects by name. Keras 3 ``.keras`` files
    are read by ``keras_files`` (uncompiled), Keras 2 ``.h5`` files too (compiled as saved,
    with the optimizer's state, see ``keras_h5``)."""
    from minidl.models import keras_files

    with CustomObjectScope(custom_objects or {}):
        if keras_files.is_keras_archive(filepath) and not _has_manifest(filepath):
            return keras_files.load_keras_model(filepath, custom_objects)
        if keras_files.is_keras_h5(filepath):
            return keras_files.load_keras_h5(filepath, custom_objects, compile)
        with _Archive(filepath, "minidl-model") as archive:
            model = _rebuild_model(archive, custom_objects)
            arrays = _read_weights(archive, model)
            compile_config = archive.manifest.get("compile") if compile else None
            optimizer, state = (_read_optimizer(archive, model, custom_objects) if compile_config
                                else (None, None))
        assign_all(model.weights, arrays, f'Model "{model.name}"')
        if compile_config:
            _compile_from_file(model, compile_config, optimizer, state, custom_objects,
                               archive.path)
    return model


def _has_manifest(filepath):
    """True for a zip holding minidl's manifest (a .keras file minidl wrote)."""
    try:
        with zipfile.ZipFile(filepath) as archive:
            return MANIFEST in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _rebuild_model(archive, custom_objects):
    """The model that model.json describes, built for the input shapes it was saved with.

    ``layers.deserialize`` and the models' ``from_config`` walk the configuration; a wrong
    type or nesting they meet there (nesting deep enough to exhaust Python's recursion
    limit too) becomes a FileFormatError naming the file."""
    from minidl import models

    architecture = archive.read_json("model.json")
    try:
        model = models.model_from_config(architecture, custom_objects)
        _build_from_config(model, architecture.get("build_config"), archive.manifest)
    except _CONFIG_ERRORS as error:
        raise FileFormatError(
            f"{archive.path!r}: cannot rebuild the model from its configuration ({_reason(error)})."
        ) from None
    return model


def _build_from_config(model, build_config, manifest):
    """Build a model whose ``from_config`` gave it no weights yet (a subclassed model
    with its own get_config/from_config) for the input shapes it was saved with.

    ``build_config`` is ``{"input_shapes": [...]}`` or absent. Building runs the model
    once on one sample of zeros: a sample larger than ten times the weights the file
    holds is refused (a crafted file must not make minidl allocate what its contents do
    not need)."""
    if build_config is not None and not (
            isinstance(build_config, dict) and isinstance(build_config.get("input_shapes"), list)):
        raise TypeError(f"build_config should be {{'input_shapes': [...]}}, found {build_config!r}")
    if model.built or not build_config:
        return
    shapes = []
    for shape in build_config["input_shapes"]:
        dims = [int(d) for d in shape[1:]]
        if shape[0] is not None or any(d <= 0 for d in dims):
            raise ValueError(f"input shape {shape} is not a batch shape (None, ...) of positive sizes")
        shapes.append((None, *dims))
    stored = sum(math.prod(entry["shape"]) for entry in manifest.get("weights", []))
    if sum(math.prod(s[1:]) for s in shapes) > max(10 * stored, 1 << 20):
        raise ValueError(f"input shapes {shapes} are far larger than the {stored} weights stored")
    model.build(shapes if len(shapes) > 1 else shapes[0])


def _compile_from_file(model, config, optimizer, state, custom_objects, path):
    """Compile ``model`` as it was when saved, with the optimizer and its state (already
    checked by ``_read_optimizer``); if it was compiled with your own loss or metric missing
    from ``custom_objects``, warn naming it and leave the model uncompiled."""
    from minidl import losses, metrics

    missing = []
    try:
        loss = _deserialize_nested(config["loss"], losses.deserialize, custom_objects, missing)
        metric_list = _deserialize_nested(config["metrics"], metrics.deserialize, custom_objects,
                                          missing)
        weighted = _deserialize_nested(config.get("weighted_metrics"), metrics.deserialize,
                                       custom_objects, missing)
        if not missing:
            model.compile(optimizer=optimizer if optimizer is not None else "rmsprop", loss=loss,
                          metrics=metric_list, loss_weights=config["loss_weights"],
                          weighted_metrics=weighted)
    except _CONFIG_ERRORS as error:
        raise FileFormatError(
            f"{path!r}: its compile settings are damaged ({_reason(error)})."
        ) from None
    if missing:
        names = ", ".join(repr(n) for n in sorted(set(missing)))
        example = ", ".join(f"{n!r}: {n}" for n in sorted(set(missing)))
        warnings.warn(
            f"load_model({path!r}): the model was compiled with your own {names}, which "
            f"custom_objects does not give; it is returned uncompiled. Pass "
            f"custom_objects={{{example}}} to load it compiled, or call compile() again.",
            stacklevel=3,
        )
        return
    if state is not None:
        model.optimizer.set_state(state, list(model.trainable_weights))
