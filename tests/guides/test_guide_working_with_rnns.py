"""Keras guide "Working with RNNs" (Scott Zhu, fchollet, keras-io
guides/working_with_rnns.py, tf.keras version), ported with names changed only.

tensorflow/keras -> minidl; ``tf.argmax`` / ``tf.expand_dims`` -> NumPy's;
``keras.backend.dot`` and ``tf.matmul`` -> ``minidl.ops.matmul``, ``tf.einsum`` ->
``minidl.ops.einsum``, ``tf.TensorShape`` -> ``minidl.TensorShape``.  MNIST is
replaced by tiny random "digits", the paragraphs and the nested data are smaller,
and the epochs are few.  Parameter counts are tf_keras 2.21's for the same models.
One test per section, in order (``tf.device("CPU:0")`` is ``minidl.device``, which
accepts the CPU and nothing else).  The RNN API documentation's ``MinimalRNNCell`` (the custom cell the
guide points to) closes the file.
"""

import numpy as np
import pytest

import minidl as keras
from minidl import layers

def params_and_shapes(model):
    return [(layer.count_params(), layer.output_shape) for layer in model.layers]


def mnist_like(n, seed):
    """Random 28x28 "digits" in [0, 255] with labels a fixed rule gives (learnable)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28)).astype("uint8")
    rule = np.random.default_rng(1234).standard_normal((784, 10))
    y = (x.reshape(n, 784) / 255.0 @ rule).argmax(axis=1).astype("uint8")
    return x, y


# --- Built-in RNN layers: a simple example ----------------------------------------------------
def test_built_in_rnn_layers_a_simple_example():
    model = keras.Sequential()
    # Add an Embedding layer expecting input vocab of size 1000, and
    # output embedding dimension of size 64.
    model.add(layers.Embedding(input_dim=1000, output_dim=64))

    # Add a LSTM layer with 128 internal units.
    model.add(layers.LSTM(128))

    # Add a Dense layer with 10 units.
    model.add(layers.Dense(10))

    model.build((None, None))
    model.summary()
    assert params_and_shapes(model) == [(64000, (None, None, 64)), (98816, (None, 128)),
                                        (1290, (None, 10))]


# --- Outputs and states ------------------------------------------------------------------------
def test_outputs_and_states():
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))

    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(256, return_sequences=True))

    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(128))

    model.add(layers.Dense(10))

    model.build((None, None))
    model.summary()
    assert params_and_shapes(model) == [(64000, (None, None, 64)), (247296, (None, None, 256)),
                                        (49280, (None, 128)), (1290, (None, 10))]

    encoder_vocab = 1000
    decoder_vocab = 2000

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(
        encoder_input
    )

    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(
        encoder_embedded
    )
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(
        decoder_input
    )

    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(64, name="decoder")(
        decoder_embedded, initial_state=encoder_state
    )
    output = layers.Dense(10)(decoder_output)

    model = keras.Model([encoder_input, decoder_input], output)
    model.summary()
    assert model.count_params() == 64000 + 128000 + 2 * 33024 + 650
    rng = np.random.default_rng(0)
    prediction = model.predict([rng.integers(0, 1000, (3, 7)), rng.integers(0, 2000, (3, 5))],
                               verbose=0)
    assert prediction.shape == (3, 10)


# --- RNN layers and RNN cells ----------------------------------------------------------------------
def test_rnn_layers_and_rnn_cells():
    """"Mathematically, RNN(LSTMCell(10)) produces the same result as LSTM(10)"."""
    x = np.random.default_rng(1).random((4, 6, 3)).astype("float32")
    lstm = layers.LSTM(10)
    expected = lstm(x)
    rnn = layers.RNN(layers.LSTMCell(10))
    rnn.build((None, 6, 3))
    rnn.set_weights(lstm.get_weights())
    np.testing.assert_array_equal(rnn(x).numpy(), expected.numpy())
    for cell, layer in ((layers.SimpleRNNCell, layers.SimpleRNN), (layers.GRUCell, layers.GRU),
                        (layers.LSTMCell, layers.LSTM)):
        assert keras.Sequential([layers.RNN(cell(4), input_shape=(None, 3))]).count_params() == (
            keras.Sequential([layer(4, input_shape=(None, 3))]).count_params())


# --- Cross-batch statefulness ----------------------------------------------------------------------
def test_cross_batch_statefulness():
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)

    # reset_states() will reset the cached state to the original initial_state.
    # If no initial_state was provided, zero-states will be used by default.
    lstm_layer.reset_states()

    assert output.shape == (20, 64)
    assert not any(state.any() for state in lstm_layer.states)
    whole = layers.LSTM(64)
    whole.build((None, 30, 50))
    whole.set_weights(lstm_layer.get_weights())
    expected = whole(np.concatenate([paragraph1, paragraph2, paragraph3], axis=1))
    np.testing.assert_allclose(output.numpy(), expected.numpy(), atol=1e-5)


def test_rnn_state_reuse():
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)

    existing_state = lstm_layer.states

    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)

    assert output.shape == (20, 64)
    assert [s.shape for s in existing_state] == [(20, 64), (20, 64)]
    assert new_output.shape == (20, 64)


# --- Bidirectional RNNs -------------------------------------------------------------------------------
def test_bidirectional_rnns():
    model = keras.Sequential()

    model.add(
        layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10))
    )
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))

    model.summary()
    assert params_and_shapes(model) == [(38400, (None, 5, 128)), (41216, (None, 64)),
                                        (650, (None, 10))]


# --- Performance optimization and CuDNN kernels -----------------------------------------------------
batch_size = 64
# Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
# Each input sequence will be of size (28, 28) (height is treated like time).
input_dim = 28

units = 64
output_size = 10  # labels are from 0 to 9


# Build the RNN model
def build_model(allow_cudnn_kernel=True):
    # CuDNN is only available at the layer level, and not at the cell level.
    # This means `LSTM(units)` will use the CuDNN kernel,
    # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
    if allow_cudnn_kernel:
        # The LSTM layer with default options uses CuDNN.
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    else:
        # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
        lstm_layer = keras.layers.RNN(
            keras.layers.LSTMCell(units), input_shape=(None, input_dim)
        )
    model = keras.models.Sequential(
        [
            lstm_layer,
            keras.layers.BatchNormalization(),
            keras.layers.Dense(output_size),
        ]
    )
    return model


def load_mnist_like():
    (x_train, y_train), (x_test, y_test) = mnist_like(256, 0), mnist_like(64, 1)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    return (x_train, y_train), (x_test, y_test)


def trained_model():
    (x_train, y_train), (x_test, y_test) = load_mnist_like()
    model = build_model(allow_cudnn_kernel=True)

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )

    model.fit(
        x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1,
        verbose=0
    )
    return model


def test_performance_optimization_and_cudnn_kernels():
    (x_train, y_train), (x_test, y_test) = load_mnist_like()
    model = trained_model()
    assert params_and_shapes(model) == [(23808, (None, 64)), (256, (None, 64)),
                                        (650, (None, 10))]

    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    noncudnn_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    assert params_and_shapes(noncudnn_model) == params_and_shapes(model)
    # the same weights give the same predictions (minidl runs both on its fused LSTM op)
    np.testing.assert_array_equal(noncudnn_model.predict(x_test, verbose=0),
                                  model.predict(x_test, verbose=0))
    history = noncudnn_model.fit(
        x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1,
        verbose=0
    )
    assert np.isfinite(history.history["val_loss"][0])


def test_cpu_inference_without_tf_device():
    """The guide's last cell, without ``with tf.device("CPU:0"):`` (minidl runs on the CPU)."""
    (x_train, y_train), _ = load_mnist_like()
    sample, sample_label = x_train[0], y_train[0]
    model = trained_model()
    cpu_model = build_model(allow_cudnn_kernel=True)
    cpu_model.set_weights(model.get_weights())
    result = np.argmax(cpu_model.predict_on_batch(np.expand_dims(sample, 0)), axis=1)
    print(
        "Predicted result is: %s, target result is: %s" % (result, sample_label)
    )
    assert result.shape == (1,) and 0 <= result[0] < 10


def test_cpu_inference_with_tf_device():
    (_, _), (x_test, y_test) = load_mnist_like()
    model = trained_model()
    sample, sample_label = x_test[0], y_test[0]
    with keras.device("CPU:0"):  # tf.device: minidl runs on the CPU, so it changes nothing
        cpu_model = build_model(allow_cudnn_kernel=True)
        cpu_model.set_weights(model.get_weights())
        result = np.argmax(cpu_model.predict_on_batch(np.expand_dims(sample, 0)), axis=1)
        print(
            "Predicted result is: %s, target result is: %s" % (result, sample_label)
        )
    np.testing.assert_array_equal(cpu_model.predict_on_batch(x_test[:8]),
                                  model.predict_on_batch(x_test[:8]))
    with pytest.raises(ValueError, match="CPU only.*'GPU:0'"):
        keras.device("GPU:0")


# --- RNNs with list/dict inputs, or nested inputs ------------------------------------------------------
class NestedCell(keras.layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1 = unit_1
        self.unit_2 = unit_2
        self.unit_3 = unit_3
        self.state_size = [keras.TensorShape([unit_1]), keras.TensorShape([unit_2, unit_3])]
        self.output_size = [keras.TensorShape([unit_1]), keras.TensorShape([unit_2, unit_3])]
        super(NestedCell, self).__init__(**kwargs)

    def build(self, input_shapes):
        # expect input_shape to contain 2 items, [(batch, i1), (batch, i2, i3)]
        i1 = input_shapes[0][1]
        i2 = input_shapes[1][1]
        i3 = input_shapes[1][2]

        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3),
            initializer="uniform",
            name="kernel_2_3",
        )

    def call(self, inputs, states):
        # inputs should be in [(batch, input_1), (batch, input_2, input_3)]
        # state should be in shape [(batch, unit_1), (batch, unit_2, unit_3)]
        input_1, input_2 = inputs
        s1, s2 = states

        output_1 = keras.ops.matmul(input_1, self.kernel_1)
        output_2_3 = keras.ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3

        output = (output_1, output_2_3)
        new_states = (state_1, state_2_3)

        return output, new_states

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


def test_rnns_with_nested_inputs():
    unit_1 = 10
    unit_2 = 20
    unit_3 = 30

    i1 = 32
    i2 = 64
    i3 = 32
    batch_size = 8
    num_batches = 2
    timestep = 5

    cell = NestedCell(unit_1, unit_2, unit_3)
    rnn = keras.layers.RNN(cell)

    input_1 = keras.Input((None, i1))
    input_2 = keras.Input((None, i2, i3))

    outputs = rnn((input_1, input_2))

    model = keras.models.Model([input_1, input_2], outputs)

    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])

    input_1_data = np.random.random((batch_size * num_batches, timestep, i1))
    input_2_data = np.random.random((batch_size * num_batches, timestep, i2, i3))
    target_1_data = np.random.random((batch_size * num_batches, unit_1))
    target_2_data = np.random.random((batch_size * num_batches, unit_2, unit_3))
    input_data = [input_1_data, input_2_data]
    target_data = [target_1_data, target_2_data]

    history = model.fit(input_data, target_data, batch_size=batch_size)

    # tf_keras 2.21 on the same code: outputs is a tuple of (None, 10) and (None, 20, 30),
    # 1229120 parameters (32 * 10 + 64 * 32 * 20 * 30), history keys as below
    assert isinstance(outputs, tuple)
    assert [t.shape for t in outputs] == [(None, unit_1), (None, unit_2, unit_3)]
    assert rnn.output_shape == ((None, unit_1), (None, unit_2, unit_3))
    assert model.count_params() == 1229120
    assert list(history.history) == ["loss", "rnn_loss", "rnn_1_loss", "rnn_accuracy",
                                     "rnn_1_accuracy"]
    later = model.fit(input_data, target_data, batch_size=batch_size, epochs=2, verbose=0)
    assert later.history["loss"][-1] < history.history["loss"][0]
    predicted = model.predict(input_data, verbose=0)
    assert [p.shape for p in predicted] == [(16, unit_1), (16, unit_2, unit_3)]


# --- The RNN API documentation's custom cell ----------------------------------------------------------
class MinimalRNNCell(keras.layers.Layer):

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer='uniform',
                                      name='kernel')
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            initializer='uniform',
            name='recurrent_kernel')
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = keras.ops.matmul(inputs, self.kernel)
        output = h + keras.ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


def test_custom_cells_in_rnn_layers():
    # Let's use this cell in a RNN layer:

    cell = MinimalRNNCell(32)
    x = keras.Input((None, 5))
    layer = layers.RNN(cell)
    y = layer(x)

    # Here's how to use the cell to build a stacked RNN:

    cells = [MinimalRNNCell(32), MinimalRNNCell(64)]
    x = keras.Input((None, 5))
    layer = layers.RNN(cells)
    y = layer(x)

    assert y.shape == (None, 64)
    model = keras.Model(x, y)
    assert model.count_params() == (5 * 32 + 32 * 32) + (32 * 64 + 64 * 64)
    assert model.predict(np.ones((2, 3, 5), "float32"), verbose=0).shape == (2, 64)
