"""``Discretization``: numbers in, the index of their bin out (bucketizing), as in Keras 2.

    bucket = layers.Discretization(bin_boundaries=[0., 1., 2.])
    bucket(np.array([[-1.5, 1.0, 3.4, .5]]))       # int64 [[0, 2, 3, 1]]

With boundaries ``b_0 < b_1 < ... < b_{k-1}`` there are ``k + 1`` bins; ``x``
falls in bin ``i`` when ``b_{i-1} <= x < b_i`` (bin 0 below ``b_0``, bin ``k``
from ``b_{k-1}`` up).  Output modes: "int" (the bin indices, a NumPy int64
array shaped as ``x``), or "one_hot", "multi_hot", "count" over the ``k + 1``
bins (float32, shaped as ``CategoryEncoding`` shapes them).

``adapt(data)`` with ``num_bins`` finds boundaries that split the data into
``num_bins`` bins of (about) equal counts, by Keras 2's approximate quantile
summary, reproduced step for step (in float32, as Keras):

1. each batch (``batch_size`` rows, 32 by default) is sorted and summarised
   by every ``step``-th value, ``step = max(int(n * epsilon), 1)`` for ``n``
   values, each weighing ``step``;
2. the summary of the batches so far and the new one are merged (sorted
   together) and compressed: when they hold at least ``1 / epsilon`` points,
   they are replaced by ``1 / epsilon`` points, the values at cumulative
   weight fractions ``epsilon, 2 epsilon, ..., 1`` (linear interpolation);
3. the boundaries are the summary compressed the same way to ``num_bins``
   points, the last one dropped.

For fewer than ``1 / epsilon`` values per batch (100 by default) the summary
holds every value, and the boundaries interpolate the sorted data at
``1/num_bins, 2/num_bins, ...`` of its cumulative count.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.category_encoding import (check_output_mode, encode_categorical, encoded_shape,
                                             refuse_sparse)
from minidl.tensor import Tensor

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def summarize(values, epsilon):
    """Step 1: the (values, weights) summary, shape (2, m), of one batch."""
    values = np.sort(np.asarray(values, np.float32).reshape(-1))
    increment = int(np.float32(values.size) / np.float32(1.0 / epsilon))
    step = max(increment, 1)
    points = values[increment::step]
    return np.stack([points, np.full(points.shape, step, np.float32)])


def compress(summary, epsilon):
    """Step 2: at most ``1 / epsilon`` points at equal steps of cumulative weight."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype(np.float32)


def merge_summaries(summary, other, epsilon):
    merged = np.concatenate((summary, other), axis=1)
    return compress(merged[:, np.argsort(merged[0], kind="stable")], epsilon)


class Discretization(Layer):
    """Bucketize numbers by bin boundaries; see the module docstring."""

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        if "bins" in kwargs:  # Keras 2's old name for both
            bins = kwargs.pop("bins")
            if isinstance(bins, int) and num_bins is None:
                num_bins = bins
            elif bin_boundaries is None:
                bin_boundaries = bins
        dtype = kwargs.pop("dtype", None)
        if output_mode != "int":
            kwargs["dtype"] = dtype
        super().__init__(**kwargs)
        label = self._label = f'Discretization layer "{self.name}"'
        check_output_mode(label, output_mode, OUTPUT_MODES)
        refuse_sparse(label, sparse, output_mode)
        if num_bins is not None and (not isinstance(num_bins, (int, np.integer))
                                     or isinstance(num_bins, bool) or num_bins < 0):
            raise ValueError(f"{label}: `num_bins` must be an integer greater than or equal to "
                             f"0. You passed `num_bins={num_bins!r}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"{label}: both `num_bins` and `bin_boundaries` should not be set. "
                             f"You passed `num_bins={num_bins}` and "
                             f"`bin_boundaries={bin_boundaries}`")
        if not isinstance(epsilon, (int, float, np.floating)) or not 0 < epsilon <= 1:
            raise ValueError(f"{label}: `epsilon` must be a number in (0, 1], received "
                             f"{epsilon!r}.")
        self.input_bin_boundaries = None
        self.bin_boundaries = []
        if bin_boundaries is not None:
            self.input_bin_boundaries = self.bin_boundaries = self._checked(bin_boundaries)
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False

    def _checked(self, boundaries):
        array = np.asarray(boundaries, dtype=np.float64)
        if array.ndim != 1 or (np.diff(array) < 0).any() or np.isnan(array).any():
            raise ValueError(f"{self._label}: `bin_boundaries` must be a sorted list of numbers, "
                             f"received {boundaries!r}.")
        return array.tolist()

    @property
    def dtype(self):
        """"int64" in "int" mode (the bin indices), else the float dtype of the vectors."""
        return "int64" if self.output_mode == "int" else super().dtype

    def adapt(self, data, batch_size=None, steps=None):
        """Find ``num_bins`` bins' boundaries from ``data`` (an array, read
        ``batch_size`` rows at a time, 32 by default, or an iterable of batches);
        ``steps`` limits how many batches are read.  Each call starts afresh."""
        label = self._label
        if self.input_bin_boundaries is not None:
            raise ValueError(f"{label}: cannot adapt a Discretization layer that has been "
                             "initialized with `bin_boundaries`, use `num_bins` instead. You "
                             f"passed `bin_boundaries={self.input_bin_boundaries}`.")
        if not self.num_bins:
            raise ValueError(f"{label}: adapt() needs `num_bins` (a positive integer), the "
                             f"number of bins to find; received num_bins={self.num_bins}.")
        summary = np.zeros((2, 0), np.float32)
        for step, batch in enumerate(_batches(label, data, batch_size)):
            if steps is not None and step >= steps:
                break
            summary = merge_summaries(summarize(batch, self.epsilon), summary, self.epsilon)
        if summary.shape[1] == 0:
            raise ValueError(f"{label}: adapt() received no values; expected input data to be "
                             "non-empty.")
        self.bin_boundaries = compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()
        if self._batch_input_shape is None and isinstance(data, (np.ndarray, list, tuple)):
            self._batch_input_shape = (None,) * max(np.ndim(data), 1)  # as Keras: rank kept

    def _to_tensors(self, inputs):
        return _as_numbers(self._label, inputs)

    def call(self, inputs):
        values = _as_numbers(self._label, inputs)
        boundaries = np.asarray(self.bin_boundaries, np.float32).astype(np.float64)
        indices = np.searchsorted(boundaries, values, side="right").astype(np.int64)
        if self.output_mode == "int":
            return indices
        return Tensor(encode_categorical(indices, self.output_mode, len(boundaries) + 1,
                                         self._label, self._dtype), dtype=self._dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, len(self.bin_boundaries) + 1,
                             self._label)

    def get_config(self):
        known = self.input_bin_boundaries is not None or self.bin_boundaries  # given or adapted
        return {
            **super().get_config(),
            "bin_boundaries": list(self.bin_boundaries) if known else None,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }

    @classmethod
    def from_config(cls, config):
        """A layer adapted to ``num_bins`` bins lists both; its boundaries are restored."""
        config = dict(config)
        learnt = config.pop("bin_boundaries") if config.get("num_bins") is not None else None
        layer = cls(**config)
        if learnt is not None:
            layer.bin_boundaries = layer._checked(learnt)
        return layer


def _as_numbers(label, inputs):
    values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
    if values.dtype.kind not in "iuf" and not (values.dtype.kind == "b"):
        raise TypeError(f"{label} takes numbers, received an array of dtype {values.dtype} "
                        f"(shape {values.shape}); strings go to StringLookup.")
    return values.astype(np.float64)


def _batches(label, data, batch_size):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (list, tuple)) and not any(isinstance(x, np.ndarray) for x in data):
        try:
            data = np.asarray(data, dtype=np.float64)
        except (ValueError, TypeError):
            raise TypeError(f"{label}: adapt() takes a rectangular array of numbers; ragged "
                            "or non-numeric data are not supported.") from None
    if isinstance(data, np.ndarray):
        _as_numbers(label, data)
        if data.ndim == 0:
            yield data
            return
        size = 32 if batch_size is None else int(batch_size)
        for start in range(0, len(data), size):
            yield data[start:start + size]
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{label}: adapt() takes an array or a Dataset (or any iterable) of "
                        f"batches; received {type(data).__name__}.")
    for batch in data:
        if isinstance(batch, (tuple, dict)):
            raise TypeError(f"{label}: adapt() takes values only, received a "
                            f"{type(batch).__name__}; map the dataset to one feature first.")
        yield _as_numbers(label, batch)
