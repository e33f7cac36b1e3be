"""Inverted dropout.

While training, each value is zeroed with probability ``rate`` and the
survivors are scaled by 1 / (1 - rate), so the expected value of every unit
is unchanged and inference needs no rescaling: at inference dropout is the
identity.  With the random mask m (0 or 1 / (1 - rate)):  y = x * m and
dy/dx = m.  A mask of a smaller ``noise_shape`` is broadcast: the values
that share one draw are dropped together.
"""

from __future__ import annotations

from minidl import random
from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor


def dropout(x, rate, training=True, generator=None, noise_shape=None):
    """Zero a ``rate`` fraction of ``x`` at random and rescale the rest.

    ``generator`` is a ``np.random.Generator``; by default minidl's seeded
    one (``minidl.random.get_generator()``).  ``noise_shape``: the shape of
    the mask, broadcast against ``x`` (``(N, 1, 1, C)`` drops whole channels
    of images); by default ``x.shape``, one draw per value.  Returns ``x``
    itself when ``training`` is False or ``rate`` is 0.
    """
    x = as_tensor(x)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), received {rate!r}.")
    if not training or rate == 0:
        return x
    if noise_shape is None:
        noise_shape = x.shape
    elif len(noise_shape) != x.ndim or any(n not in (1, d) for n, d in zip(noise_shape, x.shape)):
        raise ValueError(
            f"dropout: noise_shape {tuple(noise_shape)} does not broadcast to the input's shape "
            f"{x.shape}: it needs one entry per axis, each 1 or that axis's size."
        )
    generator = random.get_generator() if generator is None else generator
    keep = generator.random(noise_shape, dtype=x.dtype) >= rate
    mask = keep.astype(x.dtype) / x.dtype.type(1 - rate)
    return record(x.data * mask, (x,), lambda grad: (grad * mask,))
