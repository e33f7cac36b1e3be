"""Batch normalization.

    y = gamma * (x - mean) / sqrt(var + epsilon) + beta

Statistics are per feature: reduced over every axis but the last (the
channels of an NHWC image, the units of a dense output).

* ``batch_norm`` (inference): ``mean`` and ``var`` are given (the layer's
  moving averages) and are constants, so dy/dx = gamma / sqrt(var + eps).
* ``batch_norm_train``: ``mean`` and ``var`` are the batch's own statistics,
  so they depend on x too.
* ``layer_norm``: the statistics of each sample, over its feature axes.  With xhat = (x - mean) / sqrt(var + eps),
  m values per feature and g = dL/dy:
      dL/dgamma = sum(g * xhat),   dL/dbeta = sum(g)
      dL/dx = gamma / (m sqrt(var + eps)) * (m g - sum(g) - xhat sum(g xhat))
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops.arithmetic import as_tensor


def _affine_parents(x, gamma, beta):
    gamma = None if gamma is None else as_tensor(gamma, x)
    beta = None if beta is None else as_tensor(beta, x)
    return gamma, beta, tuple(t for t in (x, gamma, beta) if t is not None)


def _scale_and_shift(xhat, gamma, beta):
    out = xhat if gamma is None else xhat * gamma.data
    return out if beta is None else out + beta.data


def _affine_grads(grad, xhat, gamma, beta):
    """Gradients of gamma * xhat + beta for the parameters that exist."""
    grads = []
    if gamma is not None:
        grads.append(unbroadcast(grad * xhat, gamma.shape))
    if beta is not None:
        grads.append(unbroadcast(grad, beta.shape))
    return grads


def batch_norm(x, gamma, beta, mean, var, epsilon=1e-3):
    """Normalize ``x`` with given statistics (inference form).

    Shapes: x (..., C); gamma, beta, mean, var (C,) (gamma or beta may be
    None: no scale / no shift).  Differentiable w.r.t. x, gamma and beta.
    """
    x = as_tensor(x)
    gamma, beta, parents = _affine_parents(x, gamma, beta)
    mean = np.asarray(getattr(mean, "data", mean), dtype=x.dtype)
    inv_std = 1 / np.sqrt(np.asarray(getattr(var, "data", var), dtype=x.dtype) + epsilon)
    xhat = (x.data - mean) * inv_std
    out = _scale_and_shift(xhat, gamma, beta)

    def backward(grad):
        scale = inv_std if gamma is None else gamma.data * inv_std
        return (grad * scale, *_affine_grads(grad, xhat, gamma, beta))

    return record(out, parents, backward)


def batch_norm_train(x, gamma, beta, epsilon=1e-3, axes=None):
    """Normalize ``x`` with the statistics of this batch (training form).

    ``axes``: the axes to reduce over, default all but the last.
    Returns ``(y, batch_mean, batch_var)``: y a Tensor shaped like x, and the
    batch mean and (biased) variance as arrays of the per-feature shape, for
    the caller's moving averages.
    """
    x = as_tensor(x)
    gamma, beta, parents = _affine_parents(x, gamma, beta)
    axes = tuple(range(x.ndim - 1)) if axes is None else tuple(a % x.ndim for a in axes)
    count = int(np.prod([x.shape[a] for a in axes]))
    if count == 0:
        raise ValueError(f"batch_norm_train: cannot take statistics of an empty batch {x.shape}.")
    mean = x.data.mean(axis=axes, keepdims=True)
    centered = x.data - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + epsilon)
    xhat = centered * inv_std
    out = _scale_and_shift(xhat, gamma, beta)

    def backward(grad):
        scale = inv_std if gamma is None else gamma.data * inv_std
        grad_sum = grad.sum(axis=axes, keepdims=True)
        grad_dot = (grad * xhat).sum(axis=axes, keepdims=True)
        grad_x = scale / count * (count * grad - grad_sum - xhat * grad_dot)
        return (grad_x, *_affine_grads(grad, xhat, gamma, beta))

    feature_shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    y = record(out, parents, backward)
    return y, mean.reshape(feature_shape), var.reshape(feature_shape)



def layer_norm(x, gamma, beta, epsilon=1e-3, axes=(-1,)):
    """Normalize each sample of ``x`` over ``axes`` (layer normalization).

    The statistics are the mean and (biased) variance over ``axes`` of each
    sample (default the last axis), m values each.  gamma and beta (or None)
    broadcast against x, e.g. (C,) for the last axis.  Unlike batch norm, gamma
    varies along the reduced axes, so it stays inside the sums: with
    gx = g * gamma (g = dL/dy),
        dL/dx = 1 / (m sqrt(var + eps)) * (m gx - sum(gx) - xhat sum(gx xhat))
    """
    x = as_tensor(x)
    gamma, beta, parents = _affine_parents(x, gamma, beta)
    axes = tuple(sorted(a % x.ndim for a in axes))
    count = int(np.prod([x.shape[a] for a in axes]))
    mean = x.data.mean(axis=axes, keepdims=True)
    centered = x.data - mean
    inv_std = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + epsilon)
    xhat = centered * inv_std
    out = _scale_and_shift(xhat, gamma, beta)

    def backward(grad):
        grad_xhat = grad if gamma is None else grad * gamma.data
        grad_sum = grad_xhat.sum(axis=axes, keepdims=True)
        grad_dot = (grad_xhat * xhat).sum(axis=axes, keepdims=True)
        grad_x = inv_std / count * (count * grad_xhat - grad_sum - xhat * grad_dot)
        return (grad_x, *_affine_grads(grad, xhat, gamma, beta))

    return record(out, parents, backward)
