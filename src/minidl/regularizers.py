"""Regularizers: penalties on a layer's weights (or outputs) added to the loss.

A large weight lets a network fit the noise of its training data; a penalty
that grows with the weights keeps them small, trading a little training loss
for a model that generalises better.  For a weight ``x``::

    L1(l1)        l1 * sum(|x|)                 (pushes weights to exactly 0)
    L2(l2)        l2 * sum(x ** 2)              ("weight decay"; no 1/2 factor)
    L1L2(l1, l2)  l1 * sum(|x|) + l2 * sum(x ** 2)

As in Keras, a layer takes them as ``kernel_regularizer``, ``bias_regularizer``
and ``activity_regularizer`` (a penalty on the layer's output, divided by the
batch size)::

    layers.Dense(64, kernel_regularizer=regularizers.l2(1e-4))
    layers.Conv2D(32, 3, kernel_regularizer="l2")      # by name: l2=0.01

The penalties are in ``layer.losses`` and ``model.losses`` (computed again
from the current weights each time they are read), and ``fit`` minimises
``loss + sum(model.losses)``.

Any function of a Tensor that returns a scalar Tensor works as a regularizer;
subclass ``Regularizer`` (``__call__`` and ``get_config``) for one that saves
with the model.  Names: ``"l1"``, ``"l2"`` and ``"l1_l2"`` (each factor 0.01),
or the class names ``"L1"``, ``"L2"``, ``"L1L2"`` (Keras's ``L1L2()`` defaults
to 0, ``l1_l2()`` to 0.01).
"""

from __future__ import annotations

import math
import numbers

from minidl import ops
from minidl.errors import did_you_mean
from minidl.tensor import Tensor
from minidl.utils.object_registration import (custom_objects_in_effect, get_registered_name,
                                              get_registered_object, keras_config,
                                              names_to_look_up)


def _check_factor(regularizer, argument, value):
    """``value`` as a float, or a ValueError naming the regularizer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(
            f"{regularizer}: {argument} must be a finite number (the penalty's factor), "
            f"received {value!r}."
        )
    return float(value)


class Regularizer:
    """Base class: ``regularizer(x)`` returns a scalar penalty for the Tensor ``x``."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_config(), so a model using it "
            "cannot be saved: return its constructor arguments as a dict."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _l1_penalty(x, factor):
    """factor * sum(|x|)."""
    return ops.mul(ops.sum(ops.abs(x)), factor)


def _l2_penalty(x, factor):
    """factor * sum(x ** 2)."""
    return ops.mul(ops.sum(ops.mul(x, x)), factor)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``; a factor of 0 leaves its term out."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("L1L2", "l1", 0.0 if l1 is None else l1)
        self.l2 = _check_factor("L1L2", "l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        x = ops.as_tensor(x)
        terms = []
        if self.l1:
            terms.append(_l1_penalty(x, self.l1))
        if self.l2:
            terms.append(_l2_penalty(x, self.l2))
        if not terms:
            return Tensor(0.0, dtype=x.dtype)
        return terms[0] if len(terms) == 1 else ops.add(*terms)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        self.l1 = _check_factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x):
        return _l1_penalty(ops.as_tensor(x), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2=0.01):
        self.l2 = _check_factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x):
        return _l2_penalty(ops.as_tensor(x), self.l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """An ``L1L2`` regularizer with both factors 0.01 by default (the class's are 0)."""
    return L1L2(l1=l1, l2=l2)


# Keras's lower-case aliases: l1(0.001) is L1(0.001).
l1, l2 = L1, L2

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}
_BY_CLASS_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from a name (``"l2"``), a config dict, a Regularizer (class or
    object), or any function of a Tensor; ``None`` stays None (no penalty)."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        custom = get_registered_object(identifier)  # your own, registered or in a scope
        if identifier not in _BY_NAME and custom is not None:
            return custom() if isinstance(custom, type) else custom
        if identifier not in _BY_NAME:
            hint = did_you_mean(identifier, _BY_NAME, cutoff=0.5) or (
                " If it is your own, pass the function or object itself, or give it in "
                "custom_objects when loading.")
            raise ValueError(
                f"Unknown regularizer {identifier!r}; valid names are "
                f"{sorted(_BY_NAME)}.{hint}"
            )
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"regularizer must be a name such as 'l2', a Regularizer or a function of a Tensor, "
        f"received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize(regularizer):
    """``{"module", "class_name", "config", "registered_name"}`` for a Regularizer (as
    Keras 2: ``keras_config``), the name of your own function (found again through
    ``custom_objects``), None for None."""
    if regularizer is None:
        return None
    if isinstance(regularizer, Regularizer):
        return keras_config(type(regularizer), regularizer.get_config(), "keras.regularizers")
    if callable(regularizer) and hasattr(regularizer, "__name__"):
        return get_registered_name(regularizer)
    raise TypeError(
        f"Cannot serialize the regularizer {regularizer!r}: use a Regularizer subclass "
        "with get_config(), or a named function."
    )


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize``; ``custom_objects`` maps names to your own
    regularizer classes or functions."""
    custom_objects = custom_objects_in_effect(custom_objects)
    if config is None:
        return None
    if isinstance(config, str):
        return custom_objects[config] if config in custom_objects else get(config)
    if not isinstance(config, dict):
        return get(config)
    if config.get("class_name") == "function" and isinstance(config.get("config"), str):
        return deserialize(config["config"], custom_objects)  # Keras 2's form of a function
    name = config.get("class_name")
    cls = None
    for key in names_to_look_up(config):
        cls = custom_objects.get(key) or _BY_CLASS_NAME.get(key)
        if cls is not None:
            break
    if cls is None:
        raise ValueError(
            f"Unknown regularizer class {name!r} in {config!r}; minidl's are "
            f"{sorted(_BY_CLASS_NAME)}. If it is your own, pass custom_objects={{{name!r}: ...}}."
        )
    arguments = config.get("config", {})
    return cls.from_config(arguments) if hasattr(cls, "from_config") else cls(**arguments)
