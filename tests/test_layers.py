"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Input, merges; the Layer base."""

import numpy as np
import pytest

from minidl import Tensor, activations, layers, random
from minidl.layers import base


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def test_automatic_names_follow_keras():
    assert [layers.Dense(2).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert layers.Conv2D(1, 3).name == "conv2d"
    assert layers.Input(shape=(3,)).layer.name == "input_1"
    assert layers.Dense(2, name="out").name == "out"
    layers.reset_names()
    assert layers.Dense(2).name == "dense"


def test_dense_builds_on_first_call_with_keras_shapes():
    layer = layers.Dense(4, activation="relu")
    assert not layer.built
    y = layer(np.ones((3, 5)))
    assert isinstance(y, Tensor) and y.shape == (3, 4)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 4) and bias.shape == (4,)
    assert layer.count_params() == 24
    assert layer.kernel.name == "dense/kernel" and layer.kernel.requires_grad


def test_dense_computes_activation_of_affine_map():
    layer = layers.Dense(3, activation="sigmoid")
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    layer.build((None, 2))  # Keras's shapes: the batch axis first
    kernel, bias = np.arange(6, dtype=np.float32).reshape(2, 3) / 10, np.array([0.1, -0.2, 0.3], np.float32)
    layer.set_weights([kernel, bias])
    expected = 1 / (1 + np.exp(-(x @ kernel + bias)))
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5)


@pytest.mark.parametrize("activation", ["softmax", "elu", "softplus", "leaky_relu"])
def test_dense_with_unfused_activation(activation):
    layer = layers.Dense(3, activation=activation)
    x = np.random.default_rng(1).normal(size=(4, 2)).astype(np.float32)
    y = layer(x)
    kernel, bias = layer.get_weights()
    z = Tensor(x @ kernel + bias)

    np.testing.assert_allclose(np.asarray(y), np.asarray(activations.get(activation)(z)), rtol=1e-6)
    assert layer.activation_name == activation


def test_dense_on_rank_3_input_works_on_the_last_axis():
    layer = layers.Dense(2)
    assert layer(np.ones((4, 3, 5))).shape == (4, 3, 2)


def test_dense_wrong_input_shape_hints_flatten():
    layer = layers.Dense(4)
    layer(np.ones((2, 784)))
    with pytest.raises(ValueError, match=r'"dense".*\(None, 784\).*\(32, 28, 28\).*[Dd]id you forget Flatten'):
        layer(np.ones((32, 28, 28)))
    with pytest.raises(ValueError, match=r"received shape \(2, 5\)"):
        layer(np.ones((2, 5)))


def test_dense_gradients_reach_the_weights():
    layer = layers.Dense(3, activation="tanh")
    layer(np.ones((2, 4))).sum().backward()
    assert layer.kernel.grad.shape == (4, 3) and layer.bias.grad.shape == (3,)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Dense(0), "units must be a positive integer"),
        (lambda: layers.Dense(2.5), "units"),
        (lambda: layers.Dense(3, activation="rellu"), "Did you mean 'relu'"),
        (lambda: layers.Dense(3, kernel_initializer="he_normall"), "Did you mean 'he_normal'"),
        (lambda: layers.Dropout(1.0), r"rate must be a number in \[0, 1\)"),
        (lambda: layers.Dropout(-0.1), "rate"),
        (lambda: layers.Reshape((3, -1, -1)), "at most one -1"),
    ],
)
def test_bad_arguments_fail_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(3, activaton="relu")


def test_use_bias_false_has_only_a_kernel():
    layer = layers.Dense(3, use_bias=False)
    layer(np.ones((1, 2)))
    assert len(layer.weights) == 1 and layer.count_params() == 6


def test_trainable_false_moves_weights_to_non_trainable():
    layer = layers.Dense(3)
    layer(np.ones((1, 2)))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.requires_grad
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer.kernel.requires_grad


def test_set_weights_checks_count_and_shapes():
    layer = layers.Dense(3)
    layer(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r'"dense".*\(2, 3\).*\(3, 2\)'):
        layer.set_weights([np.zeros((3, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="has 2 weight arrays"):
        layer.set_weights([np.zeros((2, 3))])
    kernel = np.ones((2, 3))
    layer.set_weights([kernel, np.zeros(3)])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


def test_count_params_before_build_is_a_clear_error():
    with pytest.raises(ValueError, match="not built"):
        layers.Dense(3).count_params()


def test_dropout_only_in_training_and_keeps_the_mean():
    layer = layers.Dropout(0.5)
    x = np.ones((200, 100), np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    random.seed(0)
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y)) == {0.0, 2.0}
    assert y.mean() == pytest.approx(1.0, abs=0.05)


def test_dropout_seed_is_repeatable():
    a = np.asarray(layers.Dropout(0.3, seed=1)(np.ones((4, 5)), training=True))
    b = np.asarray(layers.Dropout(0.3, seed=1)(np.ones((4, 5)), training=True))
    np.testing.assert_array_equal(a, b)


def test_flatten_reshape_activation():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert layers.Flatten()(x).shape == (2, 12)
    assert layers.Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert layers.Reshape((4, 3))(x).shape == (2, 4, 3)
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5,)).compute_output_shape((None, 3, 4))
    act = layers.Activation("relu")
    np.testing.assert_array_equal(np.asarray(act(np.array([[-1.0, 2.0]]))), [[0.0, 2.0]])
    assert layers.Activation("softmax").activation_name == "softmax"


def test_input_and_symbolic_calls():
    inputs = layers.Input(shape=(784,))
    assert inputs.shape == (None, 784)
    dense = layers.Dense(32)
    out = dense(inputs)
    assert isinstance(out, layers.KerasTensor) and out.shape == (None, 32)
    assert dense.built and dense.kernel.shape == (784, 32)
    images = layers.Input(shape=(28, 28, 1), batch_size=8)
    assert images.shape == (8, 28, 28, 1)
    with pytest.raises(ValueError, match="needs a shape"):
        layers.Input()


def test_merge_layers():
    a, b = layers.Input(shape=(3,)), layers.Input(shape=(2,))
    assert layers.Concatenate()([a, b]).shape == (None, 5)
    assert layers.Add()([a, a]).shape == (None, 3)
    with pytest.raises(ValueError, match="same shape"):
        layers.Add()([a, b])
    x, y = np.ones((2, 3)), np.zeros((2, 2))
    np.testing.assert_array_equal(np.asarray(layers.Concatenate()([x, y])), np.hstack([x, y]))
    np.testing.assert_array_equal(np.asarray(layers.Add()([x, x])), 2 * x)
    # the functional guide's lower-case forms
    assert layers.concatenate([a, b]).shape == (None, 5)
    assert layers.add([a, a]).shape == (None, 3)
    np.testing.assert_array_equal(layers.add([x, x]).numpy(), 2 * x)


def test_config_round_trip_for_every_layer():
    made = [
        layers.Dense(5, activation="relu", use_bias=False, kernel_initializer="he_normal", input_shape=(3,)),
        layers.Activation("tanh"),
        layers.Dropout(0.25, seed=3),
        layers.Flatten(),
        layers.Reshape((2, -1)),
        layers.Conv2D(4, (3, 5), strides=2, padding="same", activation="relu"),
        layers.MaxPooling2D((3, 3), strides=1, padding="same"),
        layers.AveragePooling2D(),
        layers.GlobalAveragePooling2D(keepdims=True),
        layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False),
        layers.Concatenate(axis=1),
        layers.Add(),
        layers.InputLayer(input_shape=(4,)),
    ]
    for layer in made:
        config = layers.serialize(layer)
        copy = layers.deserialize(config)
        assert type(copy) is type(layer)
        assert copy.get_config() == layer.get_config()


def test_deserialize_unknown_class_suggests():
    with pytest.raises(ValueError, match="Did you mean 'Dense'"):
        layers.deserialize({"class_name": "Dence", "config": {}})


def test_custom_layer_without_training_argument():
    class Double(base.Layer):
        def call(self, inputs):
            return inputs * 2

    np.testing.assert_array_equal(np.asarray(Double()(np.ones((1, 2)), training=True)), [[2.0, 2.0]])


def test_custom_layer_the_keras_way():
    class Linear(base.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return inputs @ self.w + self.b

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.units)

    layer = Linear(3)
    assert layer(np.ones((2, 5))).shape == (2, 3)
    assert layer.built and layer.count_params() == 18
    assert [w.name for w in layer.weights] == ["linear/weight_0", "linear/weight_1"]
    assert layers.Input(shape=(5,)).shape == (None, 5) and Linear(2)(layers.Input(shape=(5,))).shape == (None, 2)


def test_bad_input_shape_names_the_layer():
    with pytest.raises(ValueError, match=r'Dense layer "dense": input_shape must hold positive sizes, received \(0,\)'):
        layers.Dense(3, input_shape=(0,))
    with pytest.raises(TypeError, match="input_shape must be a tuple of integers"):
        layers.Flatten(input_shape=("28", "x"))


def test_custom_activation_round_trips_with_custom_objects():
    def my_swish(x):
        return x * activations.sigmoid(x)

    layer = layers.Dense(2, activation=my_swish)
    config = layers.serialize(layer)
    assert config["config"]["activation"] == "my_swish"
    with pytest.raises(ValueError, match="Unknown activation 'my_swish'"):
        layers.deserialize(config)
    assert layers.deserialize(config, custom_objects={"my_swish": my_swish}).activation is my_swish
