"""UpSampling2D, ZeroPadding2D, Cropping2D: Keras's shapes and configs, values, saving,
summary, bad arguments, and a convolutional autoencoder that trains."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


# (layer, input shape, output shape, output shape of a call on a batch of 2 with unknown
# sizes 8), as tf_keras 2 printed them
KERAS_SHAPES = [
    (lambda: layers.UpSampling2D(size=3), (None, 4, 5, 2), (None, 12, 15, 2), (2, 12, 15, 2)),
    (lambda: layers.UpSampling2D(size=(1, 2), interpolation="bilinear"), (None, None, 5, 2),
     (None, None, 10, 2), (2, 8, 10, 2)),
    (lambda: layers.ZeroPadding2D(padding=2), (None, 4, 5, 2), (None, 8, 9, 2), (2, 8, 9, 2)),
    (lambda: layers.ZeroPadding2D(padding=(1, 3)), (None, 4, None, 2), (None, 6, None, 2),
     (2, 6, 14, 2)),
    (lambda: layers.ZeroPadding2D(padding=((0, 1), (2, 3))), (None, 4, 5, 2), (None, 5, 10, 2),
     (2, 5, 10, 2)),
    (lambda: layers.Cropping2D(cropping=1), (None, 4, 5, 2), (None, 2, 3, 2), (2, 2, 3, 2)),
    (lambda: layers.Cropping2D(cropping=(1, 2)), (None, 4, 5, 2), (None, 2, 1, 2), (2, 2, 1, 2)),
    (lambda: layers.Cropping2D(cropping=((0, 1), (2, 1))), (None, None, 5, 2), (None, None, 2, 2),
     (2, 7, 2, 2)),
]


@pytest.mark.parametrize("make, input_shape, output_shape, called", KERAS_SHAPES)
def test_shapes_as_in_keras(make, input_shape, output_shape, called):
    layer = make()
    assert layer.compute_output_shape(input_shape) == output_shape
    x = np.ones((2, *(8 if d is None else d for d in input_shape[1:])), np.float32)
    assert layer(x).shape == called
    assert layer.count_params() == 0 and layer.weights == []


def test_defaults_and_configs_as_in_keras():
    """Keras's defaults: size (2, 2) nearest, padding (1, 1), cropping ((0, 0), (0, 0))."""
    configs = {
        layers.UpSampling2D: {"size": (2, 2), "interpolation": "nearest"},  # tuples, as tf_keras
        layers.ZeroPadding2D: {"padding": ((1, 1), (1, 1))},
        layers.Cropping2D: {"cropping": ((0, 0), (0, 0))},
    }
    for cls, expected in configs.items():
        config = cls().get_config()
        assert {key: config[key] for key in expected} == expected
    for layer in (layers.UpSampling2D((2, 3), interpolation="bilinear"),
                  layers.ZeroPadding2D(((0, 1), (2, 3))), layers.Cropping2D((1, 2))):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
        assert layers.deserialize(layers.serialize(layer)).get_config() == config


def test_values():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(x).numpy(),
                                  x.repeat(2, axis=1).repeat(3, axis=2))
    padded = layers.ZeroPadding2D(((1, 2), (0, 1)))(x).numpy()
    np.testing.assert_array_equal(padded, np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))
    np.testing.assert_array_equal(layers.Cropping2D(((1, 0), (1, 1)))(x).numpy(), x[:, 1:, 1:2, :])
    bilinear = layers.UpSampling2D(2, interpolation="bilinear", dtype="float64")(x)
    assert bilinear.dtype == np.float64
    np.testing.assert_allclose(bilinear.numpy()[0, 0, :, 0], [0, 1, 3, 5, 7, 8])  # [0, 4, 8] x2


def test_crop_of_a_pad_is_the_identity_and_gradients_flow():
    x = minidl.Tensor(np.random.default_rng(0).normal(size=(2, 3, 4, 2)), requires_grad=True)
    edges = ((1, 2), (3, 0))
    y = layers.Cropping2D(edges, dtype="float64")(layers.ZeroPadding2D(edges, dtype="float64")(x))
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(x.shape))


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.UpSampling2D(0), ValueError, ["upsampling2d", "size", "received 0"]),
    (lambda: layers.UpSampling2D((2, 2, 2)), ValueError, ["upsampling2d", "size", "(2, 2, 2)"]),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), ValueError,
     ["upsampling2d", "interpolation", "'bicubic'", "nearest", "bilinear"]),
    (lambda: layers.UpSampling2D(data_format="NCHW"), ValueError, ["data_format", "channels_last"]),
    (lambda: layers.ZeroPadding2D(-1), ValueError, ["zeropadding2d", "padding", "-1", "non-negative"]),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), ValueError, ["padding", "(1, 2, 3)", "(top, bottom)"]),
    (lambda: layers.ZeroPadding2D(((1, 2), 3)), ValueError, ["padding", "((1, 2), 3)"]),
    (lambda: layers.ZeroPadding2D(1.5), ValueError, ["padding", "1.5"]),
    (lambda: layers.Cropping2D(((1, -2), (0, 0))), ValueError, ["cropping2d", "cropping", "-2"]),
    (lambda: layers.Cropping2D("a"), ValueError, ["cropping", "'a'"]),
    (lambda: minidl.Sequential([minidl.Input((4, 3, 1)), layers.Cropping2D(((2, 2), (1, 1)))]),
     ValueError, ["cropping2d", "leaves nothing", "(4, 3)", "crop less"]),
    (lambda: layers.UpSampling2D()(np.ones((2, 4, 4))), ValueError,
     ["up_sampling2d", "(none, height, width, channels)", "(2, 4, 4)"]),
    (lambda: layers.ZeroPadding2D()(np.ones((2, 4))), ValueError, ["zero_padding2d", "(2, 4)"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


def autoencoder():
    """A convolutional autoencoder: strided convolutions down, transposed convolutions
    and upsampling back, padding and cropping to fit the sizes."""
    return minidl.Sequential([
        minidl.Input(shape=(14, 14, 1)),
        layers.ZeroPadding2D(1),                                             # 16x16
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),  # 8x8
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),  # 4x4
        layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),  # 8x8
        layers.UpSampling2D(2, interpolation="bilinear"),                   # 16x16
        layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        layers.Cropping2D(1),                                               # 14x14
    ], name="autoencoder")


def test_autoencoder_summary_as_keras_prints_it():
    """tf_keras 2's table for the same model (totals in Keras 2.x's tutorial format)."""
    lines = []
    autoencoder().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines] == [
        'Model: "autoencoder"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " zero_padding2d (ZeroPaddin  (None, 16, 16, 1)         0",
        " g2D)", "",
        " conv2d (Conv2D)             (None, 8, 8, 8)           80", "",
        " conv2d_1 (Conv2D)           (None, 4, 4, 4)           292", "",
        " conv2d_transpose (Conv2DTr  (None, 8, 8, 8)           296",
        " anspose)", "",
        " up_sampling2d (UpSampling2  (None, 16, 16, 8)         0",
        " D)", "",
        " conv2d_2 (Conv2D)           (None, 16, 16, 1)         73", "",
        " cropping2d (Cropping2D)     (None, 14, 14, 1)         0", "",
        "=" * 65,
        "Total params: 741", "Trainable params: 741", "Non-trainable params: 0",
    ]


def test_autoencoder_trains_one_epoch_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = autoencoder()
    x = np.random.default_rng(0).random((32, 14, 14, 1)).astype(np.float32)
    model.compile("adam", "mse")
    before = model.evaluate(x, x, verbose=0)
    history = model.fit(x, x, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and model.evaluate(x, x, verbose=0) < before
    model.save(tmp_path / "autoencoder.mdl")
    loaded = load_model(tmp_path / "autoencoder.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]
