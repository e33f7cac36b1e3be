"""``AUC``: the area under the ROC or the precision-recall curve (Keras 2's).

The curve is drawn through ``num_thresholds`` points: thresholds
``-1e-7, 1/(T-1), 2/(T-1), ..., (T-2)/(T-1), 1 + 1e-7``, and at each the
weighted counts tp, fp, fn, tn (see ``confusion.py``) accumulated over the
batches.  With evenly spread thresholds a prediction ``p`` (clipped to
[0, 1]) is positive at threshold ``j`` exactly when ``j <= b(p)``, with
``b(p) = max(ceil(p (T-1)) - 1, 0)``; so one pass drops each prediction's
weight into its bucket ``b(p)`` and a running sum from the top gives the
counts at every threshold, ``O(N + T)`` instead of ``O(N T)``: the kernel
``confusion_buckets_add`` (its NumPy twin is in ``_kernels/reference.py``).

The area, between consecutive points ``i`` and ``i+1`` (``summation_method``):

* ROC: ``x = fp / (fp + tn)`` (false positive rate), ``y = tp / (tp + fn)``
  (recall); the step ``(x_i - x_{i+1}) * h`` with ``h`` the mean of the two
  ``y`` ("interpolation", the trapezoid), their minimum ("minoring") or
  maximum ("majoring").
* PR with "interpolation": Davis & Goadrich (2006), as Keras's
  ``interpolate_pr_auc``: between two points precision follows the curve of
  ``tp = a + slope * (tp + fp)``, whose area in closed form is
  ``slope * (dtp + a * log(p_i / p_{i+1})) / (tp_{i+1} + fn_{i+1})``.
* PR otherwise: ``x`` recall, ``y`` precision, as for ROC.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.metrics.base import Metric, divide_no_nan
from minidl.metrics.confusion import EPSILON, prepare
from minidl.tensor import Tensor

_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC (default) or PR curve, from counts at ``num_thresholds``
    thresholds (default 200) accumulated over every batch.

    Predictions are probabilities (``from_logits=True``: a sigmoid is applied
    first); targets are 0/1.  Every element of ``y_pred`` is one prediction
    (``multi_label=False``: a ``(N, C)`` output is ``N * C`` binary predictions;
    ``label_weights`` then weighs each by its column's weight).
    ``multi_label=True``: each of the ``C`` columns (labels) has its own counts,
    shape ``(num_thresholds, C)``, and its own area; the result is their mean,
    ``sum(w_j * auc_j) / sum(w_j)`` with ``label_weights`` w.  ``num_labels``
    fixes ``C`` at once; else the first batch does.
    ``thresholds``: your own list in [0, 1] instead of the evenly spread ones.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        curve = str(curve).upper()
        if curve not in _CURVES:
            raise ValueError(f'AUC: curve must be "ROC" or "PR", received curve={curve!r}.')
        summation_method = str(summation_method).lower()
        if summation_method not in _SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be one of {list(_SUMMATIONS)}, received "
                             f"{summation_method!r}.")
        if num_labels is not None and (isinstance(num_labels, bool) or not isinstance(
                num_labels, (int, np.integer)) or num_labels < 1):
            raise ValueError(f"AUC: num_labels must be a positive integer or None, received "
                             f"{num_labels!r}.")
        if num_labels is not None and not multi_label:
            raise ValueError("AUC: num_labels is the number of columns of a multi-label output; "
                             "give it with multi_label=True.")
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64).reshape(-1)
            if label_weights.size == 0 or not np.all(label_weights >= 0):
                raise ValueError(f"AUC: label_weights must be non-negative numbers, one per label, "
                                 f"received {label_weights.tolist()!r}.")
            if num_labels is not None and label_weights.size != num_labels:
                raise ValueError(f"AUC: {label_weights.size} label_weights for num_labels="
                                 f"{num_labels}; give one weight per label.")
        if thresholds is not None:
            values = sorted(float(t) for t in np.asarray(thresholds, dtype=np.float64).ravel())
            if any(not 0 <= t <= 1 for t in values):
                raise ValueError(f"AUC: threshold values must be in [0, 1], received {thresholds!r}.")
            num_thresholds = len(values) + 2
            inner = [0.0, *values, 1.0]
            self._evenly = bool(np.allclose(np.diff(inner), 1.0 / (num_thresholds - 1), atol=EPSILON))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(
                    num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, received "
                                 f"{num_thresholds!r}.")
            values = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self.num_thresholds = int(num_thresholds)
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = bool(multi_label)
        self.label_weights = label_weights
        self.from_logits = bool(from_logits)
        self._given_thresholds = thresholds is not None
        self._thresholds = np.array([0.0 - EPSILON, *values, 1.0 + EPSILON])
        self.num_labels = None
        self._given_num_labels = num_labels  # for the config, as Keras keeps it
        if not self.multi_label:
            self._build(())
        elif num_labels is not None:
            self._build((int(num_labels),))
        # else built by the first update_state, from the number of columns (as Keras)

    def _build(self, labels):
        """The counts: (num_thresholds,), or (num_thresholds, num_labels) for multi_label."""
        shape = (self.num_thresholds, *labels)
        self.num_labels = labels[0] if labels else None
        self.true_positives = self.add_weight("true_positives", shape=shape)
        self.true_negatives = self.add_weight("true_negatives", shape=shape)
        self.false_positives = self.add_weight("false_positives", shape=shape)
        self.false_negatives = self.add_weight("false_negatives", shape=shape)

    @property
    def thresholds(self):
        """The thresholds of the curve's points, as a list."""
        return list(self._thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        columns = np.shape(y_pred.data if isinstance(y_pred, Tensor) else y_pred)
        if self.multi_label and len(columns) != 2:
            raise ValueError(f"{self.name}: multi_label=True takes predictions of shape "
                             f"(samples, labels), received shape {columns}.")
        labels, predictions, weights = prepare(self, y_true, y_pred, sample_weight)
        columns = columns[-1] if columns else 1
        if self.label_weights is not None and self.label_weights.size != columns:
            raise ValueError(f"{self.name}: {self.label_weights.size} label_weights for "
                             f"predictions with {columns} labels (columns); give one per label.")
        if self.from_logits:
            with np.errstate(over="ignore"):  # exp(1000) is inf, and the sigmoid 0
                predictions = 1.0 / (1.0 + np.exp(-predictions))
        if not self.multi_label:
            if self.label_weights is not None:  # each prediction weighs its label's weight
                by_label = np.tile(self.label_weights.astype(predictions.dtype),
                                   predictions.size // columns)
                weights = by_label if weights is None else weights * by_label
            self._add(labels, predictions, weights, self._counts())
            return
        if self.num_labels is None:
            self._build((columns,))
        if columns != self.num_labels:
            raise ValueError(f"{self.name}: predictions with {columns} labels (columns), but this "
                             f"AUC counts {self.num_labels} (its first batch, or num_labels).")
        rows = (-1, columns)  # one AUC per column: the kernels count each column on its own
        labels, predictions = labels.reshape(rows), predictions.reshape(rows)
        weights = None if weights is None else weights.reshape(rows)
        counts = self._counts()
        for j in range(columns):
            column = [np.zeros(self.num_thresholds, total.dtype) for total in counts]
            self._add(np.ascontiguousarray(labels[:, j]), np.ascontiguousarray(predictions[:, j]),
                      None if weights is None else np.ascontiguousarray(weights[:, j]), column)
            for total, part in zip(counts, column):
                total[:, j] += part

    def _counts(self):
        return (self.true_positives.data, self.false_positives.data,
                self.false_negatives.data, self.true_negatives.data)

    def _add(self, labels, predictions, weights, counts):
        if self._evenly:
            _kernels.current.confusion_buckets_add(labels, predictions, weights,
                                                   self.num_thresholds, *counts)
        else:
            _kernels.current.confusion_thresholds_add(labels, predictions, weights,
                                                      self._thresholds.astype(self.dtype),
                                                      *counts)

    def result(self):
        """The area; with multi_label, the mean of each label's area (weighted by
        ``label_weights``: ``sum(w_j * auc_j) / sum(w_j)``)."""
        if self.multi_label and self.num_labels is None:
            return self._scalar(0.0)  # no batch seen yet
        areas = self._areas(self.true_positives.data, self.false_positives.data,
                            self.false_negatives.data, self.true_negatives.data)
        if not self.multi_label:
            return self._scalar(areas)
        if self.label_weights is None:
            return self._scalar(np.mean(areas))
        return self._scalar(divide_no_nan(np.sum(areas * self.label_weights),
                                          np.sum(self.label_weights)))

    def _areas(self, tp, fp, fn, tn):
        """The area under the curve of the counts (T,), or of each column of (T, L)."""
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolated_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.sum((x[:-1] - x[1:]) * heights, axis=0)

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self._given_num_labels,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist(), "from_logits": self.from_logits}
        if self._given_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _interpolated_pr_auc(tp, fp, fn):
    """Davis & Goadrich's PR area (see the module docstring), Keras 2's formula."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
    return np.sum(divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)),
                  axis=0)
