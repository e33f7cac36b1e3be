"""Keras 2's other optimizers: Adagrad, Adadelta, Adamax, Nadam, AdamW, Ftrl.

The trajectories in KERAS_FIGURES were measured with tf_keras 2.21 (TensorFlow 2.21,
CPU) in /work/tfvenv, float64 weights, by this snippet::

    w = tf.Variable(np.array(W0, np.float64))
    opt = getattr(tf_keras.optimizers, name)(**arguments)
    for g in GRADS:
        opt.apply_gradients([(tf.constant(np.array(g, np.float64)), w)])
    print(w.numpy().tolist())

Keras keeps its learning rate as a float32 variable, so the rates here are powers of
two (exact in float32), and rtol=1e-6 holds, except for Adam's bias correction: Keras
computes sqrt(1 - beta_2^t) / (1 - beta_1^t) with beta_1 = float32(0.9) and beta_2 =
float32(0.999) = 0.9990000128..., which moves AdamW's (and Adam's) steps by ~7e-6 of
themselves (checked: the exact-float32 betas reproduce Keras's first Adam step to 1e-15).
minidl keeps the betas as given, as its Adam always has: rtol=2e-5 there.  The update rules are those of tf_keras/src/optimizers/<name>.py
(``update_step``) and the weight decay and clipping of optimizer.py
(``_apply_weight_decay``, ``_clip_gradients``).
"""

import io
import json
import warnings

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers, optimizers
from minidl.models import load_model
from test_hostile_files import members, npy, refused, replaced, write_zip

W0 = [0.5, -1.0, 2.0, 0.0]
GRADS = [[0.1, -0.4, 1.5, 0.0], [-0.3, 0.2, 0.8, 0.5], [0.25, -0.6, -1.0, 0.05]]
KERAS_FIGURES = [
    ("Adagrad", {"learning_rate": 0.125},
     [0.4851698843107784, -0.8552668788990655, 1.882435267681341, -0.11617116426918218]),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.875},
     [0.49919888446401356, -0.9985657173247836, 1.9992383454397884, -0.001028883938355873]),
    ("Adamax", {"learning_rate": 0.125},
     [0.4116645337474683, -0.7914623917934546, 1.7517983086262228, -0.11196105943957821]),
    ("Nadam", {"learning_rate": 0.125},
     [0.408184465097805, -0.8068056772010026, 1.8551539303083, -0.15167526606468743]),
    ("AdamW", {"learning_rate": 0.125, "weight_decay": 0.25},
     [0.3850245451461175, -0.6801758426416754, 1.5491038202591827, -0.16960289443627147]),
    ("AdamW", {"learning_rate": 0.125, "weight_decay": 0.25, "amsgrad": True},
     [0.3850245451461175, -0.6801758426416754, 1.5491038202591827, -0.16960289443627147]),
    ("Ftrl", {"learning_rate": 0.125},
     [0.008438581695060975, -0.235093185137506, 1.46986676349099, -0.11617118060725705]),
    ("Ftrl", {"learning_rate": 0.125, "learning_rate_power": -0.25,
              "l1_regularization_strength": 0.0625, "l2_regularization_strength": 0.125,
              "l2_shrinkage_regularization_strength": 0.03125, "beta": 0.5},
     [0.0, -0.03554950533512422, 0.6496840690943634, -0.046602760221029584]),
    ("SGD", {"learning_rate": 0.125, "momentum": 0.875, "weight_decay": 0.25},
     [0.4605682373046875, -0.7526550292968749, 1.28046875, -0.121484375]),
]
NEW = ["Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Ftrl"]


def _steps(optimizer, dtype=np.float64, grads=GRADS):
    w = Tensor(np.array(W0, dtype), requires_grad=True, name="w")
    for g in grads:
        optimizer.apply_gradients([(np.array(g, dtype), w)])
    return w


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("name, arguments, expected", KERAS_FIGURES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(KERAS_FIGURES)])
def test_three_steps_match_tf_keras(backend, name, arguments, expected):
    from minidl import _kernels

    before = _kernels.current.NAME
    _kernels.use(backend)
    try:
        w = _steps(getattr(optimizers, name)(**arguments))
    finally:
        _kernels.use(before)
    np.testing.assert_allclose(w.data, expected, rtol=2e-5 if name == "AdamW" else 1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NEW)
def test_float32_weights_follow_the_float64_trajectory(name):
    w32 = _steps(optimizers.get(name.lower()), np.float32)
    w64 = _steps(optimizers.get(name.lower()), np.float64)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32.data, w64.data, rtol=1e-5, atol=1e-6)


def test_nadam_momentum_product_is_rebuilt_after_a_restore():
    """prod_t (Nadam's running product of momenta) follows ``iterations``: an optimizer
    restored at step 2 takes the same third step as one that ran all three."""
    straight = optimizers.Nadam(learning_rate=0.125)
    w = _steps(straight)
    restored = optimizers.Nadam(learning_rate=0.125)
    w2 = _steps(restored, grads=GRADS[:2])
    fresh = optimizers.Nadam(learning_rate=0.125)
    fresh.set_state(restored.get_state([w2]), [w2])
    fresh.apply_gradients([(np.array(GRADS[2]), w2)])
    np.testing.assert_allclose(w2.data, w.data, rtol=1e-14)


# --- names, arguments, defaults: tf_keras 2.21's get_config() ------------------------------
BASE = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "learning_rate": 0.001}
KERAS_DEFAULTS = {  # tf_keras.optimizers.<name>().get_config(), without use_ema, jit_compile, ...
    "Adagrad": {"initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adadelta": {"rho": 0.95, "epsilon": 1e-7},
    "Adamax": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Nadam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "AdamW": {"weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "amsgrad": False},
    "Ftrl": {"learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
             "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
             "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0},
}


@pytest.mark.parametrize("name", NEW)
def test_defaults_are_tf_keras_defaults(name):
    config = getattr(optimizers, name)().get_config()
    assert config == {"name": name, **BASE, **KERAS_DEFAULTS[name]}
    assert list(config)[:6] == ["name", "weight_decay", "clipnorm", "global_clipnorm",
                                "clipvalue", "learning_rate"]  # Keras's order


@pytest.mark.parametrize("name", NEW)
def test_strings_serialize_and_from_config(name):
    opt = optimizers.get(name.lower())
    assert type(opt).__name__ == name and optimizers.get(name.upper()).__class__ is type(opt)
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(again) is type(opt) and again.get_config() == opt.get_config()
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()
    scheduled = getattr(optimizers, name)(
        learning_rate=optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), clipnorm=2.0)
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(scheduled))))
    assert again.get_config() == scheduled.get_config() and again.clipnorm == 2.0


def test_unknown_name_still_suggests_nearest():
    with pytest.raises(ValueError, match="'adamx'.*Did you mean 'adam"):
        optimizers.get("adamx")


@pytest.mark.parametrize("make, words", [
    (lambda: optimizers.AdamW(weight_decay=None), "Missing value of `weight_decay`"),
    (lambda: optimizers.AdamW(weight_decay=-0.1), "weight_decay must be a number >= 0"),
    (lambda: optimizers.Adam(weight_decay="0.1"), "weight_decay must be a number >= 0"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), "`learning_rate_power` needs to be negative"),
    (lambda: optimizers.Ftrl(initial_accumulator_value=-1), "initial_accumulator_value must be"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1), "l1_regularization_strength"),
    (lambda: optimizers.Ftrl(l2_shrinkage_regularization_strength=-1), "l2_shrinkage"),
    (lambda: optimizers.Ftrl(beta=-1), "beta must be a number >= 0"),
    (lambda: optimizers.Ftrl(learning_rate=0.0), "Ftrl divides by it"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (lambda: optimizers.Adagrad(epsilon=0), "epsilon must be a positive number"),
    (lambda: optimizers.Adadelta(rho=1.5), r"rho must be in \[0, 1\]"),
    (lambda: optimizers.Adamax(beta_1=1.0), r"beta_1 must be in \[0, 1\)"),
    (lambda: optimizers.Nadam(beta_2=-0.1), r"beta_2 must be in \[0, 1\)"),
])
def test_bad_arguments_are_refused(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"Nadam: unexpected keyword argument\(s\) \['momentum'\]"):
        optimizers.Nadam(momentum=0.9)


def test_ftrl_refuses_a_learning_rate_set_to_zero_at_the_next_step():
    opt = optimizers.Ftrl(learning_rate=0.1)
    w = Tensor(np.ones(3), requires_grad=True)
    opt.learning_rate = 0.0
    with pytest.raises(ValueError, match="Ftrl divides by it"):
        opt.apply_gradients([(np.ones(3), w)])
    np.testing.assert_array_equal(w.data, 1.0)
    assert opt.iterations == 0


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW"])
def test_zero_learning_rate_freezes_the_weights_but_not_the_slots(name):
    """As for SGD/RMSprop/Adam (Keras and PyTorch allow it); AdamW's decay is lr * wd = 0 too."""
    opt = getattr(optimizers, name)(learning_rate=0.0)
    w = _steps(opt)
    np.testing.assert_array_equal(w.data, W0)
    assert opt.iterations == 3


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Nadam", "Ftrl"])
def test_weight_decay_is_keras_decoupled_decay(name):
    """weight_decay=wd: w -= lr * wd * w before the step, with the gradient as given."""
    lr, wd = 0.125, 0.25
    decayed = getattr(optimizers, name)(learning_rate=lr, weight_decay=wd)
    plain = getattr(optimizers, name)(learning_rate=lr)
    w = Tensor(np.array(W0), requires_grad=True)
    v = Tensor(np.array(W0) * (1 - lr * wd), requires_grad=True)
    decayed.apply_gradients([(np.array(GRADS[0]), w)])
    plain.apply_gradients([(np.array(GRADS[0]), v)])
    np.testing.assert_allclose(w.data, v.data, rtol=1e-14, atol=1e-15)
    assert decayed.get_config()["weight_decay"] == wd


# --- iterations ---------------------------------------------------------------------------
def test_iterations_reads_like_keras_int64_variable():
    opt = optimizers.Adagrad()
    _steps(opt)
    it = opt.iterations
    assert it == 3 and int(it) == 3 and it + 1 == 4 and f"{it}" == "3"
    assert isinstance(it.numpy(), np.int64) and it.numpy() == 3 and it.dtype == np.int64
    assert minidl.backend.get_value(it) == 3 and json.dumps({"i": it}) == '{"i": 3}'
    it.assign(10)
    assert opt.iterations == 10
    opt.iterations = np.int64(0)
    assert opt.iterations == 0
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(ValueError, match="iterations must be a non-negative integer"):
            opt.iterations = bad


# --- compile, fit, save and load with the slot state ----------------------------------------
def _model(optimizer):
    model = minidl.Sequential([layers.Dense(6, activation="relu", input_shape=(4,)),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((24, 4)).astype(np.float32), np.arange(24) % 3


@pytest.mark.parametrize("name", [n.lower() for n in NEW])
def test_compile_by_name_fit_save_load_resumes_exactly(tmp_path, name):
    minidl.utils.set_random_seed(1)
    x, y = _data()
    model = _model(name)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / f"{name}.mdl"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    for a, b in zip(loaded.optimizer.get_state(list(loaded.trainable_weights))["slots"],
                    model.optimizer.get_state(list(model.trainable_weights))["slots"]):
        for slot_a, slot_b in zip(a, b):
            assert slot_a.dtype == np.float32
            np.testing.assert_array_equal(slot_a, slot_b)
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, slot, value", [
    ("adagrad", 0, -1.0), ("adadelta", 0, np.nan), ("adadelta", 1, -0.5), ("adamax", 1, -1e-3),
    ("nadam", 1, np.inf), ("adamw", 1, -2.0), ("ftrl", 0, -1.0),
])
def test_a_saved_slot_that_cannot_be_negative_is_checked(tmp_path, name, slot, value):
    x, y = _data()
    model = _model(name)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    good = tmp_path / "good.mdl"
    model.save(good)
    items = members(good)
    member = f"optimizer/0002_{slot}.npy"
    array = np.load(io.BytesIO(dict(items)[member]))
    array.flat[1] = value
    refused(write_zip(tmp_path / "bad.mdl", replaced(items, member, npy(array))), load_model,
            member, "non-negative")


@pytest.mark.parametrize("array", [np.zeros((6, 4), np.float32), np.zeros((4, 6), np.float64)],
                         ids=["shape", "dtype"])
def test_a_saved_slot_of_another_shape_or_dtype_is_refused(tmp_path, array):
    x, y = _data()
    model = _model("ftrl")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "good.mdl")
    items = members(tmp_path / "good.mdl")
    member = "optimizer/0000_1.npy"  # Ftrl's linear slot of the (4, 6) kernel
    refused(write_zip(tmp_path / "bad.mdl", replaced(items, member, npy(array))), load_model,
            member)


def test_slots_that_may_be_negative_load():
    """Adamax's m and Ftrl's linear hold signed sums: negative values are legal."""
    assert optimizers.Adamax().nonnegative_slots() == ("u",)
    assert optimizers.Ftrl().nonnegative_slots() == ("accumulator",)
    assert optimizers.AdamW(amsgrad=True).nonnegative_slots() == ("v", "v_max")


def test_adagrad_slots_start_at_initial_accumulator_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.5)
    w = Tensor(np.zeros((2, 3)), requires_grad=True)
    (accumulator,), = opt.get_state([w])["slots"]
    np.testing.assert_array_equal(accumulator, np.full((2, 3), 0.5))


def test_clipvalue_beside_a_norm_warns_as_keras_ignores_it():
    with pytest.warns(UserWarning, match="clipvalue=0.5 is ignored because clipnorm is set"):
        optimizers.Nadam(clipnorm=1.0, clipvalue=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.Nadam(clipvalue=0.5)


def test_a_tf_keras_config_deserializes():
    """``tf_keras.optimizers.serialize(tf_keras.optimizers.get("adamw"))``, as tf_keras 2.21
    printed it: its EMA and XLA keys ask for nothing and are dropped."""
    keras = {"module": "keras.optimizers", "class_name": "AdamW", "config": {
        "name": "AdamW", "weight_decay": 0.004, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "jit_compile": False, "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513,
        "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
        "registered_name": None}
    opt = optimizers.deserialize(keras)
    assert isinstance(opt, optimizers.AdamW) and opt.weight_decay == 0.004
    keras["config"]["use_ema"] = True
    with pytest.raises(ValueError, match="use_ema=True asks for something minidl's optimizers"):
        optimizers.deserialize(keras)


def test_get_takes_a_config_dict_and_lower_case_class_names():
    """As tf_keras 2.21's optimizers.get({"class_name": "nadam", "config": {}}) does."""
    opt = optimizers.get({"class_name": "nadam", "config": {"learning_rate": 0.5}})
    assert isinstance(opt, optimizers.Nadam) and float(opt.learning_rate) == 0.5
    assert isinstance(optimizers.get({"class_name": "Ftrl", "config": {}}), optimizers.Ftrl)
    with pytest.raises(ValueError, match="Unknown optimizer class 'Nadamm'"):
        optimizers.get({"class_name": "Nadamm", "config": {}})


@pytest.mark.parametrize("name, learning_rate", [
    ("Adagrad", 0.1), ("Adadelta", 1.0), ("Adamax", 0.01), ("Nadam", 0.01), ("AdamW", 0.01),
    ("Ftrl", 0.1),
])
def test_each_trains_a_small_classifier(name, learning_rate):
    """A learner's first check: fit lowers the loss of a separable 3-class problem."""
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = np.arange(120) % 3
    x = (rng.normal(size=(120, 4)) + np.eye(3, 4)[y] * 3).astype(np.float32)
    model = _model(getattr(optimizers, name)(learning_rate=learning_rate))
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
