"""ops.conv1d and layers.Conv1D: against PyTorch's conv1d (strides, dilation, "same" and
causal padding through F.pad), float64 gradcheck, config, save/load, summary, bad args."""

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

CASES = [  # steps, channels, filters, kernel_size, strides, dilation_rate, padding
    (10, 3, 4, 3, 1, 1, "valid"), (10, 3, 4, 3, 2, 1, "same"), (11, 3, 4, 4, 3, 1, "same"),
    (10, 3, 4, 3, 1, 2, "valid"), (10, 3, 4, 3, 1, 3, "same"), (9, 2, 5, 4, 1, 2, "same"),
    (10, 3, 4, 3, 1, 2, "causal"), (10, 3, 4, 3, 2, 1, "causal"), (7, 40, 6, 3, 1, 1, "causal"),
    (7, 40, 6, 3, 1, 3, "causal"), (5, 2, 3, 5, 1, 1, "valid"), (1, 2, 3, 1, 1, 1, "valid"),
    (6, 1, 2, 2, 4, 1, "valid"), (9, 3, 2, 3, 1, 4, "valid"),
]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def torch_conv1d(torch, x, w, b, strides, dilation, padding):
    """PyTorch's conv1d on NLC data with a (k, C, F) kernel, Keras's paddings made by F.pad."""
    functional = torch.nn.functional
    length, k = x.shape[1], w.shape[0]
    span = (k - 1) * dilation + 1
    xi = x.permute(0, 2, 1)
    if padding == "causal":
        xi = functional.pad(xi, (span - 1, 0))
    elif padding == "same":
        out = -(-length // strides)
        total = max((out - 1) * strides + span - length, 0)
        xi = functional.pad(xi, (total // 2, total - total // 2))
    return functional.conv1d(xi, w.permute(2, 1, 0), b, stride=strides, dilation=dilation).permute(0, 2, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_torch_forward_and_gradients(case, dtype):
    torch = pytest.importorskip("torch")
    steps, channels, filters, k, strides, dilation, padding = case
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, steps, channels)), rng.normal(size=(k, channels, filters))
    b = rng.normal(size=filters)
    tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
    out = ops.conv1d(*tensors, strides, padding, dilation)
    grad = rng.normal(size=out.shape)
    out.backward(grad.astype(dtype))
    twins = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    twin_out = torch_conv1d(torch, *twins, strides, dilation, padding)
    twin_out.backward(torch.tensor(grad))
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.data, twin_out.detach().numpy(), **tolerance)
    for mine, twin in zip(tensors, twins):
        np.testing.assert_allclose(mine.grad, twin.grad.numpy(), **tolerance)


@pytest.mark.parametrize("case", [CASES[1], CASES[4], CASES[6], CASES[7]], ids=str)
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_gradcheck_float64(case, activation):
    steps, channels, filters, k, strides, dilation, padding = case
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(2, steps, channels)), rng.normal(size=(k, channels, filters)),
              rng.normal(size=filters)]
    assert gradcheck(lambda x, w, b: ops.conv1d(x, w, b, strides, padding, dilation, activation),
                     inputs)


def test_causal_output_never_sees_the_future():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 12, 2))
    w = rng.normal(size=(3, 2, 1))
    base = ops.conv1d(x, w, None, 1, "causal", 2).data
    later = x.copy()
    later[0, 7:] += 10.0  # change steps 7 and after
    changed = ops.conv1d(later, w, None, 1, "causal", 2).data
    np.testing.assert_array_equal(base[0, :7], changed[0, :7])
    assert not np.allclose(base[0, 7:], changed[0, 7:])


@pytest.mark.parametrize("call, match", [
    (lambda: ops.conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 1)), None, 2, "valid", 2), "strides > 1"),
    (lambda: ops.conv1d(np.ones((1, 5, 2)), np.ones((3, 3, 1))), "channels"),
    (lambda: ops.conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 1)), None, 1, "full"), "padding"),
    (lambda: ops.conv1d(np.ones((5, 2)), np.ones((3, 2, 1))), "3-D|batch, steps"),
    (lambda: ops.conv1d(np.ones((1, 4, 2)), np.ones((3, 2, 1)), None, 1, "valid", 2), "does not fit"),
    (lambda: ops.conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 1)), None, 0), "strides"),
])
def test_op_refuses_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_layer_output_shapes_and_weights_as_keras():
    layer = layers.Conv1D(8, 5, padding="causal", dilation_rate=2)
    out = layer(np.zeros((2, 200, 32), np.float32))
    assert out.shape == (2, 200, 8)
    assert layer.kernel.shape == (5, 32, 8) and layer.bias.shape == (8,)
    assert layer.count_params() == 1288
    assert layers.Conv1D(2, 3, strides=2, padding="same").compute_output_shape((None, 10, 1)) == (None, 5, 2)
    assert layers.Conv1D(2, 3).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert layers.Conv1D(2, 3, dilation_rate=2).compute_output_shape((None, 10, 4)) == (None, 6, 2)


def test_layer_activation_and_bias():
    layer = layers.Conv1D(3, 2, activation="relu", use_bias=False)
    x = np.random.default_rng(3).normal(size=(2, 6, 4)).astype(np.float32)
    out = layer(x)
    assert layer.bias is None and len(layer.weights) == 1
    expected = np.maximum(ops.conv1d(x, layer.kernel.data).data, 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


@pytest.mark.parametrize("make, words", [
    (lambda: layers.Conv1D(0, 3), ["filters", "0"]),
    (lambda: layers.Conv1D(4, 0), ["kernel_size", "0"]),
    (lambda: layers.Conv1D(4, (3, 3)), ["kernel_size", "(3, 3)"]),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), ["strides > 1", "dilation_rate"]),
    (lambda: layers.Conv1D(4, 3, padding="full"), ["padding", "causal", "full"]),
    (lambda: layers.Conv1D(4, 3, data_format="ncw"), ["channels_last", "ncw"]),
    (lambda: layers.Conv1D(3, 3, groups=2), ["groups"]),
    (lambda: layers.Conv1D(4, 3, groups=0), ["groups", "0"]),
    (lambda: layers.Conv1D(4, 3, kernel_constraint="maximum_norm"), ["kernel_constraint"]),
    (lambda: layers.Conv1D(4, 3, activation="nonsense"), ["nonsense"]),
])
def test_layer_refuses_bad_arguments(make, words):
    with pytest.raises((ValueError, TypeError)) as caught:
        make()
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_layer_refuses_bad_inputs():
    with pytest.raises(ValueError, match=r"reshape x to \(-1, steps, 1\)"):
        layers.Conv1D(2, 3)(np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match="spans 5 steps"):
        layers.Conv1D(2, 3, dilation_rate=2)(np.zeros((2, 4, 1), np.float32))
    layer = layers.Conv1D(2, 3)
    layer(np.zeros((1, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected shape \(None, steps, 3\)"):
        layer(np.zeros((1, 5, 4), np.float32))
    for padding in ("valid", "same", "causal"):  # (tf_keras 2.21 refuses these too)
        built = layers.Conv1D(2, 3, padding=padding)
        built.build((None, None, 3))
        with pytest.raises(ValueError, match="0 steps .* no step to convolve"):
            built(np.zeros((2, 0, 3), np.float32))


def test_config_round_trip_with_keras_keys():
    layer = layers.Conv1D(4, 3, strides=2, padding="same", activation="relu", name="c",
                          kernel_regularizer="l2")
    config = layer.get_config()
    assert config["kernel_size"] == (3,) and config["strides"] == (2,)  # tuples, as tf_keras
    assert config["dilation_rate"] == (1,) and config["groups"] == 1
    assert config["data_format"] == "channels_last" and config["padding"] == "same"
    again = layers.deserialize(layers.serialize(layer))
    assert again.get_config() == config
    assert layers.Convolution1D is layers.Conv1D


def sequence_model():
    return minidl.Sequential([
        minidl.Input(shape=(40, 3)),
        layers.Conv1D(8, 5, padding="causal", dilation_rate=2, activation="relu"),
        layers.MaxPooling1D(),
        layers.Conv1D(8, 3, strides=2, padding="same", activation="relu"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1),
    ], name="series")


def test_summary_as_keras_2_prints_it():
    lines = []
    sequence_model().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines] == [
        'Model: "series"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " conv1d (Conv1D)             (None, 40, 8)             128", "",
        " max_pooling1d (MaxPooling1  (None, 20, 8)             0",
        " D)", "",
        " conv1d_1 (Conv1D)           (None, 10, 8)             200", "",
        " global_average_pooling1d (  (None, 8)                 0",
        " GlobalAveragePooling1D)", "",
        " dense (Dense)               (None, 1)                 9", "",
        "=" * 65,
        "Total params: 337", "Trainable params: 337", "Non-trainable params: 0",
    ]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 40, 3)).astype(np.float32)
    y = x[:, -5:, 0].sum(axis=1, keepdims=True)
    model = sequence_model()
    model.compile("adam", "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    model.save(tmp_path / "series.mdl")
    loaded = load_model(tmp_path / "series.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]
