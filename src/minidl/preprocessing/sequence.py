"""``keras.preprocessing.sequence``: Keras 2's tools for sequences, under the names
older tutorials import.

* ``pad_sequences`` -- the same function as ``minidl.utils.pad_sequences``.
* ``TimeseriesGenerator(data, targets, length)`` -- batches of windows over a
  series, for ``fit``: sample ``i`` is ``data[row - length:row:sampling_rate]``
  and its target ``targets[row]``, for the rows ``start_index + length`` ..
  ``end_index`` (every ``stride``-th), ``batch_size`` rows a batch.
* ``make_sampling_table(size)`` and ``skipgrams(sequence, vocabulary_size)`` --
  the training pairs of word2vec: (word, a word near it) labelled 1, (word, a
  random word) labelled 0.

Randomness is Keras's: ``skipgrams`` draws from Python's ``random`` module and
``TimeseriesGenerator(shuffle=True)`` from NumPy's global generator, so
``random.seed`` / ``np.random.seed`` give the pairs and batches Keras gives.
"""

from __future__ import annotations

import json
import random

import numpy as np

from minidl.utils.sequence import Sequence
from minidl.utils.sequences import pad_sequences

__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]


class TimeseriesGenerator(Sequence):
    """Windows of ``length`` steps over ``data`` with the target that follows each.

    ``data`` (steps, ...) and ``targets`` (steps, ...) have one entry per step.  The
    window ending before row ``r`` is ``data[r - length:r:sampling_rate]``, its
    target ``targets[r]``; rows go from ``start_index + length`` to ``end_index``
    (default: the last), ``stride`` apart.  ``reverse=True`` gives each window
    latest step first; ``shuffle=True`` draws each batch's rows at random.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128):
        super().__init__()
        if len(data) != len(targets):
            raise ValueError(f"TimeseriesGenerator: data and targets must have the same length, "
                             f"received {len(data)} and {len(targets)}.")
        for name, value in (("length", length), ("sampling_rate", sampling_rate),
                            ("stride", stride), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"TimeseriesGenerator: {name} must be a positive integer, "
                                 f"received {value!r}.")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(
                f"TimeseriesGenerator: start_index + length = {self.start_index} > end_index = "
                f"{self.end_index}: no step is left to predict (the series has {len(data)} "
                "steps; use a shorter length).")

    def __len__(self):
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride,
                                        self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...] if self.reverse else samples), targets

    def get_config(self):
        """Keras's config: ``data`` and ``targets`` as JSON text."""
        def as_json(values, what):
            values = values.tolist() if isinstance(values, np.ndarray) else values
            try:
                return json.dumps(values)
            except TypeError:
                raise TypeError(f"TimeseriesGenerator: {what} cannot be written as JSON.") from None

        return {"data": as_json(self.data, "data"), "targets": as_json(self.targets, "targets"),
                "length": self.length, "sampling_rate": self.sampling_rate,
                "stride": self.stride, "start_index": self.start_index,
                "end_index": self.end_index, "shuffle": self.shuffle, "reverse": self.reverse,
                "batch_size": self.batch_size}

    def to_json(self, **kwargs):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def make_sampling_table(size, sampling_factor=1e-5):
    """``p[i]``: the probability of keeping the word of rank ``i`` in ``skipgrams``.

    Word frequencies are taken to follow Zipf's law, so the frequency of rank r is
    about ``1 / (r (ln r + gamma))``; word2vec keeps a word of frequency f with
    probability ``min(1, sqrt(sampling_factor / f))``, which drops most of the
    frequent words ("the", "a") and keeps the rare ones.
    """
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inverse_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inverse_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True,
              categorical=False, sampling_table=None, seed=None):
    """``(couples, labels)``: ``[word, context]`` pairs of the word indices in
    ``sequence``, labelled 1 for the words at most ``window_size`` apart, and
    ``negative_samples`` times as many pairs of a word and a random index in
    ``[1, vocabulary_size)``, labelled 0 (``[0, 1]`` and ``[1, 0]`` with
    ``categorical``).  Index 0 (padding) is skipped; with ``sampling_table``, word
    ``w`` is used with probability ``sampling_table[w]``.  ``shuffle`` shuffles the
    pairs and labels alike (with ``seed``, the same way each time).
    """
    couples, labels = [], []
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [couple[0] for couple in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, int(vocabulary_size - 1))]
                    for i in range(count)]
        labels += [[1, 0] if categorical else 0 for _ in range(count)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
