"""Keras 2's ``keras.utils.np_utils`` path: ``to_categorical`` and ``normalize``."""

from minidl.utils.arrays import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
