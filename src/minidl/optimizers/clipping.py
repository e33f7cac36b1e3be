"""Gradient clipping, as Keras 2's optimizers do it before each step.

Every optimizer takes three optional arguments (at most one of the two norms):

``clipnorm=c``
    each weight's gradient on its own: ``g = g * c / max(||g||, c)``, so no
    gradient is longer than ``c`` (``||g||`` is the L2 norm over all its values).
``global_clipnorm=c``
    all gradients together: with ``N = sqrt(sum of ||g_i||^2)`` over the step's
    gradients, every ``g_i = g_i * c / max(N, c)``; their directions relative to
    each other stay as they were.
``clipvalue=c``
    each value: ``g = clip(g, -c, c)``.

Keras 2 applies the first one set of clipnorm, global_clipnorm, clipvalue, in
that order, and ignores ``clipvalue`` beside a norm; minidl does the same and
warns when that happens.  Setting both norms is Keras's ValueError.

The gradients handed in are never changed: a clipped gradient is a new array
(a read-only gradient, or one the caller keeps, stays as it was).
"""

from __future__ import annotations

import math
import warnings

import numpy as np


def check_clip_arguments(owner, clipnorm, clipvalue, global_clipnorm):
    """The three arguments as floats (or None), refused when they make no sense."""
    values = {}
    for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                       ("global_clipnorm", global_clipnorm)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                                 np.integer)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(
                    f"{owner}: {arg} must be a positive number or None, received {value!r} "
                    f"(Keras 2 quietly ignores 0 and negative values; leave it None to not clip)."
                )
            value = float(value)
        values[arg] = value
    if values["clipnorm"] is not None and values["global_clipnorm"] is not None:
        raise ValueError(
            "At most one of `clipnorm` and `global_clipnorm` can be set. "
            f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}."
        )
    if values["clipvalue"] is not None and (values["clipnorm"] or values["global_clipnorm"]):
        norm = "clipnorm" if values["clipnorm"] is not None else "global_clipnorm"
        warnings.warn(
            f"{owner}: clipvalue={clipvalue} is ignored because {norm} is set: as in Keras 2, "
            f"only {norm} clips the gradients.",
            UserWarning,
            stacklevel=4,
        )
    return values["clipnorm"], values["clipvalue"], values["global_clipnorm"]


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """The gradients (a list of arrays) clipped by the first of the three that is set."""
    if clipnorm is not None:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm is not None:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


def clip_by_norm(grad, clipnorm):
    """``grad * clipnorm / max(||grad||, clipnorm)``: unchanged if no longer than clipnorm."""
    norm = _norm(grad)
    if norm <= clipnorm:
        return grad
    return grad * grad.dtype.type(clipnorm / norm)  # NaN or inf norms make NaN, as in Keras


def clip_by_global_norm(grads, clipnorm):
    """Every gradient scaled by ``clipnorm / max(N, clipnorm)``, N the norm of them all."""
    total = math.sqrt(sum(_norm(g) ** 2 for g in grads))
    if total <= clipnorm:
        return grads
    scale = clipnorm / total if math.isfinite(total) else math.nan
    return [g * g.dtype.type(scale) for g in grads]


def _norm(grad):
    """The L2 norm of an array's values (a Python float; einsum adds without BLAS)."""
    return math.sqrt(float(np.einsum("i,i->", grad.reshape(-1), grad.reshape(-1))))
