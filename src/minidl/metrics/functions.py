"""Metric functions: ``fn(y_true, y_pred)`` -> one value per sample (NumPy).

They are what ``compile(metrics=["mae", "top_k_categorical_accuracy", ...])``
names, and what the metric classes average (see ``wrappers.py``).  Each
follows the formula of Keras 2 (tf_keras 2.21, ``metrics/*.py`` and
``backend.py``), averaged over the last axis where Keras averages it.

Called directly, they are forgiving about one thing: ``(N,)`` targets with
``(N, 1)`` predictions are taken as ``(N, 1)`` targets (Keras 2 would
broadcast them to ``(N, N)``).
"""

from __future__ import annotations

import numpy as np

from minidl.metrics.base import as_array

EPSILON = 1e-7  # Keras's backend.epsilon(), in its clips and divisions


def _pair(y_true, y_pred, dtype=None):
    """Arrays; ``(N,)`` targets get a last axis to meet ``(N, 1)`` predictions."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if dtype is not None:
        y_true, y_pred = y_true.astype(dtype, copy=False), y_pred.astype(dtype, copy=False)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true.reshape(y_true.shape + (1,))
    return y_true, y_pred


def _float_pair(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    dtype = y_pred.dtype if y_pred.dtype.kind == "f" else np.float32
    return y_true.astype(dtype, copy=False), y_pred.astype(dtype, copy=False)


def _sparse_labels(y_true, y_pred, who):
    """Integer class indices shaped like ``y_pred`` without its class axis."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"{who}: y_true must hold one class index per sample, shape {y_pred.shape[:-1]} "
            f"(or with a last axis of 1) for y_pred of shape {y_pred.shape}; received "
            f"{y_true.shape}."
        )
    return y_true, y_pred


# --- accuracies ---------------------------------------------------------------
def accuracy(y_true, y_pred):
    """1 where ``y_pred`` equals ``y_true`` exactly, element by element."""
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_true == y_pred.astype(y_true.dtype, copy=False)).astype(np.float32)


def binary_matches(y_true, y_pred, threshold=0.5):
    """1 where ``(y_pred > threshold)`` equals ``y_true``, element by element
    (Keras 2: a soft label such as 0.9 never matches)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return (y_true == (y_pred > threshold)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """``binary_matches`` averaged over the last axis: one value per sample."""
    return np.mean(binary_matches(y_true, y_pred, threshold), axis=-1, dtype=np.float32)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot targets), else 0."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label, else 0."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true.reshape(y_true.shape[:-1])
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the label is among the ``k`` highest predictions, else 0.

    Ties count for the label, as in ``tf.math.in_top_k``: the label is in the
    top k when fewer than ``k`` classes score strictly higher than it (and
    its score is finite)."""
    y_true, y_pred = _sparse_labels(y_true, y_pred, "sparse_top_k_categorical_accuracy")
    labels = y_true.astype(np.int64)
    classes = y_pred.shape[-1]
    valid = (labels >= 0) & (labels < classes)
    score = np.take_along_axis(y_pred, np.clip(labels, 0, classes - 1)[..., None], axis=-1)
    higher = np.count_nonzero(y_pred > score, axis=-1)
    return (valid & np.isfinite(score[..., 0]) & (higher < k)).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """``sparse_top_k_categorical_accuracy`` with one-hot targets (their argmax)."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


# --- regression -------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)**2)`` over the last axis."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|)`` over the last axis."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON))
    return 100.0 * np.mean(diff, axis=-1)


# --- cross-entropies --------------------------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of ``-(z log p + (1 - z) log(1 - p))`` (Keras 2's backend:
    ``p`` clipped to [1e-7, 1 - 1e-7], then 1e-7 added inside each log); with
    logits ``x``: ``max(x, 0) - x z + log(1 + exp(-|x|))``.  Label smoothing
    moves the targets towards 0.5: ``z (1 - s) + s / 2``."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = np.maximum(y_pred, 0) - y_pred * y_true + np.log1p(np.exp(-np.abs(y_pred)))
    else:
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        values = -(y_true * np.log(p + EPSILON) + (1.0 - y_true) * np.log(1.0 - p + EPSILON))
    return np.mean(values, axis=axis)


def _log_softmax(logits, axis):
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(z log p)`` over ``axis``, with ``p`` renormalised to sum to 1 and
    clipped to [1e-7, 1 - 1e-7] (Keras 2's backend), or ``log_softmax`` of
    logits.  Label smoothing: ``z (1 - s) + s / num_classes``."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    dtype = y_pred.dtype if y_pred.dtype.kind == "f" else np.float32
    y_true, y_pred = y_true.astype(dtype, copy=False), y_pred.astype(dtype, copy=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"categorical_crossentropy: y_true must be one-hot, shaped like y_pred {y_pred.shape}; "
            f"received {y_true.shape} (class indices? use sparse_categorical_crossentropy)."
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_p = _log_softmax(y_pred, axis)
    else:
        p = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
        log_p = np.log(np.clip(p, EPSILON, 1.0 - EPSILON))
    return -np.sum(y_true * log_p, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1, ignore_class=None):
    """``-log p[label]``: Keras 2 clips ``p`` to [1e-7, 1 - 1e-7] and takes the log
    softmax of ``log p``, which renormalises the clipped ``p`` to sum to 1.
    ``ignore_class``: samples with that label get 0 (the metric class also
    leaves them out of its mean)."""
    if axis not in (-1, as_array(y_pred).ndim - 1):
        y_pred = np.moveaxis(as_array(y_pred), axis, -1)
    y_true, y_pred = _sparse_labels(y_true, y_pred, "sparse_categorical_crossentropy")
    if ignore_class is not None:
        real = y_true != ignore_class
        values = sparse_categorical_crossentropy(np.where(real, y_true, 0), y_pred, from_logits)
        return values * real
    dtype = y_pred.dtype if y_pred.dtype.kind == "f" else np.float32
    y_pred = y_pred.astype(dtype, copy=False)
    labels = y_true.astype(np.int64)
    classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels must be in [0, {classes}) for {classes} "
            f"classes, received labels from {labels.min()} to {labels.max()}."
        )
    log_p = _log_softmax(y_pred if from_logits else np.log(np.clip(y_pred, EPSILON, 1.0 - EPSILON)),
                         -1)
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
