"""minidl: a small deep-learning framework to read, with Keras's API and compiled kernels.

    import minidl
    from minidl import layers

    model = minidl.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train, y_train, epochs=5)

Submodules are imported when first used, so ``import minidl`` stays quick.
"""

import importlib

from minidl.autograd import GradientTape, no_grad
from minidl.tensor import Tensor, Variable

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "backend", "callbacks", "config", "constraints", "data", "datasets", "initializers",
    "keras", "layers", "losses", "metrics", "models", "onnx", "ops", "optimizers", "plot",
    "preprocessing", "profiler", "random", "regularizers", "saving", "testing", "utils",
)
_NAMES = {
    "Sequential": "minidl.models",
    "Model": "minidl.models",
    "load_model": "minidl.models",
    "Input": "minidl.layers",
    "profile": "minidl.profiler",
    "function": "minidl.eager",
    "device": "minidl.placement",
    "set_num_threads": "minidl._kernels.threads",
    "get_num_threads": "minidl._kernels.threads",
    "TensorShape": "minidl.tensor_shape",
}

__all__ = ["Tensor", "Variable", "GradientTape", "no_grad", "__version__", *_SUBMODULES, *_NAMES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minidl.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name == "strings":  # keras.io's text examples standardize with tf.strings
        raise AttributeError(
            "module 'minidl' has no attribute 'strings': minidl has no tf.strings, its text is "
            "NumPy arrays of str. In a TextVectorization standardize function, work on the "
            "strings in Python: [re.sub(pattern, '', text.lower()) for text in input_data]."
        )
    raise AttributeError(f"module 'minidl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
