"""IMDB sentiment: an Embedding, a Bidirectional LSTM and a sigmoid say whether a film review is positive.

1. The data: each review is a list of word indices (1 marks the start, 2 a word
   outside the 10,000 most frequent, a word of rank r is r + 3).  Reviews have
   different lengths, but a batch is one array: ``pad_sequences`` cuts every
   review to its last ``maxlen=200`` words and fills shorter ones with 0 in
   front (``padding="pre"``, Keras's default).
2. The model: ``Embedding(10000, 32, mask_zero=True)`` turns each index into a
   learned vector of 32 numbers; ``mask_zero=True`` also marks the padding 0s,
   and the LSTM that follows skips the masked steps (it keeps its state
   unchanged there), so a short review is read exactly as if it had no
   padding.  ``Bidirectional`` reads the review forwards and backwards and
   joins the two final states; ``Dense(1, sigmoid)`` gives P(positive).
3. Training with binary cross-entropy, then the test accuracy and a check that
   the mask works: the same review with more padding gets the same prediction.

Offline this runs on a synthetic stand-in (announced when it starts); ``--full``
loads Keras's imdb.npz (25,000 training and 25,000 test reviews; 2 epochs).
The stand-in reaches about 0.78 test accuracy in 4 epochs.
"""

import numpy as np

import minidl
from minidl import layers

import _common

NUM_WORDS, MAXLEN = 10000, 200

args = _common.parse_args(__doc__.splitlines()[0])
minidl.utils.set_random_seed(0)

# --- 1. The data -----------------------------------------------------------------------
(x_train, y_train), (x_test, y_test) = _common.load_imdb(args, num_words=NUM_WORDS)
x_train, y_train, x_test, y_test = _common.shorten(args, x_train, y_train, x_test, y_test, size=300)
lengths = [len(review) for review in x_train]
print(f"{len(x_train)} training reviews, {min(lengths)} to {max(lengths)} words "
      f"(median {int(np.median(lengths))}); the first starts {x_train[0][:10]}")
# one array of shape (reviews, 200): longer reviews lose their first words
# (truncating="pre"), shorter ones get 0s in front (padding="pre")
x_train = minidl.utils.pad_sequences(x_train, maxlen=MAXLEN)
x_test = minidl.utils.pad_sequences(x_test, maxlen=MAXLEN)
print(f"Padded: {x_train.shape}; the shortest review now starts {x_train[np.argmin(lengths)][:12]}")

# --- 2. The model ----------------------------------------------------------------------
model = minidl.Sequential([
    # (batch, 200) indices -> (batch, 200, 32) vectors, plus a mask: True where the index is not 0
    layers.Embedding(NUM_WORDS, 32, mask_zero=True, input_length=MAXLEN),
    # the mask travels with the vectors: both directions skip the padded steps
    layers.Bidirectional(layers.LSTM(32)),  # (batch, 64): forward and backward final states
    layers.Dense(1, activation="sigmoid"),  # P(positive)
])
model.summary()

# --- 3. Training -----------------------------------------------------------------------
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=_common.epochs(args, 2 if args.full else 4), batch_size=64,
          validation_split=0.1)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_accuracy:.4f}")

# the mask at work: a review padded to 200 or to 300 words gets the same prediction,
# because the padding steps are skipped (without mask_zero=True they would count)
short = int(np.argmax((x_test == 0).sum(axis=1)))  # the test review with the most padding
longer = minidl.utils.pad_sequences([x_test[short][x_test[short] != 0]], maxlen=MAXLEN + 100)
longer_model = minidl.Sequential([layers.Embedding(NUM_WORDS, 32, mask_zero=True),
                                  layers.Bidirectional(layers.LSTM(32)),
                                  layers.Dense(1, activation="sigmoid")])
longer_model.build((None, None))
longer_model.set_weights(model.get_weights())
p200 = float(model.predict(x_test[short:short + 1], verbose=0)[0, 0])
p300 = float(longer_model.predict(longer, verbose=0)[0, 0])
print(f"Review {short} ({int((x_test[short] != 0).sum())} words): P(positive) {p200:.4f} "
      f"padded to {MAXLEN}, {p300:.4f} padded to {MAXLEN + 100}")
