"""Custom layers in the functional API, as Deep Learning with Python (8.4) uses them.

* A custom layer called on a list gives exactly what its ``call`` returns (tf_keras
  2.21: ``First()([a, b])`` whose call returns ``inputs[0]`` gives one tensor even
  when its ``compute_output_shape`` returns the list of input shapes).
* The book's VAE loss layer reads ``z_mean`` and ``z_log_var``, symbolic tensors of
  the enclosing graph, inside its ``call``: they get their values when the model
  runs, and the loss they give is differentiated through them.  (Keras 2.0.8 did
  this; tf_keras 2.21 refuses it with a TypeError.  minidl follows the book.)
* ``compile(optimizer, loss=None)`` with ``add_loss`` and ``fit(x, y=None)`` train.
"""

import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl import layers
from minidl.models import Model


class First(layers.Layer):
    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape  # disagrees with call: call wins, as in Keras 2


class Pair(layers.Layer):
    def call(self, inputs):
        return [inputs * 2, inputs + 1]


def test_custom_layer_returns_what_call_returns():
    a, b = minidl.Input((3,)), minidl.Input((3,))
    out = First()([a, b])
    assert isinstance(out, minidl.layers.KerasTensor) and out.shape == (None, 3)
    pair = Pair()(a)
    assert isinstance(pair, list) and len(pair) == 2
    model = Model([a, b], out)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(model.predict([x, -x], verbose=0), x)


def _graph_with_hidden_read():
    inputs = minidl.Input((3,))
    z = layers.Dense(2, name="z")(inputs)

    class PenaliseZ(layers.Layer):
        def call(self, x):
            self.add_loss(K.mean(K.square(z)))  # z: a tensor of the enclosing graph
            return x

    out = PenaliseZ()(layers.Dense(1, name="head")(inputs))
    return inputs, z, out


def test_tensor_read_in_call_gets_its_value_and_gradient():
    inputs, z, out = _graph_with_hidden_read()
    model = Model(inputs, out)
    model.compile("sgd", loss=None)
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    kernel, bias = model.get_layer("z").get_weights()
    expected = np.mean(np.square(x @ kernel + bias))
    assert model.evaluate(x, verbose=0) == pytest.approx(expected, rel=1e-5)
    history = model.fit(x, None, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(model.get_layer("z").get_weights()[0], kernel)  # z's weights learned
    np.testing.assert_array_equal(model.get_layer("head").get_weights()[1], [0.0])  # head: no loss


def test_read_tensor_is_computed_even_off_the_layer_inputs_path():
    inputs, z, out = _graph_with_hidden_read()
    model = Model(inputs, out)
    assert model.get_layer("z") in model.layers  # found through the layer's call, not its inputs


def test_read_tensor_from_another_graph_is_a_clear_error():
    inputs, z, out = _graph_with_hidden_read()
    other = minidl.Input((3,))
    with pytest.raises(ValueError, match="disconnected"):
        Model(other, out.layer(other))


def test_symbolic_tensor_outside_a_layer_has_no_values():
    inputs = minidl.Input((3,))
    with pytest.raises(TypeError, match="no numbers.*Lambda"):
        minidl.ops.as_tensor(inputs)


def test_backend_function_on_a_symbolic_tensor_becomes_a_layer():
    # as tf_keras 2.21 makes K.exp(inputs) a TFOpLambda layer, minidl makes it an OpsLayer
    inputs = minidl.Input((3,))
    model = Model(inputs, K.exp(inputs))
    x = np.array([[0.0, 1.0, -1.0]], np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.exp(x), rtol=1e-6)


def test_book_vae_trains_with_loss_none_and_y_none():
    minidl.utils.set_random_seed(0)  # (unseeded, whether 4 epochs lower the loss hung on test order)
    img_shape, latent_dim = (8, 8, 1), 2
    input_img = minidl.Input(shape=img_shape)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", strides=(2, 2))(input_img)
    shape_before_flattening = K.int_shape(x)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(latent_dim)(x)
    z_log_var = layers.Dense(latent_dim)(x)

    def sampling(args):
        z_mean, z_log_var = args
        epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0., stddev=1.)
        return z_mean + K.exp(z_log_var) * epsilon

    z = layers.Lambda(sampling)([z_mean, z_log_var])
    decoder_input = layers.Input(K.int_shape(z)[1:])
    x = layers.Dense(int(np.prod(shape_before_flattening[1:])), activation="relu")(decoder_input)
    x = layers.Reshape(shape_before_flattening[1:])(x)
    x = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", strides=(2, 2))(x)
    decoder = Model(decoder_input, x)
    z_decoded = decoder(z)

    class CustomVariationalLayer(layers.Layer):
        def vae_loss(self, x, z_decoded):
            x = K.flatten(x)
            z_decoded = K.flatten(z_decoded)
            xent_loss = minidl.metrics.binary_crossentropy(x, z_decoded)
            kl_loss = -5e-4 * K.mean(
                1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
            return K.mean(xent_loss + kl_loss)

        def call(self, inputs):
            loss = self.vae_loss(inputs[0], inputs[1])
            self.add_loss(loss, inputs=inputs)
            return inputs[0]

    y = CustomVariationalLayer()([input_img, z_decoded])
    assert y.shape == (None, *img_shape)
    vae = Model(input_img, y)
    vae.compile(optimizer="rmsprop", loss=None)
    rng = np.random.default_rng(1)
    x_train = (rng.random((64, *img_shape)) > 0.5).astype("float32")
    history = vae.fit(x=x_train, y=None, shuffle=True, epochs=4, batch_size=16,
                      validation_data=(x_train[:16], None), verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    decoded = decoder.predict(np.zeros((1, latent_dim), "float32"), verbose=0)
    assert decoded.shape == (1, *img_shape)
