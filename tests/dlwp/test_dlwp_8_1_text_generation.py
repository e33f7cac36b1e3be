"""8.1 Text generation with LSTM (character level).

Nietzsche's text (``keras.utils.get_file('nietzsche.txt', ...)``) -> a stand-in of the
same kind made here: lower-case words with spaces, 3,000 characters instead of 600,893;
60 epochs of generation -> 2, and 400 generated characters per temperature -> 10.
Everything else is the book's code: one-hot characters in ``np.bool`` arrays, an
LSTM(128) over 60 characters, RMSprop(lr=0.01), and the sampling function with a
temperature.
"""

import random

import numpy as np
import pytest

import minidl as keras
from minidl import layers

WORDS = ["the", "will", "to", "power", "is", "truth", "and", "of", "a", "free", "spirit",
         "beyond", "good", "evil", "morality", "philosopher"]


def nietzsche_like(length=3000, seed=0):
    rng = np.random.default_rng(seed)
    text = ""
    while len(text) < length:
        text += rng.choice(WORDS) + (". " if rng.random() < 0.1 else " ")
    return text[:length]


def test_character_level_lstm_generates_text():
    text = nietzsche_like().lower()

    # Length of extracted character sequences
    maxlen = 60

    # We sample a new sequence every `step` characters
    step = 3

    # This holds our extracted sequences
    sentences = []

    # This holds the targets (the follow-up characters)
    next_chars = []

    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i: i + maxlen])
        next_chars.append(text[i + maxlen])
    assert len(sentences) == 980

    # List of unique characters in the corpus
    chars = sorted(list(set(text)))
    # Dictionary mapping unique characters to their index in `chars`
    char_indices = dict((char, chars.index(char)) for char in chars)

    # Next, one-hot encode the characters into binary arrays.
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.bool)
    y = np.zeros((len(sentences), len(chars)), dtype=np.bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.models.Sequential()
    model.add(layers.LSTM(128, input_shape=(maxlen, len(chars))))
    model.add(layers.Dense(len(chars), activation='softmax'))

    with pytest.warns(DeprecationWarning, match="learning_rate"):  # Keras 2 warns too
        optimizer = keras.optimizers.RMSprop(lr=0.01)
    model.compile(loss='categorical_crossentropy', optimizer=optimizer)
    assert model.count_params() == 4 * 128 * (len(chars) + 128 + 1) + 129 * len(chars)

    def sample(preds, temperature=1.0):
        preds = np.asarray(preds).astype('float64')
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    losses = []
    for epoch in range(1, 3):
        # Fit the model for 1 epoch on the available training data
        history = model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        losses += history.history['loss']

        # Select a text seed at random
        start_index = random.randint(0, len(text) - maxlen - 1)
        generated_text = text[start_index: start_index + maxlen]

        for temperature in [0.2, 0.5, 1.0, 1.2]:
            generated = generated_text
            # We generate 10 characters (the book: 400)
            for i in range(10):
                sampled = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(generated):
                    sampled[0, t, char_indices[char]] = 1.

                preds = model.predict(sampled, verbose=0)[0]
                assert preds.shape == (len(chars),) and abs(preds.sum() - 1) < 1e-5
                next_index = sample(preds, temperature)
                next_char = chars[next_index]

                generated += next_char
                generated = generated[1:]
            assert len(generated) == maxlen and set(generated) <= set(chars)
    # a uniform guess over the characters costs ln(len(chars)); the model learns the words
    assert losses[-1] < losses[0]
    assert losses[-1] < np.log(len(chars)) - 0.3
