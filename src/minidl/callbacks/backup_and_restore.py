"""``BackupAndRestore``: pick up an interrupted ``fit`` where its last backup left it."""

from __future__ import annotations

import os

import numpy as np

from minidl.atomic_write import replacing
from minidl.callbacks.base import Callback, check_save_freq

BACKUP_FILE = "training_state.npz"


class BackupAndRestore(Callback):
    """Back the training state up as ``fit`` goes; after an interruption, restore it
    and go on from there.

        backup = BackupAndRestore(backup_dir="/tmp/backup")
        model.fit(x, y, epochs=10, callbacks=[backup])   # interrupted during epoch 5
        model.fit(x, y, epochs=10, callbacks=[backup])   # restores, runs epochs 5 to 10

    The state is the model's weights, the optimizer's (its step count and slots)
    and where training stood: after each epoch (``save_freq="epoch"``) or after
    every ``save_freq`` batches.  It is one file in ``backup_dir``,
    ``training_state.npz``, written to a temporary file and renamed over the last
    one, so an interruption leaves the old backup or the new one, never half of
    one.  When ``fit`` starts and the file exists, the state is restored and
    training resumes at the step after it (the rest of an epoch backed up in the
    middle, else the next epoch); the History of that ``fit`` holds the epochs
    it ran.  A ``fit`` that ends normally deletes the backup
    (``delete_checkpoint=False`` keeps it).

    The model must be the one that was backed up (the same weights, built),
    compiled with the same optimizer; and, as in Keras, ``backup_dir`` is this
    callback's alone (another run or a ModelCheckpoint must not write there).
    Resuming needs a ``fit`` that asks its callbacks where to start
    (``CallbackList.resume_point``).
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if save_freq is False:
            raise ValueError("Either `save_freq` or `save_before_preemption` must be set.")
        check_save_freq(save_freq)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._current_epoch = 0
        self._batches_since_backup = 0

    @property
    def backup_path(self):
        return os.path.join(self.backup_dir, BACKUP_FILE)

    def _implements_train_batch_hooks(self):
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        self.resume_at = None
        self._batches_since_backup = 0
        if os.path.exists(self.backup_path):
            self.resume_at = self._restore()

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        if self.resume_at is not None and epoch < self.resume_at[0]:
            raise RuntimeError(
                f"BackupAndRestore restored the training state of {self.backup_path} (to go on "
                f"at epoch {self.resume_at[0] + 1}), but training started epoch {epoch + 1}: "
                f"the training loop did not ask its callbacks where to resume "
                f"(CallbackList.resume_point, as fit() does). Delete the backup to start over."
            )

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_backup += 1
        if self._batches_since_backup >= self.save_freq:
            self._batches_since_backup = 0
            steps = self.params.get("steps")
            if steps is not None and batch + 1 >= steps:  # the epoch's last batch
                self._back_up(self._current_epoch + 1, 0)
            else:
                self._back_up(self._current_epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._back_up(epoch + 1, 0)

    def on_train_end(self, logs=None):
        self.resume_at = None
        if self.delete_checkpoint and os.path.exists(self.backup_path):
            os.remove(self.backup_path)
            try:
                os.rmdir(self.backup_dir)  # only if nothing else is in it
            except OSError:
                pass

    # --- the file -------------------------------------------------------------
    def _back_up(self, epoch, step):
        """Write the state after which training goes on at ``step`` of ``epoch``."""
        optimizer = self.model.optimizer
        weights = list(self.model.trainable_weights)
        state = optimizer.get_state(weights)
        arrays = {"epoch": np.int64(epoch), "step": np.int64(step),
                  "iterations": np.int64(state["iterations"])}
        for i, value in enumerate(self.model.get_weights()):
            arrays[f"weight_{i:04d}"] = value
        for i, slots in enumerate(state["slots"]):
            for j, value in enumerate(slots):
                arrays[f"slot_{i:04d}_{j:02d}"] = value
        os.makedirs(self.backup_dir, exist_ok=True)
        _write_atomically(self.backup_path, arrays)

    def _restore(self):
        """Load the backup into the model and its optimizer; returns (epoch, step)."""
        with np.load(self.backup_path, allow_pickle=False) as backup:
            arrays = dict(backup)
        values = [arrays[k] for k in sorted(arrays) if k.startswith("weight_")]
        current = self.model.get_weights()
        if len(values) != len(current) or any(
                v.shape != c.shape for v, c in zip(values, current)):
            raise ValueError(
                f"BackupAndRestore: the backup in {self.backup_path} holds "
                f"{[v.shape for v in values]} weights, model {self.model.name!r} has "
                f"{[c.shape for c in current]}: it was written by another model. Delete it "
                f"to start over, or give this run its own backup_dir."
            )
        weights = list(self.model.trainable_weights)
        slots = [[arrays[k] for k in sorted(arrays) if k.startswith(f"slot_{i:04d}_")]
                 for i in range(len(weights))]
        self.model.set_weights(values)
        self.model.optimizer.set_state(
            {"iterations": int(arrays["iterations"]), "slots": slots}, weights)
        return int(arrays["epoch"]), int(arrays["step"])


def _write_atomically(path, arrays):
    """``np.savez`` to a temporary file beside ``path``, flushed to disk, then renamed
    over ``path``: readers see the old file or the new one, never a part."""
    with replacing(path) as handle:
        np.savez(handle, **arrays)
