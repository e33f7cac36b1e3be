"""8.4 Generating images with variational autoencoders.

MNIST -> the stand-in of 2.1 (28x28 uint8 digits), 64 training and 16 test images;
10 epochs -> 2, the grid of 15 x 15 decoded digits kept.  The book's code otherwise:
``from keras import backend as K`` -> ``from minidl import backend as K``; the loss
layer reads ``z_mean`` and ``z_log_var`` from the enclosing graph inside its ``call``
(as Keras 2.0.8 allowed; tf_keras 2.21 refuses it), ``compile(loss=None)`` and
``fit(x=x_train, y=None)``.  matplotlib's ``imshow`` is left out.
"""

import numpy as np
from scipy.stats import norm

import minidl as keras
from minidl import backend as K
from minidl import layers
from minidl.models import Model

from dlwp_data import mnist_like


def test_variational_autoencoder(capsys):
    img_shape = (28, 28, 1)
    batch_size = 16
    latent_dim = 2  # Dimensionality of the latent space: a plane

    input_img = keras.Input(shape=img_shape)

    x = layers.Conv2D(32, 3, padding='same', activation='relu')(input_img)
    x = layers.Conv2D(64, 3, padding='same', activation='relu', strides=(2, 2))(x)
    x = layers.Conv2D(64, 3, padding='same', activation='relu')(x)
    x = layers.Conv2D(64, 3, padding='same', activation='relu')(x)
    shape_before_flattening = K.int_shape(x)

    x = layers.Flatten()(x)
    x = layers.Dense(32, activation='relu')(x)

    z_mean = layers.Dense(latent_dim)(x)
    z_log_var = layers.Dense(latent_dim)(x)

    def sampling(args):
        z_mean, z_log_var = args
        epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0., stddev=1.)
        return z_mean + K.exp(z_log_var) * epsilon

    z = layers.Lambda(sampling)([z_mean, z_log_var])

    # This is the input where we will feed `z`.
    decoder_input = layers.Input(K.int_shape(z)[1:])

    # Upsample to the correct number of units
    x = layers.Dense(np.prod(shape_before_flattening[1:]), activation='relu')(decoder_input)

    # Reshape into an image of the same shape as before our last `Flatten` layer
    x = layers.Reshape(shape_before_flattening[1:])(x)

    # We then apply then reverse operation to the initial
    # stack of convolution layers: a `Conv2DTranspose` layers
    # with corresponding parameters.
    x = layers.Conv2DTranspose(32, 3, padding='same', activation='relu', strides=(2, 2))(x)
    x = layers.Conv2D(1, 3, padding='same', activation='sigmoid')(x)
    # We end up with a feature map of the same size as the original input.

    # This is our decoder model.
    decoder = Model(decoder_input, x)

    # We then apply it to `z` to recover the decoded `z`.
    z_decoded = decoder(z)

    class CustomVariationalLayer(keras.layers.Layer):

        def vae_loss(self, x, z_decoded):
            x = K.flatten(x)
            z_decoded = K.flatten(z_decoded)
            xent_loss = keras.metrics.binary_crossentropy(x, z_decoded)
            kl_loss = -5e-4 * K.mean(
                1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
            return K.mean(xent_loss + kl_loss)

        def call(self, inputs):
            x = inputs[0]
            z_decoded = inputs[1]
            loss = self.vae_loss(x, z_decoded)
            self.add_loss(loss, inputs=inputs)
            # We don't use this output.
            return x

    # We call our custom layer on the input and the decoded output,
    # to obtain the final model output.
    y = CustomVariationalLayer()([input_img, z_decoded])

    vae = Model(input_img, y)
    vae.compile(optimizer='rmsprop', loss=None)
    vae.summary()
    printed = capsys.readouterr().out
    assert "Total params: 550,629" in printed  # the book's summary: 56385 in the decoder
    assert decoder.count_params() == 56385
    assert "custom_variational_layer" in printed

    # Train the VAE on MNIST digits
    (x_train, _), (x_test, y_test) = mnist_like()
    x_train, x_test = x_train[:64], x_test[:16]

    x_train = x_train.astype('float32') / 255.
    x_train = x_train.reshape(x_train.shape + (1,))
    x_test = x_test.astype('float32') / 255.
    x_test = x_test.reshape(x_test.shape + (1,))

    history = vae.fit(x=x_train, y=None, shuffle=True, epochs=2, batch_size=batch_size,
                      validation_data=(x_test, None), verbose=0)
    assert sorted(history.history) == ['loss', 'val_loss']
    assert history.history['loss'][-1] < history.history['loss'][0]

    # Display a 2D manifold of the digits
    n = 15  # figure with 15x15 digits
    digit_size = 28
    figure = np.zeros((digit_size * n, digit_size * n))
    # Linearly spaced coordinates on the unit square were transformed
    # through the inverse CDF (ppf) of the Gaussian
    # to produce values of the latent variables z,
    # since the prior of the latent space is Gaussian
    grid_x = norm.ppf(np.linspace(0.05, 0.95, n))
    grid_y = norm.ppf(np.linspace(0.05, 0.95, n))

    for i, yi in enumerate(grid_x):
        for j, xi in enumerate(grid_y):
            z_sample = np.array([[xi, yi]])
            z_sample = np.tile(z_sample, batch_size).reshape(batch_size, 2)
            x_decoded = decoder.predict(z_sample, batch_size=batch_size, verbose=0)
            digit = x_decoded[0].reshape(digit_size, digit_size)
            figure[i * digit_size: (i + 1) * digit_size,
                   j * digit_size: (j + 1) * digit_size] = digit

    assert ((figure >= 0) & (figure <= 1)).all() and figure.std() > 0
