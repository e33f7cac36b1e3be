"""Arithmetic on a functional model's symbolic tensors (``res = x + inputs``) makes
TFOpLambda layers, as Keras 2 does: their names, summary rows, values, gradients,
saving, and bad operands.  Names, shapes and connections printed by tf_keras 2.21
for the same model."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers
from minidl.layers.op_lambda import TFOpLambda
from minidl.models import load_model
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def arithmetic_model():
    inputs = minidl.Input((5, 3))
    x = layers.Dense(3)(inputs)
    res = x + inputs
    y = res * 2.0
    z = 1.0 - y
    w = z / res
    v = -w
    return minidl.Model(inputs, layers.Dense(2)(v))


def test_names_shapes_and_connections_as_keras_2():
    model = arithmetic_model()
    # tf_keras 2.21: each operator a TFOpLambda named after its TensorFlow function
    assert [(layer.name, type(layer).__name__) for layer in model.layers[2:-1]] == [
        ("tf.__operators__.add", "TFOpLambda"), ("tf.math.multiply", "TFOpLambda"),
        ("tf.math.subtract", "TFOpLambda"), ("tf.math.truediv", "TFOpLambda"),
        ("tf.math.negative", "TFOpLambda")]
    assert [layer.output_shape for layer in model.layers[2:-1]] == [(None, 5, 3)] * 5
    assert model.count_params() == 20
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "['dense[0][0]'," in text and "'input_1[0][0]']" in text
    assert "['tf.math.subtract[0][0]'," in text and "'tf.__operators__.add[0][0]']" in text
    config = model.get_config()["layers"]
    assert config[3]["config"]["function"] == "math.multiply"
    assert config[3]["config"]["constant"] == 2.0 and not config[3]["config"]["constant_first"]
    assert config[4]["config"]["constant_first"] is True  # 1.0 - y
    # the counter goes on, as Keras's: a second add is tf.__operators__.add_1
    assert (minidl.Input((2,)) + 1).name == "tf.__operators__.add_1"


def test_values_broadcasting_and_reversed_constants():
    a, b = minidl.Input((4, 1)), minidl.Input((1, 3))
    total = a + b
    assert total.shape == (None, 4, 3)  # tf_keras 2.21 gives (None, 4, 3)
    outputs = [total, a - b, 3.0 - a, 2.0 / (b + 1.0), a ** 2, a * np.arange(3, dtype=np.float32),
               a + Tensor(np.ones(3))]
    model = minidl.Model([a, b], outputs)
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(2, 4, 1)), rng.normal(size=(2, 1, 3))
    got = model.predict([xa, xb], verbose=0)
    expected = [xa + xb, xa - xb, 3.0 - xa, 2.0 / (xb + 1.0), xa ** 2, xa * np.arange(3), xa + np.ones(3)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_gradients_float64():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3)), rng.uniform(1, 2, size=(2, 3))
    for function in ("__operators__.add", "math.subtract", "math.multiply", "math.truediv"):
        layer = TFOpLambda(function, dtype="float64")
        assert gradcheck(lambda x, y: layer([x, y]), [a, b])
    assert gradcheck(TFOpLambda("math.subtract", constant=2.5, constant_first=True,
                                dtype="float64"), [a])
    assert gradcheck(TFOpLambda("math.negative", dtype="float64"), [a])
    assert gradcheck(TFOpLambda("math.pow", constant=3.0, dtype="float64"), [b])


def test_a_residual_model_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = arithmetic_model()
    model.compile("adam", "mse")
    rng = np.random.default_rng(2)
    x, y = rng.uniform(1, 2, (32, 5, 3)), rng.normal(size=(32, 5, 2))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "residual.mdl")
    loaded = load_model(tmp_path / "residual.mdl")
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    clone = layers.deserialize(layers.serialize(model.layers[4]))
    assert clone.get_config() == model.layers[4].get_config()


def test_bad_operands_are_refused():
    with pytest.raises(ValueError, match="function must be one of"):
        TFOpLambda("math.floordiv")
    x = minidl.Input((3,))
    with pytest.raises(TypeError, match="constant operand must be a number or an array"):
        x + "one"
    with pytest.raises(ValueError, match=r"operands of shapes \(None, 3\) and \(None, 4\) do not "
                                         "broadcast"):
        x + minidl.Input((4,))
    with pytest.raises(ValueError, match="do not broadcast"):
        x * np.ones((2,), np.float32)
    assert len(minidl.Model(x, x * 2.0).layers) == 2  # the refused calls left nothing behind


def test_arithmetic_inside_a_running_model_still_computes():
    """A layer's call reading a tensor of the graph gets numbers, not a new layer."""
    inputs = minidl.Input((3,))
    shifted = layers.Dense(3)(inputs)

    class AddShifted(layers.Layer):
        def call(self, x):
            return x + shifted

    model = minidl.Model(inputs, AddShifted()(inputs))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "AddShifted"]
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               x + model.layers[1](Tensor(x)).numpy(), rtol=1e-6)
