"""Optimizers follow Keras's update rules, step after step."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, optimizers


def _weight(seed=0, shape=(3, 4), dtype=np.float64):
    rng = np.random.default_rng(seed)
    return Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True, name="w")


def _grads(steps, shape=(3, 4), seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(steps)]


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_keras_rule(momentum, nesterov):
    w = _weight()
    expected = w.data.copy()
    velocity = np.zeros_like(expected)
    opt = optimizers.SGD(learning_rate=0.1, momentum=momentum, nesterov=nesterov)
    for g in _grads(4):
        opt.apply_gradients([(g, w)])
        velocity = momentum * velocity - 0.1 * g
        expected = expected + (momentum * velocity - 0.1 * g if nesterov else velocity)
    np.testing.assert_allclose(w.data, expected, rtol=1e-12)
    assert opt.iterations == 4


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_keras_rule(momentum):
    w = _weight()
    expected = w.data.copy()
    ms = np.zeros_like(expected)
    mom = np.zeros_like(expected)
    opt = optimizers.RMSprop(learning_rate=0.01, rho=0.9, momentum=momentum, epsilon=1e-7)
    for g in _grads(4):
        opt.apply_gradients([(Tensor(g, dtype=np.float64), w)])  # a Tensor gradient works too
        ms = 0.9 * ms + 0.1 * g * g
        step = 0.01 * g / np.sqrt(ms + 1e-7)
        mom = momentum * mom + step
        expected = expected - (mom if momentum else step)
    np.testing.assert_allclose(w.data, expected, rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_keras_rule(amsgrad):
    w = _weight()
    expected = w.data.copy()
    m = np.zeros_like(expected)
    v = np.zeros_like(expected)
    v_max = np.zeros_like(expected)
    opt = optimizers.Adam(learning_rate=0.01, amsgrad=amsgrad)
    for t, g in enumerate(_grads(5), start=1):
        opt.apply_gradients([(g, w)])
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        v_max = np.maximum(v_max, v)
        expected = expected - lr_t * m / (np.sqrt(v_max if amsgrad else v) + 1e-7)
    np.testing.assert_allclose(w.data, expected, rtol=1e-10)


def test_defaults_are_keras_defaults():
    base = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None}
    assert optimizers.SGD().get_config() == {"name": "SGD", **base, "learning_rate": 0.01, "momentum": 0.0,
                                             "nesterov": False}
    assert optimizers.RMSprop().get_config() == {"name": "RMSprop", **base, "learning_rate": 0.001, "rho": 0.9,
                                                  "momentum": 0.0, "epsilon": 1e-7}
    assert optimizers.Adam().get_config() == {"name": "Adam", **base, "learning_rate": 0.001, "beta_1": 0.9,
                                               "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}


def test_float32_weights_are_updated_in_place():
    w = _weight(dtype=np.float32)
    before = w.data
    optimizers.Adam().apply_gradients([(np.ones((3, 4)), w)])
    assert w.data is before and w.dtype == np.float32
    assert np.all(w.data < _weight(dtype=np.float32).data)


def test_lr_alias_warns():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.RMSprop(lr=0.005)
    assert opt.learning_rate == 0.005


def test_get_by_name_any_case_and_instances():
    assert isinstance(optimizers.get("ADAM"), optimizers.Adam)
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    opt = optimizers.RMSprop()
    assert optimizers.get(opt) is opt


def test_unknown_name_suggests_nearest():
    with pytest.raises(ValueError, match="'adamm'.*Did you mean 'adam'"):
        optimizers.get("adamm")


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf"), "fast"])
def test_bad_learning_rate(lr):
    with pytest.raises(ValueError, match="learning_rate must be a non-negative number"):
        optimizers.Adam(learning_rate=lr)


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.RMSprop, optimizers.Adam])
def test_zero_learning_rate_is_legal_and_changes_nothing(cls):
    """As in Keras and PyTorch: a learning rate of 0 freezes the weights (used in tests)."""
    w = _weight()
    before = w.data.copy()
    opt = cls(learning_rate=0.0)
    for _ in range(3):
        opt.apply_gradients([(np.ones_like(w.data), w)])
    np.testing.assert_array_equal(w.data, before)
    assert opt.iterations == 3


def test_gradient_shape_mismatch_is_refused_before_any_change():
    w1, w2 = _weight(), _weight(seed=3)
    before = w1.data.copy()
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        opt.apply_gradients([(np.ones((3, 4)), w1), (np.ones((4, 3)), w2)])
    np.testing.assert_array_equal(w1.data, before)
    assert opt.iterations == 0


def test_none_gradients_are_skipped():
    w = _weight()
    before = w.data.copy()
    optimizers.SGD().apply_gradients([(None, w)])
    np.testing.assert_array_equal(w.data, before)


def test_state_round_trip_resumes_identically():
    grads = _grads(6)
    w_a, w_b = _weight(), _weight()
    a = optimizers.Adam(learning_rate=0.01)
    for g in grads[:3]:
        a.apply_gradients([(g, w_a)])
    state = a.get_state([w_a])
    w_b.assign(w_a.data)
    b = optimizers.deserialize(optimizers.serialize(a))
    b.set_state(state, [w_b])
    for g in grads[3:]:
        a.apply_gradients([(g, w_a)])
        b.apply_gradients([(g, w_b)])
    np.testing.assert_array_equal(w_a.data, w_b.data)
    assert b.iterations == 6


def test_minimize_runs_backward_and_steps():
    w = Tensor(np.array([3.0]), requires_grad=True)
    opt = optimizers.SGD(learning_rate=0.25)
    for _ in range(20):
        opt.minimize((w * w).sum(), [w])
    assert abs(w.data[0]) < 1e-3


def test_learning_rate_reads_like_a_keras_2_variable():
    opt = optimizers.Adam(learning_rate=0.001)
    assert opt.lr is opt.learning_rate  # Keras 2's alias
    assert float(opt.lr) == 0.001 and opt.lr.numpy() == 0.001
    assert isinstance(opt.lr.numpy(), np.float64) and round(opt.lr.numpy(), 5) == 0.001
    assert "0.001" in repr(opt.lr) and f"{opt.lr:.1e}" == "1.0e-03"
    assert opt.lr == 0.001 and opt.lr > 1e-4 and opt.lr <= 0.001
    assert isinstance(opt.lr, minidl.Variable) and not opt.lr.trainable


def test_learning_rate_set_in_every_keras_way():
    opt = optimizers.SGD(learning_rate=0.1)
    rate = opt.learning_rate
    opt.learning_rate = 0.05
    assert rate is opt.learning_rate and float(rate) == 0.05  # the same variable, changed
    opt.lr = opt.lr * 0.5  # a Tensor holding one number
    assert float(opt.lr) == 0.025
    opt.lr.assign(0.2)
    opt.lr.assign_sub(0.05)
    assert float(opt.lr) == pytest.approx(0.15)
    assert opt.get_config()["learning_rate"] == pytest.approx(0.15)  # the rate as it is now
    opt.learning_rate = 0  # 0 stays legal
    for refused in (lambda: setattr(opt, "learning_rate", -0.1), lambda: opt.lr.assign(-1),
                    lambda: opt.lr.assign_sub(1), lambda: setattr(opt, "lr", float("nan"))):
        with pytest.raises(ValueError, match="learning_rate must be a non-negative number"):
            refused()
    assert float(opt.lr) == 0


def test_a_rate_set_between_steps_is_used_by_the_next_step():
    w = Tensor(np.array([1.0]), requires_grad=True)
    opt = optimizers.SGD(learning_rate=0.1)
    opt.apply_gradients([(np.array([1.0]), w)])
    opt.learning_rate = 0.01
    opt.apply_gradients([(np.array([1.0]), w)])
    assert w.data[0] == pytest.approx(1 - 0.1 - 0.01, rel=1e-14)
