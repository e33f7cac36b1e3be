"""Helpers the tutorials import from ``keras.utils``.

``to_categorical`` (one-hot labels), ``set_random_seed`` (one call seeds every
generator minidl and the tutorials use), ``normalize`` and ``Progbar`` (the
Keras progress bar ``fit()`` prints); ``Sequence`` (a dataset of batches you
write as a class) and ``image_dataset_from_directory`` (folders of images as
a ``minidl.data.Dataset``).
"""

from minidl.utils.arrays import normalize, to_categorical
from minidl.utils.image_dataset import image_dataset_from_directory
from minidl.utils.progbar import Progbar
from minidl.utils.seeding import clear_session, set_random_seed
from minidl.utils.sequence import PyDataset, Sequence

__all__ = [
    "Progbar", "PyDataset", "Sequence", "clear_session", "image_dataset_from_directory",
    "normalize", "set_random_seed", "to_categorical",
]
