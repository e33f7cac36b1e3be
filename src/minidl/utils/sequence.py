"""``keras.utils.Sequence``: a dataset you write as a class, one batch per index.

Subclass it when the data does not fit in one array (images read from files,
batches built on the fly), and say two things: how many batches an epoch has
(``__len__``) and how to make batch number ``index`` (``__getitem__``):

    class Batches(minidl.utils.Sequence):
        def __init__(self, paths, labels, batch_size):
            self.paths, self.labels, self.batch_size = paths, labels, batch_size

        def __len__(self):
            return math.ceil(len(self.paths) / self.batch_size)

        def __getitem__(self, index):
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return load_images(self.paths[rows]), self.labels[rows]

A batch is ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.  ``fit`` asks for
every index of an epoch once (in random order when ``shuffle=True``, as Keras
does), then calls ``on_epoch_end()``, the place to reshuffle the files.
Because batches are asked for by index, an epoch sees every sample once.
"""

from __future__ import annotations


class Sequence:
    """Base class for a dataset of batches, indexed 0 .. len(self) - 1 (Keras 2's Sequence)."""

    def __init__(self, *, workers=1, use_multiprocessing=False, max_queue_size=10):
        """Keras 2's Sequence takes no arguments.  Keras 3's ``PyDataset`` takes these
        three, to tell fit how many threads or processes should prepare batches
        ahead; minidl prepares each batch when the training loop needs it, in its
        own thread, so they are accepted and have no effect."""

    def __getitem__(self, index):
        """Batch number ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index), returning batch number "
            f"index as x, (x, y) or (x, y, sample_weight)."
        )

    def __len__(self):
        """The number of batches in an epoch."""
        raise NotImplementedError(
            f"{type(self).__name__} must define __len__(self), returning the number of batches "
            f"in an epoch."
        )

    def on_epoch_end(self):
        """Called at the end of every epoch; does nothing unless you override it."""

    def __iter__(self):
        """The batches of one epoch, in order."""
        for index in range(len(self)):
            yield self[index]


PyDataset = Sequence  # Keras 3's name for it
