"""TensorFlow tutorial "Convolutional Variational Autoencoder" (tensorflow/docs
site/en/tutorials/generative/cvae.ipynb), ported with names changed only.

``import tensorflow as tf`` -> ``from minidl import keras``; ``tf.keras.X`` ->
``keras.X``; ``tf.data`` -> ``minidl.data``; ``tf.random.normal`` ->
``keras.random.normal``; ``tf.exp`` / ``tf.sigmoid`` / ``tf.reduce_sum`` /
``tf.reduce_mean`` / ``tf.nn.relu`` -> ``keras.ops.exp`` / ``sigmoid`` / ``sum`` /
``mean`` / ``keras.activations.relu``; ``tf.nn.sigmoid_cross_entropy_with_logits(
logits=, labels=)`` -> ``keras.ops.binary_cross_entropy_with_logits(labels, logits)``
(the same elementwise formula); ``tf.split`` -> slicing; ``tf.math.log`` ->
``np.log``; ``@tf.function`` dropped.  MNIST -> the Fashion-MNIST sample bundled with
minidl (its first 128 training and 32 test images), epochs 10 -> 3.  The pictures are
drawn with matplotlib (Agg) and saved; the GIF (imageio, tensorflow_docs) is left out.
"""

import time

import numpy as np
import pytest

import minidl
from minidl import keras

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def preprocess_images(images):
    images = images.reshape((images.shape[0], 28, 28, 1)) / 255.
    return np.where(images > .5, 1.0, 0.0).astype('float32')


def load_data():
    # tf.keras.datasets.mnist.load_data() -> the bundled Fashion-MNIST sample
    (train_images, _), (test_images, _) = keras.datasets.fashion_mnist.load_data(sample=True)
    train_images = preprocess_images(train_images[:128])
    test_images = preprocess_images(test_images[:32])
    return train_images, test_images


train_size = 128
batch_size = 32
test_size = 32


def datasets(train_images, test_images):
    train_dataset = (minidl.data.Dataset.from_tensor_slices(train_images)
                     .shuffle(train_size).batch(batch_size))
    test_dataset = (minidl.data.Dataset.from_tensor_slices(test_images)
                    .shuffle(test_size).batch(batch_size))
    return train_dataset, test_dataset


class CVAE(keras.Model):
    """Convolutional variational autoencoder."""

    def __init__(self, latent_dim):
        super(CVAE, self).__init__()
        self.latent_dim = latent_dim
        self.encoder = keras.Sequential(
            [
                keras.layers.InputLayer(input_shape=(28, 28, 1)),
                keras.layers.Conv2D(
                    filters=32, kernel_size=3, strides=(2, 2), activation='relu'),
                keras.layers.Conv2D(
                    filters=64, kernel_size=3, strides=(2, 2), activation='relu'),
                keras.layers.Flatten(),
                # No activation
                keras.layers.Dense(latent_dim + latent_dim),
            ]
        )

        self.decoder = keras.Sequential(
            [
                keras.layers.InputLayer(input_shape=(latent_dim,)),
                keras.layers.Dense(units=7*7*32, activation=keras.activations.relu),
                keras.layers.Reshape(target_shape=(7, 7, 32)),
                keras.layers.Conv2DTranspose(
                    filters=64, kernel_size=3, strides=2, padding='same',
                    activation='relu'),
                keras.layers.Conv2DTranspose(
                    filters=32, kernel_size=3, strides=2, padding='same',
                    activation='relu'),
                # No activation
                keras.layers.Conv2DTranspose(
                    filters=1, kernel_size=3, strides=1, padding='same'),
            ]
        )

    def sample(self, eps=None):
        if eps is None:
            eps = keras.random.normal(shape=(100, self.latent_dim))
        return self.decode(eps, apply_sigmoid=True)

    def encode(self, x):
        # tf.split(self.encoder(x), num_or_size_splits=2, axis=1)
        both = self.encoder(x)
        mean, logvar = both[:, :self.latent_dim], both[:, self.latent_dim:]
        return mean, logvar

    def reparameterize(self, mean, logvar):
        eps = keras.random.normal(shape=mean.shape)
        return eps * keras.ops.exp(logvar * .5) + mean

    def decode(self, z, apply_sigmoid=False):
        logits = self.decoder(z)
        if apply_sigmoid:
            probs = keras.ops.sigmoid(logits)
            return probs
        return logits


def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = np.log(2. * np.pi)
    return keras.ops.sum(
        -.5 * ((sample - mean) ** 2. * keras.ops.exp(-logvar) + logvar + log2pi),
        axis=raxis)


def compute_loss(model, x):
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decode(z)
    cross_ent = keras.ops.binary_cross_entropy_with_logits(x, x_logit)
    logpx_z = -keras.ops.sum(cross_ent, axis=(1, 2, 3))
    logpz = log_normal_pdf(z, 0., 0.)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -keras.ops.mean(logpx_z + logpz - logqz_x)


def train_step(model, x, optimizer):
    """Executes one training step and returns the loss.

    This function computes the loss and gradients, and uses the latter to
    update the model's parameters.
    """
    with keras.GradientTape() as tape:
        loss = compute_loss(model, x)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))


# --- Load the MNIST dataset; use tf.data to batch and shuffle the data ------------------------
def test_load_the_dataset():
    train_images, test_images = load_data()
    assert train_images.shape == (128, 28, 28, 1) and train_images.dtype == np.float32
    assert set(np.unique(train_images)) == {0.0, 1.0}  # binarized, for the Bernoulli decoder
    train_dataset, test_dataset = datasets(train_images, test_images)
    assert [b.shape[0] for b in train_dataset] == [32] * 4
    assert [b.shape for b in test_dataset] == [(32, 28, 28, 1)]


# --- Define the encoder and decoder networks ----------------------------------------------------
def test_define_the_encoder_and_decoder_networks():
    model = CVAE(2)
    x = load_data()[1][:5]
    mean, logvar = model.encode(x)
    assert mean.shape == logvar.shape == (5, 2)
    z = model.reparameterize(mean, logvar)
    assert z.shape == (5, 2)
    assert model.decode(z).shape == (5, 28, 28, 1)
    probs = model.sample(z).numpy()
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-model.decode(z).numpy())), rtol=1e-5)
    assert model.sample().shape == (100, 28, 28, 1)

    lines = []
    model.encoder.summary(print_fn=lines.append)
    assert [line.split()[-1] for line in lines if "(Conv2D)" in line] == ["320", "18496"]
    assert "Total params: 28,036" in lines  # as tf_keras counts them
    lines = []
    model.decoder.summary(print_fn=lines.append)
    assert "Total params: 41,953" in lines


# --- Define the loss function and the optimizer --------------------------------------------------
def test_define_the_loss_function_and_the_optimizer():
    sample = keras.random.normal(shape=(4, 2)).numpy()
    mean = keras.random.normal(shape=(4, 2)).numpy()
    logvar = keras.random.normal(shape=(4, 2)).numpy()
    expected = np.sum(-.5 * ((sample - mean) ** 2 * np.exp(-logvar) + logvar + np.log(2 * np.pi)),
                      axis=1)
    np.testing.assert_allclose(log_normal_pdf(sample, mean, logvar).numpy(), expected, rtol=1e-5)
    # log_normal_pdf(z, 0., 0.): the unit Gaussian's log density
    np.testing.assert_allclose(log_normal_pdf(sample, 0., 0.).numpy(),
                               np.sum(-.5 * (sample ** 2 + np.log(2 * np.pi)), axis=1),
                               rtol=1e-5)

    model = CVAE(2)
    x = load_data()[1][:8]
    loss = compute_loss(model, x)
    assert loss.shape == () and float(loss) > 0  # -ELBO of binary pictures

    optimizer = keras.optimizers.Adam(1e-4)
    before = [w.numpy().copy() for w in model.trainable_variables]
    train_step(model, x, optimizer)
    assert optimizer.iterations == 1
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(before, model.trainable_variables))


# --- Training; generating images ---------------------------------------------------------------
def test_training(capsys):
    train_images, test_images = load_data()
    train_dataset, test_dataset = datasets(train_images, test_images)
    optimizer = keras.optimizers.Adam(1e-4)

    epochs = 3
    # set the dimensionality of the latent space to a plane for visualization later
    latent_dim = 2
    num_examples_to_generate = 16

    # keeping the random vector constant for generation (prediction) so
    # it will be easier to see the improvement.
    random_vector_for_generation = keras.random.normal(
        shape=[num_examples_to_generate, latent_dim])
    model = CVAE(latent_dim)
    assert random_vector_for_generation.shape == (16, 2)

    def generate_and_save_images(model, epoch, test_sample):
        mean, logvar = model.encode(test_sample)
        z = model.reparameterize(mean, logvar)
        predictions = model.sample(z)
        fig = plt.figure(figsize=(4, 4))

        for i in range(predictions.shape[0]):
            plt.subplot(4, 4, i + 1)
            plt.imshow(predictions[i, :, :, 0].numpy(), cmap='gray')
            plt.axis('off')

        # tight_layout minimizes the overlap between 2 sub-plots
        plt.savefig('image_at_epoch_{:04d}.png'.format(epoch))
        plt.show()
        plt.close(fig)

    # Pick a sample of the test set for generating output images
    assert batch_size >= num_examples_to_generate
    for test_batch in test_dataset.take(1):
        test_sample = test_batch[0:num_examples_to_generate, :, :, :]

    def test_elbo():
        loss = keras.metrics.Mean()
        for test_x in test_dataset:
            loss(compute_loss(model, test_x))
        return -loss.result()

    generate_and_save_images(model, 0, test_sample)
    elbos = [float(test_elbo())]

    for epoch in range(1, epochs + 1):
        start_time = time.time()
        for train_x in train_dataset:
            train_step(model, train_x, optimizer)
        end_time = time.time()

        loss = keras.metrics.Mean()
        for test_x in test_dataset:
            loss(compute_loss(model, test_x))
        elbo = -loss.result()
        print('Epoch: {}, Test set ELBO: {}, time elapse for current epoch: {}'
              .format(epoch, elbo, end_time - start_time))
        generate_and_save_images(model, epoch, test_sample)
        elbos.append(float(elbo))

    out = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in out] == ["Epoch: 1", "Epoch: 2", "Epoch: 3"]
    assert out[-1].startswith(f"Epoch: 3, Test set ELBO: {elbo}, time elapse")
    assert elbos[-1] > elbos[0]  # the evidence lower bound rises
    assert optimizer.iterations == 3 * 4

    # Display a generated image from the last training epoch
    def display_image(epoch_no):
        PIL = pytest.importorskip("PIL.Image")
        return PIL.open('image_at_epoch_{:04d}.png'.format(epoch_no))

    assert display_image(epoch).size == (400, 400)
