"""Data sets with Keras's ``load_data()``: ``fashion_mnist``, ``mnist``, ``boston_housing``,
``cifar10``, ``cifar100``, ``imdb`` and ``reuters`` (texts as lists of word indices).

    from minidl.datasets import fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(sample=True)  # bundled, offline

Files are looked for on disk first and downloaded only when found nowhere;
see ``minidl.datasets._files`` for the places and the order.
"""

from minidl.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters
from minidl.datasets._files import DatasetNotFoundError

__all__ = [
    "boston_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters",
    "DatasetNotFoundError",
]
