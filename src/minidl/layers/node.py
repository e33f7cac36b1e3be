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

import threading

import numpy as np

from minidl.errors import SymbolicTensorError
from minidl.layers.nest import flatten, is_shape, map_nest, pack_as

# Values of symbolic tensors, per thread: a stack of scopes, innermost last.  A running
# functional model pushes the dict of the values it computed (id(KerasTensor) -> Tensor);
# finding a layer's output shape at graph-building time pushes a ``_Probe``.  A layer's
# ``call`` that reads a KerasTensor of the enclosing graph (Deep Learning with Python's
# VAE computes its loss from ``z_mean`` inside a layer) gets it through them.
_scopes: dict[int, list] = {}


class _Probe:
    """Building the graph: a layer's ``call`` runs once on zeros (batch 1) to find its
    output; KerasTensors it reads are zeros too, and are remembered in ``captured``
    so that the model computes them before that layer."""

    def __init__(self):
        self.captured = []


class scope:
    """``with scope(values):`` makes ``values`` (a dict id(KerasTensor) -> Tensor, or a
    ``_Probe``) what KerasTensors read as on this thread, until the block ends."""

    def __init__(self, values):
        self.values = values

    def __enter__(self):
        _scopes.setdefault(threading.get_ident(), []).append(self.values)
        return self.values

    def __exit__(self, *exc):
        stack = _scopes[threading.get_ident()]
        stack.pop()
        if not stack:
            del _scopes[threading.get_ident()]


class KerasTensor:
    """A symbolic tensor: a shape and the layer call that produced it.

    As Keras's: ``shape`` has None for the batch axis (``(None, 784)``),
    ``dtype`` is a name (``"float32"``, the dtype of the layer that made it),
    ``name`` is that layer's name.
    """

    __array_priority__ = 200  # so ndarray + KerasTensor asks KerasTensor.__radd__
    _keras_mask = None  # a SymbolicMask when the layer that made it gives it a mask

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
    def dtype(self):
        """The dtype of the values it stands for ("int32" only from an integer Input)."""
        return self.layer.dtype

    @property
    def name(self):
        return self.layer.name

    def __repr__(self):
        return (f"<KerasTensor: shape={self.shape} dtype={self.dtype} "
                f"(created by layer {self.layer.name!r})>")

    # --- its value while a model runs ----------------------------------------
    def _resolve_symbolic(self):
        """The Tensor this placeholder stands for in the model run in progress (zeros
        of batch 1 while the graph is being built); a clear error anywhere else."""
        for values in reversed(_scopes.get(threading.get_ident(), ())):
            if isinstance(values, _Probe):
                if not any(t is self for t in values.captured):
                    values.captured.append(self)
                from minidl.tensor import Tensor

                dtype = getattr(self.layer, "_dtype", np.float32)
                dtype = dtype if np.dtype(dtype).kind == "f" else np.float32
                return Tensor(np.zeros((1, *[d or 1 for d in self.shape[1:]]), dtype))
            value = values.get(id(self))
            if value is not None:
                return value
        if _scopes.get(threading.get_ident()):
            raise ValueError(
                f"The symbolic tensor made by layer {self.layer.name!r} (shape {self.shape}) is "
                "read inside a layer's call(), but the model running now does not compute it "
                "before that layer. Pass it to the layer as an input instead: "
                "MyLayer()([x, that_tensor])."
            )
        raise SymbolicTensorError(
            f"The symbolic tensor made by layer {self.layer.name!r} (shape {self.shape}) holds "
            "no numbers: it stands for a layer's output in a functional model. Compute with it "
            "inside a layer (layers.Lambda(lambda t: ...)(tensor), or a custom layer's call), "
            "or call the model on data."
        )

    # --- arithmetic: numbers inside a running model, else a layer (op_lambda.py) ---
    def _binary(self, name, other, reverse=False):
        from minidl.layers.op_lambda import FUNCTIONS, operator_layer

        if not _scopes.get(threading.get_ident()):  # building a functional model
            if isinstance(other, KerasTensor):
                return operator_layer(name, [other, self] if reverse else [self, other])
            return operator_layer(name, self, constant=other, constant_first=reverse)
        mine = self._resolve_symbolic()
        other = other._resolve_symbolic() if isinstance(other, KerasTensor) else other
        function = FUNCTIONS[name]
        return function(other, mine) if reverse else function(mine, other)

    def __add__(self, other):
        return self._binary("__operators__.add", other)

    def __radd__(self, other):
        return self._binary("__operators__.add", other, True)

    def __sub__(self, other):
        return self._binary("math.subtract", other)

    def __rsub__(self, other):
        return self._binary("math.subtract", other, True)

    def __mul__(self, other):
        return self._binary("math.multiply", other)

    def __rmul__(self, other):
        return self._binary("math.multiply", other, True)

    def __truediv__(self, other):
        return self._binary("math.truediv", other)

    def __rtruediv__(self, other):
        return self._binary("math.truediv", other, True)

    def __pow__(self, other):
        return self._binary("math.pow", other)

    def __neg__(self):
        if not _scopes.get(threading.get_ident()):
            from minidl.layers.op_lambda import operator_layer

            return operator_layer("math.negative", self)
        return -self._resolve_symbolic()

    def __getitem__(self, index):
        if not _scopes.get(threading.get_ident()):  # building a functional model: a layer
            from minidl.layers.ops_layer import apply_op_layer

            return apply_op_layer("getitem", (self, index), {})
        return self._resolve_symbolic()[index]

    def __iter__(self):
        raise TypeError(f"Iterating over a symbolic tensor (shape {self.shape}, made by layer "
                        f"{self.layer.name!r}) is not supported: it holds no values yet.")


class SymbolicMask:
    """``x._keras_mask`` of a placeholder whose values will carry a timestep mask (after
    ``Embedding(mask_zero=True)``, ``Masking``, and the layers that pass a mask on), as
    Keras 2 shows it: a bool tensor of ``shape`` (batch and steps), known when the model
    runs.  Given to a layer of the graph as ``mask=``, it stands for that run's mask."""

    dtype = "bool"

    def __init__(self, tensor, shape):
        self.tensor = tensor  # the KerasTensor it is the mask of
        self.shape = tuple(shape)

    @property
    def ndim(self):
        return len(self.shape)

    def resolve(self, values):
        """The mask in a running model, from its ``values`` (id(KerasTensor) -> Tensor)."""
        return values[id(self.tensor)]._keras_mask

    def __repr__(self):
        return (f"<KerasTensor: shape={self.shape} dtype=bool (the mask of the output of layer "
                f"{self.tensor.layer.name!r})>")


class Node:
    """One call of ``layer`` on symbolic ``inputs`` giving symbolic ``outputs``.

    ``list_input`` remembers whether the layer was given a list (merge
    layers) or a single tensor, so the model can call it the same way;
    ``structure`` the nest it was given when that is more than a flat list
    (an RNN's tuple of sequences, see ``Layer._nested_inputs``), else None;
    ``call_args`` and ``call_kwargs`` are the other arguments of the call
    (``training=False`` among them when it was given), replayed with it.
    """

    def __init__(self, layer, inputs, list_input, call_args=(), call_kwargs=None,
                 structure=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.list_input = list_input
        self.structure = structure
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = []  # flat, one placeholder per output tensor
        self.returned = None  # what the call returned: one of outputs, or a (nested) list
        self.captured = []  # KerasTensors the layer's call reads from the enclosing graph

    def __repr__(self):
        sources = ", ".join(t.layer.name for t in self.inputs)
        return f"<Node {self.layer.name}({sources})>"

    def call_inputs(self, values):
        """What the layer is called with when its inputs hold ``values`` (in order): one
        value, a list, or the nest it was given."""
        if self.structure is not None:
            return pack_as(self.structure, values)
        return list(values) if self.list_input else values[0]


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
        return node.call_inputs(node.inputs) if node.inputs else node.outputs[0]
    returned = node.returned if node.returned is not None else node.outputs
    if isinstance(returned, list):
        return list(returned) if len(node.outputs) > 1 else node.outputs[0]
    return returned


def flat_outputs(outputs):
    """A layer's outputs as one flat list: one tensor, a list, or lists in lists (an
    RNN over stacked cells with ``return_state`` gives ``[output, [h1, c1], h2]``)."""
    return flatten(outputs)


def pack_outputs(template, flat):
    """``flat`` nested as ``template`` (the output shapes, in lists or tuples) says."""
    return pack_as(template, flat, is_leaf=is_shape)


def shapes_of(tensors):
    """The shape of a placeholder, or the shapes of a nest of them, nested alike."""
    return map_nest(lambda tensor: tensor.shape, tensors)


def is_symbolic(value):
    """True for a KerasTensor or a non-empty list or tuple (maybe nested) of them."""
    if isinstance(value, KerasTensor):
        return True
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(is_symbolic(v) for v in value)
    )
