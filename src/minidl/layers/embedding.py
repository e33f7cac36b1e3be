"""Embedding: turn word indices into learned vectors.

``Embedding(input_dim, output_dim)`` holds a table ``embeddings`` of shape
``(input_dim, output_dim)``: one row of ``output_dim`` numbers per word of a
vocabulary of ``input_dim`` words, learned like any other weight.  A batch of
sequences of word indices, shape ``(batch, timesteps)``, becomes
``(batch, timesteps, output_dim)``: each index replaced by its row.
Parameters: ``input_dim * output_dim`` (10000 * 32 = 320000).

Indices must be whole numbers in ``[0, input_dim)``; anything else is an
error naming the layer (see ``minidl.ops.embedding``).

``mask_zero=True`` declares index 0 as padding (what ``pad_sequences`` puts
in): ``compute_mask(inputs)`` then gives ``inputs != 0``, the steps that hold
real words, so that layers after it can skip the padding.  Index 0 is then
never a real word, so the vocabulary needs ``input_dim = words + 1``.

``input_length`` (Keras 2) fixes the sequence length; the model then knows
every output shape, and ``summary()`` shows ``(None, input_length, output_dim)``.
Without it the length stays open, ``(None, None, output_dim)``.
"""

from __future__ import annotations

import numpy as np

from minidl import constraints, initializers, ops, regularizers
from minidl.layers.base import Layer, check_positive_int
from minidl.tensor import Tensor


class Embedding(Layer):
    """A lookup table of learned vectors, one per word index."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, sparse=False,
                 **kwargs):
        if input_length is not None and (isinstance(input_length, bool) or not isinstance(
                input_length, (int, np.integer)) or input_length <= 0):
            raise ValueError(
                f'Embedding layer "{kwargs.get("name") or "embedding"}": input_length must be '
                f"None or a positive integer, received {input_length!r}."
            )
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            # Keras 2: an Embedding always knows its input is (batch, timesteps)
            kwargs["input_shape"] = (input_length,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        label = f'Embedding layer "{self.name}"'
        meaning = " (input_dim is the vocabulary size, output_dim the vector length)"
        self.input_dim = check_positive_int(label, "input_dim", input_dim, meaning)
        self.output_dim = check_positive_int(label, "output_dim", output_dim, meaning)
        if sparse:
            raise ValueError(
                f"{label}: sparse=True (a sparse gradient for the table, a TensorFlow "
                "optimisation) is not supported; minidl's Embedding always sends back a dense "
                "gradient. Pass sparse=False."
            )
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = self._regularizer("embeddings_regularizer",
                                                        embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # as Keras 2: only a masking Embedding makes one
        self.input_length = None if input_length is None else int(input_length)
        self.sparse = False
        self.embeddings_constraint = self._constraint("embeddings_constraint",
                                                      embeddings_constraint)
        self.embeddings = None

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.embeddings = self.add_weight(
            "embeddings", shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return (*tuple(input_shape), self.output_dim)

    def _check_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 1:
            raise ValueError(
                f'Embedding layer "{self.name}" expects word indices with a batch axis, '
                f"e.g. (batch, timesteps); received input shape {input_shape}."
            )
        if (self.input_length is not None and len(input_shape) >= 2
                and input_shape[1] is not None and input_shape[1] != self.input_length):
            raise ValueError(
                f'Embedding layer "{self.name}": input_length is {self.input_length}, but '
                f"received input has shape {input_shape}. Pad or cut the sequences to "
                f"{self.input_length} (utils.pad_sequences(x, maxlen={self.input_length}))."
            )

    _integer_inputs = "indices"

    def _to_tensors(self, inputs):
        """Indices stay exact: integer arrays are used as they are (an integer Input
        hands them over unchanged), float Tensors too (their values are checked in
        ``call``); other floats become a float32 or float64 Tensor."""
        if isinstance(inputs, Tensor):
            return inputs
        values = np.asarray(inputs)
        if values.dtype.kind in "iu":
            return values
        if values.dtype.kind == "b":
            return Tensor(values, dtype=np.float64)
        return Tensor(values, dtype=values.dtype if values.dtype == np.float64 else None)

    def call(self, inputs):
        return ops.embedding(inputs, self.embeddings, who=f'Embedding layer "{self.name}"')

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` (a boolean array shaped like ``inputs``: True where a word
        is, False at padding) when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.not_equal(values, 0)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
