"""Sample and class weights in fit/evaluate, and weighted metrics, as Keras 2 computes them.

The expected figures are Keras 2's (tf_keras 2.21 on the same data and weights,
see the comments), and follow its formulas: a weighted batch loss is
``sum(w * loss) / batch size``; a metric in ``compile(weighted_metrics=...)`` is
``sum(w * value) / sum(w)``; a metric in ``compile(metrics=...)`` ignores the weights.
"""

import numpy as np
import pytest

import minidl
from minidl import layers

X = np.arange(8, dtype=np.float32).reshape(4, 2)
Y = np.array([0, 1, 1, 0])
W = np.array([1.0, 2.0, 0.0, 4.0])


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def classifier():
    model = minidl.Sequential([
        layers.Dense(2, activation="softmax", input_shape=(2,), kernel_initializer="ones")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    return model


def regression():
    return minidl.Sequential([layers.Dense(1, input_shape=(2,), kernel_initializer="ones")])


def test_weighted_loss_and_metrics_in_evaluate():
    model = classifier()
    logs = model.evaluate(X, Y, sample_weight=W, verbose=0, return_dict=True)
    # tf_keras: {'loss': 1.2130076, 'accuracy': 0.5, 'weighted_accuracy': 0.7142857}
    assert logs["loss"] == pytest.approx(np.log(2) * W.sum() / 4, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(0.5)
    assert logs["weighted_accuracy"] == pytest.approx(5 / 7)
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    plain = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert plain["weighted_accuracy"] == pytest.approx(0.5)


def test_class_weight_in_fit():
    model = classifier()
    history = model.fit(X, Y, class_weight={0: 1.0, 1: 3.0}, batch_size=4, epochs=1, verbose=0)
    # tf_keras: {'loss': [1.3862944], 'accuracy': [0.5], 'weighted_accuracy': [0.25]}
    assert history.history["loss"][0] == pytest.approx(np.log(2) * 8 / 4, rel=1e-5)
    assert history.history["weighted_accuracy"][0] == pytest.approx(0.25)


def test_regression_weights_and_metric_names():
    model = regression()
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae"])
    # tf_keras: {'loss': 152.0, 'mae': 6.0, 'weighted_mae': 8.0}
    assert model.evaluate(X, np.ones(4), sample_weight=W, verbose=0, return_dict=True) == {
        "loss": pytest.approx(152.0), "mae": pytest.approx(6.0), "weighted_mae": pytest.approx(8.0)}
    model.compile("sgd", "mse", weighted_metrics=["mae"])
    # tf_keras: {'loss': 152.0, 'mae': 8.0}: alone in weighted_metrics, it keeps its name
    assert model.evaluate(X, np.ones(4), sample_weight=W, verbose=0, return_dict=True) == {
        "loss": pytest.approx(152.0), "mae": pytest.approx(8.0)}


def test_validation_data_with_weights_and_n_by_1_weights():
    model = regression()
    model.compile("sgd", "mse", weighted_metrics=[minidl.metrics.MeanAbsoluteError()])
    history = model.fit(X, np.ones(4), sample_weight=W[:, None], validation_data=(X, np.ones(4), W),
                        batch_size=4, epochs=1, verbose=0)
    # tf_keras: loss 152.0, mean_absolute_error 8.0, val_loss 112.22079, val_mae 7.36
    assert history.history["loss"][0] == pytest.approx(152.0)
    assert history.history["mean_absolute_error"][0] == pytest.approx(8.0)
    assert history.history["val_loss"][0] == pytest.approx(112.22079, rel=1e-5)
    assert history.history["val_mean_absolute_error"][0] == pytest.approx(7.36, rel=1e-5)


def test_a_zero_weight_sample_does_not_train():
    model = regression()
    model.compile(minidl.optimizers.SGD(0.001), "mse")
    twin = regression()
    twin.compile(minidl.optimizers.SGD(0.001), "mse")
    y = np.array([1.0, 2.0, 100.0, 3.0])
    model.fit(X, y, sample_weight=[1, 1, 0, 1], batch_size=4, shuffle=False, verbose=0)
    keep = [0, 1, 3]
    twin.fit(X[keep], y[keep], sample_weight=np.full(3, 3 / 4), batch_size=4, shuffle=False,
             verbose=0)  # the same sum(w * loss) / 4 as the zero-weight batch
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_validation_split_splits_the_weights_too():
    model = regression()
    model.compile("sgd", "mse", weighted_metrics=["mae"])
    x = np.ones((10, 2), np.float32)
    weights = np.r_[np.ones(8), np.zeros(2)]
    history = model.fit(x, np.zeros(10), sample_weight=weights, validation_split=0.2, verbose=0)
    assert history.history["val_loss"][0] == 0.0  # the last two samples, weighed 0


def test_multi_output_weights_per_output():
    inputs = minidl.Input(shape=(2,))
    first, second = layers.Dense(1, name="a", kernel_initializer="ones")(inputs), \
        layers.Dense(1, name="b", kernel_initializer="ones")(inputs)
    model = minidl.Model(inputs, [first, second])
    model.compile("sgd", "mse")
    targets = [np.ones(4), np.ones(4)]
    both = model.evaluate(X, targets, sample_weight=W, verbose=0, return_dict=True)
    apart = model.evaluate(X, targets, sample_weight={"a": W, "b": np.ones(4)}, verbose=0,
                           return_dict=True)
    assert both["a_loss"] == apart["a_loss"] == pytest.approx(152.0)
    assert apart["b_loss"] == pytest.approx(np.mean((X.sum(1) - 1) ** 2))
    with pytest.raises(ValueError, match="one output"):
        model.fit(X, targets, class_weight={0: 1.0}, verbose=0)


@pytest.mark.parametrize("kwargs, words", [
    ({"sample_weight": W[:3]}, "3 weights for 4 samples"),
    ({"sample_weight": np.ones((4, 2))}, "one weight per sample"),
    ({"sample_weight": [np.nan, 1, 1, 1]}, "non-finite"),
    ({"class_weight": {0: 1.0}}, "no weight for class"),
    ({"class_weight": [1.0, 2.0]}, "must be a dict"),
])
def test_bad_weights_are_refused_before_training(kwargs, words):
    model = classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=words):
        model.fit(X, Y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_and_test_on_batch_take_weights():
    model = classifier()
    assert model.test_on_batch(X, Y, sample_weight=W)[0] == pytest.approx(np.log(2) * 7 / 4,
                                                                          rel=1e-5)
    loss = model.train_on_batch(X, Y, class_weight={0: 1.0, 1: 3.0}, return_dict=True)["loss"]
    assert loss == pytest.approx(np.log(2) * 2, rel=1e-5)


def test_a_custom_train_step_receives_the_weights():
    seen = []

    class Step(minidl.Model):
        def train_step(self, data):
            x, y, sample_weight = data
            seen.append(sample_weight.copy())
            return super().train_step(data)

    inputs = minidl.Input(shape=(2,))
    model = Step(inputs, layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    model.fit(X, np.ones(4), sample_weight=W, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_array_equal(seen[0], W)


def test_weighted_metrics_are_saved_and_loaded(tmp_path):
    model = classifier()
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    assert loaded.evaluate(X, Y, sample_weight=W, verbose=0, return_dict=True) == \
        model.evaluate(X, Y, sample_weight=W, verbose=0, return_dict=True)
