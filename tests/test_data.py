"""minidl.data.Dataset against tf.data's documented results.

Expected values come from tf.data's documentation examples or were printed
by TensorFlow 2.21 (``tf.data.Dataset``, same calls) and copied here; the
comments say which.  Shuffled orders cannot match TensorFlow's (another random
generator), so for them the tests check the documented semantics instead.
"""

import collections

import numpy as np
import pytest

from minidl.data import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
    TensorSpec,
)
from minidl.data.slices import SlicesDataset
from minidl.utils import set_random_seed


def values(dataset):
    """The elements as plain Python values (lists, tuples, dicts of numbers)."""
    def plain(element):
        if isinstance(element, tuple):
            return tuple(plain(part) for part in element)
        if isinstance(element, dict):
            return {key: plain(part) for key, part in element.items()}
        return element.tolist()

    return [plain(element) for element in dataset]


def identity(element):
    return element


# -- from_tensor_slices, structure ---------------------------------------------------

def test_slices_of_an_array_are_its_rows():
    x = np.arange(6).reshape(3, 2)
    assert values(Dataset.from_tensor_slices(x)) == [[0, 1], [2, 3], [4, 5]]


def test_scalar_elements_are_arrays_of_shape_empty():
    element = next(iter(Dataset.from_tensor_slices(np.array([1.5, 2.5]))))
    assert isinstance(element, np.ndarray) and element.shape == () and element.dtype == np.float64


def test_python_lists_get_tensorflows_dtypes():
    # tf: from_tensor_slices([1.0, 2.0]) -> float32; [1, 2] -> int32; a float64 array stays float64
    assert next(iter(Dataset.from_tensor_slices([1.0, 2.0]))).dtype == np.float32
    assert next(iter(Dataset.from_tensor_slices([1, 2]))).dtype == np.int32
    assert next(iter(Dataset.from_tensor_slices(np.array([1.0])))).dtype == np.float64


def test_a_list_of_arrays_is_one_array_as_in_tf():
    # tf: from_tensor_slices([np.zeros((3, 2)), np.ones((3, 2))]) has 2 elements of shape (3, 2)
    ds = Dataset.from_tensor_slices([np.zeros((3, 2)), np.ones((3, 2))])
    assert len(ds) == 2 and next(iter(ds)).shape == (3, 2)


def test_tuples_dicts_and_nests_keep_their_structure():
    x, y = np.arange(6).reshape(3, 2), np.array([7, 8, 9])
    assert values(Dataset.from_tensor_slices((x, y)))[1] == ([2, 3], 8)
    assert values(Dataset.from_tensor_slices({"a": y, "b": x}))[2] == {"a": 9, "b": [4, 5]}
    nested = Dataset.from_tensor_slices(({"age": y, "fare": y * 2}, y))
    assert values(nested)[0] == ({"age": 7, "fare": 14}, 7)
    Pair = collections.namedtuple("Pair", "x y")
    element = next(iter(Dataset.from_tensor_slices(Pair(x, y))))
    assert isinstance(element, Pair) and element.y == 7


def test_elements_are_read_only_views_not_copies():
    x = np.arange(6.0).reshape(3, 2)
    row = next(iter(Dataset.from_tensor_slices(x)))
    assert np.shares_memory(row, x)
    with pytest.raises(ValueError, match="read-only"):
        row[0] = 1.0
    assert x.flags.writeable  # the caller's array is untouched


def test_slices_refuse_mismatched_lengths_and_scalars():
    with pytest.raises(ValueError, match=r"same length.*\[3, 2\]"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(2)))
    with pytest.raises(ValueError, match="single value"):
        Dataset.from_tensor_slices(5)


def test_iterating_twice_gives_two_passes():
    ds = Dataset.from_tensor_slices(np.arange(3)).map(lambda v: v * 2)
    assert values(ds) == values(ds) == [0, 2, 4]
    assert values(ds.as_numpy_iterator()) == [0, 2, 4]


# -- batch and unbatch ----------------------------------------------------------------

def test_batch_as_documented():
    # tf docs: Dataset.range(8).batch(3) -> [0, 1, 2], [3, 4, 5], [6, 7]; with drop_remainder
    # the last is dropped
    assert values(Dataset.range(8).batch(3)) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert values(Dataset.range(8).batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]


def test_batch_keeps_tuples_and_dicts():
    # printed by tf: from_tensor_slices({"a": [1, 2, 3], "b": [3, 4, 5]}).batch(2)
    ds = Dataset.from_tensor_slices({"a": [1, 2, 3], "b": [3, 4, 5]}).batch(2)
    assert values(ds) == [{"a": [1, 2], "b": [3, 4]}, {"a": [3], "b": [5]}]
    batch = next(iter(ds))
    assert batch["a"].dtype == np.int32
    x_batch, y_batch = next(iter(Dataset.from_tensor_slices((np.zeros((5, 4)), np.arange(5))).batch(2)))
    assert x_batch.shape == (2, 4) and y_batch.tolist() == [0, 1]


def test_the_fast_and_the_element_by_element_batches_agree():
    x = np.random.default_rng(0).random((10, 3)).astype(np.float32)
    fast = Dataset.from_tensor_slices((x, np.arange(10))).batch(4)
    slow = Dataset.from_tensor_slices((x, np.arange(10))).map(lambda a, b: (a, b)).batch(4)
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(fx, sx)
        np.testing.assert_array_equal(fy, sy)


def test_batching_slices_gathers_batches_without_element_by_element_work(monkeypatch):
    def no_elements(self):
        raise AssertionError("a batch of slices was built element by element")

    monkeypatch.setattr(SlicesDataset, "_elements_one_by_one", no_elements)
    ds = Dataset.from_tensor_slices((np.zeros((100, 3)), np.arange(100)))
    batches = list(ds.shuffle(100, seed=0).repeat(2).skip(3).take(150).batch(32))
    assert [len(y) for _, y in batches] == [32, 32, 32, 32, 22]


def test_batching_elements_of_different_shapes_is_a_clear_error():
    ds = Dataset.from_generator(lambda: iter([np.zeros(2), np.zeros(3)])).batch(2)
    with pytest.raises(ValueError, match=r"component 0.*shape \(2,\).*element 1.*shape \(3,\)"):
        list(ds)


def test_unbatch_is_the_inverse_of_batch():
    # printed by tf: from_tensor_slices(np.arange(6).reshape(3, 2)).batch(2).unbatch()
    ds = Dataset.from_tensor_slices(np.arange(6).reshape(3, 2)).batch(2).unbatch()
    assert values(ds) == [[0, 1], [2, 3], [4, 5]]
    pairs = Dataset.from_tensor_slices((np.arange(4), np.arange(4) * 10)).batch(3).unbatch()
    assert values(pairs) == [(0, 0), (1, 10), (2, 20), (3, 30)]
    assert pairs.cardinality() == UNKNOWN_CARDINALITY


# -- map and filter -----------------------------------------------------------------

def test_map_passes_a_tuples_parts_as_arguments():
    # printed by tf: from_tensor_slices(([1, 2], [3, 4])).map(lambda a, b: (a * 10, b))
    ds = Dataset.from_tensor_slices(([1, 2], [3, 4])).map(lambda a, b: (a * 10, b))
    assert values(ds) == [(10, 3), (20, 4)]


def test_map_passes_a_dict_as_one_argument():
    # printed by tf: from_tensor_slices({"a": [1, 2], "b": [3, 4]}).map(lambda d: d["a"] + d["b"])
    ds = Dataset.from_tensor_slices({"a": [1, 2], "b": [3, 4]}).map(lambda d: d["a"] + d["b"])
    assert values(ds) == [4, 6]


def test_map_results_become_arrays_and_lists_become_tuples():
    # tf: Dataset.range(2).map(lambda x: [x, x]) has a tuple of two int64 scalars as element spec
    pair = next(iter(Dataset.range(2).map(lambda v: [v, v])))
    assert isinstance(pair, tuple) and pair[0].dtype == np.int64
    number = next(iter(Dataset.range(1).map(lambda v: 1.5)))
    assert number.shape == () and number.dtype == np.float32
    assert Dataset.range(5).map(identity, num_parallel_calls=AUTOTUNE).cardinality() == 5


def test_filter_as_documented():
    # tf docs: from_tensor_slices([1, 2, 3]).filter(lambda x: x < 3) -> [1, 2]
    assert values(Dataset.from_tensor_slices([1, 2, 3]).filter(lambda v: v < 3)) == [1, 2]
    pairs = Dataset.from_tensor_slices(([1, 2, 3], [4, 5, 6])).filter(lambda a, b: b != 5)
    assert values(pairs) == [(1, 4), (3, 6)]
    assert pairs.cardinality() == UNKNOWN_CARDINALITY


def test_filter_wants_one_boolean():
    with pytest.raises(TypeError, match="one boolean"):
        list(Dataset.range(3).filter(lambda v: v))


# -- shuffle -------------------------------------------------------------------------

def orders(dataset, passes=1):
    return [values(dataset) for _ in range(passes)]


def test_shuffle_is_repeatable_with_set_random_seed():
    ds = Dataset.range(20).shuffle(20)
    set_random_seed(3)
    first = orders(ds, passes=2)
    set_random_seed(3)
    assert orders(ds, passes=2) == first
    assert first[0] != first[1]  # a new order for each pass
    assert sorted(first[0]) == list(range(20))


def test_shuffle_with_a_seed_ignores_the_global_generator():
    set_random_seed(1)
    first = orders(Dataset.range(20).shuffle(20, seed=5), passes=2)
    set_random_seed(2)
    assert orders(Dataset.range(20).shuffle(20, seed=5), passes=2) == first


def test_shuffle_without_reshuffling_repeats_its_order():
    ds = Dataset.range(10).shuffle(10, reshuffle_each_iteration=False)
    first, second = orders(ds, passes=2)
    assert first == second and first != list(range(10))
    # tf docs: shuffle(..., reshuffle_each_iteration=False).repeat(2) gives one order twice
    assert values(ds.repeat(2)) == first + first


def test_shuffle_then_repeat_reshuffles_each_repetition():
    order = values(Dataset.range(10).shuffle(10, seed=0).repeat(2))
    assert sorted(order[:10]) == sorted(order[10:]) == list(range(10))
    assert order[:10] != order[10:]


def test_a_small_buffer_only_mixes_nearby_elements():
    for seed in range(5):
        order = values(Dataset.range(50).shuffle(4, seed=seed))
        assert sorted(order) == list(range(50))
        # element i is in the buffer only once elements 0 .. i - 4 have left it
        assert all(position >= element - 3 for position, element in enumerate(order))
        assert order[0] in range(4)
    assert values(Dataset.range(10).shuffle(1)) == list(range(10))  # a buffer of one


def test_the_fast_and_the_element_by_element_shuffles_agree():
    for buffer_size in (3, 10, 50):
        fast = values(Dataset.range(30).shuffle(buffer_size, seed=7))
        slow = values(Dataset.range(30).map(identity).shuffle(buffer_size, seed=7))
        assert fast == slow


def test_an_endless_shuffled_stream_batches():
    # repeat() before shuffle: the buffer mixes across passes, the stream never ends
    ds = Dataset.range(10).repeat().shuffle(4, seed=0).batch(4)
    assert ds.cardinality() == INFINITE_CARDINALITY
    rows = np.concatenate(list(ds.take(25))).tolist()
    slow = Dataset.range(10).map(identity).repeat().shuffle(4, seed=0).batch(4)
    assert len(rows) == 100 and rows == np.concatenate(list(slow.take(25))).tolist()
    assert set(rows[:10]) != set(range(10))  # the first ten mix in the next pass's elements


# -- repeat, take, skip, cache, prefetch ---------------------------------------------

def test_repeat_take_skip_as_documented():
    # tf docs: from_tensor_slices([1, 2, 3]).repeat(3) -> 1, 2, 3, 1, 2, 3, 1, 2, 3;
    # range(10).take(3) -> 0, 1, 2; range(10).skip(7) -> 7, 8, 9
    assert values(Dataset.from_tensor_slices([1, 2, 3]).repeat(3)) == [1, 2, 3] * 3
    assert values(Dataset.range(10).take(3)) == [0, 1, 2]
    assert values(Dataset.range(10).skip(7)) == [7, 8, 9]
    # printed by tf: range(10).skip(3).take(4) -> 3, 4, 5, 6
    assert values(Dataset.range(10).skip(3).take(4)) == [3, 4, 5, 6]
    assert values(Dataset.range(3).take(-1)) == [0, 1, 2] and values(Dataset.range(3).skip(-1)) == []


def test_batches_run_across_repetitions():
    # printed by tf: range(10).repeat(2).batch(4)
    expected = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert values(Dataset.range(10).repeat(2).batch(4)) == expected
    assert values(Dataset.range(10).map(identity).repeat(2).batch(4)) == expected


def test_endless_repeat_and_empty_repeat():
    assert values(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert values(Dataset.range(3).map(identity).repeat().take(4)) == [0, 1, 2, 0]
    assert values(Dataset.range(0).repeat()) == []  # ends, as in tf
    assert values(Dataset.range(3).filter(lambda v: v > 5).repeat()) == []


def test_cache_replays_the_first_pass():
    calls = []
    ds = Dataset.range(4).map(lambda v: calls.append(int(v)) or v * 2).cache()
    assert values(ds) == values(ds) == [0, 2, 4, 6]
    assert calls == [0, 1, 2, 3]  # map ran once
    shuffled = Dataset.range(10).shuffle(10).cache()
    assert values(shuffled) == values(shuffled)  # the order is cached too
    with pytest.raises(NotImplementedError, match="in memory"):
        Dataset.range(3).cache("/tmp/cache")


def test_a_partial_pass_is_not_cached():
    for ds in (Dataset.range(10), Dataset.range(10).map(identity)):
        cached = ds.shuffle(10, seed=0).cache()
        partial = values(cached.take(3))
        full = values(cached)  # a new pass, shuffled anew, since the first did not end
        assert full[:3] != partial
        assert values(cached) == full


def test_prefetch_changes_nothing():
    ds = Dataset.range(5).batch(2)
    assert ds.prefetch(AUTOTUNE) is ds and ds.prefetch(2) is ds
    assert AUTOTUNE == -1
    with pytest.raises(ValueError):
        ds.prefetch(-5)


# -- cardinality and len -------------------------------------------------------------

def test_cardinality_follows_tf():
    r = Dataset.range(10)
    unknown = r.filter(lambda v: True)
    # each value printed by tf.data's cardinality() for the same pipeline
    cases = [
        (r.batch(3), 4), (r.batch(3, drop_remainder=True), 3), (r.repeat().batch(3), -1),
        (r.take(20), 10), (r.take(-1), 10), (r.repeat().take(5), 5), (unknown.take(5), -2),
        (r.skip(20), 0), (r.skip(-1), 0), (r.repeat().skip(5), -1), (unknown.skip(5), -2),
        (r.repeat(0), 0), (r.take(0).repeat(), 0), (unknown.repeat(), -1), (unknown.repeat(0), 0),
        (r.repeat(-1), -1), (r.repeat(3), 30), (r.batch(3).unbatch(), -2),
        (Dataset.zip((r, r.take(3))), 3), (Dataset.zip((r, unknown)), -2),
        (Dataset.zip((r.repeat(), r)), 10), (Dataset.zip((r.repeat(), unknown)), -2),
        (r.cache(), 10), (r.prefetch(1), 10), (r.shuffle(3), 10), (r.map(identity), 10),
        (r.map(identity).take(4), 4), (r.map(identity).skip(4), 6), (r.map(identity).repeat(2), 20),
        (r.map(identity).batch(4), 3), (r.map(identity).shuffle(3), 10),
    ]
    assert [ds.cardinality() for ds, _ in cases] == [expected for _, expected in cases]
    assert (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY) == (-1, -2)


def test_len_when_known_and_tfs_errors_otherwise():
    assert len(Dataset.range(10).batch(3)) == 4
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(Dataset.range(3).repeat())
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(Dataset.range(3).filter(lambda v: True))
    assert Dataset.range(3).repeat() and Dataset.range(0)  # truthy, as tf's datasets


# -- range, zip, from_generator --------------------------------------------------------

def test_range_as_python_range():
    # printed by tf: range(2, 10, 3) -> 2, 5, 8 (int64); range(10, 0, -3) -> 10, 7, 4, 1
    assert values(Dataset.range(2, 10, 3)) == [2, 5, 8]
    assert values(Dataset.range(10, 0, -3)) == [10, 7, 4, 1]
    assert next(iter(Dataset.range(3))).dtype == np.int64 and len(Dataset.range(10, 0, -3)) == 4


def test_zip_tuples_varargs_and_dicts():
    # printed by tf: zip(range(2), range(3)) -> (0, 0), (1, 1); zip of a dict gives dicts
    assert values(Dataset.zip(Dataset.range(2), Dataset.range(3))) == [(0, 0), (1, 1)]
    assert values(Dataset.zip((Dataset.range(2), Dataset.range(2).map(lambda v: v * 3)))) == \
        [(0, 0), (1, 3)]
    assert values(Dataset.zip({"a": Dataset.range(2), "b": Dataset.range(2)})) == \
        [{"a": 0, "b": 0}, {"a": 1, "b": 1}]
    with pytest.raises(TypeError, match="takes datasets"):
        Dataset.zip((Dataset.range(2), [1, 2]))


def test_from_generator_calls_the_generator_each_pass():
    def pairs():
        for i in range(3):
            yield [i, i + 1], i

    signature = (TensorSpec((None,), "float32"), TensorSpec((), "int64"))
    ds = Dataset.from_generator(pairs, output_signature=signature)
    assert values(ds) == values(ds) == [([0.0, 1.0], 0), ([1.0, 2.0], 1), ([2.0, 3.0], 2)]
    x, y = next(iter(ds))
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert ds.cardinality() == UNKNOWN_CARDINALITY
    old_style = Dataset.from_generator(pairs, ("float32", "int64"), ((None,), ()))
    assert values(old_style) == values(ds)
    with_args = Dataset.from_generator(lambda n: iter(range(n)), args=(2,))
    assert values(with_args) == [0, 1]


def test_from_generator_errors_name_the_problem():
    with pytest.raises(TypeError, match="function itself"):
        Dataset.from_generator(iter([1, 2]))
    ds = Dataset.from_generator(lambda: iter([[1, 2, 3]]), output_signature=TensorSpec((2,)))
    with pytest.raises(ValueError, match=r"expected shape \(2,\).*shape \(3,\)"):
        list(ds)
    signature = (TensorSpec(()), TensorSpec(()))
    ds = Dataset.from_generator(lambda: iter([{"x": 1, "y": 2}]), output_signature=signature)
    with pytest.raises(ValueError, match="structure of output_signature"):
        list(ds)


def test_argument_checks():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, received 0"):
        Dataset.range(3).batch(0)
    with pytest.raises(ValueError, match="buffer_size must be a positive integer"):
        Dataset.range(3).shuffle(0)
    with pytest.raises(ValueError, match="count must be a non-negative integer or -1"):
        Dataset.range(3).take(-2)
