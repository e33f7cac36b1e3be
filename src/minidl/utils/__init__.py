"""Helpers the tutorials import from ``keras.utils``.

``to_categorical`` (one-hot labels), ``set_random_seed`` (one call seeds every
generator minidl and the tutorials use), ``normalize``, ``Progbar`` (the
Keras progress bar ``fit()`` prints) and ``plot_model`` (a picture of a
model's layers; needs matplotlib).
"""

from minidl.plot_graphs import plot_model
from minidl.utils.arrays import normalize, to_categorical
from minidl.utils.progbar import Progbar
from minidl.utils.seeding import clear_session, set_random_seed

__all__ = ["Progbar", "clear_session", "normalize", "plot_model", "set_random_seed",
           "to_categorical"]
