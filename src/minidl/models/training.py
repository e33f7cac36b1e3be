"""``Trainer``: compile, fit, evaluate and predict, mixed into ``Model``.

One training step, for a batch (x, y)::

    outputs, logits = model.call_with_logits(x, training=True)   # forward, graph recorded
    loss = sum_i loss_weight_i * mean(loss_i(y_i, outputs_i))      # a scalar Tensor
    loss.backward()                                                # gradients into w.grad
    optimizer.apply_gradients(zip(grads, trainable_weights))       # weights change here only

When an output ends in a softmax and its loss is (sparse_)categorical
cross-entropy, the loss is computed from the logits with the fused
``ops.softmax_cross_entropy`` (one kernel, exact gradient ``probs - target``)
instead of taking the log of the softmax.  Metrics are computed from the
output arrays with NumPy, outside the graph.

``fit`` checks and converts all its data before the first step (see
``data_adapter``), so a mistake changes nothing.  Ctrl-C during ``fit`` is
caught between steps: training stops after the step in flight, the weights and
the optimizer state match, History keeps the finished epochs, and ``fit`` can
be called again.
"""

from __future__ import annotations

import math
import signal
import threading
import warnings

import numpy as np

from minidl import callbacks as callbacks_module
from minidl import losses as losses_module
from minidl import metrics as metrics_module
from minidl import ops
from minidl import optimizers as optimizers_module
from minidl import random as minidl_random
from minidl.autograd import no_grad
from minidl.models import data_adapter
from minidl.models.predict_slices import predict_slice
from minidl.tensor import Tensor
from minidl.utils.progbar import Progbar


class NotCompiledError(ValueError, RuntimeError):
    """fit/evaluate before compile (a ValueError, and a RuntimeError as in Keras)."""


# --- what compile() resolves, per output ---------------------------------------
_SOFTMAX_XENT = {
    losses_module.sparse_categorical_crossentropy: "sparse",
    losses_module.categorical_crossentropy: "categorical",
}


class OutputHead:
    """One model output with its loss, loss weight and metrics.

    ``kind`` says which targets the loss wants: "sparse" (class indices) or
    "categorical" (one-hot) for the cross-entropies that can use the fused
    softmax-cross-entropy, "binary" (values in [0, 1]) for binary
    cross-entropy, else "dense".
    """

    def __init__(self, name, shape, loss, weight, metric_ids, prefix):
        self.name = name
        self.shape = shape
        self.loss = loss
        self.weight = float(weight)
        self.metric_ids = metric_ids
        self.prefix = prefix  # "" for a single output, "dense_1_" for several
        self.kind, self.from_logits = self._softmax_xent_kind(loss)
        self.loss_name = self._loss_name(loss)
        self.metrics = []  # (key, fn), resolved by resolve_metrics()

    @staticmethod
    def _softmax_xent_kind(loss):
        if loss in _SOFTMAX_XENT:
            return _SOFTMAX_XENT[loss], False
        if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
            return "sparse", loss.options["from_logits"]
        if isinstance(loss, losses_module.CategoricalCrossentropy):
            return "categorical", loss.options["from_logits"]
        if loss is losses_module.binary_crossentropy:
            return "binary", False
        if isinstance(loss, losses_module.BinaryCrossentropy):
            return "binary", False
        return "dense", False

    @staticmethod
    def _loss_name(loss):
        if isinstance(loss, losses_module.Loss):
            return loss.name
        return getattr(loss, "__name__", type(loss).__name__)

    def resolve_metrics(self, y_shape):
        """Turn "accuracy" into the right accuracy function, once the targets are known."""
        self.metrics = []
        for given, metric in self.metric_ids:
            if isinstance(metric, str):  # "accuracy" / "acc"
                shape = self.shape if self.shape is not None else (None,) + tuple(y_shape[1:])
                fn = metrics_module.resolve_accuracy(self.loss_name, y_shape, shape)
                key = metric
            elif isinstance(given, str):  # Keras logs a metric given by name under that name
                fn, key = metric, given
            elif isinstance(metric, metrics_module.Mean):
                fn, key = metric, metric.name
            else:
                fn, key = metric, getattr(metric, "__name__", type(metric).__name__)
            self.metrics.append((self.prefix + key, fn))

    @property
    def needs_output(self):
        """False when the loss and every metric read only the logits (fused path)."""
        fused = self.kind in ("sparse", "categorical") and not self.from_logits
        return not fused or any(fn not in _ARGMAX_METRICS for _, fn in self.metrics)

    def target_spec(self):
        return data_adapter.TargetSpec(self.name, self.shape, self.kind)

    def compute_loss(self, output, logits, y):
        """The batch-mean loss of this output, a scalar Tensor."""
        if self.kind in ("sparse", "categorical"):
            if self.from_logits:
                return ops.softmax_cross_entropy(output, y, reduction="mean")
            if logits is not None:
                return ops.softmax_cross_entropy(logits, y, reduction="mean")
        value = self.loss(y, output)
        if not isinstance(value, Tensor):
            raise TypeError(
                f"the loss {self.loss_name!r} returned {type(value).__name__}, not a Tensor: a loss "
                f"must be built from minidl ops (minidl.ops / Tensor methods) to be differentiable."
            )
        return value if value.ndim == 0 else ops.mean(value)

    def metric_values(self, y, output, logits):
        """Per-batch means of the metrics, from arrays (no graph)."""
        values = []
        for _, fn in self.metrics:
            # argmax of the logits is argmax of the softmax: skip computing it
            source = logits if logits is not None and fn in _ARGMAX_METRICS else output
            data = source.data if isinstance(source, Tensor) else source
            if isinstance(fn, metrics_module.Mean):
                fn.reset_state()
                fn.update_state(y, data)
                values.append(fn.result())
            else:
                result = fn(y, data)
                values.append(float(np.mean(result.data if isinstance(result, Tensor) else result)))
        return values


_ARGMAX_METRICS = (metrics_module.sparse_categorical_accuracy, metrics_module.categorical_accuracy)


def _per_output(value, names, what):
    """A loss/metric argument given once, as a list, or as a dict by output name -> list."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"compile(): {what} names unknown outputs {unknown}; the outputs are {names}."
            )
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and (len(names) > 1 or what == "loss_weights"):
        if len(value) != len(names):
            outputs = f"{len(names)} output{'s' if len(names) != 1 else ''}"
            raise ValueError(
                f"compile(): {what} has {len(value)} entries but the model has {outputs} {names}; "
                f"give one per output."
            )
        return list(value)
    return [value] * len(names)


def _batch_size(value):
    return data_adapter.check_positive_int(32 if value is None else value, "batch_size")


class _Running:
    """Running means of the logged values over an epoch, weighted by batch size."""

    def __init__(self, keys):
        self.keys = keys
        self.totals = [0.0] * len(keys)
        self.count = 0

    def add(self, values, n):
        self.totals = [total + value * n for total, value in zip(self.totals, values)]
        self.count += n

    def means(self):
        count = max(self.count, 1)
        return {key: total / count for key, total in zip(self.keys, self.totals)}


class _EpochRunner:
    """The inner loop of ``fit``: the steps of one epoch, and what each step reports.

    Per step: the batch, one training step, the running means, then the
    callbacks (only if some callback listens to batches), the progress bar
    (only when it is due to redraw), and the Ctrl-C / stop_training checks.
    """

    def __init__(self, model, loader, n_inputs, hooks, verbose):
        self.model = model
        self.loader = loader
        self.n_inputs = n_inputs
        self.hooks = hooks
        self.verbose = verbose
        self.keys = model._log_keys()
        self.weights = list(model.trainable_weights)
        self.guard = None
        self.interrupted_at = None  # (epoch, steps done) after Ctrl-C
        self.nan_warned = False
        self.bar = None

    def train_epoch(self, epoch, order):
        """Run the epoch's steps; returns the logs, or None when Ctrl-C cut it short."""
        loader, model, hooks, n_inputs = self.loader, self.model, self.hooks, self.n_inputs
        self.bar = Progbar(loader.steps, verbose=self.verbose) if self.verbose else None
        running = _Running(self.keys)
        batches = loader.shuffled(order) if order is not None else loader.sequential()
        for step, batch in enumerate(batches):
            size = len(batch[0])
            if hooks.batch_hooks:
                hooks.batch_begin(step, {"batch": step, "size": size})
            values = model._train_step(batch[:n_inputs], batch[n_inputs:], self.weights)
            running.add(values, size)
            if not math.isfinite(values[0]):
                self._warn_nan(values[0], epoch, step)
            if hooks.batch_hooks:
                hooks.batch_end(step, running.means())
            if self.bar is not None and step + 1 < loader.steps and self.bar.due():
                self.bar.update(step + 1, list(running.means().items()))
            # Ctrl-C: stop here, unless this was the last step (then the epoch is whole)
            if self.guard.requested and step + 1 < loader.steps:
                self.interrupted_at = (epoch, step + 1)
                return None
            if model.stop_training:
                break
        return running.means()

    def finish_bar(self, logs):
        if self.bar is not None:
            self.bar.update(self.loader.steps, list(logs.items()))

    def _warn_nan(self, value, epoch, step):
        if self.nan_warned:
            return
        self.nan_warned = True
        warnings.warn(
            f"fit(): the loss became {value} at epoch {epoch + 1}, step {step + 1}. Training cannot "
            f"recover from this; lower the learning rate, check the data for extreme values, or "
            f"pass callbacks=[TerminateOnNaN()] to stop at once.",
            RuntimeWarning,
            stacklevel=4,
        )


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
    """The Keras training API for ``Model``: compile, fit, evaluate, predict.

    The model supplies ``call_with_logits``, ``__call__``, ``output_names``,
    ``output_shapes``, ``trainable_weights``; this mixin holds the optimizer,
    the losses and the metrics.
    """

    optimizer = None
    stop_training = False
    history = None
    _heads = None

    # --- compile ------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs):
        """Choose the optimizer, the loss (per output) and the metrics to report.

        ``optimizer``: "sgd" / "rmsprop" / "adam" or an Optimizer.
        ``loss``: a name ("sparse_categorical_crossentropy", "mse", ...), a Loss
        object or a function ``(y_true, y_pred)``; for several outputs a list or a
        dict by output name.  ``metrics``: a list of names ("accuracy", "mae"),
        functions or metric objects (or a dict by output name).
        ``loss_weights``: the factor of each output's loss in the total.
        """
        for key in kwargs:
            if key not in ("run_eagerly", "jit_compile", "steps_per_execution", "weighted_metrics"):
                raise TypeError(f"compile() got an unexpected keyword argument {key!r}.")
        optimizer = optimizers_module.get(optimizer)
        if loss is None:
            raise ValueError(
                "compile() needs a loss, for example loss='sparse_categorical_crossentropy' for "
                "integer labels or loss='mse' for regression."
            )
        names = self._output_names_or_default()
        shapes = self._output_shapes_or_none(len(names))
        loss_list = [None if l is None else losses_module.get(l) for l in _per_output(loss, names, "loss")]
        if any(l is None for l in loss_list):
            missing = [n for n, l in zip(names, loss_list) if l is None]
            raise ValueError(f"compile(): no loss given for outputs {missing}.")
        if loss_weights is None:
            weights = [1.0] * len(names)
        else:
            weights = [1.0 if w is None else w for w in _per_output(loss_weights, names, "loss_weights")]
        if isinstance(metrics, dict):
            metric_lists = _per_output(metrics, names, "metrics")
        elif metrics is None:
            metric_lists = [None] * len(names)
        elif isinstance(metrics, (list, tuple)):
            per_output = len(names) > 1 and len(metrics) == len(names) and all(
                isinstance(m, (list, tuple)) for m in metrics)
            metric_lists = list(metrics) if per_output else [metrics] * len(names)
        else:
            raise TypeError(f"compile(): metrics must be a list (or dict), received {metrics!r}.")
        heads = []
        for i, name in enumerate(names):
            ids = metric_lists[i]
            ids = [] if ids is None else (list(ids) if isinstance(ids, (list, tuple)) else [ids])
            metric_ids = [(m, metrics_module.get(m)) for m in ids]
            prefix = f"{name}_" if len(names) > 1 else ""
            shape = shapes[i] if shapes else None
            heads.append(OutputHead(name, shape, loss_list[i], weights[i], metric_ids, prefix))
        self.optimizer = optimizer
        self._heads = heads
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights}
        self.stop_training = False

    @property
    def compiled(self):
        return self._heads is not None

    @property
    def metrics_names(self):
        """The names evaluate() returns values for: ``["loss", "accuracy"]``."""
        return self._log_keys() if self._heads is not None else []

    def _output_names_or_default(self):
        """The output names; an unbuilt model (no input_shape yet) has one output."""
        if not getattr(self, "built", False):
            return ["output_1"]
        return list(self.output_names)

    def _output_shapes_or_none(self, count):
        if not getattr(self, "built", False):
            return None
        try:
            shapes = [tuple(s) for s in self.output_shapes]
        except (AttributeError, TypeError, ValueError):
            return None
        return shapes if len(shapes) == count else None

    def _require_compiled(self, method):
        if self._heads is None:
            raise NotCompiledError(
                f"{method}(): the model must be compiled first, for example model.compile("
                f"optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])."
            )

    # --- data ---------------------------------------------------------------
    def _ensure_built(self, xs):
        """Unbuilt models (no input_shape) are built by a forward pass on one sample."""
        if getattr(self, "built", False):
            return
        with no_grad():
            self(xs[0][:1] if len(xs) == 1 else [x[:1] for x in xs], training=False)
        if self._heads:
            shapes = self._output_shapes_or_none(len(self._heads)) or [None] * len(self._heads)
            for head, name, shape in zip(self._heads, self.output_names, shapes):
                head.name, head.shape = name, shape

    def _prepare(self, x, y, what=("x", "y")):
        """Check and convert (x, y); returns (inputs, targets, n)."""
        xs = data_adapter.prepare_inputs(self, x, what[0], finite=False)  # to build the model
        self._ensure_built(xs)
        xs = data_adapter.prepare_inputs(self, xs if len(xs) > 1 else xs[0], what[0])
        ys = data_adapter.prepare_targets([h.target_spec() for h in self._heads], y, what[1])
        n = data_adapter.check_lengths(xs, ys, *what)
        return xs, ys, n

    def _log_keys(self):
        keys = ["loss"]
        if len(self._heads) > 1:
            keys += [f"{h.name}_loss" for h in self._heads]
        for head in self._heads:
            keys += [key for key, _ in head.metrics]
        return keys

    # --- one step -----------------------------------------------------------
    def _forward_losses(self, xb, yb, training):
        x_in = xb[0] if len(xb) == 1 else xb
        outputs_needed = any(head.needs_output for head in self._heads)
        outputs, logits = self.call_with_logits(x_in, training=training, outputs_needed=outputs_needed)
        per_output = [h.compute_loss(o, l, y) for h, o, l, y in zip(self._heads, outputs, logits, yb)]
        if len(per_output) == 1 and self._heads[0].weight == 1.0:
            total = per_output[0]
        else:
            total = None
            for head, value in zip(self._heads, per_output):
                term = value if head.weight == 1.0 else ops.mul(value, head.weight)
                total = term if total is None else ops.add(total, term)
        return total, per_output, outputs, logits

    def _batch_values(self, total, per_output, outputs, logits, yb):
        values = [float(total.data)]
        if len(self._heads) > 1:
            values += [float(v.data) for v in per_output]
        for head, o, l, y in zip(self._heads, outputs, logits, yb):
            values += head.metric_values(y, o, l)
        return values

    def _train_step(self, xb, yb, weights):
        total, per_output, outputs, logits = self._forward_losses(xb, yb, training=True)
        for w in weights:
            w.grad = None
        total.backward()
        self.optimizer.apply_gradients([(w.grad, w) for w in weights if w.grad is not None])
        return self._batch_values(total, per_output, outputs, logits, yb)

    def _test_step(self, xb, yb):
        with no_grad():
            total, per_output, outputs, logits = self._forward_losses(xb, yb, training=False)
            return self._batch_values(total, per_output, outputs, logits, yb)

    # --- fit ----------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0, **kwargs):
        """Train for ``epochs`` passes over (x, y); returns a ``History``.

        ``validation_split`` keeps the last fraction of the data (before
        shuffling) for validation; ``validation_data=(x_val, y_val)`` gives it
        explicitly.  ``verbose``: 1 progress bar, 2 one line per epoch, 0 silent.
        """
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
        callback_objects = callbacks_module.get(callbacks)
        data_adapter.check_validation_split(validation_split)

        xs, ys, _ = self._prepare(x, y)
        val = None
        if validation_data is not None:
            val = self._prepare_validation(validation_data)
        elif validation_split:
            (train_arrays, val_arrays) = data_adapter.split_validation(xs + ys, validation_split)
            xs, ys = train_arrays[:len(xs)], train_arrays[len(xs):]
            val = (val_arrays[:len(xs)], val_arrays[len(xs):])
        for head, target in zip(self._heads, ys):
            head.resolve_metrics(target.shape)
        # --- from here on, the model and the optimizer may change -----------
        return self._fit_loop(xs, ys, val, batch_size, epochs, verbose, callback_objects,
                              shuffle, initial_epoch)

    def _prepare_validation(self, validation_data):
        is_sequence = isinstance(validation_data, (tuple, list))
        if not is_sequence or len(validation_data) not in (2, 3):
            length = f" of length {len(validation_data)}" if is_sequence else ""
            raise ValueError(
                f"validation_data must be a tuple (x_val, y_val), received "
                f"{type(validation_data).__name__}{length}."
            )
        x_val, y_val = validation_data[:2]
        xs, ys, _ = self._prepare(x_val, y_val, ("validation_data[0]", "validation_data[1]"))
        return xs, ys

    def _fit_loop(self, xs, ys, val, batch_size, epochs, verbose, callback_objects, shuffle,
                  initial_epoch):
        loader = data_adapter.BatchLoader(xs + ys, batch_size)
        history = callbacks_module.History()
        history.params = {"verbose": verbose, "epochs": epochs, "steps": loader.steps}
        hooks = callbacks_module.CallbackList([history] + callback_objects, self, history.params)
        run = _EpochRunner(self, loader, len(xs), hooks, verbose)
        self.stop_training = False
        generator = minidl_random.get_generator()
        with _InterruptGuard() as guard:
            run.guard = guard
            hooks.call("on_train_begin", {})
            for epoch in range(initial_epoch, epochs):
                if verbose:
                    print(f"Epoch {epoch + 1}/{epochs}", flush=True)
                hooks.call("on_epoch_begin", epoch, {})
                order = generator.permutation(loader.size) if shuffle else None
                logs = run.train_epoch(epoch, order)
                if logs is None:  # interrupted in the middle of the epoch
                    break
                if val is not None:
                    val_logs = self._evaluate_arrays(*val, batch_size)
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
                run.finish_bar(logs)
                hooks.call("on_epoch_end", epoch, logs)
                if guard.requested:
                    run.interrupted_at = (epoch, loader.steps)
                if self.stop_training or guard.requested:
                    break
            hooks.call("on_train_end", {})
        if run.interrupted_at is not None:
            epoch, step = run.interrupted_at
            print(
                f"\nTraining interrupted (Ctrl-C) in epoch {epoch + 1}, after step "
                f"{step}/{loader.steps}. The model keeps the weights of that step, the optimizer "
                f"state matches them, and the History holds the {len(history.epoch)} finished "
                f"epoch(s). Call fit() again to continue.",
                flush=True,
            )
        self.history = history
        history.model = self
        return history

    # --- evaluate / predict -------------------------------------------------
    def _evaluate_arrays(self, xs, ys, batch_size, bar=None):
        loader = data_adapter.BatchLoader(xs + ys, batch_size)
        running = _Running(self._log_keys())
        for step, batch in enumerate(loader.sequential()):
            running.add(self._test_step(batch[:len(xs)], batch[len(xs):]), len(batch[0]))
            if bar is not None:
                bar.update(step + 1, list(running.means().items()))
        return running.means()

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False, **kwargs):
        """Loss (and metrics) on (x, y): the loss alone without metrics, else [loss, metric, ...]."""
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}.")
        self._require_compiled("evaluate")
        batch_size = _batch_size(batch_size)
        xs, ys, n = self._prepare(x, y)
        for head, target in zip(self._heads, ys):
            head.resolve_metrics(target.shape)
        bar = Progbar(math.ceil(n / batch_size), verbose=verbose) if verbose else None
        logs = self._evaluate_arrays(xs, ys, batch_size, bar)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=32, verbose=0, **kwargs):
        """The model's outputs for x, as a NumPy array (a list of arrays for several outputs).

        A big batch of a model with big layer outputs (a CNN) runs through the model
        in slices that fit the CPU's caches, when that cannot change the result
        (see ``predict_slices.py``).
        """
        if kwargs:
            raise TypeError(f"predict() got unexpected keyword arguments {sorted(kwargs)}.")
        batch_size = _batch_size(batch_size)
        xs = data_adapter.prepare_inputs(self, x, finite=False)
        self._ensure_built(xs)
        xs = data_adapter.prepare_inputs(self, xs if len(xs) > 1 else xs[0], finite=False)
        n = data_adapter.check_lengths(xs, [], "x", "x")
        loader = data_adapter.BatchLoader(xs, batch_size)
        bar = Progbar(loader.steps, verbose=verbose) if verbose else None
        results = None
        size = predict_slice(self, batch_size)  # a big batch may run in slices, see there
        with no_grad():
            for step, batch in enumerate(loader.sequential()):
                for lo in range(0, len(batch[0]), size):
                    part = [a[lo:lo + size] for a in batch]
                    out = self(part[0] if len(part) == 1 else part, training=False)
                    out = [o.data for o in out] if isinstance(out, (list, tuple)) else [out.data]
                    if results is None:
                        results = [np.empty((n,) + o.shape[1:], dtype=o.dtype) for o in out]
                    start = step * batch_size + lo
                    for target, o in zip(results, out):
                        target[start:start + len(o)] = o
                if bar is not None:
                    bar.update(step + 1)
        return results[0] if len(results) == 1 else results

    # --- single batches -----------------------------------------------------
    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on (x, y); returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        xs, ys, _ = self._prepare(x, y)
        for head, target in zip(self._heads, ys):
            head.resolve_metrics(target.shape)
        values = self._train_step(xs, ys, list(self.trainable_weights))
        return self._batch_result(values, return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        self._require_compiled("test_on_batch")
        xs, ys, _ = self._prepare(x, y)
        for head, target in zip(self._heads, ys):
            head.resolve_metrics(target.shape)
        return self._batch_result(self._test_step(xs, ys), return_dict)

    def predict_on_batch(self, x):
        """The outputs for x, as one batch."""
        xs = data_adapter.prepare_inputs(self, x, finite=False)
        return self.predict(xs[0] if len(xs) == 1 else xs, batch_size=len(xs[0]))

    def _batch_result(self, values, return_dict):
        if return_dict:
            return dict(zip(self._log_keys(), values))
        return values[0] if len(values) == 1 else values

    # --- saving (see minidl.models.saving) ----------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save architecture, weights and optimizer state to one file (see ``saving``)."""
        from minidl.models import saving

        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        from minidl.models import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from minidl.models import saving

        saving.load_weights(self, filepath)
