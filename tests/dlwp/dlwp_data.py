"""Stand-ins for the data sets of Deep Learning with Python that cannot be had offline,
with the structure of the real ones (see each function), shared by the notebook tests."""

import numpy as np


def mnist_like():
    """MNIST's structure: 28x28 uint8 digits and uint8 labels 0-9 (600 + 100); the
    class is drawn in the image as a bright stripe on row 2 + 2 * label."""
    rng = np.random.default_rng(0)

    def make(n):
        labels = rng.integers(0, 10, n).astype("uint8")
        images = rng.integers(0, 60, (n, 28, 28)).astype("uint8")
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
        return images, labels

    return make(600), make(100)


def imdb_like(num_words=10000, n=400, seed=0):
    """IMDB's structure: reviews as lists of word indices (1 first, all below
    num_words) and 0/1 labels; positive reviews use words 20-39 more, negative
    ones words 40-59."""
    rng = np.random.default_rng(seed)

    def review(label):
        length = rng.integers(20, 120)
        words = rng.integers(60, num_words, length)
        lead = rng.integers(20, 40, length // 4) if label else rng.integers(40, 60, length // 4)
        return [1] + list(np.concatenate([words, lead]))

    def split(count):
        labels = rng.integers(0, 2, count)
        return np.array([review(y) for y in labels], dtype=object), labels

    return split(n), split(n // 2)
