"""Metrics: per-sample values, accuracy resolution, confusion matrix."""

import numpy as np
import pytest

from minidl import metrics


def test_accuracies():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([1, 1, 1], probs), [1, 0, 1])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([[1], [0], [0]], probs), [1, 1, 0])
    np.testing.assert_array_equal(metrics.categorical_accuracy(np.eye(2)[[1, 0, 0]], probs), [1, 1, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy([1, 0, 1], [[0.6], [0.4], [0.2]]), [1, 1, 0])


def test_regression_metrics():
    np.testing.assert_allclose(metrics.mse([1.0, 2.0], [[2.0], [2.0]]), [1.0, 0.0])
    np.testing.assert_allclose(metrics.mae([[1.0, 3.0]], [[2.0, 1.0]]), [1.5])


@pytest.mark.parametrize("loss,y_shape,out_shape,expected", [
    ("sparse_categorical_crossentropy", (8,), (None, 10), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (8, 10), (None, 10), "categorical_accuracy"),
    ("binary_crossentropy", (8, 1), (None, 1), "binary_accuracy"),
    ("mse", (8,), (None, 1), "binary_accuracy"),
    ("custom", (8,), (None, 10), "sparse_categorical_accuracy"),
    ("custom", (8, 1), (None, 10), "sparse_categorical_accuracy"),
    ("custom", (8, 10), (None, 10), "categorical_accuracy"),
])
def test_accuracy_resolution_like_keras(loss, y_shape, out_shape, expected):
    assert metrics.resolve_accuracy(loss, y_shape, out_shape).__name__ == expected


def test_confusion_matrix_like_tensorflow():
    cm = metrics.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    assert cm.dtype.kind == "i"
    assert metrics.confusion_matrix([0], [1], num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="num_classes=2"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="same length"):
        metrics.confusion_matrix([0, 1], [0])


def test_running_mean_weights_by_count():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([1, 1], [[0, 1], [0, 1]])
    m.update_state([0, 0, 0, 0], [[0, 1]] * 4)
    assert float(m.result()) == pytest.approx(2 / 6)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_get():
    assert metrics.get("accuracy") == "accuracy"
    assert metrics.get("mae") is metrics.mean_absolute_error
    with pytest.raises(ValueError, match="Did you mean 'accuracy'"):
        metrics.get("acuracy")


def test_loss_objects_as_metrics_are_logged_under_their_names():
    """compile(metrics=[losses.BinaryCrossentropy(name=...)]) as in the overfit-and-underfit
    tutorial: tf_keras logs each under the loss's name (binary_crossentropy,
    mean_squared_error, foo), so two of one class do not collide; the value is the loss's."""
    import minidl
    from minidl import layers, losses

    model = minidl.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy(from_logits=True),
                  metrics=[losses.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           losses.MeanSquaredError(), losses.BinaryCrossentropy(name="foo")])
    x = np.random.default_rng(0).random((10, 3))
    y = (x[:, 0] > 0.5).astype(float)
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y))
    assert list(history.history) == [
        "loss", "binary_crossentropy", "mean_squared_error", "foo",
        "val_loss", "val_binary_crossentropy", "val_mean_squared_error", "val_foo"]
    loss, bce, mse, _ = model.evaluate(x, y, verbose=0)
    assert bce == pytest.approx(loss, rel=1e-6)
    logits = model.predict(x, verbose=0)[:, 0]
    assert mse == pytest.approx(np.mean((logits - y) ** 2), rel=1e-5)
