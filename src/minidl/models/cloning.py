"""``clone_model``: the same architecture, new layers, new weights (Keras 2's).

    copy = minidl.models.clone_model(model)        # freshly initialised weights
    copy.set_weights(model.get_weights())          # ...if you want the same numbers

Each layer is rebuilt from its config, ``type(layer).from_config(layer.get_config())``,
so its weights are created and initialised again, as a new layer's would be.
Then the model's layer calls are replayed on new ``Input`` placeholders:

* Sequential: the cloned layers in the same order, in a new ``Sequential``;
* functional: the calls in the order the model runs them; a layer called
  several times (shared) is cloned once and called as many times, so the copy
  shares it the same way; a model used as a layer is cloned as one layer (from
  its config, so its own layers are new too);
* subclassed: ``type(model).from_config(model.get_config())``, which needs a
  ``get_config`` (a subclassed model's layers are Python code, not data).

``clone_function(layer)`` replaces the default rebuild for every layer but the
inputs (return the layer itself to share it, or a different layer);
``input_tensors`` builds the copy on placeholders you already have.
"""

from __future__ import annotations

import inspect

from minidl.layers import check_config_complete
from minidl.layers.base import Layer
from minidl.layers.input import InputLayer
from minidl.layers.node import KerasTensor, flat_outputs
from minidl.models.functional import Functional
from minidl.models.model import Model
from minidl.models.sequential import Sequential


def clone_layer(layer):
    """A new layer from ``layer``'s config: same settings, new weights."""
    check_config_complete(layer)
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None):
    """A copy of a Sequential or functional ``model`` with new layers and freshly
    initialised weights (see the module docstring); uncompiled."""
    if not isinstance(model, Model):
        raise ValueError(f"Expected `model` argument to be a `Model` instance. Received: model={model!r}")
    if clone_function is not None and not callable(clone_function):
        raise ValueError(
            "Expected `clone_function` argument to be a callable. "
            f"Received: clone_function={clone_function!r}"
        )
    layer_fn = _checked(clone_function or clone_layer)
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, layer_fn)
    if isinstance(model, Functional) and (
            type(model).get_config is Functional.get_config or clone_function or input_tensors):
        return _clone_functional(model, input_tensors, layer_fn)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "Arguments clone_function and input_tensors are only supported for Sequential models "
            f"or Functional models. Received model of type '{type(model).__name__}', with "
            f"clone_function={clone_function!r} and input_tensors={input_tensors!r}"
        )
    try:
        config = model.get_config()
    except NotImplementedError:
        raise NotImplementedError(
            f'clone_model(): model "{model.name}" is a subclassed {type(model).__name__}, whose '
            "layers are Python code rather than a config. Implement get_config() (and "
            "from_config() if it needs more than cls(**config)) to clone it, or make a new "
            f"{type(model).__name__}(...) and copy the weights with set_weights()."
        ) from None
    return type(model).from_config(config)


def _checked(layer_fn):
    """``layer_fn``, its result checked to be a layer (named in the error otherwise)."""
    def clone(layer):
        new = layer_fn(layer)
        if not isinstance(new, Layer):
            raise TypeError(
                f'clone_function must return a layer; for layer "{layer.name}" it returned '
                f"{new!r} of type {type(new).__name__}."
            )
        return new

    return clone


def _clone_input_layer(layer):
    return InputLayer.from_config(layer.get_config())


def _as_tensor_list(input_tensors):
    tensors = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
    for tensor in tensors:
        if not isinstance(tensor, KerasTensor):
            raise TypeError(
                "clone_model(input_tensors=...) takes placeholders made by Input(shape=...) "
                f"(minidl has no Input(tensor=...)), received {tensor!r} of type "
                f"{type(tensor).__name__}."
            )
    return tensors


def _clone_sequential(model, input_tensors, layer_fn):
    """The cloned layers, in order, in a new Sequential (on ``input_tensors``' Input if given)."""
    layers = [layer_fn(layer) for layer in model.layers]
    if input_tensors is None:
        start = [] if model._input_layer is None else [_clone_input_layer(model._input_layer)]
        return Sequential(start + layers, name=model.name)
    tensors = _as_tensor_list(input_tensors)
    if len(tensors) != 1:
        raise ValueError(
            "To clone a `Sequential` model, we expect at most one tensor as part of "
            f"`input_tensors`. Received: input_tensors={input_tensors!r}"
        )
    if not isinstance(tensors[0].layer, InputLayer):
        raise ValueError(
            "Cannot clone a `Sequential` model on top of a tensor that comes from a layer other "
            "than an `InputLayer`. Use the Functional API instead. "
            f"Received: input_tensors={input_tensors!r}"
        )
    return Sequential([tensors[0].layer] + layers, name=model.name)


def _clone_functional(model, input_tensors, layer_fn):
    """Replay the model's layer calls with cloned layers on new inputs."""
    if input_tensors is None:
        new_inputs = [_clone_input_layer(t.layer).output for t in model.inputs]
    else:
        new_inputs = _as_tensor_list(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f'clone_model(): model "{model.name}" has {len(model.inputs)} input(s) '
                f"{[t.shape for t in model.inputs]}, input_tensors gave {len(new_inputs)}."
            )
    tensors = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones = {}  # id(layer) -> its clone: a shared layer is cloned once
    for node in model._nodes:
        layer = node.layer
        if id(layer) not in clones:
            clones[id(layer)] = layer_fn(layer)
        args = [tensors[id(t)] for t in node.inputs]
        out = clones[id(layer)](node.call_inputs(args), *node.call_args,
                                **node.call_kwargs)
        for old, new in zip(node.outputs, flat_outputs(out)):
            tensors[id(old)] = new
    outputs = [tensors[id(t)] for t in model.outputs]
    cls = type(model) if _functional_constructor(type(model)) else Functional
    return cls(inputs=new_inputs if len(new_inputs) > 1 else new_inputs[0],
               outputs=outputs if len(outputs) > 1 else outputs[0], name=model.name)


def _functional_constructor(cls):
    """Whether ``cls(inputs, outputs, name=...)`` builds a functional model of that
    class (a Model subclass with no ``__init__`` of its own, say), as Keras checks."""
    return list(inspect.signature(cls.__init__).parameters)[1:3] == ["inputs", "outputs"]
