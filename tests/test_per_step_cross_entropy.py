"""Cross-entropy losses over sequences: an output of shape (None, steps, classes) (an
LSTM with return_sequences=True, then a softmax Dense) trains against one-hot targets
(N, steps, classes) or integer labels (N, steps), as in keras.io's seq2seq examples.

Expected numbers: tf_keras 2.21 on the same model, weights and data (a snippet that
builds ``model()`` below in tf_keras, compile("sgd", loss, ["accuracy"]), evaluate
with and without sample_weight, then one fit step of the whole batch, shuffle=False).
"""

import numpy as np
import pytest

import minidl
from minidl import layers

# [loss, accuracy]; the loss with sample_weight = (1..8) / 4 (accuracy is not weighted:
# metrics= are not weighted_metrics=)
KERAS_EVALUATE = [1.8113728761672974, 0.28125]
KERAS_WEIGHTED = [1.9609012603759766, 0.28125]
KERAS_AFTER_STEP = [  # predict(x)[0] after one SGD step
    [0.058934, 0.370011, 0.10951, 0.223783, 0.100928, 0.136834],
    [0.047434, 0.366668, 0.09898, 0.238129, 0.099245, 0.149544],
    [0.045019, 0.33085, 0.105451, 0.24605, 0.113796, 0.158835],
    [0.051071, 0.328235, 0.108218, 0.245198, 0.116569, 0.150709],
]


def values(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]


def model():
    m = minidl.Sequential([minidl.Input((4, 3)), layers.LSTM(5, return_sequences=True),
                           layers.Dense(6, activation="softmax")])
    m.set_weights(values(1, [w.shape for w in m.get_weights()]))
    return m


(X,) = values(0, [(8, 4, 3)])
LABELS = np.random.default_rng(2).integers(0, 6, (8, 4))
ONE_HOT = np.eye(6, dtype="float32")[LABELS]
WEIGHTS = np.arange(1, 9, dtype="float32") / 4


@pytest.mark.parametrize("loss, y", [("sparse_categorical_crossentropy", LABELS),
                                     ("sparse_categorical_crossentropy", LABELS[..., None]),
                                     ("categorical_crossentropy", ONE_HOT)])
def test_per_step_losses_and_accuracy_as_tf_keras(loss, y):
    net = model()
    net.compile("sgd", loss, ["accuracy"])
    np.testing.assert_allclose(net.evaluate(X, y, verbose=0), KERAS_EVALUATE, rtol=1e-5)
    np.testing.assert_allclose(net.evaluate(X, y, sample_weight=WEIGHTS, verbose=0),
                               KERAS_WEIGHTED, rtol=1e-5)
    history = net.fit(X, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(KERAS_EVALUATE[0], rel=1e-5)
    np.testing.assert_allclose(net.predict(X, verbose=0)[0], KERAS_AFTER_STEP, atol=2e-6)


@pytest.mark.parametrize("loss, y, words", [
    ("sparse_categorical_crossentropy", LABELS[:, :3], ["(n, 4)", "(8, 3)", "(none, 4, 6)"]),
    ("sparse_categorical_crossentropy", LABELS[:, 0], ["(n, 4)", "(8,)"]),
    ("sparse_categorical_crossentropy", ONE_HOT, ["(n, 4)", "(8, 4, 6)", "categorical_crossentropy"]),
    ("sparse_categorical_crossentropy", np.full((8, 4), 6), ["label 6", "6 units"]),
    ("categorical_crossentropy", LABELS, ["(8, 4)", "(none, 4, 6)", "one-hot row"]),
    ("categorical_crossentropy", ONE_HOT[:, :2], ["(8, 2, 6)", "(none, 4, 6)"]),
    ("categorical_crossentropy", ONE_HOT[:, 0], ["(8, 6)", "one label per sample", "flatten"]),
    ("categorical_crossentropy", ONE_HOT[..., :5], ["5 columns", "6"]),
])
def test_targets_that_do_not_fit_the_steps_are_refused_before_any_change(loss, y, words):
    net = model()
    net.compile("sgd", loss, ["accuracy"])
    before = [w.copy() for w in net.get_weights()]
    with pytest.raises(ValueError) as caught:
        net.fit(X, y, verbose=0)
    message = str(caught.value).lower()
    assert all(word in message for word in words), message
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


def test_unknown_steps_train_on_each_batch_length():
    """Input(shape=(None, features)), as the seq2seq tutorial builds its decoder."""
    inputs = minidl.Input(shape=(None, 3))
    outputs = layers.Dense(6, activation="softmax")(layers.LSTM(5, return_sequences=True)(inputs))
    net = minidl.Model(inputs, outputs)
    net.compile("rmsprop", "categorical_crossentropy", ["accuracy"])
    history = net.fit(X, ONE_HOT, batch_size=4, epochs=2, verbose=0)
    assert len(history.history["accuracy"]) == 2
    before = [w.copy() for w in net.get_weights()]
    with pytest.raises(ValueError, match=r"y_true has shape \(8, 3, 6\) but y_pred has shape "
                                         r"\(8, 4, 6\)"):
        net.fit(X, ONE_HOT[:, :3], verbose=0)  # the steps are known at the first batch only
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
