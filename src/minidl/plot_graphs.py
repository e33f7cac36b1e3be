"""Pictures of graphs: a model's layers, and the autograd graph behind a tensor.

    minidl.utils.plot_model(model, to_file="model.png", show_shapes=True)
    minidl.plot.plot_graph(loss, path="loss.png")

``plot_model`` draws what Keras 2's ``keras.utils.plot_model`` draws: a box
per layer (its name and class; its input and output shapes with
``show_shapes=True``) and an arrow for each connection, the inputs at the top.
``plot_graph`` draws what micrograd's ``draw_dot`` draws for its scalars, for
minidl's tensors: a box per tensor, an ellipse per op, each op named after the
function that recorded it.  So the first shows the model a learner wrote, the
second what running it made: the graph ``backward()`` walks.

Both describe their picture as a ``graph_layout.Graph`` -- which boxes, with
which lines of text, and which arrows -- that ``minidl.graph_layout`` places
and ``minidl.graph_drawing`` draws, with matplotlib alone (no graphviz).  The
figures are returned, and shown in a notebook, as those of ``minidl.plot`` are.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass

import numpy as np

from minidl.graph_drawing import draw, save_figure
from minidl.graph_layout import Box, Graph

LAYER_COLOR = "#e8f0fe"  # light blue
INPUT_COLOR = "#e6f4ea"  # light green: where data comes in (an InputLayer, a leaf)
CONSTANT_COLOR = "#eeeeee"
OP_COLOR = "#fff4e0"
RELEASED_COLOR = "#fde8e8"
FRAME_COLOR = "#f6f6f6"


# --- plot_model: the layers of a model -------------------------------------------------


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
               layer_range=None, show_layer_activations=False, show_trainable=False):
    """Draw ``model``'s layers and their connections, save the picture, and return it.

    Keras 2's ``keras.utils.plot_model``, drawn with matplotlib instead of graphviz:

    * a box per layer, "name (Class)" (the class alone with
      ``show_layer_names=False``), plus its activation
      (``show_layer_activations``), dtype (``show_dtype``), whether it trains
      (``show_trainable``) and its "input:" and "output:" shapes
      (``show_shapes``; "multiple" for a layer called on different shapes);
    * an arrow for each connection, ranks going from top to bottom
      (``rankdir="TB"``) or from left to right (``"LR"``);
    * a nested model as one box, or with ``expand_nested=True`` as a frame
      around its own layers;
    * ``layer_range=["first", "last"]``: only the layers from the first whose
      name matches ``first`` (a regular expression, as in Keras) to the last
      whose name matches ``last``.

    A subclassed model has no graph of layers (its ``call()`` is Python
    code): it is drawn as one box, as Keras does, listing its layers.

    The picture is written to ``to_file`` (``None``: not written) in the
    format its extension names (.png, .pdf, .svg; none: PNG) at ``dpi`` dots
    per inch, atomically (see ``graph_drawing.save_figure``).  Keras returns
    an IPython ``Image``; this returns the matplotlib ``Figure``, shown at
    once in a Jupyter notebook like every figure of ``minidl.plot``.
    """
    from minidl.plot import _finish

    _check_model(model)
    _check_rankdir(rankdir)
    labels = _LayerLabels(show_shapes, show_dtype, show_layer_names, show_layer_activations,
                          show_trainable)
    if _has_graph(model):
        graph, notes = _model_graph(model, labels, expand_nested, layer_range), ()
    else:
        graph, notes = _subclassed_model_graph(model, labels)
    figure = draw(graph, rankdir, dpi, notes)
    if to_file is not None:
        save_figure(figure, to_file)
    return _finish(figure, None)


def _check_model(model):
    from minidl.models import Model

    if not isinstance(model, Model):
        raise TypeError(
            "plot_model takes a model (Sequential, functional or subclassed), received "
            f"{model!r} of type {type(model).__name__}."
        )
    if not model.built:
        raise ValueError(
            f'This model ("{model.name}") has not yet been built, so its layers and their '
            "shapes are unknown. Build it first: give input_shape= to its first layer "
            "(e.g. Dense(128, input_shape=(784,))), start it with an Input, call "
            "model.build((None, 784)), or call the model on a batch of data."
        )


def _check_rankdir(rankdir):
    if rankdir not in ("TB", "LR"):
        raise ValueError(
            f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right), received {rankdir!r}."
        )


def _has_graph(layer):
    """True for a model whose layer calls were recorded: functional, or a built Sequential."""
    from minidl.models import Sequential
    from minidl.models.functional import Functional

    return isinstance(layer, Functional) or (
        isinstance(layer, Sequential) and layer._graph is not None)


def _layer_calls(model):
    """``(layers, calls)``: a model's layers, its InputLayers first, and its layer calls
    (``Node``s), each call after the calls it reads."""
    from minidl.models import Sequential

    if isinstance(model, Sequential):
        tensors = model._graph  # its symbolic input, then the output of each layer
        return [tensors[0].layer, *model.layers], [tensor.node for tensor in tensors[1:]]
    return model.layers, list(model._nodes)


def _model_graph(model, labels, expand_nested, layer_range=None, prefix=()):
    """A box per layer of ``model`` (a frame per nested model when ``expand_nested``), an
    arrow per connection.  Keys are tuples of ``id``s, one per model level, so a layer
    shared by two nested models gets a box in each."""
    layers, calls = _layer_calls(model)
    layers = _layers_in_range(layers, layer_range)
    drawn = {id(layer) for layer in layers}
    graph = Graph()
    for layer in layers:
        key = (*prefix, id(layer))
        if expand_nested and _has_graph(layer):
            inner = _model_graph(layer, labels, expand_nested, prefix=key)
            graph.add(key, Box([[labels.title(layer)]], color=FRAME_COLOR, inner=inner))
        else:
            own_calls = [call for call in calls if call.layer is layer]
            color = INPUT_COLOR if not own_calls else LAYER_COLOR
            graph.add(key, Box(labels.sections(layer, own_calls), color=color))
    for call in calls:
        for index, tensor in enumerate(call.inputs):
            if id(tensor.layer) in drawn and id(call.layer) in drawn:
                graph.connect(_source_key(tensor, prefix, expand_nested),
                              _target_key(call.layer, index, prefix, expand_nested))
    return graph


def _source_key(tensor, prefix, expand_nested):
    """The box an arrow carrying ``tensor`` leaves: its layer's, or inside an expanded
    nested model, the box of the inner layer that made that output."""
    key = (*prefix, id(tensor.layer))
    if expand_nested and _has_graph(tensor.layer):
        return _source_key(tensor.layer.outputs[tensor.tensor_index], key, expand_nested)
    return key


def _target_key(layer, index, prefix, expand_nested):
    """The box an arrow into input ``index`` of ``layer`` enters: the layer's, or inside
    an expanded nested model, the box of its InputLayer number ``index``."""
    key = (*prefix, id(layer))
    if expand_nested and _has_graph(layer):
        return (*key, id(layer.inputs[index].layer))
    return key


def _layers_in_range(layers, layer_range):
    """The layers from the first matching ``layer_range[0]`` to the last matching
    ``layer_range[1]`` (``re.match`` on their names, as Keras does)."""
    if layer_range is None:
        return layers
    if len(layer_range) != 2 or not all(isinstance(name, str) for name in layer_range):
        raise ValueError(
            "layer_range takes the names (or regular expressions) of the first and the last "
            f"layer to draw, e.g. ['dense', 'dense_2'], received {layer_range!r}."
        )
    names = [layer.name for layer in layers]
    firsts = [i for i, name in enumerate(names) if re.match(layer_range[0], name)]
    lasts = [i for i, name in enumerate(names) if re.match(layer_range[1], name)]
    if not firsts or not lasts or firsts[0] > lasts[-1]:
        raise ValueError(
            f"layer_range={layer_range!r} names no range of layers: the model's layers are "
            f"{names}, in this order."
        )
    return layers[firsts[0]:lasts[-1] + 1]


def _subclassed_model_graph(model, labels):
    """One box: the model, and the names of its layers (its call() connects them in code)."""
    layer_lines = [labels.title(layer) for layer in model.layers] or ["(no layers)"]
    graph = Graph()
    graph.add(id(model), Box([*labels.sections(model, []), ["layers:", *layer_lines]],
                             color=LAYER_COLOR))
    notes = [(f'"{model.name}" is a subclassed model: its call() is Python code, so how its '
              "layers connect was not recorded and cannot be drawn.")]
    return graph, notes


@dataclass
class _LayerLabels:
    """What a layer's box says: Keras 2's ``show_*`` arguments of plot_model."""

    shapes: bool
    dtype: bool
    names: bool
    activations: bool
    trainable: bool

    def title(self, layer):
        kind = type(layer).__name__
        return f"{layer.name} ({kind})" if self.names else kind

    def sections(self, layer, calls):
        """The lines of ``layer``'s box; ``calls`` are its calls in the model drawn."""
        from minidl import activations

        about = [self.title(layer)]
        if self.activations and getattr(layer, "activation", None) is not None:
            about.append(f"activation: {activations.serialize(layer.activation)}")
        if self.dtype:
            about.append(f"dtype: {layer.dtype}")
        if self.trainable:
            about.append(f"trainable: {layer.trainable}")
        if not self.shapes:
            return [about]
        inputs, outputs = _shapes(layer, calls)
        return [about, [f"input: {inputs}", f"output: {outputs}"]]


def _shapes(layer, calls):
    """A layer's input and output shapes as text: "(None, 10)", a list for several
    tensors, "multiple" when its calls differ, "?" when unknown."""
    from minidl.layers import InputLayer

    if isinstance(layer, InputLayer):
        shape = str(layer.output.shape)
        return shape, shape
    if not calls:  # a subclassed model: the shapes it last ran on, if any
        shapes = getattr(layer, "_shapes", None)
        if not shapes:
            return "?", "?"
        return tuple(_shape_text(group) for group in shapes)
    inputs = {_shape_text([tensor.shape for tensor in call.inputs]) for call in calls}
    outputs = {_shape_text([tensor.shape for tensor in call.outputs]) for call in calls}
    return tuple(texts.pop() if len(texts) == 1 else "multiple" for texts in (inputs, outputs))


def _shape_text(shapes):
    shapes = [tuple(shape) for shape in shapes]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


# --- plot_graph: the autograd graph behind a tensor ------------------------------------


def autograd_figure(tensor, rankdir="LR", max_nodes=200):
    """The figure of ``minidl.plot.plot_graph`` (see there)."""
    from minidl.tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(
            "plot_graph takes a minidl Tensor, for example a loss computed with gradients on, "
            f"received {type(tensor).__name__}."
        )
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, received {max_nodes!r}.")
    _check_rankdir(rankdir)
    tensors, total = _nearest_tensors(tensor, max_nodes)
    graph = _autograd_graph(_parents_first(tensors))
    return draw(graph, rankdir, 100, _autograd_notes(tensor, graph, len(graph.boxes), total))


def _nearest_tensors(root, max_nodes):
    """The tensors to draw: those nearest ``root`` (breadth first), as many as fit in
    ``max_nodes`` boxes and ellipses; and how many boxes and ellipses the whole graph has."""
    chosen, used, total, full = [], 0, 0, False
    seen, queue = {id(root)}, collections.deque([root])
    while queue:
        tensor = queue.popleft()
        cost = 1 + _has_op(tensor)
        total += cost
        full = full or used + cost > max_nodes
        if not full:
            chosen.append(tensor)
            used += cost
        for parent in tensor._parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return chosen, total


def _has_op(tensor):
    """True when ``tensor`` was computed by an op whose backward closure is still there."""
    from minidl.autograd import _released

    return tensor._backward is not None and tensor._backward is not _released


def _parents_first(tensors):
    """``tensors``, each after its parents among them (an iterative depth-first search,
    like ``autograd.topological_order``, which leaves out tensors needing no gradient)."""
    chosen = {id(tensor) for tensor in tensors}
    order, visited = [], set()
    stack = [(tensor, False) for tensor in reversed(tensors)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            order.append(tensor)
        elif id(tensor) not in visited:
            visited.add(id(tensor))
            stack.append((tensor, True))
            stack += [(parent, False) for parent in tensor._parents
                      if id(parent) in chosen and id(parent) not in visited]
    return order


def op_name(backward):
    """The op that recorded a backward closure: ``dense`` for ``dense.<locals>.backward``
    (every op defines its closure inside itself; ``minidl.profile()`` names ops the same way)."""
    return backward.__qualname__.split(".")[0].lstrip("_")


def _autograd_graph(tensors):
    """A box per tensor, and an ellipse per op between the tensors it read and the one it
    made (``tensors`` come parents first, so arrows go forward)."""
    drawn = {id(tensor) for tensor in tensors}
    graph = Graph()
    for tensor in tensors:
        if _has_op(tensor):
            graph.add(("op", id(tensor)), _op_box(tensor, drawn))
            for parent in tensor._parents:
                if id(parent) in drawn:
                    graph.connect(("tensor", id(parent)), ("op", id(tensor)))
            graph.connect(("op", id(tensor)), ("tensor", id(tensor)))
        graph.add(("tensor", id(tensor)), _tensor_box(tensor))
    return graph


def _op_box(tensor, drawn):
    """The ellipse of the op that computed ``tensor``: dashed when some of its inputs are
    not drawn (they are beyond max_nodes)."""
    cut = not all(id(parent) in drawn for parent in tensor._parents)
    lines = [op_name(tensor._backward), *(["(inputs not drawn)"] if cut else [])]
    return Box([lines], shape="ellipse", color=OP_COLOR, dashed=cut)


def _tensor_box(tensor):
    """A tensor's name and kind, then its shape, its value when it holds one number,
    and its gradient once ``backward()`` has set it."""
    from minidl.autograd import _released

    about = [tensor.name] if tensor.name else []
    if tensor._backward is _released:
        about.append("released by backward()")
        color = RELEASED_COLOR
    elif tensor._backward is None:
        about.append("leaf" if tensor.requires_grad else "constant")
        color = INPUT_COLOR if tensor.requires_grad else CONSTANT_COLOR
    else:
        color = "white"
    values = [f"shape {tensor.shape}"]
    if tensor.size == 1:
        values.append(f"data {tensor.data.item():.4g}")
    if tensor.grad is not None:
        grad = np.asarray(tensor.grad)
        values.append(f"grad {grad.item():.4g}" if grad.size == 1
                      else f"grad: norm {np.linalg.norm(grad):.4g}")
    return Box([about, values] if about else [values], color=color,
               dashed=tensor._backward is _released)


def _autograd_notes(root, graph, drawn, total):
    """The lines above the picture: what the shapes and colours mean, and what is missing."""
    notes = [("Boxes are tensors (green: leaves that get a .grad, such as weights; grey: "
              "constants, such as inputs), ellipses the ops that computed them.")]
    if any(box.dashed and box.shape == "box" for box in graph.boxes.values()):
        notes.append("A dashed box was released by backward(), which frees the graph behind "
                     "it; call backward(retain_graph=True) to keep the graph for drawing.")
    if drawn < total:
        notes.append(f"Only the {drawn} boxes and ellipses nearest the output are drawn, of "
                     f"{total}; pass max_nodes= to draw more.")
    if root._backward is None and not root.requires_grad:
        notes.append("This tensor has no graph: nothing it was computed from requires a "
                     "gradient (or it was computed inside no_grad()).")
    return notes
