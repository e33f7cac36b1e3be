"""6.2 Understanding recurrent neural networks.

The NumPy RNN written by hand runs as in the book, then the SimpleRNN and LSTM
cells; IMDB -> the stand-in of 3.5 (maxlen 500 -> 50, 10 epochs -> 1).
"""

import numpy as np

from minidl.layers import Dense, Embedding
from minidl.models import Sequential
from minidl.preprocessing import sequence

from dlwp_data import imdb_like


def test_a_recurrent_layer_in_numpy():
    timesteps = 100  # Number of timesteps in the input sequence
    input_features = 32  # Dimensionality of the input feature space
    output_features = 64  # Dimensionality of the output feature space

    # This is our input data - just random noise for the sake of our example.
    inputs = np.random.random((timesteps, input_features))

    # This is our "initial state": an all-zero vector.
    state_t = np.zeros((output_features,))

    # Create random weight matrices
    W = np.random.random((output_features, input_features))
    U = np.random.random((output_features, output_features))
    b = np.random.random((output_features,))

    successive_outputs = []
    for input_t in inputs:  # input_t is a vector of shape (input_features,).
        # We combine the input with the current state
        # (i.e. the previous output) to obtain the current output.
        output_t = np.tanh(np.dot(W, input_t) + np.dot(U, state_t) + b)

        # We store this output in a list.
        successive_outputs.append(output_t)

        # We update the "state" of the network for the next timestep
        state_t = output_t

    # The final output is a 2D tensor of shape (timesteps, output_features).
    final_output_sequence = np.stack(successive_outputs, axis=0)
    assert final_output_sequence.shape == (timesteps, output_features)
    assert np.abs(final_output_sequence).max() <= 1.0


def test_simple_rnn_summaries_and_imdb():
    from minidl.layers import SimpleRNN

    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(SimpleRNN(32, return_sequences=True))
    model.add(SimpleRNN(32, return_sequences=True))
    model.add(SimpleRNN(32))
    assert model.count_params() == 320000 + 3 * 2080

    max_features = 10000  # number of words to consider as features
    maxlen = 50  # cut texts after this number of words (among top max_features most common words)
    batch_size = 32
    (input_train, y_train), (input_test, y_test) = imdb_like(num_words=max_features)
    input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
    input_test = sequence.pad_sequences(input_test, maxlen=maxlen)

    model = Sequential()
    model.add(Embedding(max_features, 32))
    model.add(SimpleRNN(32))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    history = model.fit(input_train, y_train, epochs=1, batch_size=batch_size,
                        validation_split=0.2, verbose=0)
    assert sorted(history.history) == ['acc', 'loss', 'val_acc', 'val_loss']


def test_lstm_on_imdb():
    from minidl.layers import LSTM

    (input_train, y_train), _ = imdb_like(num_words=10000)
    input_train = sequence.pad_sequences(input_train, maxlen=50)
    model = Sequential()
    model.add(Embedding(10000, 32))
    model.add(LSTM(32))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    history = model.fit(input_train, y_train, epochs=1, batch_size=128, validation_split=0.2,
                        verbose=0)
    assert len(history.history['val_acc']) == 1
