"""CIFAR-100: 60,000 colour 32x32 pictures in 100 classes, grouped in 20 superclasses.

    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode="fine")
    x_train.shape, y_train.shape   # (50000, 32, 32, 3) uint8, (50000, 1) uint8, classes 0..99
    cifar100.load_data(label_mode="coarse")  # the 20 superclasses, 0..19

Reading and the search order as for CIFAR-10 (``minidl.datasets._cifar``).
"""

from __future__ import annotations

from minidl.datasets import _cifar

SPEC = _cifar.CifarSpec(
    title="CIFAR-100",
    folder="cifar-100-python",
    archives=("cifar-100-python.tar.gz",),
    url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",  # Keras's file_hash
    train=("train",),
    test=("test",),
    classes={"fine_labels": 100, "coarse_labels": 20},
)


def load_data(label_mode="fine", path=None, download=True):
    """``(x_train, y_train), (x_test, y_test)``; ``label_mode`` "fine" (100 classes) or "coarse" (20)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode!r}.')
    return _cifar.load(SPEC, label_mode + "_labels", path=path, download=download)
