"""Keras 2's ``keras.preprocessing``: the module paths the book's code imports.

``minidl.preprocessing.text`` (``Tokenizer``), ``.sequence`` (``pad_sequences``)
and ``.image`` (``load_img``, ``img_to_array``, ``ImageDataGenerator``), each
loaded when first used; and ``text_dataset_from_directory`` and
``image_dataset_from_directory``, which Keras 2.3-2.5 tutorials call from here
(they are ``minidl.utils``'s).
"""

import importlib

_SUBMODULES = ("text", "sequence", "image")
_FROM_UTILS = ("text_dataset_from_directory", "image_dataset_from_directory")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minidl.preprocessing.{name}")
    if name in _FROM_UTILS:
        return getattr(importlib.import_module("minidl.utils"), name)
    raise AttributeError(f"module 'minidl.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES) + list(_FROM_UTILS))
