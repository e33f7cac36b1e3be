"""Conv3DTranspose (ops.conv3d_transpose) and ConvLSTM3D: against tf_keras 2.21 (values
and gradients, shapes, parameters, config: tests/fixtures/conv3d_transpose, made by its
script), against PyTorch's conv_transpose3d with gradients, float64 gradcheck, summary,
save/load round trips, registration, hostile arguments."""

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

FIXTURES = Path(__file__).parent / "fixtures" / "conv3d_transpose"
CASES = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = np.load(FIXTURES / "outputs.npz")
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
ARGUMENT_NAMES = ("output_padding", "kernel_size", "data_format", "dilation_rate", "filters",
                  "strides", "padding")


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{c['class_name']}-{i}" for i, c in enumerate(CASES)])
def test_values_gradients_shapes_parameters_and_config_as_tf_keras(index):
    case = CASES[index]
    more = {"return_sequences": True} if case["class_name"] == "ConvLSTM3D" else {}
    layer = getattr(layers, case["class_name"])(**case["arguments"], **more)
    batch_none = (None, *case["input_shape"][1:])
    layer.build(batch_none)
    weights = [ARRAYS[f"{index}/w{j}"] for j in range(len(layer.get_weights()))]
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)
    x = Tensor(ARRAYS[f"{index}/x"], requires_grad=True)
    y = layer(x)
    np.testing.assert_allclose(y.data, ARRAYS[f"{index}/y"], rtol=1e-5, atol=1e-5)
    probe = np.random.default_rng(3).uniform(-1, 1, size=y.shape).astype(np.float32)
    ops.mul(y, probe).sum().backward()
    for j, tensor in enumerate([x, *layer.trainable_weights]):
        np.testing.assert_allclose(tensor.grad, ARRAYS[f"{index}/g{j}"], rtol=1e-4, atol=1e-5)
    assert list(layer.compute_output_shape(batch_none)) == case["output_shape"]
    assert layer.count_params() == case["params"]
    config = json.loads(json.dumps(layer.get_config()))
    assert {k: v for k, v in config.items() if k not in ("name", "dtype", "trainable")} == (
        case["config"])


def torch_keras_transpose(torch, x, w, strides, padding, output_padding):
    """Keras's Conv3DTranspose (no bias) from PyTorch's conv_transpose3d: the full
    (uncropped) result, then Keras's size on each axis ("same" crops the odd voxel after;
    output_padding, or a stride above the kernel, adds zeros after)."""
    full = torch.nn.functional.conv_transpose3d(
        x.permute(0, 4, 1, 2, 3), w.permute(4, 3, 0, 1, 2), stride=strides)
    index = [slice(None), slice(None)]
    for axis, (n, k, s) in enumerate(zip(x.shape[1:4], w.shape[:3], strides)):
        p = None if output_padding is None else output_padding[axis]
        if p is None:
            out = n * s + max(k - s, 0) if padding == "valid" else n * s
        else:
            out = (n - 1) * s + k - (2 * (k // 2) if padding == "same" else 0) + p
        front = max((n - 1) * s + k - out, 0) // 2 if padding == "same" else 0
        missing = front + out - full.shape[2 + axis]
        if missing > 0:
            full = torch.nn.functional.pad(full, [0, 0] * (2 - axis) + [0, missing])
        index.append(slice(front, front + out))
    return full[tuple(index)].permute(0, 2, 3, 4, 1)


TORCH_CASES = [
    ((2, 3, 4, 5, 2), (2, 3, 2), 3, (1, 1, 1), "valid", None),
    ((1, 3, 4, 3, 3), (3, 3, 3), 2, (2, 2, 2), "same", None),
    ((2, 2, 3, 4, 2), (3, 2, 1), 2, (2, 3, 1), "valid", None),
    ((1, 2, 3, 2, 1), (1, 2, 3), 4, (3, 2, 2), "same", None),
    ((2, 2, 3, 3, 2), (3, 3, 3), 2, (2, 3, 2), "same", (1, 2, 0)),
    ((1, 2, 2, 3, 2), (3, 2, 3), 3, (2, 2, 2), "valid", (1, 1, 1)),
    ((1, 3, 2, 2, 2), (4, 2, 2), 2, (3, 1, 2), "same", None),
]


@pytest.mark.parametrize("case", TORCH_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_op_matches_torch_forward_and_gradients(case, dtype):
    torch = pytest.importorskip("torch")
    shape, kernel, filters, strides, padding, output_padding = case
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, shape).astype(dtype)
    w = rng.uniform(-1, 1, (*kernel, filters, shape[-1])).astype(dtype)
    b = rng.uniform(-1, 1, filters).astype(dtype)
    tensors = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = ops.conv3d_transpose(*tensors, strides, padding, output_padding)
    twins = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    # bias after the crop, so the zeros output_padding adds get it too (as Keras)
    twin = torch_keras_transpose(torch, twins[0], twins[1], strides, padding,
                                 output_padding) + twins[2]
    assert y.shape == tuple(twin.shape)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.data, twin.detach().numpy(), rtol=tol, atol=tol)
    grad = rng.uniform(-1, 1, y.shape).astype(dtype)
    y.backward(grad)
    twin.backward(torch.tensor(grad))
    for mine, theirs in zip(tensors, twins):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("case", TORCH_CASES[:6])
def test_op_gradcheck_float64(case):
    shape, kernel, filters, strides, padding, output_padding = case
    rng = np.random.default_rng(6)
    inputs = [rng.normal(size=shape), rng.normal(size=(*kernel, filters, shape[-1])),
              rng.normal(size=filters)]
    assert gradcheck(lambda x, w, b: ops.conv3d_transpose(x, w, b, strides, padding,
                                                          output_padding), inputs)


def test_conv_lstm3d_gradcheck_float64():
    layer = layers.ConvLSTM3D(2, (2, 1, 2), padding="same", dtype="float64",
                              return_sequences=True)
    x = np.random.default_rng(7).normal(size=(1, 2, 2, 3, 2, 1))
    layer.build(x.shape)
    assert gradcheck(lambda x: layer(x), [x])


def test_summary_shapes_and_parameter_counts_as_tf_keras(capsys):
    # tf_keras 2.21, the same model: 220, 146, 0, 552; Total params: 918
    model = minidl.Sequential([
        layers.Input((4, 8, 8, 2)),
        layers.Conv3DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        layers.Convolution3DTranspose(2, (2, 3, 3), strides=(1, 2, 2)),
        layers.Reshape((1, 9, 33, 33, 2)), layers.ConvLSTM3D(3, (1, 3, 3), padding="same")])
    model.summary()
    printed = capsys.readouterr().out
    for shape in ("(None, 8, 16, 16, 4)", "(None, 9, 33, 33, 2)", "(None, 1, 9, 33, 33, 2)",
                  "(None, 9, 33, 33, 3)"):
        assert shape in printed
    assert [layer.count_params() for layer in model.layers] == [220, 146, 0, 552]
    assert "Total params: 918" in printed
    assert [layer.name for layer in model.layers] == [
        "conv3d_transpose", "conv3d_transpose_1", "reshape", "conv_lstm3d"]


def test_a_trained_model_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 2, 3, 4, 4, 1)).astype(np.float32)
    y = (x[:, :, :1].mean(axis=(1, 2, 3, 4, 5)) > 0).astype(np.float32)
    model = minidl.Sequential([
        layers.Input((2, 3, 4, 4, 1)),
        layers.ConvLSTM3D(2, (1, 2, 2), padding="same", return_sequences=True,
                          kernel_regularizer="l2"),
        layers.Reshape((6, 4, 4, 2)),
        layers.Conv3DTranspose(2, 2, strides=(1, 2, 2), output_padding=(0, 1, 0),
                               activation="relu", kernel_constraint="max_norm"),
        layers.Conv3DTranspose(1, 2, data_format="channels_first", use_bias=False),
        layers.GlobalAveragePooling3D(), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "clips.mdl")
    loaded = load_model(tmp_path / "clips.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]
    # the Keras 3 writer does not translate these two (as ConvLSTM2D, Conv2DTranspose):
    # save() says so, naming the layer, and writes minidl's own format
    with pytest.warns(UserWarning, match=r'layer "conv_lstm3d" is a ConvLSTM3D, which this '
                                         r"writer does not translate"):
        model.save(tmp_path / "clips.keras")
    np.testing.assert_array_equal(load_model(tmp_path / "clips.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


@pytest.mark.parametrize("path", ["keras2.h5", "keras3.keras"])
def test_tf_keras_and_keras_3_files_load(path):
    """Keras 3's ConvLSTM3D has recurrent_activation="sigmoid" by default, tf_keras's
    "hard_sigmoid": each file's config says which, and the predictions agree."""
    pytest.importorskip("h5py")
    stored = np.load(FIXTURES / "files.npz")
    model = load_model(FIXTURES / path)
    assert [type(layer).__name__ for layer in model.layers][:4] == [
        "ConvLSTM3D", "Reshape", "Conv3DTranspose", "Conv3DTranspose"]
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored[path.split(".")[0]],
                               rtol=1e-5, atol=1e-5)


def test_registration_aliases_and_config_round_trip():
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    for name in ("Conv3DTranspose", "Convolution3DTranspose", "ConvLSTM3D"):
        assert name in layers.__all__
    for name in ("Conv3DTranspose", "ConvLSTM3D"):
        assert layers._REGISTRY[name] is getattr(layers, name)
    for layer in (layers.Conv3DTranspose(3, (1, 2, 3), strides=2, output_padding=1,
                                         padding="same", data_format="channels_first"),
                  layers.ConvLSTM3D(2, 3, strides=(1, 2, 1), go_backwards=True)):
        again = layers.deserialize(layers.serialize(layer))
        assert type(again) is type(layer) and again.get_config() == layer.get_config()
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("name, arguments, error, message",
                         ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_hostile_arguments_refused_as_tf_keras_refuses(name, arguments, error, message):
    if error is None:  # tf_keras builds ConvLSTM3D(strides=2, dilation_rate=2); minidl
        error = "ValueError"  # refuses it as its ConvLSTM1D/2D do (and as Keras's convs)
    with pytest.raises(getattr(builtins, error)) as raised:
        getattr(layers, name)(**arguments)
    mine = str(raised.value)
    assert name in mine
    if message is not None:  # the argument Keras's message names, named here too
        argument = next(word for word in ARGUMENT_NAMES if word in message.lower())
        assert argument in mine.lower()


@pytest.mark.parametrize("arguments, match", [
    (dict(dilation_rate=2), r"dilation_rate=2 is not supported: Keras's Conv3DTranspose"),
    (dict(groups=2), r"groups=2 is not supported"),
    (dict(output_padding=(0, 0, 1)), r"strides must be greater than output padding"),
    (dict(strides=2, output_padding="a"), r"tuple of 3 non-negative integers"),
    (dict(strides=2, output_padding=True), r"tuple of 3 non-negative integers"),
    (dict(kernel_size=-1), r"kernel_size"),
    (dict(strides=(1, 0, 1)), r"strides"),
])
def test_conv3d_transpose_hostile_arguments(arguments, match):
    arguments = {"filters": 2, "kernel_size": 3, **arguments}
    with pytest.raises(ValueError, match=match):
        layers.Conv3DTranspose(**arguments)


def test_conv3d_transpose_refuses_wrong_inputs_and_changes_nothing():
    layer = layers.Conv3DTranspose(2, 3)
    with pytest.raises(ValueError, match=r"Add a channel axis"):
        layer(np.zeros((2, 4, 4, 4), np.float32))
    assert not layer.built and layer.get_weights() == []
    layer(np.zeros((1, 2, 3, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(Conv3DTranspose\) is incompatible .* expected "
                                         r"shape \(None, depth, height, width, 3\)"):
        layer(np.zeros((1, 2, 3, 4, 2), np.float32))
    # "same" with an even kernel and output_padding=0: Keras's size, which no convolution
    # maps back (TensorFlow fails when called); refused when the shape is known
    even = layers.Conv3DTranspose(2, 2, strides=2, padding="same", output_padding=0)
    with pytest.raises(ValueError, match=r"does not map back"):
        even.build((None, 3, 3, 3, 1))
    with pytest.raises(ValueError, match=r"kernel must be 5-D"):
        ops.conv3d_transpose(np.zeros((1, 2, 2, 2, 1)), np.zeros((2, 2, 1, 1)))
    with pytest.raises(ValueError, match=r"input has 2 channels"):
        ops.conv3d_transpose(np.zeros((1, 2, 2, 2, 2)), np.zeros((2, 2, 2, 1, 1)))
    with pytest.raises(ValueError, match=r"input must be 5-D"):
        ops.conv3d_transpose(np.zeros((1, 2, 2, 2)), np.zeros((2, 2, 2, 1, 1)))
    with pytest.raises(TypeError, match=r"strides must be an int or a triple"):
        ops.conv3d_transpose(np.zeros((1, 2, 2, 2, 1)), np.zeros((2, 2, 2, 1, 1)), None, "a")


def test_conv_lstm3d_refuses_wrong_inputs():
    layer = layers.ConvLSTM3D(2, 2)
    with pytest.raises(ValueError, match=r"expected ndim=6, shape \(batch, time, depth, rows, "
                                         r"cols, channels\), received shape \(1, 2, 3, 3, 3\)"):
        layer(np.zeros((1, 2, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"larger than its input frames"):
        layer(np.zeros((1, 2, 1, 3, 3, 1), np.float32))
    assert not layer.built


def test_conv_lstm3d_states_mask_and_channels_first_agree():
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (2, 3, 2, 3, 3, 2)).astype(np.float32)
    last = layers.ConvLSTM3D(2, 2, padding="same", return_state=True)
    first = layers.ConvLSTM3D(2, 2, padding="same", return_state=True,
                              data_format="channels_first")
    out, h, c = last(x)
    first.build((None, 3, 2, 2, 3, 3))
    first.set_weights(last.get_weights())
    out_f, h_f, c_f = first(np.moveaxis(x, -1, 2))
    np.testing.assert_allclose(np.moveaxis(out_f.data, 1, -1), out.data, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.moveaxis(c_f.data, 1, -1), c.data, rtol=1e-6, atol=1e-6)
    assert out.shape == h.shape == (2, 2, 3, 3, 2)
    masked = last(x, mask=np.array([[True, True, False], [True, True, True]]))[0]
    np.testing.assert_allclose(masked.data[1], out.data[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(masked.data[0], last(x[:, :2])[0].data[0], rtol=1e-6, atol=1e-6)


def test_functional_models_with_unknown_depth_and_time():
    inputs = layers.Input((None, 4, 4, 2))
    outputs = layers.Conv3DTranspose(3, (2, 3, 3), strides=2, padding="same")(inputs)
    model = minidl.Model(inputs, outputs)
    assert model.layers[1].compute_output_shape((None, None, 4, 4, 2)) == (None, None, 8, 8, 3)
    for depth in (1, 3):
        assert model.predict(np.ones((2, depth, 4, 4, 2), np.float32), verbose=0).shape == (
            2, 2 * depth, 8, 8, 3)
    inputs = layers.Input((None, None, 4, 4, 2))
    model = minidl.Model(inputs, layers.ConvLSTM3D(3, 2, padding="same")(inputs))
    assert model.predict(np.ones((2, 3, 2, 4, 4, 2), np.float32), verbose=0).shape == (
        2, 2, 4, 4, 3)
