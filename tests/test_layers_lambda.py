"""Lambda: any function of Tensors as a layer; it is never saved as code."""

import os

import numpy as np
import pytest

import minidl
from minidl import layers, ops


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def test_lambda_applies_its_function_and_gradients_flow():
    layer = layers.Lambda(lambda x: ops.tanh(x) * 2)
    x = minidl.Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    y = layer(x)
    np.testing.assert_allclose(y.data, 2 * np.tanh([[0.0, 1.0]]), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (1 - np.tanh([[0.0, 1.0]]) ** 2), rtol=1e-6)
    assert layer.name == "lambda" and layer.count_params() == 0


def test_lambda_output_shapes_found_given_or_computed():
    inferred = layers.Lambda(lambda x: x[:, :2] * x[:, :2])
    assert inferred(layers.Input((5,))).shape == (None, 2)
    given = layers.Lambda(lambda x: ops.reshape(x, (-1, 3, 2)), output_shape=(3, 2))
    assert given(layers.Input((6,))).shape == (None, 3, 2)
    computed = layers.Lambda(lambda x: ops.sum(x, axis=-1, keepdims=True),
                             output_shape=lambda shape: (*shape[:-1], 1))
    assert computed(layers.Input((4, 7))).shape == (None, 4, 1)


def test_lambda_arguments_training_and_several_inputs():
    scale = layers.Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0})
    np.testing.assert_array_equal(np.asarray(scale(np.ones((1, 2)))), [[3.0, 3.0]])
    seen = []
    noisy = layers.Lambda(lambda x, training=None: seen.append(training) or x)
    model = minidl.Sequential([minidl.Input((2,)), noisy, layers.Dense(1)])
    model.compile("sgd", "mse")
    seen.clear()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), batch_size=4, verbose=0)
    model.predict(np.ones((4, 2)), verbose=0)
    assert seen == [True, False]
    a, b = layers.Input((3,)), layers.Input((3,))
    summed = layers.Lambda(lambda pair: pair[0] + pair[1])([a, b])
    assert summed.shape == (None, 3)
    merged = minidl.Model([a, b], summed)
    np.testing.assert_array_equal(merged.predict([np.ones((2, 3)), np.ones((2, 3))], verbose=0),
                                  np.full((2, 3), 2.0))


def test_lambda_in_a_trained_model_and_its_summary():
    model = minidl.Sequential([minidl.Input((4,)), layers.Dense(3),
                               layers.Lambda(lambda x: x * x), layers.Dense(1)])
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith(" lambda (Lambda)             (None, 3)                 0") for line in lines)
    model.compile("adam", "mse")
    history = model.fit(np.random.default_rng(0).random((16, 4)), np.ones((16, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_saving_a_lambda_is_refused_with_what_to_do_instead(tmp_path):
    model = minidl.Sequential([minidl.Input((2,)), layers.Lambda(lambda x: x + 1), layers.Dense(1)])
    path = tmp_path / "model.mdl"
    with pytest.raises(ValueError, match=r'Lambda layer "lambda": its function cannot be saved '
                                         r"safely in minidl's format.*Layer subclass.*custom_objects"
                                         r".*save_weights\(\)"):
        model.save(path)
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="cannot be saved safely"):
        layers.Lambda(abs).get_config()
    # what the message suggests: the weights alone, into the model rebuilt in code
    model.save_weights(tmp_path / "weights.mdl")
    rebuilt = minidl.Sequential([minidl.Input((2,)), layers.Lambda(lambda x: x + 1), layers.Dense(1)])
    rebuilt.load_weights(tmp_path / "weights.mdl")
    x = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lambda_bad_arguments():
    with pytest.raises(TypeError, match=r'Lambda layer "lambda": function must be callable, received 3'):
        layers.Lambda(3)
    with pytest.raises(TypeError, match=r'Lambda layer "lambda_\d+": mask must be a function'):
        layers.Lambda(abs, mask="yes")
    with pytest.raises(TypeError, match="arguments must be a dict"):
        layers.Lambda(abs, arguments=[1])
    with pytest.raises(ValueError, match="output_shape must hold positive sizes"):
        layers.Lambda(abs, output_shape=(0, 2))
