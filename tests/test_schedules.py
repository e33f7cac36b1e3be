"""Learning-rate schedules: Keras 2's values, an optimizer stepping with them, saving them."""

import numpy as np
import pytest

import minidl
from minidl import layers, optimizers
from minidl.optimizers import schedules

STEPS = [0, 1, 5, 10, 15, 25, 40]

# Computed with tf_keras 2.21 (float(schedule(step)) for each of STEPS); TensorFlow computes in
# float32, minidl in float64, hence rtol=1e-6 below.
KERAS_VALUES = [
    (schedules.ExponentialDecay(0.1, 10, 0.5),
     [0.1, 0.0933033, 0.070710681, 0.050000001, 0.035355341, 0.01767767, 0.0062500001]),
    (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
     [0.1, 0.1, 0.1, 0.050000001, 0.050000001, 0.025, 0.0062500001]),
    (schedules.InverseTimeDecay(0.1, 10, 0.5),
     [0.1, 0.095238104, 0.079999998, 0.06666667, 0.057142857, 0.044444446, 0.033333335]),
    (schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
     [0.1, 0.1, 0.1, 0.06666667, 0.06666667, 0.050000001, 0.033333335]),
    (schedules.PiecewiseConstantDecay([5, 15], [1.0, 0.5, 0.1]),
     [1, 1, 1, 0.5, 0.5, 0.1, 0.1]),
    (schedules.PolynomialDecay(0.1, 10),
     [0.1, 0.090010002, 0.050050002, 9.9999997e-05, 9.9999997e-05, 9.9999997e-05, 9.9999997e-05]),
    (schedules.PolynomialDecay(0.1, 10, 0.01, power=0.5),
     [0.1, 0.095381498, 0.073639609, 0.0099999998, 0.0099999998, 0.0099999998, 0.0099999998]),
    (schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True),
     [0.1, 0.082899995, 0.032499999, 0.0099999998, 0.015625, 0.0125, 0.0099999998]),
    (schedules.CosineDecay(0.1, 20),
     [0.1, 0.09938442, 0.085355341, 0.049999997, 0.014644662, 0, 0]),
    (schedules.CosineDecay(0.1, 20, alpha=0.1),
     [0.1, 0.099445976, 0.086819813, 0.054999996, 0.023180196, 0.010000001, 0.010000001]),
    (schedules.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=10),
     [0, 0.010000001, 0.050000001, 0.1, 0.085355341, 0.014644662, 0]),
    (schedules.CosineDecay(0.01, 20, alpha=0.1, warmup_target=0.1, warmup_steps=10),
     [0.0099999998, 0.019000001, 0.055, 0.1, 0.086819813, 0.023180196, 0.010000001]),
    (schedules.CosineDecayRestarts(0.1, 10),
     [0.1, 0.097552828, 0.049999997, 0.1, 0.085355341, 0.014644662, 0.085355341]),
    (schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5, alpha=0.1),
     [0.1, 0.097797543, 0.054999996, 0.055000003, 0.032499999, 0.02125, 0.015625]),
]


@pytest.mark.parametrize("schedule,expected", KERAS_VALUES, ids=lambda v: repr(v)[:60])
def test_values_match_keras(schedule, expected):
    got = [schedule(step) for step in STEPS]
    assert all(isinstance(value, float) for value in got)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    # an array of steps gives the same values at once (to plot a schedule)
    np.testing.assert_allclose(schedule(np.array(STEPS)), got, rtol=1e-15)


def test_formulas_as_written_in_the_docstrings():
    step = 37
    assert schedules.ExponentialDecay(0.3, 7, 0.8)(step) == pytest.approx(0.3 * 0.8 ** (37 / 7))
    assert schedules.ExponentialDecay(0.3, 7, 0.8, staircase=True)(step) == pytest.approx(
        0.3 * 0.8**5)
    assert schedules.InverseTimeDecay(0.3, 7, 0.8)(step) == pytest.approx(0.3 / (1 + 0.8 * 37 / 7))
    assert schedules.PolynomialDecay(0.3, 50, 0.1, power=3)(step) == pytest.approx(
        0.2 * (1 - 37 / 50) ** 3 + 0.1)
    cosine = 0.5 * (1 + np.cos(np.pi * 37 / 50))
    assert schedules.CosineDecay(0.3, 50, alpha=0.2)(step) == pytest.approx(
        0.3 * (0.8 * cosine + 0.2))
    # t_mul=2: decays of 10, 20, 40 steps; step 37 is 7 steps into the third (of 40)
    cosine = 0.5 * 0.5**2 * (1 + np.cos(np.pi * 7 / 40))
    assert schedules.CosineDecayRestarts(0.3, 10, m_mul=0.5)(step) == pytest.approx(0.3 * cosine)


def test_piecewise_constant_boundaries_belong_to_the_interval_before():
    schedule = schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.25])
    assert [schedule(s) for s in range(9)] == [1.0] * 4 + [0.5] * 3 + [0.25] * 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than"):
        schedules.PiecewiseConstantDecay([5], [1.0])
    with pytest.raises(ValueError, match="increase strictly"):
        schedules.PiecewiseConstantDecay([5, 5], [1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="decay_steps must be > 0. Received: decay_steps=0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="initial_learning_rate must be a finite number"):
        schedules.CosineDecay("0.1", 10)


@pytest.mark.parametrize("schedule", [s for s, _ in KERAS_VALUES], ids=lambda v: repr(v)[:60])
def test_serialize_round_trip(schedule):
    config = schedules.serialize(schedule)
    assert config["class_name"] == type(schedule).__name__
    copy = schedules.deserialize(config)
    assert type(copy) is type(schedule) and copy.get_config() == schedule.get_config()
    assert [copy(s) for s in STEPS] == [schedule(s) for s in STEPS]


class HalvingEvery(schedules.LearningRateSchedule):
    def __init__(self, rate, steps):
        self.rate = rate
        self.steps = steps

    def __call__(self, step):
        return self.rate * 0.5 ** (step // self.steps)

    def get_config(self):
        return {"rate": self.rate, "steps": self.steps}


def test_deserialize_looks_classes_up_by_name_only():
    config = {"class_name": "HalvingEvery", "config": {"rate": 0.1, "steps": 2}}
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'HalvingEvery'"):
        schedules.deserialize(config)
    assert schedules.deserialize(config, {"HalvingEvery": HalvingEvery})(4) == 0.025
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'os.system'"):
        schedules.deserialize({"class_name": "os.system", "config": {}})


def test_base_class_names_what_is_missing():
    class NoConfig(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1

    with pytest.raises(NotImplementedError, match="'NoConfig' must override `get_config\\(\\)`"):
        NoConfig().get_config()
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)


def test_sgd_uses_the_rate_of_each_step():
    """Keras evaluates the schedule at ``iterations`` (steps taken so far) before each step:
    w = 1 and g = 1 give w = 1 - lr(0) - lr(1) - lr(2), as tf_keras gives (0.9, 0.8292893,
    0.7792893)."""
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    optimizer = optimizers.SGD(learning_rate=schedule)
    w = minidl.Variable(np.array([1.0]))
    expected, weights, rates = 1.0, [], []
    for step in range(3):
        optimizer.apply_gradients([(np.array([1.0]), w)])
        expected -= 0.1 * 0.5 ** (step / 2)
        assert w.data[0] == pytest.approx(expected, rel=1e-14)
        weights.append(w.data[0])
        rates.append(float(optimizer.learning_rate))
    np.testing.assert_allclose(weights, [0.9, 0.8292893, 0.7792893], rtol=1e-7)
    # as in Keras, the learning rate reads the rate of the latest step
    assert rates == pytest.approx([0.1, 0.1 * 0.5**0.5, 0.05])


def test_adam_applies_its_bias_correction_to_the_scheduled_rate():
    schedule = schedules.PiecewiseConstantDecay([0], [0.1, 0.01])
    scheduled = optimizers.Adam(learning_rate=schedule)
    fixed = optimizers.Adam(learning_rate=0.1)
    w_scheduled, w_fixed = minidl.Variable(np.ones(3)), minidl.Variable(np.ones(3))
    scheduled.apply_gradients([(np.ones(3), w_scheduled)])
    fixed.apply_gradients([(np.ones(3), w_fixed)])
    np.testing.assert_array_equal(w_scheduled.data, w_fixed.data)  # step 0: 0.1 in both
    fixed.learning_rate = 0.01
    scheduled.apply_gradients([(np.ones(3), w_scheduled)])
    fixed.apply_gradients([(np.ones(3), w_fixed)])
    np.testing.assert_array_equal(w_scheduled.data, w_fixed.data)


def test_a_scheduled_rate_cannot_be_set():
    optimizer = optimizers.SGD(schedules.CosineDecay(0.1, 100))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`.*not settable"):
        optimizer.learning_rate = 0.01
    with pytest.raises(TypeError, match="not settable"):
        optimizer.lr.assign(0.01)
    assert float(optimizer.lr) == 0.1
    optimizer.learning_rate = schedules.CosineDecay(0.5, 100)  # another schedule is fine
    assert float(optimizer.lr) == 0.5


def test_a_schedule_returning_a_bad_rate_stops_before_any_change():
    optimizer = optimizers.SGD(schedules.PiecewiseConstantDecay([0], [0.1, -0.1]))
    w = minidl.Variable(np.ones(2))
    optimizer.apply_gradients([(np.ones(2), w)])
    with pytest.raises(ValueError, match="returned -0.1 for step 1"):
        optimizer.apply_gradients([(np.ones(2), w)])
    np.testing.assert_array_equal(w.data, [0.9, 0.9])
    assert optimizer.iterations == 1


def test_optimizer_config_holds_the_schedule():
    schedule = schedules.PolynomialDecay(0.1, 1000, cycle=True)
    optimizer = optimizers.Adam(learning_rate=schedule)
    config = optimizers.serialize(optimizer)
    assert config["config"]["learning_rate"] == {
        "class_name": "PolynomialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 1000, "end_learning_rate": 0.0001,
                   "power": 1.0, "cycle": True, "name": None},
    }
    copy = optimizers.deserialize(config)
    assert copy._schedule.get_config() == schedule.get_config()
    assert "learning_rate=PolynomialDecay(initial_learning_rate=0.1" in repr(optimizer)


def _model(optimizer):
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_save_and_load_a_model_compiled_with_a_schedule(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = _model(optimizers.SGD(schedules.ExponentialDecay(0.5, 4, 0.5), momentum=0.9))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "scheduled.mdl")
    loaded = minidl.models.load_model(tmp_path / "scheduled.mdl")
    assert isinstance(loaded.optimizer._schedule, schedules.ExponentialDecay)
    assert loaded.optimizer.iterations == 4
    assert float(loaded.optimizer.lr) == float(model.optimizer.lr) == 0.5 * 0.5 ** (3 / 4)
    for m in (model, loaded):  # both continue at step 4, with the same rates and momentum
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert float(loaded.optimizer.lr) == 0.5 * 0.5 ** (7 / 4)


def test_load_model_with_your_own_schedule_needs_its_class(tmp_path):
    model = _model(optimizers.SGD(HalvingEvery(0.1, 2)))
    model.save(tmp_path / "custom.mdl")
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'HalvingEvery'"):
        minidl.models.load_model(tmp_path / "custom.mdl")
    loaded = minidl.models.load_model(tmp_path / "custom.mdl",
                                      custom_objects={"HalvingEvery": HalvingEvery})
    assert isinstance(loaded.optimizer._schedule, HalvingEvery)
    assert loaded.optimizer._schedule.get_config() == {"rate": 0.1, "steps": 2}
