"""keras.io example "Timeseries classification with a Transformer model"
(keras-team/keras-io examples/timeseries/timeseries_classification_transformer.py),
ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``.  The example as
first published (tf.keras, 2021/06/25) normalizes before attention and pools with
``GlobalAveragePooling1D(data_format="channels_first")`` -- on (batch, 500, 1) that
averages the one channel and leaves the 500 steps; the current version normalizes
after and pools with "channels_last".  Both are here.

The FordA download (``readucr``) -> ``readucr`` below, a synthetic 2-class series of
the same layout (label -1 or 1, then the values): class 1 carries a fast
oscillation over a slow one.  Sizes scaled down: series of 500 -> 100 steps,
3601 -> 120 training and 1320 -> 40 test series, ``epochs`` 200 -> 3 (the model's
hyperparameters are the example's).  ``np.random.permutation`` is seeded here.
"""

import numpy as np

from minidl import keras
from minidl.keras import layers

LENGTH = 100


def readucr(count, seed):
    """(x, y) as the example's readucr returns them: x (count, LENGTH), y in {-1, 1}."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH)
    y = np.where(rng.integers(0, 2, count) == 1, 1, -1)
    x = rng.normal(0, 0.3, (count, LENGTH)) + np.sin(2 * np.pi * t / 25 + rng.uniform(0, 6, (count, 1)))
    x[y == 1] += 0.8 * np.sin(2 * np.pi * t / 5)
    return x, y.astype(int)


def load_dataset():
    x_train, y_train = readucr(120, 0)
    x_test, y_test = readucr(40, 1)

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    n_classes = len(np.unique(y_train))

    idx = np.random.RandomState(0).permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0
    return (x_train, y_train), (x_test, y_test), n_classes


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    """The example's first version: normalization, then attention."""
    # Normalization and Attention
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(x, x)
    x = layers.Dropout(dropout)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.LayerNormalization(epsilon=1e-6)(res)
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    return x + res


def transformer_encoder_post_norm(inputs, head_size, num_heads, ff_dim, dropout=0):
    """The example's current version: attention, then normalization."""
    # Attention and Normalization
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
    n_classes=2,
    encoder=transformer_encoder,
    data_format="channels_first",
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format=data_format)(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def summary_rows(model):
    lines = []
    model.summary(print_fn=lines.append)
    return [line.rstrip() for line in lines]


def has_row(rows, name, output_shape):
    """A summary row of layer ``name`` with ``output_shape`` (whatever the column widths)."""
    return any(row.split()[:1] == [name] and f"  {output_shape}  " in row for row in rows)


def test_timeseries_classification_with_a_transformer(tmp_path):
    (x_train, y_train), (x_test, y_test), n_classes = load_dataset()
    input_shape = x_train.shape[1:]

    model = build_model(
        input_shape,
        head_size=256,
        num_heads=4,
        ff_dim=4,
        num_transformer_blocks=4,
        mlp_units=[128],
        mlp_dropout=0.4,
        dropout=0.25,
        n_classes=n_classes,
    )

    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    rows = summary_rows(model)
    # per block 7186 weights (attention 4 * 1 * 4 * 256 * 3 + 4 * 256 * 3 + 1025, two
    # LayerNormalizations 2 + 2, Conv1Ds 8 + 5), then Dense(128) on the 100 steps
    # left by channels_first pooling: 4 * 7186 + 100 * 128 + 128 + 258
    assert "Total params: 41,930" in rows
    assert has_row(rows, "tf.__operators__.add_7", "(None, 100, 1)")  # x + res: TFOpLambda
    assert has_row(rows, "global_average_pooling1d", "(None, 100)")

    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

    history = model.fit(
        x_train,
        y_train,
        validation_split=0.2,
        epochs=3,
        batch_size=64,
        callbacks=callbacks,
        verbose=0,
    )
    val_loss = history.history["val_loss"]
    assert len(val_loss) == 3 and val_loss[-1] < val_loss[0]
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}

    loss, accuracy = model.evaluate(x_test, y_test, verbose=1)
    assert np.isfinite(loss) and 0 <= accuracy <= 1

    # not in the example: saved and loaded, the same predictions
    predicted = model.predict(x_test, verbose=0)
    assert predicted.shape == (40, 2)
    np.testing.assert_allclose(predicted.sum(axis=1), 1, rtol=1e-5)
    model.save(tmp_path / "transformer.mdl")
    loaded = keras.models.load_model(tmp_path / "transformer.mdl")
    np.testing.assert_allclose(loaded.predict(x_test, verbose=0), predicted, rtol=1e-5, atol=1e-6)


def test_the_current_version_channels_last():
    (x_train, y_train), _, n_classes = load_dataset()
    model = build_model(x_train.shape[1:], head_size=256, num_heads=4, ff_dim=4,
                        num_transformer_blocks=4, mlp_units=[128], mlp_dropout=0.4,
                        dropout=0.25, n_classes=n_classes,
                        encoder=transformer_encoder_post_norm, data_format="channels_last")
    rows = summary_rows(model)
    assert "Total params: 29,258" in rows  # channels_last leaves 1 channel: Dense(128) 1 * 128 + 128
    assert has_row(rows, "global_average_pooling1d", "(None, 1)")
    predicted = model.predict(x_train[:8], verbose=0)
    assert predicted.shape == (8, 2)
    np.testing.assert_allclose(predicted.sum(axis=1), 1, rtol=1e-5)
