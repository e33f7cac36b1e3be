"""Metrics: numbers to watch during training (they are not differentiated).

Two kinds, as in Keras 2:

* functions ``fn(y_true, y_pred)`` -> one value per sample (``functions.py``:
  ``sparse_categorical_accuracy``, ``mae``, ``top_k_categorical_accuracy``, ...);
* stateful metric objects (``base.Metric``) that accumulate over batches:
  ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``,
  ``reset_state()`` -- ``Mean``, ``Sum``, the accuracies, ``Precision``,
  ``Recall``, ``AUC``, the regression errors and cross-entropies.

``compile(metrics=[...])`` takes either, or a name: a function's
(``"mae"``), a class's (``"AUC"``, and Keras 3's ``"auc"``), or ``"accuracy"``
/ ``"crossentropy"``, resolved as Keras resolves them once the targets are seen:

* one output unit (a sigmoid)             -> ``binary_accuracy``  (p > 0.5 == y)
* labels are class indices (N,) or (N, 1) -> ``sparse_categorical_accuracy``
* labels are one-hot (N, C)               -> ``categorical_accuracy``

``fit()`` logs each under its name (``"accuracy"``, ``"auc"``, ``"val_auc"``).
"""

from __future__ import annotations

import numpy as np

from minidl.metrics.auc import AUC
from minidl.metrics.base import Mean, MeanMetricWrapper, Metric, Reduce, Sum, as_array
from minidl.metrics.confusion import Precision, Recall
from minidl.metrics import functions as _functions
from minidl.metrics.functions import (
    MAE,
    MAPE,
    MSE,
    accuracy,
    binary_accuracy,
    binary_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mse,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from minidl.metrics.wrappers import (
    Accuracy,
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from minidl.errors import unknown_name_message
from minidl.utils.object_registration import get_registered_object

__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "CategoricalAccuracy",
    "CategoricalCrossentropy", "MAE", "MAPE", "MSE", "Mean", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanMetricWrapper", "MeanSquaredError", "Metric", "Precision",
    "Recall", "Reduce", "RootMeanSquaredError", "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy", "SparseTopKCategoricalAccuracy", "Sum",
    "TopKCategoricalAccuracy", "accuracy", "binary_accuracy", "binary_crossentropy",
    "categorical_accuracy", "categorical_crossentropy", "confusion_matrix", "deserialize", "get",
    "mae", "mape", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mse", "serialize", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
]

_array = as_array


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


def resolve(name, loss_name, y_true_shape, y_pred_shape):
    """The function ``"accuracy"``/``"acc"`` or ``"crossentropy"``/``"ce"`` means."""
    if name in ("crossentropy", "ce"):
        kind = resolve_accuracy(loss_name, y_true_shape, y_pred_shape).__name__
        return {"binary_accuracy": _functions.binary_crossentropy,
                "categorical_accuracy": _functions.categorical_crossentropy,
                "sparse_categorical_accuracy": _functions.sparse_categorical_crossentropy}[kind]
    return resolve_accuracy(loss_name, y_true_shape, y_pred_shape)



_FUNCTIONS = {fn.__name__: fn for fn in (
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy,
)}
_FUNCTIONS.update(mse=mean_squared_error, mae=mean_absolute_error,
                  mape=mean_absolute_percentage_error)
_RESOLVED = ("accuracy", "acc", "crossentropy", "ce")  # compile() picks the function

_CLASSES = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall, AUC,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, RootMeanSquaredError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
)}
# Keras 3's spelling of a class by name: "auc", "precision", "root_mean_squared_error"
_SNAKE_CLASSES = {"auc": AUC, "precision": Precision, "recall": Recall, "sum": Sum,
                  "root_mean_squared_error": RootMeanSquaredError}
_KNOWN = sorted({*_FUNCTIONS, *_RESOLVED, *_CLASSES, *_SNAKE_CLASSES})


def _default_name(cls):
    from minidl.layers.base import to_snake_case

    return to_snake_case(cls.__name__)


def get(identifier):
    """A metric from a name, a function or an object.

    A function's name gives the function (``"mae"``); a class's name gives a new
    object of that class named as Keras names it (``"AUC"`` -> ``AUC(name="auc")``;
    Keras 3's ``"auc"``, ``"precision"``, ``"recall"`` too); ``"accuracy"``,
    ``"acc"``, ``"crossentropy"`` and ``"ce"`` stay names (``compile()`` resolves
    them once it has seen targets and predictions)."""
    if isinstance(identifier, str):
        if identifier in _RESOLVED:
            return identifier
        fn = _FUNCTIONS.get(identifier) or _FUNCTIONS.get(identifier.lower())
        if fn is not None:
            return fn
        cls = _CLASSES.get(identifier) or _SNAKE_CLASSES.get(identifier)
        if cls is not None:
            return cls(name=_default_name(cls))
        fn = get_registered_object(identifier)  # your own, registered or in a custom_object_scope
        if fn is not None:
            return fn() if isinstance(fn, type) else fn
        raise ValueError(unknown_name_message("metric", identifier, _KNOWN))
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, Metric) or callable(identifier):
        return identifier
    raise TypeError(
        f"metric must be a name such as 'accuracy', a function (y_true, y_pred) or a metric "
        f"object, received {identifier!r} of type {type(identifier).__name__}."
    )


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


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize``: a name stays a name (``compile`` resolves it);
    your own metrics are found by name in ``custom_objects``, among registered
    objects or in a ``custom_object_scope``."""
    if isinstance(config, str):
        custom = get_registered_object(config, custom_objects)
        if custom is not None and config not in _FUNCTIONS:
            return custom() if isinstance(custom, type) else custom
        get(config)  # an unknown name fails here
        return config
    cls = _CLASSES.get(config["class_name"]) or get_registered_object(config["class_name"],
                                                                       custom_objects)
    if cls is None:
        raise ValueError(unknown_name_message("metric class", config["class_name"], _CLASSES))
    return cls.from_config(config["config"])


# Keras 2's metrics module also holds the loss functions under their own names, the same
# functions (differentiable: Deep Learning with Python's VAE builds its loss with
# ``keras.metrics.binary_crossentropy``); compile(metrics=["binary_crossentropy"]) still
# takes the NumPy running-mean versions above (_FUNCTIONS was built before this).
from minidl import losses as _losses  # noqa: E402

binary_crossentropy = _losses.binary_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
hinge = _losses.hinge
