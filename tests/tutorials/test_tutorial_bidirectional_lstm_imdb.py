"""keras.io example "Bidirectional LSTM on IMDB" (keras-team/keras-io
examples/nlp/bidirectional_lstm_imdb.py), ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``.  The IMDB download
-> a small ``imdb.npz`` in Keras's format (``x_train``, ``y_train``, ``x_test``,
``y_test``: object arrays of lists of word indices, written to ``$MINIDL_DATA``, one
of the places ``load_data`` looks): 160 training and 48 test reviews of 20 to 60
words, class 1 holding a few of the words 4..9 and class 0 a few of 10..15.
``maxlen`` 200 -> 40 so the test runs in seconds (``max_features`` stays 20000).
"""

import numpy as np
from minidl import keras
from minidl.keras import layers


def write_imdb(path, seed=0):
    rng = np.random.default_rng(seed)

    def reviews(count):
        sequences, labels = np.empty(count, dtype=object), np.arange(count) % 2
        for i, label in enumerate(labels):
            words = rng.integers(20, 400, rng.integers(20, 60))
            where = rng.integers(0, len(words), 3)
            words[where] = rng.integers(4, 10, 3) if label else rng.integers(10, 16, 3)
            sequences[i] = [int(w) for w in words]
        return sequences, labels

    (x_train, y_train), (x_test, y_test) = reviews(160), reviews(48)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def test_bidirectional_lstm_on_imdb(tmp_path, monkeypatch):
    write_imdb(tmp_path / "imdb.npz")
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path))

    max_features = 20000  # Only consider the top 20k words
    maxlen = 40  # Only consider the first 40 words of each movie review

    # Input for variable-length sequences of integers
    inputs = keras.Input(shape=(None,), dtype="int32")
    # Embed each integer in a 128-dimensional vector
    x = layers.Embedding(max_features, 128)(inputs)
    # Add 2 bidirectional LSTMs
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    # Add a classifier
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines]  # the example's summary, as tf_keras 2 prints it
    assert " embedding (Embedding)       (None, None, 128)         2560000" in rows
    assert " bidirectional (Bidirection  (None, None, 128)         98816" in rows
    assert " bidirectional_1 (Bidirecti  (None, 128)               98816" in rows
    assert "Total params: 2,757,761" in rows

    (x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(
        num_words=max_features
    )
    assert len(x_train) == 160  # print(len(x_train), "Training sequences")
    assert len(x_val) == 48
    assert x_train[0][0] == 1  # Keras's start_char, then the words shifted by index_from=3
    # Use pad_sequence to standardize sequence length:
    # this will truncate sequences longer than 40 words and zero-pad sequences shorter than 40 words.
    x_train = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.preprocessing.sequence.pad_sequences(x_val, maxlen=maxlen)
    assert x_train.shape == (160, maxlen) and x_val.shape == (48, maxlen)

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2,
                        validation_data=(x_val, y_val), verbose=0)
    loss, val_loss = history.history["loss"], history.history["val_loss"]
    assert loss[1] < loss[0] and val_loss[1] < val_loss[0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}

    # not in the example: saved and loaded, the same predictions
    predicted = model.predict(x_val, verbose=0)
    assert predicted.shape == (48, 1) and ((predicted > 0) & (predicted < 1)).all()
    model.save(tmp_path / "bilstm.mdl")
    loaded = keras.models.load_model(tmp_path / "bilstm.mdl")
    np.testing.assert_allclose(loaded.predict(x_val, verbose=0), predicted, rtol=1e-5, atol=1e-7)
