"""The fast path: a dataset over arrays in memory is a plan of row numbers.

``Dataset.from_tensor_slices((x, y))`` does not cut ``x`` and ``y`` into rows.
It keeps the arrays, and a plan of which rows a pass visits, in order:

    from_tensor_slices((x, y))    rows 0, 1, 2, ..., n-1
    .shuffle(n)                   a permutation of those rows
    .take(k), .skip(k)            the first k rows, the rest
    .repeat(2)                    the rows, then the rows again (reshuffled, if shuffled)
    .cache()                      the rows of the first pass, every pass
    .batch(32)                    the plan cut into pieces of 32 rows, each batch
                                  gathered with one ``np.take`` per array

so a shuffled epoch of batches costs one permutation and one gather per
batch, and no Python work per element.  A plan is a stream of *runs*, int64
arrays of row numbers (usually one per pass over the arrays), so that even an
endless ``repeat()`` is a plan.

What needs the values of the elements (``map``, ``filter``, ``unbatch``,
``zip``) is Dataset's, element by element; a SlicesDataset gives its elements
one by one as well, the same elements in the same order as its batches.
"""

from __future__ import annotations

import itertools

import numpy as np

from minidl.data.cardinality import (
    INFINITE_CARDINALITY,
    batched_cardinality,
    repeated_cardinality,
    skipped_cardinality,
    taken_cardinality,
)
from minidl.data.dataset import Dataset, check_count, check_in_memory, check_positive
from minidl.data.shuffle import buffered_shuffle, generator_source
from minidl.data.structure import (
    TensorSpec,
    flatten,
    map_structure,
    pack_like,
    packer,
    spec_of,
    to_array,
)


class SlicesDataset(Dataset):
    """Rows of in-memory arrays, visited in the order of a plan (see the module docstring).

    Each operation defined here gives what Dataset's gives (read its docstring
    there), by changing the plan instead of going through the elements.
    """

    def __init__(self, arrays, runs, cardinality):
        self._arrays = arrays  # the nest of source arrays, as given to from_tensor_slices
        self._leaves = flatten(arrays)
        self._pack = packer(arrays)  # leaves -> an element (or batch) of the nest of arrays
        self._runs = runs  # () -> an iterator over the runs (row-number arrays) of one pass
        super().__init__(self._elements_one_by_one, cardinality,
                         lambda: map_structure(TensorSpec.without_first_axis, spec_of(arrays)))

    @classmethod
    def from_tensors(cls, tensors):
        """The dataset of the rows of ``tensors`` (see ``Dataset.from_tensor_slices``)."""
        arrays = _source_arrays(tensors)
        size = len(flatten(arrays)[0])
        return cls(arrays, lambda: iter([np.arange(size)]), size)

    def _elements_one_by_one(self):
        for run in self._runs():
            for row in run.tolist():
                yield self._pack([leaf[row, ...] for leaf in self._leaves])

    def _with_plan(self, runs, cardinality):
        return SlicesDataset(self._arrays, runs, cardinality)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None):
        batch_size = check_positive(batch_size, "batch_size")

        def batches():
            for rows in _cut(self._runs(), batch_size, drop_remainder):
                yield self._pack([np.take(leaf, rows, axis=0) for leaf in self._leaves])

        return Dataset(batches, batched_cardinality(self._cardinality, batch_size, drop_remainder),
                       self._batched_spec(batch_size, drop_remainder))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        buffer_size = check_positive(buffer_size, "buffer_size")
        next_generator = generator_source(seed, reshuffle_each_iteration)
        whole_pass = 0 <= self._cardinality <= buffer_size  # fits in the buffer

        def runs():
            generator = next_generator()
            if whole_pass:
                # buffered_shuffle would take in every row, then hand them out in the
                # order of one generator.permutation: here is the same, in one step
                rows = _joined(self._runs())
                return iter([rows[generator.permutation(len(rows))]])
            rows = itertools.chain.from_iterable(run.tolist() for run in self._runs())
            return _runs_of(buffered_shuffle(rows, buffer_size, generator))

        return self._with_plan(runs, self._cardinality)

    def repeat(self, count=None):
        count = check_count(count, "count")
        if count == 0:
            return self._with_plan(lambda: iter(()), 0)
        if self._cardinality == INFINITE_CARDINALITY:
            return self

        def runs():
            passes = itertools.count() if count == -1 else range(count)
            for _ in passes:
                rows = _joined(self._runs())  # a new pass: reshuffled, if shuffled
                if len(rows) == 0:
                    return
                yield rows

        return self._with_plan(runs, repeated_cardinality(self._cardinality, count))

    def take(self, count):
        count = check_count(count, "count")
        if count == -1:
            return self
        return self._with_plan(lambda: _first_rows(self._runs(), count),
                               taken_cardinality(self._cardinality, count))

    def skip(self, count):
        count = check_count(count, "count")
        if count == -1:
            return self._with_plan(lambda: iter(()), 0)
        return self._with_plan(lambda: _rows_after(self._runs(), count),
                               skipped_cardinality(self._cardinality, count))

    def cache(self, filename=""):
        check_in_memory(filename)
        if self._cardinality == INFINITE_CARDINALITY:
            return self  # an endless first pass never completes, so nothing is ever replayed
        first_pass = None

        def runs():
            nonlocal first_pass
            if first_pass is None:
                rows = _joined(self._runs())
                yield rows
                first_pass = rows  # reached only when the pass was read to its end
            else:
                yield first_pass

        return self._with_plan(runs, self._cardinality)


def _source_arrays(tensors):
    """The nest of arrays to slice: every leaf a read-only array, all of one length."""
    leaves = flatten(tensors)
    arrays = [_source_array(leaf, i) for i, leaf in enumerate(leaves)]
    lengths = [len(array) for array in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"from_tensor_slices: every array must have the same length (its first axis, the "
            f"number of elements), received lengths {lengths} (in the order of the components)."
        )
    return pack_like(tensors, arrays)


def _source_array(leaf, component):
    try:
        array = to_array(leaf)
    except ValueError as error:  # ragged lists
        raise ValueError(
            f"from_tensor_slices: component {component} cannot be made into an array ({error})."
        ) from None
    if array.ndim == 0:
        raise ValueError(
            f"from_tensor_slices: component {component} is a single value ({array!r}); slicing "
            f"needs an array with a first axis to cut along."
        )
    view = array.view()  # not a copy: the elements are views of the caller's array,
    view.flags.writeable = False  # which writing to an element must not change
    return view


def _joined(runs):
    """A stream of runs as one array of row numbers."""
    runs = list(runs)
    return np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)


def _runs_of(rows, size=4096):
    """An iterator of row numbers as a stream of runs of up to ``size`` rows."""
    while True:
        run = np.fromiter(itertools.islice(rows, size), dtype=np.int64)
        if len(run) == 0:
            return
        yield run


def _first_rows(runs, count):
    """The first ``count`` row numbers of a stream of runs."""
    runs = iter(runs)
    while count > 0:  # checked before the next run is asked for
        run = next(runs, None)
        if run is None:
            return
        yield run[:count]
        count -= len(run)


def _rows_after(runs, count):
    """A stream of runs without its first ``count`` row numbers."""
    for run in runs:
        if count < len(run):
            yield run[count:]
        count = max(count - len(run), 0)


def _cut(runs, batch_size, drop_remainder):
    """The row numbers of a stream of runs, regrouped into batches of ``batch_size``."""
    pending = np.empty(0, dtype=np.int64)
    for run in runs:
        rows = np.concatenate([pending, run]) if len(pending) else run
        end = len(rows) - len(rows) % batch_size
        for start in range(0, end, batch_size):
            yield rows[start:start + batch_size]
        pending = rows[end:]
    if len(pending) and not drop_remainder:
        yield pending
