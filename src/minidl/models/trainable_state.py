"""Keras 2's rule: a model trains the weights that were trainable when it was compiled.

The GAN recipe of Deep Learning with Python relies on it:

    discriminator.compile(...)            # trains its weights
    discriminator.trainable = False
    gan = Model(z, discriminator(generator(z)))
    gan.compile(...)                      # trains the generator's weights only
    discriminator.train_on_batch(...)     # still trains the discriminator
    gan.train_on_batch(...)               # does not

``compile`` records every layer's ``trainable`` flag (``trainable_state``);
``fit`` and ``train_on_batch`` run inside ``respect_compiled_state``, which puts
the flags back as they were at compile time for the call, if any changed, and
restores the current ones afterwards. A change since compile also warns, as
Keras 2 did: to train other weights, compile again.
"""

from __future__ import annotations

import contextlib
import warnings


def _children(layer):
    children = getattr(layer, "layers", None)
    if children is None:
        children = layer._sublayers()
    return children


def trainable_state(model):
    """[(layer, trainable)] for ``model`` and every layer inside it, each layer before
    the layers it holds (so setting them in order restores inner flags last)."""
    state, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        state.append((layer, layer.trainable))
        stack.extend(reversed(_children(layer)))
    return state


def _apply(state):
    for layer, trainable in state:
        layer.trainable = trainable


@contextlib.contextmanager
def respect_compiled_state(model):
    """Inside: every layer's ``trainable`` as it was when ``model`` was compiled."""
    compiled = getattr(model, "_compiled_trainable_state", None)
    if not compiled:
        yield
        return
    current = trainable_state(model)
    now = {id(layer): trainable for layer, trainable in current}
    changed = [layer.name for layer, then in compiled if id(layer) in now and now[id(layer)] != then]
    if not changed:
        yield
        return
    warnings.warn(
        f"The trainable state of {', '.join(changed)} changed since model {model.name!r} was compiled. "
        "As in Keras 2, the model trains the weights that were trainable at compile(); "
        "call compile() again to train the new set.", stacklevel=5)
    _apply(compiled)
    try:
        yield
    finally:
        _apply(current)
