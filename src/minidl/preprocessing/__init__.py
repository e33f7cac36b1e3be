"""Keras 2's ``keras.preprocessing``: the module paths the book's code imports.

``minidl.preprocessing.text`` (``Tokenizer``), ``.sequence`` (``pad_sequences``)
and ``.image`` (``load_img``, ``img_to_array``, ``ImageDataGenerator``), each
loaded when first used.
"""

import importlib

_SUBMODULES = ("text", "sequence", "image")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minidl.preprocessing.{name}")
    raise AttributeError(f"module 'minidl.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
