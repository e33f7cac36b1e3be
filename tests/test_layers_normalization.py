"""BatchNormalization: batch statistics in training, moving statistics in inference."""

import numpy as np
import pytest

from minidl import layers


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def test_weights_and_counts_like_keras():
    bn = layers.BatchNormalization()
    bn.build((None, 5))
    assert [w.name for w in bn.weights] == [
        "batch_normalization/gamma", "batch_normalization/beta",
        "batch_normalization/moving_mean", "batch_normalization/moving_variance",
    ]
    assert bn.count_params() == 20
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    assert not bn.moving_mean.requires_grad


def test_training_normalises_and_updates_moving_statistics():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 3)) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.5]).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.9)
    y = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), np.sqrt(x.var(0) / (x.var(0) + 1e-3)), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.data, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.data, 0.9 + 0.1 * x.var(0), rtol=1e-5)


def test_inference_uses_moving_statistics():
    bn = layers.BatchNormalization(epsilon=1e-3)
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    bn.build((None, 4))
    gamma, beta = np.full(4, 2.0), np.full(4, 0.5)
    mean, var = np.array([1.0, 0.0, -1.0, 2.0]), np.array([1.0, 4.0, 0.25, 9.0])
    bn.set_weights([gamma, beta, mean, var])
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(np.asarray(bn(x)), expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bn(x[:1])), expected[:1], rtol=1e-5)  # one sample alone
    np.testing.assert_array_equal(bn.moving_mean.data, mean.astype(np.float32))  # unchanged


def test_images_normalise_per_channel_and_gradients_flow():
    x = np.random.default_rng(2).normal(size=(4, 5, 5, 3)).astype(np.float32) * 3 + 1
    bn = layers.BatchNormalization()
    y = bn(x, training=True)
    np.testing.assert_allclose(np.asarray(y).mean(axis=(0, 1, 2)), 0, atol=1e-5)
    (y * y).sum().backward()
    assert bn.gamma.grad.shape == (3,) and bn.beta.grad.shape == (3,)


def test_channels_first_axis():
    x = np.random.default_rng(3).normal(size=(6, 2, 4)).astype(np.float32) + 3
    bn = layers.BatchNormalization(axis=1)
    y = np.asarray(bn(x, training=True))
    assert bn.gamma.shape == (2,)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-5)


def test_without_center_and_scale():
    bn = layers.BatchNormalization(center=False, scale=False)
    bn.build((None, 3))
    assert [w.name.split("/")[1] for w in bn.weights] == ["moving_mean", "moving_variance"]
    assert bn(np.ones((2, 3)), training=True).shape == (2, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="momentum"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="axis 3"):
        layers.BatchNormalization(axis=3).build((None, 4))
