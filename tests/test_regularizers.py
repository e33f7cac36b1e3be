"""minidl.regularizers and the kernel/bias/activity_regularizer arguments: Keras 2's values,
``layer.losses``, what ``fit`` minimises, configs and saving."""

import gc

import numpy as np
import pytest

import minidl
from minidl import layers, ops, optimizers, regularizers
from minidl.layers import base
from minidl.models import load_model
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


# --- the regularizers themselves ----------------------------------------------------------
def test_defaults_and_names_as_in_keras_2():
    assert regularizers.l1().get_config() == {"l1": 0.01}
    assert regularizers.l2().get_config() == {"l2": 0.01}
    assert regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}  # the class: 0, as in Keras
    assert regularizers.l1 is regularizers.L1 and regularizers.l2 is regularizers.L2
    expected = {"l1": (regularizers.L1, {"l1": 0.01}), "l2": (regularizers.L2, {"l2": 0.01}),
                "l1_l2": (regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),
                "L2": (regularizers.L2, {"l2": 0.01}), "L1L2": (regularizers.L1L2, {"l1": 0.0, "l2": 0.0})}
    for name, (cls, config) in expected.items():
        regularizer = regularizers.get(name)
        assert type(regularizer) is cls and regularizer.get_config() == config, name
    assert regularizers.get(None) is None
    assert type(regularizers.get(regularizers.L2)) is regularizers.L2
    l2 = regularizers.L2(0.5)
    assert regularizers.get(l2) is l2
    assert regularizers.L2(l2=None).l2 == 0.01 and regularizers.L1L2(l1=None).l1 == 0.0


def test_penalties_are_keras_formulas_without_a_half():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(float(regularizers.L1(0.3)(x)), 0.3 * np.abs(x).sum())
    np.testing.assert_allclose(float(regularizers.L2(0.3)(x)), 0.3 * (x ** 2).sum())
    np.testing.assert_allclose(float(regularizers.L1L2(0.1, 0.2)(x)),
                               0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum())
    assert float(regularizers.L1L2()(x)) == 0.0
    # Keras's docstring: L2(2.) of a 5x5 tensor of ones is 50
    assert float(regularizers.L2(2.0)(np.ones((5, 5), np.float32))) == 50.0


@pytest.mark.parametrize("regularizer", [regularizers.L1(0.3), regularizers.L2(0.3),
                                         regularizers.L1L2(0.1, 0.2)], ids=repr)
def test_penalty_gradients(regularizer):
    x = np.random.default_rng(1).normal(size=(3, 4))  # no zeros, where |x| has no derivative
    assert gradcheck(regularizer, [x])


def test_penalties_keep_the_dtype():
    for dtype in (np.float32, np.float64):
        assert regularizers.l1_l2()(minidl.Tensor(np.ones(3), dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("make, error, words", [
    (lambda: regularizers.L2(float("nan")), ValueError, ["L2", "l2", "nan", "finite"]),
    (lambda: regularizers.L1("a"), ValueError, ["L1", "l1", "'a'"]),
    (lambda: regularizers.L1L2(l2=float("inf")), ValueError, ["L1L2", "l2", "inf"]),
    (lambda: regularizers.L1(True), ValueError, ["L1", "True"]),
    (lambda: regularizers.get("l3"), ValueError, ["'l3'", "l1_l2"]),
    (lambda: regularizers.get(3), TypeError, ["regularizer", "3", "int"]),
    (lambda: regularizers.deserialize({"class_name": "L7", "config": {}}), ValueError,
     ["'L7'", "custom_objects"]),
    (lambda: layers.Conv2D(2, 3, bias_regularizer="l22"), ValueError,
     ["conv2d", "bias_regularizer", "'l22'", "did you mean 'l2'"]),
    (lambda: layers.Flatten(activity_regularizer=[1]), TypeError, ["flatten", "activity_regularizer"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word.lower() in message for word in words), message


def test_serialize_and_deserialize():
    for regularizer in (regularizers.L1(0.2), regularizers.L2(3.0), regularizers.L1L2(0.1, 0.2)):
        config = regularizers.serialize(regularizer)
        assert config == {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
                          "config": regularizer.get_config(), "registered_name": None}
        assert regularizers.deserialize(  # minidl's older form
            {"class_name": config["class_name"], "config": config["config"]}).get_config() == (
            regularizer.get_config())
        again = regularizers.deserialize(config)
        assert type(again) is type(regularizer) and again.get_config() == regularizer.get_config()
        assert regularizers.get(config).get_config() == regularizer.get_config()
    assert regularizers.serialize(None) is None and regularizers.deserialize(None) is None
    assert regularizers.deserialize("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}

    def my_penalty(x):
        return ops.sum(x)

    assert regularizers.serialize(my_penalty) == "my_penalty"
    assert regularizers.deserialize("my_penalty", {"my_penalty": my_penalty}) is my_penalty


class Orthogonality(regularizers.Regularizer):
    """A regularizer of one's own, as Keras's guide writes them."""

    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, x):
        return ops.mul(ops.sum(ops.abs(ops.matmul(ops.transpose(x), x))), self.factor)

    def get_config(self):
        return {"factor": self.factor}


def test_base_class_penalty_is_zero_and_a_missing_config_is_explained():
    class NoConfig(regularizers.Regularizer):
        pass

    assert NoConfig()(np.ones(3)) == 0.0
    with pytest.raises(NotImplementedError, match="NoConfig.*get_config"):
        regularizers.serialize(NoConfig())
    layer = layers.Dense(2, kernel_regularizer=NoConfig())
    layer(np.ones((1, 3)))
    assert [float(loss) for loss in layer.losses] == [0.0]


# --- layer.losses ---------------------------------------------------------------------------
def test_keras_docstring_example_sums_to_5_25():
    """Keras's Regularizer docstring: kernel L1 0.25, activity L2 5 (divided by the batch)."""
    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones",
                         kernel_regularizer=regularizers.L1(0.01),
                         activity_regularizer=regularizers.L2(0.01))
    layer(np.ones((5, 5), np.float32) * 2.0)
    assert [round(float(loss), 5) for loss in layer.losses] == [5.0, 0.25]  # Keras's order


def test_weight_penalties_exist_from_build_and_follow_the_weights():
    layer = layers.Dense(3, kernel_regularizer="l2", bias_regularizer=regularizers.L1(0.5))
    assert layer.losses == []
    layer.build((None, 4))
    kernel = layer.kernel.numpy()
    assert [float(loss) for loss in layer.losses] == pytest.approx([0.01 * (kernel ** 2).sum(), 0.0])
    layer.set_weights([np.ones((4, 3)), np.full(3, -2.0)])
    assert [float(loss) for loss in layer.losses] == pytest.approx([0.12, 3.0])
    layer(np.ones((2, 4)))
    layer(np.ones((2, 4)))
    assert len(layer.losses) == 2, "weight penalties are not repeated by calls"


def test_activity_penalty_is_per_call_and_divided_by_the_batch():
    layer = layers.Dense(2, kernel_initializer="ones", activity_regularizer=regularizers.L1(0.1))
    layer(np.ones((4, 3)))
    assert [float(loss) for loss in layer.losses] == pytest.approx([0.1 * 4 * 2 * 3 / 4])
    layer(np.ones((2, 3)) * 2)
    assert [float(loss) for loss in layer.losses] == pytest.approx([0.1 * 2 * 2 * 6 / 2])
    flatten = layers.Flatten(activity_regularizer="l2")  # every layer takes one, as in Keras
    flatten(np.ones((2, 3, 3)))
    assert [float(loss) for loss in flatten.losses] == pytest.approx([0.01 * 18 / 2])
    flatten.activity_regularizer = None
    flatten(np.ones((2, 3, 3)))
    assert flatten.losses == []


def test_nested_and_shared_layers_in_keras_order():
    shared = layers.Dense(2, kernel_regularizer="l1")

    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
            self.shared = shared

        def call(self, x):
            return self.shared(self.first(x))

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.again = shared

        def call(self, x):
            return self.again(self.block(x))

    outer = Outer()
    outer(np.ones((3, 2)))
    block = outer.block
    expected = [
        0.01 * np.abs(block.first(np.ones((3, 2))).numpy()).sum() / 3,  # first: activity, kernel
        0.01 * (block.first.kernel.numpy() ** 2).sum(),
        0.01 * np.abs(shared.kernel.numpy()).sum(),  # the shared layer once
    ]
    outer(np.ones((3, 2)))
    assert [float(loss) for loss in outer.losses] == pytest.approx(expected, rel=1e-6)


def test_add_weight_regularizer_and_add_loss_of_a_function():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones",
                                     regularizer=regularizers.L2(0.5))
            self.add_loss(lambda: ops.mul(ops.sum(self.w), 0.1))

        def call(self, x):
            return x * self.w

    layer = Scale()
    layer(np.ones((1, 4)))
    assert [float(loss) for loss in layer.losses] == pytest.approx([2.0, 0.4])
    layer.w.assign(np.full(4, 2.0, np.float32))
    assert [float(loss) for loss in layer.losses] == pytest.approx([8.0, 0.8])
    with pytest.raises(ValueError, match="constraint"):
        layer.add_weight("c", shape=(1,), constraint=3)


def test_penalty_gradient_through_a_tape():
    model = minidl.Sequential([layers.Dense(2, input_shape=(3,), kernel_regularizer=regularizers.L2(0.3),
                                            bias_regularizer=regularizers.L1(0.2))])
    model.layers[0].bias.assign(np.array([0.5, -1.0], np.float32))
    with minidl.GradientTape() as tape:
        total = ops.add(*model.losses)
    grad_kernel, grad_bias = tape.gradient(total, model.trainable_weights)
    np.testing.assert_allclose(grad_kernel.numpy(), 0.6 * model.layers[0].kernel.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad_bias.numpy(), [0.2, -0.2], rtol=1e-6)


def test_float64_layers_give_float64_penalties():
    layer = layers.Conv2D(2, 3, dtype="float64", kernel_regularizer="l1_l2", activity_regularizer="l2")
    layer(np.ones((1, 4, 4, 1)))
    assert [loss.dtype for loss in layer.losses] == [np.float64, np.float64]


def test_layers_without_regularizers_cost_nothing():
    """Reading ``losses`` looks through the layers only while some layer has a loss:
    a regularized layer, once collected, no longer makes every model search."""
    layers.Dense(2, kernel_regularizer="l2").build((None, 3))
    gc.collect()
    assert not base._callable_loss_holders and not base._loss_holders
    model = minidl.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    model(np.ones((2, 3)))
    assert model.losses == []


# --- training: Keras's numbers -----------------------------------------------------------
def keras_regularized_model():
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3)).astype(np.float32), rng.random((8, 2)).astype(np.float32)
    w0, b0 = rng.random((3, 2)).astype(np.float32), np.array([0.1, -0.2], np.float32)
    model = minidl.Sequential([minidl.Input((3,)), layers.Dense(
        2, kernel_regularizer=regularizers.l2(0.01), bias_regularizer=regularizers.l1(0.1),
        activity_regularizer=regularizers.l1_l2(0.01, 0.02))])
    model.layers[0].set_weights([w0, b0])
    model.compile(optimizers.SGD(0.1), "mse")
    return model, x, y


def test_fit_and_evaluate_give_keras_losses_and_weights():
    """The same model in tf_keras 2 (``fit(x, y, batch_size=8, epochs=2, shuffle=False)``)
    printed these losses, weights and ``evaluate`` loss."""
    model, x, y = keras_regularized_model()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"], [0.213595449924469, 0.19007891416549683],
                               rtol=1e-6)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, [[0.5333869, 0.32413298], [0.56699467, 0.3316301],
                                        [0.36686397, 0.8756599]], rtol=1e-6)
    np.testing.assert_allclose(bias, [0.02967415, -0.17515877], rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 0.17358478903770447, rtol=1e-6)


def test_fit_minimises_the_loss_plus_the_penalties():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = x @ rng.normal(size=(5, 1)).astype(np.float32)
    norms = {}
    for name, regularizer in (("none", None), ("l2", regularizers.L2(1.0))):
        minidl.utils.set_random_seed(0)
        model = minidl.Sequential([layers.Dense(1, input_shape=(5,), kernel_regularizer=regularizer)])
        model.compile(optimizers.SGD(0.05), "mse")
        model.fit(x, y, epochs=20, verbose=0)
        norms[name] = np.linalg.norm(model.layers[0].kernel.numpy())
    assert norms["l2"] < 0.6 * norms["none"]  # ridge regression: about half


# --- configs, saving ----------------------------------------------------------------------
def test_configs_hold_the_three_regularizers_as_keras_does():
    plain = layers.Dense(3).get_config()
    assert {k: plain[k] for k in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")} == {
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None}
    assert "activity_regularizer" not in layers.Flatten().get_config()
    for layer in (layers.Dense(3, kernel_regularizer="l2", bias_regularizer=regularizers.L1(0.3),
                               activity_regularizer="l1_l2"),
                  layers.Conv2D(2, 3, kernel_regularizer=regularizers.L1L2(0.1, 0.2)),
                  layers.Flatten(activity_regularizer=regularizers.L1(0.4))):
        config = layer.get_config()
        copy = type(layer).from_config(config)
        assert copy.get_config() == config
        again = layers.deserialize(layers.serialize(layer))
        assert again.get_config() == config


def test_a_saved_model_keeps_its_regularizers(tmp_path):
    model = minidl.Sequential([
        layers.Conv2D(2, 3, input_shape=(5, 5, 1), kernel_regularizer="l2", activity_regularizer="l1"),
        layers.Flatten(),
        layers.Dense(2, kernel_regularizer=Orthogonality(0.2), bias_regularizer=regularizers.L1(0.3)),
    ])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((4, 5, 5, 1)).astype(np.float32)
    model.fit(x, np.zeros((4, 2)), verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = load_model(tmp_path / "m.mdl", custom_objects={"Orthogonality": Orthogonality})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model(x)
    loaded(x)
    assert [float(v) for v in loaded.losses] == pytest.approx([float(v) for v in model.losses])
    assert isinstance(loaded.layers[2].kernel_regularizer, Orthogonality)
    np.testing.assert_allclose(loaded.evaluate(x, np.zeros((4, 2)), verbose=0),
                               model.evaluate(x, np.zeros((4, 2)), verbose=0), rtol=1e-6)
