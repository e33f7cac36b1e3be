"""``CategoryEncoding``: integer categories in, one-hot, multi-hot or count vectors out.

    encode = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    encode(np.array([[3], [2], [0], [1]]))     # float32 (4, 4): row i has a 1 at x[i]

For ``num_tokens = V`` and integer categories ``0 <= x < V``:

- "multi_hot" (the default): ``out[b, v] = 1`` if sample ``b`` holds ``v``, else 0;
- "count": ``out[b, v]`` = how many times sample ``b`` holds ``v`` (with
  ``count_weights``, a float per input value shaped as the input: their sum);
- "one_hot": one vector per value: ``(B,)`` or ``(B, 1)`` in, ``(B, V)`` out
  (a batch of one, ``(1,)``, too, as in Keras's ``predict``; its eager call gives ``(V,)``).

Shapes follow Keras 2: the last axis holds a sample's values, so ``(B, n)``
gives ``(B, V)``, a 1-D ``(n,)`` one vector ``(V,)``, a scalar ``(V,)``; one_hot
adds an axis unless the last one has size 1, and outputs of more than two axes
are refused (as Keras refuses them).  ``encode_categorical`` does the counting
for this layer and for ``StringLookup``, ``IntegerLookup`` and ``Discretization``;
there, values outside ``[0, V)`` are dropped (Keras drops a mask token that way).
The result is a float32 Tensor (of the layer's dtype), without gradient:
these are counts, not a function of weights.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer
from minidl.tensor import Tensor

HOT_MODES = ("multi_hot", "count", "one_hot")


def encoded_shape(shape, output_mode, depth, who):
    """The output shape of ``encode_categorical`` for inputs of ``shape``."""
    original = tuple(shape)
    if not original:
        return (depth,)
    # one_hot: a vector per value, so (B,) and (B, 1) both give (B, V); Keras's eager
    # call gives (V,) for a 1-D input of one value, its model.predict (1, V), as here
    one_per_value = output_mode == "one_hot" and (len(original) == 1 or original[-1] != 1)
    shape = original + (1,) if one_per_value else original
    if len(shape) > 2:
        raise ValueError(
            f"{who}: when output_mode is not 'int', the maximum supported output rank is 2. "
            f"Received output_mode {output_mode} and input shape {original}, which would "
            f"result in output rank {len(shape)}. Give one sample per row: "
            + ("(batch,) or (batch, 1) for one_hot." if output_mode == "one_hot"
               else "(batch, values)."))
    return shape[:-1] + (depth,)


def encode_categorical(indices, output_mode, depth, who, dtype=np.float32,
                       count_weights=None, idf_weights=None):
    """Vectors of length ``depth`` counting the integer ``indices`` (an array), as
    the module docstring says; "tf_idf" multiplies the counts by ``idf_weights``."""
    indices = np.asarray(indices)
    out_shape = encoded_shape(indices.shape, output_mode, depth, who)
    rows = indices.reshape(-1, 1) if output_mode == "one_hot" else indices.reshape(
        -1, indices.shape[-1] if indices.ndim else 1)
    out = np.zeros((len(rows), depth), dtype=dtype)
    keep = (rows >= 0) & (rows < depth)
    weights = 1 if count_weights is None else np.asarray(
        count_weights, dtype=dtype).reshape(rows.shape)[keep]
    np.add.at(out, (np.nonzero(keep)[0], rows[keep]), weights)
    if output_mode in ("multi_hot", "one_hot"):
        out = (out > 0).astype(dtype)
    if output_mode == "tf_idf":
        idf = np.zeros(depth, dtype=dtype)
        idf[:min(depth, len(idf_weights))] = idf_weights[:depth]
        out *= idf
    return out.reshape(out_shape)


def as_integers(values, who):
    """``values`` (integers, or floats holding whole numbers) as an int64 array."""
    values = values.data if isinstance(values, Tensor) else values
    array = np.asarray(values)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if not (np.isfinite(array) & (array == np.round(array))).all():
            raise ValueError(f"{who} takes integer categories, received non-integer values "
                             f"(shape {array.shape}, dtype {array.dtype}). Round them first, or "
                             "bucket them with a Discretization layer.")
        return array.astype(np.int64)
    raise TypeError(f"{who} takes integers, received an array of dtype {array.dtype} "
                    f"(shape {array.shape}). Turn strings into indices first with StringLookup.")


def check_output_mode(who, output_mode, allowed):
    if not (isinstance(output_mode, str) and output_mode in allowed):
        raise ValueError(f"{who}: unknown value for `output_mode`: {output_mode!r}. Allowed "
                         f"values are {', '.join(repr(m) for m in allowed)}.")


def refuse_sparse(who, sparse, output_mode):
    if sparse and output_mode == "int":
        raise ValueError(f"{who}: `sparse` may only be true if `output_mode` is 'one_hot', "
                         f"'multi_hot', 'count' or 'tf_idf'. Received: sparse={sparse} and "
                         "output_mode=int")
    if sparse:
        raise ValueError(f"{who}: minidl cannot give sparse=True: it has no sparse tensors. "
                         "Leave sparse=False for a dense array (one column per token).")


class CategoryEncoding(Layer):
    """One-hot, multi-hot or count vectors of integer categories; see the module docstring."""

    _integer_inputs = "indices"  # integer categories stay integers

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        if "max_tokens" in kwargs:  # Keras 2's old name
            num_tokens = kwargs.pop("max_tokens")
        super().__init__(**kwargs)
        label = self._label = f'CategoryEncoding layer "{self.name}"'
        output_mode = "multi_hot" if output_mode == "binary" else output_mode
        check_output_mode(label, output_mode, HOT_MODES)
        if num_tokens is None:
            raise ValueError(f"{label}: num_tokens must be set to use this layer. If the number "
                             "of tokens is not known beforehand, use the IntegerLookup layer "
                             "instead.")
        if not isinstance(num_tokens, (int, np.integer)) or isinstance(num_tokens, bool) \
                or num_tokens < 1:
            raise ValueError(f"{label}: `num_tokens` must be an integer >= 1. Received: "
                             f"num_tokens={num_tokens!r}.")
        refuse_sparse(label, sparse, output_mode)
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def _to_tensors(self, inputs):
        return as_integers(inputs, self._label)
    def call(self, inputs, count_weights=None):
        values = as_integers(inputs, self._label)
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"{self._label}: `count_weights` is not used when `output_mode` "
                                 f"is not 'count'. Received output_mode={self.output_mode!r}.")
            count_weights = count_weights.data if isinstance(count_weights, Tensor) \
                else np.asarray(count_weights)
            if count_weights.shape != values.shape:
                raise ValueError(f"{self._label}: `count_weights` must have the shape of the "
                                 f"inputs {values.shape}, received {count_weights.shape}.")
        if values.size and (values.min() < 0 or values.max() >= self.num_tokens):
            raise ValueError(
                f"{self._label}: input values must be in the range 0 <= values < num_tokens "
                f"with num_tokens={self.num_tokens}; received values from {values.min()} to "
                f"{values.max()}. Raise num_tokens, or map values to indices with IntegerLookup.")
        return Tensor(encode_categorical(values, self.output_mode, self.num_tokens, self._label,
                                         self._dtype, count_weights), dtype=self._dtype)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens, self._label)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}
