"""keras.io example "Timeseries classification from scratch" (hfawaz,
keras-team/keras-io examples/timeseries/timeseries_classification_from_scratch.py, the
tf.keras version of 2021/07/16), ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``.  FordA (3601 + 1320
engine-noise series of 500 steps, read from the UCR archive's TSV files) -> synthetic
series of the same layout written to ``FordA_TRAIN.tsv`` / ``FordA_TEST.tsv`` (label
-1 or 1 in the first column, then 500 z-normalized values): class 1 a noisy sine of
random frequency and phase, class -1 smoothed noise.  ``readucr`` reads them with
``np.loadtxt`` as the tutorial does (from the local files instead of ``root_url``).
Sizes scaled down so the test runs in seconds: 160 training and 60 test series,
``epochs`` 500 -> 6, ``batch_size`` 32 -> 8 (more steps: BatchNormalization's moving
statistics, which evaluation uses, need them; with 32, tf_keras 2.21 too stays at 0.5
validation accuracy for six epochs while training reaches 1.0).  The matplotlib cells
and ``keras.utils.plot_model`` are left out (what the plots show, the accuracies, is
asserted instead).
"""

import numpy as np
import pytest

from minidl import keras

STEPS = 500


def write_forda_like(path, n, rng):
    """``n`` rows: label (-1 or 1), then STEPS z-normalized values, tab-separated."""
    t = np.arange(STEPS)
    labels = np.where(np.arange(n) % 2 == 0, 1, -1)
    rows = []
    for label in labels:
        if label == 1:
            series = np.sin(2 * np.pi * rng.uniform(0.01, 0.05) * t + rng.uniform(0, 2 * np.pi))
            series += rng.normal(0, 0.3, STEPS)
        else:
            series = np.convolve(rng.normal(0, 1, STEPS + 4), np.ones(5) / 5, "valid")
        series = (series - series.mean()) / series.std()
        rows.append(np.concatenate([[label], series]))
    np.savetxt(path, np.array(rows), delimiter="\t", fmt="%.6f")


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


def test_timeseries_classification_from_scratch(tmp_path):
    rng = np.random.default_rng(0)
    write_forda_like(tmp_path / "FordA_TRAIN.tsv", 160, rng)
    write_forda_like(tmp_path / "FordA_TEST.tsv", 60, rng)
    root_url = f"{tmp_path}/"

    x_train, y_train = readucr(f"{root_url}FordA_TRAIN.tsv")
    x_test, y_test = readucr(f"{root_url}FordA_TEST.tsv")

    classes = np.unique(np.concatenate((y_train, y_test), axis=0))
    assert classes.tolist() == [-1, 1]

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    num_classes = len(np.unique(y_train))

    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def make_model(input_shape):
        input_layer = keras.layers.Input(input_shape)

        conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
        conv1 = keras.layers.BatchNormalization()(conv1)
        conv1 = keras.layers.ReLU()(conv1)

        conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
        conv2 = keras.layers.BatchNormalization()(conv2)
        conv2 = keras.layers.ReLU()(conv2)

        conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
        conv3 = keras.layers.BatchNormalization()(conv3)
        conv3 = keras.layers.ReLU()(conv3)

        gap = keras.layers.GlobalAveragePooling1D()(conv3)

        output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

        return keras.models.Model(inputs=input_layer, outputs=output_layer)

    model = make_model(input_shape=x_train.shape[1:])
    assert model.count_params() == 25858  # tf_keras 2.21's total for the same model
    assert model.output_shape == (None, 2)

    epochs = 6
    batch_size = 8

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            "best_model.h5", save_best_only=True, monitor="val_loss"
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
    ]
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,  # 1 in the tutorial: a progress bar per epoch
    )
    assert sorted(history.history) == ["loss", "lr", "sparse_categorical_accuracy", "val_loss",
                                       "val_sparse_categorical_accuracy"]
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))

    model = keras.models.load_model("best_model.h5")

    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    assert test_acc > 0.9 and test_loss < 0.6  # print("Test accuracy", test_acc), ...

    metric = "sparse_categorical_accuracy"
    assert history.history[metric][-1] > 0.9 and len(history.history[f"val_{metric}"]) == 6
    # the file holds the epoch of the lowest val_loss: evaluating it on the validation
    # rows (the last 20% of x_train, as validation_split takes them) gives that loss
    x_val, y_val = x_train[128:], y_train[128:]
    assert model.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(val_loss[best], rel=1e-4)
