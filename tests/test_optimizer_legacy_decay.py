"""Keras 2's legacy ``decay=``: time-based learning-rate decay.

Deep Learning with Python compiles with ``optimizers.RMSprop(lr=1e-4, decay=1e-6)``
(Keras 2.0.8).  tf.keras 2 keeps that rule in ``tf_keras.optimizers.legacy``:
step k (from 0) uses ``lr / (1 + decay * k)``; ``optimizer.lr`` still reads the rate
set.  The expected weights below are what tf_keras 2.21's legacy SGD, RMSprop and
Adam gave for ``lr=0.1, decay=0.5``, a weight of 1.0 and a gradient of 1.0 three
times (run side by side, rounded to float32).
"""

import numpy as np
import pytest

import minidl
from minidl import optimizers
from minidl.tensor import Variable

KERAS_LEGACY = {
    "SGD": [0.9, 0.8333333134651184, 0.7833333015441895],
    "RMSprop": [0.6837723255157471, 0.5308285355567932, 0.4347812235355377],
    "Adam": [0.9000003337860107, 0.8333340287208557, 0.783333957195282],
}


@pytest.mark.parametrize("name", sorted(KERAS_LEGACY))
def test_decay_matches_tf_keras_legacy(name):
    with pytest.warns(DeprecationWarning, match="lr"):
        optimizer = getattr(optimizers, name)(lr=0.1, decay=0.5)
    weight = Variable(np.array([1.0], np.float32))
    seen = []
    for _ in range(3):
        optimizer.apply_gradients([(np.array([1.0], np.float32), weight)])
        seen.append(float(weight.data[0]))
    np.testing.assert_allclose(seen, KERAS_LEGACY[name], rtol=2e-6)
    assert float(optimizer.lr) == pytest.approx(0.1)  # the rate set, not the decayed one
    assert optimizer.get_config()["decay"] == 0.5


def test_no_decay_is_the_plain_rule():
    plain, decayed = optimizers.SGD(0.1), optimizers.SGD(0.1, decay=0.0)
    for optimizer in (plain, decayed):
        w = Variable(np.array([1.0], np.float32))
        for _ in range(3):
            optimizer.apply_gradients([(np.array([1.0], np.float32), w)])
        assert float(w.data[0]) == pytest.approx(0.7)
    assert "decay" not in plain.get_config()


def test_decay_round_trips_through_config():
    optimizer = optimizers.RMSprop(learning_rate=1e-4, decay=1e-6)
    again = optimizers.deserialize(optimizers.serialize(optimizer))
    assert again.decay == 1e-6 and float(again.lr) == pytest.approx(1e-4)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "fast"])
def test_bad_decay_is_refused(bad):
    with pytest.raises(ValueError, match="decay"):
        optimizers.Adam(decay=bad)


def test_book_compile_with_decay_trains():
    model = minidl.Sequential([minidl.layers.Dense(1, input_shape=(3,))])
    with pytest.warns(DeprecationWarning):
        model.compile(optimizer=optimizers.RMSprop(lr=1e-2, decay=1e-2), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert int(model.optimizer.iterations) == 20
