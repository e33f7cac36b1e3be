"""Metric objects and names in compile(), fit(), evaluate() and a train_step of your own.

The History keys and printed lines below were read from tf_keras 2.21 running
the same model (weights set by hand, SGD with learning rate 0, so every
epoch sees the same predictions); the values are checked here in NumPy.
"""

import numpy as np
import pytest

import minidl
from minidl import layers, metrics, optimizers
from minidl.autograd import GradientTape

RNG = np.random.default_rng(1)
X = RNG.random((64, 4)).astype(np.float32)
Y = (X[:, 0] + 0.3 * RNG.random(64) > 0.6).astype(np.float32)
W = RNG.random(64).astype(np.float32)
KERNEL = np.array([[2.0], [-1.0], [0.5], [0.1]], np.float32)


def frozen_model():
    """A logistic regression whose weights stay put (learning rate 0)."""
    model = minidl.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.build((None, 4))
    model.set_weights([KERNEL, np.array([-0.5], np.float32)])
    return model


def probabilities(x):
    return 1 / (1 + np.exp(-(x @ KERNEL[:, 0] - 0.5)))


def test_history_keys_and_values_as_keras():
    minidl.backend.clear_session()
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy",
                  metrics=["AUC", metrics.Precision(), metrics.Recall(thresholds=[0.3, 0.6]),
                           "accuracy", metrics.AUC(curve="PR", name="prauc")],
                  weighted_metrics=[metrics.AUC(name="wauc"), "accuracy"])
    history = model.fit(X, Y, batch_size=16, epochs=2, verbose=0, sample_weight=W,
                        validation_data=(X[:32], Y[:32]))
    assert sorted(history.history) == [  # tf_keras 2.21's keys for this compile()
        "accuracy", "auc", "loss", "prauc", "precision", "recall", "val_accuracy", "val_auc",
        "val_loss", "val_prauc", "val_precision", "val_recall", "val_wauc",
        "val_weighted_accuracy", "wauc", "weighted_accuracy"]
    assert model.metrics_names == ["loss", "auc", "precision", "recall", "accuracy", "prauc",
                                   "wauc", "weighted_accuracy"]
    p = probabilities(X)
    predicted = p > 0.5
    logs = {k: v[-1] for k, v in history.history.items()}
    assert logs["precision"] == pytest.approx(np.sum(predicted & (Y == 1)) / np.sum(predicted),
                                              rel=1e-5)
    recall = [np.sum((p > t) & (Y == 1)) / np.sum(Y) for t in (0.3, 0.6)]
    np.testing.assert_allclose(logs["recall"], recall, rtol=1e-5)
    hit = (predicted == (Y == 1))
    assert logs["accuracy"] == pytest.approx(hit.mean(), rel=1e-6)
    assert logs["weighted_accuracy"] == pytest.approx(np.sum(hit * W) / np.sum(W), rel=1e-5)
    # every epoch starts over: the second epoch's values are the first's
    assert history.history["auc"][0] == pytest.approx(history.history["auc"][1], rel=1e-6)
    vp = p[:32] > 0.5
    assert logs["val_precision"] == pytest.approx(np.sum(vp & (Y[:32] == 1)) / np.sum(vp),
                                                  rel=1e-5)


def test_evaluate_accumulates_over_batches_as_one_pass_would():
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy",
                  metrics=[metrics.AUC(num_thresholds=50, name="auc"), metrics.Recall(name="recall"),
                           metrics.BinaryCrossentropy(), metrics.RootMeanSquaredError()])
    logs = model.evaluate(X, Y, batch_size=10, verbose=0, return_dict=True)
    p = model.predict(X, verbose=0)
    for name, metric in [("auc", metrics.AUC(num_thresholds=50)), ("recall", metrics.Recall()),
                         ("binary_crossentropy", metrics.BinaryCrossentropy()),
                         ("root_mean_squared_error", metrics.RootMeanSquaredError())]:
        metric.update_state(Y[:, None], p)
        assert logs[name] == pytest.approx(float(metric.result()), rel=1e-5), name
    rmse = np.sqrt(np.mean((p[:, 0] - Y) ** 2))
    assert logs["root_mean_squared_error"] == pytest.approx(rmse, rel=1e-5)
    again = model.evaluate(X, Y, batch_size=10, verbose=0, return_dict=True)
    assert again == pytest.approx(logs)  # evaluate resets the metrics first


def test_train_and_test_on_batch_report_that_batch_alone():
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy", metrics=["precision"])
    model.fit(X, Y, epochs=1, verbose=0)
    for method in (model.train_on_batch, model.test_on_batch):
        logs = method(X[:20], Y[:20], return_dict=True)
        predicted = probabilities(X[:20]) > 0.5
        assert logs["precision"] == pytest.approx(
            np.sum(predicted & (Y[:20] == 1)) / np.sum(predicted), rel=1e-5)


def test_per_output_metrics_are_named_after_their_output():
    minidl.backend.clear_session()
    metrics.Precision()  # so the next is precision_1, as in the Keras run
    inputs = minidl.Input(shape=(4,))
    a = layers.Dense(1, activation="sigmoid", name="a")(inputs)
    b = layers.Dense(3, activation="softmax", name="b")(inputs)
    model = minidl.Model(inputs, [a, b])
    model.compile("sgd", ["binary_crossentropy", "sparse_categorical_crossentropy"],
                  metrics={"a": ["AUC", metrics.Precision()],
                           "b": [metrics.SparseTopKCategoricalAccuracy(k=2), "accuracy"]},
                  weighted_metrics={"a": ["accuracy"]})
    history = model.fit(X, [Y, RNG.integers(0, 3, 64)], epochs=1, verbose=0, validation_split=0.25)
    assert sorted(history.history) == [  # tf_keras 2.21's keys
        "a_accuracy", "a_auc", "a_loss", "a_precision_1", "b_accuracy", "b_loss",
        "b_sparse_top_k_categorical_accuracy", "loss", "val_a_accuracy", "val_a_auc",
        "val_a_loss", "val_a_precision_1", "val_b_accuracy", "val_b_loss",
        "val_b_sparse_top_k_categorical_accuracy", "val_loss"]


def test_two_metrics_with_one_name_are_refused():
    model = frozen_model()
    model.compile("sgd", "binary_crossentropy", metrics=["AUC", metrics.AUC(name="auc")])
    with pytest.raises(ValueError, match="two metrics are named 'auc'"):
        model.fit(X, Y, epochs=1, verbose=0)


def test_a_train_step_of_your_own_with_compiled_and_tracked_metrics():
    """Keras 2 tracks metrics assigned to the model: model.metrics lists them and
    fit resets them at each epoch, evaluate at its start."""

    class Counting(minidl.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(1, activation="sigmoid")
            self.seen = metrics.Sum(name="seen")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred)
            self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_weights),
                                               self.trainable_weights))
            self.compiled_metrics.update_state(y, y_pred)
            self.seen.update_state(np.ones(len(x)))
            return {m.name: m.result() for m in self.metrics}

    model = Counting()
    model.compile("sgd", "binary_crossentropy", metrics=[metrics.AUC()])
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0)
    assert history.history["seen"] == [64.0, 64.0, 64.0]  # reset at each epoch
    assert [m.name for m in model.metrics][-1] == "seen"
    assert set(history.history) == {"loss", model.metrics[1].name, "seen"}
    model.evaluate(X, Y, verbose=0)
    assert float(model.seen.result()) == 0.0  # reset by evaluate, which never updates it


def test_the_progress_bar_prints_metrics_as_keras(capsys):
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy",
                  metrics=[metrics.AUC(name="auc"), metrics.RootMeanSquaredError()])
    model.fit(X, Y, batch_size=16, epochs=1, verbose=2, validation_split=0.5)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    rmse = np.sqrt(np.mean((probabilities(X[:32]) - Y[:32]) ** 2))
    assert f" - root_mean_squared_error: {rmse:.4f} - val_loss: " in line
    assert line.startswith("2/2 - ") and " - auc: " in line and " - val_auc: " in line


def test_a_model_compiled_with_metric_objects_saves_and_loads(tmp_path):
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy",
                  metrics=[metrics.AUC(curve="PR", num_thresholds=30),
                           metrics.Precision(thresholds=[0.4, 0.7], name="p"), "Recall"])
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    before = model.evaluate(X, Y, verbose=0, return_dict=True)
    after = loaded.evaluate(X, Y, verbose=0, return_dict=True)
    assert sorted(after) == sorted(before)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-6)
    assert loaded.metrics_names == model.metrics_names


def test_names_resolved_by_compile_and_a_vector_result_on_the_bar(capsys):
    """tf_keras 2.21 printed, for this model and compile():
    4/4 - 2s - loss: 0.4871 - recall: 0.8500 - ce: 0.4871 - mape: 162800880.0000 - ...
    "ce" is the binary cross-entropy here (one output unit); the bar shows a result of
    several thresholds as its mean, History keeps the values."""
    model = frozen_model()
    model.compile(optimizers.SGD(0.0), "binary_crossentropy",
                  metrics=[metrics.Recall(thresholds=[0.3, 0.6], name="recall"), "ce", "mape"])
    history = model.fit(X, Y, batch_size=16, epochs=1, verbose=2)
    assert sorted(history.history) == ["ce", "loss", "mape", "recall"]
    assert history.history["ce"][0] == pytest.approx(history.history["loss"][0], rel=1e-5)
    p = probabilities(X)
    recall = np.array([np.sum((p > t) & (Y == 1)) / np.sum(Y) for t in (0.3, 0.6)])
    np.testing.assert_allclose(history.history["recall"][0], recall, rtol=1e-5)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f" - recall: {recall.mean():.4f} - ce: " in line


def test_one_metric_without_a_list_as_keras_2():
    # tf_keras 2.21 takes metrics=BinaryAccuracy(threshold=0.0) (TensorFlow's text
    # classification tutorial) and metrics="mae": History keys binary_accuracy, mae
    for metric, key in ((metrics.BinaryAccuracy(threshold=0.0), "binary_accuracy"),
                        ("mae", "mae")):
        model = frozen_model()
        model.compile(optimizers.SGD(0.0), "binary_crossentropy", metrics=metric)
        history = model.fit(X, Y, epochs=1, verbose=0)
        assert set(history.history) == {"loss", key}
    with pytest.raises(TypeError, match="must be a list"):
        frozen_model().compile("sgd", "mse", metrics=3)
