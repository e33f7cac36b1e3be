"""The four tutorial models (M1..M4) of the speed comparison, in every framework.

Each model is described once in ``MODELS`` (its batch size and optimizer) and
built by ``build_minidl``, ``build_torch`` (see torch_models.py) or
``build_keras``, so every framework trains exactly the same layers:

* M1: the 000 seed -- Flatten, Dense 128 relu, Dropout 0.2, Dense 10 softmax; Adam 1e-3, batch 32;
* M2: the 002 seed -- Dense 300 relu, 100 relu, 10 softmax; SGD 0.01, batch 32;
* M3: the 004 seed -- Dense 128 relu, 128 relu, 10 softmax; RMSprop 1e-3, batch 64;
* M4: the CNN -- Conv2D 32 3x3 relu, MaxPool 2, Conv2D 64 3x3 relu, MaxPool 2,
  Flatten, Dense 128 relu, Dense 10 softmax; Adam 1e-3, batch 64.

Data: the Fashion-MNIST images bundled with minidl (3,000 of them, repeated in
a fresh random order each pass), scaled to float32 in [0, 1], and their labels;
the same numbers for every framework.  Real images, because M4's speed depends
on them: minidl's second convolution skips the zeros of its gradient, and on
random noise the CNN's relus leave far more zeros (about 3% nonzero, against
17% on Fashion-MNIST), which would flatter minidl.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """A model of the comparison: an MLP (``hidden`` widths) or, with ``conv``, the CNN."""

    name: str
    description: str
    batch_size: int
    optimizer: str  # "adam", "sgd" or "rmsprop"
    learning_rate: float
    hidden: tuple = ()  # relu Dense widths between Flatten and the softmax Dense 10
    dropout: float = 0.0  # a Dropout after the last hidden layer, when > 0
    conv: bool = False

    @property
    def input_shape(self):
        """Shape of one image, without the batch axis (NHWC for the CNN)."""
        return (28, 28, 1) if self.conv else (28, 28)


MODELS = {
    "M1": ModelSpec("M1", "784-128-drop-10, Adam, batch 32", 32, "adam", 1e-3, (128,), 0.2),
    "M2": ModelSpec("M2", "784-300-100-10, SGD, batch 32", 32, "sgd", 1e-2, (300, 100)),
    "M3": ModelSpec("M3", "784-128-128-10, RMSprop, batch 64", 64, "rmsprop", 1e-3, (128, 128)),
    "M4": ModelSpec("M4", "CNN 32c-pool-64c-pool-128-10, Adam, batch 64", 64, "adam", 1e-3,
                    conv=True),
}


def mlp_spec(width, batch_size):
    """The scaling curves' model: 784-width-10, Adam."""
    return ModelSpec(f"MLP{width}", f"784-{width}-10, Adam, batch {batch_size}", batch_size,
                     "adam", 1e-3, (width,))


# minidl's bundled sample, read with NumPy alone: the memory probe counts what
# importing a framework costs, so making the data must import none
SAMPLE = Path(__file__).resolve().parents[1] / "src/minidl/datasets/data/fashion_mnist_sample.npz"


def make_data(spec, samples, seed=0):
    """``(x float32 (samples, 28, 28[, 1]), y int64 (samples,))``: the bundled
    Fashion-MNIST images, in a fixed random order (``seed``), repeated as needed."""
    rng = np.random.default_rng(seed)
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

    if spec.conv:
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
    model.compile(optimizer(learning_rate=spec.learning_rate),
                  "sparse_categorical_crossentropy")
    return model


def build_keras(spec):
    """The same model in Keras (only when Keras is installed)."""
    import keras
    from keras import layers

    if spec.conv:
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
    model.compile(optimizer(learning_rate=spec.learning_rate),
                  "sparse_categorical_crossentropy")
    return model
