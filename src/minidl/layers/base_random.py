"""``BaseRandomLayer``: a layer that draws random numbers (noise, augmentation).

Where its numbers come from:

* ``seed=None`` (the default): minidl's one generator (``minidl.random``),
  so ``minidl.utils.set_random_seed(s)`` makes a whole run repeatable;
* ``seed=s``: a generator of the layer's own, started from ``s``, so the
  layer draws the same sequence whatever else the program draws.
"""

from __future__ import annotations

import numpy as np

from minidl import random
from minidl.layers.base import Layer


class BaseRandomLayer(Layer):
    """A layer with a ``seed`` argument and a ``generator`` (see the module docstring)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": seed must be a non-negative integer '
                f"or None, received {seed!r}."
            )
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else np.random.default_rng(self.seed)

    @property
    def generator(self):
        """The ``np.random.Generator`` this layer draws from."""
        return self._generator or random.get_generator()

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
