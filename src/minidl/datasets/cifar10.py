"""CIFAR-10: 60,000 colour 32x32 pictures in 10 classes (Krizhevsky, 2009).

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    x_train.shape, x_train.dtype   # (50000, 32, 32, 3) uint8, channels last
    y_train.shape, y_train.dtype   # (50000, 1) uint8, classes 0..9 (see class_names)

Where the files are looked for, and how they are read without unpickling
arbitrary objects: ``minidl.datasets._cifar``.
"""

from __future__ import annotations

from minidl.datasets import _cifar

class_names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

SPEC = _cifar.CifarSpec(
    title="CIFAR-10",
    folder="cifar-10-batches-py",
    archives=("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz"),
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",  # Keras's file_hash
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test=("test_batch",),
    classes={"labels": 10},
)


def load_data(path=None, download=True):
    """``(x_train, y_train), (x_test, y_test)`` as Keras returns them.

    ``path``: the extracted ``cifar-10-batches-py`` folder (or the archive);
    ``download=False`` never uses the network.
    """
    return _cifar.load(SPEC, "labels", path=path, download=download)
