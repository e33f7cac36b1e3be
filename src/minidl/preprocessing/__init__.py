"""Keras 2's ``keras.preprocessing``: the module paths the book's code imports.

``minidl.preprocessing.text`` (``Tokenizer``), ``.sequence`` (``pad_sequences``)
and ``.image`` (``load_img``, ``img_to_array``, ``ImageDataGenerator``), each
loaded when first used; ``timeseries_dataset_from_array`` (``minidl.utils``'s),
where Keras 2 also has it.
"""

import importlib

_SUBMODULES = ("text", "sequence", "image")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minidl.preprocessing.{name}")
    if name == "timeseries_dataset_from_array":
        from minidl.utils.timeseries_dataset import timeseries_dataset_from_array

        return timeseries_dataset_from_array
    raise AttributeError(f"module 'minidl.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES) + ["timeseries_dataset_from_array"])
