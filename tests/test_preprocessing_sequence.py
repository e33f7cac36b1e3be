"""keras.preprocessing.sequence beyond pad_sequences: TimeseriesGenerator,
make_sampling_table and skipgrams, against tf_keras 2.21 (values copied as
literals; the same seeds of Python's and NumPy's global generators)."""

import json
import random

import numpy as np
import pytest

import minidl
from minidl import keras, layers
from minidl.preprocessing.sequence import TimeseriesGenerator, make_sampling_table, skipgrams

DATA = np.arange(50, dtype="float32").reshape(25, 2)
TARGETS = np.arange(25) * 10


def test_keras_names():
    sequence = keras.preprocessing.sequence
    assert sequence.TimeseriesGenerator is TimeseriesGenerator
    assert sequence.skipgrams is skipgrams and sequence.make_sampling_table is make_sampling_table
    assert isinstance(TimeseriesGenerator(DATA, TARGETS, 5), minidl.utils.Sequence)


def test_timeseries_generator_windows_as_tf_keras():
    plain = TimeseriesGenerator(DATA, TARGETS, length=5, batch_size=4)
    assert len(plain) == 5
    x, y = plain[0]
    np.testing.assert_array_equal(x, [DATA[r - 5:r] for r in range(5, 9)])
    np.testing.assert_array_equal(y, [50, 60, 70, 80])
    generator = TimeseriesGenerator(DATA, TARGETS, length=6, sampling_rate=2, stride=3,
                                    start_index=2, end_index=20, reverse=True, batch_size=2)
    assert len(generator) == 3
    x, y = generator[1]
    np.testing.assert_array_equal(x, [[[24, 25], [20, 21], [16, 17]],
                                      [[30, 31], [26, 27], [22, 23]]])
    np.testing.assert_array_equal(y, [140, 170])
    x, y = generator[2]
    np.testing.assert_array_equal(x, [[[36, 37], [32, 33], [28, 29]]])
    np.testing.assert_array_equal(y, [200])


def test_timeseries_generator_shuffle_draws_from_numpy_as_tf_keras():
    np.random.seed(5)
    _, y = TimeseriesGenerator(DATA, TARGETS, length=3, shuffle=True, batch_size=3)[0]
    np.testing.assert_array_equal(y, [60, 170, 180])


def test_timeseries_generator_config_and_errors():
    generator = TimeseriesGenerator(list(range(6)), list(range(6)), length=2, batch_size=3)
    assert generator.get_config() == {
        "data": "[0, 1, 2, 3, 4, 5]", "targets": "[0, 1, 2, 3, 4, 5]", "length": 2,
        "sampling_rate": 1, "stride": 1, "start_index": 2, "end_index": 5, "shuffle": False,
        "reverse": False, "batch_size": 3}
    assert json.loads(generator.to_json())["class_name"] == "TimeseriesGenerator"
    with pytest.raises(ValueError, match="same length"):
        TimeseriesGenerator(DATA, TARGETS[:-1], length=5)
    with pytest.raises(ValueError, match="start_index"):
        TimeseriesGenerator(DATA, TARGETS, length=30)
    for bad in ({"length": 0}, {"length": 2.5}, {"stride": 0}, {"batch_size": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TimeseriesGenerator(DATA, TARGETS, **{"length": 5, **bad})


def test_timeseries_generator_feeds_fit():
    model = minidl.Sequential([minidl.Input((5, 2)), layers.LSTM(2), layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(TimeseriesGenerator(DATA / 50, TARGETS / 250, length=5, batch_size=4),
                        epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_make_sampling_table_as_tf_keras():
    np.testing.assert_allclose(make_sampling_table(8), [
        0.0031522478751942504, 0.0031522478751942504, 0.0054759726939176976,
        0.007415564097374219, 0.009128167456366161, 0.010684345040995184,
        0.012123806302675509, 0.013471624356952072], rtol=1e-12)


def test_skipgrams_as_tf_keras():
    random.seed(3)
    assert skipgrams([1, 2, 0, 3, 4], 6, window_size=2) == (
        [[4, 1], [2, 3], [1, 5], [2, 1], [2, 1], [1, 2], [3, 4], [4, 3], [3, 5], [3, 2],
         [3, 4], [2, 3]],
        [0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1])
    random.seed(5)
    assert skipgrams([4, 1, 2], 5, window_size=1, categorical=True, seed=7) == (
        [[2, 2], [1, 1], [1, 2], [4, 1], [4, 1], [2, 1], [1, 4], [1, 4]],
        [[1, 0], [1, 0], [0, 1], [1, 0], [0, 1], [0, 1], [0, 1], [1, 0]])
    assert skipgrams([0, 0], 5) == ([], [])
    couples, labels = skipgrams([1, 2, 3], 5, window_size=1, shuffle=False, negative_samples=0)
    assert couples == [[1, 2], [2, 1], [2, 3], [3, 2]] and labels == [1, 1, 1, 1]
