"""Metrics counted from a confusion matrix at thresholds: ``Precision``,
``Recall`` and ``AUC`` (Keras 2's ``metrics/confusion_metrics.py``).

A prediction ``p`` counts as positive at threshold ``t`` when ``p > t``
(strictly); a target counts as positive when it is not 0.  Per threshold
the metric keeps weighted counts of true positives (tp), false positives
(fp), false negatives (fn) and, for AUC, true negatives (tn), which the
kernel ``confusion_thresholds_add`` adds up batch by batch (the NumPy twin in
``_kernels/reference.py`` shows the math)::

    precision = tp / (tp + fp)        recall = tp / (tp + fn)      (0 when 0/0)

Every element of ``y_pred`` is one prediction (a ``(N, C)`` output gives
``N * C`` of them), unless ``class_id`` picks one column or ``top_k`` keeps
only the ``k`` highest predictions of each row as candidates.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.metrics.base import Metric, as_array, divide_no_nan, squeeze_or_expand

EPSILON = 1e-7
NEG_INF = -1e10  # what Keras 2 gives the predictions top_k leaves out


def _thresholds(value, default, who):
    """A list of floats in [0, 1] (one threshold may be given alone)."""
    if value is None:
        return [default]
    values = [value] if np.isscalar(value) else list(np.asarray(value, dtype=np.float64).ravel())
    if not values or any(not 0 <= float(t) <= 1 for t in values):
        raise ValueError(f"{who}: threshold values must be in [0, 1], received thresholds={value!r}.")
    return [float(t) for t in values]


def _top_k_filter(y_pred, k):
    """Keep the k highest values of each row (the first index wins a tie, as
    ``tf.math.top_k``), set the others to -1e10."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, y_pred, np.asarray(NEG_INF, y_pred.dtype))


def prepare(metric, y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """Flat C-contiguous arrays ``(labels, predictions, weights or None)`` of one batch,
    in the metric's dtype, as the kernels take them: shapes matched
    (``squeeze_or_expand``), then ``top_k`` and ``class_id`` applied."""
    y_true = as_array(y_true, metric.dtype)
    y_pred = as_array(y_pred, metric.dtype)
    weights = None if sample_weight is None else as_array(sample_weight, metric.dtype)
    y_pred, y_true, weights = squeeze_or_expand(y_pred, y_true, weights)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{metric.name}: y_true and y_pred must have the same shape, received {y_true.shape} "
            f"and {y_pred.shape}."
        )
    if top_k is not None:
        y_pred = _top_k_filter(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 0 or not 0 <= class_id < y_pred.shape[-1]:
            raise ValueError(
                f"{metric.name}: class_id={class_id} is out of range for predictions of shape "
                f"{y_pred.shape}."
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if weights is not None:
        try:
            weights = np.broadcast_to(
                weights if weights.ndim in (0, y_pred.ndim) else weights.reshape(
                    weights.shape + (1,) * (y_pred.ndim - weights.ndim)), y_pred.shape)
        except ValueError:
            raise ValueError(
                f"{metric.name}: sample_weight of shape {np.shape(sample_weight)} does not fit "
                f"predictions of shape {y_pred.shape}."
            ) from None
        weights = np.ascontiguousarray(weights.reshape(-1))
    return np.ascontiguousarray(y_true.reshape(-1)), np.ascontiguousarray(y_pred.reshape(-1)), \
        weights


class _Confusion(Metric):
    """Precision and Recall: counts at one or more thresholds."""

    _counts = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        who = type(self).__name__
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(
                top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"{who}: top_k must be a positive integer or None, received {top_k!r}.")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(
                class_id, (int, np.integer)) or class_id < 0):
            raise ValueError(f"{who}: class_id must be an integer >= 0 or None, received "
                             f"{class_id!r}.")
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else NEG_INF, who)
        self._threshold_array = np.array(self.thresholds, dtype=self.dtype)
        size = len(self.thresholds)
        self.true_positives = self.add_weight("true_positives", shape=(size,))
        other = self.add_weight(self._counts[1], shape=(size,))
        setattr(self, self._counts[1], other)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, predictions, weights = prepare(self, y_true, y_pred, sample_weight, self.top_k,
                                               self.class_id)
        other = getattr(self, self._counts[1]).data
        precision = self._counts[1] == "false_positives"
        _kernels.current.confusion_thresholds_add(
            labels, predictions, weights, self._threshold_array, self.true_positives.data,
            other if precision else None, None if precision else other, None)

    def result(self):
        tp = self.true_positives.data
        value = divide_no_nan(tp, tp + getattr(self, self._counts[1]).data)
        return self._scalar(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_Confusion):
    """``tp / (tp + fp)``: of the predictions called positive, the share that is.

    ``thresholds`` (default 0.5; a list gives one result per threshold),
    ``top_k`` (only each row's k highest predictions may be positive),
    ``class_id`` (one column of a multi-class output)."""

    _counts = ("true_positives", "false_positives")


class Recall(_Confusion):
    """``tp / (tp + fn)``: of the positive targets, the share found.
    Arguments as ``Precision``."""

    _counts = ("true_positives", "false_negatives")
