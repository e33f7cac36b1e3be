"""Keras guide "Customizing what happens in fit()" (fchollet, keras-io
guides/_customizing_what_happens_in_fit.py, the tf.keras version of 2023/06/14),
ported with names changed only.

tensorflow/keras -> minidl; ``tf.GradientTape`` -> ``minidl.GradientTape``;
``tf.concat`` -> ``minidl.ops.concatenate``; ``tf.shape(x)[0]`` -> ``x.shape[0]``;
``tf.ones`` / ``tf.zeros`` / ``tf.random.*`` -> NumPy (minidl has no tensor
constructors or random ops); MNIST -> tiny random images, ``tf.data`` -> arrays.
"""

import numpy as np
import pytest

import minidl as keras
from minidl import layers

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"minidl lacks {what}", raises=MISSING, strict=True)


def regression_data(n=256):
    rng = np.random.default_rng(0)
    x = rng.random((n, 32))
    y = x @ rng.random((32, 1)) / 8 + 0.1 * rng.random((n, 1))
    return x, y


# --- A first simple example ---------------------------------------------------------------------
class FirstCustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compute_loss(y=y, y_pred=y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


def test_a_first_simple_example():
    CustomModel = FirstCustomModel  # noqa: N806 (the guide's name)

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert isinstance(model, CustomModel)

    # Just use `fit` as usual
    x, y = regression_data()
    history = model.fit(x, y, epochs=3, verbose=0)
    # As in Keras 2, compiled metrics exist only once compiled_metrics.update_state()
    # has run ("available only after a model has been trained/evaluated"), which this
    # train_step never calls: self.metrics holds the loss alone, so "mae" is not logged.
    assert sorted(history.history) == ["loss"]
    losses = history.history["loss"]
    assert losses[2] < losses[1] < losses[0]


# --- Going lower-level ---------------------------------------------------------------------------
class LowerLevelCustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute our own loss
            loss = keras.losses.mean_squared_error(y, y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        # We list our `Metric` objects here so that `reset_states()` can be
        # called automatically at the start of each epoch
        # or at the start of `evaluate()`.
        return [self.loss_tracker, self.mae_metric]


def test_going_lower_level():
    CustomModel = LowerLevelCustomModel  # noqa: N806 (the guide's name)

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)

    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")

    # Just use `fit` as usual -- you can use callbacks, etc.
    x, y = regression_data()
    history = model.fit(x, y, epochs=5, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    losses = history.history["loss"]
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0]

    # The metrics are reset at each epoch: the last epoch's logs are that epoch's
    # means, not the means since the start of training.
    model.loss_tracker.reset_state()
    model.mae_metric.reset_state()
    model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    assert float(model.loss_tracker.count) == len(x)  # a Variable, as in Keras


# --- Supporting sample_weight & class_weight -----------------------------------------------------
class SampleWeightCustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value.
            # The loss function is configured in `compile()`.
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Update the metrics.
        # Metrics are configured in `compile()`.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_supporting_sample_weight_and_class_weight():
    CustomModel = SampleWeightCustomModel  # noqa: N806 (the guide's name)

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # You can now use sample_weight argument
    x, y = regression_data()
    sw = np.random.random((len(x), 1))
    model.fit(x, y, sample_weight=sw, epochs=3, verbose=0)


def test_supporting_sample_weight_in_compute_loss_and_metrics():
    """What works of the section without ``fit(sample_weight=...)``: the guide's
    ``train_step`` given ``(x, y, sample_weight)``, one batch, as fit would call it."""
    CustomModel = SampleWeightCustomModel  # noqa: N806 (the guide's name)
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = regression_data(64)
    sw = np.random.random((len(x), 1))

    y_pred = model.predict(x)
    # build the compiled metrics (fit's first step would), then start over
    model.compiled_metrics.update_state(y, y_pred)
    model.reset_metrics()
    logs = model.train_step((x.astype("float32"), y.astype("float32"), sw))
    weighted_mse = np.mean(sw[:, 0] * np.mean((y_pred - y) ** 2, axis=-1))
    np.testing.assert_allclose(float(logs["loss"]), weighted_mse, rtol=1e-4)
    weighted_mae = np.sum(sw[:, 0] * np.abs(y_pred - y)[:, 0]) / np.sum(sw)
    np.testing.assert_allclose(float(logs["mae"]), weighted_mae, rtol=1e-4)


# --- Providing your own evaluation step ----------------------------------------------------------
class EvaluationCustomModel(keras.Model):
    def test_step(self, data):
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        self.compute_loss(y=y, y_pred=y_pred)
        # Update the metrics.
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_providing_your_own_evaluation_step():
    CustomModel = EvaluationCustomModel  # noqa: N806 (the guide's name)

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])

    # Evaluate with our custom test_step
    x, y = regression_data()
    result = model.evaluate(x, y, verbose=0)
    mse = np.mean((model.predict(x) - y) ** 2)
    loss = result[0] if isinstance(result, list) else result
    np.testing.assert_allclose(loss, mse, rtol=1e-4)


# --- Wrapping up: an end-to-end GAN example ------------------------------------------------------
class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        # Sample random points in the latent space
        batch_size = real_images.shape[0]
        random_latent_vectors = np.random.normal(size=(batch_size, self.latent_dim))

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images
        combined_images = keras.ops.concatenate([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = np.concatenate(
            [np.ones((batch_size, 1)), np.zeros((batch_size, 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * np.random.uniform(size=labels.shape)

        # Train the discriminator
        with keras.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights)
        )

        # Sample random points in the latent space
        random_latent_vectors = np.random.normal(size=(batch_size, self.latent_dim))

        # Assemble labels that say "all real images"
        misleading_labels = np.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with keras.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {
            "d_loss": self.d_loss_tracker.result(),
            "g_loss": self.g_loss_tracker.result(),
        }


def test_wrapping_up_an_end_to_end_gan_example_networks():
    # Create the discriminator
    keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )

    # Create the generator
    latent_dim = 128
    keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 128),
            layers.LeakyReLU(alpha=0.2),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def test_wrapping_up_gan_random_ops():
    latent_dim = 128
    random_latent_vectors = keras.random.normal(shape=(4, latent_dim))
    labels = keras.random.uniform((8, 1))
    assert random_latent_vectors.shape == (4, 128) and labels.shape == (8, 1)


def test_wrapping_up_an_end_to_end_gan_example_train_step():
    """The guide's GAN class and fit call.  Its networks need missing layers (see
    above), so smaller ones made of minidl's layers stand in: Activation("leaky_relu")
    for LeakyReLU, GlobalAveragePooling2D for GlobalMaxPooling2D, Dense + Reshape
    for the Conv2DTranspose upsampling."""
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.Activation("leaky_relu"),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.Activation("leaky_relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    latent_dim = 16
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(28 * 28 * 2),
            layers.Activation("leaky_relu"),
            layers.Reshape((28, 28, 2)),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    # Prepare the dataset.
    batch_size = 32
    all_digits = np.random.default_rng(0).integers(0, 256, (96, 28, 28)).astype("uint8")
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = all_digits

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )

    d_before, g_before = discriminator.get_weights(), generator.get_weights()
    history = gan.fit(dataset, epochs=1, batch_size=batch_size, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert all(not np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, generator.get_weights()))
