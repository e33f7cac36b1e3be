"""fit, evaluate and predict fed by generators, Sequences and Datasets
(models/batch_sources.py), and by arrays cut into steps, as in Keras 2.

Expected figures marked "tf_keras" were printed by tf_keras 2.21 running the
same snippet."""

import numpy as np
import pytest

import minidl
from minidl import callbacks, layers
from minidl.data import Dataset
from minidl.utils import Sequence

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
        net.fit(X, Y, steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="steps"):
        net.evaluate(X, Y, steps=-1, verbose=0)


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


# --- Datasets and Sequences -------------------------------------------------
class Batches(Sequence):
    """Keras 2's documented Sequence: batch ``i`` is rows ``i*b .. (i+1)*b``."""

    def __init__(self, x, y, batch_size=32):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0
        self.asked = []

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.asked.append(index)
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_a_dataset_trains_like_the_same_batches_from_arrays():
    by_dataset, by_arrays = model(), model()
    dataset = Dataset.from_tensor_slices((X, Y)).batch(32).prefetch(1)
    history = by_dataset.fit(dataset, epochs=2, verbose=0)
    by_arrays.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(by_dataset, by_arrays)
    assert history.params["steps"] == 8 and len(history.epoch) == 2


def test_a_sequence_trains_like_arrays_and_ends_each_epoch():
    by_sequence, by_arrays = model(), model()
    batches = Batches(X, Y)
    by_sequence.fit(batches, epochs=3, shuffle=False, verbose=0)
    by_arrays.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    assert_same_weights(by_sequence, by_arrays)
    assert batches.epochs_ended == 3
    assert batches.asked[:9] == [0, 0, 1, 2, 3, 4, 5, 6, 7]  # batch 0 first builds the model


def test_shuffle_reorders_a_sequences_batches_each_epoch():
    batches = Batches(X, Y)
    model().fit(batches, epochs=2, shuffle=True, verbose=0)
    first, second = batches.asked[1:9], batches.asked[9:17]
    assert sorted(first) == sorted(second) == list(range(8))
    assert first != list(range(8)) or second != list(range(8))


def test_a_shuffled_repeated_dataset_with_steps_per_epoch():
    minidl.utils.set_random_seed(3)
    dataset = Dataset.from_tensor_slices((X, Y)).shuffle(256).batch(32).repeat()
    net = model()
    history = net.fit(dataset, steps_per_epoch=5, epochs=3, verbose=0)
    assert len(history.epoch) == 3 and net.optimizer.iterations == 15


def test_a_mapped_dataset_feeds_the_mapped_batches():
    scaled, by_arrays = model(), model()
    dataset = Dataset.from_tensor_slices((X * 255.0, Y)).map(lambda x, y: (x / 255.0, y))
    scaled.fit(dataset.batch(64), epochs=1, verbose=0)
    by_arrays.fit(X, Y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(scaled.get_weights(), by_arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_validation_evaluate_and_predict_take_datasets_and_sequences():
    net = model()
    val = Dataset.from_tensor_slices((X[:64], Y[:64])).batch(16)
    history = net.fit(Batches(X, Y), validation_data=val, epochs=2, verbose=0)
    expected = net.evaluate(X[:64], Y[:64], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1], expected[0], rtol=1e-6)
    np.testing.assert_allclose(net.evaluate(val, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(net.evaluate(Batches(X[:64], Y[:64], 16), verbose=0), expected,
                               rtol=1e-6)
    only_x = Dataset.from_tensor_slices(X[:50]).batch(16)
    np.testing.assert_allclose(net.predict(only_x), net.predict(X[:50]), rtol=1e-6)
    np.testing.assert_allclose(net.predict(val), net.predict(X[:64]), rtol=1e-6)


def test_a_dataset_of_named_inputs_feeds_a_functional_model():
    a, b = minidl.Input((3,), name="a"), minidl.Input((1,), name="b")
    out = layers.Dense(2, activation="softmax")(layers.Concatenate()([a, b]))
    net = minidl.Model([a, b], out)
    net.compile("sgd", "sparse_categorical_crossentropy")
    dataset = Dataset.from_tensor_slices(({"a": X[:, :3], "b": X[:, 3:]}, Y)).batch(32)
    history = net.fit(dataset, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    assert net.predict({"a": X[:4, :3], "b": X[:4, 3:]}).shape == (4, 2)


# --- arrays cut into steps (tf_keras takes them too) ------------------------
def ones_model():
    net = minidl.Sequential([layers.Dense(1, kernel_initializer="ones", input_shape=(3,))])
    net.compile("sgd", "mse")
    return net


X3 = np.arange(300.0).reshape(100, 3) / 300
ZEROS = np.zeros((100, 1))


def test_evaluate_and_predict_on_arrays_take_the_first_steps_batches():
    net = ones_model()
    assert net.evaluate(X3, ZEROS, batch_size=10, steps=2, verbose=0) == pytest.approx(
        0.11695001274347305, rel=1e-6)  # tf_keras
    assert net.predict(X3, batch_size=10, steps=2).shape == (20, 1)
    with pytest.warns(UserWarning, match="ran out"):
        assert net.evaluate(X3, ZEROS, batch_size=10, steps=20, verbose=0) == pytest.approx(
            2.984950065612793, rel=1e-6)  # tf_keras: all 10 batches, and a warning
    with pytest.warns(UserWarning, match="ran out"):
        assert net.predict(X3, batch_size=10, steps=20).shape == (100, 1)


def test_steps_per_epoch_on_arrays_goes_on_across_epochs_as_tf_keras():
    net = ones_model()
    seen = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs))
    net.fit(X3, ZEROS, batch_size=10, epochs=3, steps_per_epoch=4, shuffle=False,
            validation_data=(X3, ZEROS), validation_steps=1, callbacks=[record], verbose=0)
    expected = [(0.4521099030971527, 0.0165674090385437),  # tf_keras
                (2.7465548515319824, 0.0082215191796422),
                (2.422013521194458, 0.025953451171517372)]
    for logs, (loss, val_loss) in zip(seen, expected):
        assert logs["loss"] == pytest.approx(loss, rel=1e-5)
        assert logs["val_loss"] == pytest.approx(val_loss, rel=1e-5)


def test_steps_per_epoch_past_epochs_passes_of_the_arrays_stops_with_a_warning():
    net = ones_model()
    with pytest.warns(UserWarning, match="ran out of batches"):
        history = net.fit(X3, ZEROS, batch_size=10, epochs=2, steps_per_epoch=15, verbose=0)
    assert net.optimizer.iterations == 20 and len(history.epoch) == 2


def test_validation_steps_on_a_dataset_start_a_new_pass_each_epoch():
    # tf_keras 2.21: each evaluation in fit starts a new pass over a Dataset and takes
    # its first validation_steps batches; once a pass ran short, no more val_ logs
    x = np.arange(8, dtype=np.float32).reshape(8, 1)
    y = np.zeros((8, 1), np.float32)
    val = Dataset.from_tensor_slices((x, y)).batch(2)  # batch losses 0.5, 6.5, 20.5, 42.5
    net = minidl.Sequential([layers.Dense(1, kernel_initializer="ones", use_bias=False,
                                          input_shape=(1,))])
    net.compile(minidl.optimizers.SGD(0.0), "mse")
    train = Dataset.from_tensor_slices((x, y)).batch(2)
    history = net.fit(train, epochs=3, validation_data=val, validation_steps=2, verbose=0)
    assert history.history == {"loss": [17.5] * 3, "val_loss": [3.5] * 3}
    with pytest.warns(UserWarning, match="ran out of batches after 4 this epoch of the 6"):
        history = net.fit(train, epochs=3, validation_data=val, validation_steps=6, verbose=0)
    assert history.history == {"loss": [17.5] * 3, "val_loss": [17.5]}
