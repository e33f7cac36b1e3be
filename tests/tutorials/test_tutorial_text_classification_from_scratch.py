"""keras.io example "Text classification from scratch" (keras-team/keras-io
examples/nlp/text_classification_from_scratch.py, its tf.keras version), ported with
names changed only, but for two TensorFlow calls on strings.

``import tensorflow as tf`` -> ``import minidl as tf``.  The aclImdb download ->
``aclimdb()`` below: the same folders (``aclImdb/train/{neg,pos}``,
``aclImdb/test/{neg,pos}``) of made-up reviews with the ``<br />`` tags the example
strips, 40 per class for training and 16 for testing.  Sizes scaled down:
``batch_size`` 32 -> 8, ``max_features`` 20000 -> 40, ``embedding_dim`` 128 -> 16,
``sequence_length`` 500 -> 60, ``epochs`` 3 -> 6.

The changes: minidl has no ``tf.strings`` (strings are NumPy arrays of str in
minidl), so ``custom_standardization`` does the same lower-casing and replacing in
Python, on the array of strings TextVectorization hands it; and
``tf.expand_dims(text, -1)`` -> ``np.expand_dims(text, -1)``.  ``text_batch.numpy()``
runs as written (Dataset elements are NumPy arrays with ``.numpy()``).
"""

import os
import re
import string

import numpy as np
import pytest

import minidl as tf

GOOD = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "fun"]
BAD = ["awful", "boring", "hated", "dull", "terrible", "waste", "bland"]
NEUTRAL = ["the", "movie", "film", "was", "plot", "actors", "a", "and", "it"]


def aclimdb(root, seed=0):
    """aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt: neutral words and 3 of the class's."""
    rng = np.random.RandomState(seed)
    for part, count in (("train", 40), ("test", 16)):
        for name, words in (("neg", BAD), ("pos", GOOD)):
            folder = os.path.join(root, "aclImdb", part, name)
            os.makedirs(folder)
            for i in range(count):
                chosen = list(rng.choice(NEUTRAL, rng.randint(10, 40))) + list(rng.choice(words, 3))
                rng.shuffle(chosen)
                text = " ".join(chosen).capitalize() + "!<br /><br />" + rng.choice(NEUTRAL) + "."
                with open(os.path.join(folder, f"{i}_{rng.randint(1, 10)}.txt"), "w") as f:
                    f.write(text)


def test_text_classification_from_scratch(tmp_path, capsys):
    aclimdb(".")
    batch_size = 8
    raw_train_ds = tf.keras.utils.text_dataset_from_directory(
        "aclImdb/train",
        batch_size=batch_size,
        validation_split=0.2,
        subset="training",
        seed=1337,
    )
    raw_val_ds = tf.keras.utils.text_dataset_from_directory(
        "aclImdb/train",
        batch_size=batch_size,
        validation_split=0.2,
        subset="validation",
        seed=1337,
    )
    raw_test_ds = tf.keras.utils.text_dataset_from_directory(
        "aclImdb/test", batch_size=batch_size
    )
    out = capsys.readouterr().out
    assert out.count("Found 80 files belonging to 2 classes.") == 2
    assert "Using 64 files for training." in out and "Using 16 files for validation." in out
    assert "Found 32 files belonging to 2 classes." in out

    assert raw_train_ds.cardinality() == 8  # print(f"Number of batches in raw_train_ds: ...")
    assert raw_val_ds.cardinality() == 2
    assert raw_test_ds.cardinality() == 4

    for text_batch, label_batch in raw_train_ds.take(1):
        for i in range(5):
            print(text_batch.numpy()[i])
            print(label_batch.numpy()[i])
            assert "<br />" in text_batch.numpy()[i] and label_batch.numpy()[i] in (0, 1)

    with pytest.raises(AttributeError, match="no tf.strings.*in Python"):  # says what to do
        tf.strings.lower(["The <br />Movie"])

    def custom_standardization(input_data):
        lowercase = [text.lower() for text in input_data]  # tf.strings.lower
        stripped_html = [text.replace("<br />", " ") for text in lowercase]  # regex_replace
        return [re.sub(f"[{re.escape(string.punctuation)}]", "", text) for text in stripped_html]

    # Model constants.
    max_features = 40
    embedding_dim = 16
    sequence_length = 60

    vectorize_layer = tf.keras.layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )

    # Let's make a text-only dataset (no labels):
    text_ds = raw_train_ds.map(lambda x, y: x)
    # Let's call `adapt`:
    vectorize_layer.adapt(text_ds)
    vocabulary = vectorize_layer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"] and len(vocabulary) == 2 + 9 + 7 + 7
    assert "br" not in vocabulary and not any(set(string.punctuation) & set(w) for w in vocabulary[2:])

    def vectorize_text(text, label):
        text = np.expand_dims(text, -1)  # tf.expand_dims
        return vectorize_layer(text), label

    # Vectorize the data.
    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    test_ds = raw_test_ds.map(vectorize_text)

    # Do async prefetching / buffering of the data for best performance on GPU.
    train_ds = train_ds.cache().prefetch(buffer_size=10)
    val_ds = val_ds.cache().prefetch(buffer_size=10)
    test_ds = test_ds.cache().prefetch(buffer_size=10)

    x_batch, y_batch = next(iter(train_ds))
    assert x_batch.shape == (batch_size, sequence_length) and x_batch.dtype == np.int64

    from minidl.keras import layers

    # A integer input for vocab indices.
    inputs = tf.keras.Input(shape=(None,), dtype="int64")

    # Next, we add a layer to map those vocab indices into a space of dimensionality
    # 'embedding_dim'.
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)

    # Conv1D + global max pooling
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)

    # We add a vanilla hidden layer:
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)

    # We project onto a single unit output layer, and squash it with a sigmoid:
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

    model = tf.keras.Model(inputs, predictions)

    # Compile the model with binary crossentropy loss and an adam optimizer.
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    lines = []
    model.summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines]  # Keras's counts: 40 * 16, 7 * 16 * 128 + 128, ...
    assert " embedding (Embedding)       (None, None, 16)          640" in rows
    assert " conv1d (Conv1D)             (None, None, 128)         14464" in rows
    assert " conv1d_1 (Conv1D)           (None, None, 128)         114816" in rows
    assert " predictions (Dense)         (None, 1)                 129" in rows
    assert "Total params: 146,561" in rows

    epochs = 6

    # Fit the model using the train and test datasets.
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == epochs and loss[-1] < loss[0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}

    test_loss, test_accuracy = model.evaluate(test_ds)
    assert np.isfinite(test_loss) and 0 <= test_accuracy <= 1

    # A string input
    inputs = tf.keras.Input(shape=(1,), dtype="string")
    # Turn strings into vocab indices
    indices = vectorize_layer(inputs)
    # Turn vocab indices into predictions
    outputs = model(indices)

    # Our end to end model
    end_to_end_model = tf.keras.Model(inputs, outputs)
    end_to_end_model.compile(
        loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"]
    )

    # Test it with `raw_test_ds`, which yields raw strings
    end_loss, end_accuracy = end_to_end_model.evaluate(raw_test_ds)
    np.testing.assert_allclose([end_loss, end_accuracy], [test_loss, test_accuracy], rtol=1e-5)

    lines = []
    end_to_end_model.summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines]
    assert " input_2 (InputLayer)        [(None, 1)]               0" in rows
    assert " model (Functional)          (None, 1)                 146561" in rows

    # not in the example: the end-to-end model saved and loaded
    texts = np.array([["The movie was great!"], ["The movie was terrible..."]])
    end_to_end_model.save("end_to_end.mdl")
    loaded = tf.keras.models.load_model(  # the standardize function by name, as in Keras
        "end_to_end.mdl", custom_objects={"custom_standardization": custom_standardization})
    np.testing.assert_allclose(loaded.predict(texts), end_to_end_model.predict(texts), rtol=1e-6)
