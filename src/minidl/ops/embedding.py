"""``embedding``: look up one learned row per word index (a gather).

For integer word indices of any shape ``S`` (a batch of sequences is
(N, T)) and a table ``weights`` of shape (V, D):

    out[s, :] = weights[indices[s], :]          out has shape (*S, D)

It is a matrix product with one-hot rows (one_hot(indices) @ weights)
without building the one-hot matrix.  So its gradient is that product's:

    dL/dweights = one_hot(indices)^T @ dL/dout

that is, every row of dL/dout is added to the row of the word it came from
(a scatter-add; a word used twice collects both).  The indices get no
gradient: they are positions, not numbers one could nudge.

Indices may be of any integer dtype, or floats holding whole numbers (as
Keras casts them; ``fit`` hands models float32 inputs).  A value outside
[0, V), negative, fractional, NaN or inf is a ValueError naming the layer and
the value: NumPy would read ``weights[-1]`` for -1 without a word.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor
from minidl.tensor import Tensor


def embedding(indices, weights, who="embedding"):
    """``weights[indices]`` with the scatter-add backward (see the module docstring).

    ``indices``: an array, list or Tensor of word indices, any shape S;
    ``weights``: (V, D).  Returns a Tensor of shape (*S, D) in weights' dtype.
    ``who`` names the caller in error messages (the layer).
    """
    weights = as_tensor(weights)
    if weights.ndim != 2:
        raise ValueError(f"{who}: weights must be 2-D (input_dim, output_dim), received {weights.shape}.")
    vocabulary, width = weights.shape
    positions = word_indices(indices, vocabulary, who)
    flat = positions.reshape(-1)
    out = np.empty((flat.size, width), weights.dtype)
    _kernels.current.embedding_forward(flat, weights.data, out)

    def backward(grad):
        grad_out = np.ascontiguousarray(grad.reshape(flat.size, width), dtype=weights.dtype)
        grad_weights = np.empty(weights.shape, weights.dtype)
        _kernels.current.embedding_backward(flat, grad_out, grad_weights)
        return (grad_weights,)

    return record(out.reshape(*positions.shape, width), (weights,), backward)


def word_indices(indices, vocabulary, who="embedding"):
    """``indices`` as a C-contiguous int64 array, every value checked to be a
    whole number in [0, vocabulary) (else a ValueError naming ``who``)."""
    values = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.floor(values))
        if not whole.all():
            position = _position(values, ~whole)
            raise ValueError(
                f"{who}: inputs must be whole word indices; received {_shown(values[position])} at "
                f"position {position}. Round or cast them first (x.astype('int64'))."
            )
    elif values.dtype.kind not in "iu":
        raise ValueError(
            f"{who}: inputs must be integer word indices, received an array of dtype "
            f"{values.dtype}."
        )
    outside = (values < 0) | (values >= vocabulary)
    if outside.any():
        position = _position(values, outside)
        raise ValueError(
            f"{who}: input value {_shown(values[position])} at position {position} is not in "
            f"[0, {vocabulary}): word indices must be at least 0 and less than input_dim="
            f"{vocabulary}. Raise input_dim to the largest index + 1, or keep fewer words "
            "(load_data(num_words=...))."
        )
    return np.ascontiguousarray(values, dtype=np.int64)


def _position(values, bad):
    """The index (a tuple) of the first True of ``bad``."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), values.shape))


def _shown(value):
    """A value for a message: 10.0 as 10, 1.5 as 1.5."""
    value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value
