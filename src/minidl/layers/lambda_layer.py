"""``Lambda(function)``: a layer that applies any function of Tensors.

``Lambda(lambda x: x ** 2)`` squares its input; the function is called with
the input Tensor (or list of Tensors), plus ``training=`` when it takes that
argument, plus the ``arguments`` dict as keyword arguments, and may use any
minidl op, so gradients flow through it.  ``output_shape`` (without the
batch axis, or a function of the input shape with it) says what it returns;
by default minidl finds out by running the function once on zeros.

``mask`` (as in Keras 2): the output's timestep mask.  A function
``mask(inputs, input_mask)`` returning a boolean (batch, steps) array or None,
or a fixed array; by default (None) the layer drops its input's mask, as
Keras's Lambda does.

A Lambda layer cannot be saved in a model file.  Keras stores the function's
Python bytecode, and loading such a file runs that code: a file from
someone else could do anything.  minidl's files hold data only (JSON and
arrays), so ``model.save`` refuses a model with a Lambda layer and says what
to do instead: write the function as a small Layer subclass with
``get_config`` (and load with ``custom_objects``), or save the weights only.
"""

from __future__ import annotations

import inspect

from minidl.layers.base import Layer, as_shape
from minidl.tensor import Tensor


class Lambda(Layer):
    """Wraps ``function`` as a layer; see the module docstring."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        label = f'Lambda layer "{self.name}"'
        if not callable(function):
            raise TypeError(f"{label}: function must be callable, received {function!r}.")
        if mask is not None and not callable(mask) and not hasattr(mask, "shape"):
            raise TypeError(f"{label}: mask must be a function (inputs, input_mask) -> mask, an "
                            f"array or None, received {mask!r}.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"{label}: arguments must be a dict of keyword arguments for the "
                            f"function, received {arguments!r}.")
        if output_shape is not None and not callable(output_shape):
            output_shape = as_shape(output_shape, f"{label}: output_shape")
        self.function = function
        self.mask = mask
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            parameters = {}
        self._passes_training = "training" in parameters

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._passes_training:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        if isinstance(outputs, (list, tuple)):
            return [self._as_tensor(o) for o in outputs]
        return self._as_tensor(outputs)

    def compute_mask(self, inputs, mask=None):
        """As Keras 2: ``self.mask(inputs, mask)`` when it is a function, else ``self.mask``."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def _as_tensor(self, value):
        return value if isinstance(value, Tensor) else Tensor(value, dtype=self._dtype)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = (input_shape[0] if isinstance(input_shape, list) else input_shape)[0]
        return (batch, *self._output_shape)

    def get_config(self):
        raise ValueError(
            f'Lambda layer "{self.name}": its function cannot be saved safely in minidl\'s format. '
            "A model file holds data only; saving a Python function would mean running its code "
            "when the file is loaded, which minidl never does. Instead, write the function as a "
            "Layer subclass (call() does the computation, get_config() returns its arguments) and "
            "load the model with custom_objects={'MyLayer': MyLayer}; or save only the weights "
            "with model.save_weights() and rebuild the model in code before load_weights()."
        )
