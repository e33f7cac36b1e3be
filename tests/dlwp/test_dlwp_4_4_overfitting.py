"""4.4 Overfitting and underfitting (IMDB: network size, weight regularization, dropout).

IMDB -> the stand-in of 3.5 (word-index lists below 10000 with a learnable signal),
400 reviews for training and 200 for validation; 20 epochs as in the book.
"""

import numpy as np

from minidl import layers, models, regularizers

from dlwp_data import imdb_like as load_data


def vectorize_sequences(sequences, dimension=10000):
    # Create an all-zero matrix of shape (len(sequences), dimension)
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.  # set specific indices of results[i] to 1s
    return results


def prepare():
    (train_data, train_labels), (test_data, test_labels) = load_data(num_words=10000)
    x_train = vectorize_sequences(train_data)
    x_test = vectorize_sequences(test_data)
    y_train = np.asarray(train_labels).astype('float32')
    y_test = np.asarray(test_labels).astype('float32')
    return x_train, y_train, x_test, y_test


def test_fighting_overfitting():
    x_train, y_train, x_test, y_test = prepare()

    original_model = models.Sequential()
    original_model.add(layers.Dense(16, activation='relu', input_shape=(10000,)))
    original_model.add(layers.Dense(16, activation='relu'))
    original_model.add(layers.Dense(1, activation='sigmoid'))
    original_model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])

    smaller_model = models.Sequential()
    smaller_model.add(layers.Dense(4, activation='relu', input_shape=(10000,)))
    smaller_model.add(layers.Dense(4, activation='relu'))
    smaller_model.add(layers.Dense(1, activation='sigmoid'))
    smaller_model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])

    original_hist = original_model.fit(x_train, y_train, epochs=20, batch_size=512,
                                       validation_data=(x_test, y_test), verbose=0)
    smaller_model_hist = smaller_model.fit(x_train, y_train, epochs=20, batch_size=512,
                                           validation_data=(x_test, y_test), verbose=0)
    epochs = range(1, 21)
    original_val_loss = original_hist.history['val_loss']
    smaller_model_val_loss = smaller_model_hist.history['val_loss']
    assert len(original_val_loss) == len(smaller_model_val_loss) == len(epochs)

    bigger_model = models.Sequential()
    bigger_model.add(layers.Dense(512, activation='relu', input_shape=(10000,)))
    bigger_model.add(layers.Dense(512, activation='relu'))
    bigger_model.add(layers.Dense(1, activation='sigmoid'))
    bigger_model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    bigger_model_hist = bigger_model.fit(x_train, y_train, epochs=20, batch_size=512,
                                         validation_data=(x_test, y_test), verbose=0)
    # the bigger network fits its training data almost perfectly
    assert bigger_model_hist.history['loss'][-1] < original_hist.history['loss'][-1]
    assert bigger_model_hist.history['acc'][-1] == 1.0

    l2_model = models.Sequential()
    l2_model.add(layers.Dense(16, kernel_regularizer=regularizers.l2(0.001),
                              activation='relu', input_shape=(10000,)))
    l2_model.add(layers.Dense(16, kernel_regularizer=regularizers.l2(0.001),
                              activation='relu'))
    l2_model.add(layers.Dense(1, activation='sigmoid'))
    l2_model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    l2_model_hist = l2_model.fit(x_train, y_train, epochs=20, batch_size=512,
                                 validation_data=(x_test, y_test), verbose=0)
    assert len(l2_model.losses) == 2 and all(float(p.data) > 0 for p in l2_model.losses)
    assert len(l2_model_hist.history['val_loss']) == 20

    # L1 regularization, and L1 and L2 at once
    regularizers.l1(0.001)
    regularizers.l1_l2(l1=0.001, l2=0.001)

    dpt_model = models.Sequential()
    dpt_model.add(layers.Dense(16, activation='relu', input_shape=(10000,)))
    dpt_model.add(layers.Dropout(0.5))
    dpt_model.add(layers.Dense(16, activation='relu'))
    dpt_model.add(layers.Dropout(0.5))
    dpt_model.add(layers.Dense(1, activation='sigmoid'))
    dpt_model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    dpt_model_hist = dpt_model.fit(x_train, y_train, epochs=20, batch_size=512,
                                   validation_data=(x_test, y_test), verbose=0)
    assert dpt_model_hist.history['val_acc'][-1] > 0.7
    # dropout is off at test time: two predictions agree
    np.testing.assert_array_equal(dpt_model.predict(x_test, verbose=0),
                                  dpt_model.predict(x_test, verbose=0))
