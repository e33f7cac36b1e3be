"""3.6 Classifying newswires: a multi-class classification example (Reuters).

``reuters.load_data(num_words=10000)`` cannot download here: the stand-in has 46
topics, lists of word indices below 10000, and topic words (each topic uses words
100 + 5*topic .. +5 more often).  8,982 newswires -> 600.
"""

import numpy as np

from minidl import layers, models
from minidl.utils.np_utils import to_categorical


def load_data(num_words=10000, n=600, seed=0):
    rng = np.random.default_rng(seed)

    def wire(topic):
        words = rng.integers(400, num_words, rng.integers(20, 60))
        topical = rng.integers(100 + 5 * topic, 105 + 5 * topic, 12)
        return [1] + list(np.concatenate([words, topical]))

    def split(count):
        labels = rng.integers(0, 46, count)
        return np.array([wire(t) for t in labels], dtype=object), labels

    return split(n), split(n // 3)


def vectorize_sequences(sequences, dimension=10000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.
    return results


def to_one_hot(labels, dimension=46):
    results = np.zeros((len(labels), dimension))
    for i, label in enumerate(labels):
        results[i, label] = 1.
    return results


def test_classifying_newswires():
    (train_data, train_labels), (test_data, test_labels) = load_data(num_words=10000)
    x_train = vectorize_sequences(train_data)
    x_test = vectorize_sequences(test_data)

    one_hot_train_labels = to_one_hot(train_labels)
    one_hot_test_labels = to_one_hot(test_labels)
    np.testing.assert_array_equal(to_categorical(train_labels), one_hot_train_labels)
    one_hot_train_labels = to_categorical(train_labels)
    one_hot_test_labels = to_categorical(test_labels)

    model = models.Sequential()
    model.add(layers.Dense(64, activation='relu', input_shape=(10000,)))
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(46, activation='softmax'))
    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])

    x_val = x_train[:100]
    partial_x_train = x_train[100:]
    y_val = one_hot_train_labels[:100]
    partial_y_train = one_hot_train_labels[100:]

    history = model.fit(partial_x_train, partial_y_train, epochs=20, batch_size=512,
                        validation_data=(x_val, y_val), verbose=0)
    assert sorted(history.history) == ['accuracy', 'loss', 'val_accuracy', 'val_loss']

    model = models.Sequential()
    model.add(layers.Dense(64, activation='relu', input_shape=(10000,)))
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(46, activation='softmax'))
    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(partial_x_train, partial_y_train, epochs=9, batch_size=512,
              validation_data=(x_val, y_val), verbose=0)
    results = model.evaluate(x_test, one_hot_test_labels, verbose=0)
    assert results[1] > 0.15, results  # random guessing: 1/46

    predictions = model.predict(x_test, verbose=0)
    assert predictions[0].shape == (46,)
    assert abs(np.sum(predictions[0]) - 1.0) < 1e-5
    assert 0 <= np.argmax(predictions[0]) < 46

    # A different way to handle the labels and the loss
    y_train = np.array(train_labels)
    model = models.Sequential()
    model.add(layers.Dense(64, activation='relu', input_shape=(10000,)))
    model.add(layers.Dense(4, activation='relu'))  # the information bottleneck
    model.add(layers.Dense(46, activation='softmax'))
    model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy',
                  metrics=['acc'])
    history = model.fit(partial_x_train, y_train[100:], epochs=3, batch_size=128,
                        validation_data=(x_val, y_train[:100]), verbose=0)
    assert sorted(history.history) == ['acc', 'loss', 'val_acc', 'val_loss']
