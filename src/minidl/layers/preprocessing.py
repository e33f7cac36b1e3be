"""Preprocessing layers that rescale values: Normalization and Rescaling.

``Normalization`` standardises each feature with the mean and variance of
the data, computed once, before training, by ``adapt(data)`` (or given)::

    y = (x - mean) / max(sqrt(variance), 1e-7)          (invert=True: x * std + mean)

``axis`` names the axes that keep their own statistics (the last one, the
features, by default); the mean and variance are taken over all the others.
For images ``(N, H, W, C)`` the default gives one mean per channel, over
every pixel of every image; ``axis=None`` gives one number for everything.

Its state is three non-trainable weights, as in Keras: ``mean`` and
``variance`` (one value per kept position) and ``count`` (how many values
``adapt`` saw), so a model saves, loads and counts them as Keras does
(``2 * features + 1`` parameters).  Given ``mean=`` and ``variance=``
instead, the layer holds them as constants and has no weights.

``Rescaling(scale, offset)`` computes ``y = x * scale + offset``
(``scale=1 / 255`` takes pixels to [0, 1]).
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl import autograd, ops
from minidl.layers.base import Layer
from minidl.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


class Normalization(Layer):
    """Standardise features with a dataset's mean and variance; see the module docstring."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        label = f'Normalization layer "{self.name}"'
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (tuple, list)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise ValueError(f"{label}: axis must be an integer, a tuple of integers or None, "
                             f"received {axis!r}.")
        if (mean is None) != (variance is None):
            raise ValueError(f"{label}: give both mean and variance, or neither (and call adapt()); "
                             f"received mean={mean!r}, variance={variance!r}.")
        self.axis = axis
        self.input_mean = _as_constant(label, "mean", mean)
        self.input_variance = _as_constant(label, "variance", variance)
        if self.input_variance is not None and (self.input_variance < 0).any():
            raise ValueError(f"{label}: variance must not be negative, received {variance!r}.")
        self.invert = bool(invert)
        self.adapt_mean = self.adapt_variance = self.count = None

    def build(self, input_shape):
        rank = len(input_shape)
        label = f'Normalization layer "{self.name}"'
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(f"{label}: axis {self.axis} is out of range for input shape "
                             f"{tuple(input_shape)} ({rank} axes).")
        keep = sorted(a % rank for a in self.axis)
        if any(input_shape[a] is None for a in keep):
            raise ValueError(f"{label}: the kept axes {self.axis} must have known sizes, "
                             f"received input shape {tuple(input_shape)}.")
        self._reduce_axes = tuple(a for a in range(rank) if a not in keep)
        self._broadcast_shape = tuple(input_shape[a] if a in keep else 1 for a in range(rank))
        shape = tuple(input_shape[a] for a in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), dtype="float64", initializer="zeros",
                                         trainable=False)
            return
        try:
            self._mean = np.broadcast_to(self.input_mean, shape).reshape(self._broadcast_shape)
            self._variance = np.broadcast_to(self.input_variance, shape).reshape(self._broadcast_shape)
        except ValueError:
            raise ValueError(
                f"{label}: mean and variance (shapes {self.input_mean.shape}, "
                f"{self.input_variance.shape}) do not fit the kept axes {self.axis} of input shape "
                f"{tuple(input_shape)}, which need shape {shape} (or a single number)."
            ) from None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def mean(self):
        """The mean subtracted, shaped to broadcast against the inputs (``(1, features)``)."""
        return Tensor(self._statistics()[0])

    @property
    def variance(self):
        """The variance divided by (its square root), shaped as ``mean``."""
        return Tensor(self._statistics()[1])

    def _statistics(self):
        if not self.built:
            raise AttributeError(f'Normalization layer "{self.name}" has no mean and variance '
                                 "before it is built: call adapt(data) first.")
        if self.input_mean is None:
            mean = self.adapt_mean.data.reshape(self._broadcast_shape)
            variance = self.adapt_variance.data.reshape(self._broadcast_shape)
        else:
            mean, variance = self._mean, self._variance
        return mean.astype(self._dtype), variance.astype(self._dtype)

    def call(self, inputs):
        if self.axis and inputs.ndim != len(self._broadcast_shape):
            raise ValueError(
                f'Normalization layer "{self.name}" was built for inputs of shape '
                f"{self._build_input_shape}, received shape {inputs.shape}."
            )
        mean, variance = self._statistics()
        if not self.axis:  # axis=None: two numbers, for inputs of any shape
            mean, variance = mean.reshape(()), variance.reshape(())
        std = np.maximum(np.sqrt(variance), self._dtype.type(EPSILON))
        if self.invert:
            return ops.add(ops.mul(inputs, std), mean)
        return ops.div(ops.sub(inputs, mean), std)

    # --- adapt ------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Set ``mean``, ``variance`` and ``count`` from ``data``.

        ``data``: an array (or a nested list of numbers), read ``batch_size``
        samples at a time (1024 by default; the result does not depend on it),
        or batches: a list of arrays or any iterable of arrays (a generator).
        ``steps`` limits how many batches are read.  Each call starts afresh.
        The statistics are summed in float64, merging batches with the
        parallel formula (Chan et al.): for batches A and B with ``n`` values each,
        ``mean = (n_A mean_A + n_B mean_B) / n`` and
        ``var = (n_A (var_A + (mean_A - mean)^2) + n_B (var_B + (mean_B - mean)^2)) / n``.
        """
        label = f'Normalization layer "{self.name}"'
        if self.input_mean is not None:
            raise ValueError(f"{label} was given mean and variance; it cannot also adapt() to data.")
        if self._batch_input_shape is not None:
            self.maybe_build(self._batch_input_shape)  # input_shape= given: Keras keeps it
        count, mean, variance = 0, 0.0, 0.0
        for batch in _batches(label, data, batch_size, steps, self.axis):
            if batch.size == 0:
                continue
            self.maybe_build(batch.shape)
            self._check_batch(label, batch)
            # axis=None: one mean over every value, whatever the batch's shape
            reduce_axes = self._reduce_axes if self.axis else None
            batch_count = batch.size // max(1, int(np.prod(self.adapt_mean.shape)))
            batch_mean = batch.mean(axis=reduce_axes).reshape(self.adapt_mean.shape)
            batch_variance = batch.var(axis=reduce_axes).reshape(self.adapt_mean.shape)
            total = count + batch_count
            new_mean = (count * mean + batch_count * batch_mean) / total
            variance = (count * (variance + (mean - new_mean) ** 2)
                        + batch_count * (batch_variance + (batch_mean - new_mean) ** 2)) / total
            count, mean = total, new_mean
        if count == 0:
            raise ValueError(f"{label}: adapt() received no data.")
        if self._batch_input_shape is None:  # as Keras: a Sequential that starts with it is built
            self._batch_input_shape = self._build_input_shape
        for weight, value in ((self.adapt_mean, mean), (self.adapt_variance, variance),
                              (self.count, count)):
            weight.data[...] = value
            autograd.mark_changed(weight)

    def _check_batch(self, label, batch):
        built = self._build_input_shape
        if self.axis and (batch.ndim != len(built) or any(
                batch.shape[a] != built[a] for a in range(batch.ndim) if a not in self._reduce_axes)):
            raise ValueError(f"{label}: adapt() received a batch of shape {batch.shape}, the layer "
                             f"was built for shape {built} (axis={self.axis}).")
        if not np.isfinite(batch).all():
            raise ValueError(f"{label}: adapt() received NaN or infinite values; clean the data "
                             "first (np.nan_to_num, or drop those samples).")

    def get_config(self):
        return {
            **super().get_config(),
            "axis": tuple(self.axis),
            "invert": self.invert,
            "mean": None if self.input_mean is None else self.input_mean.tolist(),
            "variance": None if self.input_variance is None else self.input_variance.tolist(),
        }


def _as_constant(label, name, value):
    """A ``mean=``/``variance=`` argument as a float64 array (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{label}: {name} must be a number or an array of numbers, "
                         f"received {value!r}.") from None
    if not np.isfinite(array).all():
        raise ValueError(f"{label}: {name} must be finite, received {value!r}.")
    return array


def _batches(label, data, batch_size, steps, axis):
    """The float64 batches ``adapt`` reads from ``data`` (see ``Normalization.adapt``).

    An array is cut into batches along its first axis, unless that axis keeps
    its own statistics (``axis`` includes it): then it is read whole."""
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0):
        raise ValueError(f"{label}: adapt() steps must be a positive integer, received {steps!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size <= 0):
        raise ValueError(f"{label}: adapt() batch_size must be a positive integer, received "
                         f"{batch_size!r}.")
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(b, (np.ndarray, Tensor)) for b in data):
        batches = iter(data)  # a list of batches
    elif isinstance(data, (np.ndarray, list, tuple, numbers.Number)):
        try:
            array = np.asarray(data)
        except ValueError:  # a ragged nested list
            array = np.asarray(None)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{label}: adapt() needs an array of numbers, received "
                             f"{type(data).__name__} {_preview(data)}.")
        array = array.reshape(1) if array.ndim == 0 else array
        keeps_first = any(a % array.ndim == 0 for a in axis)
        size = len(array) if keeps_first else batch_size or 1024
        batches = (array[i:i + size] for i in range(0, max(len(array), 1), size))
    elif hasattr(data, "__iter__"):
        batches = iter(data)
    else:
        raise TypeError(f"{label}: adapt() takes an array or an iterable of arrays, received "
                        f"{type(data).__name__}.")
    for step, batch in enumerate(batches):
        if steps is not None and step >= steps:
            return
        if isinstance(batch, tuple):
            raise TypeError(f"{label}: adapt() takes inputs only, received a tuple (inputs, "
                            "targets?); pass the inputs alone.")
        yield _as_float64(label, batch.data if isinstance(batch, Tensor) else batch)


def _preview(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float64(label, values):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{label}: adapt() needs numbers, received {type(values).__name__} "
                         "that does not convert to an array of numbers.") from None
    return array


class Rescaling(Layer):
    """``y = x * scale + offset``, in training and inference alike."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        label = f'Rescaling layer "{self.name}"'
        self.scale = _as_number_or_list(label, "scale", scale)
        self.offset = _as_number_or_list(label, "offset", offset)
        self._scale = np.asarray(self.scale, self._dtype)
        self._offset = np.asarray(self.offset, self._dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs):
        return ops.add(ops.mul(inputs, self._scale), self._offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _as_number_or_list(label, name, value):
    """A real number (or a list of them, one per channel), JSON-ready for get_config."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (numbers.Real, np.ndarray, list, tuple)) and not isinstance(value, bool):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and np.isfinite(array).all():
            return float(array) if array.ndim == 0 else array.tolist()
    raise ValueError(f"{label}: {name} must be a finite number (or a list of them, one per "
                     f"channel), received {value!r}.")
