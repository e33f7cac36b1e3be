"""TensorFlow's "Text classification with an RNN" (tensorflow/text
docs/tutorials/text_classification_rnn.ipynb), its code with names changed only.

``import tensorflow as tf`` -> ``import minidl as tf`` and ``tf.keras`` -> ``keras``
(``from minidl import keras``).  ``tfds.load('imdb_reviews', as_supervised=True)`` ->
``imdb_reviews()`` below: the same structure (Datasets of ``(text, label)`` pairs, a
string and an int64) holding made-up reviews, 128 for training and 64 for testing,
built from 30 words.  Dataset elements and TextVectorization's "int" output are
NumPy arrays in minidl that also have ``.numpy()`` (``minidl.eager_array``), so
``example.numpy()`` and ``encoder(example)[:3].numpy()`` run as written; the
tutorial's prints are asserts here.  Sizes scaled down: ``BATCH_SIZE`` 64
-> 16, ``epochs`` 10 -> 3 (2 for the stacked model), ``validation_steps`` 30 of the
391 test batches -> 2 of the 4.  Plot cells are left out; what they show (the loss
falling) is asserted.  Expected vocabularies, summaries and masking flags are what
tf_keras 2.21 printed for the same reviews.
"""

import numpy as np

import minidl as tf
from minidl import keras

GOOD = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "fun", "cool",
        "recommend"]
BAD = ["awful", "boring", "hated", "dull", "terrible", "waste", "bland", "not"]
NEUTRAL = ["the", "movie", "film", "was", "plot", "actors", "a", "and", "it", "animation",
           "graphics"]


def imdb_reviews(rng=None):
    """(train_dataset, test_dataset): Datasets of (review, label), label 1 for a good one."""
    rng = np.random.RandomState(0) if rng is None else rng

    def reviews(count):
        texts, labels = [], []
        for i in range(count):
            label = i % 2
            words = list(rng.choice(NEUTRAL, rng.randint(4, 15)))
            words += list(rng.choice(GOOD if label else BAD, 3))
            rng.shuffle(words)
            texts.append(" ".join(words).capitalize() + ".")
            labels.append(label)
        return np.array(texts), np.array(labels, dtype=np.int64)

    return (tf.data.Dataset.from_tensor_slices(reviews(128)),
            tf.data.Dataset.from_tensor_slices(reviews(64)))


def summary_rows(model):
    lines = []
    model.summary(print_fn=lines.append)
    return [line.rstrip() for line in lines]


def test_text_classification_with_an_rnn():
    train_dataset, test_dataset = imdb_reviews()
    # print(train_dataset.element_spec) shows (TensorSpec(shape=(), dtype=tf.string, ...),
    # TensorSpec(shape=(), dtype=tf.int64, ...)): strings are dtype object in minidl
    assert train_dataset.element_spec == (tf.data.TensorSpec((), object),
                                          tf.data.TensorSpec((), np.int64))

    for example, label in train_dataset.take(1):
        print('text: ', example.numpy())
        print('label: ', label.numpy())
        assert isinstance(example.numpy()[()], str) and example.shape == ()
        assert label.numpy().dtype == np.int64 and label.shape == ()
    assert example[()] == "Was was and animation not the awful film actors was bland plot."

    BUFFER_SIZE = 10000
    BATCH_SIZE = 16

    train_dataset = train_dataset.shuffle(BUFFER_SIZE).batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)
    test_dataset = test_dataset.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)

    for example, label in train_dataset.take(1):
        print('texts: ', example.numpy()[:3])
        print()
        print('labels: ', label.numpy()[:3])
        assert example.numpy().shape == (16,) and label.numpy().shape == (16,)
    assert train_dataset.element_spec == (tf.data.TensorSpec((None,), object),
                                          tf.data.TensorSpec((None,), np.int64))

    # Create the text encoder
    VOCAB_SIZE = 1000
    encoder = keras.layers.TextVectorization(
        max_tokens=VOCAB_SIZE)
    encoder.adapt(train_dataset.map(lambda text, label: text))

    vocab = np.array(encoder.get_vocabulary())
    assert vocab[:20].tolist() == [  # tf_keras 2.21, the same reviews
        "", "[UNK]", "was", "movie", "actors", "and", "a", "the", "film", "plot", "animation",
        "graphics", "it", "brilliant", "not", "dull", "awful", "hated", "boring", "great"]
    assert len(vocab) == 30

    encoded_example = encoder(example)[:3].numpy()
    assert type(encoded_example) is np.ndarray and encoded_example.dtype == np.int64
    # 0-padded to the longest review of the batch
    assert encoded_example.shape == (3, max(len(str(t).split()) for t in example))
    for n in range(3):
        round_trip = " ".join(vocab[encoded_example[n]])
        assert round_trip.split() == str(example[n]).lower().rstrip(".").split()

    # Create the model
    model = keras.Sequential([
        encoder,
        keras.layers.Embedding(
            input_dim=len(encoder.get_vocabulary()),
            output_dim=64,
            # Use masking to handle the variable sequence lengths
            mask_zero=True),
        keras.layers.Bidirectional(keras.layers.LSTM(64)),
        keras.layers.Dense(64, activation='relu'),
        keras.layers.Dense(1)
    ])

    assert [layer.supports_masking for layer in model.layers] == [False, True, True, True, True]

    # predict on a sample text without padding.
    sample_text = ('The movie was cool. The animation and the graphics '
                   'were out of this world. I would recommend this movie.')
    predictions = model.predict(np.array([sample_text]))
    alone = predictions[0]

    # predict on a sample text with padding
    padding = "the " * 2000
    predictions = model.predict(np.array([sample_text, padding]))
    np.testing.assert_allclose(predictions[0], alone, rtol=1e-5, atol=1e-7)

    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(1e-4),
                  metrics=['accuracy'])
    rows = summary_rows(model)  # tf_keras 2.21's rows for the same vocabulary
    assert " embedding (Embedding)       (None, None, 64)          1920" in rows
    assert " bidirectional (Bidirection  (None, 128)               66048" in rows
    assert "Total params: 76,289" in rows  # (minidl writes totals with separators)

    # Train the model
    history = model.fit(train_dataset, epochs=3,
                        validation_data=test_dataset,
                        validation_steps=2)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.history.values())
    loss = history.history["loss"]
    assert loss[0] > loss[1] > loss[2]

    test_loss, test_acc = model.evaluate(test_dataset)
    assert np.isfinite(test_loss) and 0 <= test_acc <= 1

    predictions = model.predict(np.array([sample_text]))
    assert predictions.shape == (1, 1) and np.isfinite(predictions).all()

    # Stack two or more LSTM layers
    model = keras.Sequential([
        encoder,
        keras.layers.Embedding(len(encoder.get_vocabulary()), 64, mask_zero=True),
        keras.layers.Bidirectional(keras.layers.LSTM(64,  return_sequences=True)),
        keras.layers.Bidirectional(keras.layers.LSTM(32)),
        keras.layers.Dense(64, activation='relu'),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1)
    ])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(1e-4),
                  metrics=['accuracy'])
    history = model.fit(train_dataset, epochs=2,
                        validation_data=test_dataset,
                        validation_steps=2)
    assert len(history.history["val_loss"]) == 2

    rows = summary_rows(model)
    assert " bidirectional_1 (Bidirecti  (None, None, 128)         66048" in rows
    assert " bidirectional_2 (Bidirecti  (None, 64)                41216" in rows
    assert "Total params: 113,409" in rows

    test_loss, test_acc = model.evaluate(test_dataset)
    assert np.isfinite(test_loss)

    # predict on a sample text without padding.
    sample_text = ('The movie was not good. The animation and the graphics '
                   'were terrible. I would not recommend this movie.')
    predictions = model.predict(np.array([sample_text]))
    assert predictions.shape == (1, 1)

    # not in the tutorial: the model, strings in, saved and loaded
    model.save("stacked.mdl")
    loaded = keras.models.load_model("stacked.mdl")
    np.testing.assert_allclose(loaded.predict(np.array([sample_text, padding])),
                               model.predict(np.array([sample_text, padding])), rtol=1e-6)


def test_integer_output_has_numpy():
    encoder = keras.layers.TextVectorization(max_tokens=10)
    encoder.adapt(["a b c"])
    assert encoder(np.array(["a b", "c"]))[:3].numpy().tolist() == [[4, 3], [2, 0]]
