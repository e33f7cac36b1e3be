"""What the loss functions need: per-sample or per-element loss values.

* ``softmax_cross_entropy``: softmax and cross-entropy fused in one kernel.
  Separately, the softmax Jacobian and the log's 1/p would be computed and
  then cancel; fused, dL/dlogits = p - target, and the loss is computed as
  logsumexp(z) - z[label], which stays finite for logits of +-1e4.
* Elementwise losses (the caller reduces them): squared and absolute error,
  binary cross-entropy on probabilities and on logits.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record, unbroadcast
from minidl.ops.activations import _sigmoid
from minidl.ops.arithmetic import _pair, as_tensor
from minidl.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _labels_array(labels, logits):
    """Labels as the kernel wants them: int64 (N,) indices or float (N, C) targets."""
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    n, c = logits.shape
    if labels.ndim == 2 and labels.shape[1] == 1 and c != 1:
        labels = labels[:, 0]  # (N, 1) class indices, as Keras's sparse losses accept
    if labels.ndim == 2:
        if labels.shape != (n, c):
            raise ValueError(
                f"softmax_cross_entropy: one-hot labels must have the logits' shape {(n, c)}, "
                f"received {labels.shape}."
            )
        return np.ascontiguousarray(labels, dtype=logits.dtype)
    if labels.shape != (n,):
        raise ValueError(
            f"softmax_cross_entropy: labels of shape {labels.shape} do not match logits "
            f"{(n, c)}; expected class indices ({n},) or one-hot targets ({n}, {c})."
        )
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError(
                "softmax_cross_entropy: class-index labels must be whole numbers, received "
                f"non-integer values such as {labels[labels != np.round(labels)][:3]}."
            )
    elif labels.dtype.kind not in "iub":
        raise TypeError(f"softmax_cross_entropy: labels must be numbers, received {labels.dtype}.")
    # the range [0, c) is checked by the kernel, in the same pass that uses the labels
    return np.ascontiguousarray(labels, dtype=np.int64)


def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Cross-entropy between softmax(logits) and the labels.

    logits (N, C); labels class indices (N,) of any integer dtype, or target
    distributions / one-hot (N, C).  Per sample:
        loss_n = -sum_c target_nc * log softmax(logits_n)_c
    ``reduction``: "mean" over the batch (a scalar), "sum", or "none" (N,).
    Gradient: dL/dlogits_n = (softmax(logits_n) * sum(target_n) - target_n)
    times the loss's own gradient (1/N for the mean); labels get none.
    """
    logits = as_tensor(logits)
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"softmax_cross_entropy: reduction must be one of {REDUCTIONS}, received {reduction!r}."
        )
    if logits.ndim != 2:
        raise ValueError(
            f"softmax_cross_entropy: logits must be 2-D (batch, classes), received {logits.shape}."
        )
    labels = _labels_array(labels, logits)
    n = logits.shape[0]
    probs = np.empty_like(logits.data)
    losses = np.empty(n, logits.dtype)
    _kernels.current.softmax_cross_entropy_forward(logits.data, labels, probs, losses)
    # (np.add.reduce: what .mean() does, without its Python layer; summed in float64 so
    # that huge float32 losses do not overflow before the division)
    if reduction == "mean":
        out = np.asarray(np.add.reduce(losses, dtype=np.float64) / n, dtype=logits.dtype)
    elif reduction == "sum":
        out = np.asarray(np.add.reduce(losses, dtype=np.float64), dtype=logits.dtype)
    else:
        out = losses

    def backward(grad):
        if reduction == "none":
            grad_losses = np.ascontiguousarray(grad, dtype=logits.dtype)
        else:
            scale = grad / n if reduction == "mean" else grad
            grad_losses = np.full(n, scale, dtype=logits.dtype)
        grad_logits = np.empty_like(probs)
        _kernels.current.softmax_cross_entropy_backward(probs, labels, grad_losses, grad_logits)
        return (grad_logits,)

    return record(out, (logits,), backward)


def squared_error(y_true, y_pred):
    """(y_pred - y_true)^2, elementwise.   d/dy_pred = 2 (y_pred - y_true)."""
    y_pred, y_true = _pair(y_pred, y_true)
    diff = y_pred.data - y_true.data

    def backward(grad):
        g = 2 * grad * diff
        return unbroadcast(g, y_pred.shape), unbroadcast(-g, y_true.shape)

    return record(diff * diff, (y_pred, y_true), backward)


def absolute_error(y_true, y_pred):
    """|y_pred - y_true|, elementwise.   d/dy_pred = sign(y_pred - y_true)."""
    y_pred, y_true = _pair(y_pred, y_true)
    diff = y_pred.data - y_true.data

    def backward(grad):
        g = grad * np.sign(diff)
        return unbroadcast(g, y_pred.shape), unbroadcast(-g, y_true.shape)

    return record(np.abs(diff), (y_pred, y_true), backward)


def binary_cross_entropy(y_true, probs, epsilon=1e-7):
    """-(z log p + (1 - z) log(1 - p)) for probabilities p, elementwise.

    As Keras does, p is first clipped to [epsilon, 1 - epsilon] and epsilon is
    added inside the logs, so the loss stays finite at p = 0 or 1:
        loss = -(z log(p' + eps) + (1 - z) log(1 - p' + eps)),  p' = clip(p)
    d/dp = -(z / (p' + eps) - (1 - z) / (1 - p' + eps)) where p was not
    clipped, 0 where it was.
    """
    probs, y_true = _pair(probs, y_true)
    z = y_true.data
    p = np.clip(probs.data, epsilon, 1 - epsilon)
    log_p = np.log(p + epsilon)
    log_q = np.log(1 - p + epsilon)
    out = -(z * log_p + (1 - z) * log_q)

    def backward(grad):
        inside = (probs.data >= epsilon) & (probs.data <= 1 - epsilon)
        grad_p = -grad * (z / (p + epsilon) - (1 - z) / (1 - p + epsilon)) * inside
        grad_z = -grad * (log_p - log_q)
        return unbroadcast(grad_p, probs.shape), unbroadcast(grad_z, y_true.shape)

    return record(out, (probs, y_true), backward)


def binary_cross_entropy_with_logits(y_true, logits):
    """Binary cross-entropy of sigmoid(x) against z, from the logits x, elementwise.

    -(z log s(x) + (1 - z) log(1 - s(x))) simplifies to
        max(x, 0) - x z + log(1 + e^-|x|),
    which never overflows.   d/dx = sigmoid(x) - z;  d/dz = -x.
    """
    logits, y_true = _pair(logits, y_true)
    x, z = logits.data, y_true.data
    out = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))

    def backward(grad):
        grad_x = grad * (_sigmoid(x) - z)
        return unbroadcast(grad_x, logits.shape), unbroadcast(-grad * x, y_true.shape)

    return record(out, (logits, y_true), backward)
