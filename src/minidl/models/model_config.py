"""A model's architecture as JSON text: ``model.to_json()`` and ``model_from_json``.

    json_string = model.to_json()
    same_architecture = minidl.models.model_from_json(json_string)   # new weights

The text is Keras 2's layout: ``{"class_name": "Sequential", "config": {...},
"keras_version": ..., "backend": ...}``, ``config`` being ``model.get_config()``
(minidl's version and ``"minidl"`` fill the last two).  Only the layers are
described, not the weights: save those with ``save_weights``, or the whole
model with ``model.save``.

Reading is safe: the text is parsed by ``json`` and every class name is looked
up in minidl's fixed lists or among your own objects (``custom_objects``,
``custom_object_scope``, ``register_keras_serializable``); nothing in it is
imported or run.  Keras 2 dropped YAML for that reason (a YAML loader can build
arbitrary Python objects): ``to_yaml`` and ``model_from_yaml`` raise, as there.
"""

from __future__ import annotations

import json

import numpy as np

# What a config of the wrong types or nesting makes layers.deserialize and the models'
# from_config raise (a ValueError passes through as it is).
_CONFIG_ERRORS = (KeyError, TypeError, AttributeError, IndexError, RecursionError)


def json_default(value):
    """``json.dumps``'s fallback for the NumPy values a ``get_config`` may hold
    (an array becomes a list, a NumPy number a Python number), as Keras's."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def model_to_json(model, **kwargs):
    """``model.to_json(**kwargs)``; ``kwargs`` go to ``json.dumps`` (``indent=2``...)."""
    from minidl import __version__
    from minidl.layers import serialize

    config = {**serialize(model), "keras_version": __version__, "backend": "minidl"}
    try:
        return json.dumps(config, default=json_default, **kwargs)
    except TypeError as error:
        raise ValueError(
            f"to_json(): the configuration of model {model.name!r} is not JSON-serializable "
            f"({error}); get_config() of your own layers and models must return plain values "
            "(numbers, strings, lists, dicts)."
        ) from None


def model_from_json(json_string, custom_objects=None):
    """A new, freshly initialised model from ``model.to_json()``'s text.

    ``custom_objects`` maps names to your own classes and functions (see
    ``minidl.utils.custom_object_scope`` and ``register_keras_serializable``
    for the other two ways)."""
    from minidl.models import model_from_config

    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(
            f"model_from_json() takes the text model.to_json() returned, received "
            f"{type(json_string).__name__}."
        )
    try:
        config = json.loads(json_string)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"model_from_json(): the text is not valid JSON ({error}).") from None
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            "model_from_json(): expected an object {\"class_name\": ..., \"config\": {...}} as "
            f"model.to_json() writes, received {_short(config)}."
        )
    config = {key: config[key] for key in ("class_name", "config")}
    try:
        return model_from_config(config, custom_objects=custom_objects)
    except _CONFIG_ERRORS as error:
        raise ValueError(
            f"model_from_json(): cannot rebuild the model {config['class_name']!r} from this "
            f"configuration ({type(error).__name__}: {_short(error)})."
        ) from None


def model_from_yaml(yaml_string, custom_objects=None):
    """Removed, as in Keras 2.6 and later: YAML loading can run code."""
    raise RuntimeError(
        "Method `model_from_yaml()` has been removed due to security risk of arbitrary code "
        "execution. Please use `Model.to_json()` and `model_from_json()` instead."
    )


def _short(value):
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
