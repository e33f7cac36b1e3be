"""8.5 Introduction to generative adversarial networks (a DCGAN on CIFAR-10 frogs).

``keras.datasets.cifar10.load_data()`` cannot download here: the stand-in has its
structure (uint8 (N, 32, 32, 3) images, uint8 (N, 1) labels, class 6 = frog), 60 images.
To run in seconds the convolutions have 16 filters instead of 256 and 128, and the
10000 iterations are 4 (with the book's save-every-100 cell run at step 0 and 3).
Everything else is the book's code: the discriminator compiled, then frozen
(``discriminator.trainable = False``) inside the combined ``gan`` model, which
trains only the generator; RMSprop with ``lr=``, ``clipvalue`` and ``decay``; the
label noise that makes targets up to 1.05; ``save_weights('gan.h5')``;
``image.array_to_img(...).save(...)`` (Pillow).
"""

import os

import numpy as np
import pytest

import minidl as keras
from minidl import layers
from minidl.preprocessing import image

pytest.importorskip("PIL")

WIDE, NARROW = 16, 16  # the book's 256 and 128 filters


def cifar10_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 32, 32, 3)).astype("uint8")
    y = (np.arange(n) % 10).astype("uint8").reshape(n, 1)
    return (x, y), (x[:10], y[:10])


def test_introduction_to_gans(capsys):
    latent_dim = 32
    height = 32
    width = 32
    channels = 3

    generator_input = keras.Input(shape=(latent_dim,))

    # First, transform the input into a 16x16 128-channels feature map
    x = layers.Dense(NARROW * 16 * 16)(generator_input)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape((16, 16, NARROW))(x)

    # Then, add a convolution layer
    x = layers.Conv2D(WIDE, 5, padding='same')(x)
    x = layers.LeakyReLU()(x)

    # Upsample to 32x32
    x = layers.Conv2DTranspose(WIDE, 4, strides=2, padding='same')(x)
    x = layers.LeakyReLU()(x)

    # Few more conv layers
    x = layers.Conv2D(WIDE, 5, padding='same')(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(WIDE, 5, padding='same')(x)
    x = layers.LeakyReLU()(x)

    # Produce a 32x32 1-channel feature map
    x = layers.Conv2D(channels, 7, activation='tanh', padding='same')(x)
    generator = keras.models.Model(generator_input, x)
    generator.summary()
    assert "(None, 32, 32, 3)" in capsys.readouterr().out

    discriminator_input = layers.Input(shape=(height, width, channels))
    x = layers.Conv2D(NARROW, 3)(discriminator_input)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(NARROW, 4, strides=2)(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(NARROW, 4, strides=2)(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(NARROW, 4, strides=2)(x)
    x = layers.LeakyReLU()(x)
    x = layers.Flatten()(x)

    # One dropout layer - important trick!
    x = layers.Dropout(0.4)(x)

    # Classification layer
    x = layers.Dense(1, activation='sigmoid')(x)

    discriminator = keras.models.Model(discriminator_input, x)
    discriminator.summary()
    assert "(None, 2, 2, 16)" in capsys.readouterr().out

    # To stabilize training, we use learning rate decay
    # and gradient clipping (by value) in the optimizer.
    with pytest.warns(DeprecationWarning, match="lr"):
        discriminator_optimizer = keras.optimizers.RMSprop(lr=0.0008, clipvalue=1.0, decay=1e-8)
    discriminator.compile(optimizer=discriminator_optimizer, loss='binary_crossentropy')

    # Set discriminator weights to non-trainable
    # (will only apply to the `gan` model)
    discriminator.trainable = False

    gan_input = keras.Input(shape=(latent_dim,))
    gan_output = discriminator(generator(gan_input))
    gan = keras.models.Model(gan_input, gan_output)

    with pytest.warns(DeprecationWarning, match="lr"):
        gan_optimizer = keras.optimizers.RMSprop(lr=0.0004, clipvalue=1.0, decay=1e-8)
    gan.compile(optimizer=gan_optimizer, loss='binary_crossentropy')

    # Load CIFAR10 data
    (x_train, y_train), (_, _) = cifar10_like()

    # Select frog images (class 6)
    x_train = x_train[y_train.flatten() == 6]

    # Normalize data
    x_train = x_train.reshape(
        (x_train.shape[0],) + (height, width, channels)).astype('float32') / 255.

    iterations = 4
    batch_size = 3
    save_dir = 'gan_images'
    os.makedirs(save_dir)

    d_losses, a_losses = [], []
    start = 0
    for step in range(iterations):
        discriminator_before = [w.copy() for w in discriminator.get_weights()]
        generator_before = [w.copy() for w in generator.get_weights()]

        # Sample random points in the latent space
        random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))

        # Decode them to fake images
        generated_images = generator.predict(random_latent_vectors, verbose=0)

        # Combine them with real images
        stop = start + batch_size
        real_images = x_train[start: stop]
        combined_images = np.concatenate([generated_images, real_images])

        # Assemble labels discriminating real from fake images
        labels = np.concatenate([np.ones((batch_size, 1)),
                                 np.zeros((batch_size, 1))])
        # Add random noise to the labels - important trick!
        labels += 0.05 * np.random.random(labels.shape)

        # Train the discriminator
        d_loss = discriminator.train_on_batch(combined_images, labels)
        assert not all(np.array_equal(a, b) for a, b in
                       zip(discriminator_before, discriminator.get_weights()))
        discriminator_between = [w.copy() for w in discriminator.get_weights()]

        # sample random points in the latent space
        random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))

        # Assemble labels that say "all real images"
        misleading_targets = np.zeros((batch_size, 1))

        # Train the generator (via the gan model,
        # where the discriminator weights are frozen)
        a_loss = gan.train_on_batch(random_latent_vectors, misleading_targets)
        for a, b in zip(discriminator_between, discriminator.get_weights()):
            np.testing.assert_array_equal(a, b)  # frozen inside gan
        assert not all(np.array_equal(a, b) for a, b in
                       zip(generator_before, generator.get_weights()))

        start += batch_size
        if start > len(x_train) - batch_size:
            start = 0

        d_losses.append(d_loss)
        a_losses.append(a_loss)
        # Occasionally save / plot
        if step % 3 == 0:
            # Save model weights
            gan.save_weights('gan.h5')

            # Print metrics
            print('discriminator loss at step %s: %s' % (step, d_loss))
            print('adversarial loss at step %s: %s' % (step, a_loss))

            # Save one generated image
            img = image.array_to_img(generated_images[0] * 255., scale=False)
            img.save(os.path.join(save_dir, 'generated_frog' + str(step) + '.png'))

            # Save one real image, for comparison
            img = image.array_to_img(real_images[0] * 255., scale=False)
            img.save(os.path.join(save_dir, 'real_frog' + str(step) + '.png'))

    assert np.isfinite(d_losses).all() and np.isfinite(a_losses).all()
    assert sorted(os.listdir(save_dir)) == ['generated_frog0.png', 'generated_frog3.png',
                                            'real_frog0.png', 'real_frog3.png']
    assert 'discriminator loss at step 3' in capsys.readouterr().out
    assert os.path.exists('gan.h5')
    assert gan_optimizer.decay == 1e-8 and int(gan_optimizer.iterations) == iterations
