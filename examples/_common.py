"""What every example shares: its command line, and stand-ins for data sets minidl does not bundle.

Each example runs offline by default: on the Fashion-MNIST sample bundled
with minidl, or, for MNIST and Boston housing, on a synthetic stand-in made
here (clearly announced when used). ``--full`` loads the real data set
(searching the usual places, downloading if needed). ``--quick`` (or
``MINIDL_EXAMPLES_QUICK=1``) trains one short epoch on a few hundred images;
the test suite runs every example that way.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def parse_args(description, add_arguments=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--full", action="store_true", help="use the real, full data set (may download it)")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("MINIDL_EXAMPLES_QUICK") == "1",
                        help="a short run on a few hundred samples (what the tests use)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("MINIDL_EXAMPLES_OUT", "minidl-examples")),
                        help="directory for the pictures (default: $MINIDL_EXAMPLES_OUT or ./minidl-examples)")
    if add_arguments:
        add_arguments(parser)
    # in a notebook (examples/notebooks/), sys.argv is the kernel's: take the defaults
    args = parser.parse_args([] if "ipykernel" in sys.modules else None)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def epochs(args, tutorial_epochs):
    """The tutorial's number of epochs, or 1 in quick mode."""
    return 1 if args.quick else tutorial_epochs


def shorten(args, *arrays, size=600):
    """In quick mode, the first ``size`` rows of each array."""
    return arrays if not args.quick else tuple(a[:size] for a in arrays)


def load_fashion_mnist(args):
    from minidl.datasets import fashion_mnist

    if args.full:
        return _or_exit(fashion_mnist.load_data)
    print("Using the Fashion-MNIST sample bundled with minidl (3,000 training / 500 test images); --full for all.")
    return fashion_mnist.load_data(sample=True)


def load_mnist(args):
    from minidl.datasets import mnist

    if args.full:
        return _or_exit(mnist.load_data)
    print("*** SYNTHETIC STAND-IN for MNIST: seven-segment digits drawn by examples/_common.py. "
          "Run with --full for the real handwritten digits. ***")
    n = 720 if args.quick else 6000
    x, y = synthetic_digits(n, seed=0)
    cut = n * 5 // 6
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def load_boston_housing(args):
    from minidl.datasets import boston_housing

    if args.full:
        return _or_exit(boston_housing.load_data)
    print("*** SYNTHETIC STAND-IN for Boston housing: prices made up from the number of rooms. "
          "Run with --full for the real data. ***")
    x, y = synthetic_housing(506, seed=0)
    return boston_housing.split(x, y)  # Keras's split: seed 113, last 20% for testing


def load_imdb(args, num_words=10000):
    """IMDB reviews as lists of word indices (Keras's ``imdb.load_data``), or a synthetic stand-in."""
    from minidl.datasets import imdb

    if args.full:
        return _or_exit(lambda: imdb.load_data(num_words=num_words))
    print("*** SYNTHETIC STAND-IN for IMDB: made-up 'reviews' of word indices drawn by "
          "examples/_common.py, where a few words lean positive or negative. "
          "Run with --full for the real film reviews. ***")
    n = 720 if args.quick else 4000
    x, y = synthetic_reviews(n, num_words, seed=0)
    cut = n * 5 // 6
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _or_exit(load_data):
    """The real data, or a clean exit with the loader's message (where it looked, how to get the files)."""
    from minidl.datasets import DatasetNotFoundError

    try:
        return load_data()
    except DatasetNotFoundError as error:
        raise SystemExit(str(error)) from None


# --- synthetic stand-ins ------------------------------------------------------------

#   Seven segments:   _a_
#                   f|   |b
#                     -g-
#                   e|   |c
#                     -d-
_SEGMENTS = {
    0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc",
    5: "afgcd", 6: "afgedc", 7: "abc", 8: "abcdefg", 9: "abcdfg",
}


def synthetic_digits(n, seed=0):
    """``n`` 28x28 uint8 images of seven-segment digits with random size, place, slant, thickness and noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float32)
    images = np.empty((n, 28, 28), dtype=np.uint8)
    for i, digit in enumerate(labels):
        height, width = rng.uniform(14, 20), rng.uniform(7, 11)
        top, left = rng.uniform(3, 26 - height), rng.uniform(5, 23 - width)
        slant, thick = rng.uniform(-0.25, 0.25), rng.uniform(1.2, 2.2)
        x = cols - left - slant * (rows - top - height / 2)  # slanted column coordinate
        y = rows - top
        ink = np.zeros((28, 28), dtype=np.float32)
        half = height / 2
        for segment in _SEGMENTS[int(digit)]:
            if segment in "adg":  # horizontal bars at the top, bottom and middle
                level = {"a": 0.0, "g": half, "d": height}[segment]
                near = (np.abs(y - level) < thick) & (x > -thick / 2) & (x < width + thick / 2)
            else:  # vertical bars on the left (f, e) or right (b, c), upper or lower half
                column = 0.0 if segment in "fe" else width
                low, high = (0.0, half) if segment in "fb" else (half, height)
                near = (np.abs(x - column) < thick) & (y > low) & (y < high)
            ink[near] = 1.0
        ink = np.clip(ink * rng.uniform(0.7, 1.0) + rng.normal(0, 0.06, ink.shape), 0, 1)
        images[i] = (ink * 255).astype(np.uint8)
    return images, labels


def synthetic_reviews(n, num_words=10000, seed=0):
    """``n`` 'reviews' shaped like ``imdb.load_data(num_words=...)``'s, and their 0/1 labels.

    Each review is a list of 20 to 400 word indices: a 1 (start mark) then
    words drawn with Zipf-like frequencies from 4..num_words-1.  Words 10..29
    lean positive and 30..49 negative: a positive review (label 1) holds a few
    more of the first kind, a negative one of the second, so the label can only
    be read from the words -- anywhere in the review, as in the real data.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.int64)
    ranks = np.arange(4, num_words)
    frequency = 1.0 / (ranks - 3)
    frequency /= frequency.sum()
    reviews = np.empty(n, dtype=object)
    for i, label in enumerate(labels):
        length = int(rng.integers(20, 400))
        words = rng.choice(ranks, size=length, p=frequency)
        count = max(3, length // 12)
        where = rng.choice(length, size=count, replace=False)
        lean = rng.random(count) < 0.85  # 85% of the opinion words agree with the label
        positive = np.where(lean, label == 1, label == 0)
        words[where] = np.where(positive, rng.integers(10, 30, count), rng.integers(30, 50, count))
        reviews[i] = [1] + words.tolist()
    return reviews, labels


def synthetic_housing(n, seed=0):
    """``n`` rows shaped like Boston housing (13 float64 features, price in k$); column 5 is rooms."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 13)) * 10 + 50
    rooms = np.clip(rng.normal(6.3, 0.7, n), 3.6, 8.8)
    x[:, 5] = rooms
    price = np.clip(9.1 * rooms - 34.7 + rng.normal(0, 6.0, n), 5.0, 50.0)
    return x, price
