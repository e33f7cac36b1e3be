"""Metrics: numbers to watch during training (they are not differentiated).

Metric functions take ``(y_true, y_pred)`` (arrays or Tensors) and return a
NumPy array with one value per sample; ``fit()`` reports their running mean
over the epoch, weighted by batch size, under the metric's name
(``"accuracy"``, ``"sparse_categorical_accuracy"``, ...).

``"accuracy"`` means different things for different targets, and is
resolved as Keras resolves it:

* one output unit (a sigmoid)             -> ``binary_accuracy``  (p > 0.5 == y)
* labels are class indices (N,) or (N, 1) -> ``sparse_categorical_accuracy``
* labels are one-hot (N, C)               -> ``categorical_accuracy``
"""

from __future__ import annotations

import numpy as np

from minidl import losses
from minidl.optimizers import unknown_name_message
from minidl.tensor import Tensor
from minidl.utils.arrays import broadcast_weights


def _array(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of the last axis where (y_pred > threshold) equals y_true."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true.reshape(y_true.shape + (1,))
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1, dtype=np.float32)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot targets), else 0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label, else 0."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim:
        y_true = y_true.reshape(y_true.shape[:-1])
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true.reshape(y_true.shape + (1,))
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true.reshape(y_true.shape + (1,))
    return np.mean(np.abs(y_pred - y_true), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error

# Keras 2's metrics module also holds the loss functions under their names (the same
# functions, so they stay differentiable: Deep Learning with Python's VAE builds its
# loss with ``keras.metrics.binary_crossentropy``)
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
hinge = losses.hinge


def resolve_accuracy(loss_name, y_true_shape, y_pred_shape):
    """Which accuracy ``"accuracy"`` means, from the loss (when it tells) or the shapes."""
    by_loss = {
        "sparse_categorical_crossentropy": sparse_categorical_accuracy,
        "categorical_crossentropy": categorical_accuracy,
        "binary_crossentropy": binary_accuracy,
    }
    if loss_name in by_loss:
        return by_loss[loss_name]
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=np.int32):
    """Counts of (true class, predicted class) pairs, like ``tf.math.confusion_matrix``.

    ``cm[i, j]`` is how many samples of class ``i`` were predicted as ``j``;
    the diagonal holds the correct answers.  ``num_classes`` defaults to
    ``max(labels, predictions) + 1``.
    """
    labels = np.asarray(_array(labels)).reshape(-1)
    predictions = np.asarray(_array(predictions)).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"confusion_matrix: labels and predictions must have the same length, received "
            f"{labels.size} labels and {predictions.size} predictions."
        )
    for what, values in (("labels", labels), ("predictions", predictions)):
        if values.dtype.kind not in "iub" and not np.all(values == np.round(values)):
            raise ValueError(f"confusion_matrix: {what} must be integer class indices.")
        if values.size and values.min() < 0:
            raise ValueError(f"confusion_matrix: {what} must be >= 0, received {values.min()}.")
    labels, predictions = labels.astype(np.int64), predictions.astype(np.int64)
    largest = int(max(labels.max(initial=-1), predictions.max(initial=-1)))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(
            f"confusion_matrix: num_classes={num_classes}, but the data contain class {largest}."
        )
    counts = np.zeros((num_classes, num_classes), dtype=dtype)
    np.add.at(counts, (labels, predictions), 1 if weights is None else np.asarray(weights).reshape(-1))
    return counts


# --- stateful metrics -----------------------------------------------------------
class Metric:
    """Base class of stateful metrics, as in Keras.

    A metric accumulates over batches: ``update_state(...)`` adds a batch,
    ``result()`` gives the value so far, ``reset_state()`` starts over (``fit``
    does at each epoch, ``evaluate`` at its start).  Calling the metric,
    ``metric(y_true, y_pred)``, updates it and returns the result.
    Subclass it and implement those three methods to write your own.
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype or "float32"

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def reset_states(self):
        """Keras 2's older name for ``reset_state``."""
        self.reset_state()

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class Mean(Metric):
    """A running mean, weighted: ``update_state(values, sample_weight=None)``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_array(values))
        if sample_weight is None:
            self.total += float(np.add.reduce(values, axis=None, dtype=np.float64))
            self.count += values.size
        else:
            values = values.astype(np.float64)
            weight = broadcast_weights(_array(sample_weight), values.shape).astype(np.float64)
            self.total += float((values * weight).sum())
            self.count += float(weight.sum())

    def add(self, value, count):
        """Fold in a batch whose mean is already known (cheaper than update_state)."""
        self.total += value * count
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample metric function ``fn(y_true, y_pred)``."""

    def __init__(self, fn, name=None, dtype=None, **options):
        super().__init__(name or fn.__name__, dtype)
        self.fn = fn
        self.options = options

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.options), sample_weight)


    def get_config(self):
        return {**super().get_config(), **self.options}


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


_FUNCTIONS = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
}
_KNOWN = sorted({*_FUNCTIONS, "accuracy", "acc"})


def get(identifier):
    """A metric function from a name or a function; ``"accuracy"``/``"acc"`` stay as
    they are (``compile()`` resolves them once it knows the loss and shapes)."""
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return identifier
        fn = _FUNCTIONS.get(identifier) or _FUNCTIONS.get(identifier.lower())
        if fn is None:
            raise ValueError(unknown_name_message("metric", identifier, _KNOWN))
        return fn
    if isinstance(identifier, Metric) or callable(identifier):
        return identifier
    raise TypeError(
        f"metric must be a name such as 'accuracy', a function (y_true, y_pred) or a metric "
        f"object, received {identifier!r} of type {type(identifier).__name__}."
    )


_CLASSES = {cls.__name__: cls for cls in (
    Mean, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError,
)}


def serialize(metric):
    """A JSON-able description of a metric (for saving), or None if it is your own."""
    if isinstance(metric, str):
        return metric
    for name, fn in _FUNCTIONS.items():
        if metric is fn:
            return name
    if type(metric).__name__ in _CLASSES and type(metric) is _CLASSES[type(metric).__name__]:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return None


def deserialize(config):
    """The inverse of ``serialize``: a name stays a name (``compile`` resolves it)."""
    if isinstance(config, str):
        get(config)  # an unknown name fails here
        return config
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(unknown_name_message("metric class", config["class_name"], _CLASSES))
    return cls(**config["config"])
