"""Boston housing prices: 506 suburbs, 13 features each, the median price in k$ as target.

    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    # (404, 13) float64, (404,) float64, (102, 13) float64, (102,) float64

The split is Keras's: shuffle with seed 113, keep the last 20% for testing.
"""

from __future__ import annotations

import numpy as np

from minidl.datasets._files import DatasetSpec, RemoteFile, locate as _locate
from minidl.datasets._npz import ArraySpec, load_arrays
from minidl.utils.file_checks import FileFormatError

SPEC = DatasetSpec(
    title="Boston housing",
    files=(
        RemoteFile(
            "boston_housing.npz",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz",
            "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
        ),
    ),
)


# What boston_housing.npz may hold: 506 rows of 13 features, and their 506 prices.
ARRAYS = {"x": ArraySpec(("float64", "float32"), (13,), 506),
          "y": ArraySpec(("float64", "float32"), (), 506)}


def load_data(path=None, test_split=0.2, seed=113, download=True):
    """Return ``(x_train, y_train), (x_test, y_test)``, split exactly as Keras splits.

    ``path`` is the ``boston_housing.npz`` file (or a directory holding it).
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), received {test_split}.")
    files = _locate(SPEC, path=path, download=download)
    arrays = load_arrays(files["boston_housing.npz"], ARRAYS)
    if len(arrays["x"]) != len(arrays["y"]):
        raise FileFormatError(
            f"{files['boston_housing.npz']}: x holds {len(arrays['x'])} rows but y "
            f"{len(arrays['y'])} prices."
        )
    return split(arrays["x"], arrays["y"], test_split, seed)


def split(x, y, test_split=0.2, seed=113):
    """Shuffle rows with ``RandomState(seed)`` and cut off the last ``test_split`` as the test set.

    Keras seeds NumPy's global generator and shuffles an index array; a private
    ``RandomState(seed)`` gives the same permutation without touching the
    global state.
    """
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
