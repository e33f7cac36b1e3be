"""Input pipelines: ``minidl.data.Dataset``, the part of ``tf.data`` the tutorials use.

A pipeline is a chain of small steps over a stream of *elements* (an array,
or a tuple or dict of arrays, such as one image and its label):

    ds = minidl.data.Dataset.from_tensor_slices((x_train, y_train))  # one element per row
    ds = ds.shuffle(10000)                 # random order, through a buffer of 10000
    ds = ds.map(lambda x, y: (x / 255, y))  # any function of each element
    ds = ds.batch(32)                      # 32 elements stacked into one batch
    ds = ds.prefetch(minidl.data.AUTOTUNE)
    for x_batch, y_batch in ds:            # each for-loop is one pass (an epoch)
        ...

Each step returns a new Dataset that remembers the one before it; nothing
runs until you iterate.  Read ``dataset.py`` first (every operation, element
by element), then ``shuffle.py`` (how a shuffle buffer works) and
``slices.py`` (how a pipeline over arrays in memory runs as index arithmetic
instead, so that a shuffled, batched epoch costs about what slicing costs).
"""

from minidl.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from minidl.data.structure import TensorSpec

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset", "TensorSpec"]
