"""Attention and AdditiveAttention: one head, no projections (Keras 2's layers).

Called on a list, ``layer([query, value])`` or ``layer([query, value, key])``:
query (B, Tq, dim), value (B, Tv, dim), key (B, Tv, dim; the value by default)::

    scores  = score(query, key)                     (B, Tq, Tv)
    weights = softmax(scores) over the Tv steps     (dropout on them while training)
    output  = weights @ value                       (B, Tq, dim)

The scores:

* ``Attention`` (Luong), ``score_mode="dot"``: ``query @ key^T``, times a learned
  scalar ``scale`` with ``use_scale=True``; ``score_mode="concat"``:
  ``concat_score_weight * sum(tanh(scale * (q_i + k_j)))`` over the features.
* ``AdditiveAttention`` (Bahdanau): ``sum(scale * tanh(q_i + k_j))`` over the
  features, ``scale`` a learned vector (dim,) with ``use_scale=True`` (the default).

Masks (Keras 2): ``mask=[query_mask, value_mask]``, or the masks the inputs carry
(``Embedding(mask_zero=True)``).  A value step whose mask is False gets 1e9
subtracted from its score; ``use_causal_mask=True`` does the same to the steps
after each query step; output steps whose query mask is False are zeroed, and the
output keeps the query's mask.  ``return_attention_scores=True`` also returns the
weights (B, Tq, Tv), after dropout as Keras returns them.
"""

from __future__ import annotations

import numpy as np

from minidl import initializers, ops
from minidl.layers.base import Layer


class _DenseAttention(Layer):
    """What Attention and AdditiveAttention share: the inputs, masks and weighting."""

    supports_masking = True
    _multi_input = True

    def __init__(self, dropout=0.0, causal=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": dropout must be a '
                             f"number in [0, 1), received {dropout!r}.")
        self.dropout = float(dropout)
        self.causal = bool(causal)  # Keras 2's deprecated form of use_causal_mask=True
        self._returning_scores = False  # return_attention_scores of the call in progress

    def _label(self):
        return f'{type(self).__name__} layer "{self.name}"'

    def _check_inputs(self, shapes):
        if not isinstance(shapes, list) or not 2 <= len(shapes) <= 3:
            raise ValueError(
                f"{self._label()} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: {shapes}.")
        query, value = tuple(shapes[0]), tuple(shapes[1])
        key = tuple(shapes[2]) if len(shapes) > 2 else value
        for what, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3:
                raise ValueError(f"{self._label()}: {what} must have shape (batch, steps, "
                                 f"features), received {shape}.")
        if query[-1] != key[-1] or (key[1] is not None and value[1] is not None
                                    and key[1] != value[1]):
            raise ValueError(
                f"{self._label()}: the query and the key need the same number of features, "
                f"and the key and the value the same number of steps; received query {query}, "
                f"value {value}, key {key}.")
        return query, value, key

    def __call__(self, inputs, *args, return_attention_scores=False, use_causal_mask=False,
                 **kwargs):
        if return_attention_scores:  # (only when set: a model config stores no other value)
            kwargs["return_attention_scores"] = True
        if use_causal_mask:
            kwargs["use_causal_mask"] = True
        outer = self._returning_scores
        self._returning_scores = bool(return_attention_scores)  # for the shapes and masks
        try:
            return super().__call__(inputs, *args, **kwargs)
        finally:
            self._returning_scores = outer

    def compute_output_shape(self, input_shape):
        query, value, _ = self._check_inputs(input_shape)
        output = (*query[:2], value[-1])
        return [output, (*query[:2], value[1])] if self._returning_scores else output

    def compute_mask(self, inputs, mask=None):
        """The query's mask goes on to the output (Keras 2); the scores have none."""
        query_mask = mask[0] if isinstance(mask, (list, tuple)) else None
        return [query_mask, None] if self._returning_scores else query_mask

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._check_inputs([tuple(x.shape) for x in inputs] if isinstance(inputs, (list, tuple))
                           else inputs)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        if mask is not None and (not isinstance(mask, (list, tuple)) or len(mask) < 2):
            raise ValueError(f"{self._label()}: mask must be a list, namely [query_mask, "
                             f"value_mask]. Received: {mask!r}.")
        query_mask, value_mask = (None, None) if mask is None else (mask[0], mask[1])
        scores = self._scores(query, key)  # (B, Tq, Tv)
        allowed = None
        if value_mask is not None:
            allowed = self._as_mask(value_mask, (value.shape[0], 1, value.shape[1]), "value")
        if self.causal or use_causal_mask:
            causal = np.tril(np.ones((1, query.shape[1], value.shape[1]), bool))
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            scores = ops.sub(scores, (1e9 * ~allowed).astype(scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        weights = ops.dropout(weights, self.dropout, training=bool(training))
        output = ops.matmul(weights, value)
        if query_mask is not None:
            keep = self._as_mask(query_mask, (query.shape[0], query.shape[1], 1), "query")
            output = ops.mul(output, keep.astype(output.dtype))
        return [output, weights] if return_attention_scores else output

    def _as_mask(self, mask, shape, what):
        mask = np.asarray(getattr(mask, "data", mask)).astype(bool)
        if mask.size != np.prod(shape):
            raise ValueError(f"{self._label()}: the {what} mask must have shape "
                             f"{(shape[0], max(shape[1:]))}, received {mask.shape}.")
        return mask.reshape(shape)

    def _pairwise_tanh(self, query, key, scale=None):
        """tanh(scale * (q_i + k_j)) for every query step i and key step j: (B, Tq, Tv, dim)."""
        batch, steps, features = query.shape
        pairs = ops.add(ops.reshape(query, (batch, steps, 1, features)),
                        ops.reshape(key, (batch, 1, key.shape[1], features)))
        return ops.tanh(pairs if scale is None else ops.mul(pairs, scale))

    def get_config(self):
        config = {**super().get_config(), "dropout": self.dropout}
        if self.causal:
            config["causal"] = True
        return config


class Attention(_DenseAttention):
    """Dot-product (Luong-style) attention; see the module docstring."""

    def __init__(self, use_scale=False, score_mode="dot", **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f'{self._label()}: received score_mode={score_mode!r}. '
                             'Acceptable values are: ["dot", "concat"].')
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", shape=(),
                                                       initializer="ones")

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.transpose(key, (0, 2, 1)))
            return scores if self.scale is None else ops.mul(scores, self.scale)
        summed = ops.sum(self._pairwise_tanh(query, key, self.scale), axis=-1)
        return ops.mul(summed, self.concat_score_weight)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode}


class AdditiveAttention(_DenseAttention):
    """Additive (Bahdanau-style) attention; see the module docstring."""

    def __init__(self, use_scale=True, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.scale = None

    def build(self, input_shape):
        _, value, _ = self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", shape=(value[-1],),
                                         initializer=initializers.get("glorot_uniform"))

    def _scores(self, query, key):
        pairs = self._pairwise_tanh(query, key)
        return ops.sum(pairs if self.scale is None else ops.mul(pairs, self.scale), axis=-1)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale}
