"""``Input``: the entry point of a functional model.

    inputs = Input(shape=(784,))            # a KerasTensor of shape (None, 784)
    x = Dense(32, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(x)
    model = Model(inputs=inputs, outputs=outputs)

``Input`` returns a placeholder (see ``minidl.layers.node``) produced by an
``InputLayer``, a layer with no weights that passes data through.  Keras
names them ``input_1``, ``input_2``, ... (counting from 1).

``dtype``: "float32" (the default) or "float64" for numbers, "int32" or "int64"
for word indices on their way to an ``Embedding``::

    words = Input(shape=(None,), dtype="int32")     # sequences of any length
    x = Embedding(10000, 64)(words)

and "string" for text on its way to a ``TextVectorization`` layer::

    text = Input(shape=(1,), dtype="string")        # one string per sample
    x = vectorize_layer(text)

Integer data then reach the Embedding as integers, and strings the
TextVectorization as NumPy arrays of Python strings (``fit`` and ``predict`` do
not turn them into float32).  A layer that computes in floats and that Keras casts
for (Dense, BatchNormalization, ...) casts them; the convolutions refuse them, as
Keras does, with an error that names the layer.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer, as_shape, unique_name
from minidl.layers.node import KerasTensor, Node


class InputLayer(Layer):
    """The layer behind ``Input``; holds the input shape (batch axis first, None)."""

    def __init__(self, input_shape=None, batch_size=None, name=None, batch_input_shape=None,
                 dtype=None, **kwargs):
        self._data_dtype = _integer_dtype(dtype)  # None: floats, of the layer's dtype
        if self._data_dtype is not None:
            dtype = None
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("Input needs a shape: Input(shape=(784,)) for 784 features per sample.")
            batch_input_shape = (batch_size, *as_shape(input_shape, "shape"))
        super().__init__(name=name or unique_name("input", zero_based=False),
                         batch_input_shape=batch_input_shape, dtype=dtype, **kwargs)
        if any(d is not None and d <= 0 for d in self._batch_input_shape):
            raise ValueError(f"Input shape must hold positive sizes, received {self._batch_input_shape}.")
        self.maybe_build(self._batch_input_shape)
        node = Node(self, [], list_input=False)
        node.outputs = [KerasTensor(self._batch_input_shape, self, 0, 0)]
        self._inbound_nodes.append(node)

    @property
    def dtype(self):
        """The dtype of the data this input takes: "float32", "float64", "int32", "int64"."""
        if self._data_dtype is None:
            return super().dtype
        return "string" if self._data_dtype == STRING_DTYPE else self._data_dtype.name

    def _input_dtype(self):
        return self._dtype if self._data_dtype is None else self._data_dtype

    def get_config(self):
        """Keras 2's: the shape, dtype and name (its InputLayer takes no ``trainable``)."""
        config = super().get_config()
        config.pop("trainable", None)
        return config


_INTEGER_DTYPES = ("int32", "int64")
STRING_DTYPE = np.dtype(object)  # how a "string" input's data travel: arrays of Python strings


def _integer_dtype(dtype):
    """``dtype`` as a NumPy integer dtype when it names one ("int32", "int64"), or
    ``STRING_DTYPE`` for "string", else None (float dtypes are checked by ``Layer``)."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype == "string":
        return STRING_DTYPE
    try:
        found = np.dtype(dtype)
    except TypeError:
        return None
    if found.kind in "iub":
        if found.name not in _INTEGER_DTYPES:
            raise ValueError(
                f"Input: dtype must be 'float32', 'float64', 'int32' or 'int64', received "
                f"{dtype!r} (integer inputs carry word indices into an Embedding)."
            )
        return found
    return None


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802 (Keras's name)
    """A symbolic input of ``shape`` per sample (the batch axis is added)."""
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name,
                       dtype=dtype, batch_input_shape=batch_shape)
    return layer.output
