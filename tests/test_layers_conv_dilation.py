"""dilation_rate and groups of Conv2D and Conv3D, Conv2DTranspose's dilation_rate and
ConvLSTM2D/1D's: tf_keras 2.21's outputs, shapes, weights, parameters, configs and
gradients (tests/fixtures/conv_dilation/make_fixtures.py), a naive NumPy loop and
PyTorch's conv2d/conv3d/conv_transpose2d(dilation=, groups=) with the weights copied
across, float64 gradients against finite differences, summary, saving, a tf_keras .h5
file, and bad arguments."""

import json
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import _kernels, layers, ops
from minidl._kernels import conv_plan
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "conv_dilation"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
# the cases' layer arguments, as make_fixtures.py passes them to tf_keras
CASES = json.loads((FIXTURES / "cases.json").read_text())
INPUTS = {"Conv2D": (2, 9, 8, 4), "Conv3D": (2, 6, 7, 5, 4), "Conv2DTranspose": (2, 5, 6, 3),
          "ConvLSTM2D": (2, 3, 7, 6, 2), "ConvLSTM1D": (2, 3, 9, 2)}
ALL_CASES = [(cls, name) for cls, cases in CASES.items() for name in cases]
CASE_IDS = [f"{cls}-{name}" for cls, name in ALL_CASES]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def keras_layer(cls, name, dtype="float32"):
    layer = getattr(layers, cls)(**CASES[cls][name], dtype=dtype)
    layer.build((None, *INPUTS[cls][1:]))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], dtype))
    return layer


# --- against tf_keras 2.21 ----------------------------------------------------------------
@pytest.mark.parametrize("cls, name", ALL_CASES, ids=CASE_IDS)
def test_outputs_shapes_weights_parameters_and_config_as_tf_keras(cls, name):
    expected = KERAS[cls][name]
    layer = keras_layer(cls, name)
    (x,) = values(0, [INPUTS[cls]])
    np.testing.assert_allclose(layer(x).numpy(), expected["output"], atol=3e-6)
    assert layer.compute_output_shape((None, *INPUTS[cls][1:])) == tuple(expected["output_shape"])
    assert layer.count_params() == expected["params"]
    assert [[w.name.split("/")[-1], list(w.shape)] for w in layer.weights] == expected["weights"]
    config = layer.get_config()
    for key in ("name", "bias_initializer", "kernel_initializer", "recurrent_initializer"):
        config.pop(key, None)
    expected_config = dict(expected["config"])
    if "kernel_constraint" not in config:  # (minidl's Conv2D has no constraints yet)
        del expected_config["kernel_constraint"], expected_config["bias_constraint"]
    assert json.loads(json.dumps(config)) == expected_config  # (the fixture is JSON)
    assert isinstance(config["dilation_rate"], tuple)  # tuples, as tf_keras 2.21


@pytest.mark.parametrize("cls, name", ALL_CASES, ids=CASE_IDS)
def test_gradients_as_tf_keras(cls, name):
    layer = keras_layer(cls, name)
    x = minidl.Tensor(values(0, [INPUTS[cls]])[0], requires_grad=True)
    y = layer(x)
    (weights,) = values(2, [y.shape])
    (y * weights).sum().backward()
    got = [x.grad, *(w.grad for w in layer.weights)]
    for mine, keras in zip(got, KERAS[cls][name]["gradients"], strict=True):
        np.testing.assert_allclose(mine, keras, atol=3e-5)


def test_keras_2_file_loads_and_predicts_as_tf_keras():
    pytest.importorskip("h5py")
    stored = np.load(FIXTURES / "files.npz")
    model = load_model(FIXTURES / "keras2.h5")
    first, transposed, grouped = model.layers[:3]
    assert (first.dilation_rate, first.groups, transposed.dilation_rate) == ((2, 2), 2, (2, 2))
    assert grouped.groups == 4 and grouped.kernel.shape == (2, 3, 1, 4)
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored["keras2"],
                               atol=1e-5)


def test_summary_shapes_and_parameter_counts_as_tf_keras():
    """tf_keras 2.21 prints (None, 6, 6, 4) and 76 parameters (3*3*2*4 + 4) for this
    model; 7x7 after a valid 3x3 dilated by 2 on 11x11, and 3*3*4*6 + 6 = 222 for the
    transposed convolution back to 11x11."""
    model = minidl.Sequential([
        minidl.Input((6, 6, 4)),
        layers.Conv2D(4, 3, dilation_rate=2, groups=2, padding="same", name="a"),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 6, 6, 4)" in line and line.split()[-1] == "76" for line in lines)
    model = minidl.Sequential([
        minidl.Input((11, 11, 4)),
        layers.Conv2D(4, 3, dilation_rate=2, name="b"),
        layers.Conv2DTranspose(6, 3, dilation_rate=2, name="c"),
    ])
    assert model.layers[0].output_shape == (None, 7, 7, 4)
    assert model.layers[1].output_shape == (None, 11, 11, 6)
    assert model.layers[1].count_params() == 222


# --- the op against a naive loop and against PyTorch --------------------------------------
@pytest.fixture(params=["im2col", "direct", "winograd"])
def conv_path(request, monkeypatch):
    """The three ways the plain conv2d underneath computes (see tests/test_ops_conv.py)."""
    monkeypatch.setattr(conv_plan, "DIRECT_MAX_PATCH", 10**9 if request.param == "direct" else 0)
    winograd = request.param == "winograd"
    monkeypatch.setattr(conv_plan, "WINOGRAD_MIN_CHANNELS", 1 if winograd else 10**9)
    monkeypatch.setattr(conv_plan, "WINOGRAD_BACKENDS", _kernels.BACKENDS if winograd else ())
    return request.param


def naive_conv2d(x, w, b, padding, dilation, groups):
    """Stride 1, the slow obvious way: pad for the dilated span, then for every output
    pixel and group, the dot product of the taps dh, dw apart with the group's filters."""
    n, h, width, c = x.shape
    kh, kw, cg, f = w.shape
    (dh, dw), fg = dilation, f // groups
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        ph, pw = span_h - 1, span_w - 1
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    out_h, out_w = x.shape[1] - span_h + 1, x.shape[2] - span_w + 1
    out = np.zeros((n, out_h, out_w, f))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i:i + span_h:dh, j:j + span_w:dw, :]
            for g in range(groups):
                out[:, i, j, g * fg:(g + 1) * fg] = np.tensordot(
                    patch[..., g * cg:(g + 1) * cg], w[..., g * fg:(g + 1) * fg],
                    axes=([1, 2, 3], [0, 1, 2]))
    return out if b is None else out + b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_dilated_grouped_conv2d_matches_a_naive_loop_on_many_shapes(data):
    groups = data.draw(st.integers(1, 3))
    c, f = groups * data.draw(st.integers(1, 3)), groups * data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    dh, dw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    low_h, low_w = ((kh - 1) * dh + 1, (kw - 1) * dw + 1) if padding == "valid" else (1, 1)
    h, width = data.draw(st.integers(low_h, low_h + 6)), data.draw(st.integers(low_w, low_w + 6))
    n = data.draw(st.integers(1, 2))
    x, w, b = values(data.draw(st.integers(0, 99)), [(n, h, width, c), (kh, kw, c // groups, f),
                                                     (f,)], np.float64)
    out = ops.conv2d(x, w, b, 1, padding, "linear", (dh, dw), groups)
    np.testing.assert_allclose(out.numpy(), naive_conv2d(x, w, b, padding, (dh, dw), groups),
                               rtol=1e-10, atol=1e-12)


def torch_same(functional, x, kernel, strides, dilation):
    """TensorFlow's "same" (the odd zero after) on an N, C, *spatial input."""
    pads = []
    for n, k, s, d in zip(x.shape[2:], kernel, strides, dilation):
        span, out = (k - 1) * d + 1, -(-n // s)
        total = max((out - 1) * s + span - n, 0)
        pads.append((total // 2, total - total // 2))
    return functional.pad(x, [p for pair in reversed(pads) for p in pair])


def check_against_torch(torch, mine, theirs, x, weights, moved):
    """Forward and the gradients of x and of each weight; ``moved`` puts torch's
    channels-first arrays in minidl's layout and kernels in Keras's."""
    mine_x = minidl.Tensor(x, requires_grad=True)
    mine_weights = [minidl.Tensor(w, requires_grad=True) for w in weights]
    twin_x = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    twin_weights = [torch.tensor(moved(w, inverse=True), requires_grad=True) for w in weights]
    out, expected = mine(mine_x, *mine_weights), theirs(twin_x, *twin_weights)
    np.testing.assert_allclose(out.numpy(), np.moveaxis(expected.detach().numpy(), 1, -1),
                               rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(3).normal(size=out.shape)
    out.backward(grad)
    expected.backward(torch.tensor(np.moveaxis(grad, -1, 1)))
    np.testing.assert_allclose(mine_x.grad, np.moveaxis(twin_x.grad.numpy(), 1, -1),
                               rtol=1e-9, atol=1e-10)
    for mine_w, twin_w in zip(mine_weights, twin_weights, strict=True):
        np.testing.assert_allclose(mine_w.grad, moved(twin_w.grad.numpy()), rtol=1e-9,
                                   atol=1e-10)


def kernel_layout(rank):
    """Keras's (*k, in, out) <-> PyTorch's (out, in, *k); a bias (1-D) stays."""
    keras_to_torch = (rank + 1, rank, *range(rank))
    torch_to_keras = (*range(2, rank + 2), 1, 0)

    def moved(w, inverse=False):
        if w.ndim == 1:
            return w
        return w.transpose(keras_to_torch if inverse else torch_to_keras)
    return moved


@pytest.mark.parametrize("kernel, strides, padding, dilation, groups, activation", [
    ((3, 2), (1, 1), "valid", (2, 3), 2, "linear"),
    ((3, 3), (1, 1), "same", (2, 2), 1, "relu"),
    ((2, 3), (2, 1), "same", (1, 1), 3, "linear"),
    ((2, 2), (1, 1), "same", (3, 1), 6, "tanh"),
    ((3, 3), (1, 1), "same", (1, 2), 3, "sigmoid"),
])
def test_conv2d_matches_pytorch_with_weights_copied_across(conv_path, backend, kernel, strides,
                                                          padding, dilation, groups, activation):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    channels, filters = 6, 6
    x, w, b = values(4, [(2, 9, 8, channels), (*kernel, channels // groups, filters), (filters,)],
                     np.float64)
    act = {"linear": lambda t: t, "relu": torch.relu, "tanh": torch.tanh,
           "sigmoid": torch.sigmoid}[activation]

    def theirs(x, w, b):
        padded = torch_same(functional, x, kernel, strides, dilation) if padding == "same" else x
        return act(functional.conv2d(padded, w, b, strides, dilation=dilation, groups=groups))

    check_against_torch(torch, lambda x, w, b: ops.conv2d(x, w, b, strides, padding, activation,
                                                          dilation, groups),
                        theirs, x, [w, b], kernel_layout(2))


@pytest.mark.parametrize("kernel, strides, padding, dilation, groups", [
    ((2, 3, 2), 1, "valid", (2, 1, 2), 2),
    ((2, 2, 2), 1, "same", (1, 2, 3), 1),
    ((3, 2, 2), (1, 2, 2), "same", (1, 1, 1), 4),
    ((3, 3, 3), 1, "same", (3, 2, 1), 2),
])
def test_conv3d_matches_pytorch_with_weights_copied_across(kernel, strides, padding, dilation,
                                                          groups):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    stride3 = (strides,) * 3 if isinstance(strides, int) else strides
    x, w, b = values(5, [(2, 6, 7, 5, 4), (*kernel, 4 // groups, 4), (4,)], np.float64)

    def theirs(x, w, b):
        padded = torch_same(functional, x, kernel, stride3, dilation) if padding == "same" else x
        return functional.conv3d(padded, w, b, stride3, dilation=dilation, groups=groups)

    check_against_torch(torch, lambda x, w, b: ops.conv3d(x, w, b, strides, padding, "linear",
                                                          dilation, groups),
                        theirs, x, [w, b], kernel_layout(3))


@pytest.mark.parametrize("kernel, padding, dilation", [
    ((3, 2), "valid", (2, 2)), ((3, 3), "same", (3, 3)), ((2, 3), "same", (2, 1)),
    ((2, 2), "valid", (1, 3)),
])
def test_conv2d_transpose_matches_pytorch_with_weights_copied_across(kernel, padding, dilation):
    """Keras's (kh, kw, F, C) kernel is PyTorch's conv_transpose2d weight (C, F, kh, kw);
    "same" crops what PyTorch's full output has beyond the input size, the extra pixel
    (an even span) at the end, as TensorFlow."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x, w, b = values(6, [(2, 5, 6, 3), (*kernel, 4, 3), (4,)], np.float64)

    def theirs(x, w, b):
        out = functional.conv_transpose2d(x, w, b, dilation=dilation)
        if padding == "same":
            (top, left) = (((k - 1) * d) // 2 for k, d in zip(kernel, dilation))
            out = out[:, :, top:top + x.shape[2], left:left + x.shape[3]]
        return out

    def moved(w, inverse=False):  # (kh, kw, F, C) <-> (C, F, kh, kw)
        return w if w.ndim == 1 else w.transpose((3, 2, 0, 1) if inverse else (2, 3, 1, 0))

    check_against_torch(torch, lambda x, w, b: ops.conv2d_transpose(x, w, b, 1, padding, None,
                                                                    dilation),
                        theirs, x, [w, b], moved)


# --- float64 gradients against finite differences -----------------------------------------
@pytest.mark.parametrize("strides, padding, dilation, groups, activation", [
    ((1, 1), "valid", (2, 3), 2, "linear"), ((1, 1), "same", (2, 2), 1, "tanh"),
    ((2, 1), "same", (1, 1), 3, "sigmoid"), ((1, 1), "same", (3, 1), 3, "relu"),
])
def test_conv2d_float64_gradients_against_finite_differences(strides, padding, dilation, groups,
                                                             activation):
    x, w, b = values(7, [(2, 7, 6, 6), (3, 2, 6 // groups, 6), (6,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.conv2d(x, w, b, strides, padding, activation,
                                                dilation, groups), [x, w, b])


@pytest.mark.parametrize("padding, dilation, groups", [
    ("valid", (2, 1, 2), 2), ("same", (1, 2, 3), 1), ("same", (1, 1, 1), 2)])
def test_conv3d_float64_gradients_against_finite_differences(padding, dilation, groups):
    x, w, b = values(8, [(1, 5, 4, 5, 2), (2, 2, 2, 2 // groups, 2), (2,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.conv3d(x, w, b, 1, padding, "linear", dilation,
                                                groups), [x, w, b])


@pytest.mark.parametrize("padding, dilation", [("valid", (2, 2)), ("same", (2, 3))])
def test_conv2d_transpose_float64_gradients_against_finite_differences(padding, dilation):
    x, w, b = values(9, [(2, 4, 3, 2), (3, 2, 3, 2), (3,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.conv2d_transpose(x, w, b, 1, padding, None, dilation),
                     [x, w, b])


def test_conv_lstm2d_float64_gradients_against_finite_differences():
    layer = layers.ConvLSTM2D(2, (2, 3), dilation_rate=(2, 1), padding="same",
                              return_sequences=True, dtype="float64")
    layer.build((None, 2, 5, 4, 2))
    assert gradcheck(layer, values(10, [(1, 2, 5, 4, 2)], np.float64))


# --- the plain path stays the plain path --------------------------------------------------
def test_dilation_1_and_groups_1_are_the_plain_convolution_bit_for_bit():
    x, w, b = values(11, [(2, 7, 6, 4), (3, 3, 4, 5), (5,)])
    plain = ops.conv2d(x, w, b, 1, "same", "relu").numpy()
    np.testing.assert_array_equal(ops.conv2d(x, w, b, 1, "same", "relu", 1, 1).numpy(), plain)
    np.testing.assert_array_equal(ops.conv2d(x, w, b, 1, "same", "relu", [1, 1]).numpy(), plain)


# --- saving -------------------------------------------------------------------------------
def dilated_grouped_model():
    return minidl.Sequential([
        minidl.Input((10, 9, 4)),
        layers.Conv2D(8, 3, dilation_rate=2, groups=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(4, (3, 2), dilation_rate=2),
        layers.Conv2D(4, (2, 3), strides=2, groups=4),
        layers.Reshape((7, 5, 1, 4)),
        layers.Conv3D(4, 2, dilation_rate=(2, 1, 1), groups=2, padding="same"),
        layers.Flatten(), layers.Dense(2)])


def test_a_trained_model_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = dilated_grouped_model()
    model.compile("adam", "mse")
    x, y = values(12, [(8, 10, 9, 4), (8, 2)])
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for mine, theirs in zip(model.layers, loaded.layers, strict=True):
        assert mine.get_config() == theirs.get_config()


@pytest.mark.parametrize("cls, name", ALL_CASES, ids=CASE_IDS)
def test_config_round_trip(cls, name):
    layer = keras_layer(cls, name)
    again = type(layer).from_config(layer.get_config())
    again.build((None, *INPUTS[cls][1:]))
    again.set_weights(layer.get_weights())
    assert again.get_config() == layer.get_config()
    (x,) = values(0, [INPUTS[cls]])
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


# --- bad arguments ------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), ValueError,
     ["conv2d", "strides > 1", "dilation_rate > 1"]),
    (lambda: layers.Conv2D(4, 3, strides=(2, 1), dilation_rate=(1, 2)), ValueError,
     ["strides > 1"]),
    (lambda: layers.Conv2D(4, 3, groups=3), ValueError,
     ["conv2d", "filters must be evenly divisible", "groups=3", "filters=4"]),
    (lambda: layers.Conv2D(4, 3, groups=0), ValueError, ["groups", "positive"]),
    (lambda: layers.Conv2D(4, 3, groups=-2), ValueError, ["groups", "positive"]),
    (lambda: layers.Conv2D(4, 3, groups=1.5), TypeError, ["groups", "1.5"]),
    (lambda: layers.Conv2D(4, 3, groups="2"), TypeError, ["groups", "'2'"]),
    (lambda: layers.Conv2D(4, 3, dilation_rate=0), ValueError, ["dilation_rate", "0"]),
    (lambda: layers.Conv2D(4, 3, dilation_rate=(1, 2, 3)), ValueError, ["dilation_rate"]),
    (lambda: layers.Conv2D(4, 3, dilation_rate="2"), ValueError, ["dilation_rate"]),
    (lambda: layers.Conv3D(4, 3, strides=2, dilation_rate=(1, 1, 2)), ValueError,
     ["conv3d", "strides > 1"]),
    (lambda: layers.Conv3D(4, 3, groups=3), ValueError, ["conv3d", "groups=3", "filters=4"]),
    (lambda: layers.Conv3D(4, 3, dilation_rate=(1, 2)), ValueError, ["dilation_rate"]),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, dilation_rate=2), ValueError,
     ["conv2dtranspose", "strides > 1"]),
    (lambda: layers.Conv2DTranspose(4, 3, dilation_rate=(2, 3)), ValueError,
     ["conv2dtranspose", "equal", "(2, 3)"]),
    (lambda: layers.Conv2DTranspose(4, 3, groups=2), ValueError,
     ["conv2dtranspose", "groups=2", "ignores"]),
    (lambda: layers.ConvLSTM2D(4, 3, strides=2, dilation_rate=2), ValueError,
     ["convlstm2d", "strides > 1"]),
], ids=lambda v: None)
def test_bad_arguments_refused_naming_the_layer(make, error, words):
    with pytest.raises(error) as raised:
        make()
    message = str(raised.value).lower()
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("make, shape, words", [
    (lambda: layers.Conv2D(6, 3, groups=3, name="grouped"), (1, 9, 9, 4),
     ["grouped", "input channels must be evenly divisible", "groups=3", "4 channels"]),
    (lambda: layers.Conv3D(6, 3, groups=3, name="grouped"), (1, 5, 5, 5, 4),
     ["grouped", "input channels must be evenly divisible", "groups=3", "4 channels"]),
    (lambda: layers.Conv2D(6, 3, dilation_rate=4, name="wide"), (1, 8, 8, 2),
     ["wide", "dilated kernel_size (9, 9)", "(8, 8)", "padding='same'"]),
    (lambda: layers.Conv3D(2, 3, dilation_rate=(1, 3, 1), name="wide"), (1, 5, 6, 5, 1),
     ["wide", "dilated kernel_size (3, 7, 3)", "(5, 6, 5)"]),
    (lambda: layers.ConvLSTM2D(2, 3, dilation_rate=3, name="wide"), (1, 2, 6, 9, 1),
     ["wide", "dilation_rate (3, 3)", "smaller"]),
])
def test_inputs_a_layer_cannot_take_are_refused_and_leave_it_unbuilt(make, shape, words):
    layer = make()
    with pytest.raises(ValueError) as raised:
        layer(np.zeros(shape, np.float32))
    message = str(raised.value).lower()
    for word in words:
        assert word in message, (word, message)
    assert not layer.built and not layer.weights


@pytest.mark.parametrize("call, words", [
    (lambda x, w: ops.conv2d(x, w, None, 1, "valid", "linear", 1, 3),
     ["conv2d", "groups=3", "6 channels", "4 filters"]),
    (lambda x, w: ops.conv2d(x, w, None, 1, "valid", "linear", 1, 2),
     ["conv2d", "groups=2", "3 input channels", "(3, 3, 6, 4)"]),
    (lambda x, w: ops.conv2d(x, w[:, :, :3], None, 1, "valid", "linear", 1, 2.0),
     ["conv2d", "groups", "2.0"]),
    (lambda x, w: ops.conv2d(x, w[:, :, :3], None, 2, "valid", "linear", 2, 2),
     ["conv2d", "strides > 1"]),
    (lambda x, w: ops.conv2d(x, w, None, 1, "valid", "linear", 0),
     ["conv2d", "dilation_rate", "0"]),
    (lambda x, w: ops.conv2d(x, w, None, 1, "valid", "linear", 4),
     ["conv2d", "kernel (3, 3) dilated by (4, 4), spanning (9, 9)", "(7, 8)"]),
    (lambda x, w: ops.conv3d(x[None], w[None], None, 1, "valid", "linear", 1, 4),
     ["conv3d", "groups=4", "6 channels"]),
])
def test_bad_op_arguments_refused(call, words):
    x, w = values(13, [(2, 7, 8, 6), (3, 3, 6, 4)])
    with pytest.raises((ValueError, TypeError)) as raised:
        call(x, w)
    message = str(raised.value).lower()
    for word in words:
        assert word in message, (word, message)
