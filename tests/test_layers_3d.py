"""Keras 2's 3-D layers (Conv3D, 3-D pooling, UpSampling3D, ZeroPadding3D, Cropping3D)
and their ops: against tf_keras 2.21 (tests/fixtures/layers_3d, made by its script),
against PyTorch's conv3d / max_pool3d / avg_pool3d with gradients, float64 gradcheck,
summary, config and save/load round trips, hostile arguments."""

import json
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

FIXTURES = Path(__file__).parent / "fixtures" / "layers_3d"
CASES = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = np.load(FIXTURES / "outputs.npz")


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{c['class_name']}-{i}" for i, c in enumerate(CASES)])
def test_outputs_shapes_parameters_and_config_as_tf_keras(index):
    case = CASES[index]
    layer = getattr(layers, case["class_name"])(**case["arguments"])
    batch_none = (None, *case["input_shape"][1:])
    layer.build(batch_none)
    weights = [ARRAYS[f"{index}/w{j}"] for j in range(len(layer.get_weights()))]
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)
    y = layer(ARRAYS[f"{index}/x"]).data
    np.testing.assert_allclose(y, ARRAYS[f"{index}/y"], rtol=1e-5, atol=1e-5)
    assert list(layer.compute_output_shape(batch_none)) == case["output_shape"]
    assert layer.count_params() == case["params"]
    config = json.loads(json.dumps(layer.get_config()))
    assert {k: v for k, v in config.items() if k not in ("name", "dtype", "trainable")} == case["config"]


def test_summary_parameter_counts_as_tf_keras(capsys):
    # tf_keras 2.21: Conv3D(8, 3) on 1 channel 224, MaxPool3D 0, Conv3D(4, (1, 3, 3)) 292
    model = minidl.Sequential([
        layers.Input((8, 16, 16, 1)), layers.Conv3D(8, 3, activation="relu"),
        layers.MaxPool3D(), layers.Convolution3D(4, (1, 3, 3), padding="same"),
        layers.GlobalAvgPool3D(), layers.Dense(2)])
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 6, 14, 14, 8)" in printed and "(None, 3, 7, 7, 8)" in printed
    assert [layer.count_params() for layer in model.layers] == [224, 0, 292, 0, 10]
    assert "Total params: 526" in printed


def keras_same(torch, x, kernel, strides):
    """x (N, C, D, H, W) padded with zeros as Keras's "same" pads (the odd one after)."""
    pads = []
    for n, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(strides)):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return torch.nn.functional.pad(x, pads)


CONV_CASES = [  # input (N, D, H, W, C), kernel (kd, kh, kw), filters, strides, padding
    ((2, 5, 6, 7, 3), (2, 3, 2), 4, (1, 1, 1), "valid"),
    ((1, 6, 5, 7, 2), (3, 3, 3), 3, (2, 2, 2), "same"),
    ((2, 4, 5, 7, 3), (3, 1, 2), 2, (2, 1, 3), "same"),
    ((1, 7, 5, 4, 1), (1, 2, 3), 5, (3, 2, 1), "valid"),
    ((1, 3, 3, 3, 2), (3, 3, 3), 2, (1, 1, 1), "valid"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv3d_matches_torch_forward_and_gradients(case, dtype):
    torch = pytest.importorskip("torch")
    shape, kernel, filters, strides, padding = case
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=shape), rng.normal(size=(*kernel, shape[-1], filters))
    b = rng.normal(size=filters)
    tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
    out = ops.conv3d(*tensors, strides, padding)
    grad = rng.normal(size=out.shape)
    out.backward(grad.astype(dtype))
    twins = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    xt = twins[0].permute(0, 4, 1, 2, 3)
    if padding == "same":
        xt = keras_same(torch, xt, kernel, strides)
    twin = torch.nn.functional.conv3d(xt, twins[1].permute(4, 3, 0, 1, 2), twins[2],
                                      stride=strides).permute(0, 2, 3, 4, 1)
    twin.backward(torch.tensor(grad))
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.data, twin.detach().numpy(), **tolerance)
    for mine, theirs in zip(tensors, twins):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tolerance)


POOL_CASES = [  # input, pool_size, strides (valid padding: PyTorch pads differently)
    ((2, 4, 6, 5, 3), (2, 2, 2), None), ((1, 5, 7, 4, 2), (1, 3, 2), (2, 2, 1)),
    ((2, 6, 7, 5, 2), (3, 2, 3), (2, 3, 1)), ((1, 3, 4, 5, 1), (3, 4, 5), (1, 1, 1)),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pooling3d_matches_torch_forward_and_gradients(case, kind):
    torch = pytest.importorskip("torch")
    shape, pool_size, strides = case
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    mine = Tensor(x, requires_grad=True)
    out = getattr(ops, f"{kind}_pool3d")(mine, pool_size, strides)
    grad = rng.normal(size=out.shape)
    out.backward(grad)
    twin_x = torch.tensor(x, requires_grad=True)
    pool = getattr(torch.nn.functional, f"{kind}_pool3d")
    twin = pool(twin_x.permute(0, 4, 1, 2, 3), pool_size, strides or pool_size)
    twin = twin.permute(0, 2, 3, 4, 1)
    twin.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.data, twin.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mine.grad, twin_x.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("case", CONV_CASES[:3], ids=str)
def test_conv3d_gradcheck_float64(case, activation):
    shape, kernel, filters, strides, padding = case
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=shape), rng.normal(size=(*kernel, shape[-1], filters)),
              rng.normal(size=filters)]
    assert gradcheck(lambda x, w, b: ops.conv3d(x, w, b, strides, padding, activation), inputs)


@pytest.mark.parametrize("function", [
    lambda x: ops.max_pool3d(x, (3, 2, 2), (2, 1, 2), "same"),
    lambda x: ops.avg_pool3d(x, (2, 3, 2), (1, 2, 2), "same"),
    lambda x: ops.avg_pool3d(x, 2),
    ops.global_avg_pool3d, ops.global_max_pool3d,
    lambda x: ops.upsample3d(x, (2, 1, 3)),
    lambda x: ops.zero_pad3d(x, ((1, 0), (0, 2), (2, 1))),
    lambda x: ops.crop3d(x, ((1, 0), (0, 2), (2, 1))),
], ids=["max_same", "avg_same", "avg_valid", "global_avg", "global_max", "upsample", "pad",
        "crop"])
def test_weightless_ops_gradcheck_float64(function):
    x = np.random.default_rng(3).normal(size=(2, 4, 5, 6, 2))
    assert gradcheck(function, [x])


@pytest.mark.filterwarnings("error")  # .keras: Keras 3's format, no fallback warning
def test_a_trained_model_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(24, 6, 10, 10, 1)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3, 4)) > 0).astype(np.float32)
    model = minidl.Sequential([
        layers.Input((6, 10, 10, 1)), layers.ZeroPadding3D((0, 1, 1)),
        layers.Conv3D(4, 3, activation="relu", kernel_regularizer="l2"),
        layers.MaxPooling3D((1, 2, 2), padding="same"), layers.UpSampling3D((1, 2, 2)),
        layers.Cropping3D(((1, 0), (1, 1), (0, 2))), layers.AveragePooling3D(),
        layers.Conv3D(3, (1, 2, 2), strides=(1, 2, 1), padding="same"),
        layers.GlobalMaxPooling3D(keepdims=True), layers.Flatten(),
        layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for name in ("volumes.keras", "volumes.h5"):
        model.save(tmp_path / name)
        loaded = load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
        assert [layer.get_config() for layer in loaded.layers] == [
            layer.get_config() for layer in model.layers]


@pytest.mark.parametrize("path", ["keras2.h5", "keras3.keras"])
def test_tf_keras_and_keras_3_files_load(path):
    pytest.importorskip("h5py")
    stored = np.load(FIXTURES / "files.npz")
    model = load_model(FIXTURES / path)
    assert [type(layer).__name__ for layer in model.layers][:3] == [
        "ZeroPadding3D", "Conv3D", "MaxPooling3D"]
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored[path.split(".")[0]],
                               rtol=1e-5, atol=1e-5)


def test_functional_model_with_unknown_depth():
    inputs = layers.Input((None, 8, 8, 2))
    hidden = layers.Conv3D(3, (2, 3, 3), padding="same")(inputs)
    outputs = layers.GlobalAveragePooling3D()(layers.MaxPool3D((1, 2, 2))(hidden))
    model = minidl.Model(inputs, outputs)
    assert model.layers[1].compute_output_shape((None, None, 8, 8, 2)) == (None, None, 8, 8, 3)
    for depth in (2, 5):
        assert model.predict(np.ones((3, depth, 8, 8, 2), np.float32), verbose=0).shape == (3, 3)


def test_aliases_and_config_round_trip():
    assert layers.Convolution3D is layers.Conv3D and layers.MaxPool3D is layers.MaxPooling3D
    assert layers.AvgPool3D is layers.AveragePooling3D
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    for layer in (layers.Conv3D(2, (1, 2, 3), strides=2, padding="same", activation="relu",
                                use_bias=False, bias_regularizer="l1"),
                  layers.MaxPooling3D(3, (1, 2, 1), "same"), layers.AveragePooling3D(),
                  layers.GlobalAveragePooling3D(keepdims=True), layers.GlobalMaxPooling3D(),
                  layers.UpSampling3D((1, 2, 3)), layers.ZeroPadding3D(((1, 2), (0, 1), (3, 0))),
                  layers.Cropping3D(2)):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
        copy = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
        assert type(copy) is type(layer)
        assert json.dumps(copy.get_config()) == json.dumps(config)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv3D(0, 3), "filters"),
    (lambda: layers.Conv3D(-2, 3), "filters"),
    (lambda: layers.Conv3D(4, (3, 3)), "kernel_size"),
    (lambda: layers.Conv3D(4, (3, 0, 3)), "kernel_size"),
    (lambda: layers.Conv3D(4, 3, strides=-1), "strides"),
    (lambda: layers.Conv3D(4, 3, padding="causal"), "padding"),
    (lambda: layers.Conv3D(4, 3, data_format="NCDHW"), "data_format"),
    (lambda: layers.Conv3D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.Conv3D(4, 3, groups=3), "groups"),
    (lambda: layers.Conv3D(4, 3, kernel_constraint="non_negative"), "kernel_constraint"),
    (lambda: layers.MaxPooling3D((2, 2)), "pool_size"),
    (lambda: layers.AveragePooling3D(0), "pool_size"),
    (lambda: layers.MaxPooling3D(2, strides=(1, 0, 1)), "strides"),
    (lambda: layers.AveragePooling3D(data_format="NCDHW"), "data_format"),
    (lambda: layers.GlobalMaxPooling3D(data_format="NCDHW"), "data_format"),
    (lambda: layers.UpSampling3D(0), "size"),
    (lambda: layers.UpSampling3D((2, 2)), "size"),
    (lambda: layers.ZeroPadding3D(-1), "padding"),
    (lambda: layers.ZeroPadding3D((1, 2)), "padding"),
    (lambda: layers.Cropping3D(((1, 1), (1, -1), (0, 0))), "cropping"),
    (lambda: layers.Cropping3D("1"), "cropping"),
])
def test_hostile_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, shape", [
    (lambda: layers.Conv3D(2, 3), (None, 8, 8, 3)),  # an image batch, not volumes
    (lambda: layers.Conv3D(2, 3), (None, 2, 8, 8, 3)),  # kernel deeper than the volume
    (lambda: layers.Conv3D(2, (1, 9, 1)), (None, 4, 8, 8, 3)),
    (lambda: layers.MaxPooling3D((2, 2, 9)), (None, 4, 8, 8, 3)),
    (lambda: layers.AveragePooling3D(), (None, 4, 8, 8)),
    (lambda: layers.GlobalAveragePooling3D(), (None, 8, 8, 3)),
    (lambda: layers.UpSampling3D(), (None, 4, 4, 3)),
    (lambda: layers.ZeroPadding3D(), (None, 4, 4, 4, 3, 1)),
    (lambda: layers.Cropping3D(2), (None, 4, 8, 8, 3)),  # nothing left of the depth
    (lambda: layers.Conv3D(2, 3), (None, 0, 8, 8, 3)),
])
def test_wrong_input_shapes_name_the_layer(layer, shape):
    layer = layer()
    with pytest.raises(ValueError, match=type(layer).__name__):
        layer.build(shape)


def test_calls_on_wrong_inputs_name_the_layer_and_change_nothing():
    conv = layers.Conv3D(2, 3)
    conv(np.zeros((1, 4, 4, 4, 3), np.float32))
    kernel = conv.kernel.data.copy()
    with pytest.raises(ValueError, match="conv3d.*channels-last"):
        conv(np.zeros((1, 3, 4, 4, 4), np.float32))
    with pytest.raises(ValueError, match="conv3d"):
        conv(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="kernel_size"):
        conv(np.zeros((1, 2, 4, 4, 3), np.float32))
    np.testing.assert_array_equal(conv.kernel.data, kernel)
    with pytest.raises(ValueError, match="max_pooling3d"):
        layers.MaxPooling3D()(np.zeros((1, 4, 4, 3), np.float32))


@pytest.mark.parametrize("call, message", [
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4)), np.zeros((1, 1, 1, 4, 2))), "5-D"),
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4, 3)), np.zeros((1, 1, 3, 2))), "5-D"),
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4, 3)), np.zeros((1, 1, 1, 2, 2))), "channels"),
    (lambda: ops.conv3d(np.zeros((1, 2, 4, 4, 1)), np.zeros((3, 1, 1, 1, 1))), "larger"),
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4, 1)), np.zeros((1, 1, 1, 1, 1)), None, 0), "strides"),
    (lambda: ops.max_pool3d(np.zeros((1, 4, 4, 4, 1)), (2, 2)), "pool_size"),
    (lambda: ops.avg_pool3d(np.zeros((1, 4, 4, 1, 1)), 2), "larger"),
    (lambda: ops.crop3d(np.zeros((1, 4, 4, 4, 1)), ((2, 2), (0, 0), (0, 0))), "nothing"),
    (lambda: ops.upsample3d(np.zeros((1, 4, 4, 1)), (2, 2, 2)), "5-D"),
])
def test_ops_refuse_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
