"""Callbacks: code that ``fit()`` runs at fixed moments of training.

Subclass ``Callback`` and override the hooks you need::

    class PrintLoss(minidl.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])

    model.fit(x, y, callbacks=[PrintLoss()])

``logs`` holds the running values: ``{"loss": ..., "accuracy": ...}`` after a
batch, plus ``val_*`` entries after an epoch.  A callback reaches the model as
``self.model`` and may stop training with ``self.model.stop_training = True``.

Keras 2's callbacks, by module:

    base.py                 Callback, CallbackList, History, ProgbarLogger, LambdaCallback
    early_stopping.py       EarlyStopping, TerminateOnNaN
    model_checkpoint.py     ModelCheckpoint
    backup_and_restore.py   BackupAndRestore
    learning_rate.py        LearningRateScheduler, ReduceLROnPlateau
    loggers.py              CSVLogger, RemoteMonitor
    tensorboard.py          TensorBoard (its files: event_file.py, summaries.py)
"""

from minidl.callbacks.backup_and_restore import BackupAndRestore
from minidl.callbacks.base import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    ProgbarLogger,
    get,
)
from minidl.callbacks.early_stopping import EarlyStopping, TerminateOnNaN
from minidl.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from minidl.callbacks.loggers import CSVLogger, RemoteMonitor
from minidl.callbacks.model_checkpoint import ModelCheckpoint
from minidl.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
    "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger",
    "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard", "TerminateOnNaN", "get",
]
