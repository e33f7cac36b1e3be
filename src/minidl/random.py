"""The random numbers minidl uses: one seeded generator for the whole library.

Dropout masks, shuffling and weight initializers all draw from
``get_generator()``, a NumPy ``Generator`` (PCG64).  It starts from OS
entropy; ``seed(s)`` resets it so that two runs with the same seed draw the
same numbers, bit for bit (``minidl.utils.set_random_seed`` calls it).
``set_seed`` is the same, under the name tutorials call as ``tf.random.set_seed``.
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
