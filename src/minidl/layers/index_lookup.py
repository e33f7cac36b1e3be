"""``StringLookup`` and ``IntegerLookup``: a vocabulary of categories, and their indices.

    lookup = layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    lookup(np.array([["a", "c", "d"], ["d", "z", "b"]]))   # int64 [[1, 3, 4], [4, 0, 2]]

The vocabulary is a list; a token's index is its place in
``get_vocabulary()``, whose special entries come first, as in Keras 2:

    output_mode "int":        [mask_token (if set)] + [oov_token] * num_oov_indices + tokens
    the other output modes:   [oov_token] * num_oov_indices + tokens     (no mask entry)

A value not in the vocabulary (out of vocabulary, OOV) gets the OOV index
(1 with a mask token, else 0); with ``num_oov_indices=0`` it is an error.  With
``n > 1`` OOV indices (plus the start of the OOV entries) IntegerLookup sends
value ``x`` to ``x mod n``, StringLookup string ``s`` to ``Fingerprint64(s) mod n``
(FarmHash, TensorFlow's ``to_hash_bucket_fast``: see ``ops/hashing.py``).  The mask token gets index 0 in "int"
mode and is dropped from the counts in the other modes.

``adapt(data)`` counts the values of ``data`` (without the mask and OOV tokens)
and keeps them most frequent first; among values of equal count the one that
sorts *later* comes first (Keras sorts (count, token) pairs and reverses the
list); ``max_tokens`` cuts the vocabulary, special entries included.

Outputs, for inputs ``x`` of any shape:

- "int": the indices, a NumPy int64 array shaped as ``x`` (what an
  ``Embedding`` or a ``CategoryEncoding`` takes);
- "one_hot", "multi_hot", "count": float32 vectors of length ``V`` (the
  vocabulary size, or ``max_tokens`` with ``pad_to_max_tokens``), shaped as
  ``CategoryEncoding`` shapes them (``(B, 1)`` or ``(B, n)`` in, ``(B, V)`` out);
- "tf_idf": the counts times ``idf_weights``; ``adapt`` sets, for ``D``
  documents (the rows of each batch) of which ``d_v`` hold token ``v``,
  ``idf_v = log(1 + D / (1 + d_v))``, and the OOV weight is their mean.

``invert=True`` (in "int" mode) maps indices back to tokens: the mask index
to the mask token, every other index outside the tokens to ``oov_token``.

The vocabulary is state, not weights (``summary()`` counts no parameters);
``get_config()`` lists it, so a saved model rebuilds the layer from its
config alone (Keras 2 lists only a vocabulary given to the constructor and keeps
an adapted one in its SavedModel's assets).
"""

from __future__ import annotations

import collections
import math
import os

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.category_encoding import (as_integers, check_output_mode, encode_categorical,
                                             encoded_shape, refuse_sparse)
from minidl.layers.text_tokens import as_strings
from minidl.ops.hashing import fingerprint64
from minidl.tensor import Tensor

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_DROPPED = np.iinfo(np.int64).max  # the index of a mask token outside "int" mode: not counted


class IndexLookup(Layer):
    """What StringLookup and IntegerLookup share; see the module docstring."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, dtype=None, vocabulary_size=None,
                 **kwargs):
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        integer_dtype = dtype is not None and np.dtype(dtype).kind in "iu"
        if output_mode != "int" and not integer_dtype:
            kwargs["dtype"] = dtype  # the float dtype of the vectors
        super().__init__(**kwargs)
        label = self._label = f'{type(self).__name__} layer "{self.name}"'
        if output_mode == "int" and dtype is not None and np.dtype(dtype) != np.int64:
            raise ValueError(f"{label}: when `output_mode='int'`, the indices are int64; "
                             f"received dtype={dtype!r}. Leave dtype unset (or 'int64').")
        check_output_mode(label, output_mode, OUTPUT_MODES)
        if max_tokens is not None and (not _is_integer(max_tokens) or max_tokens <= 1):
            raise ValueError(f"{label}: if set, `max_tokens` must be an integer greater than 1. "
                             f"Received: max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{label}: if pad_to_max_tokens is True, must set `max_tokens`. "
                             "Received: max_tokens=None")
        if not _is_integer(num_oov_indices) or num_oov_indices < 0:
            raise ValueError(f"{label}: `num_oov_indices` must be an integer greater than or "
                             f"equal to 0. Received: num_oov_indices={num_oov_indices!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{label}: `output_mode` must be 'int' when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        refuse_sparse(label, sparse, output_mode)
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{label}: `idf_weights` should only be set if `output_mode` is "
                             f"'tf_idf'. Received: idf_weights={idf_weights!r} and "
                             f"output_mode={output_mode}")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._tokens = None  # the vocabulary without its special entries
        self._index = {}
        self._idf = None  # float32, one weight per index (the special entries' first)
        self._config_vocabulary = (None, None)  # what get_config lists: vocabulary, idf_weights
        self._frozen_size = None  # the vocabulary size the hot modes' outputs have
        self._vocabulary_given = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{label}: idf_weights were given without a vocabulary; give both "
                             "or call adapt(data).")

    @property
    def dtype(self):
        """"int64" in "int" mode (the indices), else the float dtype of the vectors."""
        return "int64" if self.output_mode == "int" else super().dtype

    # --- the vocabulary ---------------------------------------------------
    def _oov_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self):
        return self._oov_start() + self.num_oov_indices

    def _specials(self):
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list, in index order (special entries first)."""
        tokens = list(self._tokens or [])
        return self._specials() + tokens if include_special_tokens else tokens

    def vocabulary_size(self):
        """The number of entries of the vocabulary, the special ones included."""
        return self._token_start() + len(self._tokens or [])

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use ``vocabulary`` (a list or 1-D array, or the path of a text file of one
        token per line), most frequent first, and in "tf_idf" mode ``idf_weights``
        (one per entry).  The special entries may start the list, in the order
        ``get_vocabulary()`` gives them; they are added if not."""
        label = self._label
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{label}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{label}: `idf_weights` should only be set if output_mode is "
                             f"'tf_idf'. Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights!r}")
        from_file = isinstance(vocabulary, (str, os.PathLike))
        if from_file:
            if self.output_mode == "tf_idf":
                raise ValueError(f"{label}: output_mode 'tf_idf' does not support loading a "
                                 "vocabulary from file.")
            if not os.path.exists(vocabulary):
                raise ValueError(f"{label}: vocabulary file {vocabulary} does not exist.")
            with open(vocabulary, encoding="utf-8") as file:
                vocabulary = file.read().splitlines()
        values = self._vocabulary_values(vocabulary)
        if not values:
            raise ValueError(f"{label}: cannot set an empty vocabulary, you passed "
                             f"{vocabulary!r}.")
        specials = self._specials()
        found_specials = not from_file and values[:len(specials)] == specials
        tokens = values[len(specials):] if found_specials else values
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"{label}: the passed vocabulary has at least one repeated term. "
                             f"Please uniquify your dataset. The repeated terms are {repeated}")
        for name, token, check in (("mask", self.mask_token, True),
                                   ("OOV", self.oov_token, self.invert)):
            if check and token is not None and token in tokens:
                raise ValueError(
                    f"{label}: found reserved {name} token {token!r} at unexpected location in "
                    "`vocabulary` (index "
                    f"{len(values) - 1 - values[::-1].index(token)}). The vocabulary does not "
                    "need the OOV and mask tokens: either remove them all, or include them "
                    f"only at its start, in precisely this order: {specials}.")
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{label}: attempted to set a vocabulary larger than the maximum "
                             f"vocab size. Passed vocab size is {size}, max vocab size is "
                             f"{self.max_tokens}.")
        idf = None
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype=np.float64)  # as Keras: the mean in float64
            if weights.ndim != 1 or len(weights) != len(values):
                raise ValueError(f"{label}: `idf_weights` must be 1-D and the same length as "
                                 f"vocabulary. len(idf_weights) is {weights.size}, "
                                 f"len(vocabulary) is {len(values)}")
            idf = (weights if found_specials else np.concatenate(
                [np.full(self._token_start(), weights.mean()), weights])).astype(np.float32)
        self._check_size_unchanged(size)
        self._set_state(tokens, idf)
        self._config_vocabulary = (
            self.get_vocabulary() if from_file else values,
            None if idf_weights is None else weights.tolist())

    def _set_state(self, tokens, idf):
        self._tokens = tokens
        start = self._token_start()
        self._index = {token: start + i for i, token in enumerate(tokens)}
        self._idf = idf
        self._frozen_size = self.vocabulary_size()

    def _check_size_unchanged(self, size):
        """Keras 2 keeps the width of the hot modes' outputs once it is set."""
        if self.output_mode == "int" or self.pad_to_max_tokens or self._frozen_size is None:
            return
        if size != self._frozen_size:
            raise RuntimeError(
                f"{self._label}: when using output_mode={self.output_mode} and "
                "pad_to_max_tokens=False, the vocabulary size cannot be changed once set (the "
                f"outputs' width). Old vocab size is {self._frozen_size}, new vocab size is "
                f"{size}. Create a new layer, or use pad_to_max_tokens=True with max_tokens.")

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and in "tf_idf" mode the idf weights) from ``data``:
        an array or list, or batches of them (a minidl ``Dataset``, any iterable).
        An array is read ``batch_size`` rows at a time (32 by default, as Keras;
        it matters only to "tf_idf", where a 1-D batch is one document).  ``steps``
        limits how many batches are read.  Each call starts afresh."""
        label = self._label
        if self._vocabulary_given:
            raise ValueError(f"Cannot adapt {type(self).__name__} layer after setting a static "
                             "vocabulary via init argument. Create it without vocabulary= to "
                             "learn one.")
        if steps is not None and (not _is_integer(steps) or steps <= 0):
            raise ValueError(f"{label}: adapt() steps must be a positive integer, received "
                             f"{steps!r}.")
        counts, documents, total = collections.Counter(), collections.Counter(), 0
        for step, batch in enumerate(_batches(label, data, batch_size)):
            if steps is not None and step >= steps:
                break
            values = self._as_values(batch)
            counts.update(values.reshape(-1).tolist())
            if self.output_mode == "tf_idf":
                if values.ndim > 2:
                    raise ValueError(f"{label}: adapt() in 'tf_idf' mode takes documents as "
                                     f"rows, shape (batch, values); received {values.shape}.")
                rows = values.reshape(1, -1) if values.ndim < 2 else values
                for row in rows:
                    documents.update(set(row.tolist()))
                total += len(rows)
        if not counts:
            raise ValueError(f"{label}: adapt() received no values; expected input data to be "
                             "non-empty.")
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - self._token_start()]
        tokens = [token for token, _ in ranked]
        idf = None
        if self.output_mode == "tf_idf":
            weights = np.array([math.log(1 + total / (1 + documents[t])) for t in tokens],
                               np.float32)
            mean = weights.mean() if len(weights) else np.float32(0)
            idf = np.concatenate([np.full(self._token_start(), mean, np.float32), weights])
        self._check_size_unchanged(self._token_start() + len(tokens))
        self._set_state(tokens, idf)
        self._config_vocabulary = (list(tokens),
                                   None if idf is None else idf[self._token_start():].tolist())
        if self._batch_input_shape is None and isinstance(data, (np.ndarray, list, tuple)):
            self._batch_input_shape = (None,) * max(np.ndim(data), 1)  # as Keras: rank kept

    # --- calling ----------------------------------------------------------
    def _to_tensors(self, inputs):
        return self._as_indices(inputs) if self.invert else self._as_values(inputs)

    def call(self, inputs):
        if self.invert:
            return self._tokens_of(self._as_indices(inputs))
        values = self._as_values(inputs)
        if self._tokens is None:
            raise RuntimeError(f"{self._label} has no vocabulary yet: call adapt(data) first, or "
                             "give vocabulary=[...] (or call set_vocabulary).")
        indices = self._indices_of(values)
        if self.output_mode == "int":
            return indices
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_size
        return Tensor(encode_categorical(indices, self.output_mode, depth, self._label,
                                         self._dtype, idf_weights=self._idf), dtype=self._dtype)

    def _indices_of(self, values):
        """int64 indices of ``values`` (an array), OOV and mask handled."""
        start, oov = self._oov_start(), self.num_oov_indices
        default = start if oov == 1 else -1
        flat = values.reshape(-1).tolist()
        indices = np.array([self._index.get(v, default) for v in flat], np.int64)
        if oov > 1:  # unknown values spread over the OOV indices
            missing = indices == -1
            indices[missing] = self._oov_bucket(values.reshape(-1)[missing], oov) + start
        if self.mask_token is not None:
            masked = np.array([v == self.mask_token for v in flat], bool)
            indices[masked] = 0 if self.output_mode == "int" else _DROPPED
        if oov == 0 and (indices == -1).any():
            found = [v for v, i in zip(flat, indices) if i == -1]
            raise ValueError(f"{self._label}: when `num_oov_indices=0` all inputs should be in "
                             f"vocabulary, found OOV values {found[:10]}, consider setting "
                             "`num_oov_indices=1`.")
        return indices.reshape(values.shape)

    def _tokens_of(self, indices):
        """The tokens of ``indices`` (invert=True)."""
        start = self._token_start()
        tokens = self._tokens or []
        out = [tokens[i - start] if start <= i < start + len(tokens)
               else self.mask_token if i == 0 and self.mask_token is not None
               else self.oov_token for i in indices.reshape(-1).tolist()]
        return self._output_array(out).reshape(indices.shape)

    def _as_indices(self, inputs):
        return as_integers(inputs, f"{self._label} (invert=True: indices in, tokens out)")

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_size
        return encoded_shape(input_shape, self.output_mode, depth, self._label)

    # --- config -----------------------------------------------------------
    def get_config(self):
        vocabulary, idf_weights = self._config_vocabulary
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": idf_weights,
            "vocabulary": None if vocabulary is None else list(vocabulary),
            "vocabulary_size": self._frozen_size,
        }


class StringLookup(IndexLookup):
    """Strings to indices (or vectors), and back; see the module docstring."""

    _integer_inputs = "strings"  # what the model hands over: arrays of strings, unchanged

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, encoding="utf-8", invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        if kwargs.get("dtype") == "string":
            del kwargs["dtype"]
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, **kwargs)
        if self.invert:
            self._integer_inputs = "indices"  # indices in, strings out

    def _vocabulary_values(self, vocabulary):
        return list(as_strings(vocabulary, f"{self._label}: vocabulary",
                               self.encoding).reshape(-1))

    def _as_values(self, inputs):
        if isinstance(inputs, Tensor):
            raise TypeError(f"{self._label} takes strings, received a Tensor of numbers (shape "
                            f"{inputs.shape}); for integers use IntegerLookup.")
        return as_strings(inputs, self._label, self.encoding)

    def _oov_bucket(self, values, oov):
        """Keras's OOV index of unknown strings: FarmHash Fingerprint64 mod ``oov``."""
        return (fingerprint64(values, self._label) % np.uint64(oov)).astype(np.int64)

    def _output_array(self, tokens):
        array = np.empty(len(tokens), dtype=object)
        array[:] = tokens
        return array

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Integers to indices (or vectors), and back; see the module docstring."""

    _integer_inputs = "indices"  # integers stay integers

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        if str(vocabulary_dtype) not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: `vocabulary_dtype` must be an integer dtype "
                             f"('int64'). Received: {vocabulary_dtype!r}")
        max_tokens = kwargs.pop("max_values", max_tokens)  # Keras 2's old names
        mask_token = kwargs.pop("mask_value", mask_token)
        oov_token = kwargs.pop("oov_value", oov_token)
        self.vocabulary_dtype = str(vocabulary_dtype)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=_token_int("mask_token", mask_token),
                         oov_token=_token_int("oov_token", oov_token), vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, **kwargs)

    def _vocabulary_values(self, vocabulary):
        if isinstance(vocabulary, list) and vocabulary and isinstance(vocabulary[0], str):
            vocabulary = [_token_int("vocabulary", v) for v in vocabulary]  # a file's lines
        return as_integers(np.asarray(vocabulary).reshape(-1),
                           f"{self._label}: vocabulary").tolist()

    def _as_values(self, inputs):
        return as_integers(inputs, self._label)

    def _oov_bucket(self, values, oov):
        """Keras's OOV index of unknown integers: ``value mod oov`` (floored)."""
        return np.mod(values, oov)

    def _output_array(self, tokens):
        return np.array(tokens, dtype=np.int64)

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}


def _token_int(name, value):
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"IntegerLookup: `{name}` must hold integers, received {value!r}. "
                         "For strings use StringLookup.") from None
    if number != value and not isinstance(value, str):
        raise ValueError(f"IntegerLookup: `{name}` must hold integers, received {value!r}.")
    return number


def _batches(label, data, batch_size):
    """The batches ``adapt`` reads: an array (or a list of values) ``batch_size``
    rows at a time (32 by default, as Keras), or the batches of an iterable."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (list, tuple)) and not any(isinstance(x, np.ndarray) for x in data):
        try:
            data = np.array(data, dtype=object if _has_strings(data) else None)
        except ValueError:
            raise TypeError(f"{label}: adapt() takes a rectangular array; rows of different "
                            "lengths (ragged data) are not supported. Pad them first.") from None
    if isinstance(data, (str, bytes, int, np.integer)):
        data = np.array([data], dtype=object if isinstance(data, (str, bytes)) else None)
    if isinstance(data, np.ndarray):
        if data.dtype == object and data.ndim and any(
                isinstance(x, (list, tuple, np.ndarray)) for x in data.reshape(-1)):
            raise TypeError(f"{label}: adapt() takes a rectangular array; rows of different "
                            "lengths (ragged data) are not supported. Pad them first.")
        size = 32 if batch_size is None else int(batch_size)
        if data.ndim == 0:
            yield data
            return
        for start in range(0, len(data), size):
            yield data[start:start + size]
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{label}: adapt() takes an array or a list, or a Dataset (or any "
                        f"iterable) of batches; received {type(data).__name__}.")
    for batch in data:
        if isinstance(batch, (tuple, dict)):
            raise TypeError(f"{label}: adapt() takes values only, received a "
                            f"{type(batch).__name__} (features, labels?); map the dataset to "
                            "one feature first: ds.map(lambda x, y: x[name]).")
        yield batch.data if isinstance(batch, Tensor) else batch


def _has_strings(values):
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (str, bytes)):
            return True
        if isinstance(value, (list, tuple)):
            stack.extend(value)
    return False


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
