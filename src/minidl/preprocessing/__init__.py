"""Keras 2's ``keras.preprocessing``: the module paths the book's code imports.

``minidl.preprocessing.text`` (``Tokenizer``), ``.sequence`` (``pad_sequences``)
and ``.image`` (``load_img``, ``img_to_array``, ``ImageDataGenerator``), each
loaded when first used; ``timeseries_dataset_from_array``,
``text_dataset_from_directory`` and ``image_dataset_from_directory`` (they are
``minidl.utils``'s), where Keras 2 also has them (the weather example and the
Keras 2.3-2.5 tutorials call them from here).
"""

import importlib

_SUBMODULES = ("text", "sequence", "image")
_FROM_UTILS = (
    "text_dataset_from_directory", "image_dataset_from_directory", "timeseries_dataset_from_array",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minidl.preprocessing.{name}")
    if name in _FROM_UTILS:
        return getattr(importlib.import_module("minidl.utils"), name)
    raise AttributeError(f"module 'minidl.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES) + list(_FROM_UTILS))
