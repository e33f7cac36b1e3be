"""The activations Keras 2 knows by name beyond the first eight (gelu, swish/silu, selu,
hard_sigmoid, exponential, relu6, softsign, mish, log_softmax) and relu's options:
lookup, serialization, values, use in Dense and Activation, saving."""

import numpy as np
import pytest
from scipy.special import ndtr  # the standard normal's CDF

import minidl
from minidl import Tensor, activations, layers

X = np.array([[-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 7.0]])


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


EXPECTED = {
    "gelu": X * ndtr(X),
    "swish": X * sigmoid(X),
    "silu": X * sigmoid(X),
    "selu": 1.0507009873554805 * np.where(X > 0, X, 1.6732632423543772 * np.expm1(X)),
    "hard_sigmoid": np.clip(0.2 * X + 0.5, 0, 1),
    "exponential": np.exp(X),
    "relu6": np.clip(X, 0, 6),
    "softsign": X / (1 + np.abs(X)),
    "mish": X * np.tanh(np.log1p(np.exp(X))),
    "log_softmax": X - np.log(np.exp(X).sum()),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_name_gives_the_keras_function(name):
    out = activations.get(name)(Tensor(X))
    np.testing.assert_allclose(out.data, EXPECTED[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_serialize_gives_the_name_back(name):
    # as tf_keras 2.21: serialize(get("silu")) is "swish" (one function, two names)
    function = activations.get(name)
    expected = "swish" if name == "silu" else name
    assert activations.serialize(function) == expected
    assert activations.deserialize(expected) is function


def test_gelu_approximate_and_the_unknown_name_hint():
    approximate = activations.gelu(Tensor(np.array([-1.0, 1.0])), approximate=True)
    np.testing.assert_allclose(approximate.data, [-0.15880801, 0.84119199], rtol=1e-7)  # tf_keras
    with pytest.raises(ValueError, match="Did you mean 'silu'"):
        activations.get("sillu")


# tf_keras 2.21: keras.activations.relu(X, **options) and the gradient of its sum.
KERAS_RELU = [
    ({}, [0, 0, 0, 0.5, 1, 2, 7], [0, 0, 0, 1, 1, 1, 1]),
    ({"alpha": 0.1}, [-0.3, -0.1, 0, 0.5, 1, 2, 7], [0.1, 0.1, 0.1, 1, 1, 1, 1]),
    ({"max_value": 1.5}, [0, 0, 0, 0.5, 1, 1.5, 1.5], [0, 0, 0, 1, 1, 0, 0]),
    ({"threshold": 1.0}, [0, 0, 0, 0, 0, 2, 7], [0, 0, 0, 0, 0, 1, 1]),
    ({"alpha": 0.1, "threshold": 1.0, "max_value": 5}, [-0.4, -0.2, -0.1, -0.05, 0, 2, 5],
     [0.1, 0.1, 0.1, 0.1, 0, 1, 0]),
    ({"threshold": -1.0, "max_value": 3.0}, [0, 0, 0, 0.5, 1, 2, 3], [0, 0, 1, 1, 1, 1, 0]),
]


@pytest.mark.parametrize("options, values, grads", KERAS_RELU)
def test_relu_takes_keras_options(options, values, grads):
    x = Tensor(X[0].copy(), requires_grad=True)
    out = activations.relu(x, **options)
    out.sum().backward()
    np.testing.assert_allclose(out.data, values, atol=1e-12)
    np.testing.assert_allclose(x.grad, grads)


@pytest.mark.parametrize("name", ["gelu", "swish", "silu", "selu", "hard_sigmoid", "mish"])
def test_dense_and_activation_layers_take_the_names(name):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    dense = layers.Dense(2, activation=name)
    linear = layers.Dense(2)
    linear.build((None, 3))
    dense.build((None, 3))
    linear.set_weights(dense.get_weights())
    expected = activations.get(name)(linear(x)).data
    np.testing.assert_allclose(dense(x).data, expected, rtol=1e-6)
    np.testing.assert_allclose(layers.Activation(name)(x).data,
                               activations.get(name)(Tensor(x)).data)
    stored = "swish" if name == "silu" else name
    assert dense.get_config()["activation"] == stored  # as tf_keras 2.21
    assert layers.Activation(name).get_config()["activation"] == stored


def test_a_model_with_the_new_activations_saves_and_loads(tmp_path):
    model = minidl.Sequential([
        layers.Dense(8, activation="gelu", input_shape=(3,)),
        layers.Dense(8, activation="silu"),
        layers.Activation("hard_sigmoid"),
        layers.Dense(2, activation="selu"),
    ])
    model.compile("adam", "mse")
    x = np.random.default_rng(1).standard_normal((16, 3)).astype(np.float32)
    model.fit(x, np.zeros((16, 2), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config().get("activation") for layer in loaded.layers] == [
        "gelu", "swish", "hard_sigmoid", "selu"]
