"""The RNN code of the Keras guides and TF tutorials, run in minidl against tf_keras 2.21.

"Working with RNNs" (keras.io) nests the states of stacked cells; TF's "Text
generation with an RNN" subclasses Model around a GRU with ``return_state`` and
``initial_state``; "Time series forecasting" builds an autoregressive FeedBack
model from an LSTMCell, an ``RNN(cell, return_state=True)`` warm-up and
``tf.stack`` (``minidl.ops.stack`` here).  Every literal was printed by tf_keras
2.21 for the same inputs and weights: inputs ``uniform(-1, 1)`` from
``default_rng(0)``, weights ``uniform(-0.5, 0.5)`` from ``default_rng(1)`` in
``get_weights()`` order (see ``set_weights`` below).  Sizes are small, so each
test runs in well under a second.

(The guide "Working with RNNs" as a whole is ported in
``tests/guides/test_guide_working_with_rnns.py``, "Masking and padding" in
``tests/guides/test_guide_masking_and_padding.py``.)
"""

import numpy as np
import pytest

import minidl
from minidl import keras, ops
from minidl.keras import layers


@pytest.fixture(autouse=True)
def fresh_names():
    minidl.utils.clear_session()  # layer names start over ("rnn", "dense", ...), as Keras's
    yield


def set_weights(layer):
    w = np.random.default_rng(1)
    layer.set_weights([w.uniform(-0.5, 0.5, v.shape).astype("float32")
                       for v in layer.get_weights()])


def close(got, expected, atol=2e-6):
    np.testing.assert_allclose(np.asarray(getattr(got, "data", got)), np.array(expected),
                               atol=atol)


# --- "Working with RNNs": stacked cells and their states, nested per cell ---------------
X = np.random.default_rng(0).uniform(-1, 1, (2, 3, 2)).astype("float32")
STACK_OUT = [[0.285097, 0.245859], [0.273119, 0.252196]]
STACK_H1 = [[-0.206487, 0.006724], [-0.251459, -0.013162]]
STACK_C1 = [[-0.438549, 0.018419], [-0.454758, -0.036567]]
FROM_INIT_OUT = [[0.315069, 0.289924], [0.301847, 0.294208]]
FROM_INIT_H1 = [[-0.237503, -0.022964], [-0.284655, -0.050506]]
FROM_INIT_C1 = [[-0.51566, -0.063502], [-0.525608, -0.141786]]
SECOND_CALL = [[0.327847, 0.306639], [0.311735, 0.309723]]
INIT = [[np.full((2, 2), 0.5, "float32"), np.full((2, 2), -0.5, "float32")],
        np.full((2, 2), 0.25, "float32")]


def stacked(**kwargs):
    rnn = layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)], **kwargs)
    rnn.build((2 if kwargs.get("stateful") else None, 3, 2))
    set_weights(rnn)
    return rnn


def test_stacked_cells_return_state_nests_the_states_per_cell():
    rnn = stacked(return_state=True)
    assert [w.shape for w in rnn.get_weights()] == [(2, 8), (2, 8), (8,), (2, 6), (2, 6),
                                                    (2, 6)]
    results = rnn(X)
    assert len(results) == 3 and isinstance(results[1], list) and len(results[1]) == 2
    out, (h1, c1), h2 = results  # tf_keras: [output, [h1, c1], h2]
    close(out, STACK_OUT)
    close(h1, STACK_H1)
    close(c1, STACK_C1)
    close(h2, STACK_OUT)  # the output is the last cell's h


def test_stacked_cells_take_a_nested_initial_state():
    rnn = stacked(return_state=True)
    out, (h1, c1), h2 = rnn(X, initial_state=INIT)
    close(out, FROM_INIT_OUT)
    close(h1, FROM_INIT_H1)
    close(c1, FROM_INIT_C1)
    close(h2, FROM_INIT_OUT)


def test_stacked_cells_get_initial_state_and_sizes_as_keras():
    rnn = stacked(return_state=True)
    (h1, c1), h2 = rnn.get_initial_state(X)  # tf_keras: [[h1, c1], h2], zeros
    assert [s.shape for s in (h1, c1, h2)] == [(2, 2)] * 3
    assert not any(np.any(s.data) for s in (h1, c1, h2))
    assert rnn.cell.state_size == ([2, 2], 2) and rnn.cell.output_size == 2
    lstm_rnn = layers.RNN(layers.LSTMCell(3))
    assert [s.shape for s in lstm_rnn.get_initial_state(np.zeros((4, 5, 1)))] == [(4, 3)] * 2
    (state,) = layers.RNN(layers.GRUCell(3)).get_initial_state(np.zeros((4, 5, 1)))
    assert state.shape == (4, 3)  # tf_keras: a list of one state


def test_stacked_cells_symbolic_outputs_and_summary_as_keras(capsys):
    inputs = keras.Input((4, 5))
    out, (h1, c1), h2 = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True,
                                   return_sequences=True)(inputs)
    assert [t.shape for t in (out, h1, c1, h2)] == [(None, 4, 2), (None, 3), (None, 3),
                                                    (None, 2)]
    model = keras.Model(inputs, [out, h1, c1, h2])
    model.summary()
    text = capsys.readouterr().out
    assert (" rnn (RNN)                   [(None, 4, 2),            150       \n"
            "                              [(None, 3),                        \n"
            "                              (None, 3)],                        \n"
            "                              (None, 2)]                         \n") in text
    results = model.predict(np.ones((2, 4, 5), "float32"), verbose=0)
    assert [r.shape for r in results] == [(2, 4, 2), (2, 3), (2, 3), (2, 2)]


def test_a_model_with_nested_outputs_is_refused_with_the_flat_form():
    inputs = keras.Input((4, 5))
    results = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)(inputs)
    with pytest.raises(TypeError, match=r"\[t, \[t, t\], t\].*outputs=\[output, h1, c1, h2\]"):
        keras.Model(inputs, results)


def test_bidirectional_of_stacked_cells_nests_both_directions_states():
    """tf_keras: [output, [h1, c1], h2 (forward), [h1, c1], h2 (backward)]."""
    layer = layers.Bidirectional(layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)],
                                            return_sequences=True, return_state=True))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 3)).astype("float32")
    output, (h1, c1), h2, (h1_back, c1_back), h2_back = layer(x)
    assert output.shape == (2, 4, 4)
    assert [s.shape for s in (h1, c1, h2, h1_back, c1_back, h2_back)] == [
        (2, 3), (2, 3), (2, 2), (2, 3), (2, 3), (2, 2)]
    assert layer.compute_output_shape((None, 4, 3)) == [
        (None, 4, 4), [(None, 3), (None, 3)], (None, 2), [(None, 3), (None, 3)], (None, 2)]
    close(h2, output[:, -1, :2])  # the forward output's last step is its last cell's h


def test_stateful_stacked_cells_states_and_reset_states_as_keras():
    unbuilt = layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)], stateful=True)
    assert unbuilt.states == ([None, None], None)  # tf_keras before a build: nested Nones
    rnn = stacked(stateful=True)
    rnn(X)
    (h1, c1), h2 = rnn.states
    assert isinstance(rnn.states, tuple)  # as tf_keras: the state_size's own nesting
    close(h1, STACK_H1)
    close(c1, STACK_C1)
    close(h2, STACK_OUT)
    close(rnn(X), SECOND_CALL)  # the second call starts where the first ended
    rnn.reset_states(INIT)  # nested values, as the states are
    close(rnn(X), FROM_INIT_OUT)
    rnn.reset_states([INIT[0][0], INIT[0][1], INIT[1]])  # flat values too
    close(rnn(X), FROM_INIT_OUT)
    before = [np.copy(s) for s in rnn._state_values]
    with pytest.raises(ValueError, match="reset_states needs 3 array"):
        rnn.reset_states([INIT[1]])
    assert all(np.array_equal(a, b) for a, b in zip(before, rnn._state_values))
    rnn.reset_states()
    assert not any(np.any(s) for s in rnn._state_values)


# --- TF tutorial "Text generation with an RNN" ------------------------------------------
def test_text_generation_vectorize_and_batch_the_text_as_keras():
    """The tutorial's text processing, tf.strings.unicode_split written as list(text) (and
    texts of one length: minidl has no ragged tensors); TF's strings are bytes, minidl's str."""
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
    vocab = sorted(set(text))
    assert len(vocab) == 30
    example_texts = ['abcdefg', 'xyzxyzx']
    chars = np.array([list(t) for t in example_texts])
    ids_from_chars = keras.layers.StringLookup(vocabulary=list(vocab), mask_token=None)
    ids = ids_from_chars(chars)
    assert np.asarray(ids).tolist() == [[11, 0, 12, 13, 14, 15, 0], [0, 29, 30, 0, 29, 30, 0]]
    chars_from_ids = keras.layers.StringLookup(vocabulary=ids_from_chars.get_vocabulary(),
                                               invert=True, mask_token=None)
    assert len(ids_from_chars.get_vocabulary()) == 31
    assert np.asarray(chars_from_ids(ids)).tolist() == [
        ['a', '[UNK]', 'c', 'd', 'e', 'f', '[UNK]'], ['[UNK]', 'y', 'z', '[UNK]', 'y', 'z',
                                                      '[UNK]']]

    all_ids = ids_from_chars(np.array(list(text)))
    ids_dataset = minidl.data.Dataset.from_tensor_slices(all_ids)
    seq_length = 10
    sequences = ids_dataset.batch(seq_length+1, drop_remainder=True)

    def split_input_target(sequence):
        input_text = sequence[:-1]
        target_text = sequence[1:]
        return input_text, target_text

    dataset = sequences.map(split_input_target)
    for input_example, target_example in dataset.take(1):
        assert np.asarray(input_example).tolist() == [9, 17, 24, 25, 26, 2, 8, 17, 26, 17]
        assert np.asarray(target_example).tolist() == [17, 24, 25, 26, 2, 8, 17, 26, 17, 30]
    dataset = dataset.batch(2, drop_remainder=True)
    batches = list(dataset)
    assert len(batches) == 3 and all(np.shape(x) == np.shape(y) == (2, 10) for x, y in batches)


class MyModel(keras.Model):
    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__(self)  # (as the tutorial writes it: Keras 2 ignores the self)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(rnn_units,
                                    return_sequences=True,
                                    return_state=True)
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = inputs
        x = self.embedding(x, training=training)
        if states is None:
            states = self.gru.get_initial_state(x)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)

        if return_state:
            return x, states
        else:
            return x


TEXT_LOSS = 2.4530177116394043
TEXT_PRED = [0.293132, -0.26237, -0.130829, 0.649495, 0.196817, -0.084379, -0.413249,
             -0.148555, -0.3735, -0.204948, 0.233676, -0.893545]
TEXT_LOGITS = [
    [0.254677, -0.17523, -0.09999, 0.739888, 0.257927, -0.072455, -0.40569, -0.09149,
     -0.503621, -0.25093, 0.132342, -0.848104],
    [0.237566, -0.14294, -0.086503, 0.79074, 0.280556, -0.068269, -0.396151, -0.05499,
     -0.561699, -0.270673, 0.088978, -0.829244],
    [0.265085, -0.177678, -0.015488, 0.74145, 0.192657, -0.002281, -0.358813, -0.030698,
     -0.425237, -0.281796, 0.118211, -0.888951]]
TEXT_STATES = [[0.356365, -0.557396, -0.531114, 0.254829, 0.126502],
               [0.299024, -0.638414, -0.478298, 0.208335, 0.139474],
               [0.453189, -0.617004, -0.512589, 0.079379, 0.170423]]


def text_model():
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 12, (3, 7)), rng.integers(0, 12, (3, 7))
    model = MyModel(vocab_size=12, embedding_dim=4, rnn_units=5)
    model(inputs)
    assert [w.shape for w in model.get_weights()] == [(12, 4), (4, 15), (5, 15), (2, 15),
                                                      (5, 12), (12,)]
    set_weights(model)
    return model, inputs, targets


def test_text_generation_model_predictions_and_loss_as_keras(capsys):
    model, inputs, targets = text_model()
    example_batch_predictions = model(inputs)
    assert example_batch_predictions.shape == (3, 7, 12)
    close(example_batch_predictions[0, -1], TEXT_PRED)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    example_batch_mean_loss = loss(targets, example_batch_predictions)
    assert float(example_batch_mean_loss) == pytest.approx(TEXT_LOSS, abs=1e-6)
    model.summary()  # a subclassed model: Keras 2 shows no output shapes
    text = capsys.readouterr().out
    for row in (" embedding (Embedding)       multiple                  48",
                " gru (GRU)                   multiple                  165",
                " dense (Dense)               multiple                  72"):
        assert row in text


def test_text_generation_states_carry_from_call_to_call():
    """OneStep's loop: each call returns the GRU's state, the next starts from it."""
    model, inputs, _ = text_model()
    logits, states = model(inputs[:, :3], return_state=True)
    assert states.shape == (3, 5)  # the GRU's h, one tensor (x, states = gru(...))
    logits, states = model(inputs[:, 3:5], states=states, return_state=True)
    close(logits[:, -1], TEXT_LOGITS, atol=3e-6)
    close(states, TEXT_STATES)
    np.testing.assert_allclose(model(inputs[:, :5]).data[:, -1], logits.data[:, -1], atol=1e-6)


def test_text_generation_one_step_model_and_training():
    model, inputs, targets = text_model()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(inputs, targets, epochs=2, batch_size=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"], [2.4530177116394043, 2.450072765350342],
                               atol=2e-6)

    class OneStep(keras.Model):
        """The tutorial's OneStep on token ids (tf.strings and tf.function aside), greedy."""

        def __init__(self, model, temperature=1.0):
            super().__init__()
            self.temperature = temperature
            self.model = model
            self.prediction_mask = np.zeros(12, "float32")
            self.prediction_mask[0] = -np.inf  # ("[UNK]" never comes out)

        def generate_one_step(self, input_ids, states=None):
            predicted_logits, states = self.model(inputs=input_ids, states=states,
                                                  return_state=True)
            predicted_logits = predicted_logits[:, -1, :]
            predicted_logits = predicted_logits / self.temperature
            predicted_logits = predicted_logits + self.prediction_mask
            predicted_ids = np.argmax(predicted_logits.numpy(), axis=-1)
            return predicted_ids, states

    one_step_model = OneStep(model)
    states, next_ids, result = None, inputs[:, :2], []
    for _ in range(4):
        next_ids, states = one_step_model.generate_one_step(next_ids, states=states)
        next_ids = next_ids[:, None]
        result.append(next_ids)
    assert np.concatenate(result, axis=1).tolist() == [[3] * 4] * 3  # tf_keras's ids


class CustomTraining(MyModel):
    def train_step(self, inputs):
        inputs, labels = inputs
        with minidl.GradientTape() as tape:
            predictions = self(inputs, training=True)
            loss = self.loss(labels, predictions)
        grads = tape.gradient(loss, model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, model.trainable_variables))

        return {'loss': loss}


def test_text_generation_custom_training_as_keras(capsys):
    """The tutorial's "Customized Training" (its train_step reads the global ``model``)."""
    global model
    model = CustomTraining(vocab_size=12, embedding_dim=4, rnn_units=5)
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 12, (6, 7)), rng.integers(0, 12, (6, 7))
    model(inputs)
    set_weights(model)
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(inputs, targets, epochs=1, batch_size=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [2.513214588165283], atol=2e-6)

    mean = keras.metrics.Mean()
    for epoch in range(2):
        mean.reset_states()
        for batch_n in range(2):
            batch = slice(3 * batch_n, 3 * batch_n + 3)
            logs = model.train_step([inputs[batch], targets[batch]])
            mean.update_state(logs['loss'])
        print(f'Epoch {epoch+1} Loss: {mean.result().numpy():.6f}')
    assert capsys.readouterr().out == "Epoch 1 Loss: 2.576624\nEpoch 2 Loss: 2.572979\n"


def test_compile_keeps_the_loss_as_given_as_keras():
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile("sgd")
    assert model.loss == {}
    model.compile("sgd", "mse")
    assert model.loss == "mse"
    loss = keras.losses.MeanSquaredError()
    model.compile("sgd", loss=loss)
    assert model.loss is loss


def test_model_init_refuses_other_positional_arguments():
    class Odd(keras.Model):
        def __init__(self):
            super().__init__(3)

    with pytest.raises(TypeError, match=r"received positional \(3\)"):
        Odd()


# --- TF tutorial "Time series forecasting": the autoregressive FeedBack model -------------
num_features, OUT_STEPS = 3, 3


class FeedBack(keras.Model):
    def __init__(self, units, out_steps):
        super().__init__()
        self.out_steps = out_steps
        self.units = units
        self.lstm_cell = keras.layers.LSTMCell(units)
        # Also wrap the LSTMCell in an RNN to simplify the `warmup` method.
        self.lstm_rnn = keras.layers.RNN(self.lstm_cell, return_state=True)
        self.dense = keras.layers.Dense(num_features)

    def warmup(self, inputs):
        # inputs.shape => (batch, time, features)
        # x.shape => (batch, lstm_units)
        x, *state = self.lstm_rnn(inputs)

        # predictions.shape => (batch, features)
        prediction = self.dense(x)
        return prediction, state

    def call(self, inputs, training=None):
        # Use a TensorArray to capture dynamically unrolled outputs.
        predictions = []
        # Initialize the LSTM state.
        prediction, state = self.warmup(inputs)

        # Insert the first prediction.
        predictions.append(prediction)

        # Run the rest of the prediction steps.
        for n in range(1, self.out_steps):
            # Use the last prediction as input.
            x = prediction
            # Execute one lstm step.
            x, state = self.lstm_cell(x, states=state,
                                      training=training)
            # Convert the lstm output to a prediction.
            prediction = self.dense(x)
            # Add the prediction to the output.
            predictions.append(prediction)

        # predictions.shape => (time, batch, features)
        predictions = ops.stack(predictions)
        # predictions.shape => (batch, time, features)
        predictions = ops.transpose(predictions, [1, 0, 2])
        return predictions


FEEDBACK_OUT = [
    [[-0.39081, 0.022278, -0.269172], [-0.393432, 0.051706, -0.252261],
     [-0.404287, 0.061286, -0.245863]],
    [[-0.442703, 0.069292, -0.241755], [-0.432556, 0.062768, -0.246556],
     [-0.427008, 0.067748, -0.243275]]]


def feedback_model():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 5, num_features)).astype("float32")
    y = rng.uniform(-1, 1, (2, OUT_STEPS, num_features)).astype("float32")
    model = FeedBack(units=4, out_steps=OUT_STEPS)
    prediction, state = model.warmup(x)
    assert prediction.shape == (2, 3) and [s.shape for s in state] == [(2, 4), (2, 4)]
    model(x)
    assert [w.shape for w in model.get_weights()] == [(3, 16), (4, 16), (16,), (4, 3), (3,)]
    set_weights(model)
    return model, x, y


def test_feedback_model_predicts_as_keras():
    model, x, _ = feedback_model()
    close(model(x), FEEDBACK_OUT)


def test_feedback_model_trains_and_evaluates_as_keras(capsys):
    model, x, y = feedback_model()
    model.compile(loss=keras.losses.MeanSquaredError(),
                  optimizer=keras.optimizers.SGD(0.1),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"], [0.3404829502105713,
                                                         0.3187776803970337], atol=2e-6)
    np.testing.assert_allclose(history.history["mean_absolute_error"],
                               [0.46334078907966614, 0.4472980499267578], atol=2e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               [0.30015531182289124, 0.43257173895835876], atol=2e-6)
    model.summary()  # the cell and the RNN share the cell's weights, as tf_keras counts them
    text = capsys.readouterr().out
    for row in (" lstm_cell (LSTMCell)        multiple                  128",
                " rnn (RNN)                   multiple                  128",
                " dense (Dense)               multiple                  15",
                "Total params: 143"):
        assert row in text


def test_time_series_lstm_models_shapes_and_counts():
    x = np.zeros((2, 5, num_features), "float32")
    lstm_model = keras.models.Sequential([
        # Shape [batch, time, features] => [batch, time, lstm_units]
        keras.layers.LSTM(4, return_sequences=True),
        # Shape => [batch, time, features]
        keras.layers.Dense(units=1)
    ])
    assert lstm_model(x).shape == (2, 5, 1)
    multi_lstm_model = keras.Sequential([
        # Shape [batch, time, features] => [batch, lstm_units].
        keras.layers.LSTM(4, return_sequences=False),
        # Shape => [batch, out_steps*features].
        keras.layers.Dense(OUT_STEPS * num_features,
                           kernel_initializer=keras.initializers.zeros()),
        # Shape => [batch, out_steps, features].
        keras.layers.Reshape([OUT_STEPS, num_features])
    ])
    assert multi_lstm_model(x).shape == (2, OUT_STEPS, num_features)
    assert [layer.count_params() for layer in multi_lstm_model.layers] == [128, 45, 0]
    assert not multi_lstm_model(x).numpy().any()  # zeros kernel, zeros bias


# --- "Time series forecasting": windows from a tf.data-like pipeline, baseline, residual ---
SERIES = np.random.default_rng(0).uniform(-1, 1, (120, 3)).astype("float32")  # (no pandas)
column_indices = {"a": 0, "b": 1, "T": 2}
train_df, val_df = SERIES[:80], SERIES[80:]


class WindowGenerator():
    def __init__(self, input_width, label_width, shift, label_columns=None):
        # Work out the label column indices.
        self.label_columns = label_columns
        if label_columns is not None:
            self.label_columns_indices = {name: i for i, name in enumerate(label_columns)}
        self.column_indices = column_indices

        # Work out the window parameters.
        self.input_width = input_width
        self.label_width = label_width
        self.shift = shift

        self.total_window_size = input_width + shift

        self.input_slice = slice(0, input_width)
        self.input_indices = np.arange(self.total_window_size)[self.input_slice]

        self.label_start = self.total_window_size - self.label_width
        self.labels_slice = slice(self.label_start, None)
        self.label_indices = np.arange(self.total_window_size)[self.labels_slice]

    def split_window(self, features):
        inputs = features[:, self.input_slice, :]
        labels = features[:, self.labels_slice, :]
        if self.label_columns is not None:
            labels = np.stack(
                [labels[:, :, self.column_indices[name]] for name in self.label_columns],
                axis=-1)
        # (inputs.set_shape / labels.set_shape: TensorFlow's static shapes, not needed here)
        return inputs, labels

    def make_dataset(self, data):
        data = np.array(data, dtype=np.float32)
        ds = keras.utils.timeseries_dataset_from_array(
            data=data,
            targets=None,
            sequence_length=self.total_window_size,
            sequence_stride=1,
            shuffle=False,  # (the tutorial shuffles; in order here, to compare numbers)
            batch_size=32,)
        ds = ds.map(self.split_window)
        return ds

    @property
    def train(self):
        return self.make_dataset(train_df)

    @property
    def val(self):
        return self.make_dataset(val_df)


class Baseline(keras.Model):
    def __init__(self, label_index=None):
        super().__init__()
        self.label_index = label_index

    def call(self, inputs):
        if self.label_index is None:
            return inputs
        result = inputs[:, :, self.label_index]
        return result[:, :, None]  # (tf.newaxis)


class ResidualWrapper(keras.Model):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def call(self, inputs, *args, **kwargs):
        delta = self.model(inputs, *args, **kwargs)

        # The prediction for each time step is the input
        # from the previous time step plus the delta
        # calculated by the model.
        return inputs + delta


def compile_and_fit(model, window, patience=2):
    early_stopping = keras.callbacks.EarlyStopping(monitor='val_loss',
                                                   patience=patience,
                                                   mode='min')

    model.compile(loss=keras.losses.MeanSquaredError(),
                  optimizer=keras.optimizers.Adam(),
                  metrics=[keras.metrics.MeanAbsoluteError()])

    history = model.fit(window.train, epochs=2,
                        validation_data=window.val,
                        callbacks=[early_stopping], verbose=0)
    return history


def assert_history(history, expected):
    assert sorted(history.history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, atol=2e-6)


def test_time_series_windows_and_baseline_as_keras():
    single_step_window = WindowGenerator(input_width=1, label_width=1, shift=1,
                                         label_columns=['T'])
    for example_inputs, example_labels in single_step_window.train.take(1):
        assert example_inputs.shape == (32, 1, 3) and example_labels.shape == (32, 1, 1)
    baseline = Baseline(label_index=column_indices['T'])
    baseline.compile(loss=keras.losses.MeanSquaredError(),
                     metrics=[keras.metrics.MeanAbsoluteError()])
    performance = baseline.evaluate(single_step_window.val, return_dict=True, verbose=0)
    assert performance == pytest.approx({"loss": 0.6876635551452637,
                                         "mean_absolute_error": 0.6825308799743652}, abs=2e-6)


def test_time_series_lstm_on_a_wide_window_as_keras():
    wide_window = WindowGenerator(input_width=6, label_width=6, shift=1, label_columns=['T'])
    lstm_model = keras.models.Sequential([
        keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Dense(units=1)
    ])
    lstm_model(np.zeros((1, 6, 3), "float32"))
    set_weights(lstm_model)
    assert_history(compile_and_fit(lstm_model, wide_window), {
        "loss": [0.5589338541030884, 0.5546674728393555],
        "mean_absolute_error": [0.6098650097846985, 0.6083650588989258],
        "val_loss": [0.5236996412277222, 0.5197718739509583],
        "val_mean_absolute_error": [0.5986700654029846, 0.5971232056617737]})


def test_time_series_residual_lstm_as_keras():
    residual_lstm = ResidualWrapper(
        keras.Sequential([
            keras.layers.LSTM(4, return_sequences=True),
            keras.layers.Dense(
                num_features,
                # The predicted deltas should start small.
                # Therefore, initialize the output layer with zeros.
                kernel_initializer=keras.initializers.zeros())
        ]))
    all_window = WindowGenerator(input_width=6, label_width=6, shift=1)
    residual_lstm(np.zeros((1, 6, 3), "float32"))
    set_weights(residual_lstm)
    assert_history(compile_and_fit(residual_lstm, all_window), {
        "loss": [0.8396199345588684, 0.8368909955024719],
        "mean_absolute_error": [0.7556639909744263, 0.7543641924858093],
        "val_loss": [0.6471962928771973, 0.6446404457092285],
        "val_mean_absolute_error": [0.6426004767417908, 0.6410616040229797]})
