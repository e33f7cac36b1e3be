"""Keras guide "Training & evaluation with the built-in methods" (fchollet, keras-io
guides/training_with_built_in_methods.py, the tf.keras version of 2020/04/13), ported
with names changed only.

``from tensorflow import keras`` / ``from tensorflow.keras import layers`` -> the same
from ``minidl``; ``tf.data`` -> ``minidl.data``; ``tf.one_hot`` ->
``keras.utils.to_categorical``; ``tf.math.reduce_mean(tf.square(d))`` ->
``keras.ops.mean(d ** 2)``; ``tf.nn.softmax`` -> ``keras.ops.softmax``.  MNIST ->
the Fashion-MNIST sample bundled with minidl (3,000 training images, 500 of them
kept for validation, and 500 test images), so the reshape sizes change with it.
Sections that need something minidl lacks are strict xfails naming it.
"""

import os

import numpy as np
import pytest

import minidl
from minidl import keras
from minidl.keras import layers

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"needs {what}", raises=MISSING, strict=True)


def load_data():
    # keras.datasets.mnist.load_data() -> the bundled Fashion-MNIST sample
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data(sample=True)

    # Preprocess the data (these are NumPy arrays)
    x_train = x_train.reshape(3000, 784).astype("float32") / 255
    x_test = x_test.reshape(500, 784).astype("float32") / 255

    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")

    # Reserve 500 samples for validation (10,000 of MNIST's 60,000)
    x_val = x_train[-500:]
    y_val = y_train[-500:]
    x_train = x_train[:-500]
    y_train = y_train[:-500]
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


(x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


# --- API overview: a first end-to-end example ----------------------------------------------------
def test_api_overview_a_first_end_to_end_example(capsys):
    model = get_uncompiled_model()

    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    print("Fit model on training data")
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        # We pass some validation for
        # monitoring validation loss and metrics
        # at the end of each epoch
        validation_data=(x_val, y_val),
    )

    assert sorted(history.history) == ["loss", "sparse_categorical_accuracy", "val_loss",
                                       "val_sparse_categorical_accuracy"]
    assert history.history["loss"][1] < history.history["loss"][0]

    # Evaluate the model on the test data using `evaluate`
    print("Evaluate on test data")
    results = model.evaluate(x_test, y_test, batch_size=128)
    print("test loss, test acc:", results)

    # Generate predictions (probabilities -- the output of the last layer)
    # on new data using `predict`
    print("Generate predictions for 3 samples")
    predictions = model.predict(x_test[:3])
    print("predictions shape:", predictions.shape)

    out = capsys.readouterr().out
    assert out.startswith("Fit model on training data\nEpoch 1/2\n40/40 [")
    assert "\nEvaluate on test data\n4/4 [" in out
    assert f"test loss, test acc: {results}\n" in out
    assert out.endswith("predictions shape: (3, 10)\n")
    assert len(results) == 2 and results[1] > 0.5
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


# --- The compile() method: specifying a loss, metrics, and an optimizer ---------------------------
def test_the_compile_method():
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    first = model.evaluate(x_val, y_val, verbose=0)

    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    # The string identifiers name the same loss and metric.
    assert model.evaluate(x_val, y_val, verbose=0) == pytest.approx(first, rel=1e-6)
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy"]
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)


# --- Custom losses ------------------------------------------------------------------------
def custom_mean_squared_error(y_true, y_pred):
    return keras.ops.mean((y_true - y_pred) ** 2)  # tf.math.reduce_mean(tf.square(...))


def test_custom_losses_function():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = keras.utils.to_categorical(y_train, 10)  # tf.one_hot(y_train, depth=10)
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)

    predictions = model.predict(x_val, verbose=0)
    y_val_one_hot = keras.utils.to_categorical(y_val, 10)
    assert model.evaluate(x_val, y_val_one_hot, verbose=0) == pytest.approx(
        np.mean((y_val_one_hot - predictions) ** 2), rel=1e-4)
    assert history.history["loss"][0] < 0.09  # below guessing 0.1 everywhere


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = keras.ops.mean((y_true - y_pred) ** 2)
        reg = keras.ops.mean((0.5 - y_pred) ** 2)
        return mse + reg * self.regularization_factor


def test_custom_losses_subclass():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())

    y_train_one_hot = keras.utils.to_categorical(y_train, 10)
    model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)

    predictions = model.predict(x_val, verbose=0)
    y_val_one_hot = keras.utils.to_categorical(y_val, 10)
    expected = (np.mean((y_val_one_hot - predictions) ** 2)
                + 0.1 * np.mean((0.5 - predictions) ** 2))
    assert model.evaluate(x_val, y_val_one_hot, verbose=0) == pytest.approx(expected, rel=1e-4)


# --- Custom metrics -----------------------------------------------------------------------
class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super(CategoricalTruePositives, self).__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        # tf.reshape(tf.argmax(...)), tf.cast, tf.multiply, tf.reduce_sum -> NumPy
        y_pred = np.reshape(np.argmax(y_pred, axis=1), (-1, 1))
        values = np.asarray(y_true).astype("int32") == y_pred.astype("int32")
        values = values.astype("float32")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight).astype("float32")
            values = np.multiply(values, sample_weight)
        self.true_positives.assign_add(np.sum(values))

    def result(self):
        return self.true_positives

    def reset_states(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


def test_custom_metrics():
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    assert history.history["categorical_true_positives"][-1] > 1000


# --- Handling losses and metrics that don't fit the standard signature ----------------------------
class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(keras.ops.sum(inputs) * 0.1)  # tf.reduce_sum
        return inputs  # Pass-through layer.


def test_handling_losses_with_add_loss():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    # The displayed loss will be much higher than before
    # due to the regularization component.
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert history.history["loss"][0] > 3.0  # cross-entropy alone starts near 2.3

    # The added loss is 0.1 times the sum of the layer's activations, for each batch.
    model(x_val[:8])
    hidden = keras.Model(inputs, model.get_layer("dense_1").output).predict(x_val[:8], verbose=0)
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(0.1 * hidden.sum(), rel=1e-4)


class MetricLoggingLayer(layers.Layer):
    def call(self, inputs):
        # The `aggregation` argument defines
        # how to aggregate the per-batch values
        # over each epoch:
        # in this case we simply average them.
        self.add_metric(
            keras.backend.std(inputs), name="std_of_activation", aggregation="mean"
        )
        return inputs  # Pass-through layer.


def test_handling_metrics_with_add_metric():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert std logging as a layer.
    x = MetricLoggingLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=1)
    assert "std_of_activation" in history.history


@missing("Model.add_loss of a symbolic tensor (a functional model's own loss) and "
         "Model.add_metric")
def test_handling_losses_and_metrics_in_the_functional_api():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x2 = layers.Dense(64, activation="relu", name="dense_2")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.add_loss(keras.ops.sum(x1) * 0.1)

    model.add_metric(keras.backend.std(x1), name="std_of_activation", aggregation="mean")

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x_train, y_train, batch_size=64, epochs=1)


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super(LogisticEndpoint, self).__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy()

    def call(self, targets, logits, sample_weights=None):
        # Compute the training-time loss value and add it
        # to the layer using `self.add_loss()`.
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)

        # Log accuracy as a metric and add it
        # to the layer using `self.add_metric()`.
        acc = self.accuracy_fn(targets, logits, sample_weights)
        self.add_metric(acc, name="accuracy")

        # Return the inference-time prediction tensor (for `.predict()`).
        return keras.ops.softmax(logits)  # tf.nn.softmax


@missing("a layer called on two symbolic tensors as separate arguments "
         "(LogisticEndpoint(name=...)(logits, targets)), and Layer.add_metric")
def test_logistic_endpoint_compiled_without_a_loss():
    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(logits, targets)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!

    data = {
        "inputs": np.random.random((3, 3)),
        "targets": np.random.random((3, 10)),
    }
    model.fit(data)


# --- Automatically setting apart a validation holdout set -----------------------------------------
def test_automatically_setting_apart_a_validation_holdout_set(capsys):
    model = get_compiled_model()
    history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1)
    out = capsys.readouterr().out
    # "the last x% samples of the arrays received by the fit call, before any shuffling":
    # 2,000 samples train (32 batches), the last 500 validate.
    assert "32/32 [" in out and " - val_loss: " in out
    model_loss = model.evaluate(x_train[-500:], y_train[-500:], verbose=0)[0]
    assert history.history["val_loss"][0] == pytest.approx(model_loss, rel=1e-5)


# --- Training & evaluation from tf.data Datasets -------------------------------------------------
def test_training_and_evaluation_from_datasets(capsys):
    model = get_compiled_model()

    # First, let's create a training Dataset instance.
    # For the sake of our example, we'll use the same MNIST data as before.
    train_dataset = minidl.data.Dataset.from_tensor_slices((x_train, y_train))
    # Shuffle and slice the dataset.
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Now we get a test dataset.
    test_dataset = minidl.data.Dataset.from_tensor_slices((x_test, y_test))
    test_dataset = test_dataset.batch(64)

    # Since the dataset already takes care of batching,
    # we don't pass a `batch_size` argument.
    history = model.fit(train_dataset, epochs=3)

    # You can also evaluate or predict on a dataset.
    print("Evaluate")
    result = model.evaluate(test_dataset)
    logs = dict(zip(model.metrics_names, result))
    assert list(logs) == ["loss", "sparse_categorical_accuracy"]
    assert logs["loss"] == pytest.approx(model.evaluate(x_test, y_test, verbose=0)[0], rel=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]
    out = capsys.readouterr().out
    assert "Epoch 3/3\n40/40 [" in out and "\nEvaluate\n8/8 [" in out


def test_training_from_a_dataset_with_steps_per_epoch(capsys):
    model = get_compiled_model()

    # Prepare the training dataset
    train_dataset = minidl.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Only use the 10 batches per epoch (that's 64 * 10 samples; the guide's 100 batches
    # are more than the 40 of the sample)
    model.fit(train_dataset, epochs=3, steps_per_epoch=10)
    out = capsys.readouterr().out
    assert out.count("10/10 [") == 3
    # The dataset is not reset between epochs: 30 of its 40 batches were used.
    assert model.optimizer.iterations == 30


def test_using_a_validation_dataset(capsys):
    model = get_compiled_model()

    # Prepare the training dataset
    train_dataset = minidl.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Prepare the validation dataset
    val_dataset = minidl.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(64)

    history = model.fit(train_dataset, epochs=1, validation_data=val_dataset)
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x_val, y_val, verbose=0)[0], rel=1e-5)

    model = get_compiled_model()
    history = model.fit(
        train_dataset,
        epochs=1,
        # Only run validation using the first 2 batches of the dataset
        # using the `validation_steps` argument (10 in the guide; the sample has 8)
        validation_data=val_dataset,
        validation_steps=2,
    )
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x_val[:128], y_val[:128], verbose=0)[0], rel=1e-5)
    capsys.readouterr()


# --- Using sample weighting and class weighting --------------------------------------------------
class_weight = {
    0: 1.0,
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 1.0,
    # Set weight "2" for class "5",
    # making this class 2x more important
    5: 2.0,
    6: 1.0,
    7: 1.0,
    8: 1.0,
    9: 1.0,
}


def test_class_weights(capsys):
    print("Fit with class weight")
    model = get_compiled_model()
    weights = [w.numpy().copy() for w in model.weights]
    history = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1)
    assert capsys.readouterr().out.startswith("Fit with class weight\n40/40 [")

    # The same as sample weights of 2 for class 5 (two fresh models from the same weights).
    model, model_sw = get_compiled_model(), get_compiled_model()
    model_sw.set_weights(weights)
    model.set_weights(weights)
    sample_weight = np.where(y_train == 5, 2.0, 1.0)
    a = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1,
                  shuffle=False, verbose=0)
    b = model_sw.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                     shuffle=False, verbose=0)
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)
    assert history.history["loss"][0] > 0


def test_sample_weights():
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0

    print("Fit with sample weight")
    model = get_compiled_model()
    weights = [w.numpy().copy() for w in model.weights]
    history = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                        shuffle=False, verbose=0)

    # Keras's weighted loss: the sum of the weighted per-sample losses over the batch size.
    model.set_weights(weights)
    probabilities = model.predict(x_train[:64], verbose=0)
    per_sample = -np.log(probabilities[np.arange(64), y_train[:64].astype(int)])
    first_batch = model.train_on_batch(x_train[:64], y_train[:64],
                                       sample_weight=sample_weight[:64])
    assert first_batch[0] == pytest.approx(np.sum(per_sample * sample_weight[:64]) / 64,
                                           rel=1e-4)
    assert history.history["loss"][0] > 0


def test_sample_weights_dataset():
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0

    # Create a Dataset that includes sample weights
    # (3rd element in the return tuple).
    train_dataset = minidl.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))

    # Shuffle and slice the dataset.
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    model = get_compiled_model()
    weights = [w.numpy().copy() for w in model.weights]
    history = model.fit(train_dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    # Unshuffled, the dataset's weights act as fit(sample_weight=) does.
    model = get_compiled_model()
    model.set_weights(weights)
    a = model.fit(minidl.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))
                  .batch(64), epochs=1, verbose=0)
    model = get_compiled_model()
    model.set_weights(weights)
    b = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                  shuffle=False, verbose=0)
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)


# --- Passing data to multi-input, multi-output models --------------------------------------------
def test_passing_data_to_multi_input_multi_output_models_as_written():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )
    score, classes = model.predict([np.random.random_sample((4, 32, 32, 3)),
                                    np.random.random_sample((4, 20, 10))])
    assert score.shape == (4, 1) and classes.shape == (4, 5)


def multi_io_model():
    """The guide's model with the timeseries branch through Flatten and Dense instead of
    Conv1D and GlobalMaxPooling1D, for fixed 20-step series (the model as written is
    the test above)."""
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(20, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Flatten()(timeseries_input)
    x2 = layers.Dense(3)(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    return keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )


def test_passing_data_to_multi_input_multi_output_models_plot_and_compile():
    model = multi_io_model()

    keras.utils.plot_model(model, "multi_input_and_output_model.png", show_shapes=True)
    assert os.path.getsize("multi_input_and_output_model.png") > 1000

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32,
                        epochs=1, verbose=0)
    assert sorted(history.history) == ["class_output_loss", "loss", "score_output_loss"]
    h = history.history
    assert h["loss"][0] == pytest.approx(h["score_output_loss"][0] + h["class_output_loss"][0],
                                         rel=1e-5)


def test_passing_data_to_multi_input_multi_output_models_metrics():
    model = multi_io_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    # a few samples of the guide's data, to see the metrics' names in the logs
    img_data = np.random.random_sample(size=(16, 32, 32, 3))
    ts_data = np.random.random_sample(size=(16, 20, 10))
    score_targets = np.random.random_sample(size=(16, 1))
    class_targets = np.random.random_sample(size=(16, 5))
    history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=8, epochs=1,
                        verbose=0)
    assert set(history.history) == {
        "loss", "score_output_loss", "class_output_loss",
        "score_output_mean_absolute_percentage_error", "score_output_mean_absolute_error",
        "class_output_categorical_accuracy",
    }


def test_passing_data_to_multi_input_multi_output_models_dict_metrics_and_loss_weights():
    """The dict and loss_weights sections."""
    model = multi_io_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    h = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=100,
                  epochs=1, verbose=0).history
    assert sorted(h) == ["class_output_categorical_accuracy", "class_output_loss", "loss",
                         "score_output_loss", "score_output_mean_absolute_error"]
    assert h["loss"][0] == pytest.approx(2.0 * h["score_output_loss"][0]
                                         + h["class_output_loss"][0], rel=1e-5)


def test_passing_data_to_multi_input_multi_output_models_without_a_loss_for_an_output():
    model = multi_io_model()
    img_data, ts_data, score_targets, class_targets = dummy_data()

    # List loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )
    h = model.fit([img_data, ts_data], [score_targets, class_targets], epochs=1,
                  verbose=0).history
    assert sorted(h) == ["class_output_loss", "loss"]

    # Or dict loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"class_output": keras.losses.CategoricalCrossentropy()},
    )
    h = model.fit([img_data, ts_data], {"class_output": class_targets}, epochs=1,
                  verbose=0).history
    assert h["loss"] == pytest.approx(h["class_output_loss"], rel=1e-6)


def dummy_data():
    # Generate dummy NumPy data
    img_data = np.random.random_sample(size=(100, 32, 32, 3))
    ts_data = np.random.random_sample(size=(100, 20, 10))
    score_targets = np.random.random_sample(size=(100, 1))
    class_targets = np.random.random_sample(size=(100, 5))
    return img_data, ts_data, score_targets, class_targets


def test_passing_data_to_multi_input_multi_output_models_fit():
    model = multi_io_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )

    img_data, ts_data, score_targets, class_targets = dummy_data()
    weights = [w.numpy().copy() for w in model.weights]

    # Fit on lists
    a = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1,
                  shuffle=False, verbose=0)

    # Alternatively, fit on dicts (a fresh copy of the model, for the same numbers)
    first_model, model = model, multi_io_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )
    model.set_weights(weights)
    b = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1, shuffle=False, verbose=0,
    )
    assert first_model is not model
    for key in ["loss", "score_output_loss", "class_output_loss"]:
        assert a.history[key] == pytest.approx(b.history[key], rel=1e-6)

    train_dataset = minidl.data.Dataset.from_tensor_slices(
        (
            {"img_input": img_data, "ts_input": ts_data},
            {"score_output": score_targets, "class_output": class_targets},
        )
    )
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    history = model.fit(train_dataset, epochs=1, verbose=0)
    assert sorted(history.history) == ["class_output_loss", "loss", "score_output_loss"]


# --- Using callbacks ------------------------------------------------------------------------
def test_using_callbacks(capsys):
    model = get_compiled_model()

    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=1,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
    )
    val_loss = history.history["val_loss"]
    stopped = len(val_loss)
    assert stopped < 20
    out = capsys.readouterr().out
    assert out.endswith(f"Epoch {stopped}: early stopping\n")
    # The last two epochs improved on the best before them by less than 0.01.
    best_before = min(val_loss[:-2])
    assert all(v > best_before - 1e-2 for v in val_loss[-2:])


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


def test_writing_your_own_callback():
    model = get_compiled_model()
    loss_history = LossHistory()
    model.fit(x_train, y_train, epochs=1, batch_size=64, callbacks=[loss_history], verbose=0)
    assert len(loss_history.per_batch_losses) == 40
    assert loss_history.per_batch_losses[-1] < loss_history.per_batch_losses[0]


# --- Checkpointing models -------------------------------------------------------------------
def test_checkpointing_models(capsys):
    model = get_compiled_model()

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            # Path where to save the model
            # The two parameters below mean that we will overwrite
            # the current checkpoint if and only if
            # the `val_loss` score has improved.
            # The saved model name will include the current epoch.
            filepath="mymodel_{epoch}",
            save_best_only=True,  # Only save a model if `val_loss` has improved.
            monitor="val_loss",
            verbose=1,
        )
    ]
    history = model.fit(
        x_train, y_train, epochs=2, batch_size=64, callbacks=callbacks, validation_split=0.2
    )
    out = capsys.readouterr().out
    val_loss = history.history["val_loss"]
    assert f"Epoch 1: val_loss improved from inf to {val_loss[0]:.5f}, saving model to mymodel_1" in out
    assert sorted(name for name in os.listdir(".") if name.startswith("mymodel_"))[0] == "mymodel_1"
    restored = keras.models.load_model("mymodel_1")
    assert restored.evaluate(x_val, y_val, verbose=0)[0] > 0


def test_checkpointing_models_fault_tolerance(capsys):
    # Prepare a directory to store all the checkpoints.
    checkpoint_dir = "./ckpt"
    if not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    def make_or_restore_model():
        # Either restore the latest model, or create a fresh one
        # if there is no checkpoint available.
        checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            print("Restoring from", latest_checkpoint)
            return keras.models.load_model(latest_checkpoint)
        print("Creating a new model")
        return get_compiled_model()

    model = make_or_restore_model()
    callbacks = [
        # This callback saves a SavedModel every 10 batches (100 in the guide; an epoch of
        # the sample has 79). We include the training loss in the saved model name.
        keras.callbacks.ModelCheckpoint(
            filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}", save_freq=10
        )
    ]
    model.fit(x_train, y_train, epochs=1, callbacks=callbacks, verbose=0)
    saved = os.listdir(checkpoint_dir)
    assert saved and all(name.startswith("ckpt-loss=") for name in saved)

    restored = make_or_restore_model()
    out = capsys.readouterr().out
    assert out.startswith("Creating a new model\nRestoring from ./ckpt/ckpt-loss=")
    assert restored.optimizer.iterations == model.optimizer.iterations - (
        model.optimizer.iterations % 10)


# --- Using learning rate schedules ------------------------------------------------------------
def test_passing_a_schedule_to_an_optimizer():
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )

    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    assert float(lr_schedule(99999)) == pytest.approx(0.1)
    assert float(lr_schedule(100000)) == pytest.approx(0.096)
    assert float(optimizer.learning_rate) == pytest.approx(0.1)


# --- Visualizing loss and metrics during training ---------------------------------------------------
def test_using_the_tensorboard_callback(tmp_path):
    keras.callbacks.TensorBoard(
        log_dir="/full_path_to_your_logs",
        histogram_freq=0,  # How often to log histogram visualizations
        embeddings_freq=0,  # How often to log embedding visualizations
        update_freq="epoch",
    )  # How often to write logs (default: once per epoch)
    assert not os.path.exists("/full_path_to_your_logs")  # nothing is written before fit

    # the same arguments with a real folder, in a fit: event files TensorBoard reads
    callback = keras.callbacks.TensorBoard(log_dir=tmp_path / "logs", histogram_freq=0,
                                           embeddings_freq=0, update_freq="epoch")
    model = get_compiled_model()
    model.fit(x_train[:256], y_train[:256], epochs=2, batch_size=64, verbose=0,
              validation_data=(x_val[:64], y_val[:64]), callbacks=[callback])
    for run in ("train", "validation"):
        [name] = os.listdir(tmp_path / "logs" / run)
        assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
    events = minidl.callbacks.event_file.read_events(
        tmp_path / "logs" / "train" / os.listdir(tmp_path / "logs" / "train")[0])
    tags = [(value["tag"], one["step"]) for one in events for value in one["values"]]
    assert tags == [("keras", 0), ("epoch_loss", 0), ("epoch_sparse_categorical_accuracy", 0),
                    ("epoch_loss", 1), ("epoch_sparse_categorical_accuracy", 1)]
