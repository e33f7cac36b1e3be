"""3.7 Predicting house prices: a regression example (Boston housing, K-fold validation).

``boston_housing.load_data()`` cannot download here: the stand-in has the same
structure, 13 float64 features on very different scales and prices in thousands of
dollars (404 + 102 samples).
The book's 4 folds x 100/500 epochs -> 4 folds x 10 epochs; the final 80 epochs kept.
"""

import numpy as np

from minidl import layers, models


def load_data(seed=0):
    rng = np.random.default_rng(seed)
    scales = np.array([3.6, 11.4, 11.1, 0.07, 0.55, 6.3, 68.6, 3.8, 9.5, 408., 18.5, 356.7, 12.7])
    weights = rng.normal(size=13)

    def make(n):
        x = rng.normal(size=(n, 13)) * scales + scales
        y = 22.5 + 3.0 * ((x - scales) / scales) @ weights / 4 + rng.normal(scale=1.0, size=n)
        return x, y

    return make(404), make(102)


def build_model(train_data):
    # Because we will need to instantiate
    # the same model multiple times,
    # we use a function to construct it.
    model = models.Sequential()
    model.add(layers.Dense(64, activation='relu', input_shape=(train_data.shape[1],)))
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(1))
    model.compile(optimizer='rmsprop', loss='mse', metrics=['mae'])
    return model


def test_predicting_house_prices_with_k_fold_validation():
    (train_data, train_targets), (test_data, test_targets) = load_data()
    assert train_data.shape == (404, 13) and test_data.shape == (102, 13)

    mean = train_data.mean(axis=0)
    train_data -= mean
    std = train_data.std(axis=0)
    train_data /= std
    test_data -= mean
    test_data /= std

    k = 4
    num_val_samples = len(train_data) // k
    num_epochs = 10
    all_scores = []
    all_mae_histories = []
    for i in range(k):
        # Prepare the validation data: data from partition # k
        val_data = train_data[i * num_val_samples: (i + 1) * num_val_samples]
        val_targets = train_targets[i * num_val_samples: (i + 1) * num_val_samples]

        # Prepare the training data: data from all other partitions
        partial_train_data = np.concatenate(
            [train_data[:i * num_val_samples],
             train_data[(i + 1) * num_val_samples:]],
            axis=0)
        partial_train_targets = np.concatenate(
            [train_targets[:i * num_val_samples],
             train_targets[(i + 1) * num_val_samples:]],
            axis=0)

        # Build the Keras model (already compiled)
        model = build_model(train_data)
        # Train the model (in silent mode, verbose=0)
        history = model.fit(partial_train_data, partial_train_targets,
                            validation_data=(val_data, val_targets),
                            epochs=num_epochs, batch_size=1, verbose=0)
        mae_history = history.history['val_mae']
        all_mae_histories.append(mae_history)
        # Evaluate the model on the validation data
        val_mse, val_mae = model.evaluate(val_data, val_targets, verbose=0)
        all_scores.append(val_mae)

    assert len(all_scores) == 4
    average_mae_history = [
        np.mean([x[i] for x in all_mae_histories]) for i in range(num_epochs)]
    assert average_mae_history[-1] < average_mae_history[0]

    def smooth_curve(points, factor=0.9):
        smoothed_points = []
        for point in points:
            if smoothed_points:
                previous = smoothed_points[-1]
                smoothed_points.append(previous * factor + point * (1 - factor))
            else:
                smoothed_points.append(point)
        return smoothed_points

    smooth_mae_history = smooth_curve(average_mae_history[2:])
    assert len(smooth_mae_history) == num_epochs - 2

    # Get a fresh, compiled model.
    model = build_model(train_data)
    # Train it on the entirety of the data.
    model.fit(train_data, train_targets, epochs=80, batch_size=16, verbose=0)
    test_mse_score, test_mae_score = model.evaluate(test_data, test_targets, verbose=0)
    baseline = np.mean(np.abs(test_targets - train_targets.mean()))
    assert test_mae_score < baseline, (test_mae_score, baseline)
