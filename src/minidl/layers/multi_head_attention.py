"""MultiHeadAttention: each step of a query sequence looks at every step of a
value sequence, through ``num_heads`` learned views at once (Keras 2's layer).

Called as ``mha(query, value)`` (or with ``key=``): query (B, T, Dq), value
(B, S, Dv), key (B, S, Dk; the value by default).  For each head h::

    q_h = query @ Wq[:, h] + bq[h]                         (B, T, key_dim)
    k_h = key   @ Wk[:, h] + bk[h]                         (B, S, key_dim)
    v_h = value @ Wv[:, h] + bv[h]                         (B, S, value_dim)
    scores_h = softmax(q_h k_h^T / sqrt(key_dim))          (B, T, S), over the S keys
    context_h = dropout(scores_h) @ v_h                    (B, T, value_dim)
    output = sum_h context_h @ Wo[h] + bo                  (B, T, Dq or output_shape)

The weights have Keras's shapes and order, so ``get_weights``/``set_weights``
exchange with Keras: query kernel (Dq, heads, key_dim) and bias (heads, key_dim),
key kernel (Dk, heads, key_dim) and bias, value kernel (Dv, heads, value_dim) and
bias, output kernel (heads, value_dim, Dq) and bias (Dq,).  Here each kernel is
used reshaped to a matrix, (Dq, heads * key_dim) and so on: one product for all
heads, then the heads are split off with a reshape.

Masks, as Keras 2 merges them (True: may attend): ``attention_mask`` (B, T, S);
the query's own mask (``Embedding(mask_zero=True)``) as (B, T, 1) and the value's
and key's as (B, 1, S); ``use_causal_mask=True``: step t sees steps <= t.  Scores
where the mask is False get -1e9 added before the softmax (a query step that may
attend nowhere then spreads evenly, as in Keras).  The output keeps the query's mask.

``return_attention_scores=True`` also returns the scores (B, heads, T, S).  In a
functional model the tensors given to a call become the layer's inputs, packed as
``[query, value]``, ``[query, value, key]`` or ``[query, value, key, attention_mask]``;
calling the layer on such a list does the same call.
"""

from __future__ import annotations

import math

import numpy as np

from minidl import constraints, initializers, ops, regularizers
from minidl.layers.base import Layer
from minidl.layers.node import KerasTensor, is_symbolic


def _positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


class MultiHeadAttention(Layer):
    """Scaled dot-product attention with several heads; see the module docstring."""

    supports_masking = True
    _multi_input = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 softmax_robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        label = f'MultiHeadAttention layer "{self.name}"'
        for argument, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not _positive_int(value):
                raise ValueError(f"{label}: {argument} must be a positive integer, "
                                 f"received {argument}={value!r}.")
        if value_dim is not None and not _positive_int(value_dim):
            raise ValueError(f"{label}: value_dim must be None (key_dim) or a positive "
                             f"integer, received value_dim={value_dim!r}.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{label}: dropout must be a number in [0, 1), received {dropout!r}.")
        dims = output_shape if isinstance(output_shape, (list, tuple)) else (
            None if output_shape is None else [output_shape])
        if dims is not None and not (dims and all(_positive_int(d) for d in dims)):
            raise ValueError(f"{label}: output_shape must be None (the query's last size), a "
                             f"positive integer or a tuple of them, received {output_shape!r}.")
        if activity_regularizer is not None:
            raise ValueError(f"{label}: activity_regularizer={activity_regularizer!r} is not "
                             "supported (minidl applies no penalties on the inner projections' "
                             "outputs, as Keras does); pass activity_regularizer=None.")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self._output_shape = output_shape  # (``output_shape`` is the Layer property)
        self._output_dims = None if dims is None else tuple(int(d) for d in dims)
        # (Keras 2 keeps one axis as a tuple of one)
        self.attention_axes = (attention_axes,) if isinstance(attention_axes, int) else attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = self._regularizer("kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = self._regularizer("bias_regularizer", bias_regularizer)
        self.kernel_constraint = self._constraint("kernel_constraint", kernel_constraint)
        self.bias_constraint = self._constraint("bias_constraint", bias_constraint)
        self.softmax_robust_masking = bool(softmax_robust_masking)
        self._shapes = None  # query, key and value shapes, once built
        self._returning_scores = False  # return_attention_scores of the call in progress

    # --- calling: query, value and key become one list of inputs ---------------
    def __call__(self, query, value=None, key=None, attention_mask=None,
                 return_attention_scores=False, training=None, use_causal_mask=False, **kwargs):
        if isinstance(query, (list, tuple)):  # the packed form (a model replaying its graph)
            inputs = list(query)
        elif value is None:
            raise TypeError(f'MultiHeadAttention layer "{self.name}" needs a query and a value: '
                            "call it as mha(query, value), or mha(x, x) for self-attention.")
        else:
            inputs = [query, value]
            if key is not None or attention_mask is not None:
                inputs.append(value if key is None else key)
            if attention_mask is not None:
                inputs.append(attention_mask)
        if any(isinstance(x, KerasTensor) for x in inputs) and not is_symbolic(inputs):
            raise TypeError(
                f'MultiHeadAttention layer "{self.name}": query, value, key and attention_mask '
                "must all be symbolic (Input or layer outputs) or all be arrays; received a mix. "
                "Make a constant mask an Input of the model.")
        if return_attention_scores:  # (only when set: a model config stores no other value)
            kwargs["return_attention_scores"] = True
        if use_causal_mask:
            kwargs["use_causal_mask"] = True
        outer = self._returning_scores
        self._returning_scores = bool(return_attention_scores)
        try:
            return super().__call__(inputs, training=training, **kwargs)
        finally:
            self._returning_scores = outer

    def build(self, input_shape):
        label = f'MultiHeadAttention layer "{self.name}"'
        if not isinstance(input_shape, list) or not 2 <= len(input_shape) <= 4:
            raise ValueError(f"{label} takes a query and a value (and a key), received input "
                             f"shape {input_shape}.")
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        key = tuple(input_shape[2]) if len(input_shape) > 2 else value
        for what, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"{label}: {what} must have shape (batch, steps, features) with known "
                    f"features, received {shape}. (Keras's inputs of higher rank with "
                    "attention_axes are not supported.)")
        if key[1] is not None and value[1] is not None and key[1] != value[1]:
            raise ValueError(f"{label}: key and value must have the same number of steps, "
                             f"received key shape {key} and value shape {value}.")
        if self.attention_axes not in (None, (1,), [1], (-2,), [-2]):
            raise ValueError(
                f"{label}: attention_axes={self.attention_axes!r} is not supported: minidl "
                "attends over the steps (axis 1) of (batch, steps, features) inputs; pass "
                "attention_axes=None.")
        self.attention_axes = (1,)  # as Keras 2 once built
        heads, key_dim, value_dim = self.num_heads, self.key_dim, self.value_dim
        out_dims = self._output_dims or (query[-1],)
        self._shapes = [query, key, value]
        self.query_kernel, self.query_bias = self._projection("query", (query[-1], heads, key_dim))
        self.key_kernel, self.key_bias = self._projection("key", (key[-1], heads, key_dim))
        self.value_kernel, self.value_bias = self._projection("value", (value[-1], heads, value_dim))
        self.output_kernel, self.output_bias = self._projection(
            "attention_output", (heads, value_dim, *out_dims), bias_shape=out_dims)

    def _projection(self, name, kernel_shape, bias_shape=None):
        kernel = self.add_weight(f"{name}/kernel", shape=kernel_shape,
                                 initializer=self.kernel_initializer,
                                 regularizer=self.kernel_regularizer,
                                 constraint=self.kernel_constraint)
        if not self.use_bias:
            return kernel, None
        bias = self.add_weight(f"{name}/bias", shape=bias_shape or kernel_shape[1:],
                               initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)
        return kernel, bias

    def compute_output_shape(self, input_shape):
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        output = (*query[:-1], *(self._output_dims or query[-1:]))
        if self._returning_scores:
            return [output, (query[0], self.num_heads, query[1], value[1])]
        return output

    def compute_mask(self, inputs, mask=None):
        """The query's mask goes on to the output (Keras 2); the scores have none."""
        query_mask = mask[0] if isinstance(mask, (list, tuple)) else None
        return [query_mask, None] if self._returning_scores else query_mask

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        self._check_shapes(query, key, value)
        allowed = self._attention_mask(query, value, mask, use_causal_mask,
                                       inputs[3] if len(inputs) > 3 else None)
        batch, steps = query.shape[:2]
        q = self._heads(query, self.query_kernel, self.query_bias)  # (B, H, T, key_dim)
        k = self._heads(key, self.key_kernel, self.key_bias)        # (B, H, S, key_dim)
        v = self._heads(value, self.value_kernel, self.value_bias)  # (B, H, S, value_dim)
        q = ops.mul(q, q.dtype.type(1.0 / math.sqrt(self.key_dim)))
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))    # (B, H, T, S)
        if allowed is not None:
            allowed = allowed[:, None]  # the same for every head
            if self.softmax_robust_masking:
                scores = ops.where(allowed, scores, scores.dtype.type(-1e9))
            else:
                scores = ops.add(scores, ((~allowed) * -1e9).astype(scores.dtype))
        scores = ops.softmax(scores, axis=-1)
        dropped = ops.dropout(scores, self.dropout, training=bool(training))
        context = ops.transpose(ops.matmul(dropped, v), (0, 2, 1, 3))  # (B, T, H, value_dim)
        context = ops.reshape(context, (batch, steps, self.num_heads * self.value_dim))
        kernel = self.output_kernel
        out_dims = kernel.shape[2:]
        output = ops.dense(context, ops.reshape(kernel, (context.shape[-1], -1)),
                           None if self.output_bias is None else ops.reshape(self.output_bias, (-1,)))
        output = ops.reshape(output, (batch, steps, *out_dims))
        return [output, scores] if return_attention_scores else output

    def _heads(self, x, kernel, bias):
        """x (B, T, D) projected by kernel (D, H, d) and bias (H, d) -> (B, H, T, d)."""
        features, heads, size = kernel.shape
        y = ops.dense(x, ops.reshape(kernel, (features, heads * size)),
                      None if bias is None else ops.reshape(bias, (heads * size,)))
        return ops.transpose(ops.reshape(y, (x.shape[0], x.shape[1], heads, size)), (0, 2, 1, 3))

    def _check_shapes(self, query, key, value):
        built = self._shapes
        for what, tensor, shape in (("query", query, built[0]), ("key", key, built[1]),
                                    ("value", value, built[2])):
            if tensor.ndim != 3 or tensor.shape[-1] != shape[-1]:
                raise ValueError(
                    f'Input of MultiHeadAttention layer "{self.name}" is incompatible with the '
                    f"layer: {what} expected shape (batch, steps, {shape[-1]}), received shape "
                    f"{tuple(tensor.shape)}.")
        if query.shape[0] != value.shape[0] or key.shape[:2] != value.shape[:2]:
            raise ValueError(
                f'MultiHeadAttention layer "{self.name}": query {tuple(query.shape)}, value '
                f"{tuple(value.shape)} and key {tuple(key.shape)} must have the same batch "
                "size, and key and value the same number of steps.")

    def _attention_mask(self, query, value, mask, use_causal_mask, attention_mask):
        """Where each query step may attend, (B, T, S) booleans (or None: everywhere),
        merged as Keras 2 does (module docstring)."""
        batch, steps, sources = query.shape[0], query.shape[1], value.shape[1]
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None, None]
        query_mask, value_mask = masks[0], masks[1]
        key_mask = masks[2] if len(masks) > 2 else None
        allowed = None
        for one, shape in ((query_mask, (batch, steps, 1)), (value_mask, (batch, 1, sources)),
                           (key_mask, (batch, 1, sources))):
            if one is not None:
                one = np.asarray(getattr(one, "data", one), bool).reshape(shape)
                allowed = one if allowed is None else allowed & one
        if use_causal_mask:
            causal = np.tril(np.ones((1, steps, sources), bool))
            allowed = causal if allowed is None else allowed & causal
        if attention_mask is not None:
            given = np.asarray(getattr(attention_mask, "data", attention_mask)) != 0
            try:
                given = np.broadcast_to(given, (batch, steps, sources))
            except ValueError:
                raise ValueError(
                    f'MultiHeadAttention layer "{self.name}": attention_mask must have shape '
                    f"(batch, query steps, value steps) = {(batch, steps, sources)}, received "
                    f"shape {given.shape}.") from None
            allowed = given if allowed is None else allowed & given
        return None if allowed is None else np.broadcast_to(allowed, (batch, steps, sources))

    # --- config ------------------------------------------------------------------
    def get_config(self):
        shapes = [None, None, None] if self._shapes is None else [list(s) for s in self._shapes]
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "query_shape": shapes[0],
            "key_shape": shapes[1],
            "value_shape": shapes[2],
            "softmax_robust_masking": self.softmax_robust_masking,
        }

    @classmethod
    def from_config(cls, config):
        """A layer, built (weights made) when the config holds the shapes it was built with."""
        config = dict(config)
        query, key, value = (config.pop(k, None) for k in ("query_shape", "key_shape", "value_shape"))
        layer = cls(**config)
        if None not in (query, key, value):
            layer.maybe_build([tuple(query), tuple(value), tuple(key)])
        return layer
