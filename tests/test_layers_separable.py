"""DepthwiseConv1D/2D and SeparableConv1D/2D: tf_keras 2.21's outputs, shapes, weights,
parameters, configs and gradients (tests/fixtures/separable_conv/make_fixtures.py),
PyTorch's grouped convolutions with the weights copied across, float64 gradients against
finite differences, summary, saving, tf_keras's .h5 files, and bad arguments."""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "separable_conv"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
# the cases' layer arguments, as make_fixtures.py passes them to tf_keras
CASES = json.loads((FIXTURES / "cases.json").read_text())
INPUTS = {"DepthwiseConv2D": (2, 7, 8, 3), "SeparableConv2D": (2, 7, 8, 3),
          "DepthwiseConv1D": (2, 9, 3), "SeparableConv1D": (2, 9, 3)}
ALL_CASES = [(cls, name) for cls, cases in CASES.items() for name in cases]


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


@pytest.mark.parametrize("cls, name", ALL_CASES, ids="-".join)
def test_outputs_shapes_weights_parameters_and_config_as_tf_keras(cls, name):
    expected = KERAS[cls][name]
    layer = keras_layer(cls, name)
    (x,) = values(0, [INPUTS[cls]])
    np.testing.assert_allclose(layer(x).numpy(), expected["output"], atol=2e-6)
    assert layer.compute_output_shape((None, *INPUTS[cls][1:])) == tuple(expected["output_shape"])
    assert layer.count_params() == expected["params"]
    assert [[w.name.split("/")[-1], list(w.shape)] for w in layer.weights] == expected["weights"]
    config = layer.get_config()
    for key in ("name", "depthwise_initializer", "pointwise_initializer", "bias_initializer",
                "kernel_initializer"):
        config.pop(key, None)
    assert json.loads(json.dumps(config)) == expected["config"]  # (the fixture is JSON)
    assert isinstance(config["kernel_size"], tuple)  # tuples, as tf_keras 2.21


@pytest.mark.parametrize("cls", CASES)
def test_gradients_as_tf_keras(cls):
    name = next(iter(CASES[cls]))
    layer = keras_layer(cls, name)
    x = minidl.Tensor(values(0, [INPUTS[cls]])[0], requires_grad=True)
    y = layer(x)
    (weights,) = values(2, [y.shape])
    (y * weights).sum().backward()
    got = [x.grad, *(w.grad for w in layer.weights)]
    for mine, keras in zip(got, KERAS[cls][name]["gradients"], strict=True):
        np.testing.assert_allclose(mine, keras, atol=2e-5)


@pytest.mark.parametrize("strides, padding, dilation, multiplier", [
    ((1, 1), "valid", (1, 1), 1), ((2, 1), "same", (1, 1), 2), ((1, 1), "same", (2, 3), 3),
    ((3, 2), "valid", (1, 1), 2), ((1, 1), "valid", (2, 1), 1),
])
def test_depthwise_conv2d_float64_gradients_against_finite_differences(strides, padding,
                                                                       dilation, multiplier):
    x, w, b = values(3, [(2, 6, 7, 3), (3, 2, 3, multiplier), (3 * multiplier,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.depthwise_conv2d(x, w, b, strides, padding, dilation),
                     [x, w, b])


@pytest.mark.parametrize("strides, padding, dilation", [
    (1, "valid", 1), (2, "same", 1), (1, "causal", 2), (3, "causal", 1), (1, "same", 3),
])
def test_depthwise_conv1d_float64_gradients_against_finite_differences(strides, padding,
                                                                       dilation):
    x, w, b = values(4, [(2, 8, 3), (3, 3, 2), (6,)], np.float64)
    assert gradcheck(lambda x, w, b: ops.depthwise_conv1d(x, w, b, strides, padding, dilation),
                     [x, w, b])


@pytest.mark.parametrize("cls, arguments", [
    ("SeparableConv2D", dict(filters=3, kernel_size=(3, 2), strides=2, padding="same",
                             depth_multiplier=2, activation="tanh")),
    ("SeparableConv2D", dict(filters=2, kernel_size=2, dilation_rate=2, use_bias=False)),
    ("SeparableConv1D", dict(filters=3, kernel_size=3, dilation_rate=2, padding="causal",
                             depth_multiplier=2, activation="relu")),
    ("DepthwiseConv2D", dict(kernel_size=3, padding="same", depth_multiplier=2,
                             activation="sigmoid")),
    ("DepthwiseConv1D", dict(kernel_size=2, strides=2, padding="same")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_layer_float64_input_gradients_against_finite_differences(cls, arguments):
    shape = (2, 6, 5, 2) if cls.endswith("2D") else (2, 7, 2)
    layer = getattr(layers, cls)(**arguments, dtype="float64")
    layer.build((None, *shape[1:]))
    assert gradcheck(layer, values(5, [shape], np.float64))


@pytest.mark.parametrize("rank", [1, 2])
def test_separable_composition_float64_gradients_against_finite_differences(rank):
    """What SeparableConv2D/1D compute: the depthwise op, then a 1x1 convolution with
    the bias and activation fused."""
    if rank == 2:
        shapes = [(2, 6, 5, 3), (3, 2, 3, 2), (1, 1, 6, 4), (4,)]

        def separable(x, depthwise, pointwise, bias):
            mixed = ops.depthwise_conv2d(x, depthwise, None, (2, 1), "same")
            return ops.conv2d(mixed, pointwise, bias, (1, 1), "valid", "tanh")
    else:
        shapes = [(2, 8, 3), (3, 3, 2), (1, 6, 4), (4,)]

        def separable(x, depthwise, pointwise, bias):
            mixed = ops.depthwise_conv1d(x, depthwise, None, 1, "causal", 2)
            return ops.conv1d(mixed, pointwise, bias, 1, "valid", 1, "tanh")
    assert gradcheck(separable, values(6, shapes, np.float64))


def torch_same_padding(functional, x, kernel, strides, dilation):
    """TensorFlow's "same" (the odd zero after) on an N, C, *spatial input."""
    pads = []
    for n, k, s, d in zip(x.shape[2:], kernel, strides, dilation):
        span, out = (k - 1) * d + 1, -(-n // s)
        total = max((out - 1) * s + span - n, 0)
        pads.append((total // 2, total - total // 2))
    return functional.pad(x, [p for pair in reversed(pads) for p in pair])


@pytest.mark.parametrize("kernel, strides, padding, dilation, multiplier, use_bias", [
    ((3, 3), (1, 1), "valid", (1, 1), 1, True), ((3, 2), (2, 2), "same", (1, 1), 2, True),
    ((2, 3), (1, 1), "same", (2, 2), 3, False), ((3, 3), (1, 3), "valid", (1, 1), 1, False),
    ((2, 2), (1, 1), "valid", (3, 1), 2, True),
])
def test_pytorch_grouped_conv2d_then_1x1_with_weights_copied_across(kernel, strides, padding,
                                                                    dilation, multiplier,
                                                                    use_bias):
    """Keras's depthwise kernel (kh, kw, C, M) is PyTorch's Conv2d(C, C*M, groups=C)
    weight (C*M, 1, kh, kw); the pointwise kernel (1, 1, C*M, F) a 1x1 Conv2d's (F, C*M,
    1, 1).  Forward and the gradients of x and of every weight."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    torch.manual_seed(0)
    channels, filters = 3, 4
    depthwise = torch.nn.Conv2d(channels, channels * multiplier, kernel, stride=strides,
                                dilation=dilation, groups=channels, bias=False).double()
    pointwise = torch.nn.Conv2d(channels * multiplier, filters, 1, bias=use_bias).double()
    layer = layers.SeparableConv2D(filters, kernel, strides=strides, padding=padding,
                                   dilation_rate=dilation, depth_multiplier=multiplier,
                                   use_bias=use_bias, activation="relu", dtype="float64")
    layer.build((None, 9, 10, channels))
    depthwise_kernel = depthwise.weight.detach().numpy()[:, 0].transpose(1, 2, 0).reshape(
        *kernel, channels, multiplier)
    layer.set_weights([depthwise_kernel,
                       pointwise.weight.detach().numpy()[:, :, 0, 0].T[None, None],
                       *([pointwise.bias.detach().numpy()] if use_bias else [])])
    x = np.random.default_rng(1).normal(size=(2, 9, 10, channels))
    twin_x = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    padded = (torch_same_padding(functional, twin_x, kernel, strides, dilation)
              if padding == "same" else twin_x)
    expected = torch.relu(pointwise(depthwise(padded)))
    mine_x = minidl.Tensor(x, requires_grad=True)
    out = layer(mine_x)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(2).normal(size=out.shape)
    out.backward(grad)
    expected.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(mine_x.grad, twin_x.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-9, atol=1e-10)
    twin_depthwise = depthwise.weight.grad.numpy()[:, 0].transpose(1, 2, 0)
    np.testing.assert_allclose(layer.depthwise_kernel.grad,
                               twin_depthwise.reshape(*kernel, channels, multiplier),
                               rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(layer.pointwise_kernel.grad[0, 0],
                               pointwise.weight.grad.numpy()[:, :, 0, 0].T, rtol=1e-9, atol=1e-10)
    if use_bias:
        np.testing.assert_allclose(layer.bias.grad, pointwise.bias.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("kernel, strides, padding, dilation, multiplier, use_bias", [
    (3, 1, "valid", 1, 1, True), (4, 2, "same", 1, 2, True), (3, 1, "causal", 2, 2, False),
    (2, 3, "causal", 1, 1, True), (3, 1, "same", 3, 3, False),
])
def test_pytorch_grouped_conv1d_with_weights_copied_across(kernel, strides, padding, dilation,
                                                           multiplier, use_bias):
    """DepthwiseConv1D as Conv1d(C, C*M, groups=C) (weight (C*M, 1, k) is Keras's (k, C, M)),
    and SeparableConv1D as that, then a 1x1 Conv1d."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    torch.manual_seed(0)
    channels, filters = 3, 2
    depthwise = torch.nn.Conv1d(channels, channels * multiplier, kernel, stride=strides,
                                dilation=dilation, groups=channels, bias=use_bias).double()
    pointwise = torch.nn.Conv1d(channels * multiplier, filters, 1).double()
    depthwise_kernel = depthwise.weight.detach().numpy()[:, 0].T.reshape(kernel, channels,
                                                                          multiplier)
    bias = [depthwise.bias.detach().numpy()] if use_bias else []
    x = np.random.default_rng(1).normal(size=(2, 11, channels))
    xi = torch.tensor(x.transpose(0, 2, 1))
    if padding == "causal":
        xi = functional.pad(xi, ((kernel - 1) * dilation, 0))
    elif padding == "same":
        xi = torch_same_padding(functional, xi, [kernel], [strides], [dilation])
    mixed = depthwise(xi)
    arguments = dict(strides=strides, dilation_rate=dilation, depth_multiplier=multiplier,
                     use_bias=use_bias, dtype="float64")
    if padding != "causal":  # (DepthwiseConv1D has no causal padding, as in Keras)
        layer = layers.DepthwiseConv1D(kernel, padding=padding, **arguments)
        layer.build((None, 11, channels))
        layer.set_weights([depthwise_kernel, *bias])
        np.testing.assert_allclose(layer(x).numpy(), mixed.detach().numpy().transpose(0, 2, 1),
                                   rtol=1e-10, atol=1e-12)
    separable = layers.SeparableConv1D(filters, kernel, padding=padding, **arguments)
    separable.build((None, 11, channels))
    # the depthwise bias moved past the pointwise product, as the separable layer has it
    pointwise_bias = pointwise.bias.detach().numpy()
    if use_bias:
        pointwise_bias = pointwise_bias + bias[0] @ pointwise.weight.detach().numpy()[:, :, 0].T
    separable.set_weights([depthwise_kernel, pointwise.weight.detach().numpy()[:, :, 0].T[None],
                           *([pointwise_bias] if use_bias else [])])
    expected = pointwise(mixed).detach().numpy().transpose(0, 2, 1)
    if not use_bias:
        expected = expected - pointwise.bias.detach().numpy()
    np.testing.assert_allclose(separable(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_causal_separable_conv1d_never_sees_the_future():
    layer = layers.SeparableConv1D(2, 3, padding="causal", dilation_rate=2)
    x = np.random.default_rng(2).normal(size=(1, 12, 3)).astype(np.float32)
    later = x.copy()
    later[0, 7:] += 10.0
    base, changed = layer(x).numpy(), layer(later).numpy()
    np.testing.assert_array_equal(base[0, :7], changed[0, :7])
    assert not np.allclose(base[0, 7:], changed[0, 7:])


def xception_block():
    """An entry-flow block of Deep Learning with Python's mini Xception."""
    inputs = minidl.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, use_bias=False)(inputs)
    residual = x
    x = layers.SeparableConv2D(32, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = layers.SeparableConv2D(32, 3, padding="same", use_bias=False)(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    residual = layers.Conv2D(32, 1, strides=2, padding="same", use_bias=False)(residual)
    x = layers.add([x, residual])
    x = layers.GlobalAveragePooling2D()(x)
    return minidl.Model(inputs, layers.Dense(1, activation="sigmoid")(x), name="xception")


def test_summary_as_tf_keras_prints_it():
    """tf_keras 2.21's summaries of the same models: the files of make_fixtures.py
    (loaded here) and the block above (its rows without the "Connected to" column)."""
    lines = []
    load_model(FIXTURES / "keras2_2d.h5").summary(print_fn=lines.append)
    load_model(FIXTURES / "keras2_1d.h5").summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines if line.startswith(" ") and line.strip()]
    assert [row for row in rows if "Layer (type)" not in row] == [
        " separable_conv2d_4 (Separa  (None, 9, 8, 6)           96",
        " bleConv2D)",
        " depthwise_conv2d_4 (Depthw  (None, 4, 4, 6)           42",
        " iseConv2D)",
        " separable_conv2d_5 (Separa  (None, 2, 2, 4)           48",
        " bleConv2D)",
        " flatten (Flatten)           (None, 16)                0",
        " dense (Dense)               (None, 2)                 34",
        " separable_conv1d_5 (Separa  (None, 12, 5)             29",
        " bleConv1D)",
        " depthwise_conv1d_4 (Depthw  (None, 5, 10)             40",
        " iseConv1D)",
        " global_average_pooling1d (  (None, 10)                0",
        " GlobalAveragePooling1D)",
        " dense_1 (Dense)             (None, 2)                 22",
    ]
    assert [line for line in lines if line.startswith("Total")] == [
        "Total params: 220", "Total params: 91"]
    lines = []
    xception_block().summary(print_fn=lines.append, line_length=110)
    rows = [line[:75].rstrip() for line in lines[4:] if line.startswith(" ") and line.strip()]
    assert rows[2:11] == [
        " separable_conv2d (SeparableCon  (None, 30, 30, 32)               656",
        " v2D)",
        " batch_normalization (BatchNorm  (None, 30, 30, 32)               128",
        " alization)",
        " activation (Activation)         (None, 30, 30, 32)               0",
        " depthwise_conv2d (DepthwiseCon  (None, 30, 30, 64)               640",
        " v2D)",
        " separable_conv2d_1 (SeparableC  (None, 30, 30, 32)               2624",
        " onv2D)",
    ]
    assert [line for line in lines if "params" in line] == [
        "Total params: 5,025", "Trainable params: 4,961", "Non-trainable params: 64"]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 32, 32, 3)).astype(np.float32)
    y = (x[:, :16].mean(axis=(1, 2, 3)) > 0).astype(np.float32)
    model = xception_block()
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "xception.mdl")
    loaded = load_model(tmp_path / "xception.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]


def test_sequence_model_saves_and_loads(tmp_path):
    model = minidl.Sequential([
        minidl.Input((20, 4)),
        layers.SeparableConv1D(8, 3, padding="causal", dilation_rate=2, activation="relu",
                               depthwise_regularizer="l2"),
        layers.DepthwiseConv1D(3, strides=2, depth_multiplier=2, use_bias=False),
        layers.GlobalMaxPooling1D(), layers.Dense(1)])
    x = np.random.default_rng(1).normal(size=(4, 20, 4)).astype(np.float32)
    model.save(tmp_path / "seq.mdl")
    loaded = load_model(tmp_path / "seq.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].get_config()["depthwise_regularizer"] is not None
    assert len(loaded.losses) == 1  # the depthwise kernel's L2 penalty


@pytest.mark.parametrize("path", ["keras2_2d.h5", "keras2_1d.h5", "keras3_2d.keras",
                                  "keras3_1d.keras"])
def test_tf_keras_and_keras_3_files_load(path):
    pytest.importorskip("h5py")
    stored = np.load(FIXTURES / "files.npz")
    key = path.split(".")[0]
    model = load_model(FIXTURES / path)
    np.testing.assert_allclose(model.predict(stored[f"{key}_x"], verbose=0), stored[key],
                               atol=1e-5)


def test_keras_3_file_is_refused_by_name_and_minidl_layout_written(tmp_path):
    """The Keras 3 writer does not translate these layers: save() says so, naming the
    layer, and writes minidl's own layout (which load_model reads)."""
    pytest.importorskip("h5py")
    model = minidl.Sequential([minidl.Input((8, 8, 3)), layers.SeparableConv2D(4, 3),
                               layers.DepthwiseConv2D(2)])
    with pytest.warns(UserWarning, match=r'layer "separable_conv2d" is a SeparableConv2D, '
                                         r"which this writer does not translate"):
        model.save(tmp_path / "model.keras")
    x = np.ones((2, 8, 8, 3), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "model.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_aliases_and_config_round_trip():
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    for layer in (layers.SeparableConv2D(4, 3, strides=2, padding="same", depth_multiplier=2,
                                         activation="relu", pointwise_regularizer="l1"),
                  layers.SeparableConv1D(4, 3, padding="causal", dilation_rate=2),
                  layers.DepthwiseConv2D((3, 2), depth_multiplier=3, use_bias=False,
                                         bias_initializer="ones"),
                  layers.DepthwiseConv1D(5, strides=2, activity_regularizer="l2")):
        config = layer.get_config()
        for copy in (type(layer).from_config(config), layers.deserialize(layers.serialize(layer))):
            assert type(copy) is type(layer) and copy.get_config() == config


def label(layer_class):
    return f'{layer_class.__name__} layer "'


@pytest.mark.parametrize("make, words", [
    (lambda: layers.DepthwiseConv2D(0), ["DepthwiseConv2D", "kernel_size", "received 0"]),
    (lambda: layers.DepthwiseConv2D(-3), ["DepthwiseConv2D", "kernel_size", "received -3"]),
    (lambda: layers.DepthwiseConv2D((3,)), ["kernel_size", "(3,)"]),
    (lambda: layers.DepthwiseConv1D((3, 3)), ["DepthwiseConv1D", "kernel_size", "(3, 3)"]),
    (lambda: layers.SeparableConv2D(4, 0), ["SeparableConv2D", "kernel_size", "received 0"]),
    (lambda: layers.SeparableConv1D(4, -1), ["SeparableConv1D", "kernel_size", "received -1"]),
    (lambda: layers.SeparableConv2D(0, 3), ["SeparableConv2D", "filters", "received 0"]),
    (lambda: layers.SeparableConv1D(2.5, 3), ["SeparableConv1D", "filters", "received 2.5"]),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0),
     ["DepthwiseConv2D", "depth_multiplier", "received 0"]),
    (lambda: layers.SeparableConv1D(4, 3, depth_multiplier=-2),
     ["SeparableConv1D", "depth_multiplier", "received -2"]),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=1.5), ["depth_multiplier", "1.5"]),
    (lambda: layers.DepthwiseConv2D(3, strides=2, dilation_rate=2),
     ["DepthwiseConv2D", "strides > 1", "dilation_rate > 1"]),
    (lambda: layers.SeparableConv2D(4, 3, strides=(1, 2), dilation_rate=(2, 1)),
     ["SeparableConv2D", "strides > 1", "dilation_rate > 1"]),
    (lambda: layers.DepthwiseConv1D(3, strides=2, dilation_rate=2),
     ["DepthwiseConv1D", "strides > 1"]),
    (lambda: layers.SeparableConv1D(4, 3, strides=2, dilation_rate=3),
     ["SeparableConv1D", "strides > 1"]),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), ["DepthwiseConv1D", "'causal'"]),
    (lambda: layers.SeparableConv2D(4, 3, padding="causal"), ["SeparableConv2D", "'causal'"]),
    (lambda: layers.DepthwiseConv2D(3, padding="full"), ["padding", "'full'"]),
    (lambda: layers.SeparableConv2D(4, 3, data_format="NCHW"),
     ["SeparableConv2D", "channels_last", "channels_first"]),
    (lambda: layers.DepthwiseConv1D(3, data_format="NCW"), ["channels_last"]),
    (lambda: layers.DepthwiseConv2D(3, depthwise_constraint="non_negative"),
     ["DepthwiseConv2D", "depthwise_constraint"]),
    (lambda: layers.SeparableConv2D(4, 3, pointwise_constraint="maximum_norm"),
     ["pointwise_constraint"]),
    (lambda: layers.SeparableConv2D(4, 3, kernel_initializer="zeros"),
     ["SeparableConv2D", "depthwise_initializer and pointwise_initializer"]),
    (lambda: layers.DepthwiseConv2D(3, groups=2), ["DepthwiseConv2D", "groups"]),
    (lambda: layers.DepthwiseConv2D(3, depthwise_regularizer="nonsense"),
     ["depthwise_regularizer", "nonsense"]),
    (lambda: layers.DepthwiseConv2D(3)(np.ones((2, 5, 5), np.float32)),
     ["DepthwiseConv2D", "(2, 5, 5)", "channel axis"]),
    (lambda: layers.SeparableConv2D(4, 3)(np.ones((2, 5, 5, 1, 1), np.float32)),
     ["SeparableConv2D", "(2, 5, 5, 1, 1)"]),
    (lambda: layers.DepthwiseConv1D(3)(np.ones((2, 5, 5, 1), np.float32)),
     ["DepthwiseConv1D", "(2, 5, 5, 1)"]),
    (lambda: layers.SeparableConv1D(4, 3)(np.ones((2, 5), np.float32)),
     ["SeparableConv1D", "(2, 5)", "channel axis"]),
    (lambda: layers.DepthwiseConv2D(6)(np.ones((1, 5, 5, 2), np.float32)),
     ["depthwise_conv2d", "spans (6, 6)", "padding='same'"]),
    (lambda: layers.SeparableConv1D(2, 3, dilation_rate=3)(np.ones((1, 6, 2), np.float32)),
     ["separable_conv1d", "spans (7,)"]),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, words):
    with pytest.raises(ValueError) as caught:
        make()
    message = str(caught.value)
    assert all(word in message for word in words), message


def test_input_with_other_channels_after_build_is_refused():
    layer = layers.SeparableConv2D(4, 3)
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r'"separable_conv2d".*expected shape '
                                         r"\(None, height, width, 3\), received shape"):
        layer(np.zeros((1, 5, 5, 2), np.float32))


@pytest.mark.parametrize("call, match", [
    (lambda: ops.depthwise_conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 3, 1))), "channels"),
    (lambda: ops.depthwise_conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 2)), np.ones(2)),
     r"bias must have shape \(4,\)"),
    (lambda: ops.depthwise_conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 1)), None, 2,
                                  "valid", 2), "strides > 1"),
    (lambda: ops.depthwise_conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), None, 1,
                                  "valid", 2), "larger than"),
    (lambda: ops.depthwise_conv2d(np.ones((5, 5, 2)), np.ones((3, 3, 2, 1))), "batch, height"),
    (lambda: ops.depthwise_conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 1)), None, 0), "strides"),
    (lambda: ops.depthwise_conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 1)), None, 1, "full"),
     "padding"),
])
def test_ops_refuse_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("rank", [1, 2])
def test_onnx_export_runs_as_predict(tmp_path, rank):
    """ONNX's Conv with group = channels, then a 1x1 Conv; run in ONNX Runtime."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    if rank == 2:
        shape = (9, 8, 3)
        model = minidl.Sequential([
            minidl.Input(shape),
            layers.SeparableConv2D(6, 3, padding="same", depth_multiplier=2, activation="relu"),
            layers.DepthwiseConv2D((3, 2), strides=2, depth_multiplier=3),
            layers.SeparableConv2D(4, 2, dilation_rate=2, use_bias=False, activation="tanh")])
    else:
        shape = (12, 3)
        model = minidl.Sequential([
            minidl.Input(shape),
            layers.SeparableConv1D(5, 3, padding="causal", dilation_rate=2, depth_multiplier=2,
                                   activation="relu"),
            layers.DepthwiseConv1D(3, strides=2, padding="same", depth_multiplier=2),
            layers.SeparableConv1D(2, 2, strides=2, padding="same")])
    model.set_weights(values(7, [w.shape for w in model.weights]))
    minidl.onnx.export(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    (x,) = values(8, [(3, *shape)])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=2e-6)
