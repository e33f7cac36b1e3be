"""The autograd engine: recording operations and walking them backwards.

Every differentiable operation (see ``minidl.ops``) computes its output with
NumPy or a compiled kernel, then calls :func:`record` with the inputs it used
and a ``backward`` closure.  The closure receives the gradient of the loss with
respect to the op's output and returns the gradients with respect to each input
(``None`` for inputs that need none).  That is the chain rule, one op at a time.

``Tensor.backward()`` then

1. sorts the graph so every op comes after the ops that produced its inputs
   (an iterative depth-first search, so deep graphs do not hit Python's
   recursion limit),
2. walks it in reverse, calling each closure once with the sum of all the
   gradients that flowed into that op's output (a tensor used twice gets two
   contributions, added), and
3. stores the gradient of every leaf tensor with ``requires_grad=True`` in its
   ``.grad`` (adding to what is there, as PyTorch does).

After the walk the graph is released (closures and parent links dropped), so
the arrays the forward pass kept alive for backward can be freed.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_state = threading.local()
_Tensor = None  # minidl.tensor.Tensor, once record() has run


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return getattr(_state, "enabled", True)


@contextlib.contextmanager
def no_grad():
    """Context manager: operations inside build no graph (for inference)."""
    previous = is_grad_enabled()
    _state.enabled = False
    try:
        yield
    finally:
        _state.enabled = previous


def record(data, parents, backward):
    """Wrap an op's output ``data`` in a Tensor and, if needed, link the graph.

    ``parents`` are the input Tensors; ``backward(grad)`` returns one gradient
    (an ndarray shaped like that parent, or ``None``) per parent.  When no
    parent requires a gradient, or inside ``no_grad()``, nothing is recorded.
    """
    global _Tensor
    if _Tensor is None:  # minidl.tensor imports this module, so import it on first use
        from minidl.tensor import Tensor as _Tensor

    out = _Tensor._wrap(data)
    if is_grad_enabled():
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                break
    return out


def unbroadcast(grad, shape):
    """Undo NumPy broadcasting: sum ``grad`` down to ``shape``.

    If ``a`` of shape (3, 1) was added to ``b`` of shape (4, 3, 5), the output
    and its gradient have shape (4, 3, 5); the gradient for ``a`` is the sum
    over the axes broadcasting created (0) and stretched (2).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def topological_order(root):
    """Tensors reachable from ``root``, each after all of its parents."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def backward(root, grad=None, retain_graph=False):
    """Backpropagate from ``root``; see the module docstring."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: no input "
            "of the computation had requires_grad=True (or it ran inside no_grad())."
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient needs a scalar, got shape "
                f"{root.shape}; reduce it first (for example loss.mean())."
            )
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(grad, dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise ValueError(
                f"backward(grad): grad has shape {grad.shape}, "
                f"the tensor has shape {root.shape}."
            )
    order = topological_order(root)
    grads = {id(root): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._backward is None:
            node.grad = g if node.grad is None else node.grad + g
            continue
        for parent, parent_grad in zip(node._parents, node._backward(g)):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = grads[key] + parent_grad if key in grads else parent_grad
        if not retain_graph:
            node._parents = ()
            node._backward = None
            node.requires_grad = False
