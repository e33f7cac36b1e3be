"""Stopping early: when a monitored value stops improving, or when the loss is no number."""

from __future__ import annotations

import math
import warnings

import numpy as np

from minidl.callbacks.base import Callback, monitor_mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change larger than ``min_delta`` in the right
    direction ("min" for losses, "max" for accuracies; "auto" guesses from the
    name).  With ``restore_best_weights=True`` the model gets back the weights
    of its best epoch when training ends, whether it stopped early or ran all its
    epochs (as tf_keras 2.21 does; older Keras 2 restored only on an early stop).
    ``start_from_epoch``: epochs of warm-up before the monitored value counts.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, received {patience!r}.")
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, int) \
                or start_from_epoch < 0:
            raise ValueError("EarlyStopping: start_from_epoch must be an integer >= 0, "
                             f"received {start_from_epoch!r}.")
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = monitor_mode("EarlyStopping", monitor, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def _better(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"EarlyStopping: monitor {self.monitor!r} is not in the logs "
                f"(available: {sorted(logs or {})}); did you pass validation data?",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:  # still warming up
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # in case no epoch ever improves
            self.best_epoch = epoch
        self.wait += 1
        if self._better(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
