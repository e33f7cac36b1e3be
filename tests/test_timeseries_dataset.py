"""minidl.utils.timeseries_dataset_from_array against Keras 2's (tf_keras 2.21) behaviour.

Every expected batch below was printed by tf_keras 2.21 for the same call
(``[b.numpy().tolist() for b in ds]``) and copied here.  Keras's shuffle
mixes through a TensorFlow shuffle buffer whose random numbers NumPy cannot
reproduce, so shuffled datasets are checked for what they contain, not for
Keras's exact order.
"""

import numpy as np
import pytest

import minidl
from minidl.utils import timeseries_dataset_from_array


def batches(ds):
    """Every batch as lists: ``(inputs, targets)`` pairs, or inputs alone."""
    return [tuple(np.asarray(part).tolist() for part in batch) if isinstance(batch, tuple)
            else np.asarray(batch).tolist() for batch in ds]


DATA = np.arange(20)

# (arguments, tf_keras 2.21's cardinality and batches)
KERAS_OUTPUTS = [
    (dict(data=DATA, targets=DATA * 10, sequence_length=4, batch_size=3), 6, [
        ([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]], [0, 10, 20]),
        ([[3, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8]], [30, 40, 50]),
        ([[6, 7, 8, 9], [7, 8, 9, 10], [8, 9, 10, 11]], [60, 70, 80]),
        ([[9, 10, 11, 12], [10, 11, 12, 13], [11, 12, 13, 14]], [90, 100, 110]),
        ([[12, 13, 14, 15], [13, 14, 15, 16], [14, 15, 16, 17]], [120, 130, 140]),
        ([[15, 16, 17, 18], [16, 17, 18, 19]], [150, 160])]),  # the last batch is partial
    (dict(data=DATA, targets=None, sequence_length=3, sequence_stride=3, sampling_rate=2,
          batch_size=2), 3, [
        [[0, 2, 4], [3, 5, 7]], [[6, 8, 10], [9, 11, 13]], [[12, 14, 16], [15, 17, 19]]]),
    (dict(data=DATA, targets=DATA * 10, sequence_length=3, start_index=5, end_index=12,
          batch_size=4), 2, [
        ([[5, 6, 7], [6, 7, 8], [7, 8, 9], [8, 9, 10]], [50, 60, 70, 80]),
        ([[9, 10, 11]], [90])]),
    (dict(data=np.arange(8).reshape(4, 2), targets=None, sequence_length=2, batch_size=None), 3, [
        [[0, 1], [2, 3]], [[2, 3], [4, 5]], [[4, 5], [6, 7]]]),
    # fewer targets than windows: the windows without a target are left out
    (dict(data=DATA, targets=np.arange(5), sequence_length=3, batch_size=10), 1, [
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]], [0, 1, 2, 3, 4])]),
    (dict(data=DATA, targets=np.arange(20), sequence_length=3, start_index=10, batch_size=100),
     1, [([[10, 11, 12], [11, 12, 13], [12, 13, 14], [13, 14, 15], [14, 15, 16], [15, 16, 17],
           [16, 17, 18], [17, 18, 19]], [10, 11, 12, 13, 14, 15, 16, 17])]),
]


@pytest.mark.parametrize("arguments, cardinality, expected", KERAS_OUTPUTS)
def test_batches_as_keras_gives_them(arguments, cardinality, expected):
    ds = timeseries_dataset_from_array(**arguments)
    assert isinstance(ds, minidl.data.Dataset)
    assert ds.cardinality() == cardinality
    assert batches(ds) == expected
    assert batches(ds) == expected  # a second pass is the same


def test_the_docstring_example_predicts_the_next_step():
    """Keras's Example 2: targets = data[sequence_length:] pairs each window with the step after."""
    data = np.arange(15)
    inputs, targets = next(iter(timeseries_dataset_from_array(data[:], data[10:], 10)))
    np.testing.assert_array_equal(inputs, [np.arange(10) + i for i in range(5)])
    np.testing.assert_array_equal(targets, [10, 11, 12, 13, 14])


@pytest.mark.parametrize("data, dtype", [
    ([1, 2, 3, 4], np.int32), ([1.0, 2.0, 3.0, 4.0], np.float32),  # TensorFlow's list dtypes
    (np.arange(4.0), np.float64), (np.arange(4, dtype=np.int64), np.int64),  # arrays keep theirs
])
def test_dtypes_as_keras(data, dtype):
    inputs, targets = next(iter(timeseries_dataset_from_array(data, data, 2)))
    assert inputs.dtype == dtype and targets.dtype == dtype


def test_features_and_targets_keep_their_trailing_axes():
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    targets = np.arange(20, dtype=np.float32).reshape(10, 2)
    inputs, labels = next(iter(timeseries_dataset_from_array(data, targets, 4, batch_size=5)))
    assert inputs.shape == (5, 4, 3) and labels.shape == (5, 2)
    np.testing.assert_array_equal(inputs[2], data[2:6])
    np.testing.assert_array_equal(labels[2], targets[2])


# tf_keras 2.21's messages for the same arguments (data of length 20, sequence_length=3)
@pytest.mark.parametrize("arguments, message", [
    (dict(sampling_rate=0), "`sampling_rate` must be higher than 0. Received: sampling_rate=0"),
    (dict(sequence_stride=-1),
     "`sequence_stride` must be higher than 0. Received: sequence_stride=-1"),
    (dict(start_index=-1), "`start_index` must be 0 or greater. Received: start_index=-1"),
    (dict(start_index=20), "`start_index` must be lower than the length of the data. Received: "
                           "start_index=20, for data of length 20"),
    (dict(end_index=25), "`end_index` must be lower than the length of the data. Received: "
                         "end_index=25, for data of length 20"),
    (dict(start_index=5, end_index=5), "`end_index` must be higher than `start_index`. "
                                       "Received: start_index=5, and end_index=5"),
    (dict(end_index=-3), "`end_index` must be higher than 0. Received: end_index=-3"),
    (dict(sampling_rate=20), "`sampling_rate` must be lower than the length of the data. "
                             "Received: sampling_rate=20, for data of length 20"),
    (dict(sequence_stride=20), "`sequence_stride` must be lower than the length of the data. "
                               "Received: sequence_stride=20, for data of length 20"),
])
def test_bad_arguments_raise_keras_errors(arguments, message):
    with pytest.raises(ValueError) as caught:
        timeseries_dataset_from_array(DATA, None, **{"sequence_length": 3, **arguments})
    assert str(caught.value) == message


# Where Keras 2 gives an empty dataset (sequence_length too long, end_index=0) or a window
# of no steps (sequence_length=0), fails at the first batch (sequence_length < 0,
# batch_size=0, too few targets after start_index), or takes a float, minidl refuses at once.
@pytest.mark.parametrize("arguments, error, words", [
    (dict(sequence_length=30), ValueError,
     ["no window fits", "sequence_length=30", "spans 30 steps", "has only 20", "empty dataset"]),
    (dict(sequence_length=5, sampling_rate=5), ValueError, ["spans 21 steps", "has only 20"]),
    (dict(sequence_length=8, start_index=10, end_index=15), ValueError,
     ["data[10:15]", "has only 5"]),
    (dict(end_index=0), ValueError, ["`end_index` must be higher than 0"]),
    (dict(sequence_length=0), ValueError, ["`sequence_length` must be higher than 0"]),
    (dict(sequence_length=-2), ValueError, ["sequence_length=-2"]),
    (dict(batch_size=0), ValueError, ["`batch_size` must be higher than 0"]),
    (dict(sequence_length=2.5), TypeError, ["`sequence_length` must be an integer", "2.5"]),
    (dict(sequence_stride="2"), TypeError, ["sequence_stride='2'"]),
    (dict(sampling_rate=True), TypeError, ["sampling_rate=True"]),
    (dict(start_index=1.0), TypeError, ["`start_index` must be an integer or None"]),
    (dict(targets=np.arange(12), start_index=5), ValueError,
     ["targets has 12 entries", "data[16]", "targets[16]", "start_index=5"]),
    (dict(targets=[]), ValueError, ["targets must be an array of at least one step"]),
    (dict(data=[]), ValueError, ["data must be an array of at least one step"]),
    (dict(data=3.0), ValueError, ["data must be an array", "3.0"]),
])
def test_hostile_arguments_are_refused(arguments, error, words):
    call = {"data": DATA, "targets": None, "sequence_length": 3, **arguments}
    with pytest.raises(error) as caught:
        timeseries_dataset_from_array(**call)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_shuffle_with_a_seed_gives_every_window_with_its_target():
    data = np.arange(100, dtype=np.float32)
    ds = timeseries_dataset_from_array(data, data * 2, 5, batch_size=8, shuffle=True, seed=7)
    assert ds.cardinality() == 12
    passes = []
    for _ in range(2):
        starts = []
        for inputs, targets in ds:
            assert inputs.shape[1:] == (5,) and len(inputs) <= 8
            np.testing.assert_array_equal(inputs, inputs[:, :1] + np.arange(5))  # whole windows
            np.testing.assert_array_equal(targets, inputs[:, 0] * 2)  # each with its target
            starts += inputs[:, 0].astype(int).tolist()
        assert sorted(starts) == list(range(96))
        passes.append(starts)
    assert passes[0] != list(range(96)) and passes[1] != passes[0]  # shuffled, and reshuffled
    again = timeseries_dataset_from_array(data, data * 2, 5, batch_size=8, shuffle=True, seed=7)
    assert [inputs[:, 0].astype(int).tolist() for inputs, _ in again] == [
        passes[0][i:i + 8] for i in range(0, 96, 8)]  # the same seed, the same orders


def test_shuffle_without_a_seed_follows_set_random_seed():
    def first_pass():
        ds = timeseries_dataset_from_array(np.arange(50), None, 3, batch_size=None, shuffle=True)
        return [int(window[0]) for window in ds]

    minidl.utils.set_random_seed(3)
    first = first_pass()
    minidl.utils.set_random_seed(3)
    assert first_pass() == first and sorted(first) == list(range(48))


def test_windows_are_gathered_per_batch_not_in_advance():
    """Four million steps in windows of 1000: all windows at once would be 16 GB."""
    data = np.zeros((4_000_000, 1), np.float32)
    data[:, 0] = np.arange(4_000_000) % 1000
    ds = timeseries_dataset_from_array(data, None, 1000, batch_size=4)
    assert ds.cardinality() == 999_751  # ceil((4_000_000 - 999) / 4)
    first = next(iter(ds.skip(250)))
    assert first.shape == (4, 1000, 1)
    np.testing.assert_array_equal(first[1, :3, 0], [1, 2, 3])  # the window starting at 1001


def test_dataset_methods_work_on_it():
    ds = timeseries_dataset_from_array(DATA, DATA * 10, 4, batch_size=3)
    halves = ds.map(lambda x, y: (x / 2, y)).take(2)
    assert halves.cardinality() == 2
    assert batches(halves)[1] == ([[1.5, 2.0, 2.5, 3.0], [2.0, 2.5, 3.0, 3.5],
                                   [2.5, 3.0, 3.5, 4.0]], [30, 40, 50])
    windows = list(ds.unbatch())
    assert len(windows) == 17 and windows[16][0].tolist() == [16, 17, 18, 19]
    assert len(list(ds.repeat(2))) == 12


def test_fit_trains_on_it():
    minidl.utils.set_random_seed(0)
    series = np.sin(np.arange(300) * 0.2).astype(np.float32)[:, None]
    ds = timeseries_dataset_from_array(series[:-8], series[8:, 0], 8, batch_size=32)
    model = minidl.Sequential([minidl.Input((8, 1)), minidl.layers.Flatten(),
                               minidl.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict(ds, verbose=0).shape == (285, 1)


def test_reachable_where_keras_has_it():
    assert minidl.preprocessing.timeseries_dataset_from_array is timeseries_dataset_from_array
    assert minidl.keras.utils.timeseries_dataset_from_array is timeseries_dataset_from_array
    assert "timeseries_dataset_from_array" in dir(minidl.preprocessing)
