"""Identity, AlphaDropout and UnitNormalization as in tf_keras 2.21: values (literals
from tf_keras), statistics, masks, gradients, configs, save/load and bad arguments.
(A tf_keras .h5 file holding all three loads in test_layers_locally_connected.py.)"""

import json
import pathlib
import warnings
import zipfile

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.testing import gradcheck

SMALL = pathlib.Path(__file__).parent / "fixtures" / "small_keras2"


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def round_trip(layer):
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer) and copy.get_config() == layer.get_config()
    return copy


# --- Identity --------------------------------------------------------------------------
def test_identity_passes_its_input_through_and_its_gradient_back():
    x = minidl.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = layers.Identity()(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 3.0))
    layer = layers.Identity(name="skip")
    assert layer.get_config() == {"name": "skip", "trainable": True, "dtype": "float32"}
    round_trip(layer)
    assert layers.Identity().compute_output_shape((None, 4, 5)) == (None, 4, 5)


def test_identity_stops_a_mask_as_tf_keras_2():
    """tf_keras 2.21's Identity has supports_masking=False: Embedding(mask_zero=True) ->
    Identity -> LSTM runs the LSTM over the padded steps too (checked there: the output
    differs from the masked LSTM's and equals the unmasked one's)."""
    def lstm_after(embedding, *between):
        minidl.utils.set_random_seed(0)
        net = minidl.Sequential([layers.Input((4,), dtype="int32"), embedding, *between,
                                 layers.LSTM(2)])
        net.layers[0].set_weights([np.linspace(-1, 1, 30).reshape(10, 3)])
        return net.predict(np.array([[1, 2, 0, 0]]), verbose=0)

    masked = lstm_after(layers.Embedding(10, 3, mask_zero=True))
    unmasked = lstm_after(layers.Embedding(10, 3))
    through = lstm_after(layers.Embedding(10, 3, mask_zero=True), layers.Identity())
    np.testing.assert_allclose(through, unmasked, rtol=1e-6)
    assert not np.allclose(through, masked)


# --- AlphaDropout ----------------------------------------------------------------------
# tf_keras 2.21, AlphaDropout(rate)(x, training=True) for x in (2, -1, 0, 3): a kept
# value becomes a * x + b, a dropped one a * alpha' + b whatever it was
KERAS_KEPT = {0.5: [2.5520036, -0.10721093, 0.77919394, 3.4384084],
              0.1: [2.00454, -0.7593135, 0.16197097, 2.9258246]}
KERAS_DROPPED = {0.5: -0.7791938, 0.1: -1.4577386}


@pytest.mark.parametrize("rate", [0.5, 0.1])
def test_alpha_dropout_values_as_tf_keras(rate):
    x = np.tile(np.array([2.0, -1.0, 0.0, 3.0], np.float32), (500, 1))
    y = layers.AlphaDropout(rate, seed=1)(x, training=True).numpy()
    dropped = np.isclose(y, KERAS_DROPPED[rate], atol=1e-6)
    kept = np.isclose(y, np.array(KERAS_KEPT[rate], np.float32), atol=1e-6)
    assert (dropped | kept).all()
    assert abs(dropped.mean() - rate) < 0.03


def test_alpha_dropout_keeps_mean_and_variance_of_a_selu_normalised_input():
    rng = np.random.default_rng(0)
    x = minidl.ops.selu(rng.standard_normal((1000, 1000)).astype(np.float32)).numpy()
    assert abs(x.mean()) < 0.01 and abs(x.var() - 1) < 0.01  # SELU's fixed point
    for rate in (0.05, 0.2, 0.5):
        y = layers.AlphaDropout(rate, seed=3)(x, training=True).numpy()
        assert y.dtype == np.float32
        assert abs(y.mean() - x.mean()) < 0.01 and abs(y.var() - x.var()) < 0.01
        assert abs((y == y.min()).mean() - rate) < 0.01  # the dropped share the lowest value


def test_alpha_dropout_is_the_identity_at_inference_and_at_rate_0():
    x = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_array_equal(layers.AlphaDropout(0.3)(x).numpy(), x)
    np.testing.assert_array_equal(layers.AlphaDropout(0.3)(x, training=False).numpy(), x)
    np.testing.assert_array_equal(layers.AlphaDropout(0.0)(x, training=True).numpy(), x)


def test_alpha_dropout_gradient_noise_shape_seed_and_config():
    x = minidl.Tensor(np.ones((6, 3, 4)), requires_grad=True)
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1, 4), seed=2)
    y = layer(x, training=True)
    y.sum().backward()
    kept = x.grad > 0
    a = KERAS_KEPT[0.5][0] - KERAS_KEPT[0.5][2]  # 2a + b - (0a + b), over 2
    np.testing.assert_allclose(x.grad[kept], a / 2, rtol=1e-6)  # dy/dx = a * kept
    np.testing.assert_array_equal(kept, np.broadcast_to(kept[:, :1], kept.shape))  # shared
    first = layers.AlphaDropout(0.4, seed=7)(np.ones((3, 8)), training=True).numpy()
    again = layers.AlphaDropout(0.4, seed=7)(np.ones((3, 8)), training=True).numpy()
    np.testing.assert_array_equal(first, again)
    layer = layers.AlphaDropout(0.2, seed=3)
    assert layer.get_config() == {"name": "alpha_dropout_3", "trainable": True,
                                  "dtype": "float32", "rate": 0.2, "seed": 3}  # as tf_keras
    round_trip(layer)
    assert round_trip(layers.AlphaDropout(0.2, noise_shape=(None, 1))).noise_shape == (None, 1)
    assert layers.AlphaDropout.supports_masking


def test_alpha_dropout_float64_gradient_against_finite_differences():
    layer = layers.AlphaDropout(0.3, seed=4, dtype="float64")
    x = np.random.default_rng(2).normal(size=(3, 5))

    def fn(x):
        layer._generator = np.random.default_rng(4)  # the same mask in every evaluation
        return layer(x, training=True)

    assert gradcheck(fn, [x])


# --- UnitNormalization -----------------------------------------------------------------
X = (np.arange(12, dtype=np.float32).reshape(2, 2, 3) - 5) * 0.5
KERAS_UNIT = {  # tf_keras 2.21: UnitNormalization(axis=...)(X)
    -1: [[[-0.70710683, -0.56568539, -0.42426401], [-0.89442718, -0.44721359, 0.0]],
         [[0.26726121, 0.53452241, 0.80178368], [0.45584229, 0.56980288, 0.6837635]]],
    (1, 2): [[[-0.6742, -0.53936, -0.40452], [-0.26968, -0.13484, 0.0]],
             [[0.1048285, 0.209657, 0.3144854], [0.41931391, 0.52414238, 0.6289708]]],
    0: [[[-0.98058069, -0.89442718, -0.70710683], [-0.44721359, -0.1961161, 0.0]],
        [[0.1961161, 0.44721359, 0.70710683], [0.89442718, 0.98058069, 1.0]]],
    (0, 2): [[[-0.625, -0.5, -0.375], [-0.220863, -0.1104315, 0.0]],
             [[0.125, 0.25, 0.375], [0.44172609, 0.55215758, 0.66258919]]],
}


@pytest.mark.parametrize("axis", KERAS_UNIT, ids=str)
def test_unit_normalization_as_tf_keras(axis):
    layer = layers.UnitNormalization(axis=list(axis) if isinstance(axis, tuple) else axis)
    np.testing.assert_allclose(layer(X).numpy(), KERAS_UNIT[axis], atol=1e-6)


def test_unit_normalization_epsilon_zeros_integers_and_config():
    y = layers.UnitNormalization()(np.array([[0, 0, 0], [1e-7, 0, 0]], np.float32)).numpy()
    np.testing.assert_allclose(y, [[0, 0, 0], [0.1, 0, 0]], rtol=1e-6)  # sqrt(1e-12) = 1e-6
    y = layers.UnitNormalization()(np.array([[1, 2]], np.int32)).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.4472136, 0.8944272]], rtol=1e-6)
    assert layers.UnitNormalization().get_config()["axis"] == -1
    layer = round_trip(layers.UnitNormalization(axis=(1, 2)))
    assert layer.get_config()["axis"] == [1, 2]  # a list, as tf_keras
    assert layers.UnitNormalization.supports_masking


@pytest.mark.parametrize("axis", [-1, [1, 2], 0])
def test_unit_normalization_float64_gradients(axis):
    layer = layers.UnitNormalization(axis=axis, dtype="float64")
    x = np.random.default_rng(3).normal(size=(2, 3, 4))
    assert gradcheck(lambda x: layer(x), [x])


def test_unit_normalization_against_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(size=(3, 4, 5))
    mine = minidl.Tensor(x, requires_grad=True)
    y = layers.UnitNormalization(axis=1, dtype="float64")(mine)
    twin = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.normalize(twin, dim=1, eps=1e-6)
    weights = np.random.default_rng(5).normal(size=x.shape)
    (y * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.grad, twin.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- together --------------------------------------------------------------------------
def test_in_a_trained_saved_and_loaded_model(tmp_path):
    minidl.utils.set_random_seed(0)
    net = minidl.Sequential([
        layers.Input((6,)), layers.Dense(8, activation="selu"),
        layers.AlphaDropout(0.1, seed=1), layers.Identity(), layers.Dense(4),
        layers.UnitNormalization(), layers.Dense(1)])
    x = np.random.default_rng(6).normal(size=(64, 6)).astype(np.float32)
    y = np.tanh(x[:, :1])
    net.compile(minidl.optimizers.Adam(0.01), "mse")
    history = net.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    lines = []
    net.summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines]
    for row in (" alpha_dropout (AlphaDropou  (None, 8)                 0",  # as tf_keras 2.21
                " identity (Identity)         (None, 8)                 0",
                " unit_normalization (UnitNo  (None, 4)                 0"):
        assert row in rows
    net.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in net.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), net.predict(x, verbose=0))


def test_keras_3_files_both_ways(tmp_path):
    """Keras 3's .keras file of the three loads (tests/fixtures/small_keras2); minidl
    writes AlphaDropout and UnitNormalization in Keras 3's form (Keras 3.15 loads that
    file and predicts the same), while Identity, whose Keras 3 twin passes masks on,
    is written in minidl's own layout with a warning."""
    pytest.importorskip("h5py")
    stored = np.load(SMALL / "files.npz")
    net = load_model(SMALL / "keras3.keras")
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "AlphaDropout", "Identity", "UnitNormalization", "Dense"]
    assert net.layers[1].get_config()["seed"] == 3 and net.layers[3].axis == [1]
    np.testing.assert_allclose(net.predict(stored["x"], verbose=0), stored["keras3"], atol=1e-6)
    with pytest.warns(UserWarning, match=r'"identity" is a Identity, which this writer does not'):
        net.save(tmp_path / "with_identity.keras")
    writable = minidl.Sequential([layers.Input((6,)), layers.AlphaDropout(0.2, seed=3),
                                  layers.UnitNormalization(axis=[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        writable.save(tmp_path / "writable.keras")
    with zipfile.ZipFile(tmp_path / "writable.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert [(entry["class_name"], entry["module"]) for entry in config["config"]["layers"][1:]] \
        == [("AlphaDropout", "keras.layers"), ("UnitNormalization", "keras.layers")]
    x = stored["x"]
    np.testing.assert_array_equal(load_model(tmp_path / "writable.keras").predict(x, verbose=0),
                                  writable.predict(x, verbose=0))


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.AlphaDropout(1.0), ValueError, ["alphadropout", "rate", "received 1.0"]),
    (lambda: layers.AlphaDropout(-0.1), ValueError, ["rate", "-0.1"]),
    (lambda: layers.AlphaDropout("0.5"), ValueError, ["rate", "'0.5'"]),
    (lambda: layers.AlphaDropout(0.5, noise_shape=(None, 0)), ValueError, ["noise_shape"]),
    (lambda: layers.AlphaDropout(0.5, noise_shape=(None, 2))(np.ones((3, 4)), training=True),
     ValueError, ["alpha_dropout", "noise_shape (none, 2)", "(3, 4)"]),
    (lambda: layers.AlphaDropout(0.5, seed=-1), ValueError, ["seed"]),
    (lambda: layers.UnitNormalization(axis="a"), TypeError,
     ["unit_normalization", "axis", "'a'"]),
    (lambda: layers.UnitNormalization(axis=1.5), TypeError, ["axis", "1.5"]),
    (lambda: layers.UnitNormalization(axis=3)(np.ones((2, 3))), ValueError,
     ["unit_normalization", "0 <= axis < inputs.rank", "inputs.rank=2", "axis=3"]),
    (lambda: layers.UnitNormalization(axis=[1, -1])(np.ones((2, 3))), ValueError,
     ["duplicate axis", "(1, 1)"]),
    (lambda: minidl.Sequential([layers.Input((3,)), layers.UnitNormalization(axis=2)]),
     ValueError, ["unit_normalization", "axis=2"]),
    (lambda: layers.Identity(units=3), TypeError, ["identity", "units"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message
