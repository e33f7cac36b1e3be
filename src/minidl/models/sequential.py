"""``Sequential``: a plain stack of layers, each feeding the next.

    model = Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])

When the first layer has ``input_shape=`` (or the stack starts with an
``Input``), every layer is built as soon as it is added, so shape errors
show at once and ``summary()`` works before training.  Each layer is then
also called on a symbolic input, as Keras does, so ``model.input`` and
``layer.output`` exist and a functional model can reuse them (for example
to look at intermediate activations).  Without an input shape the model is
built the first time it sees data.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer, as_shape
from minidl.layers.input import STRING_DTYPE, InputLayer
from minidl.layers.node import KerasTensor
from minidl.models.model import Model, check_input_shape
from minidl.utils.traceback_utils import filter_traceback


class Sequential(Model):
    """A linear stack of layers."""

    def __new__(cls, *args, **kwargs):
        # always a stack: Sequential([Input(...)]) is a list of layers, not the
        # (inputs, outputs) of a functional model that Model(...) looks for
        return object.__new__(cls)

    @filter_traceback
    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._input_shape = None  # per sample, once known
        self._batch_size = None  # fixed by batch_input_shape= or batch_size= (stateful RNNs)
        self._input_layer = None  # the InputLayer, if the stack started with Input
        self._graph = None  # symbolic tensors: the input, then each layer's output
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    @filter_traceback
    def add(self, layer):
        """Append a layer (or start with an ``Input``)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f'Sequential model "{self.name}": an Input can only be the first layer.'
                )
            self._input_layer = layer
            self._batch_size, *shape = layer._batch_input_shape
            self._input_shape = tuple(shape)
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f'Sequential model "{self.name}": add() takes a layer, received {layer!r} '
                f"of type {type(layer).__name__}."
            )
        if not self._layers and self._input_layer is None:
            if self._input_shape is None:
                self._input_shape = _known_input_shape(layer)
            if layer._batch_input_shape is not None:
                self._batch_size = layer._batch_input_shape[0]
        self._layers.append(layer)
        if self._input_shape is not None:
            try:
                self._build_layers()
            except Exception:
                self._layers.pop()
                raise

    def pop(self):
        """Remove the last layer."""
        if not self._layers:
            raise TypeError(f'Sequential model "{self.name}" has no layers to pop.')
        self._layers.pop()
        if self._graph is not None:
            del self._graph[len(self._layers) + 1:]
        self._shapes = None
        self.built = False
        if self._input_shape is not None:
            self._build_layers()

    def _build_layers(self):
        """Call each layer not yet in the graph on the previous symbolic output:
        this builds it and checks that its input shape fits."""
        if self._graph is None:
            if self._input_layer is None:
                first = self._layers[0].name if self._layers else self.name
                dtype = _input_layer_dtype(self._layers[0]) if self._layers else None
                self._input_layer = InputLayer(input_shape=self._input_shape,
                                               batch_size=self._batch_size,
                                               name=f"{first}_input", dtype=dtype)
            self._graph = [self._input_layer.output]
        for layer in self._layers[len(self._graph) - 1:]:
            self._graph.append(self._single_output(layer, layer(self._graph[-1])))
        self._shapes = ([self._graph[0].shape], [self._graph[-1].shape])
        self._build_input_shape = (self._batch_size, *self._input_shape)
        self.built = True

    def maybe_build(self, input_shape):
        """Used as a layer inside another model: build from that model's shapes."""
        if not self.built:
            self._input_shape = as_shape(tuple(input_shape)[1:])
            self._build_layers()

    def integer_inputs(self):
        if self._input_layer is not None and self._input_layer._data_dtype is not None:
            return [self._input_layer._data_dtype]
        if self._layers and self._layers[0]._integer_inputs == "indices":
            return ["any"]
        if self._layers and self._layers[0]._integer_inputs == "strings":
            return [STRING_DTYPE]
        return []

    def _input_dtype(self):
        if self._input_layer is not None:
            return self._input_layer._dtype
        return self._layers[0]._input_dtype() if self._layers else self._dtype

    def build(self, input_shape=None):
        """``model.build((None, 784))``: build for inputs of this shape."""
        if input_shape is not None and self._graph is None:
            self._batch_size = tuple(input_shape)[0]  # (32, 784) fixes the batch, as in Keras
            self._input_shape = as_shape(tuple(input_shape)[1:])
        if self._input_shape is None:
            raise ValueError(
                f'Sequential model "{self.name}": build() needs an input shape such as (None, 784).'
            )
        self._build_layers()

    @property
    def inputs(self):
        return [self._symbolic()[0]]

    @property
    def outputs(self):
        return [self._symbolic()[-1]]

    def _symbolic(self):
        if self._graph is None:
            raise AttributeError(
                f'Sequential model "{self.name}" has no symbolic input: give input_shape= to its '
                "first layer (or start it with an Input) to use model.input and layer.output."
            )
        return self._graph

    def _is_input_list(self, inputs):
        return False

    def call(self, inputs, training=None):
        if self._input_shape is not None and inputs.shape[1:] != self._input_shape:
            check_input_shape(self.name, 0, (None, *self._input_shape), inputs.shape)
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
            if isinstance(x, (list, tuple)):  # (checked here: this loop runs every step)
                self._single_output(layer, x)  # raises
        return x

    def _single_output(self, layer, output):
        """``output`` when it is one tensor: each layer of a stack feeds the next."""
        if isinstance(output, (list, tuple)):
            raise ValueError(
                f'Sequential model "{self.name}": all layers in a Sequential model should have '
                f'a single output tensor, layer "{layer.name}" returns {len(output)} (as '
                "return_state=True or merge_mode=None make it). For multi-output layers, use "
                "the functional API: outputs = layer(inputs); Model(inputs, outputs)."
            )
        return output

    @property
    def output_names(self):
        self._require_built("output_names")
        return [self._layers[-1].name]

    def compute_output_shape(self, input_shape):
        shape = (None, *tuple(input_shape)[1:])
        for layer in self._layers:
            layer.maybe_build(shape)
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        from minidl.layers import serialize

        return {
            "name": self.name,
            "layers": [serialize(layer) for layer in self._layers],
            "build_input_shape": None if self._input_shape is None else [None, *self._input_shape],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minidl.layers import deserialize

        model = cls(name=config.get("name"))
        if config.get("build_input_shape"):
            model._input_shape = as_shape(config["build_input_shape"][1:])
        for layer_config in config["layers"]:
            model.add(deserialize(layer_config, custom_objects))
        return model


def _known_input_shape(layer):
    """The per-sample input shape a first layer already knows: its
    ``input_shape=`` argument, or the inputs it was built for (a built model,
    as in ``Sequential([pretrained_base, Dense(10)])``); else None."""
    if layer._batch_input_shape is not None:
        return layer._batch_input_shape[1:]
    if isinstance(layer, Model) and layer.built and getattr(layer, "_shapes", None):
        shapes = layer._shapes[0]
        return tuple(shapes[0])[1:] if len(shapes) == 1 else None
    return None


def _input_layer_dtype(layer):
    """The dtype of the InputLayer a Sequential makes for its first ``layer``: "string"
    for a layer that takes strings, int64 for one that maps integers to integers
    (IntegerLookup, an inverted StringLookup), the float dtype its inputs are
    converted to for another layer giving integers (Discretization), else its dtype."""
    if layer._integer_inputs == "strings":
        return "string"
    if layer.dtype in ("int32", "int64"):  # a lookup's dtype is that of its outputs
        return layer.dtype if layer._integer_inputs == "indices" else np.dtype(
            layer._input_dtype()).name
    return layer.dtype
