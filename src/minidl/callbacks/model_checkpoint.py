"""``ModelCheckpoint``: save the model (or its weights) as training goes."""

from __future__ import annotations

import math
import os
import warnings

from minidl.callbacks.base import Callback, monitor_mode


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after every epoch, or only when ``monitor`` improves.

    ``filepath`` may hold fields filled from the epoch and the logs:
    ``"ckpt-{epoch:02d}-{val_loss:.2f}.mdl"``.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto"):
        super().__init__()
        self.filepath = str(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = monitor_mode("ModelCheckpoint", monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: monitor {self.monitor!r} is not in the logs "
                    f"(available: {sorted(logs)}); nothing saved.",
                    stacklevel=2,
                )
                return
            improved = value < self.best if self.mode == "min" else value > self.best
            if not improved:
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                      f"to {value:.5f}, saving model to {path}")
            self.best = value
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:  # "training_1/cp.ckpt": Keras creates training_1/
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
