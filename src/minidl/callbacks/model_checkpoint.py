"""``ModelCheckpoint``: save the model (or its weights) as training goes."""

from __future__ import annotations

import math
import os
import warnings

from minidl.callbacks.base import Callback, check_save_freq, monitor_mode


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) every epoch or every few batches, or
    only when ``monitor`` improves.

    ``filepath`` may hold fields, filled with ``str.format``: ``{epoch}``
    (counted from 1), every key of the logs, and with ``save_freq=<int>``
    ``{batch}`` (the batch in its epoch, from 1)::

        ModelCheckpoint("ckpt/weights-{epoch:02d}-{val_loss:.2f}.mdl", save_weights_only=True)

    A name ending in ``.h5`` gets Keras 2's HDF5 file (``ModelCheckpoint("best.h5")``, as
    in Deep Learning with Python), ``.keras`` Keras 3's: see ``minidl.models.saving``.

    ``save_freq="epoch"`` saves at the end of every epoch; an int ``n`` after every
    ``n`` batches (counted across epochs), with the logs of that batch (the
    metrics of the epoch so far, without ``val_`` ones).  ``save_best_only=True``
    saves only when ``monitor`` beats the best value so far (lower in mode "min",
    higher in "max"; "auto" tells accuracies from losses by name), starting from
    ``initial_value_threshold`` when given.  ``verbose=1`` prints what it does.
    ``period=n`` (deprecated in Keras 2) saves every ``n`` epochs.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None, **kwargs):
        super().__init__()
        self.period = 1
        if "period" in kwargs:
            warnings.warn("ModelCheckpoint: `period` argument is deprecated. Please use "
                          "`save_freq` to specify the frequency in number of batches seen.",
                          DeprecationWarning, stacklevel=2)
            self.period = kwargs.pop("period")
        if kwargs:
            raise TypeError(f"ModelCheckpoint: unexpected keyword argument(s) {sorted(kwargs)}.")
        check_save_freq(save_freq)
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.mode = monitor_mode("ModelCheckpoint", monitor, mode)
        if initial_value_threshold is not None:
            self.best = initial_value_threshold
        else:
            self.best = math.inf if self.mode == "min" else -math.inf
        self.epochs_since_last_save = 0
        self._batches_since_last_save = 0
        self._last_batch_seen = -1
        self._current_epoch = 0

    def _implements_train_batch_hooks(self):
        return self.save_freq != "epoch"  # saving by epoch needs no call at every batch

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._batch_save_is_due(batch):
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch" and self.epochs_since_last_save >= self.period:
            self._save(epoch, None, logs or {})

    def _batch_save_is_due(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch began
            self._batches_since_last_save += batch + 1
        else:
            self._batches_since_last_save += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_last_save >= self.save_freq:
            self._batches_since_last_save = 0
            return True
        return False

    def _save(self, epoch, batch, logs):
        self.epochs_since_last_save = 0
        path = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: can save best model only with {self.monitor} available "
                    f"(the logs hold {sorted(logs)}), skipping.",
                    stacklevel=3,
                )
                return
            improved = value < self.best if self.mode == "min" else value > self.best
            if not improved:
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                      f"to {value:.5f}, saving model to {path}")
            self.best = value
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {path}"
            )
        folder = os.path.dirname(path)
        if folder:  # "training_1/cp.ckpt": Keras creates training_1/
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    def _file_path(self, epoch, batch, logs):
        """``filepath`` with its fields filled (``{epoch}`` and ``{batch}`` from 1)."""
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from None
