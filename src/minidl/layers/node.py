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
    """A symbolic tensor: a shape and the layer call that produced it.

    As Keras's: ``shape`` has None for the batch axis (``(None, 784)``),
    ``dtype`` is a name (``"float32"``, the dtype of the layer that made it),
    ``name`` is that layer's name.
    """

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

    @property
    def dtype(self):
        return self.layer.dtype

    def __repr__(self):
        return (f"<KerasTensor: shape={self.shape} dtype={self.dtype} "
                f"(created by layer {self.layer.name!r})>")


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


def node_tensors(layer, node_index, what):
    """``layer.get_input_at(node_index)`` (``what="input"``) or ``get_output_at``:
    the placeholders of one call, a list for several.  An ``Input``'s input is
    its own placeholder, as in Keras."""
    nodes = layer._inbound_nodes
    if not nodes:
        raise AttributeError(
            f'Layer "{layer.name}" was never called on symbolic inputs, so its {what} is not '
            "defined. Layers get one when called on an Input (or added to a Sequential model "
            "that has an input_shape)."
        )
    if type(node_index) is not int or not -len(nodes) <= node_index < len(nodes):
        raise ValueError(
            f"Asked to get {what} at node {node_index!r}, but the layer \"{layer.name}\" has "
            f"only {len(nodes)} inbound node(s)."
        )
    node = nodes[node_index]
    if what == "input":
        tensors = node.inputs or node.outputs
        return list(tensors) if node.list_input else tensors[0]
    return list(node.outputs) if len(node.outputs) > 1 else node.outputs[0]


def shapes_of(tensors):
    """The shape of a placeholder, or the list of shapes of a list of them."""
    if isinstance(tensors, list):
        return [t.shape for t in tensors]
    return tensors.shape


def is_symbolic(value):
    """True for a KerasTensor or a non-empty list of them."""
    if isinstance(value, KerasTensor):
        return True
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, KerasTensor) for v in value)
    )
