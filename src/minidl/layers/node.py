"""The bookkeeping behind the functional API.

``inputs = Input(shape=(784,))`` returns a ``KerasTensor``: a placeholder
that has a shape (``(None, 784)``, None being the batch) but no numbers.
Calling a layer on it, ``Dense(32)(inputs)``, runs no arithmetic: the layer
builds its weights from the shape, records a ``Node`` (this layer, applied to
these placeholders, gave those placeholders) and returns new placeholders.
``Model(inputs, outputs)`` then walks the nodes back from ``outputs`` to find
the graph it must run on real data.
"""

from __future__ import annotations


class KerasTensor:
    """A symbolic tensor: a shape and the layer call that produced it."""

    def __init__(self, shape, layer, node_index, tensor_index=0):
        self.shape = tuple(shape)
        self.layer = layer
        self.node_index = node_index
        self.tensor_index = tensor_index

    @property
    def node(self):
        """The ``Node`` (layer call) that produced this tensor."""
        return self.layer._inbound_nodes[self.node_index]

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def name(self):
        return self.layer.name

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} (created by layer {self.layer.name!r})>"


class Node:
    """One call of ``layer`` on symbolic ``inputs`` giving symbolic ``outputs``.

    ``list_input`` remembers whether the layer was given a list (merge
    layers) or a single tensor, so the model can call it the same way;
    ``call_args`` and ``call_kwargs`` are the other arguments of the call
    (``training=False`` among them when it was given), replayed with it.
    """

    def __init__(self, layer, inputs, list_input, call_args=(), call_kwargs=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.list_input = list_input
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = []

    def __repr__(self):
        sources = ", ".join(t.layer.name for t in self.inputs)
        return f"<Node {self.layer.name}({sources})>"


def is_symbolic(value):
    """True for a KerasTensor or a non-empty list of them."""
    if isinstance(value, KerasTensor):
        return True
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, KerasTensor) for v in value)
    )
