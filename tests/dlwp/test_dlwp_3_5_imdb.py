"""3.5 Classifying movie reviews: a binary classification example (IMDB).

``imdb.load_data(num_words=10000)`` cannot download here: the stand-in has the same
structure (lists of word indices below 10000, starting with 1, labels 0/1) and a
signal a bag-of-words model can learn: positive reviews use words 20-39 more, negative
ones words 40-59.  ``imdb.get_word_index()`` is a made-up dictionary of the same form.
25,000 reviews -> 400; the book's 20 epochs are kept on the small data.
"""

import numpy as np

from minidl import layers, losses, metrics, models, optimizers

from dlwp_data import imdb_like as load_data


def get_word_index():
    return {f"word{i}": i - 3 for i in range(4, 10000)}


def vectorize_sequences(sequences, dimension=10000):
    # Create an all-zero matrix of shape (len(sequences), dimension)
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.  # set specific indices of results[i] to 1s
    return results


def test_classifying_movie_reviews():
    (train_data, train_labels), (test_data, test_labels) = load_data(num_words=10000)
    assert max([max(sequence) for sequence in train_data]) < 10000

    word_index = get_word_index()
    reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
    decoded_review = ' '.join([reverse_word_index.get(i - 3, '?') for i in train_data[0]])
    assert decoded_review.startswith('?')

    x_train = vectorize_sequences(train_data)
    x_test = vectorize_sequences(test_data)
    y_train = np.asarray(train_labels).astype('float32')
    y_test = np.asarray(test_labels).astype('float32')

    model = models.Sequential()
    model.add(layers.Dense(16, activation='relu', input_shape=(10000,)))
    model.add(layers.Dense(16, activation='relu'))
    model.add(layers.Dense(1, activation='sigmoid'))

    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.001),
                  loss='binary_crossentropy', metrics=['accuracy'])
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.001),
                  loss=losses.binary_crossentropy, metrics=[metrics.binary_accuracy])

    x_val = x_train[:100]
    partial_x_train = x_train[100:]
    y_val = y_train[:100]
    partial_y_train = y_train[100:]

    history = model.fit(partial_x_train, partial_y_train, epochs=20, batch_size=512,
                        validation_data=(x_val, y_val), verbose=0)
    history_dict = history.history
    assert sorted(history_dict.keys()) == ['binary_accuracy', 'loss', 'val_binary_accuracy',
                                           'val_loss']
    assert len(history_dict['loss']) == 20
    assert history_dict['loss'][-1] < history_dict['loss'][0]

    model = models.Sequential()
    model.add(layers.Dense(16, activation='relu', input_shape=(10000,)))
    model.add(layers.Dense(16, activation='relu'))
    model.add(layers.Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=4, batch_size=512, verbose=0)
    results = model.evaluate(x_test, y_test, verbose=0)
    assert results[1] > 0.8, results

    predictions = model.predict(x_test, verbose=0)
    assert predictions.shape == (200, 1) and ((predictions >= 0) & (predictions <= 1)).all()
