"""The random numbers minidl uses: one seeded generator for the whole library.

Dropout masks, shuffling and weight initializers all draw from
``get_generator()``, a NumPy ``Generator`` (PCG64).  It starts from OS
entropy; ``seed(s)`` resets it so that two runs with the same seed draw the
same numbers, bit for bit (``minidl.utils.set_random_seed`` calls it).
``set_seed`` is the same, under the name tutorials call as ``tf.random.set_seed``.

``normal``, ``uniform`` and ``truncated_normal`` draw a Tensor of random
numbers, as ``tf.random.normal`` / ``keras.random.normal`` do (a GAN's latent
vectors, a VAE's epsilon, noise added to images).  The Tensor is a constant:
gradients flow through what you compute from it, not into it.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.Generator(np.random.PCG64())


def seed(s):
    """Reset the generator to the state seed ``s`` gives.

    The generator object stays the same, so code that already holds it (for
    example a data iterator) also follows the new seed.
    """
    _generator.bit_generator.state = np.random.PCG64(s).state


def set_seed(s):
    """``tf.random.set_seed``: seed minidl's generator (initializers, dropout,
    shuffling).  ``minidl.utils.set_random_seed`` also seeds NumPy and ``random``."""
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
        raise ValueError(f"set_seed: seed must be a non-negative integer, received {s!r}.")
    seed(int(s))


def get_generator():
    """The ``np.random.Generator`` minidl draws from."""
    return _generator


# --- drawing random Tensors ------------------------------------------------------
def _draw_setup(shape, dtype, seed, name):
    """The checked shape, float dtype and generator of a draw (``seed``: a generator of
    its own, so the same seed gives the same numbers whatever else was drawn)."""
    shape = _check_shape(shape, name)
    dtype = np.dtype("float32" if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"{name}: dtype must be a float type (float32, float64), received {dtype}.")
    if seed is None:
        return shape, dtype, _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name}: seed must be a non-negative integer or None, received {seed!r}.")
    return shape, dtype, np.random.default_rng(int(seed))


def _check_shape(shape, name):
    dims = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = None
    if dims is None or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0
                           for d in dims):
        hint = ""
        if dims is not None and None in dims:
            hint = (" A None (an unknown batch size) cannot be drawn: draw inside a layer's "
                    "call(), where x.shape[0] is the real batch size.")
        raise ValueError(f"{name}: shape must be a tuple of non-negative integers, received "
                         f"{shape!r}.{hint}")
    return tuple(int(d) for d in dims)


def _tensor(values, dtype):
    from minidl.tensor import Tensor

    return Tensor(values.astype(dtype, copy=False))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """A Tensor of ``shape`` drawn from N(mean, stddev^2) (``tf.random.normal``)."""
    shape, dtype, generator = _draw_setup(shape, dtype, seed, "normal")
    return _tensor(generator.normal(mean, stddev, shape), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """A Tensor of ``shape`` drawn uniformly from [minval, maxval) (``tf.random.uniform``)."""
    shape, dtype, generator = _draw_setup(shape, dtype, seed, "uniform")
    if not minval < maxval:
        raise ValueError(f"uniform: minval must be below maxval, received {minval} and {maxval}.")
    return _tensor(generator.uniform(minval, maxval, shape), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """A Tensor of ``shape`` from N(mean, stddev^2) with every value more than two standard
    deviations from the mean drawn again (``tf.random.truncated_normal``)."""
    shape, dtype, generator = _draw_setup(shape, dtype, seed, "truncated_normal")
    values = generator.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return _tensor(mean + stddev * values, dtype)
