"""fit, evaluate and predict fed by generators (models/batch_sources.py), as in Keras 2."""

import numpy as np
import pytest

import minidl
from minidl import callbacks, layers

RNG = np.random.default_rng(0)
X = RNG.random((256, 4)).astype(np.float32)
Y = (X[:, 0] > 0.5).astype(np.int64)


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def model():
    minidl.utils.set_random_seed(1)
    net = minidl.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                             layers.Dense(2, activation="softmax")])
    net.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    return net


def looping(batch=32, weights=None):
    while True:
        for i in range(0, len(X), batch):
            if weights is None:
                yield X[i:i + batch], Y[i:i + batch]
            else:
                yield X[i:i + batch], Y[i:i + batch], weights[i:i + batch]


def one_pass(batch=32):
    return ((X[i:i + batch], Y[i:i + batch]) for i in range(0, len(X), batch))


def test_a_generator_trains_like_the_same_batches_from_arrays():
    by_generator, by_arrays = model(), model()
    by_generator.fit(looping(), steps_per_epoch=8, epochs=2, verbose=0)
    by_arrays.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(by_generator.get_weights(), by_arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_steps_per_epoch_goes_on_from_where_the_last_epoch_stopped():
    seen = []

    def counting():
        i = 0
        while True:
            seen.append(i)
            yield X[:8], Y[:8]
            i += 1

    net = model()
    history = net.fit(counting(), steps_per_epoch=3, epochs=2, verbose=0)
    assert seen == list(range(6)) and len(history.epoch) == 2


def test_a_finite_generator_is_one_epoch_then_training_stops_with_a_warning():
    net = model()
    with pytest.warns(UserWarning, match="ran out of batches"):
        history = net.fit(one_pass(), epochs=3, verbose=0)
    assert history.epoch == [0]
    assert net.optimizer.iterations == 8


def test_validation_data_from_a_generator_and_validation_freq():
    net = model()
    history = net.fit(looping(), steps_per_epoch=4, epochs=4, validation_data=looping(64),
                      validation_steps=2, validation_freq=2, verbose=0)
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_evaluate_and_predict_take_generators():
    net = model()
    from_arrays = net.evaluate(X[:64], Y[:64], batch_size=32, verbose=0)
    from_generator = net.evaluate(looping(), steps=2, verbose=0)
    np.testing.assert_allclose(from_generator, from_arrays, rtol=1e-6)
    predicted = net.predict(looping(), steps=3)
    np.testing.assert_allclose(predicted, net.predict(X[:96]), rtol=1e-6)
    assert net.predict((x for x in [X[:5], X[5:9]])).shape == (9, 2)


def test_sample_weights_from_the_batches():
    weighted, plain = model(), model()
    weights = np.ones(len(X), np.float32)
    weights[::2] = 0.0
    weighted.compile("sgd", "sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    logs = weighted.evaluate(looping(weights=weights), steps=8, verbose=0, return_dict=True)
    kept = weights > 0
    expected = plain.evaluate(X[kept], Y[kept], verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(expected["accuracy"])
    assert logs["loss"] == pytest.approx(expected["loss"] / 2, rel=1e-5)


def test_every_batch_is_checked_like_arrays():
    def bad():
        yield X[:8], Y[:8]
        yield X[:8, :3], Y[:8]  # a wrong shape in the second batch

    net = model()
    with pytest.raises(ValueError, match="expects input samples of shape"):
        net.fit(bad(), verbose=0)
    with pytest.raises(ValueError, match="batches hold the targets"):
        net.fit(looping(), Y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        net.fit(X, Y, steps_per_epoch=2, verbose=0)


def test_the_progress_bar_counts_unknown_steps_as_keras_does(capsys):
    net = model()
    with pytest.warns(UserWarning):
        net.fit(one_pass(), epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "8/8 [==============================]" in out


def test_evaluate_and_predict_call_their_callbacks():
    calls = []

    class Spy(callbacks.Callback):
        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            calls.append("test_batch")

        def on_test_end(self, logs=None):
            calls.append("test_end")

        def on_predict_begin(self, logs=None):
            calls.append("predict_begin")

        def on_predict_end(self, logs=None):
            calls.append("predict_end")

    net = model()
    net.evaluate(X[:64], Y[:64], batch_size=32, verbose=0, callbacks=[Spy()])
    net.predict(X[:10], callbacks=[Spy()])
    assert calls == ["test_begin", "test_batch", "test_batch", "test_end", "predict_begin",
                     "predict_end"]
