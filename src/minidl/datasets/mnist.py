"""MNIST: 70,000 grey 28x28 pictures of handwritten digits 0-9.

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    # (60000, 28, 28) uint8, (60000,) uint8, (10000, 28, 28) uint8, (10000,) uint8

The file is Keras's ``mnist.npz``; an existing ``~/.keras/datasets/mnist.npz``
is used as it is. Where else it is looked for: ``minidl.datasets._files``.
"""

from __future__ import annotations

from minidl.datasets._files import DatasetSpec, RemoteFile, locate as _locate
from minidl.datasets._npz import ArraySpec, load_arrays
from minidl.utils.file_checks import FileFormatError

SPEC = DatasetSpec(
    title="MNIST",
    files=(
        RemoteFile(
            "mnist.npz",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ),
    ),
)

# What mnist.npz may hold: uint8 pictures of 28x28 and uint8 labels, 60,000 + 10,000 of them.
ARRAYS = {
    "x_train": ArraySpec(("uint8",), (28, 28), 60_000),
    "y_train": ArraySpec(("uint8",), (), 60_000),
    "x_test": ArraySpec(("uint8",), (28, 28), 10_000),
    "y_test": ArraySpec(("uint8",), (), 10_000),
}


def load_data(path=None, download=True):
    """Return ``(x_train, y_train), (x_test, y_test)`` as Keras does.

    ``path`` is the ``mnist.npz`` file (or a directory holding it); without
    it the usual places are searched, then the file is downloaded.
    """
    files = _locate(SPEC, path=path, download=download)
    arrays = load_arrays(files["mnist.npz"], ARRAYS)
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise FileFormatError(
                f"{files['mnist.npz']}: x_{split} holds {len(arrays[f'x_{split}'])} pictures but "
                f"y_{split} {len(arrays[f'y_{split}'])} labels."
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
