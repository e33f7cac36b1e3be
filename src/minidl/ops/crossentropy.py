"""Keras 3's cross-entropies (``keras.ops.binary_crossentropy``,
``categorical_crossentropy``, ``sparse_categorical_crossentropy``): the loss of
each sample (or each value, for the binary one), not averaged, for a custom
``train_step`` or loss to reduce.

With probabilities p (``from_logits=False``), as Keras 3 computes them:

    binary       -(t log p' + (1 - t) log(1 - p'))        elementwise
    categorical  -sum_c t_c log p'_c                      over ``axis``
    sparse       -log softmax(log p')_t  = -log(p'_t / sum_c p'_c)
    where p' = clip(p, 1e-7, 1 - 1e-7) (categorical first divides p by its sum)

With logits z (``from_logits=True``) the log-probabilities are computed from
z directly, which stays finite for any z: log sigmoid for the binary loss,
log_softmax for the others.  All are built from other ops, whose backwards
give the gradient (with respect to ``output``; the targets get one too,
where they are floats).
"""

from __future__ import annotations

import numpy as np

from minidl.ops._dtypes import plain_values
from minidl.ops.activations import log_softmax
from minidl.ops.arithmetic import as_tensor, div, mul, neg, sub
from minidl.ops.elementwise import clip, log
from minidl.ops.gathering import one_hot
from minidl.ops.losses import binary_cross_entropy_with_logits
from minidl.ops.reductions import sum

EPSILON = 1e-7  # keras.backend.epsilon()


def _same_shapes(target, output):
    if target.shape != output.shape:
        raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")


def binary_crossentropy(target, output, from_logits=False):
    """The binary cross-entropy of each value of ``output`` (probabilities, or logits)
    against ``target`` (0 or 1, or a probability), elementwise."""
    output = as_tensor(output)
    target = as_tensor(target, output)
    _same_shapes(target, output)
    if from_logits:
        return binary_cross_entropy_with_logits(target, output)
    p = clip(output, EPSILON, 1 - EPSILON)
    return neg(mul(target, log(p)) + mul(sub(1, target), log(sub(1, p))))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """The cross-entropy of each distribution along ``axis`` of ``output``
    (probabilities, or logits) against ``target`` (one-hot, or a distribution)."""
    output = as_tensor(output)
    target = as_tensor(target, output)
    _same_shapes(target, output)
    if from_logits:
        return neg(sum(mul(target, log_softmax(output, axis)), axis))
    p = clip(div(output, sum(output, axis, keepdims=True)), EPSILON, 1 - EPSILON)
    return neg(sum(mul(target, log(p)), axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """The cross-entropy of each distribution along the last axis of ``output``
    (probabilities, or logits) against ``target``, class indices of the other axes'
    shape (a trailing axis of size 1 is dropped, as Keras does)."""
    output = as_tensor(output)
    if axis not in (-1, output.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    classes = plain_values(target)
    if classes.ndim == output.ndim and classes.shape[-1:] == (1,):
        classes = classes[..., 0]
    if classes.shape != output.shape[:-1]:
        raise ValueError(f"Arguments `target` and `output` must have the same shape up until "
                         f"the last dimension: target.shape={classes.shape}, "
                         f"output.shape={output.shape}")
    if classes.size and (classes.min() < 0 or classes.max() >= output.shape[-1]):
        raise ValueError(f"sparse_categorical_crossentropy: target holds class indices in "
                         f"[0, {output.shape[-1]}), received values from {classes.min()} to "
                         f"{classes.max()}.")
    logits = output if from_logits else log(clip(output, EPSILON, 1 - EPSILON))
    picked = one_hot(classes, output.shape[-1], dtype=np.dtype(output.dtype))
    return neg(sum(mul(picked, log_softmax(logits, -1)), -1))
