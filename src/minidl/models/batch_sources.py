"""Feeding fit, evaluate and predict from batches instead of whole arrays.

Besides arrays, Keras's ``fit(x)`` takes something that hands out batches:

* a ``minidl.data.Dataset`` (tf.data's role): each pass over it is an epoch;
* a ``minidl.utils.Sequence``: ``len(seq)`` batches, ``seq[i]`` the i-th; with
  ``shuffle=True`` the order of the batches changes every epoch, and
  ``seq.on_epoch_end()`` runs after each;
* a Python generator (or any iterator): ``next()`` gives the next batch, forever
  or until it stops.

A batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, as in
Keras.  Each is checked and converted like arrays given to ``fit`` (the same
messages), one batch at a time, since the whole data is never in hand.

``steps_per_epoch`` (``steps`` for evaluate/predict) cuts the epochs: then one
iterator goes on from epoch to epoch, as Keras does, and running out of
batches stops training with a warning.  Without it an epoch is one pass.
A Dataset given as ``validation_data`` with ``validation_steps`` is the
exception, as in Keras 2: each evaluation starts a new pass and takes its first
``validation_steps`` batches; once a pass has run short, later evaluations get none.
"""

from __future__ import annotations

import itertools
import warnings


def _feeding_classes():
    """minidl.data.Dataset and minidl.utils.Sequence (imported when first asked)."""
    from minidl.data import Dataset
    from minidl.utils import Sequence

    return Dataset, Sequence


def is_batch_source(x):
    """A Dataset, a Sequence or an iterator (what this module feeds from)."""
    if isinstance(x, _feeding_classes()):
        return True
    return hasattr(x, "__next__") and hasattr(x, "__iter__")


def unpack(batch):
    """``(x, y, sample_weight)`` of one batch (None where absent)."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) in (1, 2, 3):
        return (batch + (None, None))[:3]
    raise ValueError(
        f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); received a tuple of "
        f"{len(batch)} items."
    )


class BatchSource:
    """The batches of a Dataset, a Sequence or an iterator, epoch by epoch."""

    def __init__(self, source, steps=None, shuffle=False, what="x", restart=False):
        classes = _feeding_classes()
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"steps must be a positive integer or None, received {steps!r}.")
        self.source = source
        self.what = what
        self.shuffle = shuffle
        self.is_dataset = isinstance(source, classes[0])
        self.is_sequence = isinstance(source, classes[1])
        self.steps = steps if steps is not None else self._known_length()
        self._running = None  # the iterator that goes on from epoch to epoch
        self._ran_out = False
        self._restart = restart and self.is_dataset  # a new pass for each epoch
        if steps is None and not (self.is_dataset or self.is_sequence):
            self._running = iter(source)  # a generator: one pass, until it stops

    def _pass(self):
        """A new pass over the source (a Dataset's batches as plain NumPy arrays)."""
        return self.source.as_numpy_iterator() if self.is_dataset else iter(self.source)

    def _known_length(self):
        if self.is_sequence:
            return len(self.source)
        if self.is_dataset:
            count = self.source.cardinality()
            return count if count >= 0 else None
        return None

    def first(self):
        """The first batch, to build the model from (a generator keeps it for epoch 1)."""
        if self.is_sequence:
            return self.source[0]
        if self.is_dataset:
            return next(self._pass())
        if self._running is None:
            self._running = self._pass()
        batch = next(self._running, None)
        if batch is None:
            raise ValueError(f"{self.what}: the generator gave no batch at all.")
        self._running = itertools.chain([batch], self._running)
        return batch

    def epoch(self, generator=None):
        """The batches of one epoch (``generator`` shuffles a Sequence's order)."""
        if self.is_sequence and self.steps is not None and self._running is None:
            order = range(len(self.source))
            if self.shuffle and generator is not None:
                order = generator.permutation(len(self.source))
            batches = (self.source[int(i)] for i in order)
            return itertools.islice(batches, self.steps)
        if self._restart and self.steps is not None:
            if self._ran_out:  # Keras 2 evaluates no more once a pass ran short
                return iter(())
            self._running = self._pass()
        if self._running is None:
            if self.steps is None or self.is_dataset and self.steps == self._known_length():
                return self._pass()  # one whole pass
            self._running = self._pass()
        return self._take(self.steps)

    def _take(self, steps):
        """The next ``steps`` batches of the running iterator (all when None)."""
        count = 0
        for batch in self._running:
            yield batch
            count += 1
            if steps is not None and count == steps:
                return
        if count == 0 or steps is not None and count < steps:
            self._ran_out = True
            asked = f" of the {steps} asked for" if steps else ""
            warnings.warn(
                f"{self.what} ran out of batches after {count} this epoch{asked}; training "
                "stops. Give a source that yields at least steps_per_epoch * epochs batches "
                "(Dataset.repeat(), a generator that loops).",
                UserWarning,
                stacklevel=4,
            )

    @property
    def ran_out(self):
        return self._ran_out

    def epoch_done(self):
        if self.is_sequence:
            self.source.on_epoch_end()
