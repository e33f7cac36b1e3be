"""IMDB: 50,000 film reviews, positive (1) or negative (0), as lists of word indices.

    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
    # x_train: object array of 25000 lists of ints, y_train: int64 (25000,)
    x_train = minidl.utils.pad_sequences(x_train, maxlen=200)   # (25000, 200) int32

Keras's ``imdb.npz`` and ``imdb_word_index.json``, found where the other data
sets are (``minidl.datasets._files``) or downloaded from Keras's address.  What
``load_data`` does to the indices (shuffle, shift by ``index_from``, start and
out-of-vocabulary marks, ``num_words``, ``maxlen``) is Keras's, step by step:
see ``minidl.datasets._text``.  The file is read without unpickling unless it
is Keras's own (``minidl.datasets._object_npz``).

To read a review back:

    index = imdb.get_word_index()                       # {"the": 1, ...}
    words = {rank + 3: word for word, rank in index.items()}
    " ".join(words.get(i, "?") for i in x_train[0])
"""

from __future__ import annotations

import numpy as np

from minidl.datasets._object_npz import load_arrays
from minidl.datasets._text import (check_arguments, drop_long, limit_vocabulary, locate_file,
                                   object_array, read_word_index, shift)

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # Keras publishes an MD5 for this one


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, cache_dir=None, download=True, **kwargs):
    """``(x_train, y_train), (x_test, y_test)`` as Keras returns them.

    ``num_words`` keeps the most frequent words (others become ``oov_char``),
    ``skip_top`` drops the most frequent ones too, ``maxlen`` drops longer
    reviews; ``path`` is a file name searched for, or the file itself;
    ``cache_dir`` (Keras's) the folder whose ``datasets`` subfolder holds it.
    """
    if "nb_words" in kwargs:  # Keras 1's name, still accepted by Keras 2
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"imdb.load_data: unrecognized keyword arguments {sorted(kwargs)}.")
    check_arguments("imdb.load_data", num_words, skip_top, maxlen, seed)
    file = locate_file("IMDB", "imdb.npz", URL + "imdb.npz", SHA256, path, download,
                        cache_dir)
    arrays = load_arrays(file, ("x_train", "x_test"), ("y_train", "y_test"), SHA256)
    rng = np.random.RandomState(seed)
    order = np.arange(len(arrays["x_train"]))
    rng.shuffle(order)
    x_train, y_train = arrays["x_train"][order], arrays["y_train"][order]
    order = np.arange(len(arrays["x_test"]))
    rng.shuffle(order)
    x_test, y_test = arrays["x_test"][order], arrays["y_test"][order]
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if len(x) != len(y):
            raise ValueError(f"{file}: x_{split} holds {len(x)} reviews but y_{split} {len(y)} labels.")
    x_train, y_train = drop_long(shift(x_train, start_char, index_from), y_train, maxlen)
    x_test, y_test = drop_long(shift(x_test, start_char, index_from), y_test, maxlen)
    if maxlen and (not x_train or not x_test):
        raise ValueError(
            f"imdb.load_data: no review is shorter than maxlen={maxlen} in the "
            f"{'training' if not x_train else 'test'} set; increase maxlen."
        )
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    split = len(x_train)
    return (object_array(xs[:split]), y_train), (object_array(xs[split:]), y_test)


def get_word_index(path="imdb_word_index.json", download=True):
    """``{word: rank}``: 1 is the most frequent word.  In ``load_data``'s lists a word
    is ``rank + index_from`` (3 by default)."""
    file = locate_file("IMDB word index", "imdb_word_index.json", URL + "imdb_word_index.json",
                       WORD_INDEX_MD5, path, download)
    return read_word_index(file)
