"""Array helpers: one-hot encoding and normalisation."""

from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices -> one-hot rows: ``[1, 0, 2]`` -> ``[[0,1,0], [1,0,0], [0,0,1]]``.

    ``y`` holds integers in ``[0, num_classes)`` (any shape; a trailing axis of
    size 1 is dropped, as Keras does).  ``num_classes`` defaults to
    ``max(y) + 1``.  The result has shape ``y.shape + (num_classes,)`` and is
    float32, as in Keras 2.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iub":
        if y.dtype.kind != "f" or not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(
                f"to_categorical: y must hold integer class indices, received an array of "
                f"dtype {y.dtype}{' with non-integer values' if y.dtype.kind == 'f' else ''}."
            )
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: class indices must be >= 0, received {y.min()}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(
            f"to_categorical: num_classes={num_classes}, but y contains the class {y.max()} "
            f"(classes must be < num_classes)."
        )
    flat = y.reshape(-1)
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(y.shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scale ``x`` so each slice along ``axis`` has unit ``order``-norm (zero slices stay 0)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def broadcast_weights(sample_weight, shape):
    """Sample weights shaped to multiply values of ``shape``, as Keras matches them:
    trailing axes of size 1 beyond the values' rank are dropped ((N, 1) weights for
    (N,) per-sample losses), missing trailing axes are added, then it broadcasts."""
    weight = np.asarray(sample_weight)
    while weight.ndim > len(shape) and weight.shape[-1] == 1:
        weight = weight.reshape(weight.shape[:-1])
    weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not fit values of shape "
            f"{tuple(shape)}; give one weight per sample, shape ({shape[0] if shape else 1},)."
        ) from None
