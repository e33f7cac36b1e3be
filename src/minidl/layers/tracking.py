"""How a layer finds what it owns: the layers and weights in its attributes.

Keras lets you build a layer out of other layers just by assigning them::

    class MLPBlock(Layer):
        def __init__(self):
            super().__init__()
            self.hidden = [Dense(32, activation="relu"), Dense(32, activation="relu")]
            self.out = Dense(1)

``MLPBlock().weights`` must then hold the weights of all three Dense layers,
or training would silently leave them unchanged.  So a layer looks through
its attributes, and through the lists, tuples and dicts in them (nested to
any depth), for two kinds of things:

* other layers (their weights are collected from them, recursively), and
* weights: a ``Variable`` (trainable or not, as it says), or a plain
  ``Tensor`` you created with ``requires_grad=True``.

Tensors that are results of a computation (they have a ``_backward``) or
constants (``requires_grad=False``) are not weights and are not collected.
"""

from __future__ import annotations

from minidl.tensor import Tensor, Variable


def find_tracked(value, seen, layer_class):
    """The layers and weight tensors in ``value``, in order, each once.

    ``value`` may be a layer, a tensor, or a list/tuple/dict holding them at
    any depth; ``seen`` (a set of ids) is updated, so a layer or weight
    reached twice, or a container that holds itself, is visited once.
    """
    found = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (layer_class, Tensor)):
            if id(item) not in seen and (isinstance(item, layer_class) or is_weight(item)):
                seen.add(id(item))
                found.append(item)
        elif isinstance(item, (list, tuple, dict)) and id(item) not in seen:
            seen.add(id(item))
            items = list(item.values()) if isinstance(item, dict) else list(item)
            stack.extend(reversed(items))  # reversed: the stack pops them in order
    return found


def may_hold_tracked(value, layer_class):
    """Whether an attribute's value must be looked through: a layer, a weight,
    a list or dict (something may be added to it later), or a tuple holding one."""
    if isinstance(value, (layer_class, Tensor, list, dict)):
        return True
    return isinstance(value, tuple) and bool(find_tracked(value, set(), layer_class))


def is_weight(tensor):
    """A Variable, or a leaf tensor you asked gradients for."""
    if isinstance(tensor, Variable):
        return True
    return tensor.requires_grad and tensor._backward is None and not tensor._parents
