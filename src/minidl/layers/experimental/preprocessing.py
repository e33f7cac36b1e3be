"""``keras.layers.experimental.preprocessing``: the preprocessing layers under the
names TensorFlow 2.3-2.5 gave them; each is the class ``minidl.layers.<name>``."""

from minidl.layers.augmentation import (
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from minidl.layers.augmentation_sizes import RandomCrop, RandomHeight, RandomWidth
from minidl.layers.category_encoding import CategoryEncoding
from minidl.layers.discretization import Discretization
from minidl.layers.hashing import HashedCrossing, Hashing
from minidl.layers.image_preprocessing import CenterCrop, Resizing
from minidl.layers.index_lookup import IntegerLookup, StringLookup
from minidl.layers.preprocessing import Normalization, Rescaling
from minidl.layers.text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "Normalization", "RandomContrast", "RandomCrop", "RandomFlip",
    "RandomHeight", "RandomRotation", "RandomTranslation", "RandomWidth", "RandomZoom",
    "Rescaling", "Resizing", "StringLookup", "TextVectorization",
]
