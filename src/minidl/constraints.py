"""Constraints: projections applied to a weight after each optimizer step.

A regularizer *discourages* large weights through the loss; a constraint
*forbids* them: right after the optimizer changes a weight ``w``, the weight is
replaced by ``constraint(w)``.  The norms are taken along ``axis`` (for a Dense
kernel of shape ``(inputs, units)``, ``axis=0`` gives one norm per unit, over
the weights coming into it), with ``eps = 1e-7`` (Keras's ``backend.epsilon()``)::

    norms = sqrt(sum(w ** 2, axis, keepdims=True))
    MaxNorm(max_value=2, axis=0)      w * clip(norms, 0, max_value) / (eps + norms)
    NonNeg()                          w * (w >= 0)
    UnitNorm(axis=0)                  w / (eps + norms)
    MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)
        desired = rate * clip(norms, min_value, max_value) + (1 - rate) * norms
                                      w * desired / (eps + norms)
    RadialConstraint()                a square Conv2D kernel (h, h, in, out) whose
                                      rings around the centre each hold one value

As in Keras, layers take them as ``kernel_constraint``, ``bias_constraint``,
``recurrent_constraint``, ... and ``Layer.add_weight(constraint=...)``; the
weight keeps it in ``variable.constraint``, and every optimizer applies it in
``apply_gradients``, after the update::

    layers.Dense(64, kernel_constraint=constraints.max_norm(3))  # "dropout + max-norm"
    layers.Conv2D(32, 3, kernel_constraint="non_neg")            # by name

Any function of a Tensor returning a Tensor (or array) of the same shape works;
subclass ``Constraint`` (``__call__`` and ``get_config``) for one that saves
with the model.  Names: the class names, their lower-case aliases
(``"max_norm"``, ``"non_neg"``, ``"unit_norm"``, ``"min_max_norm"``,
``"radial_constraint"``) and Keras's legacy ``"maxnorm"``, ``"nonneg"``, ``"unitnorm"``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minidl import ops
from minidl.errors import did_you_mean
from minidl.tensor import Tensor
from minidl.utils.object_registration import (custom_objects_in_effect, get_registered_name,
                                              get_registered_object, keras_config,
                                              names_to_look_up)

EPSILON = 1e-7  # Keras's backend.epsilon(): keeps a zero column at zero, not NaN


class Constraint:
    """Base class: ``constraint(w)`` returns the projected weight (here, ``w`` unchanged).

    Subclass it and override ``__call__`` (and ``get_config`` if ``__init__`` takes
    arguments, so that a saved model finds them again)::

        class Clip(constraints.Constraint):
            def __init__(self, limit=1.0):
                self.limit = limit
            def __call__(self, w):
                return minidl.ops.clip(w, -self.limit, self.limit)
            def get_config(self):
                return {"limit": self.limit}
    """

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_number(constraint, argument, value, low=0.0, high=math.inf):
    """``value`` unchanged (an int stays an int, as in Keras's configs) if it is a real
    number in [low, high], else a ValueError naming the constraint."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not low <= value <= high):
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ValueError(f"{constraint}: {argument} must be a number {bounds}, received {value!r}.")
    return value


def _check_axis(constraint, axis):
    """An int or a list/tuple of ints (``[0, 1, 2]`` for a Conv2D kernel's filters)."""
    def is_int(a):
        return isinstance(a, (int, np.integer)) and not isinstance(a, bool)

    if is_int(axis) or (isinstance(axis, (list, tuple)) and axis and all(map(is_int, axis))):
        return axis
    raise ValueError(
        f"{constraint}: axis must be an integer or a list of integers (the axes the norms "
        f"run over), received {axis!r}."
    )


def _norms(constraint, w, axis):
    """sqrt(sum(w ** 2, axis, keepdims=True)), or a ValueError naming the shapes."""
    if isinstance(axis, int) or not isinstance(axis, (list, tuple)):
        axes = (int(axis),)
    else:
        axes = tuple(int(a) for a in axis)
    if any(not -w.ndim <= a < w.ndim for a in axes):
        raise ValueError(
            f"{type(constraint).__name__}(axis={constraint.axis!r}) cannot apply to a weight of "
            f"shape {w.shape} ({w.ndim} axes); pass an axis of the weight."
        )
    return ops.sqrt(ops.sum(ops.mul(w, w), axis=axes, keepdims=True))


def _rescaled(w, desired, norms):
    """w * desired / (eps + norms): each slice scaled from its norm to the desired one."""
    return ops.mul(w, ops.div(desired, ops.add(norms, EPSILON)))


class MaxNorm(Constraint):
    """Each slice along ``axis`` keeps a norm of at most ``max_value``; shorter ones
    stay (almost: ``norm / (norm + 1e-7)``) as they are."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_number("MaxNorm", "max_value", max_value)
        self.axis = _check_axis("MaxNorm", axis)

    def __call__(self, w):
        w = ops.as_tensor(w)
        norms = _norms(self, w, self.axis)
        return _rescaled(w, ops.clip(norms, 0, self.max_value), norms)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become 0 (``w * (w >= 0)``: a negative one reads -0.0, as in Keras)."""

    def __call__(self, w):
        w = ops.as_tensor(w)
        return ops.mul(w, (w.data >= 0).astype(w.dtype))


class UnitNorm(Constraint):
    """Each slice along ``axis`` is scaled to norm 1 (a slice of zeros stays zero)."""

    def __init__(self, axis=0):
        self.axis = _check_axis("UnitNorm", axis)

    def __call__(self, w):
        w = ops.as_tensor(w)
        return ops.div(w, ops.add(_norms(self, w, self.axis), EPSILON))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Each slice's norm moves into [min_value, max_value]: all the way with
    ``rate=1.0``, a fraction ``rate`` of the way at each step with a smaller rate."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_number("MinMaxNorm", "min_value", min_value)
        self.max_value = _check_number("MinMaxNorm", "max_value", max_value, low=min_value)
        self.rate = _check_number("MinMaxNorm", "rate", rate, high=1.0)
        self.axis = _check_axis("MinMaxNorm", axis)

    def __call__(self, w):
        w = ops.as_tensor(w)
        norms = _norms(self, w, self.axis)
        clipped = ops.clip(norms, self.min_value, self.max_value)
        desired = ops.add(ops.mul(clipped, self.rate), ops.mul(norms, 1 - self.rate))
        return _rescaled(w, desired, norms)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class RadialConstraint(Constraint):
    """A Conv2D kernel ``(h, h, in, out)`` made the same on each ring around its centre.

    Keras builds each ``(h, h)`` slice from the centre out: the centre (one value
    for odd ``h``, a 2x2 block for even ``h``) takes ``w[c - 1, c - 1]`` with
    ``c = h // 2``; ring ``r`` takes the diagonal value ``w[c + r, c + r]``
    (``w[c + r - 1, c + r - 1]`` for odd ``h``).  For 4x4: centre ``w[1, 1]``,
    border ``w[3, 3]``.  The kernel must be square, at least 2x2.
    """

    def __call__(self, w):
        w = ops.as_tensor(w)
        if w.ndim != 4 or w.shape[0] != w.shape[1] or w.shape[0] < 2:
            raise ValueError(
                "RadialConstraint applies to a square Conv2D kernel of shape (rows, rows, "
                f"input_depth, output_depth) with rows >= 2; received a weight of shape {w.shape}."
            )
        size = w.shape[0]
        centre = size // 2
        odd = size % 2
        rows = np.arange(size)
        ring = np.maximum(np.abs(rows[:, None] - (size - 1) / 2),
                          np.abs(rows[None, :] - (size - 1) / 2))
        ring = np.floor(ring).astype(int) if odd else np.floor(ring + 0.5).astype(int) - 1
        source = np.where(ring == 0, centre - 1, centre + ring - odd)  # the diagonal entry
        return Tensor(w.data[source, source])

    def get_config(self):
        return {}


# Keras's aliases: max_norm(3) is MaxNorm(3); the legacy lower-case names too.
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm
radial_constraint = RadialConstraint

_BY_CLASS_NAME = {cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm,
                                                MinMaxNorm, RadialConstraint)}
_BY_NAME = {**_BY_CLASS_NAME, "max_norm": MaxNorm, "maxnorm": MaxNorm, "non_neg": NonNeg,
            "nonneg": NonNeg, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
            "min_max_norm": MinMaxNorm, "radial_constraint": RadialConstraint}


def get(identifier):
    """A constraint from a name (``"max_norm"``: the class's defaults), a config dict,
    a Constraint (class or object), or any function of a Tensor; None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret constraint function identifier: {identifier!r} (of type "
        f"{type(identifier).__name__}); pass a name such as 'max_norm', a Constraint or a "
        "function of a Tensor."
    )


def serialize(constraint):
    """Keras 2's form: ``{"module", "class_name", "config", "registered_name"}`` for a
    Constraint; a function by its name, as tf_keras writes it (found again through
    ``custom_objects``); None for None."""
    if constraint is None:
        return None
    if hasattr(constraint, "get_config"):
        return keras_config(type(constraint), constraint.get_config(), "keras.constraints")
    if callable(constraint) and hasattr(constraint, "__name__"):
        return {"module": "builtins", "class_name": "function",
                "config": get_registered_name(constraint), "registered_name": "function"}
    raise TypeError(
        f"Cannot serialize the constraint {constraint!r}: use a Constraint subclass with "
        "get_config(), or a named function."
    )


def _unknown(name):
    hint = did_you_mean(name, _BY_NAME, cutoff=0.5) or (
        " If it is your own, give it in custom_objects (or register it).")
    return ValueError(f"Unknown constraint: {name!r}.{hint} minidl's are "
                      f"{', '.join(_BY_CLASS_NAME)} and their lower-case aliases.")


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize`` (Keras 2's and Keras 3's forms, and a bare name);
    ``custom_objects`` maps names to your own constraint classes or functions."""
    custom_objects = custom_objects_in_effect(custom_objects)
    if config is None:
        return None
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects, _BY_NAME)
        if found is None:
            raise _unknown(config)
        return found() if isinstance(found, type) else found
    if not isinstance(config, dict):
        return get(config)
    if config.get("class_name") == "function" and isinstance(config.get("config"), str):
        return deserialize(config["config"], custom_objects)  # a function, by its name
    cls = None
    for key in names_to_look_up(config):
        cls = custom_objects.get(key) or _BY_NAME.get(key)
        if cls is not None:
            break
    if cls is None:
        raise _unknown(config.get("class_name"))
    arguments = config.get("config") or {}
    return cls.from_config(arguments) if hasattr(cls, "from_config") else cls(**arguments)
