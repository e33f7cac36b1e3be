"""LocallyConnected1D and LocallyConnected2D: tf_keras 2.21's outputs, weight shapes,
parameters, configs and gradients for every implementation (tests/fixtures/
locally_connected/make_fixtures.py), PyTorch's unfold + einsum with the weights copied,
float64 gradients against finite differences, summary, training, saving, a tf_keras
file, and bad arguments."""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "locally_connected"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
# each case's rank, input shape (no batch axis) and layer arguments, as make_fixtures.py
# passes them to tf_keras
CASES = json.loads((FIXTURES / "cases.json").read_text())
GRADIENT_CASES = [name for name in KERAS if "gradients" in KERAS[name]]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def layer_class(rank):
    return layers.LocallyConnected1D if rank == 1 else layers.LocallyConnected2D


def keras_layer(name, dtype="float32"):
    case = CASES[name]
    layer = layer_class(case["rank"])(**case["arguments"], dtype=dtype)
    layer.build((None, *case["input_shape"]))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], dtype))
    return layer


@pytest.mark.parametrize("name", CASES)
def test_outputs_weights_parameters_and_config_as_tf_keras(name):
    expected, case = KERAS[name], CASES[name]
    layer = keras_layer(name)
    (x,) = values(0, [(2, *case["input_shape"])])
    np.testing.assert_allclose(layer(x).numpy(), expected["output"], atol=3e-6)
    assert [list(w.shape) for w in layer.get_weights()] == expected["weight_shapes"]
    assert layer.compute_output_shape((None, *case["input_shape"])) == tuple(
        expected["output_shape"])
    assert layer.count_params() == expected["params"]
    config = layer.get_config()
    for key in ("name", "kernel_initializer", "bias_initializer"):
        config.pop(key)
    assert json.loads(json.dumps(config)) == expected["config"]  # (the fixture is JSON)
    assert config["kernel_size"] == tuple(np.broadcast_to(case["arguments"]["kernel_size"],
                                                          case["rank"]))  # tuples, as tf_keras


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_gradients_as_tf_keras(name):
    layer = keras_layer(name)
    x = minidl.Tensor(values(0, [(2, *CASES[name]["input_shape"])])[0], requires_grad=True)
    y = layer(x)
    (weights,) = values(2, [y.shape])
    (y * weights).sum().backward()
    got = [x.grad, *(w.grad for w in layer.trainable_weights)]
    for mine, keras in zip(got, KERAS[name]["gradients"], strict=True):
        np.testing.assert_allclose(mine, keras, atol=2e-5)


@pytest.mark.parametrize("rank, input_shape, arguments", [
    (1, (6, 2), dict(filters=3, kernel_size=3, strides=2)),
    (1, (2, 7), dict(filters=2, kernel_size=4, strides=3, padding="same", implementation=3,
                     data_format="channels_first")),
    (1, (5, 2), dict(filters=2, kernel_size=2, padding="same", implementation=2)),
    (2, (4, 5, 2), dict(filters=2, kernel_size=(2, 3), strides=(2, 1))),
    (2, (2, 4, 3), dict(filters=2, kernel_size=3, padding="same", implementation=2,
                        data_format="channels_first")),
    (2, (4, 4, 1), dict(filters=3, kernel_size=(3, 2), strides=(1, 2), padding="same",
                        implementation=3)),
])
def test_float64_gradients_against_finite_differences(rank, input_shape, arguments):
    layer = layer_class(rank)(**arguments, dtype="float64")
    layer.build((None, *input_shape))
    x, kernel, bias = values(3, [(2, *input_shape), *(w.shape for w in layer.get_weights())],
                             np.float64)
    assert gradcheck(lambda x, w, b: layer._unshared_conv(x, w, b), [x, kernel, bias])


def torch_unshared_conv(torch, x, kernel, bias, kernel_size, strides, channels_first):
    """Keras's implementation=1 by hand: unfold's patches (N, C * kh * kw, P), channel
    first, against Keras's kernel (P, kh * kw * C, F) reordered to that patch order."""
    rank = len(kernel_size)
    images = x if channels_first else x.movedim(-1, 1)
    if rank == 1:
        images = images.unsqueeze(2)
        kernel_size, strides = (1, *kernel_size), (1, *strides)
    patches = torch.nn.functional.unfold(images, kernel_size, stride=strides)
    positions, _, filters = kernel.shape
    channels = images.shape[1]
    if not channels_first:  # (P, kh, kw, C, F) -> (P, C, kh, kw, F)
        kernel = kernel.reshape(positions, -1, channels, filters).movedim(2, 1)
    y = torch.einsum("nkp,pkf->npf", patches, kernel.reshape(positions, -1, filters))
    y = y + bias.reshape(positions, filters) if not channels_first else y
    if channels_first:  # Keras's reshape of the (P, F) bias to (F, P)
        return y.movedim(-1, 1) + bias.reshape(filters, positions)
    return y


@pytest.mark.parametrize("rank, input_shape, kernel_size, strides, data_format", [
    (1, (9, 3), (3,), (1,), "channels_last"), (1, (9, 3), (4,), (2,), "channels_last"),
    (1, (3, 8), (2,), (3,), "channels_first"), (2, (6, 7, 2), (3, 2), (1, 1), "channels_last"),
    (2, (6, 7, 2), (2, 3), (2, 2), "channels_last"), (2, (2, 5, 6), (3, 3), (1, 2),
                                                      "channels_first"),
])
def test_pytorch_unfold_and_einsum_with_the_weights_copied(rank, input_shape, kernel_size,
                                                           strides, data_format):
    torch = pytest.importorskip("torch")
    layer = layer_class(rank)(4, kernel_size, strides=strides, data_format=data_format,
                              activation="tanh", dtype="float64")
    layer.build((None, *input_shape))
    kernel, bias = values(5, [w.shape for w in layer.get_weights()], np.float64)
    layer.set_weights([kernel, bias])
    (x,) = values(6, [(3, *input_shape)], np.float64)
    mine = minidl.Tensor(x, requires_grad=True)
    y = layer(mine)
    (weights,) = values(7, [y.shape], np.float64)
    (y * weights).sum().backward()
    twins = [torch.tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    out = torch.tanh(torch_unshared_conv(torch, *twins, kernel_size, strides,
                                         data_format == "channels_first"))
    out = out.reshape(y.shape)
    (out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(y.numpy(), out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for got, twin in zip((mine.grad, layer.kernel.grad, layer.bias.grad), twins):
        np.testing.assert_allclose(got, twin.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_three_implementations_give_the_same_outputs_from_the_same_connections():
    """Implementation 1's kernel W[p, k, f] placed where 2 and 3 keep each connection."""
    (x,) = values(8, [(2, 8, 3)])
    one = layers.LocallyConnected1D(2, 3, strides=2, implementation=1)
    one.build((None, 8, 3))
    kernel, bias = values(9, [w.shape for w in one.get_weights()])
    one.set_weights([kernel, bias])
    two = layers.LocallyConnected1D(2, 3, strides=2, implementation=2)
    two.build((None, 8, 3))
    dense = np.zeros((8, 3, 3, 2), np.float32)  # (steps, C, steps', F)
    for p in range(3):
        dense[2 * p:2 * p + 3, :, p, :] = kernel[p].reshape(3, 3, 2)
    two.set_weights([dense, bias])
    three = layers.LocallyConnected1D(2, 3, strides=2, implementation=3)
    three.build((None, 8, 3))
    # sorted by (output index p * F + f, input index step * C + c)
    connections = sorted(((p * 2 + f, (2 * p + j) * 3 + c), kernel[p, j * 3 + c, f])
                         for p in range(3) for j in range(3) for c in range(3) for f in range(2))
    three.set_weights([np.array([w for _, w in connections]), bias])
    expected = one(x).numpy()
    np.testing.assert_allclose(two(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(three(x).numpy(), expected, rtol=1e-6)


def model():
    return minidl.Sequential([
        layers.Input((12, 10, 3)),
        layers.LocallyConnected2D(4, 3, activation="relu"),
        layers.LocallyConnected2D(2, (2, 2), strides=2, padding="same", implementation=2),
        layers.Reshape((5, 8)),
        layers.LocallyConnected1D(3, 2, implementation=3),
        layers.Flatten(),
        layers.Dense(1),
    ])


def test_summary_as_tf_keras():
    lines = []
    model().summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines[4:-4] if line.strip()]
    assert rows == [  # tf_keras 2.21's rows for the same model
        " locally_connected2d (Local  (None, 10, 8, 4)          8960",
        " lyConnected2D)",
        " locally_connected2d_1 (Loc  (None, 5, 4, 2)           12840",
        " allyConnected2D)",
        " reshape (Reshape)           (None, 5, 8)              0",
        " locally_connected1d (Local  (None, 4, 3)              204",
        " lyConnected1D)",
        " flatten (Flatten)           (None, 12)                0",
        " dense (Dense)               (None, 1)                 13",
    ]
    assert any(line.replace(",", "").startswith("Total params: 22017") for line in lines)


def test_config_round_trip():
    for layer in (layers.LocallyConnected1D(8, 3, strides=2, activation="relu",
                                            kernel_regularizer="l2", implementation=3),
                  layers.LocallyConnected2D(4, (3, 2), padding="SAME", implementation=2,
                                            data_format="channels_first", use_bias=False)):
        config = layer.get_config()
        for copy in (type(layer).from_config(config),
                     layers.deserialize(layers.serialize(layer))):
            assert type(copy) is type(layer) and copy.get_config() == config
    assert config["padding"] == "same" and config["implementation"] == 2


def test_regularizers_add_their_losses():
    layer = layers.LocallyConnected1D(2, 2, kernel_regularizer=minidl.regularizers.L2(0.5),
                                      activity_regularizer="l1")
    layer(np.ones((2, 4, 1), np.float32))
    assert len(layer.losses) == 2


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    net = model()
    x = np.random.default_rng(0).normal(size=(32, 12, 10, 3)).astype(np.float32)
    y = x[:, :4, :4, 0].mean(axis=(1, 2))[:, None]
    net.compile("adam", "mse")
    history = net.fit(x, y, batch_size=8, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    net.save(tmp_path / "lc.mdl")
    loaded = load_model(tmp_path / "lc.mdl")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in net.layers]
    assert loaded.layers[1].get_config()["implementation"] == 2
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), net.predict(x, verbose=0))


def test_keras_3_file_is_refused_by_name_keras_3_has_no_locally_connected(tmp_path):
    pytest.importorskip("h5py")
    net = model()
    with pytest.warns(UserWarning, match=r'"locally_connected2d" is a LocallyConnected2D'):
        net.save(tmp_path / "lc.keras")
    x = np.ones((2, 12, 10, 3), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "lc.keras").predict(x, verbose=0),
                                  net.predict(x, verbose=0))


def test_tf_keras_file_loads():
    """tf_keras 2.21's .h5 of both layers (implementations 2 and 3, "same" padding,
    channels_first) beside Identity, UnitNormalization and AlphaDropout."""
    pytest.importorskip("h5py")
    stored = np.load(FIXTURES / "files.npz")
    net = load_model(FIXTURES / "keras2.h5")
    assert [type(layer).__name__ for layer in net.layers] == [
        "LocallyConnected2D", "Reshape", "LocallyConnected1D", "Identity", "LocallyConnected1D",
        "Flatten", "UnitNormalization", "AlphaDropout", "Dense"]
    np.testing.assert_allclose(net.predict(stored["x"], verbose=0), stored["keras2"], atol=1e-5)


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.LocallyConnected1D(0, 3), ValueError,
     ["locallyconnected1d", "filters", "received 0"]),
    (lambda: layers.LocallyConnected2D(-2, 3), ValueError, ["filters", "received -2"]),
    (lambda: layers.LocallyConnected1D(2.5, 3), TypeError, ["filters", "received 2.5"]),
    (lambda: layers.LocallyConnected1D(2, 0), ValueError, ["kernel_size", "received 0"]),
    (lambda: layers.LocallyConnected1D(2, (3, 3)), ValueError, ["kernel_size", "(3, 3)"]),
    (lambda: layers.LocallyConnected2D(2, (3, 3, 3)), ValueError, ["kernel_size", "2 integers"]),
    (lambda: layers.LocallyConnected2D(2, 3, strides=(1, 0)), ValueError,
     ["strides", "received 0"]),
    (lambda: layers.LocallyConnected1D(2, 3, padding="same"), ValueError,
     ["locallyconnected1d", "padding='same'", "implementation=2 or 3"]),
    (lambda: layers.LocallyConnected2D(2, 3, padding="causal", implementation=2), ValueError,
     ["padding", "'causal'"]),
    (lambda: layers.LocallyConnected1D(2, 3, implementation=4), ValueError,
     ["implementation", "1, 2 or 3", "received 4"]),
    (lambda: layers.LocallyConnected1D(2, 3, implementation="2"), TypeError,
     ["implementation", "'2'"]),
    (lambda: layers.LocallyConnected2D(2, 3, data_format="NHWC"), ValueError,
     ["data_format", "'nhwc'"]),
    (lambda: layers.LocallyConnected1D(2, 3, kernel_constraint="non_negative"), ValueError,
     ["kernel_constraint", "unknown constraint"]),
    (lambda: layers.LocallyConnected1D(2, 3, kernel_regularizer="l7"), ValueError,
     ["kernel_regularizer"]),
    (lambda: minidl.Sequential([layers.Input((4, 2)), layers.LocallyConnected1D(2, 5)]),
     ValueError, ["locally_connected1d", "kernel_size (5,) is larger than its input (4,)"]),
    (lambda: minidl.Sequential([layers.Input((4, 6, 1)),
                                layers.LocallyConnected2D(2, (5, 2))]),
     ValueError, ["locally_connected2d", "larger than its input (4, 6)"]),
    (lambda: layers.LocallyConnected1D(2, 3)(np.ones((2, 5))), ValueError,
     ["locally_connected1d", "rank 3", "(batch, steps, channels)", "(2, 5)"]),
    (lambda: layers.LocallyConnected2D(2, 3, data_format="channels_first")(np.ones((2, 5, 5))),
     ValueError, ["rank 4", "(batch, channels, rows, cols)", "(2, 5, 5)"]),
    (lambda: minidl.Sequential([layers.Input((None, 3)), layers.LocallyConnected1D(2, 3)]),
     ValueError, ["known", "(none, none, 3)"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


def test_inputs_of_another_size_than_built_for_are_refused():
    layer = layers.LocallyConnected1D(2, 3)
    layer(np.ones((1, 6, 2), np.float32))
    with pytest.raises(ValueError, match=r"expected shape \(None, 6, 2\), received shape "
                                         r"\(1, 7, 2\)\. A locally connected layer has weights "
                                         "for one input size only"):
        layer(np.ones((1, 7, 2), np.float32))
    with pytest.raises(ValueError, match=r'"locally_connected1d_1" computes in floats and '
                                         "received an integer input"):  # as the convolutions
        layers.LocallyConnected1D(2, 3)(layers.Input((6, 2), dtype="int32"))
