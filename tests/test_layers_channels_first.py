"""data_format="channels_first" in the 2-D and 3-D image layers (layers/channels_first.py).

Each layer channels-first gives what the same layer gives channels-last on the
transposed input, with the same weights (outputs and gradients, inputs' and weights');
a few against tf_keras 2.21's outputs (``fixtures/channels_first/make_fixtures.py``
wrote ``outputs.json`` and ``keras2.h5``); summary rows, configs, save and load, a
small CNN that trains, ``image_data_format()``, and the data formats Keras refuses.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import Tensor, backend, layers
from minidl.layers.channels_first import move_axis
from minidl.models import load_model
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "channels_first"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())


@pytest.fixture(autouse=True)
def fresh_names():
    minidl.backend.clear_session()


def wave(shape, scale=0.5, phase=0.0):
    """The inputs and weights of make_fixtures.py."""
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.37 + phase) * scale).reshape(shape).astype("float32")


def set_wave_weights(layer):
    layer.set_weights([wave(w.shape, 0.3, 1.0 + i) for i, w in enumerate(layer.get_weights())])


def first(array):
    """A channels-last array as channels-first."""
    return np.moveaxis(array, -1, 1)


# --- tf_keras 2.21's outputs -------------------------------------------------------------
KERAS_CASES = {
    "Conv2D": lambda: layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same",
                                    activation="relu", data_format="channels_first"),
    "MaxPooling2D": lambda: layers.MaxPooling2D((2, 3), strides=(2, 2), padding="same",
                                                data_format="channels_first"),
    "AveragePooling2D": lambda: layers.AveragePooling2D((3, 2), padding="valid",
                                                        data_format="channels_first"),
    "Conv2DTranspose": lambda: layers.Conv2DTranspose(3, (3, 2), strides=(2, 2), padding="same",
                                                      data_format="channels_first"),
    "Conv3D": lambda: layers.Conv3D(3, (2, 3, 2), padding="valid", data_format="channels_first"),
    "UpSampling2D": lambda: layers.UpSampling2D((2, 3), data_format="channels_first"),
    "UpSampling2D_bilinear": lambda: layers.UpSampling2D((2, 2), interpolation="bilinear",
                                                         data_format="channels_first"),
    "GlobalAveragePooling2D": lambda: layers.GlobalAveragePooling2D(data_format="channels_first"),
    "GlobalMaxPooling2D_keepdims": lambda: layers.GlobalMaxPooling2D(
        data_format="channels_first", keepdims=True),
    "Cropping2D": lambda: layers.Cropping2D(((1, 0), (2, 1)), data_format="channels_first"),
    "ZeroPadding2D": lambda: layers.ZeroPadding2D(((1, 0), (0, 2)), data_format="channels_first"),
    "DepthwiseConv2D": lambda: layers.DepthwiseConv2D((2, 3), depth_multiplier=2, padding="same",
                                                      data_format="channels_first"),
    "SeparableConv2D": lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2,
                                                      data_format="channels_first"),
    "MaxPooling3D": lambda: layers.MaxPooling3D((2, 2, 2), padding="same",
                                                data_format="channels_first"),
    "GlobalAveragePooling3D": lambda: layers.GlobalAveragePooling3D(data_format="channels_first"),
    "ConvLSTM2D": lambda: layers.ConvLSTM2D(2, (2, 3), padding="same", return_sequences=True,
                                            data_format="channels_first"),
    "ConvLSTM1D": lambda: layers.ConvLSTM1D(3, 2, data_format="channels_first"),
    "Cropping3D": lambda: layers.Cropping3D(((1, 0), (0, 1), (1, 1)),
                                            data_format="channels_first"),
}


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_outputs_shapes_and_weights_as_tf_keras(name):
    expected = KERAS["layers"][name]
    shape = tuple(expected["input_shape"])
    layer = KERAS_CASES[name]()
    layer.build(shape)
    assert [list(w.shape) for w in layer.get_weights()] == expected["weight_shapes"]
    set_wave_weights(layer)
    y = layer(wave(shape)).numpy()
    np.testing.assert_allclose(y, np.array(expected["output"]), rtol=1e-5, atol=2e-6)
    assert list(layer.compute_output_shape((None, *shape[1:]))) == expected["output_shape"]


# --- the same as channels-last on transposed inputs, gradients too ------------------------
SAME_AS_CHANNELS_LAST = [
    (lambda f: layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu",
                             data_format=f), (2, 7, 6, 3)),
    (lambda f: layers.Conv2D(2, 3, use_bias=False, data_format=f), (1, 5, 5, 2)),
    (lambda f: layers.Conv2DTranspose(3, (3, 2), strides=2, padding="valid",
                                      output_padding=1, data_format=f), (2, 3, 4, 2)),
    (lambda f: layers.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same", data_format=f),
     (2, 3, 5, 4, 2)),
    (lambda f: layers.DepthwiseConv2D((2, 3), depth_multiplier=2, dilation_rate=(1, 2),
                                      activation="tanh", data_format=f), (2, 5, 7, 3)),
    (lambda f: layers.SeparableConv2D(4, 3, strides=2, depth_multiplier=2, padding="same",
                                      data_format=f), (2, 6, 5, 3)),
    (lambda f: layers.DepthwiseConv1D(3, depth_multiplier=2, data_format=f), (2, 7, 3)),
    (lambda f: layers.SeparableConv1D(4, 3, padding="same", data_format=f), (2, 7, 3)),
    (lambda f: layers.MaxPooling2D((2, 3), strides=(2, 2), padding="same", data_format=f),
     (2, 7, 6, 3)),
    (lambda f: layers.AveragePooling2D((3, 2), padding="same", data_format=f), (2, 7, 6, 3)),
    (lambda f: layers.GlobalAveragePooling2D(data_format=f), (2, 4, 5, 3)),
    (lambda f: layers.GlobalMaxPooling2D(data_format=f, keepdims=True), (2, 4, 5, 3)),
    (lambda f: layers.MaxPooling3D((2, 2, 2), padding="same", data_format=f), (1, 3, 4, 5, 2)),
    (lambda f: layers.AveragePooling3D((1, 2, 2), data_format=f), (1, 3, 4, 5, 2)),
    (lambda f: layers.GlobalMaxPooling3D(data_format=f), (2, 2, 3, 2, 3)),
    (lambda f: layers.GlobalAveragePooling3D(data_format=f, keepdims=True), (2, 2, 3, 2, 3)),
    (lambda f: layers.UpSampling2D((2, 3), data_format=f), (2, 2, 3, 3)),
    (lambda f: layers.UpSampling2D(2, interpolation="bilinear", data_format=f), (1, 3, 3, 2)),
    (lambda f: layers.ZeroPadding2D(((1, 0), (0, 2)), data_format=f), (1, 2, 3, 2)),
    (lambda f: layers.Cropping2D(((1, 0), (2, 1)), data_format=f), (2, 4, 5, 3)),
    (lambda f: layers.UpSampling3D((1, 2, 2), data_format=f), (1, 2, 2, 3, 2)),
    (lambda f: layers.ZeroPadding3D(1, data_format=f), (1, 2, 2, 3, 2)),
    (lambda f: layers.Cropping3D(((1, 0), (0, 1), (1, 1)), data_format=f), (1, 3, 3, 4, 2)),
    (lambda f: layers.SpatialDropout2D(0.5, seed=3, data_format=f), (3, 4, 4, 5)),
    (lambda f: layers.SpatialDropout3D(0.5, seed=3, data_format=f), (3, 2, 3, 2, 4)),
]


@pytest.mark.parametrize("make, shape", SAME_AS_CHANNELS_LAST)
def test_same_as_channels_last_on_transposed_inputs(make, shape):
    x = wave(shape)
    last, channels_first = make("channels_last"), make("channels_first")
    last.build(shape)
    channels_first.build(first(np.empty(shape)).shape)
    assert [w.shape for w in channels_first.get_weights()] == [w.shape for w in last.get_weights()]
    set_wave_weights(last)
    channels_first.set_weights(last.get_weights())

    def run(layer, inputs, grad=None):
        tensor = Tensor(inputs.copy(), requires_grad=True)
        y = layer(tensor, training=True)
        grad = wave(y.shape, 1.0, 2.0) if grad is None else grad
        y.backward(grad)
        return y.numpy(), grad, tensor.grad, [w.grad for w in layer.trainable_weights]

    y_last, grad, dx_last, dw_last = run(last, x)
    y_first, _, dx_first, dw_first = run(channels_first, first(x),
                                         first(grad) if grad.ndim > 2 else grad)
    assert y_first.shape[1:] == tuple(
        channels_first.compute_output_shape((None, *first(x).shape[1:])))[1:]
    np.testing.assert_allclose(y_first, first(y_last) if y_last.ndim > 2 else y_last,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx_first, first(dx_last), rtol=1e-5, atol=1e-6)
    for a, b in zip(dw_first, dw_last):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2D(3, (2, 3), strides=(1, 2), padding="same", data_format="channels_first",
                          activation="tanh", dtype="float64"),
    lambda: layers.SeparableConv2D(2, 2, data_format="channels_first", dtype="float64"),
    lambda: layers.Conv3D(2, 2, data_format="channels_first", dtype="float64"),
    lambda: layers.AveragePooling2D(2, padding="same", data_format="channels_first",
                                    dtype="float64"),
])
def test_gradients_against_finite_differences_float64(make):
    layer = make()
    x = np.random.default_rng(0).standard_normal(
        (2, 2, 3, 4, 3) if isinstance(layer, layers.Conv3D) else (2, 2, 4, 5))
    assert gradcheck(layer, [x])  # (the weights' gradients: as channels-last's, above)


@pytest.mark.parametrize("cls, shape, axes", [
    (layers.ConvLSTM2D, (2, 3, 4, 5, 2), (1, 3, 4, 5, 2)),  # (N, T, H, W, C); the C-first order
    (layers.ConvLSTM1D, (2, 3, 6, 2), (1, 3, 4, 2)),
])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_conv_lstm_same_as_channels_last(cls, shape, axes, return_sequences):
    """Inputs (N, T, C, ...), outputs (N, T, F, ...) or (N, F, ...), states (N, F, ...);
    initial states channels-first too; gradients as channels-last's."""
    options = dict(filters=3, kernel_size=3, padding="same", return_sequences=return_sequences,
                   return_state=True, go_backwards=True)
    last, channels_first = cls(**options), cls(**options, data_format="channels_first")
    x = wave(shape)
    x_first = np.moveaxis(x, -1, 2)
    last.build(shape)
    channels_first.build(x_first.shape)
    set_wave_weights(last)
    channels_first.set_weights(last.get_weights())
    h0 = wave((shape[0], *shape[2:-1], 3), 0.2, 0.7)
    results = []
    for layer, inputs, state in ((last, x, h0), (channels_first, x_first, first(h0))):
        tensor = Tensor(inputs.copy(), requires_grad=True)
        output, h, c = layer(tensor, initial_state=[state, state])
        output.sum().backward()
        results.append((output.numpy(), h.numpy(), c.numpy(), tensor.grad,
                        [w.grad for w in layer.trainable_weights]))
        assert list(layer.compute_output_shape(inputs.shape)[0]) == list(output.shape)
    (out_l, h_l, c_l, dx_l, dw_l), (out_f, h_f, c_f, dx_f, dw_f) = results
    np.testing.assert_allclose(out_f, np.moveaxis(out_l, -1, 2 if return_sequences else 1),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_f, first(h_l), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_f, first(c_l), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx_f, np.moveaxis(dx_l, -1, 2), rtol=1e-4, atol=1e-5)
    for a, b in zip(dw_f, dw_l):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_stateful_conv_lstm_states_are_channels_first():
    layer = layers.ConvLSTM2D(2, 3, padding="same", stateful=True, data_format="channels_first")
    layer(wave((1, 2, 3, 4, 5)))
    assert [s.shape for s in layer.states] == [(1, 2, 4, 5)] * 2
    assert layer.get_initial_state(wave((1, 2, 3, 4, 5)))[0].shape == (1, 2, 4, 5)
    layer.reset_states([np.ones((1, 2, 4, 5))] * 2)
    np.testing.assert_array_equal(layer.states[0], np.ones((1, 2, 4, 5)))
    with pytest.raises(ValueError, match=r"\(batch, 2, rows, cols\)"):
        layer.reset_states([np.ones((1, 4, 5, 3))] * 2)


# --- shapes, summary, configs ------------------------------------------------------------
def cnn(flatten_format=None):
    flatten = {} if flatten_format is None else {"data_format": flatten_format}
    return minidl.Sequential([
        minidl.Input((1, 8, 8)),
        layers.Conv2D(4, 3, activation="relu", data_format="channels_first"),
        layers.MaxPooling2D(2, data_format="channels_first"),
        layers.Flatten(**flatten),
        layers.Dense(3, activation="softmax"),
    ])


@pytest.mark.parametrize("key, flatten_format", [("cnn", None),
                                                 ("cnn_flatten_channels_first", "channels_first")])
def test_cnn_summary_and_predictions_as_tf_keras(key, flatten_format):
    """Keras's Flatten (data_format None: channels_last) flattens (N, C, H, W) in C, H, W
    order; Flatten(data_format="channels_first") moves the channels last first."""
    model = cnn(flatten_format)
    for layer in model.layers:
        set_wave_weights(layer)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for (kind, shape, params), layer in zip(KERAS[key]["summary"], model.layers):
        assert type(layer).__name__ == kind
        assert list(layer.output_shape) == shape
        assert layer.count_params() == params
        assert str(tuple(shape)) in text
    predictions = model.predict(wave((5, 1, 8, 8), 1.0, 0.3), verbose=0)
    np.testing.assert_allclose(predictions, KERAS[key]["predictions"], rtol=1e-5, atol=1e-6)


def test_tf_keras_file_loads_with_its_data_formats():
    pytest.importorskip("h5py")
    model = load_model(FIXTURES / "keras2.h5")
    assert [getattr(layer, "data_format", None) for layer in model.layers] == [
        "channels_first", "channels_first", "channels_last", None]
    predictions = model.predict(wave((5, 1, 8, 8), 1.0, 0.3), verbose=0)
    np.testing.assert_allclose(predictions, KERAS["cnn"]["predictions"], rtol=1e-5, atol=1e-6)


def test_a_channels_first_cnn_trains_and_round_trips(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 8, 8)).astype("float32")
    y = (x[:, 0, :4].mean(axis=(1, 2)) > 0).astype("int64") + (x[:, 0, 4:, 4:].mean(
        axis=(1, 2)) > 0.1)
    model = cnn()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    expected = model.predict(x, verbose=0)
    for name in ("model.keras", "model.h5"):
        model.save(tmp_path / name)
        loaded = load_model(tmp_path / name)
        assert loaded.layers[0].data_format == "channels_first"
        assert loaded.layers[0].kernel.shape == (3, 3, 1, 4)  # Keras's (kh, kw, in, out)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", [make for make, _ in SAME_AS_CHANNELS_LAST])
def test_config_carries_data_format(make):
    layer = make("channels_first")
    config = layer.get_config()
    assert config["data_format"] == "channels_first"
    assert type(layer).from_config(config).data_format == "channels_first"
    if not isinstance(layer, (layers.SpatialDropout2D, layers.SpatialDropout3D)):
        assert make("channels_last").get_config()["data_format"] == "channels_last"
    else:  # as tf_keras 2.21's, whose config has no data_format
        assert "data_format" not in make("channels_last").get_config()


def test_weights_and_channel_count_from_axis_1():
    layer = layers.Conv2D(5, (3, 2), data_format="channels_first")
    layer.build((None, 3, 10, 8))
    assert layer.kernel.shape == (3, 2, 3, 5)
    transpose = layers.Conv2DTranspose(5, 3, data_format="channels_first")
    transpose.build((None, 3, 10, 8))
    assert transpose.kernel.shape == (3, 3, 5, 3)
    assert layers.BatchNormalization().axis in (-1, [-1])  # Keras: pass axis=1 yourself


def test_wrong_channels_named_in_channels_first_order():
    layer = layers.Conv2D(2, 3, data_format="channels_first")
    layer(np.zeros((1, 3, 5, 5), "float32"))
    with pytest.raises(ValueError, match=r"expected shape \(None, 3, height, width\), received "
                                         r"shape \(1, 5, 5, 3\)"):
        layer(np.zeros((1, 5, 5, 3), "float32"))


def test_channels_last_layers_do_not_transpose():
    x = Tensor(np.zeros((1, 4, 4, 2), "float32"))
    layer = layers.Conv2D(2, 3)
    assert layer._channels_last(x) is x and layer._channels_first(x) is x


# --- data formats: None, image_data_format(), refused names --------------------------------
def test_none_follows_image_data_format():
    assert layers.Conv2D(2, 3).data_format == "channels_last"
    backend.set_image_data_format("channels_first")
    try:
        made = [layers.Conv2D(2, 3), layers.MaxPooling2D(), layers.GlobalAveragePooling3D(),
                layers.UpSampling2D(), layers.SpatialDropout2D(0.1), layers.Flatten(),
                layers.DepthwiseConv2D(3), layers.Conv3D(2, 2)]
        assert {layer.data_format for layer in made} == {"channels_first"}
    finally:
        backend.set_image_data_format("channels_last")
    assert layers.Conv2D(2, 3).data_format == "channels_last"


def test_the_name_is_lower_cased_as_keras_does():
    assert layers.Conv2D(2, 3, data_format="Channels_First").data_format == "channels_first"


@pytest.mark.parametrize("make", [
    lambda f: layers.Conv2D(2, 3, data_format=f),
    lambda f: layers.Conv3D(2, 3, data_format=f),
    lambda f: layers.Conv2DTranspose(2, 3, data_format=f),
    lambda f: layers.DepthwiseConv2D(3, data_format=f),
    lambda f: layers.SeparableConv2D(2, 3, data_format=f),
    lambda f: layers.MaxPooling2D(data_format=f),
    lambda f: layers.GlobalMaxPooling2D(data_format=f),
    lambda f: layers.AveragePooling3D(data_format=f),
    lambda f: layers.UpSampling2D(data_format=f),
    lambda f: layers.ZeroPadding2D(data_format=f),
    lambda f: layers.Cropping2D(data_format=f),
    lambda f: layers.Cropping3D(data_format=f),
])
def test_bad_data_formats_refused_with_keras_message(make):
    with pytest.raises(ValueError, match='the `data_format` argument must be one of '
                                         '"channels_first", "channels_last". Received: NCHW'):
        make("NCHW")
    with pytest.raises(TypeError, match="data_format must be a string"):
        make(1)


def test_spatial_dropout_refuses_with_its_own_keras_message():
    with pytest.raises(ValueError, match='`data_format` must be "channels_last" or '
                                         '"channels_first". Received: data_format=NCHW.'):
        layers.SpatialDropout2D(0.1, data_format="NCHW")


def test_move_axis_on_shapes_and_tensors():
    assert move_axis((None, 3, 5, 7), 1, -1) == (None, 5, 7, 3)
    assert move_axis((None, 5, 7, 3), -1, 1) == (None, 3, 5, 7)
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(move_axis(Tensor(x), 1, -1).numpy(), np.moveaxis(x, 1, -1))


# --- ONNX export: the converters that know channels-first, a clear refusal elsewhere ------
def test_channels_first_cnn_exports_to_onnx(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = minidl.Sequential([
        minidl.Input((2, 7, 6)),
        layers.Conv2D(3, (3, 2), strides=(2, 1), padding="same", data_format="channels_first"),
        layers.AveragePooling2D(2, padding="same", data_format="channels_first"),
        layers.GlobalMaxPooling2D(data_format="channels_first", keepdims=True),
        layers.Flatten(data_format="channels_first"),
    ])
    for layer in model.layers:
        set_wave_weights(layer)
    minidl.onnx.export(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = wave((3, 2, 7, 6), 1.0, 0.4)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(y, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_onnx_export_refuses_other_channels_first_layers(tmp_path):
    pytest.importorskip("onnx")
    model = minidl.Sequential([minidl.Input((2, 4, 4)),
                               layers.UpSampling2D(data_format="channels_first", name="up")])
    with pytest.raises(NotImplementedError, match=r'layer "up" \(UpSampling2D\) with '
                                                  r'data_format="channels_first" cannot be exported'):
        minidl.onnx.export(model, tmp_path / "model.onnx")


def test_a_missing_channel_axis_is_named_in_channels_first_order():
    with pytest.raises(ValueError, match=r"expects images of shape \(None, channels, height, "
                                         r"width\), .* reshape x to \(-1, 1, height, width\)"):
        layers.MaxPooling2D(data_format="channels_first")(np.zeros((2, 8, 8), "float32"))
    with pytest.raises(ValueError, match=r"expects volumes of shape \(None, channels, depth, "
                                         r"height, width\), .* \(-1, 1, depth, height, width\)"):
        layers.Conv3D(2, 2, data_format="channels_first")(np.zeros((2, 4, 4, 4), "float32"))
