"""Reuters: 11,228 newswires in 46 topics, as lists of word indices.

    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)
    # object arrays of lists of ints; labels int64 in 0..45 (reuters.get_label_names())

Keras's ``reuters.npz`` (one list of all newswires, split here: the last
``test_split`` of them, after shuffling, are the test set) and
``reuters_word_index.json``, found where the other data sets are or downloaded
from Keras's address.  The word indices are processed as for IMDB (see
``minidl.datasets._text``); the file is read without unpickling unless it is
Keras's own (``minidl.datasets._object_npz``).
"""

from __future__ import annotations

import numpy as np

from minidl.datasets._object_npz import load_arrays
from minidl.datasets._text import (check_arguments, drop_long, limit_vocabulary, locate_file,
                                   object_array, read_word_index, shift)

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # Keras publishes an MD5 for this one
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, cache_dir=None, download=True,
              **kwargs):
    """``(x_train, y_train), (x_test, y_test)`` as Keras returns them (see imdb.load_data
    for the word arguments); ``test_split`` is the fraction kept for testing."""
    if "nb_words" in kwargs:  # Keras 1's name, still accepted by Keras 2
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"reuters.load_data: unrecognized keyword arguments {sorted(kwargs)}.")
    check_arguments("reuters.load_data", num_words, skip_top, maxlen, seed)
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) or not 0 <= test_split <= 1:
        raise ValueError(f"reuters.load_data: test_split must be a number in [0, 1], received {test_split!r}.")
    file = locate_file("Reuters", "reuters.npz", URL + "reuters.npz", SHA256, path, download,
                        cache_dir)
    arrays = load_arrays(file, ("x",), ("y",), SHA256)
    if len(arrays["x"]) != len(arrays["y"]):
        raise ValueError(f"{file}: x holds {len(arrays['x'])} newswires but y {len(arrays['y'])} labels.")
    order = np.arange(len(arrays["x"]))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = drop_long(shift(arrays["x"][order], start_char, index_from), arrays["y"][order],
                           maxlen)
    if maxlen and not xs:  # (Keras fails here on max() of nothing, or returns empty sets)
        raise ValueError(f"reuters.load_data: no newswire is shorter than maxlen={maxlen}; "
                         "increase maxlen.")
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    return ((object_array(xs[:split]), np.array(labels[:split])),
            (object_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json", download=True):
    """``{word: rank}``: 1 is the most frequent word.  In ``load_data``'s lists a word
    is ``rank + index_from`` (3 by default)."""
    file = locate_file("Reuters word index", "reuters_word_index.json",
                       URL + "reuters_word_index.json", WORD_INDEX_MD5, path, download)
    return read_word_index(file)


def get_label_names():
    """The 46 topics, in label order (Keras's ``reuters.get_label_names()``)."""
    return LABEL_NAMES
