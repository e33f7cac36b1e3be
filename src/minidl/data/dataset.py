"""``Dataset``: a pipeline of elements, built one operation at a time (tf.data's API).

A Dataset is a recipe for producing its elements, not the elements: it holds
a function that starts one pass (returns an iterator) and what it knows about
its length.  Each operation wraps the recipe of the dataset before it:

    ds.map(f)       a pass over ds, with f applied to each element
    ds.batch(32)    a pass over ds, 32 elements at a time stacked into arrays

so ``for x, y in ds`` runs the whole chain, element by element, and a second
``for`` starts a second pass, from the beginning.  Nothing is computed before
you iterate.  (``slices.py`` holds a faster way to do the same for in-memory
arrays, which ``from_tensor_slices`` and ``range`` return.)

Each operation also says how many elements it will give, when it can tell
without a pass: its cardinality (the rules are in ``cardinality.py``).
"""

from __future__ import annotations

import itertools

import numpy as np

from minidl.data.cardinality import (
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    batched_cardinality,
    repeated_cardinality,
    skipped_cardinality,
    taken_cardinality,
    zipped_cardinality,
)
from minidl.data.shuffle import buffered_shuffle, generator_source
from minidl.data.structure import (
    TensorSpec,
    as_element,
    flatten,
    map_structure,
    pack_like,
    spec_of,
    to_array,
)
from minidl.eager_array import eager

AUTOTUNE = -1  # "pick a good value": what tf.data.AUTOTUNE is


class Dataset:
    """A re-iterable sequence of elements (NumPy arrays, or tuples and dicts of them).

    Build one with ``Dataset.from_tensor_slices``, ``Dataset.range``,
    ``Dataset.from_generator`` or ``Dataset.zip``, then chain operations:

        ds = Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(32)
        for x_batch, y_batch in ds:
            ...

    Elements are NumPy arrays; where TensorFlow gives a scalar tensor,
    minidl gives an array of shape ().
    """

    def __init__(self, elements, cardinality, spec=None):
        self._elements = elements  # () -> an iterator over one pass
        self._cardinality = cardinality
        self._spec = spec  # () -> the element_spec where known without a pass, else None

    # -- making datasets --------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors):
        """The slices of ``tensors`` along their first axis, one element per row.

        ``tensors`` is an array (or a list of numbers), or a tuple or dict (or a
        nest) of them, all with the same length: ``from_tensor_slices((x, y))``
        gives the elements ``(x[0], y[0]), (x[1], y[1]), ...``.  The arrays are
        not copied; the elements are read-only views of them.
        """
        from minidl.data.slices import SlicesDataset  # slices.py builds on this module

        return SlicesDataset.from_tensors(tensors)

    @staticmethod
    def range(*args):
        """``Dataset.range(stop)``, ``range(start, stop[, step])``: int64 numbers, as ``range``."""
        return Dataset.from_tensor_slices(np.arange(*args, dtype=np.int64))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None):
        """The elements a Python generator yields; ``generator`` is called once per pass.

        Tuples and dicts it yields are structure, anything else (lists too) one array.
        ``output_signature`` (a ``TensorSpec`` or a tuple or dict of them) gives
        each yielded leaf its dtype and checks its shape; the older
        ``output_types`` (and ``output_shapes``) do the same.  The cardinality
        is unknown.
        """
        if not callable(generator):
            raise TypeError(
                f"from_generator: `generator` must be a function that returns an iterator (called "
                f"once per pass), received {type(generator).__name__}. Pass the function itself: "
                f"from_generator(gen), not from_generator(gen())."
            )
        signature = output_signature
        if signature is None and output_types is not None:
            signature = _signature_from_types(output_types, output_shapes)

        def elements():
            for value in generator(*(args or ())):
                if signature is None:
                    yield map_structure(to_array, value)
                else:
                    yield _conform(value, signature)

        return Dataset(elements, UNKNOWN_CARDINALITY, lambda: signature)

    @staticmethod
    def zip(*datasets):
        """Elements taken side by side: ``zip((a, b))`` (or ``zip(a, b)``) gives
        ``(a_i, b_i)``; ``zip({"x": a, "y": b})`` gives dicts.  Stops with the shortest."""
        structure = datasets[0] if len(datasets) == 1 else datasets
        parts = flatten(structure)
        for part in parts:
            if not isinstance(part, Dataset):
                raise TypeError(
                    f"Dataset.zip takes datasets (a tuple or dict of them), received a "
                    f"{type(part).__name__}."
                )

        def elements():
            for leaves in zip(*(part._elements() for part in parts)):
                yield pack_like(structure, leaves)

        return Dataset(elements, zipped_cardinality([part._cardinality for part in parts]),
                       lambda: pack_like(structure, [part.element_spec for part in parts]))

    # -- operations -------------------------------------------------------------

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """``map_func`` applied to every element.

        A tuple element is passed as separate arguments (``lambda x, y: ...``),
        anything else as one.  ``num_parallel_calls`` and ``deterministic`` are
        accepted for tf.data's sake: minidl calls ``map_func`` in order, one
        element at a time.
        """

        def elements():
            for element in self._elements():
                yield as_element(_call_with_parts(map_func, element))

        def spec():  # map_func's result on the first element (tf.data traces map_func)
            first = next(iter(self._elements()), None)
            if first is None:
                return None
            result = spec_of(as_element(_call_with_parts(map_func, first)))
            if all(leaf.shape and leaf.shape[0] is None for leaf in flatten(self.element_spec)):
                result = map_structure(lambda leaf: leaf.with_first_axis(None), result)
            return result

        return Dataset(elements, self._cardinality, spec)

    def filter(self, predicate):
        """The elements for which ``predicate`` (called as ``map``'s function is) is True."""

        def elements():
            for element in self._elements():
                if _is_true(_call_with_parts(predicate, element), predicate):
                    yield element

        return Dataset(elements, UNKNOWN_CARDINALITY, self._same_spec)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None):
        """Consecutive elements stacked into arrays with a new first axis of ``batch_size``.

        The structure is kept: a dataset of ``(x, y)`` gives batches ``(xs, ys)``.
        The last batch is smaller when the elements do not divide evenly, unless
        ``drop_remainder``.  (``num_parallel_calls``, ``deterministic``: ignored.)
        """
        batch_size = check_positive(batch_size, "batch_size")

        def batches():
            group = []
            for element in self._elements():
                group.append(element)
                if len(group) == batch_size:
                    yield _stack(group)
                    group = []
            if group and not drop_remainder:
                yield _stack(group)

        return Dataset(batches, batched_cardinality(self._cardinality, batch_size, drop_remainder),
                       self._batched_spec(batch_size, drop_remainder))

    def unbatch(self):
        """The rows of each element, one element per row: the inverse of ``batch``."""

        def elements():
            for batch in self._elements():
                leaves = flatten(batch)
                for row in range(_common_length(leaves)):
                    yield pack_like(batch, [leaf[row, ...] for leaf in leaves])

        return Dataset(elements, UNKNOWN_CARDINALITY,
                       lambda: map_structure(TensorSpec.without_first_axis, self.element_spec))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """The elements in random order, through a buffer of ``buffer_size`` (see shuffle.py).

        A buffer at least as large as the dataset shuffles completely.  Each pass
        has a new order unless ``reshuffle_each_iteration=False``.  The random
        numbers come from minidl's generator (``minidl.utils.set_random_seed``),
        or from a generator seeded with ``seed``.
        """
        buffer_size = check_positive(buffer_size, "buffer_size")
        next_generator = generator_source(seed, reshuffle_each_iteration)

        def elements():
            return buffered_shuffle(self._elements(), buffer_size, next_generator())

        return Dataset(elements, self._cardinality, self._same_spec)

    def repeat(self, count=None):
        """The dataset ``count`` times over; forever when ``count`` is None or -1."""
        count = check_count(count, "count")

        def elements():
            passes = itertools.count() if count == -1 else range(count)
            for _ in passes:
                empty = True
                for element in self._elements():
                    empty = False
                    yield element
                if empty:  # an empty dataset repeated is empty, not an endless loop
                    return

        return Dataset(elements, repeated_cardinality(self._cardinality, count), self._same_spec)

    def take(self, count):
        """The first ``count`` elements (all of them when ``count`` is -1)."""
        count = check_count(count, "count")
        if count == -1:
            return self
        return Dataset(lambda: itertools.islice(self._elements(), count),
                       taken_cardinality(self._cardinality, count), self._same_spec)

    def skip(self, count):
        """All but the first ``count`` elements (none of them when ``count`` is -1)."""
        count = check_count(count, "count")
        if count == -1:
            return Dataset(lambda: iter(()), 0, self._same_spec)
        return Dataset(lambda: itertools.islice(self._elements(), count, None),
                       skipped_cardinality(self._cardinality, count), self._same_spec)

    def cache(self, filename=""):
        """Keep the elements of the first complete pass in memory, and replay them.

        Whatever comes before ``cache()`` (reading files, ``map``, even a shuffle)
        runs once; later passes give the same elements in the same order.
        """
        check_in_memory(filename)
        first_pass = None

        def elements():
            nonlocal first_pass
            if first_pass is not None:
                yield from first_pass
                return
            seen = []
            for element in self._elements():
                seen.append(element)
                yield element
            first_pass = seen  # only a pass that reached the end is kept

        return Dataset(elements, self._cardinality, self._same_spec)

    def prefetch(self, buffer_size):
        """The same dataset.

        tf.data prepares the next elements on another thread while the model
        trains.  minidl does not: its pipeline runs in the training thread.  A
        shuffled batch of arrays in memory costs the pipeline about 4 us on top of
        gathering its rows, while handing one batch over from a thread through a
        ``queue.Queue`` took about 15 us (2-core machine), and a second thread
        would compete with training for the interpreter.  (``cache()`` is what
        saves reading files again.)
        """
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, (int, np.integer)) \
                or buffer_size < AUTOTUNE:
            raise ValueError(
                f"prefetch: buffer_size must be a non-negative integer or AUTOTUNE, received "
                f"{buffer_size!r}."
            )
        return self

    # -- reading ----------------------------------------------------------------

    def __iter__(self):
        """The elements, their arrays as ``EagerArray``: NumPy arrays that also have
        ``.numpy()``, so TensorFlow's ``for x, y in ds.take(1): print(x.numpy())`` runs."""
        return (map_structure(eager, element) for element in self._elements())

    def as_numpy_iterator(self):
        """An iterator over the elements as plain NumPy arrays."""
        return iter(self._elements())

    @property
    def element_spec(self):
        """What every element is: a ``TensorSpec`` (shape, dtype) per array, in the
        element's tuple or dict, as tf.data's ``element_spec``.  A size that can
        differ between elements is None: a batch's first axis (unless
        ``drop_remainder``).  Known from the source arrays (or a generator's
        ``output_signature``) and the operations since; where that does not tell (a
        ``map``, a generator without a signature), from the first element.
        """
        spec = None if self._spec is None else self._spec()
        if spec is None:
            first = next(iter(self._elements()), None)
            if first is None:
                raise ValueError("element_spec: the dataset gives no element, and nothing else "
                                 "tells what its elements are (give from_generator an "
                                 "output_signature).")
            spec = spec_of(first)
        return spec

    def _same_spec(self):
        return self.element_spec

    def _batched_spec(self, batch_size, drop_remainder):
        """``element_spec`` after ``batch``: a new first axis, of known size only when
        every batch is full (``drop_remainder``)."""
        size = batch_size if drop_remainder else None
        return lambda: map_structure(lambda leaf: leaf.with_first_axis(size, new=True),
                                     self.element_spec)

    def cardinality(self):
        """The number of elements, or INFINITE_CARDINALITY (-1), or UNKNOWN_CARDINALITY (-2)."""
        return self._cardinality

    def __len__(self):
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self):
        return True  # even when empty or endless, as tf.data's (len() would raise for some)

    def __repr__(self):
        return f"<{type(self).__name__} cardinality={self._cardinality}>"


# -- calling user functions -----------------------------------------------------

def _parts(element):
    """The arguments a tuple element is passed as (a plain tuple only, as tf.data)."""
    return element if type(element) is tuple else (element,)


def _call_with_parts(function, element):
    return function(*_parts(element))


def _is_true(value, predicate):
    keep = np.asarray(value)
    if keep.shape != () or keep.dtype != np.bool_:
        raise TypeError(
            f"filter: the predicate {getattr(predicate, '__name__', predicate)} must return one "
            f"boolean (True/False), received {value!r}."
        )
    return bool(keep)


def _signature_from_types(types, shapes):
    """``output_types`` and ``output_shapes`` (nests of one structure) as TensorSpecs."""
    if isinstance(types, tuple):
        shapes = [None] * len(types) if shapes is None else shapes
        return tuple(_signature_from_types(t, s) for t, s in zip(types, shapes))
    if isinstance(types, dict):
        shapes = shapes or {}
        return {key: _signature_from_types(t, shapes.get(key)) for key, t in types.items()}
    return TensorSpec(shapes, types)


def _conform(value, signature):
    """A yielded value as an element of the structure and dtypes of ``signature``."""
    if isinstance(signature, TensorSpec):
        return signature.conform(to_array(value), "from_generator: a value the generator yielded")
    if isinstance(signature, tuple) and isinstance(value, (tuple, list)) \
            and len(value) == len(signature):
        return tuple(_conform(part, spec) for part, spec in zip(value, signature))
    if isinstance(signature, dict) and isinstance(value, dict) and set(value) == set(signature):
        return {key: _conform(value[key], spec) for key, spec in signature.items()}
    raise ValueError(
        f"from_generator: the generator yielded {_short(value)}, which does not have the "
        f"structure of output_signature {signature}."
    )


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:76] + " ..."


# -- stacking and unstacking ------------------------------------------------------

def _stack(elements):
    """Elements (all of the same structure) stacked into one batch element."""
    columns = zip(*(flatten(element) for element in elements))
    return pack_like(elements[0], [_stack_leaf(column, i) for i, column in enumerate(columns)])


def _stack_leaf(arrays, component):
    first = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != first:
            raise ValueError(
                f"Cannot batch arrays with different shapes in component {component}: the first "
                f"element had shape {first} and element {position} had shape {array.shape}. "
                f"Give them one shape first (for example resize them in a map)."
            )
    return np.stack(arrays)


def _common_length(leaves):
    lengths = {len(leaf) if np.ndim(leaf) else None for leaf in leaves}
    if None in lengths:
        raise ValueError("unbatch: every array of an element needs a first (batch) axis.")
    if len(lengths) > 1:
        raise ValueError(
            f"unbatch: the arrays of an element have different lengths {sorted(lengths)}."
        )
    return lengths.pop()


# -- argument checks (shared with slices.py) ---------------------------------------

def check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {value!r}.")
    return int(value)


def check_count(value, name):
    """A count argument: a non-negative integer, or -1 (None) for "all" / "forever"."""
    if value is None:
        return -1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < -1:
        raise ValueError(f"{name} must be a non-negative integer or -1, received {value!r}.")
    return int(value)


def check_in_memory(filename):
    if filename:
        raise NotImplementedError(
            f"cache(filename={filename!r}): minidl caches in memory only; call cache() without "
            f"a file name."
        )
