"""Einstein summation of two operands: ``einsum("ab,bc->ac", a, b)`` is a @ b.

Each operand's axes are named by letters; the output keeps the letters after
"->" and sums over the others.  ``...`` names any number of leading or
middle axes, which broadcast against each other as in NumPy:

    y[out] = sum over the letters not in out of  a[sa] * b[sb]

The gradient with respect to ``a`` is the same kind of sum, of the output's
gradient g with the other operand, onto a's letters:

    dL/da[sa] = sum over the letters not in sa of  g[out] * b[sb]

A letter only in ``a`` (summed away in the forward pass) does not appear in
g or b: the gradient is the same along it, so it is broadcast there.  Axes
that ``...`` broadcast are summed back to a's own size (``unbroadcast``).

Only explicit equations are accepted ("ab,bc->ac", "...b,bc->...c"): no
implicit output ("ab,bc"), no letter repeated within one operand (a trace or
a diagonal), and "..." in the output exactly when an operand has it.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops.arithmetic import _pair

ELLIPSIS = "..."


def _terms(part, equation):
    """An operand's subscripts as a list of letters and at most one "..."."""
    letters = part.replace(ELLIPSIS, "\0")
    terms = [ELLIPSIS if char == "\0" else char for char in letters]
    if terms.count(ELLIPSIS) > 1 or any(
            t != ELLIPSIS and not (t.isascii() and t.isalpha()) for t in terms):
        raise ValueError(
            f"einsum: {part!r} in {equation!r} must be letters with at most one '...' "
            "(for example 'ab', '...b')."
        )
    repeated = sorted({t for t in terms if terms.count(t) > 1})
    if repeated:
        raise ValueError(
            f"einsum: letter {repeated[0]!r} appears twice in {part!r} of {equation!r}; "
            "traces and diagonals are not supported, give each axis its own letter."
        )
    return terms


def parse(equation):
    """``"ab,bc->ac"`` as three lists of subscripts: (a's, b's, the output's)."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, received {equation!r}.")
    if equation.count("->") != 1 or equation.split("->")[0].count(",") != 1:
        raise ValueError(
            f"einsum: expected an explicit equation of two operands such as 'ab,bc->ac' "
            f"(inputs, '->', output), received {equation!r}."
        )
    inputs, output = equation.split("->")
    first, second = (_terms(part, equation) for part in inputs.split(","))
    out = _terms(output, equation)
    for term in out:
        if term != ELLIPSIS and term not in first and term not in second:
            raise ValueError(f"einsum: output letter {term!r} of {equation!r} is in neither operand.")
    if (ELLIPSIS in out) != (ELLIPSIS in first or ELLIPSIS in second):
        raise ValueError(
            f"einsum: {equation!r} must have '...' in its output exactly when an operand "
            "has it (summing over '...' is not supported)."
        )
    return first, second, out


def _check_sizes(equation, terms, tensors):
    """Each operand's rank fits its subscripts, and each letter has one size."""
    sizes = {}
    for subscripts, tensor in zip(terms, tensors):
        letters = [t for t in subscripts if t != ELLIPSIS]
        if tensor.ndim < len(letters) or (ELLIPSIS not in subscripts and tensor.ndim > len(letters)):
            raise ValueError(
                f"einsum: {''.join(subscripts)!r} in {equation!r} names {len(letters)} axes, "
                f"but the operand has shape {tensor.shape}."
            )
        start = subscripts.index(ELLIPSIS) if ELLIPSIS in subscripts else len(subscripts)
        extra = tensor.ndim - len(letters)
        for i, letter in enumerate(letters):
            size = tensor.shape[i if i < start else i + extra]
            if sizes.setdefault(letter, size) != size:
                raise ValueError(
                    f"einsum: letter {letter!r} of {equation!r} has size {sizes[letter]} in one "
                    f"operand and {size} in the other (shapes {tensors[0].shape} and "
                    f"{tensors[1].shape})."
                )


def _gradient(grad, out, other, other_data, mine, shape, dtype):
    """dL/d(operand) with subscripts ``mine`` and ``shape`` (see the module docstring)."""
    if ELLIPSIS in out and ELLIPSIS not in mine:  # NumPy cannot sum "..." away: keep it,
        mine = [ELLIPSIS, *mine]                  # as zero axes of this operand, summed below
    kept = [t for t in mine if t in out or t in other]
    result = np.einsum(f"{''.join(out)},{''.join(other)}->{''.join(kept)}", grad, other_data)
    ellipsis_axes = len(shape) - sum(t != ELLIPSIS for t in mine)
    axes, position = [], 0  # where the letters summed away sit in this operand's shape
    for term in mine:
        if term == ELLIPSIS:  # (always in out): sum its broadcast axes back to this operand's
            start = kept.index(ELLIPSIS)
            width = result.ndim - (len(kept) - 1)
            moved = np.moveaxis(result, range(start, start + width), range(width))
            own = unbroadcast(moved, shape[position:position + ellipsis_axes] + moved.shape[width:])
            result = np.moveaxis(own, range(ellipsis_axes), range(start, start + ellipsis_axes))
            position += ellipsis_axes
        else:
            if term not in kept:
                axes.append(position)
            position += 1
    if axes:
        result = np.broadcast_to(np.expand_dims(result, tuple(axes)), shape).copy()
    return result.astype(dtype, copy=False)


def einsum(equation, a, b):
    """The sum ``equation`` describes over two operands (see the module docstring).

    ``einsum("ab,bc->ac", x, w)`` is ``x @ w``; ``einsum("...b,bc->...c", x, w)``
    applies ``w`` along the last axis of an ``x`` of any rank.
    """
    first, second, out = parse(equation)
    a, b = _pair(a, b)
    _check_sizes(equation, (first, second), (a, b))
    y = np.einsum(equation, a.data, b.data)

    def backward(grad):
        grad_a = grad_b = None
        if a.requires_grad:
            grad_a = _gradient(grad, out, second, b.data, first, a.shape, a.dtype)
        if b.requires_grad:
            grad_b = _gradient(grad, out, first, a.data, second, b.shape, b.dtype)
        return grad_a, grad_b

    return record(y, (a, b), backward)
