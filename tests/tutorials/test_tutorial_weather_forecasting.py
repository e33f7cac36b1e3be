"""keras.io example "Timeseries forecasting for weather prediction"
(keras-team/keras-io examples/timeseries/timeseries_weather_forecasting.py), its core
ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``.  The Jena climate
download (420,551 rows every 10 minutes, read with pandas) -> a synthetic table of
the seven selected columns (made below, 1,600 rows: a daily cycle of 144 rows with
weather drifting over it; temperature, column 1, follows pressure, humidity and the
time of day as in the real data), held as a NumPy array: ``features.loc[a:b]`` /
``features.iloc[a:b][[1]]`` -> ``features[a:b + 1]`` / ``features[a:b, [1]]``.
Sizes scaled down so the test runs in seconds: ``past`` 720 -> 120, ``future``
72 -> 12, ``batch_size`` 256 -> 64, ``epochs`` 10 -> 4 (``step`` stays 6: one
sample an hour).  Plot cells are left out; what they show (the losses falling,
the predictions) is asserted instead.
"""

import numpy as np

from minidl import keras

titles = ["Pressure", "Temperature", "Saturation vapor pressure", "Vapor pressure deficit",
          "Specific humidity", "Airtight", "Wind speed"]


def climate_table(rows=1600, seed=0):
    """Seven columns every 10 minutes; temperature rides a daily cycle and the weather."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    day = np.sin(2 * np.pi * t / 144)
    weather = np.cumsum(rng.normal(0, 0.05, rows))  # a slow random walk: fronts passing
    pressure = 990 - 4 * weather + rng.normal(0, 0.3, rows)
    temperature = 8 + 5 * day + 3 * weather + rng.normal(0, 0.3, rows)
    saturation = 6.1 * np.exp(17.6 * temperature / (temperature + 243))
    humidity = np.clip(0.8 - 0.05 * day + rng.normal(0, 0.02, rows), 0.1, 1)
    deficit = saturation * (1 - humidity)
    specific = 6.2 * saturation * humidity / pressure
    airtight = 1.2e5 * pressure / (287 * (temperature + 273.15)) / 100
    wind = np.abs(2 + weather + rng.normal(0, 0.5, rows))
    return np.stack([pressure, temperature, saturation, deficit, specific, airtight, wind], 1)


split_fraction = 0.715
step = 6

past = 120
future = 12
learning_rate = 0.001
batch_size = 64
epochs = 4


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


def test_single_step_weather_forecast(tmp_path):
    df = climate_table()
    train_split = int(split_fraction * int(df.shape[0]))

    features = normalize(df, train_split)
    train_data = features[0:train_split]  # features.loc[0 : train_split - 1]
    val_data = features[train_split:]     # features.loc[train_split:]

    # Training dataset: the label is the temperature `future` steps after the window ends
    start = past + future
    end = start + train_split

    x_train = train_data[:, [i for i in range(7)]]
    y_train = features[start:end, [1]]

    sequence_length = int(past / step)

    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    # Validation dataset
    x_end = len(val_data) - past - future
    label_start = train_split + past + future

    x_val = val_data[:x_end, [i for i in range(7)]]
    y_val = features[label_start:, [1]]

    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train.take(1):
        inputs, targets = batch

    print("Input shape:", inputs.numpy().shape)
    print("Target shape:", targets.numpy().shape)
    assert inputs.numpy().shape == (64, 20, 7)
    assert targets.numpy().shape == (64, 1)
    # the first window: rows 0, 6, ..., 114 of the table; its label the temperature at
    # row 132 = past + future, `future` rows after the window ends (row 120)
    np.testing.assert_allclose(inputs[0], features[0:past:step], rtol=1e-6)
    np.testing.assert_allclose(targets[0], features[past + future, [1]], rtol=1e-6)

    # Training
    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 5,153" in lines  # 4 * (32 * (7 + 32) + 32) + 33, as Keras prints it

    path_checkpoint = str(tmp_path / "model_checkpoint.weights.h5")
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=0,  # 1 in the tutorial: a line per epoch
        save_weights_only=True,
        save_best_only=True,
    )

    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
        verbose=0,
    )

    # visualize_loss(history, "Training and Validation Loss"): both fall
    loss, val_loss = history.history["loss"], history.history["val_loss"]
    assert len(loss) == epochs and loss[-1] < 0.8 * loss[0] and val_loss[-1] < val_loss[0]
    assert (tmp_path / "model_checkpoint.weights.h5").exists()

    # Prediction: show_plot([x[0][:, 1], y[0], model.predict(x)[0]], 12, ...)
    for x, y in dataset_val.take(5):
        prediction = model.predict(x, verbose=0)
        assert prediction.shape == (len(x), 1) and np.isfinite(prediction).all()
