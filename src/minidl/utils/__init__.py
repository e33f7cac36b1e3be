"""Helpers the tutorials import from ``keras.utils``.

``to_categorical`` (one-hot labels), ``set_random_seed`` (one call seeds every
generator minidl and the tutorials use), ``normalize`` and ``Progbar`` (the
Keras progress bar ``fit()`` prints); ``Sequence`` (a dataset of batches you
write as a class), ``image_dataset_from_directory`` and
``text_dataset_from_directory`` (folders of images or of .txt files as a
``minidl.data.Dataset``) and ``plot_model`` (a picture of a model's layers;
needs matplotlib); ``timeseries_dataset_from_array`` (sliding windows over a
series, with their targets, as a ``minidl.data.Dataset``); ``pad_sequences``
(lists of word indices as one rectangular array); ``get_file`` (a data file
downloaded once, its hash checked, an archive extracted safely). ``minidl.utils.np_utils`` is Keras 2's
module path of ``to_categorical``.
"""

from minidl.utils.arrays import normalize, to_categorical
from minidl.utils.data_utils import get_file
from minidl.utils.image_dataset import image_dataset_from_directory
from minidl.utils.progbar import Progbar
from minidl.utils.seeding import clear_session, set_random_seed
from minidl.utils.sequence import PyDataset, Sequence
from minidl.utils.sequences import pad_sequences
from minidl.utils.text_dataset import text_dataset_from_directory
from minidl.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "Progbar", "PyDataset", "Sequence", "clear_session", "get_file", "image_dataset_from_directory",
    "normalize", "pad_sequences", "plot_model", "set_random_seed", "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "load_img", "img_to_array", "array_to_img", "save_img",
]

# Your own classes and functions, found again by name when a model is loaded
# (custom_object_scope, register_keras_serializable, ...: see object_registration).
from minidl.utils.object_registration import (  # noqa: E402
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ += [
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "register_keras_serializable",
]


_IMAGE_FUNCTIONS = ("load_img", "img_to_array", "array_to_img", "save_img")  # tf.keras.utils's, since 2.9


def __getattr__(name):
    if name in _IMAGE_FUNCTIONS:
        from minidl.preprocessing import image

        return getattr(image, name)
    # plot_model's layout and drawing code loads on first use, not with every import
    if name == "plot_model":
        from minidl.plot_graphs import plot_model

        return plot_model
    raise AttributeError(f"module 'minidl.utils' has no attribute {name!r}")
