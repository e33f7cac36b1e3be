"""``minidl.backend``: the functions of ``tf.keras.backend`` (Keras 2) that tutorials call.

    from tensorflow.keras import backend as K   ->   from minidl import backend as K

    K.clear_session()                        # layer names start over: dense, dense_1, ...
    K.get_value(model.optimizer.lr)          # 0.001
    K.set_value(model.optimizer.lr, 1e-4)    # used from the next step on
    K.epsilon(), K.floatx(), K.image_data_format(), K.int_shape(x), K.count_params(w)
    K.random_normal(shape=(batch, dim))     # a Tensor of N(0, 1) draws (minidl.random.normal)
    K.shape, K.flatten, K.batch_flatten, K.mean, K.sum, K.square, K.exp, K.log
                                             # differentiable, on Tensors (minidl.ops)

minidl computes in float32 (a layer given ``dtype="float64"`` in float64), with
channels-last images and a fixed epsilon of 1e-7 in its losses.  The setters
accept those values and refuse the others, rather than accept a setting that
would change nothing.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.tensor import Tensor
from minidl.utils.seeding import clear_session

__all__ = [
    "clear_session", "count_params", "epsilon", "floatx", "get_value", "image_data_format",
    "int_shape", "random_normal", "random_uniform", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_value", "shape", "flatten", "batch_flatten", "mean", "sum",
    "square", "exp", "log", "var", "std",
]

_EPSILON = 1e-7
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"


def get_value(x):
    """The value of a variable as NumPy: a scalar (``np.float64(0.001)``) for a 0-d
    one, an array (a copy) otherwise; anything that is not a Tensor comes back as is."""
    if not isinstance(x, Tensor):
        return x
    return x.data[()] if x.ndim == 0 else x.data.copy()


def set_value(x, value):
    """Assign ``value`` (a number or an array of ``x``'s shape) to the variable ``x`` in place."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"set_value: x must be a variable (a minidl Variable or Tensor), received {x!r} of "
            f"type {type(x).__name__}."
        )
    x.assign(np.asarray(value, dtype=x.dtype))


def epsilon():
    """The small number added to avoid dividing by zero: 1e-7, as in Keras."""
    return _EPSILON


def set_epsilon(value):
    """Only 1e-7: minidl's losses clip probabilities with that fixed value."""
    if value != _EPSILON:
        raise NotImplementedError(
            f"set_epsilon({value!r}): minidl's losses use a fixed epsilon of {_EPSILON} (when "
            f"they clip probabilities); other values are not supported."
        )


def floatx():
    """The default dtype of weights and computations: "float32"."""
    return _FLOATX


def set_floatx(value):
    """Only "float32": minidl's layers make float32 weights unless told otherwise."""
    accepted = {"float16", "float32", "float64"}
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    if value != _FLOATX:
        raise NotImplementedError(
            f"set_floatx({value!r}): minidl's default dtype is float32. For float64, give each "
            f"layer dtype='float64' (Dense(10, dtype='float64')); float16 is not supported."
        )


def image_data_format():
    """How image layers lay out images when their ``data_format`` is None: "channels_last",
    ``(batch, height, width, channels)`` (the default), or "channels_first",
    ``(batch, channels, height, width)``."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """The ``data_format`` of image layers created afterwards with ``data_format=None``
    (layers already made keep theirs), as Keras's."""
    global _IMAGE_DATA_FORMAT
    accepted = {"channels_first", "channels_last"}
    if data_format not in accepted:
        raise ValueError(f"Unknown `data_format`: {data_format}. Expected one of {accepted}")
    _IMAGE_DATA_FORMAT = str(data_format)


def int_shape(x):
    """The shape as a tuple of ints (None where unknown: a KerasTensor's batch size)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(
            f"int_shape: expected a Tensor, KerasTensor or array, received {type(x).__name__}."
        )
    return tuple(None if d is None else int(d) for d in shape)


def count_params(x):
    """The number of values in a variable (a weight's size)."""
    return math.prod(int_shape(x))


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """A Tensor drawn from N(mean, stddev^2): ``minidl.random.normal``."""
    from minidl import random

    return random.normal(shape, mean, stddev, dtype, seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """A Tensor drawn uniformly from [minval, maxval): ``minidl.random.uniform``."""
    from minidl import random

    return random.uniform(shape, minval, maxval, dtype, seed)


# --- the tensor functions of Deep Learning with Python's custom layers and losses --
# (``K.mean(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)``): each is the
# differentiable op of ``minidl.ops``; a KerasTensor read inside a layer's call gives
# its value in the running model (see ``minidl.layers.node``).
def shape(x):
    """The shape of a Tensor as a tuple (``K.shape(z_mean)[0]`` is the batch size)."""
    from minidl import ops

    return tuple(ops.as_tensor(x).shape)


def flatten(x):
    """All values in one axis, as Keras's ``K.flatten`` (shape ``(size,)``)."""
    from minidl import ops

    return ops.reshape(x, (-1,))


def batch_flatten(x):
    """``(N, d1, d2, ...)`` -> ``(N, d1*d2*...)``, as Keras's ``K.batch_flatten``."""
    from minidl import ops

    return ops.flatten(x)


def mean(x, axis=None, keepdims=False):
    """The mean over ``axis`` (all axes when None)."""
    from minidl import ops

    return ops.mean(x, axis=axis, keepdims=keepdims)


def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras's name)
    """The sum over ``axis`` (all axes when None)."""
    from minidl import ops

    return ops.sum(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """The variance over ``axis`` (all axes when None): ``mean((x - mean(x))**2)``,
    dividing by the number of values, as Keras's (and NumPy's default)."""
    from minidl import ops

    return ops.var(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """The standard deviation over ``axis`` (all axes when None): ``sqrt(var(x))``."""
    from minidl import ops

    return ops.std(x, axis=axis, keepdims=keepdims)


def square(x):
    """``x * x``, elementwise."""
    from minidl import ops

    return ops.square(x)


def exp(x):
    """``e ** x``, elementwise."""
    from minidl import ops

    return ops.exp(x)


def log(x):
    """The natural logarithm, elementwise."""
    from minidl import ops

    return ops.log(x)
