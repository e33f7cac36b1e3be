"""``Trainer``: compile, fit, evaluate and predict, mixed into ``Model``.

``fit`` cuts the data into batches and calls ``train_step(data)`` on each,
exactly as Keras does, so you can override it (Keras's guide "Customizing
what happens in fit()").  The default step::

    x, y = data
    with GradientTape() as tape:
        y_pred = self(x, training=True)                     # forward, graph recorded
        loss = self.compute_loss(x, y, y_pred)              # compiled loss + self.losses
    grads = tape.gradient(loss, weights)                    # the backward walk
    self.optimizer.apply_gradients(zip(grads, weights))     # weights change here only
    return self.compute_metrics(x, y, y_pred)               # {"loss": ..., "accuracy": ...}

(``optimizer.minimize(loss, weights, tape=tape)`` does the middle two lines.)
When the model ends in a softmax and the loss is a categorical
cross-entropy, the loss reads the softmax's logits and runs the fused
softmax-cross-entropy kernel (see ``minidl.losses``): whatever the model's
style, and in your own ``train_step`` too.

Metrics are stateful, as in Keras: ``model.metrics`` (the loss's running
mean first) are reset at the start of every epoch and of ``evaluate``, and
updated batch by batch; the logs of an epoch are their values after its last
batch.  ``evaluate`` calls ``test_step`` and ``predict`` calls
``predict_step`` the same way.

``fit`` checks and converts all its data before the first step (see
``data_adapter``), so a mistake changes nothing.  Ctrl-C during ``fit`` is
caught between steps: training stops after the step in flight, the weights
and the optimizer state match, ``model.history`` keeps the finished epochs,
and then ``KeyboardInterrupt`` is raised, as Keras lets it be, so a notebook's
"Run All" stops there too.
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import warnings

import numpy as np

from minidl import callbacks as callbacks_module
from minidl import losses as losses_module
from minidl import metrics as metrics_module
from minidl import optimizers as optimizers_module
from minidl import random as minidl_random
from minidl.autograd import GradientTape, no_grad
from minidl.models import batch_format, batch_sources, data_adapter
from minidl.models.compile_utils import (
    LossesContainer,
    MetricsContainer,
    as_list,
    per_output,
    target_kind,
)
from minidl.models.predict_slices import predict_slice
from minidl.models.trainable_state import respect_compiled_state, trainable_state
from minidl.tensor import Tensor
from minidl.utils.progbar import Progbar
from minidl.utils.traceback_utils import filter_traceback


class NotCompiledError(ValueError, RuntimeError):
    """fit/evaluate before compile (a ValueError, and a RuntimeError as in Keras)."""


def _batch_size(value):
    return data_adapter.check_positive_int(32 if value is None else value, "batch_size")


def _steps(value, name):
    """A number of batches (None: all of them)."""
    return None if value is None else data_adapter.check_positive_int(value, name)


def python_logs(logs):
    """Log values as Python floats (Tensors and NumPy scalars from a custom step)."""
    result = {}
    for key, value in (logs or {}).items():
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, (np.ndarray, np.generic)) and np.size(value) == 1:
            value = float(np.asarray(value).reshape(()))
        result[key] = value
    return result


class _EpochRunner:
    """The inner loop of ``fit``: the steps of one epoch, and what each step reports.

    Per step: the batch, ``train_step``, then the callbacks (only if some
    callback listens to batches), the progress bar (only when it is due to
    redraw), and the Ctrl-C / stop_training checks.
    """

    def __init__(self, model, feed, hooks, verbose):
        self.model = model
        self.feed = feed  # where each epoch's batches come from (ArrayFeed or SourceFeed)
        self.hooks = hooks
        self.verbose = verbose
        self.guard = None
        self.interrupted_at = None  # (epoch, steps done) after Ctrl-C
        self.nan_warned = False
        self.bar = None

    def train_epoch(self, epoch, generator, skip=0):
        """Run the epoch's steps (after the first ``skip``, done before an interruption);
        returns the logs, or None when Ctrl-C cut it short (or an empty dict when the
        batches ran out before the epoch began)."""
        model, hooks, steps = self.model, self.hooks, self.feed.steps
        self.bar = Progbar(steps, verbose=self.verbose) if self.verbose else None
        model.reset_metrics()
        logs = {}
        step = -1
        for step, data in enumerate(self.feed.epoch(generator)):
            if step < skip:
                continue
            if hooks.batch_hooks:
                hooks.batch_begin(step, {})  # tf_keras: no logs before a batch
            logs = model.train_step(data)
            loss = logs.get("loss") if isinstance(logs, dict) else None
            if loss is not None and not self.nan_warned and not math.isfinite(float(loss)):
                self._warn_nan(float(loss), epoch, step)
            if hooks.batch_hooks:
                hooks.batch_end(step, python_logs(logs))
            last = steps is not None and step + 1 >= steps
            if self.bar is not None and not last and self.bar.due():
                self.bar.update(step + 1, list(python_logs(logs).items()))
            # Ctrl-C: stop here, unless this was the last step (then the epoch is whole)
            if self.guard.requested and not last:
                self.interrupted_at = (epoch, step + 1)
                return None
            if model.stop_training:
                break
        self.steps_done = step + 1
        return python_logs(logs)

    def finish_bar(self, logs):
        if self.bar is not None:
            if self.bar.target is None:  # batches of unknown number: now it is known
                self.bar.target = self.steps_done
            self.bar.update(self.bar.target, list(logs.items()))

    def _warn_nan(self, value, epoch, step):
        self.nan_warned = True
        warnings.warn(
            f"fit(): the loss became {value} at epoch {epoch + 1}, step {step + 1}. Training cannot "
            f"recover from this; lower the learning rate, check the data for extreme values, or "
            f"pass callbacks=[TerminateOnNaN()] to stop at once.",
            RuntimeWarning,
            stacklevel=4,
        )


class ArrayFeed:
    """An epoch's batches from arrays: shuffled rows (or in order), ``(x, y, w)`` tuples.

    With ``steps`` an epoch is that many batches, as in Keras 2: ``fit`` goes on
    from where the last epoch stopped, over at most ``passes`` passes of the
    rows (a new order each pass), and stops with a warning when they run out;
    ``evaluate`` and ``predict`` take the first ``steps`` batches each call."""

    def __init__(self, data, batch_size, shuffle, steps=None, passes=None, what="x"):
        self.loader = data_adapter.BatchLoader(data.arrays, batch_size)
        self.counts = data.counts
        self.shuffle = shuffle
        self.steps = self.loader.steps if steps is None else steps
        self.cut = steps is not None
        self.passes = passes
        self.what = what
        self.ran_out = False
        self._running = None

    def _one_pass(self, generator):
        loader, counts = self.loader, self.counts
        if self.shuffle and generator is not None:
            batches = loader.shuffled(generator.permutation(loader.size))
        else:
            batches = loader.sequential()
        return (pack_batch(batch, counts) for batch in batches)

    def epoch(self, generator=None):
        if not self.cut:
            return self._one_pass(generator)
        if self.passes is None:  # evaluate / predict / validation: the first `steps` batches
            return self._take(self._one_pass(generator))
        if self._running is None:
            self._running = itertools.chain.from_iterable(
                self._one_pass(generator) for _ in range(self.passes))
        return self._take(self._running)

    def _take(self, batches):
        count = 0
        for batch in batches:
            yield batch
            count += 1
            if count == self.steps:
                return
        self.ran_out = True
        warnings.warn(
            f"{self.what} ran out of batches after {count} of the {self.steps} asked for; "
            f"it has {self.loader.steps} batches of {self.loader.batch_size} rows"
            + (f" and fit() goes over it at most epochs={self.passes} times" if self.passes
               else "") + ". Ask for fewer steps, or a smaller batch_size.",
            UserWarning,
            stacklevel=4,
        )

    def epoch_done(self):
        pass


class SourceFeed:
    """An epoch's batches from a Dataset, Sequence or generator (``batch_sources``),
    each checked and converted as arrays are (``prepare(x, y, w)``)."""

    def __init__(self, source, prepare, first):
        self.source, self.prepare, self.steps = source, prepare, source.steps
        self.format = batch_format.BatchFormat.learn(*first)  # the quick check of later batches

    @property
    def ran_out(self):
        return self.source.ran_out

    def epoch(self, generator=None):
        for batch in self.source.epoch(generator):
            x, y, w = batch_sources.unpack(batch)  # the quick check, else the full checks:
            data = self.format and self.format.check(x, y, w) or self.prepare(x, y, w)
            yield pack_batch(data.arrays, data.counts)

    def epoch_done(self):
        self.source.epoch_done()


def pack_batch(batch, counts):
    """A batch of aligned arrays as Keras hands it to ``train_step``: ``(x, y)``,
    ``(x, y, sample_weight)``, or ``(x,)`` without targets (lists where there are
    several inputs, outputs or per-output weights).  ``counts`` says how many of
    the arrays are inputs and targets; the rest are sample weights."""
    n_inputs, present = counts
    n_targets = sum(present)
    xs, ws = batch[:n_inputs], batch[n_inputs + n_targets:]
    targets = iter(batch[n_inputs:n_inputs + n_targets])
    ys = [next(targets) if here else None for here in present]  # None: an output without loss
    x = xs[0] if len(xs) == 1 else list(xs)
    if not ys:
        return (x,)
    y = ys[0] if len(ys) == 1 else list(ys)
    if not ws:
        return (x, y)
    return (x, y, ws[0] if len(ws) == 1 else list(ws))


class _InterruptGuard:
    """While active, Ctrl-C (SIGINT) sets ``requested`` instead of raising, so
    training can stop between two steps rather than in the middle of one.
    Python only lets the main thread handle signals; elsewhere this does nothing."""

    def __init__(self):
        self.requested = False
        self._installed = False
        self._previous = None

    def _handle(self, signum, frame):
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            # None: the old handler was not set from Python; Python's own is the best guess
            signal.signal(signal.SIGINT, self._previous if self._previous is not None
                          else signal.default_int_handler)
            self._installed = False
        return False


class Trainer:
    """The Keras training API for ``Model``: compile, fit, evaluate, predict,
    and the steps they call (``train_step``, ``test_step``, ``predict_step``)."""

    optimizer = None
    stop_training = False
    history = None
    compiled_loss = None
    compiled_metrics = None
    _step_weights = None
    _own_metrics = None  # during fit: the metrics in the model's attributes

    # --- compile ------------------------------------------------------------
    @filter_traceback
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, **kwargs):
        """Choose the optimizer, the loss (per output) and the metrics to report.

        ``optimizer``: a name ("sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamax",
        "nadam", "adamw", "ftrl") or an Optimizer.
        ``loss``: a name ("sparse_categorical_crossentropy", "mse", ...), a Loss
        object or a function ``(y_true, y_pred)``; for several outputs a list or a
        dict by output name.  It may be left out when you override ``train_step``.
        ``metrics``: a list of names ("accuracy", "mae"), functions or metric
        objects (or a dict by output name).  ``loss_weights``: the factor of each
        output's loss in the total.  ``run_eagerly``, ``steps_per_execution`` and
        ``jit_compile`` are accepted for Keras code and change nothing: minidl
        always runs eagerly.
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword argument(s) {sorted(kwargs)}.")
        optimizer = optimizers_module.get(optimizer)
        names = self._output_names_or_default()
        # (a dict by the keys of Model(outputs={...}) means the same as by output names)
        loss, metrics, loss_weights, weighted_metrics = (
            self._by_output_name(v) for v in (loss, metrics, loss_weights, weighted_metrics))
        # an output whose loss is None (or left out of a dict) adds nothing to the total,
        # and its targets may be left out, as in Keras
        given = per_output(loss, names, "loss") if loss is not None else [None] * len(names)
        loss_objects = [None if g is None else losses_module.as_object(g) for g in given]
        weights = [1.0] * len(names) if loss_weights is None else per_output(
            loss_weights, names, "loss_weights")
        metric_lists = _metric_lists(metrics, names, "metrics")
        weighted_lists = _metric_lists(weighted_metrics, names, "weighted_metrics")
        self.optimizer = optimizer
        # the loss as given, as Keras 2 keeps it (a train_step of your own may call it)
        self.loss = {} if loss is None else loss
        self.compiled_loss = LossesContainer(loss_objects, weights, names)
        self.compiled_metrics = MetricsContainer(metric_lists, names, loss_objects, weighted_lists)
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights,
                              "weighted_metrics": weighted_metrics}
        self.stop_training = False
        # fit and train_on_batch train what is trainable now (Keras 2; see trainable_state)
        self._compiled_trainable_state = trainable_state(self)

    @property
    def compiled(self):
        return self.compiled_loss is not None

    @property
    def metrics(self):
        """The metric objects fit reports and resets: the loss's running mean first,
        then the compiled metrics (after the first batch), then the metrics held in
        the model's attributes (``self.loss_tracker = metrics.Mean()``), as in Keras 2."""
        own = self._own_metrics if self._own_metrics is not None else self._find_own_metrics()
        if self.compiled_loss is None:
            return list(own) + self._added_metrics()
        return self.compiled_loss.metrics + self.compiled_metrics.metrics + list(own) + self._added_metrics()

    def _find_own_metrics(self):
        """The metrics in the model's attributes (fit looks once, at its start)."""
        return tuple(v for v in vars(self).values() if isinstance(v, metrics_module.Metric))

    @property
    def metrics_names(self):
        """The names evaluate() returns values for: ``["loss", "accuracy"]``."""
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        """Start every metric over (fit does at each epoch, evaluate at its start)."""
        for metric in self.metrics:
            metric.reset_state()

    def reset_states(self):
        """Zero the states of the model's stateful layers (stateful recurrent layers
        keep their last states between batches until this is called), as Keras."""
        for layer in self._self_and_sublayers():
            if layer is not self and getattr(layer, "stateful", False):
                layer.reset_states()

    def _output_names_or_default(self):
        """The output names; an unbuilt model (no input_shape yet) has one output."""
        if not getattr(self, "built", False):
            return ["output_1"]
        return list(self.output_names)

    def _require_compiled(self, method):
        if self.compiled_loss is None:
            raise NotCompiledError(
                f"{method}(): the model must be compiled first, for example model.compile("
                f"optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])."
            )

    def _overrides(self, method):
        return getattr(type(self), method) is not getattr(Trainer, method)

    # --- the steps (override them to change what fit does) --------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        """The loss to minimise for a batch: the compiled loss plus ``self.losses``."""
        return self.compiled_loss(y, y_pred, sample_weight, regularization_losses=self.losses)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch; returns ``get_metrics_result()``."""
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """``{name: value}`` of every metric in ``self.metrics``."""
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        """One training step on ``data = (x, y)``; returns the logs (see the module docstring)."""
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        weights = self._step_weights if self._step_weights is not None else self.trainable_weights
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.optimizer.minimize(loss, weights, tape=tape)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step: the loss and metrics of a batch, no update."""
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self.compute_loss(x, y, y_pred, sample_weight)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # --- data ---------------------------------------------------------------
    def _ensure_built(self, xs):
        """Unbuilt models (no input_shape) are built by a forward pass on one sample."""
        if getattr(self, "built", False):
            return
        with no_grad():
            self(xs[0][:1] if len(xs) == 1 else [x[:1] for x in xs], training=False)
        if self.compiled_loss is not None:
            self.compiled_loss.rename_outputs(self.output_names)
            self.compiled_metrics.rename_outputs(self.output_names)

    def _target_specs(self):
        """What each output's targets must look like; the same for every batch of a
        compiled, built model, so kept until the next compile."""
        key = (self.compiled_loss, getattr(self, "_shapes", None), tuple(self.output_names))
        cached = getattr(self, "_target_specs_cache", None)
        if cached is not None and cached[0][0] is key[0] and cached[0][1] is key[1] \
                and cached[0][2] == key[2]:
            return cached[1]
        shapes = list(self.output_shapes)
        losses = self.compiled_loss.losses
        some_loss = any(loss is not None for loss in losses)
        specs = [data_adapter.TargetSpec(name, tuple(shape), target_kind(loss),
                                         some_loss and loss is None, data_adapter.ignored_class(loss))
                 for name, shape, loss in zip(self.output_names, shapes, losses)]
        self._target_specs_cache = (key, specs)
        return specs

    def _prepare(self, x, y, sample_weight=None, class_weight=None,
                 what=("x", "y", "sample_weight"), step="train_step"):
        """Check and convert (x, y) and the sample weights; returns a ``Data``.
        ``y`` may be None when ``step`` is overridden (Keras's GAN example) or no
        loss was compiled (a model that adds its own with ``add_loss``, as a VAE does)."""
        if not getattr(self, "built", False):  # an unbuilt model is built from the data first
            self._ensure_built(data_adapter.prepare_inputs(self, x, what[0], finite=False))
        xs = data_adapter.prepare_inputs(self, x, what[0])
        y, sample_weight = self._by_output_name(y), self._by_output_name(sample_weight)
        no_loss = all(loss is None for loss in self.compiled_loss.losses)
        if y is None and (self._overrides(step) or no_loss):
            ys = []  # a step of your own, or a loss the model adds itself (add_loss)
        else:
            ys = data_adapter.prepare_targets(self._target_specs(), y, what[1])
        n = data_adapter.check_lengths(xs, ys, *what[:2])
        ws = data_adapter.prepare_sample_weights(
            sample_weight, class_weight, self._target_specs(), ys, n, what[2])
        return data_adapter.Data(xs, ys, ws)

    # --- fit ----------------------------------------------------------------
    @filter_traceback
    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` passes over (x, y); returns a ``History``.

        ``x`` may also be a ``minidl.data.Dataset``, a ``minidl.utils.Sequence``
        or a generator whose batches hold the targets (see ``batch_sources``);
        ``steps_per_epoch`` then cuts the epochs.
        ``validation_split`` keeps the last fraction of the data (before
        shuffling) for validation; ``validation_data=(x_val, y_val)`` (or
        ``(x_val, y_val, sample_weight_val)``, or a Dataset/Sequence/generator
        with ``validation_steps``) gives it explicitly, checked every
        ``validation_freq`` epochs.  ``sample_weight`` weighs each sample's loss
        (the batch loss is ``sum(w * loss) / batch size``, as in Keras);
        ``class_weight`` (``{class index: weight}``) weighs samples by their
        label.  Metrics given to ``compile(weighted_metrics=...)`` use the
        weights, the others do not.  ``verbose``: 1 progress bar, 2 one line
        per epoch, 0 silent.
        """
        _loader_options(kwargs, "fit")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}.")
        self._require_compiled("fit")
        batch_size = _batch_size(batch_size)
        epochs = data_adapter.check_positive_int(epochs, "epochs")
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
                or not 0 <= initial_epoch < epochs:
            raise ValueError(
                f"initial_epoch must be an integer in [0, epochs={epochs}), received {initial_epoch!r}."
            )
        if verbose not in (0, 1, 2, "auto"):
            raise ValueError(f"verbose must be 0, 1 or 2, received {verbose!r}.")
        verbose = 1 if verbose == "auto" else verbose
        validation_freq = data_adapter.check_positive_int(validation_freq, "validation_freq")
        callback_objects = callbacks_module.get(callbacks)
        data_adapter.check_validation_split(validation_split)

        if batch_sources.is_batch_source(x):
            if y is not None or sample_weight is not None or validation_split:
                raise ValueError(
                    "fit(x=...) got a Dataset, Sequence or generator: its batches hold the "
                    "targets (and sample weights), so y, sample_weight and validation_split "
                    "must be left out; pass validation_data=... to validate."
                )
            feed = self._source_feed(x, steps_per_epoch, shuffle, class_weight, "x", "train_step")
            val = None
        else:
            data = self._prepare(x, y, sample_weight, class_weight)
            val = None
            if validation_split and validation_data is None:
                data, val = data.split(validation_split)
            feed = ArrayFeed(data, batch_size, shuffle, _steps(steps_per_epoch, "steps_per_epoch"),
                             passes=epochs - initial_epoch)
        if validation_data is not None:
            val = self._validation_feed(validation_data, validation_steps,
                                        validation_batch_size or batch_size)
        elif val is not None:
            val = ArrayFeed(val, validation_batch_size or batch_size, shuffle=False)
        # --- from here on, the model and the optimizer may change -----------
        with respect_compiled_state(self):
            return self._fit_loop(feed, val, epochs, verbose, callback_objects, initial_epoch,
                                  validation_freq)

    def _source_feed(self, source, steps, shuffle, class_weight, what, step, restart=False):
        """A SourceFeed whose first batch is checked now, building the model."""
        source = batch_sources.BatchSource(source, steps, shuffle, what, restart)
        names = (what, f"{what} (targets)", f"{what} (sample weights)")

        def prepare(x, y, w):
            return self._prepare(x, y, w, class_weight, names, step)

        x, y, w = batch_sources.unpack(source.first())  # the format, checked before any step
        return SourceFeed(source, prepare, (x, y, w, prepare(x, y, w), self._target_specs()))

    def _validation_feed(self, validation_data, steps, batch_size):
        if batch_sources.is_batch_source(validation_data):
            return self._source_feed(validation_data, steps, False, None, "validation_data",
                                     "test_step", restart=True)
        is_sequence = isinstance(validation_data, (tuple, list))
        if not is_sequence or len(validation_data) not in (2, 3):
            length = f" of length {len(validation_data)}" if is_sequence else ""
            raise ValueError(
                f"validation_data must be a tuple (x_val, y_val) or a Dataset, Sequence or "
                f"generator, received {type(validation_data).__name__}{length}."
            )
        x_val, y_val = validation_data[:2]
        weights = validation_data[2] if len(validation_data) == 3 else None
        data = self._prepare(x_val, y_val, weights, None, tuple(
            f"validation_data[{i}]" for i in range(3)), step="test_step")
        return ArrayFeed(data, batch_size, shuffle=False,
                         steps=_steps(steps, "validation_steps"), what="validation_data")

    def _fit_loop(self, feed, val, epochs, verbose, callback_objects, initial_epoch,
                  validation_freq=1):
        history = callbacks_module.History()
        history.params = {"verbose": verbose, "epochs": epochs, "steps": feed.steps}
        hooks = callbacks_module.CallbackList([history] + callback_objects, self, history.params)
        own_bar = verbose if hooks.progbar is None else 0  # a ProgbarLogger given draws it
        run = _EpochRunner(self, feed, hooks, own_bar)
        self.stop_training = False
        generator = minidl_random.get_generator()
        # the weights a step updates, found once (Keras too fixes them when it builds
        # its train function: after changing `trainable`, call compile() or fit() again)
        self._step_weights = list(self.trainable_weights)
        object.__setattr__(self, "_own_metrics", self._find_own_metrics())
        try:
            with _InterruptGuard() as guard:
                run.guard = guard
                hooks.call("on_train_begin", {})
                last_logs = {}  # on_train_end gets the last epoch's logs, as in tf_keras
                first_epoch, first_step = hooks.resume_point(initial_epoch)  # BackupAndRestore
                for epoch in range(first_epoch, epochs):
                    if own_bar and epochs > 1:  # Keras 2 prints no "Epoch 1/1"
                        print(f"Epoch {epoch + 1}/{epochs}", flush=True)
                    hooks.call("on_epoch_begin", epoch, {})
                    logs = run.train_epoch(epoch, generator,
                                           first_step if epoch == first_epoch else 0)
                    if logs is None:  # interrupted in the middle of the epoch
                        break
                    feed.epoch_done()
                    if feed.ran_out and not run.steps_done:  # nothing left to train on
                        break
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        val_logs = self._evaluate_feed(val, hooks=hooks)
                        logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    hooks.call("on_epoch_end", epoch, logs)
                    last_logs = logs
                    run.finish_bar(logs)  # after the callbacks, as Keras's bar: "lr" shows
                    if guard.requested:
                        run.interrupted_at = (epoch, run.steps_done)
                    if self.stop_training or guard.requested or feed.ran_out:
                        break
                if run.interrupted_at is None:
                    hooks.call("on_train_end", dict(last_logs))
        finally:
            self._step_weights = None
            object.__setattr__(self, "_own_metrics", None)
            self.history = history
            history.model = self
        if run.interrupted_at is not None:
            epoch, step = run.interrupted_at
            of = f"/{feed.steps}" if feed.steps is not None else ""
            raise KeyboardInterrupt(
                f"Training interrupted (Ctrl-C) in epoch {epoch + 1}, after step "
                f"{step}{of}. The model keeps the weights of that step, the optimizer "
                f"state matches them, and model.history holds the {len(history.epoch)} finished "
                f"epoch(s). Call fit() again to continue."
            )
        return history

    # --- evaluate / predict -------------------------------------------------
    def _evaluate_feed(self, feed, bar=None, hooks=None):
        """Run ``test_step`` over the feed's batches; the logs after the last."""
        self.reset_metrics()
        logs = {}
        test_hooks = hooks is not None and hooks.test_hooks
        if hooks is not None:
            hooks.call("on_test_begin", {})
        step = -1
        with no_grad():
            for step, data in enumerate(feed.epoch()):
                if test_hooks:
                    hooks.call("on_test_batch_begin", step, {})
                logs = self.test_step(data)
                if test_hooks:
                    hooks.call("on_test_batch_end", step, python_logs(logs))
                if bar is not None:
                    bar.update(step + 1, list(python_logs(logs).items()))
        feed.epoch_done()
        if bar is not None and bar.target is None:
            bar.target = step + 1
            bar.update(step + 1, list(python_logs(logs).items()))
        logs = python_logs(logs)
        if hooks is not None:
            hooks.call("on_test_end", logs)
        return logs

    @filter_traceback
    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on (x, y): the loss alone without metrics, else
        ``[loss, metric, ...]`` in the order of ``metrics_names``.  ``x`` may be a
        Dataset, Sequence or generator (``steps`` batches of it, or one pass)."""
        _loader_options(kwargs, "evaluate")
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}.")
        self._require_compiled("evaluate")
        batch_size = _batch_size(batch_size)
        if batch_sources.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "evaluate(x=...) got a Dataset, Sequence or generator: its batches hold the "
                    "targets, so y and sample_weight must be left out."
                )
            feed = self._source_feed(x, steps, False, None, "x", "test_step")
        else:
            feed = ArrayFeed(self._prepare(x, y, sample_weight, step="test_step"), batch_size,
                             shuffle=False, steps=_steps(steps, "steps"))
        hooks = self._hooks_for(callbacks, verbose, feed.steps)
        own_bar = verbose and (hooks is None or hooks.progbar is None)
        bar = Progbar(feed.steps, verbose=verbose) if own_bar else None
        logs = self._evaluate_feed(feed, bar, hooks)
        if return_dict:
            return logs
        return _in_metric_order(logs, self.metrics_names)

    def _hooks_for(self, callbacks, verbose, steps):
        """The callbacks given to evaluate or predict, or None."""
        if not callbacks:
            return None
        return callbacks_module.CallbackList(callbacks_module.get(callbacks), self,
                                             {"verbose": verbose, "steps": steps})

    @filter_traceback
    def predict(self, x, batch_size=32, verbose=0, steps=None, callbacks=None, **kwargs):
        """The model's outputs for x, as a NumPy array (a list of arrays for several outputs).

        ``x`` may be a Dataset, Sequence or generator (its batches' x; ``steps``
        batches of it, or one pass).  A big batch of a model with big layer
        outputs (a CNN) runs through the model in slices that fit the CPU's
        caches, when that cannot change the result (see ``predict_slices.py``).
        """
        _loader_options(kwargs, "predict")
        if kwargs:
            raise TypeError(f"predict() got unexpected keyword arguments {sorted(kwargs)}.")
        batch_size = _batch_size(batch_size)
        hooks = self._hooks_for(callbacks, verbose, steps)
        if hooks is not None and hooks.progbar is not None:
            verbose = 0  # the ProgbarLogger given draws the bar
        if hooks is not None:
            hooks.call("on_predict_begin", {})
        if batch_sources.is_batch_source(x):
            outputs = self._predict_source(x, steps, verbose, hooks)
        else:
            outputs = self._predict_arrays(x, batch_size, verbose, hooks, _steps(steps, "steps"))
        if hooks is not None:
            hooks.call("on_predict_end", {})
        return self._structured_outputs(outputs)

    def _predict_arrays(self, x, batch_size, verbose, hooks, steps=None):
        xs = data_adapter.prepare_inputs(self, x, finite=False)
        self._ensure_built(xs)
        xs = data_adapter.prepare_inputs(self, xs if len(xs) > 1 else xs[0], finite=False)
        n = data_adapter.check_lengths(xs, [], "x", "x")
        if steps is not None and steps * batch_size < n:  # Keras: the first `steps` batches
            xs, n = [a[:steps * batch_size] for a in xs], steps * batch_size
        elif steps is not None and steps * batch_size >= n + batch_size:
            warnings.warn(
                f"x ran out of batches: it has {math.ceil(n / batch_size)} batches of "
                f"{batch_size} rows, and steps={steps} were asked for.", UserWarning, stacklevel=4)
        loader = data_adapter.BatchLoader(xs, batch_size)
        bar = Progbar(loader.steps, verbose=verbose) if verbose else None
        custom = self._overrides("predict_step")
        size = batch_size if custom else predict_slice(self, batch_size)  # see predict_slices.py
        results = None
        with no_grad():
            for step, batch in enumerate(loader.sequential()):
                if hooks is not None:
                    hooks.call("on_predict_batch_begin", step, {})
                for lo in range(0, len(batch[0]), size):
                    part = [a[lo:lo + size] for a in batch]
                    out = [_as_array(o) for o in as_list(self.predict_step((_one_or_list(part),)))]
                    if results is None:
                        results = [np.empty((n,) + o.shape[1:], dtype=o.dtype) for o in out]
                    start = step * batch_size + lo
                    for target, o in zip(results, out):
                        target[start:start + len(o)] = o
                if hooks is not None:
                    end = step * batch_size + len(batch[0])
                    outputs = [r[step * batch_size:end] for r in results]
                    hooks.call("on_predict_batch_end", step, {"outputs": _one_or_list(outputs)})
                if bar is not None:
                    bar.update(step + 1)
        return results

    def _predict_source(self, x, steps, verbose, hooks):
        source = batch_sources.BatchSource(x, steps, False, "x")
        bar = Progbar(source.steps, verbose=verbose) if verbose else None
        parts = None
        step = -1
        with no_grad():
            for step, batch in enumerate(source.epoch()):
                if hooks is not None:
                    hooks.call("on_predict_batch_begin", step, {})
                batch_x = batch_sources.unpack(batch)[0]
                if not getattr(self, "built", False):
                    self._ensure_built(data_adapter.prepare_inputs(self, batch_x, finite=False))
                xs = data_adapter.prepare_inputs(self, batch_x, finite=False)
                out = [_as_array(o) for o in as_list(self.predict_step((_one_or_list(xs),)))]
                parts = [[] for _ in out] if parts is None else parts
                for collected, o in zip(parts, out):
                    collected.append(o)
                if hooks is not None:
                    hooks.call("on_predict_batch_end", step, {"outputs": _one_or_list(out)})
                if bar is not None:
                    bar.update(step + 1)
        source.epoch_done()
        if parts is None:
            raise ValueError("predict(x=...): the Dataset, Sequence or generator gave no batch.")
        if bar is not None and bar.target is None:
            bar.target = step + 1
            bar.update(step + 1)
        return [np.concatenate(collected) for collected in parts]

    # --- single batches -----------------------------------------------------
    @filter_traceback
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on (x, y); returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        data = self._prepare(x, y, sample_weight, class_weight)
        self.reset_metrics()
        with respect_compiled_state(self):
            logs = python_logs(self.train_step(pack_batch(data.arrays, data.counts)))
        return logs if return_dict else _in_metric_order(logs, self.metrics_names)

    @filter_traceback
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        data = self._prepare(x, y, sample_weight, step="test_step")
        self.reset_metrics()
        with no_grad():
            logs = python_logs(self.test_step(pack_batch(data.arrays, data.counts)))
        return logs if return_dict else _in_metric_order(logs, self.metrics_names)

    @filter_traceback
    def predict_on_batch(self, x):
        """The outputs for x, as one batch."""
        xs = data_adapter.prepare_inputs(self, x, finite=False)
        return self.predict(xs[0] if len(xs) == 1 else xs, batch_size=len(xs[0]))

    # --- Keras 1's generator methods, deprecated aliases as in tf.keras 2 -----
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1,
                      class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                      shuffle=True, initial_epoch=0):
        """Deprecated: ``fit`` takes generators (and Sequences, Datasets) itself."""
        _deprecated("fit_generator", "fit")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, max_queue_size=max_queue_size, workers=workers,
                        use_multiprocessing=use_multiprocessing, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """Deprecated: ``evaluate`` takes generators itself."""
        _deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose,
                             max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Deprecated: ``predict`` takes generators itself."""
        _deprecated("predict_generator", "predict")
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose,
                            max_queue_size=max_queue_size, workers=workers,
                            use_multiprocessing=use_multiprocessing)

    # --- saving (see minidl.models.saving) ----------------------------------
    @filter_traceback
    def save(self, filepath, overwrite=True, save_format=None, include_optimizer=True):
        """Save architecture, weights and optimizer state to one file (see ``saving``):
        Keras 2's HDF5 file for a name ending in .h5 (or ``save_format="h5"``), Keras 3's
        zip for .keras, minidl's own format for any other name."""
        from minidl.models import saving

        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                          save_format=save_format)

    @filter_traceback
    def export(self, filepath, format="onnx", opset=None):
        """Write the model as an ONNX file to run elsewhere (see ``minidl.onnx``);
        Keras 3's ``export(filepath, format="onnx")`` spelling."""
        if format != "onnx":
            raise ValueError(f'Model "{self.name}": export() writes format="onnx" only, received '
                             f"format={format!r}; use save() for minidl's own format.")
        from minidl import onnx

        return onnx.export(self, filepath, opset=opset)

    @filter_traceback
    def save_weights(self, filepath, overwrite=True, save_format=None):
        """Save the weights only: Keras 2's HDF5 layout for a name ending in .h5 (or
        ``save_format="h5"``), minidl's own format otherwise (see ``saving``)."""
        from minidl.models import saving

        saving.save_weights(self, filepath, overwrite=overwrite, save_format=save_format)

    @filter_traceback
    def load_weights(self, filepath):
        from minidl.models import saving

        saving.load_weights(self, filepath)


def _deprecated(old, new):
    warnings.warn(f"`Model.{old}` is deprecated and will be removed in a future version. "
                  f"Please use `Model.{new}`, which supports generators.", DeprecationWarning, stacklevel=3)


def _loader_options(kwargs, method):
    """Keras 2's ``max_queue_size``, ``workers`` and ``use_multiprocessing``: accepted, and
    taken out of ``kwargs``. minidl reads batches in the training thread, so asking for
    more workers or processes changes nothing, and a warning says so."""
    max_queue_size = kwargs.pop("max_queue_size", 10)
    workers = kwargs.pop("workers", 1)
    use_multiprocessing = kwargs.pop("use_multiprocessing", False)
    if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, (int, np.integer)):
        raise ValueError(f"{method}(): max_queue_size must be an integer, received {max_queue_size!r}.")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"{method}(): workers must be a non-negative integer, received {workers!r}.")
    if workers > 1 or use_multiprocessing:
        warnings.warn(f"{method}(): minidl reads batches in the training thread; workers={workers} and "
                      f"use_multiprocessing={use_multiprocessing} change nothing.", stacklevel=4)


def _metric_lists(metrics, names, what):
    """compile()'s metrics argument as one list per output: a list (or one metric)
    for every output, a list of lists (one per output), or a dict by output name."""
    if isinstance(metrics, dict):
        lists = per_output(metrics, names, what)
    elif metrics is None:
        lists = [None] * len(names)
    elif isinstance(metrics, (list, tuple)):
        several = len(names) > 1 and len(metrics) == len(names) and all(
            isinstance(m, (list, tuple)) for m in metrics)
        lists = list(metrics) if several else [metrics] * len(names)
    elif isinstance(metrics, str) or callable(metrics):  # one metric, as Keras 2 takes it
        lists = [[metrics]] * len(names)                   # (the text tutorial's BinaryAccuracy)
    else:
        raise TypeError(f"compile(): {what} must be a list (or dict), received {metrics!r}.")
    lists = [[] if m is None else as_list(m) for m in lists]
    for group in lists:
        for m in group:
            metrics_module.get(m)  # an unknown name fails here, not at the first step
    return lists


def _one_or_list(arrays):
    return arrays[0] if len(arrays) == 1 else list(arrays)


def _as_array(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _in_metric_order(logs, names):
    """Keras's order for evaluate's list: ``metrics_names`` first, then other keys
    sorted; a single value alone."""
    values = [logs[name] for name in names if name in logs]
    values += [logs[key] for key in sorted(logs) if key not in names]
    return values[0] if len(values) == 1 else values
