"""6.4 Sequence processing with convnets (1-D convnets on IMDB; a convnet before a GRU
on the Jena weather data).

IMDB -> the stand-in of 3.5 (word indices below 10000), 400 + 200 reviews; max_len
500 -> 100 and 10 epochs -> 4.  The Jena climate CSV -> a synthetic series of 14
columns with a daily cycle, and the book's generator, into the convnet + GRU.
"""

import numpy as np

from minidl import layers
from minidl.models import Sequential
from minidl.optimizers import RMSprop
from minidl.preprocessing import sequence

from dlwp_data import imdb_like as load_data

max_features = 10000  # number of words to consider as features
max_len = 100  # cut texts after this number of words (among top max_features most common words)


def test_1d_convnet_on_imdb(capsys):
    (x_train, y_train), (x_test, y_test) = load_data(num_words=max_features)
    x_train = sequence.pad_sequences(x_train, maxlen=max_len)
    x_test = sequence.pad_sequences(x_test, maxlen=max_len)
    assert x_train.shape == (400, max_len) and x_train.dtype == np.int32

    model = Sequential()
    model.add(layers.Embedding(max_features, 128, input_length=max_len))
    model.add(layers.Conv1D(32, 7, activation='relu'))
    model.add(layers.MaxPooling1D(5))
    model.add(layers.Conv1D(32, 7, activation='relu'))
    model.add(layers.GlobalMaxPooling1D())
    model.add(layers.Dense(1))
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 94, 32)" in printed and "(None, 18, 32)" in printed
    assert "Total params: 1,315,937" in printed

    model.compile(optimizer=RMSprop(learning_rate=1e-4), loss='binary_crossentropy',
                  metrics=['acc'])
    history = model.fit(x_train, y_train, epochs=4, batch_size=128, validation_split=0.2,
                        verbose=0)
    assert sorted(history.history) == ['acc', 'loss', 'val_acc', 'val_loss']
    # The book's last layer is Dense(1) with no sigmoid under binary cross-entropy: Keras
    # clips its outputs to [1e-7, 1 - 1e-7], so where they start outside [0, 1] the loss is
    # flat (about 8.24) and nothing trains, in Keras as here. What holds either way:
    assert all(np.isfinite(history.history['loss']))
    assert model.predict(x_test[:5]).shape == (5, 1)


def jena_like(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    float_data = rng.normal(size=(n, 14)) * 0.1
    float_data[:, 1] += 10 * np.sin(2 * np.pi * t / 144)  # temperature: a daily cycle
    return float_data


def generator(data, lookback, delay, min_index, max_index, shuffle=False, batch_size=128,
              step=6):
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, row in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def test_combining_cnns_and_rnns_on_jena():
    float_data = jena_like()
    mean = float_data[:2000].mean(axis=0)
    float_data -= mean
    std = float_data[:2000].std(axis=0)
    float_data /= std

    lookback, step, delay, batch_size = 720, 3, 144, 32
    train_gen = generator(float_data, lookback=lookback, delay=delay, min_index=0,
                          max_index=2000, shuffle=True, step=step, batch_size=batch_size)
    # (the book's split scaled down: the validation rows start after a lookback of 720)
    val_gen = generator(float_data, lookback=lookback, delay=delay, min_index=2001,
                        max_index=3200, step=step, batch_size=batch_size)

    model = Sequential()
    model.add(layers.Conv1D(32, 5, activation='relu', input_shape=(None, float_data.shape[-1])))
    model.add(layers.MaxPooling1D(3))
    model.add(layers.Conv1D(32, 5, activation='relu'))
    model.add(layers.GRU(32, dropout=0.1, recurrent_dropout=0.5))
    model.add(layers.Dense(1))
    model.compile(optimizer=RMSprop(), loss='mae')
    history = model.fit_generator(train_gen, steps_per_epoch=5, epochs=2,
                                  validation_data=val_gen, validation_steps=2, verbose=0)
    assert len(history.history['val_loss']) == 2
