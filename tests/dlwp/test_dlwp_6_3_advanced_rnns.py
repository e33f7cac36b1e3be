"""6.3 Advanced use of recurrent neural networks (temperature forecasting on Jena).

``jena_climate_2009_2016.csv`` cannot be downloaded here: the file written here has
its format (a quoted header of "Date Time" and 14 measurements, one line per 10
minutes) and 8000 lines whose temperature follows a daily cycle.  The book's reading
code, normalisation, generator, naive baseline and densely connected model run;
``steps_per_epoch`` 500 -> 5, epochs 20 -> 2, lookback 1440 (10 days) -> 720, the
split points 200000/300000 -> 5000/6500.  The GRU,
LSTM and Bidirectional cells run too.
"""

import os

import numpy as np
import pytest

from minidl import layers
from minidl.models import Sequential
from minidl.optimizers import RMSprop

HEADER = ('"Date Time","p (mbar)","T (degC)","Tpot (K)","Tdew (degC)","rh (%)",'
          '"VPmax (mbar)","VPact (mbar)","VPdef (mbar)","sh (g/kg)","H2OC (mmol/mol)",'
          '"rho (g/m**3)","wv (m/s)","max. wv (m/s)","wd (deg)"')


def write_jena_like(path, n=8000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = rng.normal(size=(n, 14))
    values[:, 0] += 990
    values[:, 1] = 8 + 10 * np.sin(2 * np.pi * t / 144) + 0.3 * rng.normal(size=n)
    with open(path, "w") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            day, minute = divmod(i * 10, 1440)
            stamp = f"{1 + day % 28:02d}.01.2009 {minute // 60:02d}:{minute % 60:02d}:00"
            f.write(stamp + "," + ",".join(f"{v:.2f}" for v in values[i]) + "\n")


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


@pytest.fixture
def jena(tmp_path):
    data_dir = str(tmp_path)
    fname = os.path.join(data_dir, 'jena_climate_2009_2016.csv')
    write_jena_like(fname)

    f = open(fname)
    data = f.read()
    f.close()

    lines = data.split('\n')
    header = lines[0].split(',')
    lines = lines[1:]
    if lines[-1] == '':
        lines = lines[:-1]
    assert len(header) == 15 and len(lines) == 8000

    float_data = np.zeros((len(lines), len(header) - 1))
    for i, line in enumerate(lines):
        values = [float(x) for x in line.split(',')[1:]]
        float_data[i, :] = values

    mean = float_data[:5000].mean(axis=0)
    float_data -= mean
    std = float_data[:5000].std(axis=0)
    float_data /= std
    return float_data, std


LOOKBACK, STEP, DELAY, BATCH = 720, 6, 144, 128


def generators(float_data):
    train_gen = generator(float_data, lookback=LOOKBACK, delay=DELAY, min_index=0,
                          max_index=5000, shuffle=True, step=STEP, batch_size=BATCH)
    val_gen = generator(float_data, lookback=LOOKBACK, delay=DELAY, min_index=5001,
                        max_index=6500, step=STEP, batch_size=BATCH)
    test_gen = generator(float_data, lookback=LOOKBACK, delay=DELAY, min_index=6501,
                         max_index=None, step=STEP, batch_size=BATCH)
    return train_gen, val_gen, test_gen


def test_naive_baseline_and_densely_connected_model(jena):
    float_data, std = jena
    train_gen, val_gen, test_gen = generators(float_data)
    # This is how many steps to draw from `val_gen` in order to see the whole validation set:
    val_steps = (6500 - 5001 - LOOKBACK) // BATCH

    def evaluate_naive_method():
        batch_maes = []
        for step in range(val_steps):
            samples, targets = next(val_gen)
            preds = samples[:, -1, 1]
            mae = np.mean(np.abs(preds - targets))
            batch_maes.append(mae)
        return np.mean(batch_maes)

    naive = evaluate_naive_method()
    celsius_mae = naive * std[1]
    assert 0 < celsius_mae < 5  # the cycle repeats after a day: yesterday's value is close

    model = Sequential()
    model.add(layers.Flatten(input_shape=(LOOKBACK // STEP, float_data.shape[-1])))
    model.add(layers.Dense(32, activation='relu'))
    model.add(layers.Dense(1))

    model.compile(optimizer=RMSprop(), loss='mae')
    with pytest.warns(DeprecationWarning, match="fit_generator"):
        history = model.fit_generator(train_gen, steps_per_epoch=5, epochs=2,
                                      validation_data=val_gen, validation_steps=val_steps,
                                      verbose=0)
    loss = history.history['loss']
    val_loss = history.history['val_loss']
    assert len(loss) == len(val_loss) == 2 and np.isfinite(val_loss).all()


def test_recurrent_baseline_with_dropout_and_stacking(jena):
    float_data, _ = jena
    train_gen, val_gen, _ = generators(float_data)
    model = Sequential()
    model.add(layers.GRU(32, dropout=0.1, recurrent_dropout=0.5, return_sequences=True,
                         input_shape=(None, float_data.shape[-1])))
    model.add(layers.GRU(64, activation='relu', dropout=0.1, recurrent_dropout=0.5))
    model.add(layers.Dense(1))
    model.compile(optimizer=RMSprop(), loss='mae')
    history = model.fit_generator(train_gen, steps_per_epoch=2, epochs=1,
                                  validation_data=val_gen, validation_steps=1, verbose=0)
    assert len(history.history['val_loss']) == 1


def test_bidirectional_lstm_on_imdb():
    from minidl.layers import Dense, Embedding
    from minidl.preprocessing import sequence

    from dlwp_data import imdb_like

    (x_train, y_train), _ = imdb_like(num_words=10000)
    x_train = sequence.pad_sequences(x_train, maxlen=50)
    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    model.fit(x_train, y_train, epochs=1, batch_size=128, validation_split=0.2, verbose=0)
