"""``model.summary()``: the table Keras 2 prints.

    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     dense (Dense)               (None, 128)               100480
    ...
    =================================================================
    Total params: 118,282
    Trainable params: 118,282
    Non-trainable params: 0

Each column ends at a fixed position (29, 55 and 65 of 65 characters for a
stack of layers).  A model whose layers branch or merge gets a fourth
column, "Connected to", naming the inputs of each layer call as
``layer_name[node_index][tensor_index]``.  Parameter counts per layer are
printed plainly, the totals with thousands separators.
"""

from __future__ import annotations

from minidl.layers.input import InputLayer
from minidl.layers.node import shapes_of

_BREAKS = ("),", "},", "],", "',")  # where a long cell may wrap onto the next line


def format_row(fields, positions):
    """The lines of one table row; long cells wrap onto extra lines."""
    cells = [str(f) for f in fields]
    lines = []
    while any(cells):
        line = ""
        for col, text in enumerate(cells):
            start = positions[col - 1] if col else 0
            last = col == len(positions) - 1
            gap = 0 if last else 2
            width = positions[col] - start - gap - (0 if last else 1)
            piece = text[:width]
            breaks = [piece.find(b) + len(b) for b in _BREAKS if b in piece]
            if breaks:
                width = min(breaks)
                piece = piece[:width]
            if col == 0:
                line += " "
            line += piece + " " * gap
            cells[col] = text[width:]
            line += " " * (positions[col] - len(line))
        lines.append(line)
    return lines


def _is_sequential_like(model):
    """True when every layer is called once, on one input, in a chain, as Keras 2
    judges it: the model may output several tensors of the chain (an LSTM's output
    and states, or a layer and the one after it), as long as one layer ends it."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return True
    if len(model.inputs) != 1:
        return False
    if len({id(n.layer) for n in nodes}) != len(nodes):
        return False
    readers = {}
    for node in nodes:
        if len(node.inputs) != 1:
            return False
        key = id(node.inputs[0])
        readers[key] = readers.get(key, 0) + 1
    if any(count > 1 for count in readers.values()):
        return False
    ends = [node for node in nodes if not any(id(t) in readers for t in node.outputs)]
    return len(ends) <= 1


def _output_shape(model, layer):
    if isinstance(layer, InputLayer):
        return [layer._batch_input_shape]
    nodes = getattr(model, "_model_nodes", None)
    if nodes is not None:
        shapes = {repr(shape): shape for shape in map(_node_shapes, nodes(layer))}
        return next(iter(shapes.values())) if len(shapes) == 1 else "multiple"
    graph = getattr(model, "_graph", None)  # a Sequential's symbolic tensors: input, outputs
    if graph is not None and len(graph) == len(model.layers) + 1:
        return graph[1 + model.layers.index(layer)].shape  # (with a batch size it fixed)
    if not model._is_graph_model():  # a subclassed model: its layers run in Python code,
        return "multiple"  # so Keras 2 shows no shape (a layer may run twice, or be a cell)
    try:
        return layer.output_shape
    except (AttributeError, ValueError):
        return "multiple"


def _node_shapes(node):
    """The shapes of one call's outputs, nested as the call returned them."""
    if len(node.outputs) == 1:
        return node.outputs[0].shape
    return shapes_of(node.returned if node.returned is not None else node.outputs)


def _params(layer):
    return layer.count_params() if layer.built else "0 (unused)"


def _connections(model, layer):
    refs = []
    for node in model._model_nodes(layer):
        for tensor in node.inputs:
            node_index = tensor.layer._inbound_nodes.index(tensor.node)
            refs.append(f"{tensor.layer.name}[{node_index}][{tensor.tensor_index}]")
    return refs


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Print ``model``'s summary table line by line through ``print_fn``."""
    if not model.built:
        raise ValueError(
            f'This model ("{model.name}") has not yet been built, so its layers have no '
            "weights and their shapes are unknown. Pass input_shape= to its first layer "
            "(e.g. Dense(128, input_shape=(784,))), start it with an Input, or call the "
            "model on a batch of data (or model.build((None, 784))) before summary()."
        )
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.7, 1.0]  # as tf_keras 2.21
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    for line in format_row(header, positions):
        print_fn(line)
    print_fn("=" * line_length)
    for layer in model.layers:
        fields = [f"{layer.name} ({type(layer).__name__})", _output_shape(model, layer), _params(layer)]
        if not sequential_like:
            fields.append(_connections(model, layer))
        for line in format_row(fields, positions):
            print_fn(line)
        print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
