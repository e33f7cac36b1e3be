"""Layer.add_metric (Keras 2): a value computed in call() reported as a running
mean in fit's and evaluate's logs; and backend.var / backend.std, which the
Keras guide's example logs."""

import numpy as np
import pytest
import torch

import minidl
from minidl import backend, layers, ops
from minidl.testing import gradcheck

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


class LogMean(layers.Layer):
    def call(self, inputs):
        self.add_metric(backend.mean(inputs), name="mean_activation", aggregation="mean")
        return inputs


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def model():
    minidl.utils.set_random_seed(0)
    inputs = minidl.Input((4,))
    hidden = LogMean()(layers.Dense(3, activation="relu")(inputs))
    net = minidl.Model(inputs, layers.Dense(2, activation="softmax")(hidden))
    net.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    return net


def hidden_means(net, x, batch_size):
    dense = net.layers[1]
    return [float(np.mean(dense(x[i:i + batch_size]).data)) for i in range(0, len(x), batch_size)]


def test_evaluate_reports_the_mean_of_the_batch_values():
    net = model()
    logs = net.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "mean_activation"]
    assert logs["mean_activation"] == pytest.approx(np.mean(hidden_means(net, X, 8)), rel=1e-5)
    assert net.metrics_names == ["loss", "accuracy", "mean_activation"]


def test_fit_logs_it_each_epoch_and_starts_it_over():
    net = model()
    history = net.fit(X, Y, batch_size=40, epochs=2, shuffle=False, validation_data=(X, Y),
                      verbose=0)
    assert len(history.history["mean_activation"]) == 2
    assert "val_mean_activation" in history.history
    # one batch per epoch: the epoch's value is that batch's, not a mean over both epochs
    assert history.history["val_mean_activation"][-1] == pytest.approx(
        hidden_means(net, X, 40)[0], rel=1e-5)


def test_bad_arguments_are_refused():
    layer = layers.Dense(2)
    with pytest.raises(ValueError, match="needs a name"):
        layer.add_metric(np.ones(3))
    with pytest.raises(ValueError, match='aggregation="mean" only'):
        layer.add_metric(np.ones(3), name="m", aggregation="sum")


def test_models_without_it_list_no_extra_metrics():
    net = minidl.Sequential([layers.Dense(2, input_shape=(4,))])
    net.compile("sgd", "mse")
    net.evaluate(X, np.zeros((40, 2)), verbose=0)
    assert net.metrics_names == ["loss"]


def test_backend_var_and_std_match_numpy_and_torch():
    x = RNG.normal(size=(3, 5))
    np.testing.assert_allclose(backend.var(x).data, np.var(x), rtol=1e-12)
    np.testing.assert_allclose(backend.std(x, axis=1, keepdims=True).data,
                               np.std(x, axis=1, keepdims=True), rtol=1e-12)
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, dim=0, unbiased=False).sum().backward()
    mine = minidl.Tensor(x, requires_grad=True)
    ops.sum(backend.std(mine, axis=0)).backward()
    np.testing.assert_allclose(mine.grad, t.grad.numpy(), rtol=1e-10)
    assert gradcheck(lambda a: backend.std(a, axis=1), [x])
    assert gradcheck(lambda a: backend.var(a), [x])
