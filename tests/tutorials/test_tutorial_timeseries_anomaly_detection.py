"""keras.io example "Timeseries anomaly detection using an Autoencoder" (pavithrasv,
keras-team/keras-io examples/timeseries/timeseries_anomaly_detection.py, the tf.keras
version of 2020/05/31), ported with names changed only.

``from tensorflow import keras`` / ``from tensorflow.keras import layers`` -> minidl's.
The Numenta Anomaly Benchmark's ``art_daily_small_noise.csv`` and
``art_daily_jumpsup.csv`` (a value every 5 minutes for 14 days, read with pandas) ->
synthetic series of the same kind made below, a value every 30 minutes (48 a day) for
14 days: a daily plateau with small noise, and the same with one day's plateau jumping
up.  pandas is not used: the frames are NumPy arrays of one column,
``df.mean()`` / ``df.std()`` -> ``values.mean(axis=0)`` / ``values.std(axis=0, ddof=1)``
(pandas' sample deviation), ``df.iloc[indices]`` -> ``values[indices]``.  Sizes:
``TIME_STEPS`` 288 -> 48 (one day), ``epochs`` 50 -> 12.  The matplotlib cells are left
out; what they show (the losses falling, the anomalies on the jump) is asserted.
"""

import numpy as np

from minidl import keras
from minidl.keras import layers

TIME_STEPS = 48
DAYS = 14
JUMP_DAY = 9


def daily_values(seed, jump_day=None):
    """(DAYS * 48, 1): about 20 at night, 80 from 9:00 to 21:00, small noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS * TIME_STEPS)
    hour = (t % TIME_STEPS) / 2
    values = 20 + 60 / (1 + np.exp(-3 * (hour - 9))) - 60 / (1 + np.exp(-3 * (hour - 21)))
    if jump_day is not None:
        day = t // TIME_STEPS == jump_day
        values[day] += 60 / (1 + np.exp(-3 * (hour[day] - 9))) - 60 / (
            1 + np.exp(-3 * (hour[day] - 21)))
    return (values + rng.normal(0, 1.5, len(t)))[:, None]


# Generated training sequences for use in the model.
def create_sequences(values, time_steps=TIME_STEPS):
    output = [
        values[i : (i + time_steps)]
        for i in range(len(values) - time_steps + 1)
    ]

    return np.stack(output)


def test_timeseries_anomaly_detection():
    df_small_noise = daily_values(0)
    df_daily_jumpsup = daily_values(1, jump_day=JUMP_DAY)

    # Normalize and save the mean and std we get,
    # for normalizing test data.
    training_mean = df_small_noise.mean(axis=0)
    training_std = df_small_noise.std(axis=0, ddof=1)
    df_training_value = (df_small_noise - training_mean) / training_std
    assert len(df_training_value) == 672  # print("Number of training samples:", ...)

    x_train = create_sequences(df_training_value)
    assert x_train.shape == (625, 48, 1)  # print("Training input shape: ", x_train.shape)

    model = keras.Sequential(
        [
            layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
            layers.Conv1D(
                filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1D(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1DTranspose(
                filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    lines = []
    model.summary(print_fn=lines.append)
    # tf_keras 2.21's shapes and counts for the same model
    assert [(layer.output_shape, layer.count_params()) for layer in model.layers] == [
        ((None, 24, 32), 256), ((None, 24, 32), 0), ((None, 12, 16), 3600),
        ((None, 24, 16), 1808), ((None, 24, 16), 0), ((None, 48, 32), 3616),
        ((None, 48, 1), 225)]
    assert "Total params: 9,505" in lines

    history = model.fit(
        x_train,
        x_train,
        epochs=12,
        batch_size=128,
        validation_split=0.1,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")
        ],
        verbose=0,
    )
    loss, val_loss = history.history["loss"], history.history["val_loss"]
    assert loss[-1] < 0.2 * loss[0] and val_loss[-1] < 0.2 * val_loss[0]

    # Get train MAE loss.
    x_train_pred = model.predict(x_train, verbose=0)
    train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)
    assert train_mae_loss.shape == (625, 1)

    # Get reconstruction loss threshold.
    threshold = np.max(train_mae_loss)  # print("Reconstruction error threshold: ", ...)

    df_test_value = (df_daily_jumpsup - training_mean) / training_std

    # Create sequences from test values.
    x_test = create_sequences(df_test_value)
    assert x_test.shape == (625, 48, 1)  # print("Test input shape: ", x_test.shape)

    # Get test MAE loss.
    x_test_pred = model.predict(x_test, verbose=0)
    test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1)
    test_mae_loss = test_mae_loss.reshape((-1))

    # Detect all the samples which are anomalies.
    anomalies = test_mae_loss > threshold
    # tf_keras 2.21 on the same data: 69 anomaly samples, 405 to 473, threshold 0.218
    # (minidl: 69, 404 to 472, 0.226); data points 452 to 474 (minidl: 451 to 473)
    assert 40 < np.sum(anomalies) < 100  # print("Number of anomaly samples: ", ...)

    # data i is an anomaly if samples [(i - timesteps + 1) to (i)] are anomalies
    anomalous_data_indices = [
        data_idx
        for data_idx in range(TIME_STEPS - 1, len(df_test_value) - TIME_STEPS + 1)
        if np.all(anomalies[data_idx - TIME_STEPS + 1 : data_idx])
    ]

    df_subset = df_daily_jumpsup[anomalous_data_indices]
    # the windows flagged all hold part of the day of the jump, and the points found
    # are on it: higher than any value of the series without anomalies
    jump = range(JUMP_DAY * TIME_STEPS, (JUMP_DAY + 1) * TIME_STEPS)
    flagged = np.where(anomalies)[0]
    assert len(flagged) and all(jump.start - TIME_STEPS < i < jump.stop for i in flagged)
    assert anomalous_data_indices and all(i in jump for i in anomalous_data_indices)
    assert df_subset.max() > df_small_noise.max()
