"""Keras guide "Writing a training loop from scratch" (fchollet, keras-io
guides/writing_a_training_loop_from_scratch.py, tf.keras version of 2020/04/15),
ported with names changed only.

tensorflow/keras -> minidl; ``tf.GradientTape`` -> ``minidl.GradientTape``;
``tf.reduce_sum`` / ``tf.concat`` -> ``minidl.ops.sum`` / ``concatenate``;
``tf.ones`` / ``tf.zeros`` / ``tf.random.*`` -> NumPy (minidl has no tensor
constructors or random ops).  MNIST -> tiny random digits; ``tf.data`` pipelines
-> the same batches cut from arrays (``tf.data`` itself -> ``minidl.data``, tested below).
"""

import time

import numpy as np
import pytest

import minidl as keras
from minidl import layers

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"minidl lacks {what}", raises=MISSING, strict=True)


def load_digits(n_train=512, n_test=128):
    """MNIST's shapes and dtypes (uint8 28x28 images, uint8 labels); labels follow
    a fixed linear rule of the pixels, so a model can learn them."""
    rng = np.random.default_rng(0)
    rule = rng.standard_normal((784, 10))

    def make(n):
        x = rng.integers(0, 256, (n, 28, 28)).astype("uint8")
        y = (x.reshape(n, 784) / 255.0 @ rule).argmax(axis=1).astype("uint8")
        return x, y

    return make(n_train), make(n_test)


def batches(x, y, batch_size, shuffle=False):
    """``tf.data.Dataset.from_tensor_slices((x, y)).shuffle(...).batch(batch_size)``."""
    order = np.random.permutation(len(x)) if shuffle else np.arange(len(x))
    return [(x[order[i:i + batch_size]], y[order[i:i + batch_size]])
            for i in range(0, len(x), batch_size)]


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


# --- Using the GradientTape: a first end-to-end example ---------------------------------------
def test_using_the_gradient_tape_a_first_end_to_end_example():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = layers.Dense(64, activation="relu")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    # Instantiate an optimizer.
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # Prepare the training dataset.
    batch_size = 64
    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train = np.reshape(x_train, (-1, 784))
    x_test = np.reshape(x_test, (-1, 784))

    epochs = 2
    epoch_losses = []
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))
        train_dataset = batches(x_train, y_train, batch_size, shuffle=True)
        losses = []

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):

            # Open a GradientTape to record the operations run
            # during the forward pass, which enables auto-differentiation.
            with keras.GradientTape() as tape:

                # Run the forward pass of the layer.
                logits = model(x_batch_train, training=True)  # Logits for this minibatch

                # Compute the loss value for this minibatch.
                loss_value = loss_fn(y_batch_train, logits)

            # Use the gradient tape to automatically retrieve
            # the gradients of the trainable variables with respect to the loss.
            grads = tape.gradient(loss_value, model.trainable_weights)

            # Run one step of gradient descent by updating
            # the value of the variables to minimize the loss.
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            losses.append(float(loss_value))

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %s samples" % ((step + 1) * 64))
        epoch_losses.append(np.mean(losses))

    assert [g.shape for g in grads] == [w.shape for w in model.trainable_weights]
    assert optimizer.iterations == 2 * 8
    assert all(np.isfinite(epoch_losses))
    assert epoch_losses[1] < epoch_losses[0]


# --- Low-level handling of metrics -------------------------------------------------------------
def test_low_level_handling_of_metrics():
    # Get model
    model = get_model()

    # Instantiate an optimizer to train the model.
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # Prepare the metrics.
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    # Prepare the training dataset.
    batch_size = 64
    (x_train, y_train), _ = load_digits()
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255

    # Reserve 128 samples for validation.
    x_val = x_train[-128:]
    y_val = y_train[-128:]
    x_train = x_train[:-128]
    y_train = y_train[:-128]
    val_dataset = batches(x_val, y_val, 64)

    epochs = 2
    train_accs, val_accs = [], []
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))
        start_time = time.time()
        train_dataset = batches(x_train, y_train, batch_size, shuffle=True)

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            with keras.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))

            # Update training metric.
            train_acc_metric.update_state(y_batch_train, logits)

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %d samples" % ((step + 1) * 64))

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        print("Training acc over epoch: %.4f" % (float(train_acc),))
        train_accs.append(float(train_acc))

        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_states()
        assert float(train_acc_metric.result()) == 0.0

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            val_logits = model(x_batch_val, training=False)
            # Update val metrics
            val_acc_metric.update_state(y_batch_val, val_logits)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_states()
        print("Validation acc: %.4f" % (float(val_acc),))
        print("Time taken: %.2fs" % (time.time() - start_time))
        val_accs.append(float(val_acc))

        expected = np.mean(model.predict(x_val).argmax(axis=1) == y_val)
        np.testing.assert_allclose(val_acc, expected, rtol=1e-6)

    assert all(0.0 <= a <= 1.0 for a in train_accs + val_accs)


# --- Speeding-up your training step with tf.function ---------------------------------------------
def test_speeding_up_your_training_step_with_tf_function():
    model = get_model()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @keras.function  # tf.function (keras is minidl here): it runs eagerly, the function is returned as is
    def test_step(x, y):
        return loss_fn(y, model(x, training=False))

    x = np.random.random((4, 784)).astype("float32")
    y = np.array([0, 1, 2, 3])
    assert float(test_step(x, y)) == pytest.approx(float(loss_fn(y, model(x))))


def test_speeding_up_your_training_step_steps_without_the_decorator():
    """The section's train_step/test_step functions and loop, undecorated."""
    model = get_model()
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    (x_train, y_train), (x_val, y_val) = load_digits()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_val = x_val.reshape(-1, 784).astype("float32") / 255
    val_dataset = batches(x_val, y_val, 64)

    def train_step(x, y):
        with keras.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    epochs = 2
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))
        start_time = time.time()
        train_dataset = batches(x_train, y_train, 64, shuffle=True)

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %d samples" % ((step + 1) * 64))

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        print("Training acc over epoch: %.4f" % (float(train_acc),))

        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_states()

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)

        val_acc = val_acc_metric.result()
        val_acc_metric.reset_states()
        print("Validation acc: %.4f" % (float(val_acc),))
        print("Time taken: %.2fs" % (time.time() - start_time))
        assert 0.0 <= float(val_acc) <= 1.0
    assert np.isfinite(float(loss_value))


# --- Low-level handling of losses tracked by the model ------------------------------------------
class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * keras.ops.sum(inputs))
        return inputs


def test_low_level_handling_of_losses_tracked_by_the_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu")(inputs)
    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    def train_step(x, y):
        with keras.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            # Add any extra losses created during the forward pass.
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    (x_train, y_train), _ = load_digits(64, 1)
    x_batch = x_train.reshape(-1, 784).astype("float32") / 255
    hidden = keras.Model(inputs, model.layers[2].output)
    activity = 1e-2 * float(np.sum(hidden.predict(x_batch)))
    plain = float(loss_fn(y_train, model.predict(x_batch)))

    loss_value = train_step(x_batch, y_train)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(loss_value), plain + activity, rtol=1e-4)


# --- End-to-end example: a GAN training loop from scratch ----------------------------------------
def test_end_to_end_example_a_gan_training_loop_from_scratch_networks():
    discriminator = keras.Sequential(
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
    discriminator.summary()

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


def test_end_to_end_example_a_gan_saving_a_generated_image(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    monkeypatch.chdir(tmp_path)
    generated_images = np.random.random((1, 28, 28, 1)).astype("float32")
    img = keras.preprocessing.image.array_to_img(generated_images[0] * 255.0, scale=False)
    img.save("generated_img0.png")
    assert (tmp_path / "generated_img0.png").read_bytes()[:4] == b"\x89PNG"


def test_end_to_end_example_a_gan_training_loop_from_scratch():
    """The guide's train_step and loop.  The networks need missing layers (see
    above): smaller ones made of minidl's layers stand in for them."""
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

    # Instantiate one optimizer for the discriminator and another for the generator.
    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)

    # Instantiate a loss function.
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    batch_size = 32

    def train_step(real_images):
        # Sample random points in the latent space
        random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))
        # Decode them to fake images
        generated_images = generator(random_latent_vectors)
        # Combine them with real images
        combined_images = keras.ops.concatenate([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = np.concatenate(
            [np.ones((batch_size, 1)), np.zeros((real_images.shape[0], 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * np.random.uniform(size=labels.shape)

        # Train the discriminator
        with keras.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_weights))

        # Sample random points in the latent space
        random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))
        # Assemble labels that say "all real images"
        misleading_labels = np.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with keras.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss, g_loss, generated_images

    # Prepare the dataset. We use both the training & test MNIST digits.
    (x_train, _), (x_test, _) = load_digits(64, 32)
    all_digits = np.concatenate([x_train, x_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = [all_digits[i:i + batch_size] for i in range(0, len(all_digits), batch_size)]

    epochs = 1  # In practice you need at least 20 epochs to generate nice digits.
    d_before = discriminator.get_weights()
    for epoch in range(epochs):
        print("\nStart epoch", epoch)

        for step, real_images in enumerate(dataset):
            # Train the discriminator & generator on one batch of real images.
            d_loss, g_loss, generated_images = train_step(real_images)

            # Logging.
            if step % 200 == 0:
                # Print metrics
                print("discriminator loss at step %d: %.2f" % (step, d_loss))
                print("adversarial loss at step %d: %.2f" % (step, g_loss))

            # To limit execution time we stop after 10 steps.
            if step > 10:
                break

    assert generated_images.shape == (batch_size, 28, 28, 1)
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    assert d_optimizer.iterations == g_optimizer.iterations == 3
    assert all(not np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))


# --- tf.data, used by every section of the guide -------------------------------------------------
def test_the_guide_datasets_with_tf_data():
    (x_train, y_train), _ = load_digits(64, 1)
    train_dataset = keras.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)
    assert len(list(train_dataset)) == 1
