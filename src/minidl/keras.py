"""``from minidl import keras``: Keras's namespace, so tf.keras code changes one line.

    from tensorflow import keras      ->   from minidl import keras
    from tensorflow.keras import layers   ->   from minidl.keras import layers

    model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy())

Every name here is minidl's own module or class (``keras.layers`` is
``minidl.layers``); nothing is copied or wrapped.  What minidl lacks is
simply absent, so a tutorial stops with an AttributeError naming it rather
than running something different.

``from tensorflow.keras.models import Sequential`` and
``from tensorflow.keras.layers import Dense`` work too: each module below is
also importable as ``minidl.keras.<name>``.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

from minidl import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from minidl.autograd import GradientTape
from minidl.placement import device
from minidl.layers import Input
from minidl.models import Model, Sequential, load_model
from minidl.tensor import Variable

__all__ = [
    "GradientTape", "Input", "Model", "Sequential", "Variable", "activations", "backend",
    "callbacks", "constraints", "datasets", "device", "initializers", "layers", "load_model", "losses", "metrics", "models",
    "ops", "optimizers", "preprocessing", "random", "regularizers", "saving", "utils",
]



class _SubmoduleAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``minidl.keras.<a>.<b>`` as the module ``minidl.<a>.<b>`` itself (never a
    second copy of it, whose classes would differ from minidl's)."""

    prefix = __name__ + "."

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.prefix):
            return None
        real = "minidl." + fullname[len(self.prefix):]
        if real.split(".")[1] not in __all__ or importlib.util.find_spec(real) is None:
            return None  # Python's own "No module named 'minidl.keras.<name>'"
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return importlib.import_module("minidl." + spec.name[len(self.prefix):])

    def exec_module(self, module):
        pass  # already run, under its own name


sys.meta_path.insert(0, _SubmoduleAlias())
for _name in __all__:  # minidl.keras.layers, ...: `from minidl.keras.layers import Dense`
    if isinstance(globals()[_name], types.ModuleType):
        sys.modules[f"{__name__}.{_name}"] = globals()[_name]
