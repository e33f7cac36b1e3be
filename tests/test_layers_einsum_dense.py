"""ops.einsum and layers.EinsumDense: tf_keras 2.21's outputs, weight names and shapes,
output shapes, parameters and configs on Keras's documented examples (tests/fixtures/
einsum_dense/make_fixtures.py), PyTorch's einsum with the weights copied, float64
gradients against finite differences, saving, training, and bad arguments."""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "einsum_dense"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
CASES = json.loads((FIXTURES / "cases.json").read_text())


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def keras_layer(name, dtype="float32"):
    case = CASES[name]
    layer = layers.EinsumDense(**case["arguments"], dtype=dtype)
    layer.build((None, *case["input_shape"]))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], dtype))
    return layer


EQUATIONS = [
    ("ab,bc->ac", (3, 4), (4, 5)),
    ("abc,cd->abd", (2, 3, 4), (4, 5)),
    ("abc,cde->abde", (2, 3, 4), (4, 2, 3)),
    ("...b,bc->...c", (2, 3, 4), (4, 5)),
    ("...b,bc->...c", (4,), (4, 5)),
    ("ab...,bc->ac...", (2, 3, 4), (3, 2)),
    ("abx,cd->ac", (2, 3, 2), (4, 2)),           # x summed away, d only in the kernel
    ("ab,cd->abcd", (2, 3), (4, 2)),             # an outer product
    ("a...b,...bc->...ac", (2, 3, 1, 4), (5, 4, 3)),  # "..." broadcast between operands
    ("ba,bc->ca", (3, 2), (3, 4)),
]


@pytest.mark.parametrize("equation, a_shape, b_shape", EQUATIONS)
def test_einsum_values_and_float64_gradients(equation, a_shape, b_shape):
    a, b = values(3, [a_shape, b_shape], np.float64)
    np.testing.assert_allclose(ops.einsum(equation, a, b).numpy(), np.einsum(equation, a, b))
    assert gradcheck(lambda x, w: ops.einsum(equation, x, w), [a, b])


@pytest.mark.parametrize("equation, a_shape, b_shape", EQUATIONS)
def test_einsum_gradients_as_pytorch(equation, a_shape, b_shape):
    torch = pytest.importorskip("torch")
    a, b = values(4, [a_shape, b_shape])
    x, w = minidl.Tensor(a, requires_grad=True), minidl.Tensor(b, requires_grad=True)
    y = ops.einsum(equation, x, w)
    (g,) = values(5, [y.shape])
    (y * g).sum().backward()
    tx, tw = (torch.tensor(v, requires_grad=True) for v in (a, b))
    ty = torch.einsum(equation, tx, tw)
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), atol=1e-5)


@pytest.mark.parametrize("equation, message", [
    ("ab,bc", "explicit equation"),
    ("ab,bc,cd->ad", "explicit equation"),
    ("aab,bc->ac", "appears twice"),
    ("ab,bc->ax", "in neither operand"),
    ("...a,ab->b", "exactly when"),
    ("a.b,bc->ac", "letters with at most one"),
    ("a b,bc->ac", "letters with at most one"),
])
def test_einsum_refuses_what_it_cannot_do(equation, message):
    with pytest.raises(ValueError, match=message):
        ops.einsum(equation, np.ones((2, 2)), np.ones((2, 2)))


def test_einsum_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="size 3 in one operand and 2"):
        ops.einsum("ab,bc->ac", np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="names 3 axes"):
        ops.einsum("abc,bc->ac", np.ones((2, 3)), np.ones((3, 2)))


@pytest.mark.parametrize("name", CASES)
def test_outputs_weights_parameters_and_config_as_tf_keras(name):
    expected, case = KERAS[name], CASES[name]
    layer = keras_layer(name)
    (x,) = values(0, [(2, *case["input_shape"])])
    np.testing.assert_allclose(layer(x).numpy(), expected["output"], atol=3e-6)
    assert [w.name.split("/")[-1] for w in layer.weights] == expected["weight_names"]
    assert [list(w.shape) for w in layer.weights] == expected["weight_shapes"]
    assert layer.compute_output_shape((None, *case["input_shape"])) == tuple(
        expected["output_shape"])
    assert layer.count_params() == expected["params"]
    config = layer.get_config()
    for key in ("name", "kernel_initializer", "bias_initializer"):
        config.pop(key)
    assert config == expected["config"]


@pytest.mark.parametrize("name", CASES)
def test_summary_shapes_and_parameters(name, capsys):
    case = CASES[name]
    inputs = minidl.Input(shape=case["input_shape"])
    model = minidl.Model(inputs, keras_layer(name)(inputs))
    model.summary()
    assert model.output_shape == tuple(KERAS[name]["output_shape"])
    line = next(s for s in capsys.readouterr().out.splitlines() if "(EinsumDens" in s)
    assert line.split()[-1] == str(KERAS[name]["params"])


@pytest.mark.parametrize("name", CASES)
def test_layer_gradients_float64(name):
    """The input's gradient by gradcheck; each weight's by central differences on its values."""
    layer = keras_layer(name, dtype="float64")
    (x,) = values(0, [(2, *CASES[name]["input_shape"])], np.float64)
    assert gradcheck(lambda t: layer(t), [x])
    (g,) = values(2, [layer(x).shape], np.float64)
    for weight in layer.trainable_weights:
        weight.grad = None  # (gradcheck's backward reached them too)
    (layer(x) * g).sum().backward()
    for weight in layer.trainable_weights:
        numeric = np.empty_like(weight.data)
        for i in range(weight.data.size):
            original = weight.data.flat[i]
            weight.data.flat[i] = original + 1e-6
            plus = float((layer(x).numpy() * g).sum())
            weight.data.flat[i] = original - 1e-6
            minus = float((layer(x).numpy() * g).sum())
            weight.data.flat[i] = original
            numeric.flat[i] = (plus - minus) / 2e-6
        np.testing.assert_allclose(weight.grad, numeric, atol=1e-6)


def test_layer_gradients_as_pytorch():
    torch = pytest.importorskip("torch")
    layer = keras_layer("two_axes")
    (x,) = values(0, [(2, 3, 2)])
    tx = torch.tensor(x, requires_grad=True)
    tk, tb = (torch.tensor(w, requires_grad=True) for w in layer.get_weights())
    ty = torch.einsum("abc,cde->abde", tx, tk) + tb
    xm = minidl.Tensor(x, requires_grad=True)
    y = layer(xm)
    (g,) = values(2, [y.shape])
    (y * g).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-5)
    for mine, theirs in ((xm.grad, tx), (layer.kernel.grad, tk), (layer.bias.grad, tb)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), atol=1e-5)


def test_gradcheck_of_the_layer_call():
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="e",
                               activation="tanh", dtype="float64")
    layer.build((None, 3, 4))
    x = values(6, [(2, 3, 4)], np.float64)[0]
    assert gradcheck(lambda t: layer(t), [x])


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 5, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3
    net = minidl.Sequential([minidl.Input(shape=(5, 3)),
                             layers.EinsumDense("abc,cd->abd", (None, 1), bias_axes="d")])
    net.compile(minidl.optimizers.Adam(0.05), "mse")
    history = net.fit(x, y, epochs=20, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    net.save(tmp_path / "einsum.mdl")
    loaded = load_model(tmp_path / "einsum.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), net.predict(x, verbose=0))
    layer = net.layers[-1]
    copy = layers.EinsumDense.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    assert layers.deserialize(layers.serialize(layer)).get_config() == layer.get_config()


@pytest.mark.parametrize("arguments, message", [
    (dict(equation="ab,bc", output_shape=4), "invalid einsum equation"),
    (dict(equation="a...b,bc->ac", output_shape=4), "invalid einsum equation"),
    (dict(equation="aab,bc->ac", output_shape=4), "appears twice"),
    (dict(equation="ab,bc->ax", output_shape=4), "no corresponding dim"),
    (dict(equation="ab,bcd->ac", output_shape=4), "did not have a match"),
    (dict(equation="ab,bc->ac", output_shape=(4, 3)), "has 2 entries"),
    (dict(equation="...b,bc->...c", output_shape=(None, 4)), "has 2 entries"),
    (dict(equation="ab,bc->ac", output_shape=-4), "positive"),
    (dict(equation="ab,bc->ac", output_shape="4"), "positive"),
    (dict(equation="ab,bc->ac", output_shape=4, bias_axes="x"), "not part of the output"),
    (dict(equation="ab,bc->ac", output_shape=4, kernel_constraint=3), "constraint"),
    (dict(equation=3, output_shape=4), "invalid einsum equation"),
])
def test_bad_arguments_are_refused_naming_the_layer(arguments, message):
    with pytest.raises(ValueError, match=message) as caught:
        layers.EinsumDense(**arguments, name="mixer")
    assert '"mixer"' in str(caught.value)


def test_bad_inputs_are_refused_naming_the_layer():
    layer = layers.EinsumDense("abc,cd->abd", (None, 4), name="mixer")
    with pytest.raises(ValueError, match='"mixer".*expects inputs of 3 axes'):
        layer(np.ones((2, 3), np.float32))
    assert not layer.built
    with pytest.raises(ValueError, match="do not match at shared dimension 'b'"):
        layers.EinsumDense("abc,cd->abd", (5, 4), name="mixer").build((None, 3, 2))
    with pytest.raises(ValueError, match="needs a known size"):
        layers.EinsumDense("abc,cd->abd", (None, None), name="mixer").build((None, 3, 2))
    layer(np.ones((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match='"mixer" is incompatible.*kernel'):
        layer(np.ones((2, 3, 5), np.float32))
