"""Keras guide "Making new layers and models via subclassing" (fchollet, keras-io
guides/making_new_layers_and_models_via_subclassing.py, tf.keras version of
2023/03/16), ported with names changed only.

tensorflow/keras -> minidl; ``tf.matmul`` / ``tf.nn.relu`` / ``tf.reduce_sum`` /
``tf.reduce_mean`` / ``tf.exp`` / ``tf.nn.dropout`` -> ``minidl.ops.matmul`` /
``relu`` / ``sum`` / ``mean`` / ``exp`` / ``dropout``; ``tf.square`` ->
``minidl.ops.pow(x, 2)`` (no ``square``); ``tf.shape(x)[i]`` -> ``x.shape[i]``;
``tf.ones`` / ``tf.zeros`` -> NumPy; ``tf.GradientTape`` -> ``minidl.GradientTape``;
MNIST -> tiny random data, batched by slicing instead of ``tf.data``.
"""

import numpy as np
import pytest

import minidl as keras
from minidl import layers, ops

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"minidl lacks {what}", raises=MISSING, strict=True)


# --- The Layer class: the combination of state (weights) and some computation -------------------
class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_the_layer_class():
    x = np.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    print(y)
    assert y.shape == (2, 4)
    np.testing.assert_allclose(y.numpy(), np.ones((2, 2)) @ linear_layer.w.numpy(), rtol=1e-6)

    # the weights `w` and `b` are automatically tracked by the layer
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]


# --- Layers can have non-trainable weights -------------------------------------------------------
class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_layers_can_have_non_trainable_weights():
    x = np.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    print(y.numpy())
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0])
    y = my_sum(x)
    print(y.numpy())
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])

    # It's part of `layer.weights`, but it gets categorized as a non-trainable weight:
    print("weights:", len(my_sum.weights))
    print("non-trainable weights:", len(my_sum.non_trainable_weights))
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1

    # It's not included in the trainable weights:
    print("trainable_weights:", my_sum.trainable_weights)
    assert my_sum.trainable_weights == []


# --- Best practice: deferring weight creation until the shape of the inputs is known -------------
class LazyLinear(keras.layers.Layer):
    """The guide's second ``Linear``: weights made in ``build``."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_deferring_weight_creation_until_the_shape_of_the_inputs_is_known():
    Linear = LazyLinear  # noqa: N806 (the guide redefines Linear)
    x = np.ones((2, 2))

    # At instantiation, we don't know on what inputs this is going to get called
    linear_layer = Linear(32)
    assert linear_layer.weights == []

    # The layer's weights are created dynamically the first time the layer is called
    y = linear_layer(x)
    assert y.shape == (2, 32)
    assert [tuple(w.shape) for w in linear_layer.weights] == [(2, 32), (32,)]


# --- Layers are recursively composable ----------------------------------------------------------
class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = ops.relu(x)
        x = self.linear_2(x)
        x = ops.relu(x)
        return self.linear_3(x)


def test_layers_are_recursively_composable():
    mlp = MLPBlock()
    y = mlp(np.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    print("weights:", len(mlp.weights))
    print("trainable weights:", len(mlp.trainable_weights))
    assert y.shape == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6


# --- The add_loss() method -----------------------------------------------------------------------
# A layer that creates an activity regularization loss
class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


def test_the_add_loss_method():
    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called

    _ = layer(np.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value

    # `layer.losses` gets reset at the start of each __call__
    _ = layer(np.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above


def test_the_add_loss_method_kernel_regularizer():
    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(
                32, kernel_regularizer=keras.regularizers.l2(1e-3)
            )

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(np.zeros((1, 1)))

    # This is `1e-3 * sum(layer.dense.kernel ** 2)`,
    # created by the `kernel_regularizer` above.
    print(layer.losses)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(
        float(layer.losses[0]), 1e-3 * np.sum(layer.dense.kernel.numpy() ** 2), rtol=1e-5)


def test_the_add_loss_method_with_fit():
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization
    # losses get added to it
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    history = model.fit(x, y, verbose=0)
    expected = np.mean((x - y) ** 2) + 1e-2 * np.mean(x)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)

    # It's also possible not to pass any loss in `compile`,
    # since the model already has a loss to minimize, via the `add_loss`
    # call during the forward pass!
    model.compile(optimizer="adam")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    history = model.fit(x, y, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 1e-2 * np.mean(x), rtol=1e-5)


# --- You can optionally enable serialization on your layers --------------------------------------
def test_you_can_optionally_enable_serialization_on_your_layers():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    # Now you can recreate the layer from its config:
    layer = Linear(64)
    config = layer.get_config()
    print(config)
    assert config == {"units": 64}
    new_layer = Linear.from_config(config)
    assert new_layer.units == 64


def test_you_can_optionally_enable_serialization_on_your_layers_with_base_config():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    layer = Linear(64)
    config = layer.get_config()
    print(config)
    # Keras 2 prints {'name': 'linear', 'trainable': True, 'dtype': 'float32', 'units': 64}
    assert config == {"name": "linear", "trainable": True, "dtype": "float32", "units": 64}
    new_layer = Linear.from_config(config)
    assert (new_layer.name, new_layer.units) == ("linear", 64)


# --- Privileged training argument in the call() method -------------------------------------------
class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if training:
            return ops.dropout(inputs, rate=self.rate)
        return inputs


def test_privileged_training_argument_in_the_call_method():
    layer = CustomDropout(0.5)
    x = np.ones((4, 100), dtype="float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    dropped = layer(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}

    # fit() calls the layer in training mode, predict() in inference mode.
    seen = []

    class Spy(CustomDropout):
        def call(self, inputs, training=False):
            seen.append(training)
            return super().call(inputs, training=training)

    inputs = keras.Input(shape=(100,))
    outputs = layers.Dense(1)(Spy(0.5)(inputs))
    model = keras.Model(inputs, outputs)
    seen.clear()  # building the model ran call once on placeholder shapes
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((4, 1)), verbose=0)
    model.predict(x)
    assert seen == [True, False]


# --- Putting it all together: an end-to-end example (a VAE) --------------------------------------
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit.

    ``keras.backend.random_normal`` is missing (see the xfail below): epsilon is
    drawn with NumPy here."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = z_mean.shape[0]
        dim = z_mean.shape[1]
        epsilon = np.random.normal(size=(batch, dim)).astype("float32")
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(
            z_log_var - ops.pow(z_mean, 2) - ops.exp(z_log_var) + 1
        )
        self.add_loss(kl_loss)
        return reconstructed


def digits(n=256):
    """Random stand-ins for MNIST digits: 784 values in [0, 1], with structure to learn."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 784)) > 0.7
    return (prototypes[rng.integers(0, 4, n)] * 255).astype("uint8")


def test_sampling_layer_as_written():
    class Sampling(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = z_mean.shape[0]
            dim = z_mean.shape[1]
            epsilon = keras.backend.random_normal(shape=(batch, dim))
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    z = Sampling()((np.zeros((2, 3)), np.zeros((2, 3))))
    assert z.shape == (2, 3)


def test_putting_it_all_together_vae_training_loop():
    original_dim = 784
    vae = VariationalAutoEncoder(original_dim, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    mse_loss_fn = keras.losses.MeanSquaredError()

    loss_metric = keras.metrics.Mean()

    x_train = digits(256)
    x_train = x_train.reshape(256, 784).astype("float32") / 255

    epochs = 2
    epoch_means = []
    # Iterate over epochs.
    for epoch in range(epochs):
        print("Start of epoch %d" % (epoch,))
        epoch_metric = keras.metrics.Mean()
        order = np.random.permutation(len(x_train))
        train_dataset = [x_train[order[i:i + 64]] for i in range(0, len(x_train), 64)]

        # Iterate over the batches of the dataset.
        for step, x_batch_train in enumerate(train_dataset):
            with keras.GradientTape() as tape:
                reconstructed = vae(x_batch_train)
                # Compute reconstruction loss
                loss = mse_loss_fn(x_batch_train, reconstructed)
                loss += sum(vae.losses)  # Add KLD regularization loss

            grads = tape.gradient(loss, vae.trainable_weights)
            optimizer.apply_gradients(zip(grads, vae.trainable_weights))

            loss_metric(loss)
            epoch_metric(loss)

            if step % 100 == 0:
                print("step %d: mean loss = %.4f" % (step, loss_metric.result()))
        epoch_means.append(epoch_metric.result())

    assert len(vae.trainable_weights) == 10
    assert all(g is not None for g in grads)
    assert len(vae.losses) == 1
    assert epoch_means[1] < epoch_means[0]


def test_putting_it_all_together_vae_fit():
    x_train = digits(256).reshape(256, 784).astype("float32") / 255

    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)

    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
