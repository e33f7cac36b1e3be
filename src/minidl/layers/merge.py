"""Merge layers: combine several inputs of a functional model into one.

``Concatenate(axis=-1)([a, b])`` joins along the feature axis
((None, 32) and (None, 16) give (None, 48)).

The elementwise merges combine their inputs position by position:

    Add       a + b + ...          (a residual connection)
    Subtract  a - b                (exactly two inputs)
    Multiply  a * b * ...          (gating)
    Average   (a + b + ...) / n    (an ensemble of models)
    Maximum   max(a, b, ...)
    Minimum   min(a, b, ...)

Their inputs need not have the same shape, only shapes that broadcast as in
Keras: the shapes without the batch axis are lined up at their last axis
and each pair of sizes must be equal or one of them 1 ((None, 4, 1) and
(None, 4, 3) give (None, 4, 3)); an input with fewer axes gets size-1 axes
after its batch axis ((None, 3) with (None, 4, 3) gives (None, 4, 3)).

``Dot(axes)([a, b])`` takes, for each sample, the dot product of a and b
along the given axes ((None, 5) and (None, 5) with axes=1 give (None, 1));
with ``normalize=True`` both are L2-normalized first: the cosine similarity.

Masks (from ``Embedding(mask_zero=True)`` or ``Masking``) go on as in Keras 2:
an elementwise merge's output step is real only where it is real in every
masked input (logical AND; an input without a mask counts as all real);
``Concatenate`` joins the masks along its axis when that is the steps axis
(an unmasked input's steps all real), and ANDs them otherwise.  ``Dot``
drops the mask.

Each layer has a lowercase functional form: ``add([a, b])``, ``dot([a, b], axes=1)``...
"""

from __future__ import annotations

import numbers
from functools import reduce

import numpy as np

from minidl import ops
from minidl.layers.base import Layer
from minidl.ops.similarity import batch_dot_axes


class _Merge(Layer):
    _multi_input = True
    _min_inputs = 2

    def _check_list(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < self._min_inputs:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) must be called on a list of at '
                f"least {self._min_inputs} input(s), received input shape {input_shape}."
            )

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the shapes

    def _input_masks(self, inputs, mask):
        """The inputs' masks as boolean arrays (None for an unmasked input), or None
        when no input is masked."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": mask must be a list with one '
                f"entry (or None) per input ({len(inputs)} inputs), received {mask!r}."
            )
        if all(m is None for m in mask):
            return None
        return [None if m is None else np.asarray(getattr(m, "data", m), dtype=bool)
                for m in mask]


class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (the feature axis by default)."""

    supports_masking = True  # as Keras: masks are joined too (compute_mask)

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        rank = len(input_shape[0])
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank:
            raise ValueError(f'Concatenate layer "{self.name}": axis {self.axis} is out of range for rank {rank}.')
        others = [tuple(d for i, d in enumerate(s) if i not in (0, axis)) for s in input_shape]
        if any(len(s) != rank for s in input_shape) or len(set(others)) != 1:
            raise ValueError(
                f'Concatenate layer "{self.name}": inputs must match on every axis but axis '
                f"{self.axis}, received shapes {[tuple(s) for s in input_shape]}."
            )
        sizes = [s[axis] for s in input_shape]
        joined = None if None in sizes else sum(sizes)
        return tuple(joined if i == axis else d for i, d in enumerate(input_shape[0]))

    def call(self, inputs):
        axis = self.axis if self.axis >= 0 else inputs[0].ndim + self.axis
        return ops.concatenate(list(inputs), axis=axis)

    def compute_mask(self, inputs, mask=None):
        """As Keras 2: each mask, given one trailing size-1 axis when it has fewer
        axes than its input (an unmasked input: all True, the input's shape with a
        last axis of 1), is joined along ``axis``; the result is True where all
        of its last axis is.  So (N, T1) and (N, T2) masks of steps joined along
        axis 1 give the (N, T1 + T2) mask; joined along the features, (N, T) AND."""
        masks = self._input_masks(inputs, mask)
        if masks is None:
            return None
        shaped = []
        for x, m in zip(inputs, masks):
            if m is None:
                m = np.ones(tuple(x.shape[:-1]) + (1,), dtype=bool)
            elif m.ndim < x.ndim:
                m = m[..., None]
            shaped.append(m)
        try:
            return np.all(np.concatenate(shaped, axis=self.axis), axis=-1)
        except ValueError:
            raise ValueError(
                f'Concatenate layer "{self.name}": cannot join the masks of its inputs along '
                f"axis {self.axis}: masks of shapes {[None if m is None else m.shape for m in masks]} "
                f"for inputs of shapes {[tuple(x.shape) for x in inputs]}."
            ) from None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class _ElementwiseMerge(_Merge):
    """Combines its inputs position by position with ``_combine(a, b)``, folded
    left over the list; shapes broadcast as the module docstring says."""

    _min_inputs = 1  # as Keras: a list of one input is passed through
    supports_masking = True  # as Keras: the inputs' masks are combined (compute_mask)
    _max_inputs = None
    _combine = staticmethod(ops.add)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        if self._max_inputs is not None and len(shapes) > self._max_inputs:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}" must be called on exactly '
                f"{self._max_inputs} inputs, received {len(shapes)} (shapes {shapes})."
            )
        batch_sizes = {s[0] for s in shapes} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": cannot merge inputs with different '
                f"batch sizes, received shapes {shapes}."
            )
        try:
            sample_shape = reduce(_broadcast, [s[1:] for s in shapes])
        except ValueError:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": inputs must have the same shape, or '
                f"shapes that broadcast (sizes equal or 1, lined up at the last axis), received "
                f"{shapes}."
            ) from None
        return (batch_sizes.pop() if batch_sizes else None, *sample_shape)

    def call(self, inputs):
        rank = max(x.ndim for x in inputs)
        return self._merge([_with_rank(x, rank) for x in inputs])

    def _merge(self, inputs):
        return reduce(self._combine, inputs)

    def compute_mask(self, inputs, mask=None):
        """As Keras 2: the AND of the inputs' masks (unmasked inputs left out)."""
        masks = self._input_masks(inputs, mask)
        if masks is None:
            return None
        return reduce(np.logical_and, [m for m in masks if m is not None])


def _broadcast(shape_a, shape_b):
    """Keras's broadcast of two sample shapes, lined up at the last axis (None: unknown)."""
    if len(shape_a) < len(shape_b):
        shape_a, shape_b = shape_b, shape_a
    lead = len(shape_a) - len(shape_b)
    out = list(shape_a[:lead])
    for a, b in zip(shape_a[lead:], shape_b):
        if a is None or b is None:
            out.append(None)
        elif a == 1 or b == 1 or a == b:
            out.append(max(a, b))
        else:
            raise ValueError(f"shapes {shape_a} and {shape_b} do not broadcast")
    return tuple(out)


def _with_rank(x, rank):
    """``x`` with size-1 axes put after its batch axis until it has ``rank`` axes."""
    if x.ndim == rank:
        return x
    return ops.reshape(x, (x.shape[0],) + (1,) * (rank - x.ndim) + tuple(x.shape[1:]))


class Add(_ElementwiseMerge):
    """The elementwise sum of its inputs."""


class Subtract(_ElementwiseMerge):
    """The first input minus the second (exactly two inputs)."""

    _min_inputs = _max_inputs = 2
    _combine = staticmethod(ops.sub)


class Multiply(_ElementwiseMerge):
    """The elementwise product of its inputs."""

    _combine = staticmethod(ops.mul)


class Average(_ElementwiseMerge):
    """The elementwise mean of its inputs: their sum divided by how many there are."""

    def _merge(self, inputs):
        return ops.div(reduce(ops.add, inputs), len(inputs))


class Maximum(_ElementwiseMerge):
    """The elementwise maximum of its inputs (a tie's gradient goes to the first of them)."""

    _combine = staticmethod(ops.maximum)


class Minimum(_ElementwiseMerge):
    """The elementwise minimum of its inputs (a tie's gradient goes to the first of them)."""

    _combine = staticmethod(ops.minimum)


class Dot(_Merge):
    """Per-sample dot products of two inputs along ``axes``.

    ``axes``: one axis for both inputs, or a pair ``(axis_a, axis_b)``;
    axes count the batch axis as 0 (so 1 is the first feature axis) and may
    be negative.  The output has a's other axes then b's (without b's batch
    axis): (None, 3, 5) and (None, 4, 5) with axes=2 give (None, 3, 4);
    two 2-D inputs give (None, 1).  ``normalize=True`` divides each sample by
    its L2 norm along the summed axis first, giving cosine similarities.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = isinstance(axes, (list, tuple))
        if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                   for a in (axes if pair else [axes])):
            raise TypeError(
                f'Dot layer "{self.name}": axes must be an integer or a pair of integers, '
                f"received {axes!r}."
            )
        if pair and len(axes) != 2:
            raise ValueError(
                f'Dot layer "{self.name}": axes must be an integer or a pair of two integers, '
                f"received {axes!r}."
            )
        self.axes = tuple(int(a) for a in axes) if pair else int(axes)
        self.normalize = bool(normalize)

    def _summed_axes(self, input_shape):
        """The summed axis of each input, for ``input_shape`` (a list of two shapes)."""
        self._check_list(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f'Dot layer "{self.name}" must be called on a list of exactly 2 inputs, '
                f"received {len(input_shape)} (shapes {input_shape})."
            )
        try:
            return batch_dot_axes(*input_shape, self.axes)
        except ValueError as error:
            raise ValueError(f'Dot layer "{self.name}": {error}') from None

    def compute_output_shape(self, input_shape):
        axis_a, axis_b = self._summed_axes(input_shape)
        shape_a, shape_b = (tuple(s) for s in input_shape)
        rest = [d for i, d in enumerate(shape_a) if i not in (0, axis_a)]
        rest += [d for i, d in enumerate(shape_b) if i not in (0, axis_b)]
        return (shape_a[0], *(rest or [1]))

    def call(self, inputs):
        a, b = inputs
        axis_a, axis_b = self._summed_axes([tuple(a.shape), tuple(b.shape)])
        if self.normalize:
            a, b = ops.l2_normalize(a, axis=axis_a), ops.l2_normalize(b, axis=axis_b)
        return ops.batch_dot(a, b, (axis_a, axis_b))

    def compute_mask(self, inputs, mask=None):
        """None: as in Keras 2, the mask stops at a Dot."""
        return None

    def get_config(self):
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def concatenate(inputs, axis=-1, **kwargs):
    """The functional form of ``Concatenate``: ``concatenate([a, b])``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """The functional form of ``Add``: ``add([x, shortcut])`` (a residual connection)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """The functional form of ``Subtract``: ``subtract([a, b])`` is a - b."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """The functional form of ``Multiply``: ``multiply([a, b])``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """The functional form of ``Average``: ``average([y1, y2, y3])`` (an ensemble)."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """The functional form of ``Maximum``: ``maximum([a, b])``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """The functional form of ``Minimum``: ``minimum([a, b])``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """The functional form of ``Dot``: ``dot([a, b], axes=1)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
