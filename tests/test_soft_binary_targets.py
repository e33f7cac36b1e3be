"""Binary cross-entropy takes soft targets, as Keras does: predictions are clipped,
targets are not.  Deep Learning with Python's GAN (8.5) trains its discriminator on
``labels += 0.05 * np.random.random(labels.shape)``: targets up to 1.05.

The expected values are tf_keras 2.21's ``losses.binary_crossentropy`` on the same
arrays (run side by side).
"""

import numpy as np
import pytest

import minidl
from minidl import layers, losses

Y = np.array([[1.05], [0.97], [0.03], [0.0], [1.0]], "float32")
P = np.array([[0.9], [0.999999], [0.2], [1e-9], [0.5]], "float32")
KERAS = [-0.00450066, 0.41124648, 0.2647322, 0.0, 0.69314694]


def test_values_match_tf_keras_for_soft_and_noisy_targets():
    values = losses.binary_crossentropy(Y, P)
    np.testing.assert_allclose(np.asarray(values.data), KERAS, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(losses.BinaryCrossentropy()(Y, P).data), 0.272925, rtol=1e-5)


def test_target_above_one_still_pulls_towards_one():
    p = minidl.Tensor(np.array([[0.8]], "float32"), requires_grad=True)
    loss = losses.binary_crossentropy(np.array([[1.05]], "float32"), p)
    loss.backward()
    assert p.grad[0, 0] < 0  # a step against the gradient raises p


def _discriminator():
    model = minidl.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("rmsprop", "binary_crossentropy")
    return model


def test_train_on_batch_and_fit_take_label_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    labels = np.concatenate([np.ones((16, 1)), np.zeros((16, 1))])
    labels += 0.05 * rng.random(labels.shape)
    assert labels.max() > 1.0
    model = _discriminator()
    first = model.train_on_batch(x, labels)
    assert np.isfinite(first)
    history = model.fit(x, labels, epochs=3, batch_size=8, verbose=0)
    assert all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("labels", [np.arange(32) % 3, np.where(np.arange(32) % 2, 1, -1)])
def test_class_labels_other_than_0_1_are_still_refused(labels):
    model = _discriminator()
    x = np.zeros((32, 3), "float32")
    with pytest.raises(ValueError, match=r"class label .*\[0, 1\]|\[0, 1\].*class label"):
        model.fit(x, labels, epochs=1, verbose=0)
