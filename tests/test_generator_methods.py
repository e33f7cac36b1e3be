"""Keras 1's fit_generator / evaluate_generator / predict_generator: deprecated aliases of
fit / evaluate / predict, as tf.keras 2 keeps them; Keras 2's loader options
(max_queue_size, workers, use_multiprocessing) accepted everywhere."""

import numpy as np
import pytest

import minidl
from minidl import layers


def make_model():
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                               layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


X = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("int64") + (X[:, 1] > 0)


def batches():
    while True:  # the book's generators loop forever; steps say where an epoch ends
        for start in range(0, 64, 16):
            yield X[start:start + 16], Y[start:start + 16]


def test_fit_generator_is_fit_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="fit_generator` is deprecated.*Model.fit"):
        old = make_model().fit_generator(batches(), steps_per_epoch=4, epochs=3, verbose=0,
                                         validation_data=batches(), validation_steps=2)
    new = make_model().fit(batches(), steps_per_epoch=4, epochs=3, verbose=0,
                           validation_data=batches(), validation_steps=2)
    assert old.history == new.history
    assert set(old.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_evaluate_and_predict_generator():
    model = make_model()
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        scores = model.evaluate_generator(batches(), steps=4)
    assert scores == pytest.approx(model.evaluate(X, Y, verbose=0))
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        predictions = model.predict_generator((x for x, _ in batches()), steps=4)
    np.testing.assert_allclose(predictions, model.predict(X), rtol=1e-6)


def test_loader_options_are_accepted_and_more_workers_warn():
    model = make_model()
    model.fit(X, Y, epochs=1, verbose=0, max_queue_size=4, workers=1, use_multiprocessing=False)
    with pytest.warns(UserWarning, match="training thread"):
        model.evaluate(X, Y, verbose=0, workers=4)
    with pytest.warns(UserWarning, match="training thread"):
        model.predict(X, use_multiprocessing=True)
    with pytest.raises(ValueError, match="workers"):
        model.fit(X, Y, verbose=0, workers=-1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.fit(X, Y, verbose=0, workerz=2)


def test_train_on_batch_with_class_and_sample_weights():
    weights = np.where(Y == 2, 3.0, 1.0).astype("float32")
    by_class = make_model().train_on_batch(X, Y, class_weight={0: 1.0, 1: 1.0, 2: 3.0})
    by_sample = make_model().train_on_batch(X, Y, sample_weight=weights)
    assert by_class == pytest.approx(by_sample)
    assert make_model().test_on_batch(X, Y, sample_weight=weights) != pytest.approx(
        make_model().test_on_batch(X, Y))
