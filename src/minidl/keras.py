"""``from minidl import keras``: Keras's namespace, so tf.keras code changes one line.

    from tensorflow import keras      ->   from minidl import keras
    from tensorflow.keras import layers   ->   from minidl.keras import layers

    model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy())

Every name here is minidl's own module or class (``keras.layers`` is
``minidl.layers``); nothing is copied or wrapped.  What minidl lacks is
simply absent, so a tutorial stops with an AttributeError naming it rather
than running something different.
"""

from minidl import (
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from minidl.autograd import GradientTape
from minidl.layers import Input
from minidl.models import Model, Sequential, load_model
from minidl.tensor import Variable

__all__ = [
    "GradientTape", "Input", "Model", "Sequential", "Variable", "activations", "backend",
    "callbacks", "datasets", "initializers", "layers", "load_model", "losses", "metrics", "models",
    "ops", "optimizers", "random", "regularizers", "saving", "utils",
]
