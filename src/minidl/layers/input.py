"""``Input``: the entry point of a functional model.

    inputs = Input(shape=(784,))            # a KerasTensor of shape (None, 784)
    x = Dense(32, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(x)
    model = Model(inputs=inputs, outputs=outputs)

``Input`` returns a placeholder (see ``minidl.layers.node``) produced by an
``InputLayer``, a layer with no weights that passes data through.  Keras
names them ``input_1``, ``input_2``, ... (counting from 1).
"""

from __future__ import annotations

from minidl.layers.base import Layer, as_shape, unique_name
from minidl.layers.node import KerasTensor, Node


class InputLayer(Layer):
    """The layer behind ``Input``; holds the input shape (batch axis first, None)."""

    def __init__(self, input_shape=None, batch_size=None, name=None, batch_input_shape=None, **kwargs):
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("Input needs a shape: Input(shape=(784,)) for 784 features per sample.")
            batch_input_shape = (batch_size, *as_shape(input_shape, "shape"))
        super().__init__(name=name or unique_name("input", zero_based=False),
                         batch_input_shape=batch_input_shape, **kwargs)
        if any(d is not None and d <= 0 for d in self._batch_input_shape):
            raise ValueError(f"Input shape must hold positive sizes, received {self._batch_input_shape}.")
        self.maybe_build(self._batch_input_shape)
        node = Node(self, [], list_input=False)
        node.outputs = [KerasTensor(self._batch_input_shape, self, 0, 0)]
        self._inbound_nodes.append(node)


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802 (Keras's name)
    """A symbolic input of ``shape`` per sample (the batch axis is added)."""
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name,
                       dtype=dtype, batch_input_shape=batch_shape)
    return layer.output
