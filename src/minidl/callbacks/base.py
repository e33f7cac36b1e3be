"""The callback machinery: ``Callback`` (the hooks), ``CallbackList`` (how ``fit``
calls them), the two callbacks every Keras ``fit`` has (``History``, what ``fit``
returns, and ``ProgbarLogger``, the progress bar) and ``LambdaCallback``."""

from __future__ import annotations

from minidl.utils.progbar import Progbar

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class Callback:
    """Base class: every hook does nothing."""

    # (epoch, steps done in it) where fit should go on, once a callback has restored
    # an interrupted run (BackupAndRestore); see CallbackList.resume_point
    resume_at = None

    def __init__(self):
        self.model = None
        self.params = {}
        # Keras 1 filled this with the validation arrays; Keras 2 keeps the attribute
        # and leaves it None (callbacks written for Keras 1 then raise their own error)
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 1 names, still used in tutorials
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    # Whether fit must call the batch hooks: calling them costs time at every step,
    # so fit skips them when no callback listens (Keras's names)
    def _implements_train_batch_hooks(self):
        return any(overrides(self, hook) for hook in (
            "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"))

    def _implements_test_batch_hooks(self):
        return any(overrides(self, hook) for hook in ("on_test_batch_begin", "on_test_batch_end"))


def overrides(callback, hook):
    """Whether ``callback`` does something in ``hook``."""
    if hook in vars(callback):  # LambdaCallback sets hooks on the instance
        return True
    return getattr(type(callback), hook, None) is not getattr(Callback, hook, None)


class CallbackList:
    """Calls one hook on every callback, in order.

    ``History`` goes last, as in Keras, so it records what other callbacks add to
    an epoch's logs (``"lr"`` from ReduceLROnPlateau).  ``progbar`` is the
    ``ProgbarLogger`` given (None without one), to which fit should leave the bar.
    """

    def __init__(self, callbacks, model, params):
        callbacks = list(callbacks)
        self.callbacks = ([c for c in callbacks if not isinstance(c, History)]
                          + [c for c in callbacks if isinstance(c, History)])
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self.batch_hooks = any(c._implements_train_batch_hooks() for c in self.callbacks)
        self.test_hooks = any(c._implements_test_batch_hooks() for c in self.callbacks)
        self.progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)

    def resume_point(self, initial_epoch):
        """Where training starts, asked after ``on_train_begin``: ``(epoch, steps of it
        already done)``, ``(initial_epoch, 0)`` unless a callback restored an
        interrupted run (``BackupAndRestore``)."""
        for callback in self.callbacks:
            if callback.resume_at is not None:
                return callback.resume_at
        return initial_epoch, 0

    def call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def batch_begin(self, batch, logs):
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)
            callback.on_batch_begin(batch, logs)

    def batch_end(self, batch, logs):
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)
            callback.on_batch_end(batch, logs)


class History(Callback):
    """Records the logs of every epoch: ``history.history["val_loss"][3]``.

    ``fit()`` returns it; ``history.epoch`` lists the epoch indices and
    ``history.params`` the run's settings (epochs, steps, verbose).
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self

    def __repr__(self):
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


class ProgbarLogger(Callback):
    """The progress bar as a callback: ``Epoch 2/5``, then Keras's bar, batch by batch.

    Keras 2's ``fit`` adds one by default.  minidl's ``fit``, ``evaluate`` and
    ``predict`` draw the same bar themselves, as ``verbose=`` asks, without a
    callback call at every step.  A ProgbarLogger you pass them is meant to take
    the place of that bar, as in Keras: they find it as ``CallbackList.progbar``
    (until ``fit`` looks there, both bars are drawn).  Drive one from your own
    loop through a ``CallbackList`` whose params are
    ``{"verbose": 1, "epochs": ..., "steps": ...}``.

    ``verbose`` comes from the params (0: nothing, 2: one line per epoch); while
    ``fit`` validates, the bar stays quiet.  The bar counts steps: ``count_mode``
    ("samples", Keras's default, or "steps") is checked and kept for Keras code.
    ``stateful_metrics`` is accepted likewise: minidl's logs already hold each
    metric's value for the epoch so far, which the bar shows as they are.
    """

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(
                f'Unknown `count_mode`: {count_mode}. Expected values are ["samples", "steps"]'
            )
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics or ())
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.bar = None
        self.seen = 0
        self.in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _implements_train_batch_hooks(self):
        return self.verbose == 1  # only the live bar needs every batch

    def _implements_test_batch_hooks(self):
        return self.verbose == 1

    def on_train_begin(self, logs=None):
        self.in_fit = True

    def on_train_end(self, logs=None):
        self.in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self.in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self.in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self.in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _start(self):
        self.bar = Progbar(self.target, verbose=self.verbose) if self.verbose else None
        self.seen = 0

    def _update(self, batch, logs):
        self.seen = batch + 1
        if self.bar is not None and self.bar.due():
            self.bar.update(self.seen, _shown(logs))

    def _finish(self, logs):
        if self.bar is None:
            return
        if self.bar.target is None:  # an unknown number of steps: now it is known
            self.bar.target = self.seen
        self.bar.update(self.bar.target, _shown(logs))


def _shown(logs):
    """The values a bar shows: the logs without the batch's index and size."""
    return [(k, v) for k, v in (logs or {}).items() if k not in ("batch", "size")]


def check_save_freq(save_freq):
    """``"epoch"`` or a positive int (batches), else Keras's ValueError."""
    if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                 or save_freq < 1):
        raise ValueError(f'Unrecognized save_freq: {save_freq}. Expected save_freq are "epoch" '
                         f"or a positive integer")


def monitor_mode(owner, monitor, mode):
    """"min" or "max": whether ``monitor`` improves downwards; "auto" guesses from its name."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', received {mode!r}.")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
    return mode


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs)
        for hook, fn in given.items():
            if hook not in _HOOKS and hook not in ("on_batch_begin", "on_batch_end"):
                raise ValueError(
                    f"LambdaCallback: unknown hook {hook!r}; known: {', '.join(_HOOKS)}.")
            if fn is not None:
                setattr(self, hook, fn)


def get(callbacks):
    """Check a ``callbacks=`` argument: a list of Callback instances (or None)."""
    callbacks = list(callbacks or [])
    for c in callbacks:
        if not isinstance(c, Callback):
            raise TypeError(
                f"callbacks must be Callback instances, received {c!r} of type {type(c).__name__}."
            )
    return callbacks
