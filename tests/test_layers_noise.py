"""Noise and regularization layers: Dropout(noise_shape), SpatialDropout2D, SpatialDropout3D,
GaussianNoise, GaussianDropout, ActivityRegularization."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def assert_config_round_trip(layer):
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer)
    assert copy.get_config() == layer.get_config()


# --- Dropout(noise_shape) -----------------------------------------------------------
def test_dropout_noise_shape_shares_the_mask_along_size_one_axes():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 3), seed=0)
    y = np.asarray(layer(np.ones((64, 4, 3), np.float32), training=True))
    assert set(np.unique(y)) == {0.0, 2.0}
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))  # the same for all 4 steps
    assert 0.35 < (y == 0).mean() < 0.65
    np.testing.assert_array_equal(np.asarray(layer(np.ones((2, 4, 3)))), np.ones((2, 4, 3)))  # inference


def test_dropout_noise_shape_gradient_config_and_errors():
    x = minidl.Tensor(np.ones((8, 5)), requires_grad=True)
    y = layers.Dropout(0.5, noise_shape=(8, 1), seed=1)(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # x = 1: the gradient is the mask
    layer = layers.Dropout(0.3, noise_shape=(None, 1, 4), seed=2)
    assert layer.get_config()["noise_shape"] == (None, 1, 4)  # as tf_keras 2.21
    assert_config_round_trip(layer)
    with pytest.raises(ValueError, match=r'Dropout layer "dropout_\d+": noise_shape must be a tuple'):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"noise_shape \(None, 2\) does not fit inputs of shape \(3, 4\)"):
        layers.Dropout(0.5, noise_shape=(None, 2))(np.ones((3, 4)), training=True)
    with pytest.raises(ValueError, match="one entry per axis"):
        layers.Dropout(0.5, noise_shape=(None, 1, 1))(np.ones((3, 4)), training=True)


# --- SpatialDropout2D ---------------------------------------------------------------
def test_spatial_dropout_drops_whole_channels():
    layer = layers.SpatialDropout2D(0.5, seed=3)
    y = np.asarray(layer(np.ones((32, 3, 4, 8), np.float32), training=True))
    per_map = y.reshape(32, 12, 8)
    assert (per_map == per_map[:, :1]).all()          # one value per image and channel
    assert set(np.unique(per_map)) == {0.0, 2.0}
    assert 0.35 < (per_map[:, 0] == 0).mean() < 0.65
    np.testing.assert_array_equal(np.asarray(layer(np.ones((2, 3, 4, 8)))), np.ones((2, 3, 4, 8)))


def test_spatial_dropout_config_shapes_and_errors():
    layer = layers.SpatialDropout2D(0.3, seed=4)
    # tf_keras: {'rate': 0.3, 'noise_shape': None, 'seed': None, ...}
    assert {k: layer.get_config()[k] for k in ("rate", "noise_shape", "seed")} == {
        "rate": 0.3, "noise_shape": None, "seed": 4}
    assert_config_round_trip(layer)
    with pytest.raises(ValueError, match=r"expects images of shape .* received input shape \(None, 4, 5\)"):
        minidl.Sequential([minidl.Input((4, 5)), layers.SpatialDropout2D(0.5)])
    with pytest.raises(ValueError, match='must be "channels_last" or "channels_first". Received: '
                                         'data_format=NCHW'):
        layers.SpatialDropout2D(0.5, data_format="NCHW")
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        layers.SpatialDropout2D(1.0)


def test_spatial_dropout_3d_drops_whole_channels_of_volumes(tmp_path):
    layer = layers.SpatialDropout3D(0.5, seed=5)
    y = np.asarray(layer(np.ones((32, 2, 3, 4, 8), np.float32), training=True))
    per_map = y.reshape(32, 24, 8)
    assert (per_map == per_map[:, :1]).all()          # one value per volume and channel
    assert set(np.unique(per_map)) == {0.0, 2.0}
    assert 0.35 < (per_map[:, 0] == 0).mean() < 0.65
    x = np.arange(2 * 2 * 3 * 4 * 8, dtype=np.float32).reshape(2, 2, 3, 4, 8)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)  # inference: unchanged
    # tf_keras 2.21: {'name': 'spatial_dropout3d', 'trainable': True, 'dtype': 'float32',
    #                 'rate': 0.3, 'noise_shape': None, 'seed': None}
    layers.reset_names()
    assert layers.SpatialDropout3D(0.3).get_config() == {
        "name": "spatial_dropout3d", "trainable": True, "dtype": "float32", "rate": 0.3,
        "noise_shape": None, "seed": None}
    assert_config_round_trip(layers.SpatialDropout3D(0.25, seed=1))
    # tf_keras: 'expected ndim=5, found ndim=4'
    with pytest.raises(ValueError, match=r"expects volumes of shape .* received input shape"):
        minidl.Sequential([minidl.Input((3, 4, 5)), layers.SpatialDropout3D(0.5)])
    with pytest.raises(ValueError, match='must be "channels_last" or "channels_first"'):
        layers.SpatialDropout3D(0.5, data_format="NCDHW")
    with pytest.raises(ValueError, match="noise_shape is fixed"):
        layers.SpatialDropout3D(0.5, noise_shape=(None, 1, 1, 1, 8))
    model = minidl.Sequential([minidl.Input((2, 3, 4, 2)), layers.SpatialDropout3D(0.5),
                               layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2, 3, 4, 2)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = load_model(tmp_path / "m.mdl")
    assert type(loaded.layers[0]) is layers.SpatialDropout3D
    np.testing.assert_allclose(loaded.predict(x[:, :, :, :, :2], verbose=0),
                               model.predict(x[:, :, :, :, :2], verbose=0))


# --- GaussianNoise and GaussianDropout -----------------------------------------------
def test_gaussian_noise_adds_noise_of_the_given_stddev_while_training():
    layer = layers.GaussianNoise(0.5, seed=5)
    x = np.full((200, 100), 3.0, np.float32)
    y = np.asarray(layer(x, training=True))
    assert y.dtype == np.float32
    assert abs(y.mean() - 3.0) < 0.01 and abs(y.std() - 0.5) < 0.01
    np.testing.assert_array_equal(np.asarray(layer(x)), x)  # a direct call is inference, as in tf_keras
    g = minidl.Tensor(np.ones((2, 3)), requires_grad=True)
    layer(g, training=True).sum().backward()
    np.testing.assert_array_equal(g.grad, np.ones((2, 3), np.float32))


def test_gaussian_dropout_multiplies_by_noise_around_one():
    rate = 0.2
    layer = layers.GaussianDropout(rate, seed=6)
    x = minidl.Tensor(np.full((200, 100), 2.0), requires_grad=True)
    y = layer(x, training=True)
    noise = y.data / 2.0
    assert abs(noise.mean() - 1.0) < 0.01
    assert abs(noise.std() - np.sqrt(rate / (1 - rate))) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad, noise, rtol=1e-6)  # d(x * e)/dx = e
    np.testing.assert_array_equal(np.asarray(layer(np.ones((2, 2)))), np.ones((2, 2)))


def test_seeds_make_the_noise_repeatable():
    x = np.zeros((4, 5), np.float32)
    first = np.asarray(layers.GaussianNoise(1.0, seed=7)(x, training=True))
    second = np.asarray(layers.GaussianNoise(1.0, seed=7)(x, training=True))
    np.testing.assert_array_equal(first, second)
    minidl.utils.set_random_seed(8)
    a = np.asarray(layers.GaussianDropout(0.5)(x + 1, training=True))
    minidl.utils.set_random_seed(8)
    b = np.asarray(layers.GaussianDropout(0.5)(x + 1, training=True))
    np.testing.assert_array_equal(a, b)


def test_gaussian_layers_float64_config_and_errors():
    y = layers.GaussianNoise(0.1, dtype="float64")(np.zeros((2, 2)), training=True)
    assert y.dtype == np.float64
    for layer in (layers.GaussianNoise(0.1, seed=1), layers.GaussianDropout(0.4)):
        assert_config_round_trip(layer)
    assert layers.GaussianNoise(0.1).get_config()["stddev"] == 0.1
    with pytest.raises(ValueError, match=r'GaussianNoise layer "gaussian_noise_\d+": stddev must be a '
                                         r"non-negative number, received -1"):
        layers.GaussianNoise(-1)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\), received 1"):
        layers.GaussianDropout(1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        layers.GaussianNoise(0.1, seed="abc")


# --- ActivityRegularization ---------------------------------------------------------
def test_activity_regularization_adds_the_penalty_per_sample():
    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    # tf_keras gives 0.68333334: (0.1 * 15 + 0.01 * 55) / 3, divided by the batch size
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), 0.68333334, rtol=1e-6)


def test_activity_regularization_counts_in_fit_and_evaluate():
    x = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    model = minidl.Sequential([minidl.Input((2,)), layers.ActivityRegularization(l1=0.5, l2=0.25),
                               layers.Dense(1, kernel_initializer="zeros")])
    model.compile("sgd", "mse")
    penalty = (0.5 * np.abs(x).sum() + 0.25 * (x ** 2).sum()) / 2
    np.testing.assert_allclose(model.evaluate(x, np.zeros((2, 1)), verbose=0), penalty, rtol=1e-6)
    history = model.fit(x, np.zeros((2, 1)), batch_size=2, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], penalty, rtol=1e-6)


def test_activity_regularization_gradient_config_and_errors():
    x = minidl.Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    layer = layers.ActivityRegularization(l1=1.0, l2=1.0)
    layer(x)
    layer.losses[0].backward()
    np.testing.assert_allclose(x.grad, [[1.0 + 2.0, -1.0 - 4.0]])  # sign(x) + 2x
    assert layers.ActivityRegularization().get_config()["l1"] == 0.0
    assert_config_round_trip(layer)
    with pytest.raises(ValueError, match="l2 must be a non-negative number"):
        layers.ActivityRegularization(l2=-0.1)


def test_noise_layers_in_a_trained_saved_and_loaded_model(tmp_path):
    model = minidl.Sequential([
        minidl.Input((6, 6, 2)),
        layers.GaussianNoise(0.1),
        layers.Conv2D(4, 3, activation="relu"),
        layers.SpatialDropout2D(0.25),
        layers.Flatten(),
        layers.GaussianDropout(0.1),
        layers.ActivityRegularization(l2=1e-3),
        layers.Dropout(0.2, noise_shape=(None, 1)),
        layers.Dense(1),
    ])
    assert model.count_params() == 4 * 9 * 2 + 4 + 64 + 1
    x = np.random.default_rng(9).random((8, 6, 6, 2)).astype(np.float32)
    model.compile("adam", "mse")
    model.fit(x, np.ones((8, 1)), epochs=1, verbose=0)
    path = tmp_path / "noise.mdl"
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
