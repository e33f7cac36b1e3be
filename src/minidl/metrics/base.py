"""The stateful metric: ``Metric`` to subclass, and the running ``Sum`` and ``Mean``.

A metric accumulates over batches, as in Keras 2::

    m = minidl.metrics.Mean()
    m.update_state([1, 2, 3])        # total = 6, count = 3
    m.update_state([4], sample_weight=[2])
    m.result()                       # Tensor(2.8): (6 + 4*2) / (3 + 2)
    m.reset_state()                  # fit() does this at each epoch, evaluate() at its start

Its state lives in non-trainable Variables made with ``add_weight`` (listed by
``m.variables``), so a metric of your own reads like the Keras guide
"Writing your own metrics"::

    class BinaryTruePositives(Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="tp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = (np.asarray(y_true) > 0.5) & (np.asarray(y_pred) > 0.5)
            if sample_weight is not None:
                hits = hits * np.asarray(sample_weight)
            self.true_positives.assign_add(np.sum(hits))

        def result(self):
            return self.true_positives

``update_state`` receives NumPy arrays (``fit`` passes the predictions' values,
not the graph): a metric is watched, never differentiated.

Shapes are matched as Keras 2 matches them (``squeeze_or_expand``): when the
ranks of two arrays differ by one and the larger ends in an axis of size 1,
that axis is dropped, so ``(N,)`` targets meet ``(N, 1)`` predictions as ``(N,)``.
"""

from __future__ import annotations

import numpy as np

from minidl.tensor import Tensor, Variable


def as_array(value, dtype=None):
    """A NumPy array from an array, a list or a Tensor (no copy when possible)."""
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    return array if dtype is None else array.astype(dtype, copy=False)


def squeeze_or_expand(y_pred, y_true=None, sample_weight=None):
    """Keras 2's ``losses_utils.squeeze_or_expand_dimensions``.

    ``y_true`` against ``y_pred``: if their ranks differ by one and the larger
    ends in a size-1 axis, drop it.  ``sample_weight`` against ``y_pred``: one
    more axis is dropped (``(N, 1)`` weights, ``(N,)`` values), one fewer is
    added (``(N,)`` weights, ``(N, C)`` values -> ``(N, 1)``).
    """
    if y_true is not None:
        diff = y_pred.ndim - y_true.ndim
        if diff == 1 and y_pred.shape[-1] == 1:
            y_pred = y_pred.reshape(y_pred.shape[:-1])
        elif diff == -1 and y_true.shape[-1] == 1:
            y_true = y_true.reshape(y_true.shape[:-1])
    if sample_weight is not None and sample_weight.ndim:
        diff = sample_weight.ndim - y_pred.ndim
        if diff == 1 and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight.reshape(sample_weight.shape[:-1])
        elif diff == -1:
            sample_weight = sample_weight.reshape(sample_weight.shape + (1,))
    return y_pred, y_true, sample_weight


def broadcast_weights(weights, values):
    """``weights`` broadcast to ``values``'s shape, or None when they cannot be
    (a scalar always can; otherwise the ranks must match, each axis 1 or equal,
    as TensorFlow's ``broadcast_weights`` requires)."""
    if weights.ndim and weights.ndim != values.ndim:
        return None
    try:
        return np.broadcast_to(weights, values.shape)
    except ValueError:
        return None


def _metric_dtype(dtype, who):
    try:
        name = np.dtype(dtype or "float32").name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"{who}: dtype must be 'float32' or 'float64', received {dtype!r}.")
    return name


class Metric:
    """Base class of stateful metrics (Keras 2's ``tf.keras.metrics.Metric``).

    Implement ``update_state(y_true, y_pred, sample_weight=None)`` (add a
    batch to the state) and ``result()`` (the value so far); keep the state
    in ``self.add_weight(...)`` Variables and the default ``reset_state()``
    sets them all back to zero.  ``metric(y_true, y_pred)`` updates, then
    returns ``result()``.

    ``name`` defaults to the class name in snake case, made unique as Keras
    names layers (``my_metric``, then ``my_metric_1``; ``backend.clear_session``
    starts over).  ``dtype`` is the dtype of the state and of the result.
    """

    def __init__(self, name=None, dtype=None, **kwargs):
        from minidl.layers.base import to_snake_case, unique_name

        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) {sorted(kwargs)}."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}(): name must be a string, received {name!r}.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.dtype = _metric_dtype(dtype, f"{type(self).__name__}()")
        self._numpy_dtype = np.dtype(self.dtype)
        self._variables = []

    # --- what a subclass implements ----------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__}: implement update_state(y_true, y_pred, sample_weight=None)."
        )

    def result(self):
        raise NotImplementedError(f"{type(self).__name__}: implement result().")

    def reset_state(self):
        """Set every state Variable back to zero (a subclass with other state overrides this)."""
        if type(self).reset_states is not Metric.reset_states:  # an old-style subclass
            self.reset_states()
        else:
            self._zero_state()

    def reset_states(self):
        """Keras 2's older name for ``reset_state``."""
        if type(self).reset_state is not Metric.reset_state:
            self.reset_state()
        else:
            self._zero_state()

    def _zero_state(self):
        for variable in self._variables:
            variable.data[...] = 0

    # --- state ----------------------------------------------------------------
    def add_weight(self, name, shape=(), aggregation="sum", synchronization="on_read",
                   initializer=None, dtype=None):
        """A non-trainable Variable for the metric's state (zeros unless ``initializer``
        says otherwise); ``aggregation`` and ``synchronization`` are accepted for
        Keras code and change nothing (minidl runs on one device)."""
        from minidl import initializers

        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = _metric_dtype(dtype or self.dtype, f"{self.name}.add_weight()")
        if initializer is None:
            value = np.zeros(shape, dtype)
        else:
            value = as_array(initializers.get(initializer)(shape, dtype=dtype), dtype)
        variable = Variable(value, trainable=False, name=f"{name}", dtype=dtype)
        self._variables.append(variable)
        return variable

    @property
    def variables(self):
        """The state Variables, in the order ``add_weight`` made them."""
        return list(self._variables)

    weights = non_trainable_weights = non_trainable_variables = variables

    @property
    def trainable_weights(self):
        return []

    trainable_variables = trainable_weights

    # --- use -------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _scalar(self, value):
        """A result as Keras gives it: a 0-d Tensor of the metric's dtype."""
        return Tensor._wrap(np.asarray(value, dtype=self._numpy_dtype))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def divide_no_nan(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0 (``tf.math.divide_no_nan``)."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0, numerator / safe)


def _accumulate(variable, amount):
    """``variable += amount`` for a one-value state Variable: the sum in double, stored
    in the variable's dtype (ten times quicker than NumPy's in-place add on a 0-d
    array; ``fit`` does it at every step)."""
    variable.data[()] = float(variable.data) + float(amount)


class Reduce(Metric):
    """``Sum`` or ``Mean`` of values, weighted (Keras 2's ``metrics.Reduce``)."""

    _mean = True

    def __init__(self, name=None, dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_weight("total")
        if self._mean:
            self.count = self.add_weight("count")

    def update_state(self, values, sample_weight=None):
        """``total += sum(values * w)``; for a mean also ``count += sum(w)`` (or the
        number of values without weights).  Weights that cannot broadcast to the
        values (``(N,)`` weights for ``(N, T, D)`` values) weigh the values
        averaged (summed, for ``Sum``) down to the weights' rank, as in Keras 2."""
        values = as_array(values, self.dtype)
        if sample_weight is None:
            _accumulate(self.total, np.add.reduce(values, axis=None))
            if self._mean:
                _accumulate(self.count, values.size)
            return
        weights = as_array(sample_weight, self.dtype)
        values, _, weights = squeeze_or_expand(values, None, weights)
        if weights.ndim > values.ndim:
            raise ValueError(
                f"{self.name}: sample_weight of shape {weights.shape} has more axes than the "
                f"values to weigh, shape {values.shape}: the metric averaged each sample's last "
                f"axis away (1-D y_true and y_pred give one value per batch). Give y_true and "
                f"y_pred a last axis, shape (N, 1), as fit() does."
            )
        broadcast = broadcast_weights(weights, values)
        if broadcast is None:
            axes = tuple(range(weights.ndim, values.ndim))
            values = values.mean(axis=axes) if self._mean else values.sum(axis=axes)
            broadcast = weights
        try:
            weighted = values * broadcast
        except ValueError:
            raise ValueError(
                f"{self.name}: sample_weight of shape {weights.shape} does not fit values of "
                f"shape {values.shape}; give one weight per sample."
            ) from None
        _accumulate(self.total, np.add.reduce(weighted, axis=None))
        if self._mean:
            _accumulate(self.count, np.add.reduce(broadcast, axis=None))

    def result(self):
        total = float(self.total.data)
        if self._mean:
            count = float(self.count.data)
            return self._scalar(total / count if count else 0.0)
        return self._scalar(total)


class Sum(Reduce):
    """The weighted sum of all values given: ``sum(values * sample_weight)``."""

    _mean = False

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)


class Mean(Reduce):
    """The weighted mean of all values given: ``sum(values * w) / sum(w)``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)

    def add(self, value, count):
        """Fold in a batch whose mean is already known (``fit`` does for the loss)."""
        _accumulate(self.total, value * count)
        _accumulate(self.count, count)


class MeanMetricWrapper(Mean):
    """The running mean of a metric function ``fn(y_true, y_pred, **kwargs)``
    (per-sample values), weighted by ``sample_weight``.

    ``y_true`` and ``y_pred`` are matched first (``squeeze_or_expand``): with
    ``(N,)`` targets and ``(N, 1)`` predictions the function sees two ``(N,)``
    arrays, and a function that averages its last axis gives one value for the
    batch (Keras 2 counts it once).  ``compile(metrics=...)`` avoids that by
    giving ``(N,)`` targets a last axis first, as Keras 2's ``fit`` does.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    @property
    def fn(self):
        return self._fn

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred, y_true, _ = squeeze_or_expand(as_array(y_pred), as_array(y_true))
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            raise ValueError(
                "MeanMetricWrapper.from_config: the function is not part of the config; "
                "make it again with MeanMetricWrapper(fn, name=...)."
            )
        return cls(**config)
