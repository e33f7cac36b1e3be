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

A tensor changed in place after an op used it (an optimizer step, ``assign``,
``set_weights``) would make that op's backward read the new values: the
gradient would be wrong.  As PyTorch does with version counters, every such
change is noted (``mark_changed``) and a walk that reaches an op older than
the change of one of its inputs raises ``InPlaceModificationError`` instead.

After the walk the graph is released, as in PyTorch: each op's closure is
dropped (so the arrays the forward pass kept for it can be freed) and
replaced by a marker.  A later ``backward()`` that reaches a released op
raises an error instead of treating it as a constant (which would silently
lose every gradient behind it); ``backward(retain_graph=True)`` keeps the
graph for another walk.

``grad(outputs, inputs)`` is the same walk, returning the gradients of the
given tensors instead of adding them to ``.grad`` (what
``minidl.GradientTape.gradient`` and ``Model.train_step`` use).
"""

from __future__ import annotations

import contextlib
import threading
import weakref

import numpy as np

_state = threading.local()
_Tensor = None  # minidl.tensor.Tensor, once record() has run
_clock = 0  # counts the in-place changes: when an op ran, and when a tensor last changed


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
    if getattr(_state, "enabled", True):  # is_grad_enabled(), inlined: this runs for every op
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._born = _clock
                break
    return out


def mark_changed(tensor):
    """Note that ``tensor``'s values were just changed in place: a graph recorded
    before this must not send gradients through it (see the module docstring)."""
    global _clock
    _clock += 1
    tensor._version = _clock


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


class GraphFreedError(RuntimeError):
    """backward() reached a part of the graph that an earlier backward() released."""


class InPlaceModificationError(RuntimeError):
    """backward() reached an op whose input was changed in place after the op used it."""


def _changed_in_place(tensor):
    what = f"{tensor.name!r}" if tensor.name else "a tensor"
    return InPlaceModificationError(
        f"backward() needs the values {what} (shape {tensor.shape}) had when the forward pass "
        "used it, but they were changed in place since (by an optimizer step, assign(), "
        "set_weights() or load_weights()): the gradient would be wrong. Run the forward pass "
        "again after changing the weights, then take the gradient."
    )


def _released(grad):
    raise GraphFreedError(_FREED_MESSAGE)


_FREED_MESSAGE = (
    "backward() reached a part of the graph that was freed by an earlier backward(). "
    "Pass retain_graph=True to the first backward() (or use GradientTape(persistent=True)) "
    "to backpropagate through the same graph again, or recompute the forward pass."
)


def topological_order(roots):
    """Tensors reachable from ``roots``, each after all of its parents.

    Raises ``GraphFreedError`` (before any gradient is computed) when the
    graph reaches an op released by an earlier backward().  (Tensors hash by
    identity, so they serve as their own keys in the sets and dicts here.)
    """
    order = []
    visited = set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        if node._backward is _released:
            raise GraphFreedError(_FREED_MESSAGE)
        visited.add(node)
        stack.append((node, True))
        born = node._born
        for parent in node._parents:
            if parent._version > born:
                raise _changed_in_place(parent)
            if parent.requires_grad and parent not in visited:
                stack.append((parent, False))
    return order


def _initial_grad(root, grad):
    """The gradient the walk starts from: 1 for a scalar, else ``grad`` (copied)."""
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
        return np.ones_like(root.data)
    grad = np.array(grad.data if hasattr(grad, "_backward") else grad, dtype=root.data.dtype)
    if grad.shape != root.shape:
        raise ValueError(
            f"backward(grad): grad has shape {grad.shape}, "
            f"the tensor has shape {root.shape}."
        )
    return grad


def _walk(root, grad, retain_graph, wanted):
    """Send ``grad`` back from ``root`` through the graph.

    Returns ``{node: gradient}`` for every node in ``wanted`` (a set), or for
    every leaf when ``wanted`` is None (``backward()``).
    """
    if root._backward is _released:
        raise GraphFreedError(_FREED_MESSAGE)
    grad = _initial_grad(root, grad)
    order = topological_order([root])
    grads = {root: grad}
    found = {}
    for node in reversed(order):
        g = grads.pop(node, None)
        backward_fn = node._backward
        if g is not None:
            if (backward_fn is None) if wanted is None else (node in wanted):
                found[node] = g
            if backward_fn is not None:
                for parent, parent_grad in zip(node._parents, backward_fn(g)):
                    if parent_grad is None or not parent.requires_grad:
                        continue
                    grads[parent] = grads[parent] + parent_grad if parent in grads else parent_grad
        if not retain_graph and backward_fn is not None:
            node._parents = ()
            node._backward = _released
    return _owned(found)


def _owned(found):
    """Gradients as arrays that share memory with nothing else handed out:
    ops such as ``a + b`` send one array back to both inputs, and a view of an
    upstream gradient can reach a leaf; an in-place ``a.grad += ...`` must not
    change ``b.grad``."""
    seen = set()
    for node, g in found.items():
        if g.base is not None or id(g) in seen:
            g = found[node] = g.copy()
        seen.add(id(g))
    return found


def backward(root, grad=None, retain_graph=False):
    """Backpropagate from ``root`` into ``.grad`` of every leaf; see the module docstring."""
    for node, g in _walk(root, grad, retain_graph, None).items():
        node.grad = g if node.grad is None else node.grad + g


def grad(outputs, inputs, output_grad=None, retain_graph=False):
    """The gradients of the scalar ``outputs`` with respect to each of ``inputs``.

    Like ``outputs.backward()``, but returns the gradients (a list of arrays,
    None for an input the output does not depend on) instead of adding them to
    ``.grad``; nothing else changes.  ``inputs`` may be weights or any tensor
    of the graph.
    """
    found = _walk(outputs, output_grad, retain_graph, set(inputs))
    return [found.get(t) for t in inputs]


class GradientTape:
    """Keras's (TensorFlow's) way to ask for gradients, on minidl's engine.

        with minidl.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = loss_fn(y, y_pred)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))

    minidl records every op whose inputs require a gradient, tape or no tape
    (define-by-run); ``tape.gradient(target, sources)`` is ``grad()``: the
    backward walk from ``target``, returning the gradient of each source (a
    Tensor, or None where ``target`` does not depend on it) and leaving
    ``.grad`` alone.  A non-target that is not a scalar is summed first, as
    TensorFlow does.  The graph is released after one ``gradient()`` call
    unless ``persistent=True``, or until the last of several tapes open at the
    same time has asked (a GAN's ``gen_tape`` and ``disc_tape`` over one forward
    pass each get their gradient, as in TensorFlow).  ``watch(t)`` asks for
    gradients of a tensor that is not a weight; call it before computing with ``t``.
    """

    _waiting = weakref.WeakSet()  # tapes entered whose gradient() has not been asked yet

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = bool(persistent)
        self._used = False
        self._peers = ()

    def __enter__(self):
        waiting = GradientTape._waiting
        if waiting:  # tapes open together share the graph: it lives until the last asks
            self._peers = weakref.WeakSet(waiting)
            for tape in waiting:
                tape._peers = weakref.WeakSet([*tape._peers, self])
        waiting.add(self)
        return self

    def _keeps_graph(self):
        """Whether gradient() must leave the graph: persistent, or a tape opened with
        this one has yet to ask for its gradients."""
        GradientTape._waiting.discard(self)
        return self.persistent or any(tape in GradientTape._waiting for tape in self._peers)

    def __exit__(self, *exc):
        return False

    def watch(self, tensor):
        """Record gradients for ``tensor`` (or each tensor of a list) from now on."""
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if t._backward is not None or t._parents:
                continue  # computed inside the graph already: its gradient is available
            t.requires_grad = True

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none",
                 as_arrays=False):
        """Gradients of ``target`` with respect to ``sources`` (a tensor, or a
        list/tuple/dict of them; the result has the same form): Tensors, or the
        arrays themselves with ``as_arrays=True`` (what ``Optimizer.minimize`` asks)."""
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients; "
                "use GradientTape(persistent=True) to call gradient() several times."
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                f"unconnected_gradients must be 'none' or 'zero', received {unconnected_gradients!r}."
            )
        self._used = True
        retain = self._keeps_graph()
        if type(sources) is list and as_arrays and target.requires_grad and output_gradients is None \
                and target.data.size == 1 and unconnected_gradients == "none":
            return grad(target, sources, retain_graph=retain)  # what minimize() asks
        if type(sources) is list:
            keys, flat = None, sources
        elif isinstance(sources, dict):
            keys, flat = list(sources), list(sources.values())
        else:
            keys, flat = None, list(sources) if isinstance(sources, (list, tuple)) else [sources]
        if target.requires_grad:
            start = output_gradients
            if start is None and target.data.size != 1:
                start = np.ones_like(target.data)
            arrays = grad(target, flat, start, retain_graph=retain)
        else:  # nothing in target depends on a tensor that wants a gradient
            arrays = [None] * len(flat)
        from minidl.tensor import Tensor

        results = []
        for source, array in zip(flat, arrays):
            if array is None and unconnected_gradients == "zero":
                array = np.zeros_like(source.data)
            results.append(array if array is None or as_arrays else Tensor._wrap(array))
        if keys is not None:
            return dict(zip(keys, results))
        if isinstance(sources, (list, tuple)):
            return type(sources)(results) if isinstance(sources, tuple) else results
        return results[0]
