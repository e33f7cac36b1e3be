"""``TextVectorization``: strings in, token indices (or token counts) out, as in Keras 2.

    vectorize = layers.TextVectorization(max_tokens=10000, output_sequence_length=250)
    vectorize.adapt(train_texts)              # learn the vocabulary from the data
    vectorize(np.array(["The cat sat!"]))     # int64 array [[ 2, 57, 310, 0, 0, ...]]

It works in three steps:

1. tokens: each string is standardized, split and, with ``ngrams``, extended
   with its n-grams (``text_tokens.py``);
2. vocabulary: ``adapt(data)`` counts the tokens of every string of ``data``
   and keeps them most frequent first; among tokens of equal count the one
   that sorts *later* comes first, because Keras sorts (count, token) pairs and
   reverses the list.  ``max_tokens`` cuts the vocabulary to that size, its
   special entries included.  The special entries come first:

       output_mode "int":               0 = "" (padding), 1 = "[UNK]", 2, 3, ... the tokens
       "multi_hot", "count", "tf_idf":  0 = "[UNK]", 1, 2, ... the tokens

   "[UNK]" stands for every token not in the vocabulary (out of vocabulary, OOV);
3. output, for a batch of ``B`` strings:

   - "int": the token indices, int64 ``(B, L)``, padded with 0 or cut to
     ``L = output_sequence_length``, else padded to the longest string of the batch;
   - "multi_hot": float32 ``(B, V)``, 1 where the string holds token ``v``;
   - "count": float32 ``(B, V)``, how many times it holds it;
   - "tf_idf": ``count * idf``, where ``adapt`` sets, for ``D`` strings of which
     ``d_v`` hold token ``v``, ``idf_v = log(1 + D / (1 + d_v))``, and the
     idf of "[UNK]" is the mean idf of the vocabulary's tokens.

   ``V`` is ``vocabulary_size()``, or ``max_tokens`` with ``pad_to_max_tokens=True``.

Strings are not Tensors in minidl (a Tensor holds numbers): the layer takes a
string, a list of strings or a NumPy array of them, shaped ``(B,)`` or
``(B, 1)``, and gives a NumPy int64 array in "int" mode (what an ``Embedding``
takes) and a float32 Tensor in the other modes.

The vocabulary is the layer's state but not a weight (``summary()`` counts no
parameters, as Keras's).  ``get_config()`` lists it, so a saved model rebuilds
the layer, vocabulary included, from its config alone; Keras 2 lists only a
vocabulary given to the constructor and keeps one learnt by ``adapt`` in its
SavedModel's assets.
"""

from __future__ import annotations

import codecs
import collections
import math
import os

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.text_tokens import (SPLIT_CHOICES, STANDARDIZE_CHOICES, as_strings,
                                       split_texts, standardize_texts, string_array, with_ngrams)
from minidl.tensor import Tensor
from minidl.utils.object_registration import get_registered_name, get_registered_object

OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
PADDING_TOKEN = ""
OOV_TOKEN = "[UNK]"


class TextVectorization(Layer):
    """Strings to token indices or token counts; see the module docstring."""

    _integer_inputs = "strings"  # what the model hands over: arrays of strings, unchanged

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, ragged=False,
                 sparse=False, encoding="utf-8", dtype=None, vocabulary_size=None, **kwargs):
        if dtype not in (None, "string"):
            raise ValueError(f'TextVectorization takes strings: dtype must be "string" (or not '
                             f"given), received dtype={dtype!r}.")
        super().__init__(**kwargs)
        label = self._label = f'TextVectorization layer "{self.name}"'
        _check_choice(label, "output_mode", output_mode, OUTPUT_MODES)
        standardize = _step(label, "standardize", standardize, STANDARDIZE_CHOICES)
        split = _step(label, "split", split, SPLIT_CHOICES)
        if max_tokens is not None and (not _is_integer(max_tokens) or max_tokens <= 1):
            raise ValueError(f"{label}: if set, `max_tokens` must be an integer greater than 1. "
                             f"Received: max_tokens={max_tokens!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{label}: `output_sequence_length` must not be set if "
                                 f"`output_mode` is not 'int'. Received output_sequence_length="
                                 f"{output_sequence_length!r}.")
            if not _is_integer(output_sequence_length) or output_sequence_length <= 0:
                raise ValueError(f"{label}: `output_sequence_length` must be a positive integer, "
                                 f"received {output_sequence_length!r}.")
        if pad_to_max_tokens and output_mode != "int" and max_tokens is None:
            raise ValueError(f"{label}: pad_to_max_tokens=True needs max_tokens, the width of "
                             "the output. Received: max_tokens=None")
        _check_ragged_sparse(label, ragged, sparse, output_mode)
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ValueError(f"{label}: unknown encoding {encoding!r}.") from None
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._ngram_widths = _ngram_widths(label, ngrams)
        self.output_mode = output_mode
        self.output_sequence_length = (None if output_sequence_length is None
                                       else int(output_sequence_length))
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.ragged, self.sparse = False, False
        self.encoding = encoding
        self._specials = [PADDING_TOKEN, OOV_TOKEN] if output_mode == "int" else [OOV_TOKEN]
        self._tokens = None  # the vocabulary without the special entries
        self._config_vocabulary = (None, None)  # what get_config lists: (vocabulary, idf_weights)
        self._vocabulary_given = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{label}: idf_weights were given without a vocabulary; give both "
                             "(vocabulary=[...], idf_weights=[...]) or call adapt(data).")

    @property
    def dtype(self):
        """"string": the layer takes strings (as Keras reports it)."""
        return "string"

    # --- the vocabulary ---------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list of strings, index order ("" and "[UNK]" first)."""
        tokens = list(self._tokens or [])
        return self._specials + tokens if include_special_tokens else tokens

    def vocabulary_size(self):
        """The number of entries of the vocabulary, the special ones included."""
        return len(self._specials) + len(self._tokens or [])

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use ``vocabulary`` (a list or array of strings, or the path of a text file
        of one token per line), most frequent first; in "tf_idf" mode with
        ``idf_weights``, one per token.  The special entries ("" and "[UNK]", or
        "[UNK]") may start the list, in that order; they are added if not."""
        label = self._label
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(f"{label}: `idf_weights` should only be set if output_mode is "
                             f"'tf_idf'. Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights!r}")
        if isinstance(vocabulary, (str, os.PathLike)):
            with open(vocabulary, encoding="utf-8") as file:
                vocabulary = file.read().split("\n")
            vocabulary = vocabulary[:-1] if vocabulary and not vocabulary[-1] else vocabulary
        tokens = list(as_strings(vocabulary, f"{label}: vocabulary").reshape(-1))
        if not tokens:
            raise ValueError(f"{label}: cannot set an empty vocabulary, you passed {vocabulary!r}.")
        weights = None
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{label}: `idf_weights` must be set if output_mode is "
                                 "'tf_idf', one per token of the vocabulary.")
            weights = np.asarray(idf_weights, dtype=np.float32).reshape(-1)
            if len(weights) != len(tokens):
                raise ValueError(f"{label}: `idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(weights)}, len(vocabulary) is "
                                 f"{len(tokens)}")
        given = (tokens, None if weights is None else weights.tolist())
        oov_idf = None
        count = len(self._specials)
        if tokens[:count] == self._specials:
            tokens = tokens[count:]
            if weights is not None:
                oov_idf, weights = weights[count - 1], weights[count:]
        _check_tokens(label, tokens, self.max_tokens, count)
        if weights is not None and oov_idf is None:
            oov_idf = weights.mean() if len(weights) else np.float32(0)
        self._set_state(tokens, weights, oov_idf)
        self._config_vocabulary = given

    def _set_state(self, tokens, idf_weights, oov_idf):
        self._tokens = tokens
        start = len(self._specials)
        self._index = {token: start + i for i, token in enumerate(tokens)}
        self._idf = None if idf_weights is None else np.concatenate(
            [[oov_idf], idf_weights]).astype(np.float32)

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and in "tf_idf" mode the idf weights) from ``data``.

        ``data``: an array or a list of strings, or batches of them: a minidl
        ``Dataset`` (batched or not; of strings only, so map ``(text, label)``
        pairs to the text first: ``ds.map(lambda x, y: x)``) or any iterable of
        arrays.  ``steps`` limits how many batches are read; ``batch_size`` is
        accepted for Keras's sake (the result does not depend on it).  Each call
        starts afresh.
        """
        label = self._label
        if self._vocabulary_given:
            raise ValueError(f"{label} was given its vocabulary; it cannot also adapt() to data. "
                             "Create it without vocabulary= to learn one.")
        if steps is not None and (not _is_integer(steps) or steps <= 0):
            raise ValueError(f"{label}: adapt() steps must be a positive integer, received "
                             f"{steps!r}.")
        counts, documents, total, first_rank = collections.Counter(), collections.Counter(), 0, None
        for step, batch in enumerate(_batches(label, data)):
            if steps is not None and step >= steps:
                break
            strings = as_strings(batch, f"{label}: adapt()", self.encoding)
            first_rank = strings.ndim if first_rank is None else first_rank
            for row in self._token_rows(self._rows(strings)):
                counts.update(row)
                documents.update(set(row))
                total += 1
        if total == 0:
            raise ValueError(f"{label}: adapt() received no strings; expected input data to be "
                             "non-empty.")
        for special in self._specials:  # text that spells a special entry is not a token
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - len(self._specials)]
        tokens = [token for token, _ in ranked]
        idf = oov_idf = None
        if self.output_mode == "tf_idf":
            idf = np.array([math.log(1 + total / (1 + documents[t])) for t in tokens], np.float32)
            oov_idf = idf.mean() if len(idf) else np.float32(0)
        self._set_state(tokens, idf, oov_idf)
        self._config_vocabulary = (list(tokens), None if idf is None else idf.tolist())
        if self._batch_input_shape is None:  # as Keras: a Sequential that starts with it is built
            self._batch_input_shape = (None,) * max(first_rank, 1)

    # --- calling ----------------------------------------------------------
    def _to_tensors(self, inputs):
        """Strings stay strings: an array of dtype object (see ``text_tokens.as_strings``)."""
        if isinstance(inputs, Tensor):
            raise TypeError(f"{self._label} takes strings, received a Tensor of numbers "
                            f"(shape {inputs.shape}).")
        return as_strings(inputs, self._label, self.encoding)

    def call(self, inputs):
        strings = self._to_tensors(inputs) if not isinstance(inputs, np.ndarray) else inputs
        if self._tokens is None:
            raise ValueError(f"{self._label} has no vocabulary yet: call adapt(data) first, or "
                             "give vocabulary=[...] (or call set_vocabulary).")
        rows = self._token_rows(self._rows(strings))
        if self.output_mode == "int":
            output = self._indices(rows)
        else:
            output = Tensor(self._counts(rows), dtype=self._dtype)
        return output[0] if strings.ndim == 0 else output

    def _rows(self, strings):
        """The strings of a batch as one 1-D array: (B,) or (B, 1) in, (B,) out."""
        if strings.ndim == 0:
            return strings.reshape(1)
        if strings.ndim == 1:
            return strings
        if strings.ndim == 2 and strings.shape[1] == 1:
            return strings[:, 0]
        raise ValueError(
            f"{self._label}: the input rank must be 1 or the last shape dimension must be 1 "
            f"(one string per sample). Received: inputs.shape={strings.shape} with "
            f"rank={strings.ndim}. Join the strings of a sample first, or reshape to (-1, 1)."
        )

    def _token_rows(self, texts):
        """One list of tokens (n-grams included) per string of the 1-D array ``texts``."""
        texts = standardize_texts(string_array(list(texts)), self.standardize, self._label)
        return [with_ngrams(row, self._ngram_widths)
                for row in split_texts(texts, self.split, self._label)]

    def _indices(self, rows):
        """int64 (B, L): each row's token indices, padded with 0 (or cut) to L."""
        ids = [[self._index.get(token, 1) for token in row] for row in rows]
        length = self.output_sequence_length
        if length is None:
            length = max((len(row) for row in ids), default=0)
        out = np.zeros((len(ids), length), dtype=np.int64)
        for i, row in enumerate(ids):
            row = row[:length]
            out[i, :len(row)] = row
        return out

    def _counts(self, rows):
        """float32 (B, V): multi_hot, count or tf_idf of each row's tokens."""
        width = self._output_width()
        out = np.zeros((len(rows), width), dtype=np.float32)
        columns = [self._index.get(token, 0) for row in rows for token in row]  # "[UNK]" is 0
        samples = np.repeat(np.arange(len(rows)), [len(row) for row in rows])
        np.add.at(out, (samples, np.asarray(columns, dtype=np.intp)), 1)
        if self.output_mode == "multi_hot":
            np.minimum(out, 1, out=out)
        elif self.output_mode == "tf_idf":
            out[:, :len(self._idf)] *= self._idf
        return out

    def _output_width(self):
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return self.max_tokens
        return self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] not in (1, None)):
            raise ValueError(
                f"{self._label}: the input rank must be 1 or the last shape dimension must be 1 "
                f"(one string per sample). Received: input_shape={shape}."
            )
        if self.output_mode == "int":
            return (shape[0], self.output_sequence_length)
        return (shape[0], self._output_width())

    # --- config -----------------------------------------------------------
    def get_config(self):
        vocabulary, idf_weights = self._config_vocabulary
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": _step_name(self.standardize),
            "split": _step_name(self.split),
            "ngrams": tuple(self.ngrams) if isinstance(self.ngrams, (tuple, list)) else self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": self.sparse,
            "ragged": self.ragged,
            "vocabulary": None if vocabulary is None else list(vocabulary),
            "idf_weights": None if idf_weights is None else list(idf_weights),
            "encoding": self.encoding,
            "vocabulary_size": self.vocabulary_size(),
        }


def _batches(label, data):
    """The batches of strings ``adapt`` reads from ``data``."""
    if isinstance(data, (str, bytes)) or (
            isinstance(data, (list, tuple)) and all(isinstance(x, (str, bytes)) for x in data)):
        yield data  # one batch: a list of strings (an empty one too)
        return
    if isinstance(data, np.ndarray):
        yield data
        return
    if not hasattr(data, "__iter__"):  # a Dataset, a list of batches, a generator...
        raise TypeError(f"{label}: adapt() takes an array or a list of strings, or a Dataset "
                        f"(or any iterable) of batches of them; received {type(data).__name__}.")
    for batch in data:
        if isinstance(batch, (tuple, dict)):
            raise TypeError(f"{label}: adapt() takes texts only, received a {type(batch).__name__} "
                            "(texts, labels?); map the dataset to its texts first: "
                            "ds.map(lambda x, y: x).")
        yield batch


def _check_choice(label, name, value, choices):
    if not (isinstance(value, str) and value in choices):
        raise ValueError(f"{label}: unknown value for `{name}`: {value!r}. Allowed values are "
                         f"{', '.join(repr(c) for c in choices)}.")


def _step(label, name, value, choices):
    """A ``standardize`` or ``split`` argument: None, one of ``choices``, a function,
    or the name a saved config gives your function (``register_keras_serializable``,
    or ``custom_objects`` of ``load_model``)."""
    if value is None or callable(value) or value in choices:
        return value
    found = get_registered_object(value) if isinstance(value, str) else None
    if callable(found):
        return found
    raise ValueError(
        f"{label}: unknown value for `{name}`: {value!r}. Allowed values are None, "
        f"{', '.join(repr(c) for c in choices)} or your own function; when loading a model "
        f"whose {name} is your function, register it (utils.register_keras_serializable) or "
        f"pass it in custom_objects={{{value!r}: function}}."
    )


def _step_name(value):
    """How get_config names a ``standardize`` or ``split``: your function by the name
    ``register_keras_serializable`` gave it (else its ``__name__``), as activations."""
    return get_registered_name(value) if callable(value) else value


def _check_ragged_sparse(label, ragged, sparse, output_mode):
    if ragged and output_mode != "int":
        raise ValueError(f"{label}: `ragged` must not be true if `output_mode` is not 'int'. "
                         f"Received: ragged={ragged} and output_mode={output_mode}")
    if sparse and output_mode == "int":
        raise ValueError(f"{label}: `sparse` may only be true if `output_mode` is 'multi_hot', "
                         f"'count' or 'tf_idf'. Received: sparse={sparse} and output_mode=int")
    if ragged or sparse:
        what = "ragged=True (rows of different lengths)" if ragged else "sparse=True"
        raise ValueError(
            f"{label}: minidl cannot give {what}: it has no ragged or sparse tensors. Leave "
            f"{'ragged' if ragged else 'sparse'}=False for a dense array ("
            + ("padded with 0 to output_sequence_length or to the longest string of the batch"
               if ragged else "one column per vocabulary entry") + ")."
        )


def _ngram_widths(label, ngrams):
    """``ngrams`` as the tuple of n-gram widths (None: none; n: 1..n)."""
    if ngrams is None:
        return None
    if _is_integer(ngrams) and ngrams >= 1:
        return tuple(range(1, int(ngrams) + 1))
    if isinstance(ngrams, (tuple, list)) and ngrams and all(
            _is_integer(n) and n >= 1 for n in ngrams):
        return tuple(int(n) for n in ngrams)
    raise ValueError(f"{label}: `ngrams` must be None, a positive integer, or a tuple of positive "
                     f"integers. Received: ngrams={ngrams!r}")


def _check_tokens(label, tokens, max_tokens, specials):
    if PADDING_TOKEN in tokens:
        raise ValueError(f'{label}: found the reserved padding token "" at position '
                         f"{tokens.index(PADDING_TOKEN)} of the vocabulary. The vocabulary does "
                         "not need the special tokens; give them only at its start, in order.")
    repeated = sorted(token for token, n in collections.Counter(tokens).items() if n > 1)
    if repeated:
        raise ValueError(f"{label}: the vocabulary repeats {repeated}; give each token once.")
    if max_tokens is not None and len(tokens) + specials > max_tokens:
        raise ValueError(f"{label}: attempted to set a vocabulary larger than the maximum vocab "
                         f"size. Passed vocab size is {len(tokens) + specials}, max vocab size "
                         f"is {max_tokens}.")


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
