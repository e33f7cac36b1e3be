"""Pictures of graphs: a model's layers.

    minidl.utils.plot_model(model, to_file="model.png", show_shapes=True)

``plot_model`` draws what Keras 2's ``keras.utils.plot_model`` draws: a box
per layer (its name and class; its input and output shapes with
``show_shapes=True``) and an arrow for each connection, the inputs at the top.

It describes its picture as a ``graph_layout.Graph`` -- which boxes, with
which lines of text, and which arrows -- that ``minidl.graph_layout`` places
and ``minidl.graph_drawing`` draws, with matplotlib alone (no graphviz).  The
figure is returned, and shown in a notebook, as those of ``minidl.plot`` are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minidl.graph_drawing import draw, save_figure
from minidl.graph_layout import Box, Graph

LAYER_COLOR = "#e8f0fe"  # light blue
INPUT_COLOR = "#e6f4ea"  # light green: where data comes in
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
