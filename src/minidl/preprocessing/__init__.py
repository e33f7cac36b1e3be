"""Where Keras 2 kept its preprocessing helpers: ``preprocessing.sequence.pad_sequences``."""

from minidl.preprocessing import sequence

__all__ = ["sequence"]
