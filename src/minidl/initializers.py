"""Initializers: how a layer's weights get their first values.

Why it matters: if the weights start too large, activations and gradients
grow layer after layer; too small, and they fade away.  The "variance
scaling" family picks the spread from the layer's size so that the variance
of the signal stays about the same through the network:

    n = fan_in, fan_out or (fan_in + fan_out) / 2     (``mode``)
    variance = scale / n
    uniform:           U(-limit, limit), limit = sqrt(3 * scale / n)
    truncated normal:  N(0, sigma) with draws beyond 2 sigma redrawn,
                       sigma = sqrt(scale / n) / 0.8796 (the redraws shrink
                       the spread by that factor, so it is put back)

For a Dense kernel (in, out), fan_in = in and fan_out = out; for a Conv2D
kernel (kh, kw, in, out), both are multiplied by kh * kw.

===================== ====================================================
glorot_uniform        scale 1, fan_avg, uniform (Keras's default kernel)
glorot_normal         scale 1, fan_avg, truncated normal
he_normal / uniform   scale 2, fan_in (made for relu layers)
random_normal         N(0, 0.05)
random_uniform        U(-0.05, 0.05)
orthogonal            a random orthogonal matrix (recurrent kernels: h U
                      keeps the length of h, so the state neither explodes
                      nor vanishes through the steps at the start)
zeros / ones          constants (biases, batch-norm statistics)
===================== ====================================================

Random draws come from ``minidl.random.get_generator()`` (so
``minidl.utils.set_random_seed`` makes them repeatable), or from a
generator of their own when you pass ``seed=``.
"""

from __future__ import annotations

import math

import numpy as np

from minidl import random
from minidl.errors import did_you_mean
from minidl.utils.object_registration import (get_registered_object, keras_config,
                                              names_to_look_up)

_TRUNCATED_STDDEV_FIX = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight of ``shape`` (see the module docstring)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: ``initializer(shape) -> ndarray`` of float32."""

    def __call__(self, shape, dtype=np.float32):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Random(Initializer):
    """An initializer that draws random numbers (optionally from its own seed)."""

    def __init__(self, seed=None):
        self.seed = seed

    def _generator(self):
        if self.seed is not None:
            return np.random.default_rng(self.seed)
        return random.get_generator()

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=np.float32):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=np.float32):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=np.float32):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Random):
    """Draws from N(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=np.float32):
        return self._generator().normal(self.mean, self.stddev, shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Draws from U(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=np.float32):
        return self._generator().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(generator, shape, stddev):
    """N(0, stddev) with every draw outside [-2 stddev, 2 stddev] redrawn."""
    values = generator.normal(0.0, stddev, shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = generator.normal(0.0, stddev, int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


class TruncatedNormal(_Random):
    """N(mean, stddev), draws further than two stddev from the mean redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=np.float32):
        return (self.mean + _truncated_normal(self._generator(), shape, self.stddev)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Random):
    """Spread chosen from the weight's size; see the module docstring."""

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, received {scale}.")
        if mode not in self.MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self.MODES}, received {mode!r}.")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {self.DISTRIBUTIONS}, "
                f"received {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=np.float32):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        generator = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = generator.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(generator, shape, math.sqrt(variance) / _TRUNCATED_STDDEV_FIX)
        else:
            values = generator.normal(0.0, math.sqrt(variance), shape)
        return values.astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: truncated normal with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """He normal: truncated normal with variance 2 / fan_in."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """He uniform: U(-limit, limit), limit = sqrt(6 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class Orthogonal(_Random):
    """A random orthogonal matrix times ``gain`` (Keras's recurrent_initializer).

    A weight of shape (..., cols) is seen as a (rows, cols) matrix, rows the
    product of the other axes.  Draw A ~ N(0, 1) of shape (max, min) of the
    two, factor A = QR; Q (its columns orthonormal) with each column's sign
    set by diag(R) is uniformly distributed among orthogonal matrices.  When
    rows < cols it is transposed, so the rows are orthonormal instead.
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=np.float32):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: the weight needs at least 2 axes, received shape {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._generator().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform, "orthogonal": Orthogonal,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}
# Keras 2's older short names (Embedding's default is "uniform").
_ALIASES = {"uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros}

# Keras's short aliases for the same initializers.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform = HeNormal, HeUniform
orthogonal = Orthogonal


def get(identifier):
    """An initializer from a name (``"he_normal"`` or ``"HeNormal"``), a config
    dict, an Initializer, or any callable ``f(shape, dtype)``."""
    if identifier is None:
        return None
    custom = get_registered_object(identifier) if isinstance(identifier, str) else None
    if custom is not None:  # your own, registered or in a custom_object_scope
        return custom() if isinstance(custom, type) else custom
    if isinstance(identifier, str):
        cls = (_BY_NAME.get(identifier) or _BY_CLASS_NAME.get(identifier)
               or _ALIASES.get(identifier))
        if cls is None:
            raise ValueError(
                f"Unknown initializer {identifier!r}; valid names are {sorted(_BY_NAME)}."
                f"{did_you_mean(identifier, _BY_NAME)}"
            )
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"initializer must be a name, an Initializer or a function, "
        f"received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize(initializer):
    """``{"module", "class_name", "config", "registered_name"}`` for an Initializer, as
    Keras 2 (``keras_config``)."""
    if not isinstance(initializer, Initializer):
        raise TypeError(
            f"Cannot serialize the initializer {initializer!r}: only minidl.initializers."
            "Initializer objects have a config."
        )
    return keras_config(type(initializer), initializer.get_config(), "keras.initializers")


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize``; your own classes are found by name in
    ``custom_objects``, among registered objects or in a ``custom_object_scope``."""
    cls = None
    for name in names_to_look_up(config):
        cls = _BY_CLASS_NAME.get(name) or get_registered_object(name, custom_objects)
        if cls is not None:
            break
    if cls is None:
        get(config.get("class_name"))  # raises with a suggestion
    arguments = config.get("config", {})
    return cls.from_config(arguments) if hasattr(cls, "from_config") else cls(**arguments)
