"""minidl.utils.Sequence, as keras.utils.Sequence (Keras 2) and PyDataset (Keras 3)."""

import math

import numpy as np
import pytest

import minidl
from minidl.utils import PyDataset, Sequence


class Batches(Sequence):
    """The Sequence of Keras 2's documentation: rows of x and y, batch_size at a time."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_a_sequence_gives_its_batches_by_index_and_in_order():
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    batches = Batches(x, y, batch_size=2)
    assert len(batches) == 3
    x_last, y_last = batches[2]
    assert x_last.tolist() == [[8.0, 9.0]] and y_last.tolist() == [4]
    assert [y_batch.tolist() for _, y_batch in batches] == [[0, 1], [2, 3], [4]]


def test_on_epoch_end_is_a_hook():
    batches = Batches(np.zeros((4, 1)), np.zeros(4), 2)
    batches.on_epoch_end()
    assert batches.epochs_ended == 1

    class Plain(Sequence):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros((1, 1))

    assert Plain().on_epoch_end() is None  # the base class's does nothing


def test_keras3_constructor_arguments_are_accepted():
    class Keras3Style(PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return np.full((1, 1), index), np.zeros(1)

    batches = Keras3Style(workers=4, use_multiprocessing=True, max_queue_size=5)
    assert [x.item() for x, _ in batches] == [0, 1]
    assert PyDataset is Sequence


def test_a_sequence_without_len_or_getitem_says_what_to_define():
    class Incomplete(Sequence):
        pass

    with pytest.raises(NotImplementedError, match=r"Incomplete must define __len__"):
        len(Incomplete())
    with pytest.raises(NotImplementedError, match=r"Incomplete must define __getitem__"):
        Incomplete()[0]


def test_the_keras_namespace_has_it():
    assert minidl.keras.utils.Sequence is Sequence
