"""Callbacks that change the learning rate between epochs, through ``optimizer.lr``.

Both add the rate to each epoch's logs as ``"lr"`` (Keras 2's key), so
``history.history["lr"]`` and a ``CSVLogger`` show it.  An optimizer created
with a ``LearningRateSchedule`` owns its rate: changing it raises TypeError.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from minidl import backend
from minidl.callbacks.base import Callback, monitor_mode
from minidl.tensor import Tensor


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to ``schedule(epoch, lr)``.

    ``epoch`` counts from 0 and ``lr`` is the current rate (a float); a
    ``schedule(epoch)`` of one argument (Keras 1) works too::

        def scheduler(epoch, lr):
            return lr if epoch < 10 else lr * math.exp(-0.1)

        model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(scheduler)])

    ``verbose=1`` prints each rate it sets.  (For a rate that changes at every
    step, give the optimizer a ``minidl.optimizers.schedules`` schedule instead.)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "lr"):
            raise ValueError('Optimizer must have a "lr" attribute.')
        if _takes_two_arguments(self.schedule):
            lr = self.schedule(epoch, float(backend.get_value(optimizer.lr)))
        else:
            lr = self.schedule(epoch)
        if not _is_float(lr):
            raise ValueError(f'The output of the "schedule" function should be float. Got: {lr}')
        backend.set_value(optimizer.lr, backend.get_value(lr))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = backend.get_value(self.model.optimizer.lr)


def _takes_two_arguments(function):
    """Whether ``function(epoch, lr)`` can be called (else it is ``function(epoch)``)."""
    try:
        inspect.signature(function).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): assume Keras 2's form
        return True
    return True


def _is_float(value):
    """A float, a NumPy float, or a float Tensor holding one value (as Keras accepts)."""
    if isinstance(value, Tensor):
        return value.size == 1
    return isinstance(value, (float, np.floating))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    After ``patience`` epochs without an improvement (a change of more than
    ``min_delta`` in the right direction: down for losses, up for accuracies,
    ``mode="auto"`` telling them apart by name), the rate becomes
    ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass before epochs
    without improvement count again.  ``verbose=1`` prints each reduction.

        model.fit(x, y, validation_split=0.2,
                  callbacks=[ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5)])
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:  # Keras 2's old name for min_delta
            warnings.warn("ReduceLROnPlateau: `epsilon` argument is deprecated and will be "
                          "removed, use `min_delta` instead.", DeprecationWarning, stacklevel=2)
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword argument(s) {sorted(kwargs)}.")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Got {factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = monitor_mode("ReduceLROnPlateau", monitor, mode)
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = backend.get_value(self.model.optimizer.lr)  # the rate this epoch used
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best = value
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        old_lr = backend.get_value(self.model.optimizer.lr)
        if old_lr > self.min_lr:
            new_lr = max(old_lr * self.factor, self.min_lr)
            backend.set_value(self.model.optimizer.lr, new_lr)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_lr}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0
