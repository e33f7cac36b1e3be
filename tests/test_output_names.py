"""A functional model's ``output_names`` are unique, as Keras 2 makes them
(tf_keras 2.21 gives ['rnn', 'rnn_1', 'rnn_2'] and ['d', 'd_1'] for the models below,
and logs 'd_loss' and 'd_1_loss'): a layer giving several outputs must not merge
their losses, metrics or logs."""

import numpy as np

import minidl
from minidl import layers


def sequence_input():
    return layers.Input((6, 3))


def test_the_outputs_of_one_layer_are_numbered():
    inputs = sequence_input()
    outputs = layers.LSTM(4, return_state=True, name="rnn")(inputs)
    assert minidl.Model(inputs, outputs).output_names == ["rnn", "rnn_1", "rnn_2"]


def test_a_layer_called_twice_logs_each_output():
    inputs = sequence_input()
    sequence, state, _ = layers.LSTM(4, return_state=True, return_sequences=False)(inputs)
    dense = layers.Dense(2, name="d")
    model = minidl.Model(inputs, [dense(sequence), dense(state)])
    assert model.output_names == ["d", "d_1"]
    model.compile("adam", {"d": "mse", "d_1": "mae"}, metrics={"d_1": "mae"})
    x = np.zeros((4, 6, 3), np.float32)
    history = model.fit(x, {"d": np.zeros((4, 2)), "d_1": np.ones((4, 2))}, verbose=0)
    assert list(history.history) == ["loss", "d_loss", "d_1_loss", "d_1_mae"]
    assert history.history["d_loss"] == [0.0] and history.history["d_1_loss"] == [1.0]
