"""SpatialDropout1D, ZeroPadding1D, UpSampling1D, Cropping1D: Keras 2's (tf_keras 2.21)
arguments, shapes, configs, values and masks; float64 gradients; summary; saving."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


# (layer, input shape, output shape) as tf_keras 2.21's compute_output_shape gives them
KERAS_SHAPES = [
    (lambda: layers.SpatialDropout1D(0.5), (None, 5, 3), (None, 5, 3)),
    (lambda: layers.SpatialDropout1D(0.5), (None, None, 3), (None, None, 3)),
    (lambda: layers.ZeroPadding1D(), (None, 5, 3), (None, 7, 3)),
    (lambda: layers.ZeroPadding1D((2, 0)), (None, 5, 3), (None, 7, 3)),
    (lambda: layers.ZeroPadding1D(), (None, None, 3), (None, None, 3)),
    (lambda: layers.UpSampling1D(), (None, 5, 3), (None, 10, 3)),
    (lambda: layers.UpSampling1D(3), (None, None, 3), (None, None, 3)),
    (lambda: layers.Cropping1D(), (None, 5, 3), (None, 3, 3)),
    (lambda: layers.Cropping1D((0, 2)), (None, 5, 3), (None, 3, 3)),
    (lambda: layers.Cropping1D((2, 3)), (None, None, 3), (None, None, 3)),
]


@pytest.mark.parametrize("make, input_shape, output_shape", KERAS_SHAPES)
def test_shapes_as_in_keras(make, input_shape, output_shape):
    layer = make()
    assert layer.compute_output_shape(input_shape) == output_shape
    assert layer(minidl.Input(input_shape[1:])).shape == output_shape
    x = np.ones((2, *(8 if d is None else d for d in input_shape[1:])), np.float32)
    called = layer(x).shape
    assert called[0] == 2 and called[2] == 3
    assert layer.count_params() == 0 and layer.weights == []


def test_defaults_and_configs_as_in_keras():
    """tf_keras 2.21: padding (1, 1), size 2, cropping (1, 1); rate, noise_shape, seed."""
    expected = {
        layers.ZeroPadding1D(): {"padding": (1, 1)},
        layers.UpSampling1D(): {"size": 2},
        layers.Cropping1D(): {"cropping": (1, 1)},
        layers.SpatialDropout1D(0.5): {"rate": 0.5, "noise_shape": None, "seed": None},
        layers.ZeroPadding1D([1, 2]): {"padding": (1, 2)},
        layers.Cropping1D(2): {"cropping": (2, 2)},
        layers.SpatialDropout1D(0.3, seed=3): {"rate": 0.3, "noise_shape": None, "seed": 3},
    }
    for layer, keys in expected.items():
        config = layer.get_config()
        assert {key: config[key] for key in keys} == keys
        assert type(layer).from_config(config).get_config() == config
        copy = layers.deserialize(layers.serialize(layer))
        assert type(copy) is type(layer) and copy.get_config() == config


# tf_keras 2.21's serialized layers (what a Keras 2 model file holds)
KERAS_CONFIGS = [
    {"class_name": "SpatialDropout1D", "config": {"name": "spatial_dropout1d", "trainable": True,
     "dtype": "float32", "rate": 0.25, "noise_shape": None, "seed": 2}},
    {"class_name": "ZeroPadding1D", "config": {"name": "zero_padding1d", "trainable": True,
     "dtype": "float32", "padding": (2, 0)}},
    {"class_name": "UpSampling1D", "config": {"name": "up_sampling1d", "trainable": True,
     "dtype": "float32", "size": 3}},
    {"class_name": "Cropping1D", "config": {"name": "cropping1d", "trainable": True,
     "dtype": "float32", "cropping": (0, 2)}},
]


@pytest.mark.parametrize("serialized", KERAS_CONFIGS, ids=lambda c: c["class_name"])
def test_keras_configs_load(serialized):
    layer = layers.deserialize(serialized)
    assert type(layer).__name__ == serialized["class_name"]
    config = layer.get_config()
    for key, value in serialized["config"].items():
        assert config[key] == value, key


def test_sequences_of_any_length():
    """Input((None, 3)): the same model on sequences of 7 and of 12 steps."""
    inputs = minidl.Input((None, 3))
    x = layers.ZeroPadding1D((2, 1))(inputs)
    x = layers.UpSampling1D(2)(x)
    x = layers.Cropping1D((1, 1))(x)
    x = layers.SpatialDropout1D(0.3)(x)
    model = minidl.Model(inputs, layers.GlobalMaxPooling1D()(layers.Conv1D(4, 3)(x)))
    assert model.layers[3].output.shape == (None, None, 3)
    for steps in (7, 12):
        assert model.predict(np.ones((2, steps, 3), np.float32), verbose=0).shape == (2, 4)


X = np.arange(24, dtype=np.float32).reshape(2, 4, 3)


def test_values_as_keras_gives_them():
    """tf_keras 2.21's outputs for X = arange(24).reshape(2, 4, 3)."""
    np.testing.assert_array_equal(layers.ZeroPadding1D((1, 2))(X).numpy(), [
        [[0, 0, 0], [0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [12, 13, 14], [15, 16, 17], [18, 19, 20], [21, 22, 23], [0, 0, 0],
         [0, 0, 0]]])
    np.testing.assert_array_equal(layers.UpSampling1D(3)(X).numpy(), [
        [[0, 1, 2]] * 3 + [[3, 4, 5]] * 3 + [[6, 7, 8]] * 3 + [[9, 10, 11]] * 3,
        [[12, 13, 14]] * 3 + [[15, 16, 17]] * 3 + [[18, 19, 20]] * 3 + [[21, 22, 23]] * 3])
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(X).numpy(),
                                  [[[3, 4, 5]], [[15, 16, 17]]])
    np.testing.assert_array_equal(layers.SpatialDropout1D(0.5)(X).numpy(), X)  # inference


def test_spatial_dropout_drops_whole_channels_while_training():
    layer = layers.SpatialDropout1D(0.5, seed=3)
    y = layer(np.ones((64, 5, 8), np.float32), training=True).numpy()
    assert (y == y[:, :1]).all()  # one draw per sample and channel, shared by all steps
    assert set(np.unique(y)) == {0.0, 2.0}
    assert 0.35 < (y[:, 0] == 0).mean() < 0.65
    np.testing.assert_array_equal(layers.SpatialDropout1D(0.0)(X, training=True).numpy(), X)


@pytest.mark.parametrize("make", [
    lambda: layers.ZeroPadding1D((2, 1), dtype="float64"),
    lambda: layers.UpSampling1D(3, dtype="float64"),
    lambda: layers.Cropping1D((1, 2), dtype="float64"),
    # a new layer with the same seed for every evaluation: the same channels dropped
    lambda: layers.SpatialDropout1D(0.4, seed=5, dtype="float64"),
])
def test_gradcheck_float64(make):
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    assert gradcheck(lambda t: make()(t, training=True), [x])


# tf_keras 2.21: Embedding(10, 3, mask_zero=True) -> layer -> LSTM(2), with these weights.
# SpatialDropout1D passes the mask on (the LSTM skips the padding: the same numbers as
# without the layer); the other three drop it (the LSTM reads the padded steps too).
EMB = np.arange(30, dtype=np.float32).reshape(10, 3) / 30 - 0.5
LSTM_WEIGHTS = [np.linspace(-1, 1, 24, dtype=np.float32).reshape(3, 8),
                np.linspace(1, -1, 16, dtype=np.float32).reshape(2, 8),
                np.linspace(-0.5, 0.5, 8, dtype=np.float32)]
PADDED = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
KERAS_MASKED_LSTM = {
    "spatial_dropout": [[0.026827072724699974, 0.05269693583250046],
                        [0.03516906127333641, 0.09721128642559052]],
    "zero_padding": [[0.025293337181210518, 0.06870339065790176],
                     [0.021502302959561348, 0.07263188064098358]],
    "up_sampling": [[0.024269551038742065, 0.03307793661952019],
                    [0.0183740071952343, 0.036813702434301376]],
    "cropping": [[0.022335054352879524, 0.03687741607427597],
                 [0.03516906127333641, 0.09721128642559052]],
}
MIDDLE = {
    "spatial_dropout": lambda: layers.SpatialDropout1D(0.5),
    "zero_padding": lambda: layers.ZeroPadding1D((0, 1)),
    "up_sampling": lambda: layers.UpSampling1D(2),
    "cropping": lambda: layers.Cropping1D((0, 1)),
}


@pytest.mark.parametrize("name", sorted(MIDDLE))
def test_masks_as_keras(name):
    inputs = minidl.Input((None,))
    embedding, lstm = layers.Embedding(10, 3, mask_zero=True), layers.LSTM(2)
    model = minidl.Model(inputs, lstm(MIDDLE[name]()(embedding(inputs))))
    embedding.set_weights([EMB])
    lstm.set_weights(LSTM_WEIGHTS)
    np.testing.assert_allclose(model.predict(PADDED, verbose=0), KERAS_MASKED_LSTM[name],
                               rtol=1e-5, atol=1e-6)
    mask = np.array([[True, False, True, True]])
    x = np.ones((1, 4, 3), np.float32)
    x[0, 1] = 0
    masked = layers.Masking()(x)  # (an explicit mask= is a TypeError for these, as in Keras 2)
    np.testing.assert_array_equal(masked._keras_mask, mask)
    out = MIDDLE[name]()(masked)
    if name == "spatial_dropout":
        np.testing.assert_array_equal(out._keras_mask, mask)
    else:
        assert getattr(out, "_keras_mask", None) is None


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.ZeroPadding1D(-1), ValueError,
     ["zeropadding1d", "padding", "non-negative", "received -1"]),
    (lambda: layers.ZeroPadding1D((1, 2, 3)), ValueError, ["padding", "(left, right)", "(1, 2, 3)"]),
    (lambda: layers.ZeroPadding1D(1.5), ValueError, ["padding", "1.5"]),
    (lambda: layers.ZeroPadding1D("a"), ValueError, ["padding", "'a'"]),
    (lambda: layers.Cropping1D((1, -2)), ValueError, ["cropping1d", "cropping", "(1, -2)"]),
    (lambda: layers.Cropping1D(True), ValueError, ["cropping", "true"]),
    (lambda: layers.UpSampling1D(0), ValueError, ["upsampling1d", "size", "positive", "0"]),
    (lambda: layers.UpSampling1D(-1), ValueError, ["size", "-1"]),
    (lambda: layers.UpSampling1D(1.5), ValueError, ["size", "1.5"]),
    (lambda: layers.UpSampling1D("2"), ValueError, ["size", "'2'"]),
    (lambda: layers.SpatialDropout1D(1.5), ValueError, ["spatialdropout1d", "rate", "[0, 1)"]),
    (lambda: layers.SpatialDropout1D(-0.1), ValueError, ["rate", "-0.1"]),
    (lambda: layers.SpatialDropout1D("a"), ValueError, ["rate", "'a'"]),
    (lambda: layers.SpatialDropout1D(0.3, noise_shape=(1, 1, 1)), ValueError,
     ["noise_shape is fixed to (batch, 1, channels)"]),
    (lambda: minidl.Sequential([minidl.Input((5, 3)), layers.Cropping1D((2, 3))]), ValueError,
     ["cropping1d", "leaves nothing", "5 steps", "(none, 5, 3)", "crop less"]),
    (lambda: layers.Cropping1D((2, 2))(np.ones((2, 4, 3), np.float32)), ValueError,
     ["cropping1d", "leaves nothing", "4 steps"]),
    (lambda: layers.ZeroPadding1D()(minidl.Input((4,))), ValueError,
     ["zero_padding1d", "(none, steps, channels)", "(none, 4)", "reshape"]),
    (lambda: layers.UpSampling1D()(np.ones((2, 4, 3, 1), np.float32)), ValueError,
     ["up_sampling1d", "(none, steps, channels)", "(2, 4, 3, 1)"]),
    (lambda: layers.Cropping1D()(minidl.Input((4, 3, 2))), ValueError, ["cropping1d", "(none, 4, 3, 2)"]),
    (lambda: layers.SpatialDropout1D(0.5)(minidl.Input((4,))), ValueError,
     ["spatial_dropout1d", "(batch, steps, channels)", "(none, 4)"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


def sequence_model():
    return minidl.Sequential([
        minidl.Input((6, 2)),
        layers.ZeroPadding1D(2),        # 10 steps
        layers.UpSampling1D(2),         # 20
        layers.Cropping1D((1, 3)),      # 16
        layers.SpatialDropout1D(0.2),
        layers.Conv1D(3, 2),            # 15
    ], name="sequential")


def test_summary_as_keras_prints_it():
    """tf_keras 2.21's table for the same model (totals in Keras 2.x's tutorial format)."""
    lines = []
    sequence_model().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines] == [
        'Model: "sequential"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " zero_padding1d (ZeroPaddin  (None, 10, 2)             0",
        " g1D)", "",
        " up_sampling1d (UpSampling1  (None, 20, 2)             0",
        " D)", "",
        " cropping1d (Cropping1D)     (None, 16, 2)             0", "",
        " spatial_dropout1d (Spatial  (None, 16, 2)             0",
        " Dropout1D)", "",
        " conv1d (Conv1D)             (None, 15, 3)             15", "",
        "=" * 65,
        "Total params: 15", "Trainable params: 15", "Non-trainable params: 0",
    ]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = sequence_model()
    x = np.random.default_rng(0).random((16, 6, 2)).astype(np.float32)
    y = np.random.default_rng(1).random((16, 15, 3)).astype(np.float32)
    model.compile("adam", "mse")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    model.save(tmp_path / "sequence.mdl")
    loaded = load_model(tmp_path / "sequence.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]
