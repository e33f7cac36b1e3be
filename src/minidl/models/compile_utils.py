"""What ``compile()`` turns its ``loss`` and ``metrics`` arguments into.

``model.compiled_loss`` (a ``LossesContainer``) computes the total loss of a
batch from targets and predictions, output by output::

    total = sum_i loss_weight_i * mean(loss_i(y_i, y_pred_i)) + sum(model.losses)

and keeps its running mean over the epoch in a ``Mean`` metric named
"loss" (and, for several outputs, one named "<output>_loss" per output).

``model.compiled_metrics`` (a ``MetricsContainer``) turns the names and
functions given to ``compile(metrics=[...])`` into metric objects, the first
time it sees targets and predictions: only then can ``"accuracy"`` be
resolved to binary, categorical or sparse accuracy (see ``minidl.metrics``).

These are the objects a ``train_step`` you write yourself uses, as in Keras::

    loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
    self.compiled_metrics.update_state(y, y_pred)
    return {m.name: m.result() for m in self.metrics}
"""

from __future__ import annotations

import copy

import numpy as np

from minidl import losses as losses_module
from minidl import metrics as metrics_module
from minidl import ops
from minidl.tensor import Tensor


def as_list(value):
    """One value per output: a list as it is, a dict's values in the order of its sorted
    keys (a model's dict outputs, as Keras flattens them), anything else alone."""
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def per_output_weights(sample_weight, count):
    """Sample weights as one entry (an array or None) per output."""
    if isinstance(sample_weight, (list, tuple)):
        return list(sample_weight)
    return [sample_weight] * count


def per_output(value, names, what):
    """An argument given once, as a list (one per output), or as a dict by output name."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile(): {what} names unknown outputs {unknown}; the outputs are {names}.")
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


def _with_last_axis(values):
    """A 1-D array as a column ``(N, 1)``; anything else as it is."""
    if values is not None and np.ndim(values) == 1:
        values = np.asarray(values.data if isinstance(values, Tensor) else values)
        return values.reshape(len(values), 1)
    return values


def target_kind(loss):
    """Which targets ``loss`` wants (checked once by fit before training):
    "sparse" class indices, "categorical" one-hot, "binary" values in [0, 1],
    "dense" anything shaped like the output, or None (no loss, or your own: any
    numbers, passed on as they are, as Keras does)."""
    fn = getattr(loss, "fn", None)
    if fn is losses_module.sparse_categorical_crossentropy:
        return "sparse"
    if fn is losses_module.categorical_crossentropy:
        return "categorical"
    if fn is losses_module.binary_crossentropy:
        return "binary"
    if fn in (losses_module.mean_squared_error, losses_module.mean_absolute_error,
              losses_module.hinge, losses_module.huber):
        return "dense"
    return None


class LossesContainer:
    """The loss of every output, weighted and summed; see the module docstring."""

    def __init__(self, losses, loss_weights, output_names):
        self.output_names = list(output_names)
        self.losses = losses  # one Loss object (or None) per output
        self.loss_weights = [1.0 if w is None else float(w) for w in loss_weights]
        self._total = metrics_module.Mean(name="loss")
        # "<output>_loss" for each output that has a loss, when there are several outputs
        self._per_output = {
            i: metrics_module.Mean(name=f"{name}_loss")
            for i, (name, loss) in enumerate(zip(self.output_names, losses)) if loss is not None
        } if len(self.output_names) > 1 else {}
        self._used = False
        self._plain = len(losses) == 1 and losses[0] is not None and self.loss_weights[0] == 1.0

    @property
    def metrics(self):
        """The running means of the total loss and, for several outputs, of each one
        ([] until the first batch, as in Keras)."""
        return [self._total] + list(self._per_output.values()) if self._used else []

    def rename_outputs(self, names):
        """Use the model's output names, known once it is built."""
        self.output_names = list(names)
        for i, metric in self._per_output.items():
            metric.name = f"{names[i]}_loss"

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        """The total loss of a batch: a scalar Tensor the optimizer can minimise."""
        if self._plain and not regularization_losses and isinstance(y_pred, Tensor):
            # the common case, at every step: one output, its loss, nothing to add
            value = self.losses[0](y_true, y_pred, sample_weight)
            if value.data.ndim:
                value = ops.mean(value)
            self._total.add(float(value.data), len(y_pred.data))
            self._used = True
            return value
        if len(self.losses) == 1 and not isinstance(y_pred, (list, tuple)):
            y_true, y_pred = [y_true], [y_pred]
        else:
            y_true, y_pred = as_list(y_true), as_list(y_pred)
        if len(y_true) == 1 and y_true[0] is None:
            y_true = [None] * len(y_pred)  # no targets: only add_loss() losses count
        if len(y_pred) != len(self.losses) or len(y_true) != len(y_pred):
            raise ValueError(
                f"compiled_loss: the model was compiled for {len(self.losses)} output(s) "
                f"{self.output_names}, received {len(y_pred)} prediction(s) and "
                f"{len(y_true)} target(s)."
            )
        batch = len(y_pred[0])
        weights = per_output_weights(sample_weight, len(y_pred))
        total = None
        for i, (loss, weight, target, prediction) in enumerate(
                zip(self.losses, self.loss_weights, y_true, y_pred)):
            if loss is None:
                continue
            value = loss(target, prediction, weights[i])
            if value.ndim:
                value = ops.mean(value)
            if self._per_output:
                self._per_output[i].add(float(value.data), batch)
            term = value if weight == 1.0 else ops.mul(value, weight)
            total = term if total is None else ops.add(total, term)
        if regularization_losses:
            for extra in regularization_losses:
                total = extra if total is None else ops.add(total, extra)
        if total is None:
            raise ValueError(
                "No loss to compute: compile() was given no loss, and the model adds none with "
                "add_loss(). Pass one, for example model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy'), or override train_step()."
            )
        self._total.add(float(total.data), batch)
        self._used = True
        return total

    def reset_state(self):
        for metric in [self._total, *self._per_output.values()]:
            metric.reset_state()


def _per_step(weight, mask):
    """Sample weights (N,) or (N, 1) shaped to multiply a (N, T) mask."""
    weight = np.asarray(weight)
    return weight.reshape(weight.shape[:1] + (1,) * (mask.ndim - 1)) if weight.ndim <= 1 or (
        weight.ndim == 2 and weight.shape[1] == 1) else weight


class MetricsContainer:
    """The metrics of every output, made into metric objects when first used."""

    def __init__(self, metrics, output_names, losses, weighted_metrics=None):
        self.output_names = list(output_names)
        self._requested = metrics  # per output: a list of names, functions, Metric objects
        # per output: the ones that use sample weights (compile(weighted_metrics=...))
        self._requested_weighted = weighted_metrics or [[] for _ in output_names]
        self._loss_names = [getattr(loss, "name", None) for loss in losses]
        self._metrics = None  # per output: a list of Metric objects, once built
        self._weighted = None  # the same for the weighted ones

    @property
    def metrics(self):
        """The metric objects, output by output, the weighted ones after the others
        ([] until the first batch)."""
        if self._metrics is None:
            return []
        return [m for group, weighted in zip(self._metrics, self._weighted) for m in group + weighted]

    def rename_outputs(self, names):
        self.output_names = list(names)

    def build(self, y_true, y_pred):
        """Resolve the requested metrics, now that targets and predictions are known."""
        self._metrics = self._make(self._requested, y_true, y_pred)
        self._weighted = self._make(self._requested_weighted, y_true, y_pred)
        plain = {m.name for group in self._metrics for m in group}
        for group in self._weighted:
            for metric in group:
                if metric.name in plain:  # Keras's name when both lists hold it
                    metric.name = f"weighted_{metric.name}"
        names = [m.name for m in self.metrics]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            self._metrics = None
            raise ValueError(
                f"compile(): two metrics are named {twice[0]!r}; their values would share one "
                f"log entry. Give one of them another name, for example "
                f"metrics.AUC(name='{twice[0]}_2')."
            )

    def _make(self, requested, y_true, y_pred):
        prefix = len(self.output_names) > 1
        shared = sum(1 for group in requested if group) > 1
        made = []
        for i, (group, target, prediction) in enumerate(zip(requested, y_true, y_pred)):
            objects = []
            for given in group or ():
                metric = self._metric_object(given, self._loss_names[i], target, prediction)
                if isinstance(given, metrics_module.Metric) and shared:
                    metric = copy.deepcopy(metric)  # one object per output, as Keras does
                if prefix:
                    metric.name = f"{self.output_names[i]}_{metric.name}"
                objects.append(metric)
            made.append(objects)
        return made

    @staticmethod
    def _metric_object(given, loss_name, target, prediction):
        if isinstance(given, metrics_module.Metric):
            return given
        fn = metrics_module.get(given)
        if isinstance(fn, str):  # "accuracy", "ce", ...: Keras logs it under the name given
            shape = tuple(prediction.shape)
            fn = metrics_module.resolve(fn, loss_name, tuple(getattr(target, "shape", ())), shape)
            return metrics_module.MeanMetricWrapper(fn, name=given)
        if isinstance(fn, metrics_module.Metric):
            return fn
        if isinstance(given, str):
            name = given
        elif isinstance(getattr(fn, "name", None), str):  # a Loss object: Keras logs its name
            name = fn.name
        else:
            name = getattr(fn, "__name__", type(fn).__name__)
        return metrics_module.MeanMetricWrapper(fn, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: the metrics of compile(metrics=) ignore the sample weights,
        those of compile(weighted_metrics=) use them, as in Keras."""
        if self._metrics == [[]] and self._weighted == [[]]:  # nothing to do at each step
            return
        y_true, y_pred = as_list(y_true), as_list(y_pred)
        if self._metrics is None:
            self.build(y_true, y_pred)
        weights = per_output_weights(sample_weight, len(y_pred))
        for i, (group, weighted, target, prediction, weight) in enumerate(zip(
                self._metrics, self._weighted, y_true, y_pred, weights)):
            if target is None and (group or weighted):
                raise ValueError(
                    f"Output {self.output_names[i]!r} has metrics "
                    f"{[m.name for m in group + weighted]} but no targets were given for it; "
                    f"give its targets, or compile without metrics for it."
                )
            data = prediction.data if isinstance(prediction, Tensor) else prediction
            mask = prediction._keras_mask if isinstance(prediction, Tensor) else None
            if mask is not None:  # padded timesteps count for no metric (as in Keras)
                for metric in group:
                    metric.update_state(target, data, mask)
                weight = mask if weight is None else mask * _per_step(weight, mask)
            else:
                if np.ndim(data) == 2:  # Keras 2's match_dtype_and_rank: (N,) -> (N, 1)
                    target = _with_last_axis(target)
                    weight = _with_last_axis(weight)
                for metric in group:
                    metric.update_state(target, data)
            for metric in weighted:
                metric.update_state(target, data, weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()
