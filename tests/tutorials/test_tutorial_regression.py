"""TensorFlow tutorial "Basic regression: Predict fuel efficiency"
(tensorflow/docs site/en/tutorials/keras/regression.ipynb, the version with
``layers.Normalization``), ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``;
``tf.keras.X`` / ``tf.optimizers.X`` -> ``keras.X`` / ``keras.optimizers.X``;
``tf.linspace`` -> ``np.linspace``.  The Auto MPG download, read with pandas,
-> a synthetic table of the same columns (made below, 200 cars; MPG falls with
weight and horsepower as in the real data), held as a NumPy array with a
column list: ``df['Horsepower']`` -> ``column(df, 'Horsepower')``; pandas'
``describe()`` -> NumPy means and standard deviations.  Plot cells are left
out; what they show (the losses, the fitted line) is asserted instead.
``dnn_model.save('dnn_model')`` (a SavedModel folder) ->
``dnn_model.save('dnn_model.keras')``, as the current tutorial writes it.
"""

import numpy as np
import pytest

from minidl import keras
from minidl.keras import layers

column_names = ['MPG', 'Cylinders', 'Displacement', 'Horsepower', 'Weight',
                'Acceleration', 'Model Year', 'Origin']
# After the one-hot encoding of 'Origin' (pd.get_dummies orders the new columns by name).
feature_names = ['Cylinders', 'Displacement', 'Horsepower', 'Weight', 'Acceleration',
                 'Model Year', 'Europe', 'Japan', 'USA']


def raw_dataset(n=200, seed=0):
    """Auto MPG's columns with values in the real ranges, and six unknown horsepowers."""
    rng = np.random.default_rng(seed)
    cylinders = rng.choice([4, 6, 8], n, p=[0.5, 0.25, 0.25]).astype(float)
    displacement = cylinders * rng.uniform(20, 45, n)
    horsepower = 20 + displacement * rng.uniform(0.4, 0.6, n)
    weight = 1000 + 10 * displacement + rng.normal(0, 200, n)
    acceleration = 24 - horsepower / 20 + rng.normal(0, 1.5, n)
    model_year = rng.integers(70, 83, n).astype(float)
    origin = np.where(cylinders > 4, 1, rng.integers(1, 4, n)).astype(float)
    mpg = (50 - 0.007 * weight - 0.05 * horsepower + 0.7 * (model_year - 70)
           + 0.0004 * (horsepower - 130) ** 2 + rng.normal(0, 1.5, n))
    mpg = np.clip(mpg, 9, 46)
    horsepower[rng.choice(n, 6, replace=False)] = np.nan
    return np.column_stack([mpg, cylinders, displacement, horsepower, weight,
                            acceleration, model_year, origin])


def column(table, name, names=feature_names):
    """``table[name]`` of a pandas DataFrame."""
    return table[:, names.index(name)]


def load_and_split():
    """The notebook's cells from "Get the data" to "Split features from labels"."""
    dataset = raw_dataset()
    # dataset = dataset.dropna()
    dataset = dataset[~np.isnan(dataset).any(axis=1)]
    # dataset['Origin'].map({1: 'USA', 2: 'Europe', 3: 'Japan'}) and pd.get_dummies
    origin = column(dataset, 'Origin', column_names)
    one_hot = np.column_stack([origin == 2, origin == 3, origin == 1]).astype(float)
    dataset = np.column_stack([dataset[:, :7], one_hot])
    # train_dataset = dataset.sample(frac=0.8, random_state=0)
    order = np.random.default_rng(0).permutation(len(dataset))
    n_train = round(0.8 * len(dataset))
    train_dataset, test_dataset = dataset[order[:n_train]], dataset[order[n_train:]]
    # train_labels = train_features.pop('MPG')
    train_features, train_labels = train_dataset[:, 1:], train_dataset[:, 0]
    test_features, test_labels = test_dataset[:, 1:], test_dataset[:, 0]
    return train_features, train_labels, test_features, test_labels


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def param_counts(lines):
    """The Param # column of a summary, one number a layer (long names wrap onto a second line)."""
    return [line.split()[-1] for line in lines[4:] if line.startswith(" ")
            and len(line.split()) > 2 and line.split()[-1].replace(",", "").isdigit()]


def adapted_normalizers(train_features):
    normalizer = keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))
    horsepower = np.array(column(train_features, 'Horsepower'))
    horsepower_normalizer = layers.Normalization(input_shape=[1,], axis=None)
    horsepower_normalizer.adapt(horsepower)
    return normalizer, horsepower_normalizer


def build_and_compile_model(norm):
    model = keras.Sequential([
        norm,
        layers.Dense(64, activation='relu'),
        layers.Dense(64, activation='relu'),
        layers.Dense(1)
    ])

    model.compile(loss='mean_absolute_error',
                  optimizer=keras.optimizers.Adam(0.001))
    return model


# --- The Auto MPG dataset: get, clean, split ---------------------------------------------------
def test_the_auto_mpg_dataset():
    dataset = raw_dataset()
    # dataset.isna().sum(): only Horsepower has unknown values
    assert np.isnan(dataset).sum(axis=0).tolist() == [0, 0, 0, 6, 0, 0, 0, 0]

    train_features, train_labels, test_features, test_labels = load_and_split()
    assert train_features.shape == (155, 9) and test_features.shape == (39, 9)
    assert train_labels.shape == (155,) and test_labels.shape == (39,)
    # The one-hot origin columns hold exactly one 1 per car.
    np.testing.assert_array_equal(train_features[:, 6:].sum(axis=1), 1.0)


# --- Normalization: the Normalization layer ----------------------------------------------------
def test_the_normalization_layer(capsys):
    train_features, train_labels, _, _ = load_and_split()
    normalizer = keras.layers.Normalization(axis=-1)

    normalizer.adapt(np.array(train_features))

    print(normalizer.mean.numpy())
    assert normalizer.mean.numpy().shape == (1, 9)
    np.testing.assert_allclose(normalizer.mean.numpy()[0], train_features.mean(axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(normalizer.variance.numpy()[0], train_features.var(axis=0),
                               rtol=1e-4)

    first = np.array(train_features[:1])

    with np.printoptions(precision=2, suppress=True):
        print('First example:', first)
        print()
        print('Normalized:', normalizer(first).numpy())
    expected = (first - train_features.mean(axis=0)) / train_features.std(axis=0)
    np.testing.assert_allclose(normalizer(first).numpy(), expected, rtol=1e-4, atol=1e-5)
    out = capsys.readouterr().out
    assert "\nFirst example: [[" in out and "\n\nNormalized: [[" in out


# --- Linear regression with one variable -------------------------------------------------------
def test_linear_regression_with_one_variable():
    train_features, train_labels, test_features, test_labels = load_and_split()
    normalizer = keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))

    horsepower = np.array(column(train_features, 'Horsepower'))

    horsepower_normalizer = layers.Normalization(input_shape=[1,], axis=None)
    horsepower_normalizer.adapt(horsepower)

    horsepower_model = keras.Sequential([
        horsepower_normalizer,
        layers.Dense(units=1)
    ])

    lines = summary_lines(horsepower_model)
    assert lines[0] == 'Model: "sequential"'
    assert lines[4].split()[:2] == ["normalization_1", "(Normaliza"]
    assert lines[4].split()[2:] == ["(None,", "1)", "3"]
    assert "Total params: 5" in lines
    assert "Trainable params: 2" in lines
    assert "Non-trainable params: 3" in lines

    assert horsepower_model.predict(horsepower[:10]).shape == (10, 1)

    horsepower_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1),
        loss='mean_absolute_error')

    history = horsepower_model.fit(
        column(train_features, 'Horsepower'),
        train_labels,
        epochs=100,
        # Suppress logging.
        verbose=0,
        # Calculate validation results on 20% of the training data.
        validation_split = 0.2)
    # hist = pd.DataFrame(history.history); hist['epoch'] = history.epoch
    assert sorted(history.history) == ['loss', 'val_loss']
    assert history.epoch == list(range(100))
    loss = history.history['loss']
    assert loss[-1] < 0.5 * loss[0]

    test_results = {}

    test_results['horsepower_model'] = horsepower_model.evaluate(
        column(test_features, 'Horsepower'),
        test_labels, verbose=0)
    # Better than always predicting the training mean.
    assert test_results['horsepower_model'] < np.mean(np.abs(test_labels - train_labels.mean()))

    x = np.linspace(0.0, 250, 251)  # tf.linspace
    y = horsepower_model.predict(x)
    assert y.shape == (251, 1)
    # A straight line: constant steps, falling (more horsepower, fewer miles per gallon).
    steps = np.diff(y[:, 0])
    np.testing.assert_allclose(steps, steps[0], rtol=1e-3, atol=1e-5)
    assert steps[0] < 0


# --- Linear regression with multiple inputs ----------------------------------------------------
def test_linear_regression_with_multiple_inputs():
    train_features, train_labels, test_features, test_labels = load_and_split()
    normalizer, horsepower_normalizer = adapted_normalizers(train_features)
    horsepower_model = keras.Sequential([horsepower_normalizer, layers.Dense(units=1)])
    horsepower_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                             loss='mean_absolute_error')
    horsepower_model.fit(column(train_features, 'Horsepower'), train_labels, epochs=100,
                         verbose=0, validation_split=0.2)

    linear_model = keras.Sequential([
        normalizer,
        layers.Dense(units=1)
    ])

    assert linear_model.predict(train_features[:10]).shape == (10, 1)

    kernel = linear_model.layers[1].kernel
    assert kernel.shape == (9, 1)
    assert kernel.name.startswith('dense_1/kernel')  # tf.Variable 'dense_1/kernel:0'

    linear_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.1),
        loss='mean_absolute_error')

    history = linear_model.fit(
        train_features,
        train_labels,
        epochs=100,
        # Suppress logging.
        verbose=0,
        # Calculate validation results on 20% of the training data.
        validation_split = 0.2)

    test_results = {}
    test_results['horsepower_model'] = horsepower_model.evaluate(
        column(test_features, 'Horsepower'), test_labels, verbose=0)
    test_results['linear_model'] = linear_model.evaluate(
        test_features, test_labels, verbose=0)
    # "a much lower training and validation error than the horsepower_model"
    assert test_results['linear_model'] < test_results['horsepower_model']
    assert history.history['val_loss'][-1] < 3.0


# --- Regression with a deep neural network (DNN) -----------------------------------------------
def test_regression_using_a_dnn_and_a_single_input():
    train_features, train_labels, test_features, test_labels = load_and_split()
    normalizer, horsepower_normalizer = adapted_normalizers(train_features)
    layers.Dense(units=1)  # the linear models' layers, for the names that follow
    layers.Dense(units=1)

    dnn_horsepower_model = build_and_compile_model(horsepower_normalizer)

    lines = summary_lines(dnn_horsepower_model)
    assert lines[0] == 'Model: "sequential"'
    assert param_counts(lines) == ["3", "128", "4160", "65"]
    assert lines[7].split()[:2] == ["dense_2", "(Dense)"]
    assert "Total params: 4,356" in lines
    assert "Trainable params: 4,353" in lines

    history = dnn_horsepower_model.fit(
        column(train_features, 'Horsepower'),
        train_labels,
        validation_split=0.2,
        verbose=0, epochs=100)
    assert history.history['loss'][-1] < 0.5 * history.history['loss'][0]

    x = np.linspace(0.0, 250, 251)  # tf.linspace
    y = dnn_horsepower_model.predict(x)
    # The hidden layers bend the line: its slope is not one number.
    steps = np.diff(y[:, 0])
    assert steps.max() - steps.min() > 1e-3

    test_results = {}
    test_results['dnn_horsepower_model'] = dnn_horsepower_model.evaluate(
        column(test_features, 'Horsepower'), test_labels,
        verbose=0)
    assert test_results['dnn_horsepower_model'] < 6.0


# --- Regression using a DNN and multiple inputs, performance, make predictions --------------------
def test_regression_using_a_dnn_and_multiple_inputs():
    train_features, train_labels, test_features, test_labels = load_and_split()
    normalizer, horsepower_normalizer = adapted_normalizers(train_features)

    dnn_model = build_and_compile_model(normalizer)
    lines = summary_lines(dnn_model)
    assert param_counts(lines) == ["19", "640", "4160", "65"]
    assert "Total params: 4,884" in lines
    assert "Non-trainable params: 19" in lines

    history = dnn_model.fit(
        train_features,
        train_labels,
        validation_split=0.2,
        verbose=0, epochs=100)
    assert history.history['val_loss'][-1] < 0.5 * history.history['val_loss'][0]

    test_results = {}
    test_results['dnn_model'] = dnn_model.evaluate(test_features, test_labels, verbose=0)
    assert test_results['dnn_model'] < 4.0

    # Make predictions
    test_predictions = dnn_model.predict(test_features).flatten()
    assert test_predictions.shape == test_labels.shape
    error = test_predictions - test_labels
    np.testing.assert_allclose(np.mean(np.abs(error)), test_results['dnn_model'], rtol=1e-4)

    dnn_model.save('dnn_model.keras')

    reloaded = keras.models.load_model('dnn_model.keras')

    test_results['reloaded'] = reloaded.evaluate(
        test_features, test_labels, verbose=0)
    assert test_results['reloaded'] == pytest.approx(test_results['dnn_model'], rel=1e-6)
    np.testing.assert_array_equal(reloaded.predict(test_features).flatten(), test_predictions)
