"""Conv1DTranspose: tf_keras 2.21's outputs, shapes, parameters, configs and gradients
(tests/fixtures/conv1d_transpose/make_fixtures.py), PyTorch's ConvTranspose1d, float64
gradients against finite differences, saving and Keras files, and bad arguments."""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "conv1d_transpose"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
# the cases' layer arguments, as make_fixtures.py passes them to tf_keras
CASES = json.loads((FIXTURES / "cases.json").read_text())


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def keras_layer(name, dtype="float32"):
    layer = layers.Conv1DTranspose(**CASES[name], dtype=dtype)
    layer.build((None, 5, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], dtype))
    return layer


@pytest.mark.parametrize("name", CASES)
def test_outputs_shapes_parameters_and_config_as_tf_keras(name):
    expected = KERAS[name]
    layer = keras_layer(name)
    (x,) = values(0, [(2, 5, 3)])
    np.testing.assert_allclose(layer(x).numpy(), expected["output"], atol=2e-6)
    assert layer.compute_output_shape((None, 5, 3)) == tuple(expected["output_shape"])
    assert layer.count_params() == expected["params"]
    assert layer.kernel.shape == (layer.kernel_size, layer.filters, 3)  # Keras's layout
    config = layer.get_config()
    for key in ("name", "kernel_initializer", "bias_initializer"):
        config.pop(key)
    assert json.loads(json.dumps(config)) == expected["config"]  # (the fixture is JSON)
    assert config["kernel_size"] == (layer.kernel_size,)  # tuples, as tf_keras 2.21


def test_gradients_as_tf_keras():
    layer = keras_layer("k3-s2-same")
    x = minidl.Tensor(values(0, [(2, 5, 3)])[0], requires_grad=True)
    y = layer(x)
    (weights,) = values(2, [y.shape])
    (y * weights).sum().backward()
    for got, expected in zip((x.grad, layer.kernel.grad, layer.bias.grad),
                             KERAS["k3-s2-same"]["gradients"]):
        np.testing.assert_allclose(got, expected, atol=2e-5)


@pytest.mark.parametrize("strides, padding, output_padding, dilation", [
    (1, "valid", None, 1), (2, "same", None, 1), (3, "valid", 1, 1), (2, "same", 1, 1),
    (1, "valid", None, 3), (1, "same", None, 2),
])
def test_float64_gradients_against_finite_differences(strides, padding, output_padding, dilation):
    x, w, b = values(3, [(2, 4, 3), (3, 2, 3), (2,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.conv1d_transpose(
        x, w, b, strides, padding, output_padding, dilation), [x, w, b])


@pytest.mark.parametrize("kernel, strides, padding, output_padding, dilation", [
    (3, 1, "valid", None, 1), (4, 2, "valid", 1, 1), (3, 3, "valid", 2, 1), (5, 1, "valid", None, 2),
])
def test_pytorch_conv_transpose1d_with_weights_copied_across(kernel, strides, padding,
                                                            output_padding, dilation):
    """Keras's kernel (k, F, C) is PyTorch's weight (C, F, k) transposed; "valid" with
    output_padding is PyTorch's padding=0, output_padding=p."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    twin = torch.nn.ConvTranspose1d(3, 5, kernel, stride=strides, dilation=dilation,
                                    output_padding=output_padding or 0).double()
    layer = layers.Conv1DTranspose(5, kernel, strides=strides, padding=padding,
                                   output_padding=output_padding, dilation_rate=dilation,
                                   activation="tanh", dtype="float64")
    layer.build((None, 6, 3))
    layer.set_weights([twin.weight.detach().numpy().transpose(2, 1, 0),
                       twin.bias.detach().numpy()])
    x = np.random.default_rng(1).normal(size=(2, 6, 3))
    expected = torch.tanh(twin(torch.tensor(x.transpose(0, 2, 1)))).detach().numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected.transpose(0, 2, 1), rtol=1e-10,
                               atol=1e-12)


def test_is_a_conv1d_with_alias_and_config_round_trip():
    layer = layers.Conv1DTranspose(8, 3, strides=2, padding="same", output_padding=1,
                                   activation="relu", kernel_regularizer="l2")
    assert isinstance(layer, layers.Conv1D)  # as in Keras
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    config = layer.get_config()
    assert config["output_padding"] == (1,) and config["strides"] == (2,)
    for copy in (layers.Conv1DTranspose.from_config(config),
                 layers.deserialize(layers.serialize(layer))):
        assert type(copy) is layers.Conv1DTranspose and copy.get_config() == config


def autoencoder():
    """The decoder half of keras.io's timeseries anomaly detection autoencoder."""
    return minidl.Sequential([
        layers.Input(shape=(12, 1)),
        layers.Conv1D(8, 7, padding="same", strides=2, activation="relu"),
        layers.Conv1D(4, 7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(4, 7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(8, 7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(1, 7, padding="same"),
    ])


def test_summary_as_tf_keras_prints_it():
    lines = []
    autoencoder().summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines[4:-4] if line.strip()]
    assert rows == [  # tf_keras 2.21's rows for the same model
        " conv1d (Conv1D)             (None, 6, 8)              64",
        " conv1d_1 (Conv1D)           (None, 3, 4)              228",
        " conv1d_transpose (Conv1DTr  (None, 6, 4)              116",
        " anspose)",
        " conv1d_transpose_1 (Conv1D  (None, 12, 8)             232",
        " Transpose)",
        " conv1d_transpose_2 (Conv1D  (None, 12, 1)             57",
        " Transpose)",
    ]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = autoencoder()
    x = np.sin(np.linspace(0, 20, 32 * 12)).reshape(32, 12, 1).astype(np.float32)
    model.compile("adam", "mse")
    history = model.fit(x, x, batch_size=8, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "ae.mdl")
    loaded = load_model(tmp_path / "ae.mdl")
    assert type(loaded.layers[2]) is layers.Conv1DTranspose
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_3_file_is_refused_by_name_as_for_conv2d_transpose(tmp_path):
    """The Keras 3 writer does not translate the transposed convolutions: save() says so,
    naming the layer, and writes minidl's own layout (which load_model reads)."""
    pytest.importorskip("h5py")
    model = autoencoder()
    with pytest.warns(UserWarning, match=r'layer "conv1d_transpose" is a Conv1DTranspose, '
                                         r"which this writer does not translate"):
        model.save(tmp_path / "ae.keras")
    x = np.ones((2, 12, 1), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "ae.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


@pytest.mark.parametrize("path, key", [("keras2.h5", "keras2"), ("keras3.keras", "keras3")])
def test_keras_files_load(path, key):
    stored = np.load(FIXTURES / "files.npz")
    model = load_model(FIXTURES / path)
    assert type(model.layers[0]) is layers.Conv1DTranspose
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored[key], atol=1e-5)


@pytest.mark.parametrize("make, words", [
    (lambda: layers.Conv1DTranspose(0, 3), ["conv1dtranspose", "filters", "received 0"]),
    (lambda: layers.Conv1DTranspose(-2, 3), ["filters", "received -2"]),
    (lambda: layers.Conv1DTranspose(2.5, 3), ["filters", "received 2.5"]),
    (lambda: layers.Conv1DTranspose(2, 0), ["kernel_size", "received 0"]),
    (lambda: layers.Conv1DTranspose(2, (3, 3)), ["kernel_size", "(3, 3)"]),
    (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=2),
     ["conv1dtranspose", "output_padding", "smaller than strides", "output_padding=2"]),
    (lambda: layers.Conv1DTranspose(2, 3, output_padding=1), ["output_padding=1", "strides=1"]),
    (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=-1),
     ["output_padding", "received -1"]),
    (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), ["conv1dtranspose", "'causal'"]),
    (lambda: layers.Conv1DTranspose(2, 3, strides=2, dilation_rate=2),
     ["strides > 1", "dilation_rate > 1"]),
    (lambda: layers.Conv1DTranspose(2, 3, data_format="channels_first"), ["channels_last"]),
    (lambda: layers.Conv1DTranspose(2, 3, kernel_constraint="non_negative"), ["kernel_constraint"]),
    (lambda: minidl.Sequential([minidl.Input((5, 2)), layers.Conv1DTranspose(
        2, 4, strides=2, padding="same", output_padding=0)]),
     ["conv1dtranspose", "output_padding=0", "size 8", "output_padding=none"]),
    (lambda: layers.Conv1DTranspose(2, 3)(np.ones((2, 5))),
     ["conv1dtranspose", "(none, steps, channels)", "(2, 5)", "channel axis"]),
    (lambda: layers.Conv1DTranspose(2, 3)(np.ones((2, 5, 3, 1))), ["(2, 5, 3, 1)"]),
])
def test_bad_arguments(make, words):
    with pytest.raises(ValueError) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


def test_wrong_channels_at_call_changes_nothing():
    layer = layers.Conv1DTranspose(2, 3)
    layer(np.ones((1, 4, 3)))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match=r"expected shape \(None, steps, 3\), received shape "
                                         r"\(1, 4, 2\)"):
        layer(np.ones((1, 4, 2)))
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))
