"""``minidl.device``: what TensorFlow code writes as ``with tf.device("CPU:0"):``
(Keras 3's ``keras.device``).

minidl runs every op on the CPU, in this process: there is nothing to place.
A CPU device name (``"CPU:0"``, ``"/cpu:0"``, ``"/device:CPU:0"``,
``"/job:localhost/replica:0/task:0/device:CPU:0"``) is accepted and changes
nothing, so the Keras guides' ``with tf.device("CPU:0"): ...`` runs as written.
Any other device (a GPU, a TPU) is a ValueError: code that asks for a GPU
learns here that minidl has none, instead of running somewhere it did not ask.
"""

from __future__ import annotations

import contextlib
import re

# [/job:.../replica:.../task:...][/device:]CPU[:0], any case
_CPU = re.compile(r"(/job:[^/]+(/replica:\d+)?(/task:\d+)?)?(/?(device:)?cpu(:0)?)?", re.IGNORECASE)


def device(device_name):
    """``with minidl.device("CPU:0"):`` - the block runs as without it (on the CPU).
    The name is checked here, when the context manager is made."""
    if device_name is not None:
        if not isinstance(device_name, str):
            raise TypeError(f"device(): the device name must be a string such as 'CPU:0', "
                            f"received {type(device_name).__name__}.")
        if not _CPU.fullmatch(device_name.strip()):
            raise ValueError(
                f"device({device_name!r}): minidl runs on the CPU only and has no device "
                f"{device_name!r}. Use 'CPU:0', or remove the `with ...device(...)` line "
                "(everything runs on the CPU anyway).")
    return contextlib.nullcontext()
