"""The tutorial models (M1..M6) of the speed comparison, in every framework.

Each model is described once in ``MODELS`` (its batch size and optimizer) and
built by ``build_minidl``, ``build_torch`` (see torch_models.py) or
``build_keras``, so every framework trains exactly the same layers:

* M1: the 000 seed -- Flatten, Dense 128 relu, Dropout 0.2, Dense 10 softmax; Adam 1e-3, batch 32;
* M2: the 002 seed -- Dense 300 relu, 100 relu, 10 softmax; SGD 0.01, batch 32;
* M3: the 004 seed -- Dense 128 relu, 128 relu, 10 softmax; RMSprop 1e-3, batch 64;
* M4: the CNN -- Conv2D 32 3x3 relu, MaxPool 2, Conv2D 64 3x3 relu, MaxPool 2,
  Flatten, Dense 128 relu, Dense 10 softmax; Adam 1e-3, batch 64;
* M5: LSTM 128 over the 28 rows of each image (28 steps of 28 features),
  Dense 10 softmax; Adam 1e-3, batch 64;
* M6: IMDB-shaped -- Embedding(10000, 32), LSTM 32, Dense 1 sigmoid, binary
  cross-entropy; Adam 1e-3, batch 128, on 200-token sequences.

Data: the Fashion-MNIST images bundled with minidl (3,000 of them, repeated in
a fresh random order each pass), scaled to float32 in [0, 1], and their labels;
the same numbers for every framework.  Real images, so that no convolution
whose time depends on the values (a backward skipping the zeros of its gradient:
on random noise the CNN's relus leave far more of them) could be flattered;
minidl's convolutions now take the same time on any values.  M6's sequences are random
word indices in 1..9999 (no padding: every step costs the same) with random
0/1 labels -- the speed of an Embedding + LSTM step does not depend on the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """A model of the comparison: an MLP (``hidden`` widths), with ``conv`` the CNN, with
    ``recurrent`` an LSTM model ("rows": M5, "tokens": M6)."""

    name: str
    description: str
    batch_size: int
    optimizer: str  # "adam", "sgd" or "rmsprop"
    learning_rate: float
    hidden: tuple = ()  # relu Dense widths between Flatten and the softmax Dense 10
    dropout: float = 0.0  # a Dropout after the last hidden layer, when > 0
    conv: bool = False
    recurrent: str = ""  # "rows" (M5) or "tokens" (M6)
    target: float = 0.6  # the bound on minidl/torch training time

    @property
    def input_shape(self):
        """Shape of one sample, without the batch axis (NHWC for the CNN, 200 indices for M6)."""
        if self.recurrent == "tokens":
            return (SEQUENCE_LENGTH,)
        return (28, 28, 1) if self.conv else (28, 28)


MODELS = {
    "M1": ModelSpec("M1", "784-128-drop-10, Adam, batch 32", 32, "adam", 1e-3, (128,), 0.2),
    "M2": ModelSpec("M2", "784-300-100-10, SGD, batch 32", 32, "sgd", 1e-2, (300, 100)),
    "M3": ModelSpec("M3", "784-128-128-10, RMSprop, batch 64", 64, "rmsprop", 1e-3, (128, 128)),
    "M4": ModelSpec("M4", "CNN 32c-pool-64c-pool-128-10, Adam, batch 64", 64, "adam", 1e-3,
                    conv=True),
    "M5": ModelSpec("M5", "LSTM(128) on 28x28 rows + Dense 10, Adam, batch 64", 64, "adam", 1e-3,
                    recurrent="rows", target=0.7),
    "M6": ModelSpec("M6", "Embedding(10000,32)-LSTM(32)-Dense 1 sigmoid, 200 tokens, Adam, batch 128",
                    128, "adam", 1e-3, recurrent="tokens", target=0.7),
}
VOCABULARY, SEQUENCE_LENGTH = 10000, 200  # M6


def mlp_spec(width, batch_size):
    """The scaling curves' model: 784-width-10, Adam."""
    return ModelSpec(f"MLP{width}", f"784-{width}-10, Adam, batch {batch_size}", batch_size,
                     "adam", 1e-3, (width,))


# minidl's bundled sample, read with NumPy alone: the memory probe counts what
# importing a framework costs, so making the data must import none
SAMPLE = Path(__file__).resolve().parents[1] / "src/minidl/datasets/data/fashion_mnist_sample.npz"


def make_data(spec, samples, seed=0):
    """``(x float32 (samples, 28, 28[, 1]), y int64 (samples,))``: the bundled
    Fashion-MNIST images, in a fixed random order (``seed``), repeated as needed;
    for M6 ``(x int32 (samples, 200), y float32 0/1)``."""
    rng = np.random.default_rng(seed)
    if spec.recurrent == "tokens":
        x = rng.integers(1, VOCABULARY, (samples, SEQUENCE_LENGTH)).astype(np.int32)
        return x, rng.integers(0, 2, samples).astype(np.float32)
    with np.load(SAMPLE) as sample:
        images, labels = sample["x_train"], sample["y_train"].astype(np.int64)
    order = np.concatenate([rng.permutation(len(images))
                            for _ in range(-(-samples // len(images)))])[:samples]
    x = np.empty((samples, *spec.input_shape), np.float32)
    for start in range(0, samples, 10_000):  # in chunks: no large temporaries (memory probe)
        chunk = x[start:start + 10_000]
        chunk[...] = images[order[start:start + 10_000]].reshape(chunk.shape)
        chunk /= np.float32(255.0)
    return x, labels[order]


def build_minidl(spec):
    """The compiled (ready to ``fit``) minidl model of ``spec``."""
    import minidl
    from minidl import layers

    loss = "sparse_categorical_crossentropy"
    if spec.recurrent == "rows":
        body = [layers.LSTM(128, input_shape=(28, 28)), layers.Dense(10, activation="softmax")]
    elif spec.recurrent == "tokens":
        body = [layers.Embedding(VOCABULARY, 32, input_length=SEQUENCE_LENGTH), layers.LSTM(32),
                layers.Dense(1, activation="sigmoid")]
        loss = "binary_crossentropy"
    elif spec.conv:
        body = [layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dense(10, activation="softmax")]
    else:
        body = [layers.Flatten(input_shape=(28, 28))]
        body += [layers.Dense(units, activation="relu") for units in spec.hidden]
        if spec.dropout:
            body.append(layers.Dropout(spec.dropout))
        body.append(layers.Dense(10, activation="softmax"))
    model = minidl.Sequential(body)
    optimizer = {"adam": minidl.optimizers.Adam, "sgd": minidl.optimizers.SGD,
                 "rmsprop": minidl.optimizers.RMSprop}[spec.optimizer]
    model.compile(optimizer(learning_rate=spec.learning_rate), loss)
    return model


def build_keras(spec):
    """The same model in Keras (only when Keras is installed)."""
    import keras
    from keras import layers

    loss = "sparse_categorical_crossentropy"
    if spec.recurrent == "rows":
        body = [keras.Input(shape=(28, 28)), layers.LSTM(128), layers.Dense(10, activation="softmax")]
    elif spec.recurrent == "tokens":
        body = [keras.Input(shape=(SEQUENCE_LENGTH,)), layers.Embedding(VOCABULARY, 32), layers.LSTM(32),
                layers.Dense(1, activation="sigmoid")]
        loss = "binary_crossentropy"
    elif spec.conv:
        body = [keras.Input(shape=(28, 28, 1)),
                layers.Conv2D(32, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dense(10, activation="softmax")]
    else:
        body = [keras.Input(shape=(28, 28)), layers.Flatten()]
        body += [layers.Dense(units, activation="relu") for units in spec.hidden]
        if spec.dropout:
            body.append(layers.Dropout(spec.dropout))
        body.append(layers.Dense(10, activation="softmax"))
    model = keras.Sequential(body)
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
                 "rmsprop": keras.optimizers.RMSprop}[spec.optimizer]
    model.compile(optimizer(learning_rate=spec.learning_rate), loss)
    return model
