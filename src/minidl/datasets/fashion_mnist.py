"""Fashion-MNIST: 70,000 grey 28x28 pictures of clothes in 10 classes (Zalando Research, MIT licence).

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train.shape, x_train.dtype   # (60000, 28, 28) uint8, pixels 0..255
    y_train.shape, y_train.dtype   # (60000,) uint8, classes 0..9 (see class_names)

``load_data(sample=True)`` returns the small stratified sample bundled with
minidl (300 training and 50 test images per class), which needs no files and
no network. Where the full data is looked for is described in
``minidl.datasets._files``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minidl.datasets._files import DatasetSpec, RemoteFile, locate as _locate
from minidl.datasets._idx import read_idx
from minidl.utils.file_checks import FileFormatError

class_names = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

MAX_ITEMS = 60_000  # the training split's size: no file of the data set holds more
SAMPLE_PATH = Path(__file__).parent / "data" / "fashion_mnist_sample.npz"

_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# SHA-256 of the official gzip files (the same bytes as Zalando's GitHub release).
SPEC = DatasetSpec(
    title="Fashion-MNIST",
    subdir="fashion-mnist",
    files=tuple(
        RemoteFile(name, _BASE_URL + name, sha256)
        for name, sha256 in [
            ("train-labels-idx1-ubyte.gz", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
            ("train-images-idx3-ubyte.gz", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
            ("t10k-labels-idx1-ubyte.gz", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"),
            ("t10k-images-idx3-ubyte.gz", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
        ]
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    hints=(
        "apt-get install dataset-fashion-mnist   (Debian/Ubuntu: the full data set, offline)",
        "or train on the bundled sample: fashion_mnist.load_data(sample=True)",
    ),
)


def load_data(path=None, sample=False, download=True):
    """Return ``(x_train, y_train), (x_test, y_test)`` as Keras does.

    Parameters
    ----------
    path : str or Path, optional
        A directory holding the four ``*-ubyte.gz`` files; skips the search.
    sample : bool
        Return the bundled sample (3,000 training and 500 test images) instead.
    download : bool
        Whether to download the files when they are found nowhere.
    """
    if sample:
        return load_sample()
    files = locate(path, download=download)
    return (
        _read_pair(files["train-images-idx3-ubyte.gz"], files["train-labels-idx1-ubyte.gz"]),
        _read_pair(files["t10k-images-idx3-ubyte.gz"], files["t10k-labels-idx1-ubyte.gz"]),
    )


def locate(path=None, download=False):
    """``{file name: Path}`` of the full data set's four files (see ``_files.locate``)."""
    return _locate(SPEC, path=path, download=download)


def load_sample():
    """The bundled stratified sample, in the structure of ``load_data()``."""
    with np.load(SAMPLE_PATH) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _read_pair(images_path, labels_path):
    """A split's images and labels; their shapes are checked in the files' headers."""
    images = read_idx(images_path, "images", item_shape=(28, 28), max_items=MAX_ITEMS)
    labels = read_idx(labels_path, "labels", max_items=MAX_ITEMS)
    if len(images) != len(labels):
        raise FileFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; "
            "the two files do not belong together."
        )
    if labels.size and labels.max() >= len(class_names):
        raise FileFormatError(
            f"{labels_path}: label {labels.max()} found, Fashion-MNIST labels are 0..9."
        )
    return images, labels
