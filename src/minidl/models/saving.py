"""Saving and loading models: one zip file, readable with any zip tool.

The ``.mdl`` format (any file name works), format version 1::

    minidl.json          {"format": "minidl-model" | "minidl-weights", "format_version": 1,
                          "minidl_version": ..., "weights": [{"name", "shape", "dtype", "file"}],
                          "optimizer": {...} or null, "compile": {...} or null}
    model.json           the architecture: {"class_name": ..., "config": model.get_config(),
                         "build_config": {"input_shapes": [[None, 784], ...]}}
    weights/0000.npy     every weight of model.weights, in order (np.save format)
    optimizer/0000.npy   the optimizer's slots (Adam's m, v, ...) per trainable weight

``model.save(path)`` writes all of it; ``load_model(path)`` rebuilds the model,
its weights, and -- when the loss and metrics were given by name -- compiles
it with the restored optimizer, so ``fit()`` continues where it stopped.
``save_weights``/``load_weights`` write and read only the weights.

Writes are atomic: the archive goes to a temporary file in the same directory,
is flushed and fsynced, then renamed over the target (``os.replace``), so a
crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import warnings
import zipfile
import zlib

import numpy as np

FORMAT_VERSION = 1
MANIFEST = "minidl.json"


class FileFormatError(ValueError):
    """A file that is not a (complete, readable) minidl model or weights file."""


_READ_ERRORS = (KeyError, zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error)


# --- writing ---------------------------------------------------------------
def _atomic_write(filepath, write, overwrite):
    """Call ``write(zipfile)`` into a temp file next to ``filepath``, then rename it into place."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise FileExistsError(f"cannot save to {filepath!r}: {directory!r} is a file, not a folder.")
        os.makedirs(directory, exist_ok=True)  # as TensorFlow does: "training_1/cp.ckpt"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(filepath)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
                write(archive)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


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
            "name": weight.name, "shape": list(weight.shape), "dtype": str(weight.dtype), "file": file,
        })
    return entries


def _manifest(kind, **extra):
    from minidl import __version__

    return {"format": kind, "format_version": FORMAT_VERSION, "minidl_version": __version__, **extra}


def save_weights(model, filepath, overwrite=True):
    """Write only the weights of ``model`` (see the module docstring)."""
    _check_built(model, "save_weights")

    def write(archive):
        entries = _write_weights(archive, model)
        archive.writestr(MANIFEST, json.dumps(_manifest("minidl-weights", weights=entries), indent=1))

    _atomic_write(filepath, write, overwrite)


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write architecture, weights, optimizer state and compile settings of ``model``.

    Losses and metrics are stored by name (built-in functions), as class and
    config (built-in classes), or by the name of your own function or class,
    which ``load_model`` then looks up in ``custom_objects``.
    """
    from minidl import losses, metrics, optimizers

    _check_built(model, "save")
    architecture = {"class_name": type(model).__name__, "config": model.get_config(),
                    "build_config": {"input_shapes": [list(s) for s in model.input_shapes]}}
    try:
        architecture_json = json.dumps(architecture, indent=1)
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
            "loss_weights": args["loss_weights"],
        }

    def write(archive):
        entries = _write_weights(archive, model)
        optimizer_entry = None
        if include_optimizer and optimizer is not None:
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
    name = getattr(value, "__name__", None) or type(value).__name__
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
        found = (custom_objects or {}).get(name)
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
class _Archive:
    """A minidl zip opened for reading, with errors that name the file."""

    def __init__(self, filepath, expected):
        self.path = os.fspath(filepath)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no such file: {self.path!r}.")
        if os.path.isdir(self.path):
            raise FileFormatError(f"{self.path!r} is a directory, not a minidl model file.")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise FileFormatError(self._not_ours("it is not a zip archive", expected)) from None
        try:
            manifest = json.loads(self.zip.read(MANIFEST))
        except KeyError:
            self.zip.close()
            raise FileFormatError(self._not_ours(f"it has no {MANIFEST}", expected)) from None
        except _READ_ERRORS as error:
            self.zip.close()
            raise FileFormatError(f"{self.path!r} is damaged or truncated ({error}).") from None
        if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith("minidl-"):
            self.zip.close()
            raise FileFormatError(self._not_ours("its manifest is not minidl's", expected))
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            self.zip.close()
            raise FileFormatError(
                f"{self.path!r} uses minidl file format version {version!r}; this minidl "
                f"({_version()}) reads version {FORMAT_VERSION}. Save it again with a matching minidl."
            )
        if expected == "minidl-model" and manifest["format"] != "minidl-model":
            self.zip.close()
            raise FileFormatError(
                f"{self.path!r} holds only weights (written by save_weights()); rebuild the model "
                f"and call model.load_weights({self.path!r}) instead of load_model()."
            )
        self.manifest = manifest

    def _not_ours(self, reason, expected):
        writer = "model.save()" if expected == "minidl-model" else "model.save_weights()"
        return f"{self.path!r} is not a minidl file ({reason}); expected a file written by {writer}."

    def read_json(self, name):
        return self._parse(name, json.loads)

    def read_array(self, name):
        return self._parse(name, lambda raw: np.load(io.BytesIO(raw), allow_pickle=False))

    def _parse(self, name, parse):
        try:
            return parse(self.zip.read(name))
        except _READ_ERRORS as error:
            raise FileFormatError(
                f"{self.path!r} is damaged or truncated: cannot read {name} ({error})."
            ) from None

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _version():
    from minidl import __version__

    return __version__


def _read_weights(archive, model):
    entries = archive.manifest.get("weights", [])
    weights = list(model.weights)
    if len(entries) != len(weights):
        raise ValueError(
            f"{archive.path!r} holds {len(entries)} weight arrays but model {model.name!r} has "
            f"{len(weights)} weights; was it saved from a different architecture?"
        )
    arrays = []
    for entry, weight in zip(entries, weights):
        array = archive.read_array(entry["file"])
        if tuple(array.shape) != tuple(weight.shape):
            raise ValueError(
                f"{archive.path!r}: weight {entry['name']!r} has shape {tuple(array.shape)} but "
                f"{weight.name!r} of model {model.name!r} has shape {tuple(weight.shape)}."
            )
        arrays.append(array)
    return arrays


def load_weights(model, filepath):
    """Read weights written by ``save_weights`` (or ``save``) into a built model."""
    _check_built(model, "load_weights")
    with _Archive(filepath, "minidl-weights") as archive:
        arrays = _read_weights(archive, model)
    for weight, array in zip(model.weights, arrays):  # all read and checked: now assign
        weight.assign(array)


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 (Keras's name)
    """Rebuild a model saved with ``model.save(filepath)``: architecture, weights,
    and (when ``compile``) the optimizer with its state and the compile settings."""
    from minidl import models

    with _Archive(filepath, "minidl-model") as archive:
        architecture = archive.read_json("model.json")
        try:
            model = models.model_from_config(architecture, custom_objects)
            _build_from_config(model, architecture.get("build_config"), archive.manifest)
        except (KeyError, TypeError, ValueError) as error:
            raise FileFormatError(
                f"{archive.path!r}: cannot rebuild the model from its configuration ({error})."
            ) from None
        arrays = _read_weights(archive, model)
        manifest = archive.manifest
        optimizer_entry = manifest.get("optimizer")
        slots = None
        if compile and optimizer_entry:
            slots = [[archive.read_array(f) for f in files] for files in optimizer_entry["slots"]]
    for weight, array in zip(model.weights, arrays):
        weight.assign(array)
    compile_config = manifest.get("compile")
    if compile and compile_config:
        _compile_from_file(model, compile_config, optimizer_entry, slots, custom_objects,
                           archive.path)
    return model


def _build_from_config(model, build_config, manifest):
    """Build a model whose ``from_config`` gave it no weights yet (a subclassed model
    with its own get_config/from_config) for the input shapes it was saved with.

    Building runs the model once on one sample of zeros: a sample larger than ten
    times the weights the file holds is refused (a crafted file must not make
    minidl allocate what its contents do not need)."""
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


def _compile_from_file(model, config, optimizer_entry, slots, custom_objects, path):
    """Compile ``model`` as it was when saved, with the optimizer's state; if it was
    compiled with your own loss or metric missing from ``custom_objects``, warn
    naming it and leave the model uncompiled."""
    from minidl import losses, metrics, optimizers

    missing = []
    try:
        loss = _deserialize_nested(config["loss"], losses.deserialize, custom_objects, missing)
        metric_list = _deserialize_nested(config["metrics"], metrics.deserialize, custom_objects,
                                          missing)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FileFormatError(f"{path!r}: its compile settings are damaged ({error}).") from None
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
    optimizer = optimizers.deserialize(optimizer_entry) if optimizer_entry else "rmsprop"
    model.compile(optimizer=optimizer, loss=loss, metrics=metric_list,
                  loss_weights=config["loss_weights"])
    if slots is not None:
        model.optimizer.set_state(
            {"iterations": optimizer_entry["iterations"], "slots": slots},
            list(model.trainable_weights),
        )


