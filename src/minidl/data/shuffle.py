"""Shuffling with a buffer, as tf.data does it, and where its random numbers come from.

``shuffle(buffer_size)`` cannot always see the whole dataset (it may be
endless, or too big to hold), so it keeps a buffer of ``buffer_size``
elements: fill the buffer, then each time hand out a randomly chosen element
of the buffer and put the next input element in its place.  When the input
ends, hand out what is left in the buffer in random order.

So a small buffer only mixes nearby elements (with a buffer of 1 nothing
moves, and element ``i`` never comes out before position ``i - buffer_size + 1``),
while a buffer at least as large as the dataset takes everything in before
the first pick: a uniformly random permutation.
"""

from __future__ import annotations

import numpy as np

from minidl.random import get_generator


def buffered_shuffle(elements, buffer_size, generator):
    """The elements of the iterable ``elements``, shuffled through a buffer."""
    buffer = []
    slots = _random_slots(generator, buffer_size)
    for element in elements:
        if len(buffer) < buffer_size:
            buffer.append(element)
            continue
        slot = next(slots)
        yield buffer[slot]
        buffer[slot] = element
    for slot in generator.permutation(len(buffer)):
        yield buffer[slot]


def _random_slots(generator, buffer_size, chunk=1024):
    """Endless random integers in [0, buffer_size).

    They are drawn ``chunk`` at a time: one call to the generator costs a few
    microseconds, about as much as a call that draws a thousand numbers.
    """
    while True:
        yield from generator.integers(0, buffer_size, size=chunk).tolist()


def generator_source(seed, reshuffle_each_iteration):
    """A function giving the generator each pass over a shuffled dataset uses.

    - no seed: minidl's generator (``minidl.random.get_generator()``), so
      ``minidl.utils.set_random_seed`` makes the orders repeatable;
    - ``seed=s``: a generator of the dataset's own, seeded with ``s``: the
      passes differ from each other but are the same in every run;
    - ``reshuffle_each_iteration=False``: a fresh generator with the same seed
      for every pass, so every pass has the same order.
    """
    if not reshuffle_each_iteration:
        fixed = int(get_generator().integers(2**63)) if seed is None else seed
        return lambda: np.random.default_rng(fixed)
    if seed is None:
        return get_generator
    own = np.random.default_rng(seed)
    return lambda: own
