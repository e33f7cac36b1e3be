"""``timeseries_dataset_from_array``: sliding windows over a series, as a Dataset.

A series is an array whose first axis is time: ``data[t]`` is what was
measured at step ``t`` (a number, or a vector of features).  A window of
``sequence_length`` steps, ``sampling_rate`` steps apart, starting at ``s``:

    window(s) = data[s], data[s + r], data[s + 2r], ..., data[s + (L - 1) r]

Windows start every ``sequence_stride`` steps: ``s = 0, k, 2k, ...``, as long
as the whole window fits in the data.  ``targets[s]`` is the target of the
window that starts at ``s`` (to predict the step after a window, pass
``targets=data[sequence_length:]``); with ``start_index`` and ``end_index``
only ``data[start_index:end_index]`` (and the same slice of the targets) is
used, and positions count from ``start_index``.

    data = np.arange(10)
    timeseries_dataset_from_array(data, None, sequence_length=3, batch_size=4)
    # batches of windows [[0 1 2] [1 2 3] [2 3 4] [3 4 5]], [[4 5 6] ... [7 8 9]]

No window is copied out in advance: the dataset is one of window *starts*
(a number per window, shuffled and batched like any dataset), and each batch
of starts is turned into its windows with one ``np.take`` when it is read.
So a series of ten million steps costs one array of starts, not ten million
windows.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.data import Dataset
from minidl.data.structure import to_array
from minidl.random import get_generator


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """A Dataset of ``(windows, targets)`` batches (``windows`` alone when ``targets`` is None).

    ``data``: an array of shape ``(steps, ...)``; windows come as
    ``(batch, sequence_length, ...)`` in ``data``'s dtype.  ``targets``: an
    array with ``targets[s]`` for the window starting at ``s`` (it may be
    shorter than ``data``: windows without a target are left out), or None.
    ``batch_size=None`` gives single windows; the last batch may be smaller.
    ``shuffle=True`` draws the windows in random order (the order of window
    starts is a permutation by ``np.random.RandomState(seed)``, as in Keras,
    then a buffer of ``8 * batch_size`` windows mixes them again at every pass).
    ``start_index`` / ``end_index``: use only ``data[start_index:end_index]``.
    """
    data = _series(data, "data")
    targets = None if targets is None else _series(targets, "targets")
    start_index, end_index = _check_range(start_index, end_index, len(data))
    sequence_length = _positive_int(sequence_length, "sequence_length")
    sampling_rate = _positive_int(sampling_rate, "sampling_rate")
    sequence_stride = _positive_int(sequence_stride, "sequence_stride")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value >= len(data):
            raise ValueError(
                f"`{name}` must be lower than the length of the data. Received: "
                f"{name}={value}, for data of length {len(data)}"
            )
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    if shuffle and seed is None:
        seed = int(get_generator().integers(1_000_000))  # minidl.utils.set_random_seed fixes it

    steps = data[start_index:end_index]  # a view: nothing is copied
    starts = _window_starts(steps, targets, sequence_length, sampling_rate, sequence_stride,
                            start_index, end_index)
    labels = None if targets is None else targets[start_index:end_index]
    if labels is not None and starts[-1] >= len(labels):  # Keras 2 fails at the first pass
        last = start_index + int(starts[-1])
        raise ValueError(
            f"timeseries_dataset_from_array: targets has {len(targets)} entries, but the last "
            f"window starts at data[{last}] and needs targets[{last}] (start_index="
            f"{start_index}). Give one target per window start, indexed like data."
        )
    if shuffle:
        np.random.RandomState(seed).shuffle(starts)  # Keras 2's order of the window starts
    offsets = np.arange(sequence_length) * sampling_rate

    def windows_of(start):
        """``start``: one window start (shape ()) or a batch of them, (batch,)."""
        windows = np.take(steps, start[..., None] + offsets, axis=0)
        if labels is None:
            return windows
        return windows, np.take(labels, start, axis=0)

    dataset = Dataset.from_tensor_slices(starts)
    if shuffle:
        dataset = dataset.shuffle(1024 if batch_size is None else 8 * batch_size, seed=seed)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset.map(windows_of)


def _window_starts(steps, targets, sequence_length, sampling_rate, sequence_stride, start_index,
                   end_index):
    """The start of each window, counted from ``start_index``; a ValueError if none fits.

    A window spans ``(sequence_length - 1) * sampling_rate + 1`` steps, so
    ``len(steps) - span + 1`` of them fit (fewer when there are fewer targets).
    """
    span = (sequence_length - 1) * sampling_rate + 1
    if len(steps) < span:
        raise ValueError(
            f"timeseries_dataset_from_array: no window fits: a window of sequence_length="
            f"{sequence_length} steps, sampling_rate={sampling_rate} apart, spans {span} steps, "
            f"but the data used (data[{start_index}:{end_index}]) has only {len(steps)}. Use a "
            "shorter sequence_length or sampling_rate, or more data. (Keras 2 returns an empty "
            "dataset here, which trains on nothing.)"
        )
    count = len(steps) - span + 1
    if targets is not None:
        count = min(count, len(targets))
    return np.arange(0, count, sequence_stride, dtype=np.int64)


def _series(value, name):
    """``value`` as an array with a time axis first; arrays (and DataFrames) keep their dtype."""
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.asarray(value)
    else:
        array = to_array(value)  # Python lists: float32 or int32, as TensorFlow makes them
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(
            f"timeseries_dataset_from_array: {name} must be an array of at least one step, "
            f"time on its first axis; received {'an empty array' if array.ndim else repr(value)}."
        )
    return array


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if value <= 0:
        raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
    return int(value)


def _check_range(start_index, end_index, length):
    """``start_index`` and ``end_index`` checked as Keras 2 checks them, as a slice's bounds."""
    for name, value in (("start_index", start_index), ("end_index", end_index)):
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, numbers.Integral)):
            raise TypeError(f"`{name}` must be an integer or None. Received: {name}={value!r}")
    if start_index is not None:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {length}"
            )
    if end_index is not None:
        if start_index is not None and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index}"
            )
        if end_index >= length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    return (0 if start_index is None else int(start_index),
            length if end_index is None else int(end_index))
