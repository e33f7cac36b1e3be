"""Activation functions, by name or as functions on Tensors.

An activation is applied elementwise after a layer's affine map
(``y = act(x @ W + b)``).  Each function here takes a Tensor and returns a
Tensor; the math and the gradient live in ``minidl.ops``.

``get("relu")`` and ``get(relu)`` both give the function; ``serialize`` gives
back its name, so a layer's config can store it as a string.

============ ======================================= ===========================
name         formula                                 typical use
============ ======================================= ===========================
linear       x                                       regression outputs
relu         max(0, x)                               hidden layers
sigmoid      1 / (1 + exp(-x))                       binary outputs
tanh         (exp(x) - exp(-x)) / (exp(x) + exp(-x)) hidden layers
softmax      exp(x_i) / sum_j exp(x_j)  (last axis)  class probabilities
log_softmax  log(softmax(x))                         log-probabilities
elu          x if x > 0 else alpha * (exp(x) - 1)    hidden layers
selu         scale * elu(x, alpha), fixed constants  self-normalizing networks
leaky_relu   x if x > 0 else alpha * x               hidden layers
relu6        min(max(0, x), 6)                       mobile networks
softplus     log(1 + exp(x))                         smooth relu
softsign     x / (1 + abs(x))                        smooth tanh
gelu         x * Phi(x), Phi the normal CDF          transformers
swish, silu  x * sigmoid(x)                          deep networks
mish         x * tanh(softplus(x))                   deep networks
hard_sigmoid clip(0.2 * x + 0.5, 0, 1)               cheap sigmoid
exponential  exp(x)                                  positive outputs (rates)
============ ======================================= ===========================

``silu`` is another name for ``swish`` (``serialize`` gives "swish", as Keras).
"""

from __future__ import annotations

from minidl import ops
from minidl.errors import did_you_mean
from minidl.utils.object_registration import get_registered_name, get_registered_object


def linear(x):
    """The identity: ``linear(x) = x``."""
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit: ``max(0, x)``, with Keras's options.

    ``x`` above ``threshold`` (capped at ``max_value`` when given), and
    ``alpha * (x - threshold)`` at or below it (0 with the default alpha).
    """
    if max_value is None and threshold == 0:
        return ops.relu(x) if alpha == 0 else ops.leaky_relu(x, alpha)
    return ops.rectified_linear(x, alpha, max_value, threshold)


def sigmoid(x):
    """Logistic sigmoid: ``1 / (1 + exp(-x))``, values in (0, 1)."""
    return ops.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent, values in (-1, 1)."""
    return ops.tanh(x)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``: each row becomes a probability distribution."""
    return ops.softmax(x, axis)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return ops.elu(x, alpha)


def leaky_relu(x, alpha=0.2):
    """``x`` if ``x > 0`` else ``alpha * x`` (a small slope keeps negative units alive)."""
    return ops.leaky_relu(x, alpha)


def softplus(x):
    """``log(1 + exp(x))``, a smooth version of relu."""
    return ops.softplus(x)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, computed without overflow."""
    return ops.log_softmax(x, axis)


def selu(x):
    """Scaled exponential linear unit: ``scale * elu(x, alpha)`` with
    alpha = 1.67326324 and scale = 1.05070098 (use with lecun_normal weights)."""
    return ops.selu(x)


def relu6(x):
    """``min(max(0, x), 6)``."""
    return ops.rectified_linear(x, max_value=6.0)


def softsign(x):
    """``x / (1 + |x|)``, values in (-1, 1)."""
    return ops.softsign(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit: ``x * Phi(x)``, Phi the standard normal CDF
    (``approximate=True``: its tanh approximation)."""
    return ops.gelu(x, approximate)


def swish(x):
    """``x * sigmoid(x)`` (also known as silu)."""
    return ops.swish(x)


def mish(x):
    """``x * tanh(softplus(x))``."""
    return ops.mish(x)


def hard_sigmoid(x):
    """A piecewise-linear sigmoid, Keras 2's: 0 below -2.5, 1 above 2.5,
    ``0.2 * x + 0.5`` between."""
    return ops.hard_sigmoid(x)


def exponential(x):
    """``exp(x)``."""
    return ops.exp(x)


_BY_NAME = {
    fn.__name__: fn
    for fn in (linear, relu, sigmoid, tanh, softmax, elu, leaky_relu, softplus, log_softmax,
               selu, relu6, softsign, gelu, swish, mish, hard_sigmoid, exponential)
}
_ALIASES = {"silu": swish}


def get(identifier):
    """The activation function for ``identifier``.

    ``None`` means linear; a string is looked up by name (then among your own
    functions, registered or in a ``custom_object_scope``); a callable is
    returned as it is (so you may pass your own function of a Tensor).
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        found = _BY_NAME.get(identifier) or _ALIASES.get(identifier) or get_registered_object(
            identifier)
        if found is None:
            raise ValueError(_unknown_message(identifier))
        return found
    if callable(identifier):
        return identifier
    raise TypeError(
        f"activation must be a name (one of {sorted(_BY_NAME)}) or a function, "
        f"received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize(activation):
    """The name of an activation function (for your own functions, the name
    ``register_keras_serializable`` gave it, else its ``__name__``)."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    if hasattr(activation, "__name__"):
        return get_registered_name(activation)
    return repr(activation)


def deserialize(name, custom_objects=None):
    """The inverse of ``serialize``: minidl's names, then your own functions
    (``custom_objects``, registered, or in a ``custom_object_scope``)."""
    if isinstance(name, str) and name not in _BY_NAME and name not in _ALIASES:
        found = get_registered_object(name, custom_objects)
        if found is not None:
            return found
    return get(name)


def is_builtin(activation):
    """True when ``activation`` is one of the functions of this module."""
    return any(fn is activation for fn in _BY_NAME.values())


def _unknown_message(name):
    names = sorted([*_BY_NAME, *_ALIASES])
    hint = did_you_mean(name, names) or (
        " If it is your own function, pass the function itself, give it in custom_objects= "
        "(or a custom_object_scope), or decorate it with "
        "@minidl.utils.register_keras_serializable().")
    return f"Unknown activation {name!r}; valid names are {names}.{hint}"
