"""Metric classes that average a per-sample function (``MeanMetricWrapper``s),
and ``RootMeanSquaredError``.  Names and defaults are Keras 2's."""

from __future__ import annotations

import numpy as np

from minidl.metrics import functions as F
from minidl.metrics.base import Mean, MeanMetricWrapper, as_array, divide_no_nan, squeeze_or_expand


def _check_k(k, who):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{who}: k must be a positive integer, received k={k!r}.")
    return int(k)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (element by element)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(F.accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` equals the 0/1 target (element by element)."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(F.binary_matches, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax(y_true) (one-hot targets)."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(F.categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(F.sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(F.top_k_categorical_accuracy, name, dtype,
                         k=_check_k(k, "TopKCategoricalAccuracy"))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(F.sparse_top_k_categorical_accuracy, name, dtype,
                         k=_check_k(k, "SparseTopKCategoricalAccuracy"))


class MeanSquaredError(MeanMetricWrapper):
    """The running mean of ``mean((y_pred - y_true)**2)`` over each sample's last axis."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(F.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of ``mean(|y_pred - y_true|)`` over each sample's last axis."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(F.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The running mean of ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))``."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(F.mean_absolute_percentage_error, name, dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(sum(w (y_pred - y_true)**2) / sum(w))`` over every element seen
    (Keras 2 averages the squared errors element by element, then takes the root)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred, y_true, _ = squeeze_or_expand(as_array(y_pred, self.dtype),
                                              as_array(y_true, self.dtype))
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return self._scalar(np.sqrt(divide_no_nan(self.total.data, self.count.data)))


def _check_smoothing(value, who):
    if not 0 <= value <= 1:
        raise ValueError(f"{who}: label_smoothing must be in [0, 1], received {value!r}.")
    return value


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of ``functions.binary_crossentropy`` (Keras 2's clipped formula)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(F.binary_crossentropy, name, dtype, from_logits=bool(from_logits),
                         label_smoothing=_check_smoothing(label_smoothing, "BinaryCrossentropy"))


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of ``functions.categorical_crossentropy`` (one-hot targets)."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(F.categorical_crossentropy, name, dtype, from_logits=bool(from_logits),
                         label_smoothing=_check_smoothing(label_smoothing,
                                                          "CategoricalCrossentropy"), axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of ``functions.sparse_categorical_crossentropy`` (class indices).
    ``ignore_class`` (Keras 2): samples with that label are left out of the mean
    (their weight is 0)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        from minidl.losses import check_ignore_class

        self.ignore_class = check_ignore_class(ignore_class, "SparseCategoricalCrossentropy")
        super().__init__(F.sparse_categorical_crossentropy, name, dtype,
                         from_logits=bool(from_logits), axis=axis)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        y_pred, y_true, _ = squeeze_or_expand(as_array(y_pred), as_array(y_true))
        values = self._fn(y_true, y_pred, ignore_class=self.ignore_class, **self._fn_kwargs)
        real = (y_true.reshape(values.shape) != self.ignore_class).astype(values.dtype)
        if sample_weight is not None:
            real = real * np.broadcast_to(as_array(sample_weight, values.dtype).reshape(
                np.shape(sample_weight) + (1,) * (values.ndim - np.ndim(sample_weight))),
                values.shape)
        super(MeanMetricWrapper, self).update_state(values, real)

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class}
