"""``OpsLayer``: a ``keras.ops`` function called on symbolic tensors, as a layer.

Building a functional model, Keras 3 code calls ops on placeholders::

    x = keras.ops.expand_dims(inputs, -1)
    y = keras.ops.concatenate([a, b], axis=-1)

Each such call becomes an ``OpsLayer`` (made by ``minidl.ops._keras_api``): it
remembers the op's name (``"expand_dims"``) and its arguments, with the
symbolic tensors among them replaced by markers ``{"class_name":
"__keras_tensor__", "index": i}`` (the i-th input of the layer); when the
model runs, the markers are filled with the real tensors and the op runs.
The layer has no weights, and its output shape is found by running the op on
zeros.  Its config holds the op's name (one of ``minidl.ops``'s public names,
looked up when loading: a file names an op, it cannot bring code) and the
other arguments as data, as Keras 3 writes them: numbers, strings, lists;
tuples, slices and arrays as ``{"class_name": "__tuple__" / "__slice__" /
"__numpy__", "config": {...}}``.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from minidl.layers.base import Layer, unique_name
from minidl.layers.node import KerasTensor
from minidl.tensor import Tensor

TENSOR = "__keras_tensor__"
ARRAY = "__numpy__"
SLICE = "__slice__"
TUPLE = "__tuple__"
ELLIPSIS = "__ellipsis__"


class OpsLayer(Layer):
    """``minidl.ops.<function>(**arguments)`` with the layer's inputs in the marked places."""

    def __init__(self, function, arguments, **kwargs):
        from minidl import ops

        if function not in ops.__all__ or function in ("as_tensor", "image", "linalg"):
            raise ValueError(f"OpsLayer: function must name one of minidl.ops's functions, "
                             f"received {function!r}.")
        if not isinstance(arguments, dict):
            raise TypeError(f"OpsLayer: arguments must be a dict of the op's arguments by name, "
                            f"received {arguments!r}.")
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(function)
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments
        self._inputs_count = _count_markers(arguments)

    def call(self, inputs):
        from minidl import ops

        tensors = list(inputs) if self._inputs_count > 1 else [inputs]
        result = getattr(ops, self.function)(**_filled(self.arguments, tensors))
        parts = list(result) if isinstance(result, (list, tuple)) else [result]
        if not all(isinstance(part, Tensor) for part in parts):
            raise TypeError(
                f'Layer "{self.name}" (keras.ops.{self.function} on a symbolic tensor) gives '
                f"{', '.join(type(p).__name__ for p in parts)}, not float Tensors: integers and "
                "booleans do not travel between minidl's layers. Use the result inside a "
                "custom layer's call(), or cast it: keras.ops.cast(..., 'float32')."
            )
        return parts if isinstance(result, (list, tuple)) else result

    def get_config(self):
        return {**super().get_config(), "function": self.function, "arguments": self.arguments}


def apply_op_layer(name, args, kwargs):
    """``minidl.ops.<name>(*args, **kwargs)`` on symbolic tensors: a new OpsLayer called
    on them (a clear TypeError when an argument cannot be stored in a model)."""
    from minidl import ops

    function = getattr(ops, name)
    bound = inspect.signature(function).bind(*args, **kwargs)
    tensors = []
    arguments = {key: _storable(value, tensors, name, key)
                  for key, value in bound.arguments.items()}
    if not tensors:  # the symbolic tensor was read some other way: not ours to handle
        raise TypeError(f"keras.ops.{name} read a symbolic tensor that is not among its "
                        "arguments; compute inside a layer's call() instead.")
    layer = OpsLayer(name, arguments)
    return layer(tensors if len(tensors) > 1 else tensors[0])


def _storable(value, tensors, op, argument):
    """``value`` as config data, each KerasTensor replaced by a marker (and kept in
    ``tensors``); anything else that a config cannot hold is a TypeError."""
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return {"class_name": TENSOR, "index": len(tensors) - 1}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, np.ndarray):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (Tensor, np.ndarray)):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        return {"class_name": ARRAY, "config": {"value": array.tolist(), "dtype": array.dtype.name}}
    if isinstance(value, (list, tuple)):
        items = [_storable(item, tensors, op, argument) for item in value]
        return {"class_name": TUPLE, "config": {"value": items}} if isinstance(value, tuple) \
            else items
    if isinstance(value, slice):
        return {"class_name": SLICE, "config": {"start": _storable(value.start, tensors, op, argument),
                                                 "stop": _storable(value.stop, tensors, op, argument),
                                                 "step": _storable(value.step, tensors, op, argument)}}
    if value is Ellipsis:
        return {"class_name": ELLIPSIS}
    if isinstance(value, (np.dtype, type)):
        return np.dtype(value).name
    raise TypeError(
        f"keras.ops.{op} was called on a symbolic tensor (a functional model under "
        f"construction) with {argument}={value!r}, which a model cannot store. Compute it "
        "inside a layer: layers.Lambda(lambda t: keras.ops." + op + "(t, ...))(tensor), or a "
        "custom layer's call()."
    )


def _filled(value, tensors):
    """The stored ``value`` with markers replaced by ``tensors`` and arrays rebuilt."""
    if isinstance(value, dict) and value.get("class_name") == TENSOR:
        return tensors[value["index"]]
    if isinstance(value, dict) and value.get("class_name") == ARRAY:
        dtype = np.dtype(value["config"]["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"OpsLayer: a stored array must hold numbers, its dtype is {dtype}.")
        return np.asarray(value["config"]["value"], dtype=dtype)
    if isinstance(value, dict) and value.get("class_name") == SLICE:
        bounds = value["config"]
        return slice(*(_filled(bounds[key], tensors) for key in ("start", "stop", "step")))
    if isinstance(value, dict) and value.get("class_name") == ELLIPSIS:
        return Ellipsis
    if isinstance(value, dict) and value.get("class_name") == TUPLE:
        return tuple(_filled(item, tensors) for item in value["config"]["value"])
    if isinstance(value, dict):
        return {key: _filled(item, tensors) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, tensors) for item in value]
    return value


def _count_markers(value):
    if isinstance(value, dict):
        if value.get("class_name") == TENSOR:
            return 1
        return sum(_count_markers(item) for item in value.values())
    if isinstance(value, list):
        return sum(_count_markers(item) for item in value)
    return 0
