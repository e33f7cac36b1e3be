"""Loss functions: how far the predictions are from the targets.

Each function takes ``(y_true, y_pred)`` (arrays or Tensors) and returns a
Tensor with **one loss per sample** -- the mean over the last axis, as Keras
computes it -- built from differentiable ops, so ``loss.mean().backward()``
works in a hand-written loop and ``compile(loss=...)`` uses the same code.

The classes (``MeanSquaredError()``, ``SparseCategoricalCrossentropy(from_logits=True)``,
...) wrap a function with its options; calling one returns the mean over the
batch, a scalar Tensor.

Cross-entropies, for C classes, probabilities p and one-hot target y:

    categorical:         -sum_c y_c * log(p_c)
    sparse categorical:  -log(p_label)             (labels are class indices)
    binary:              -(y * log(p) + (1 - y) * log(1 - p))

Probabilities are clipped to [1e-7, 1 - 1e-7] first, as Keras does, so a
confident wrong answer costs about 16, not infinity.  With ``from_logits=True``
the model outputs raw scores and the softmax (or sigmoid) is folded into the
loss, which is both faster and more accurate.

The same happens by itself when the predictions come straight from a softmax
(``Dense(10, activation="softmax")``, ``Activation("softmax")``,
``ops.softmax``): a softmax output remembers its input, the logits
(``y_pred._logits``, Keras's ``_keras_logits``), and the categorical
cross-entropies read them and use the fused softmax-cross-entropy kernel.
So ``fit``, ``train_step``, a hand-written loop, Sequential, functional and
subclassed models all get the same value and the same gradient,
``softmax(z) - y``.  A confident wrong answer then costs its true
cross-entropy (say 30), not the clipped 16.
"""

from __future__ import annotations

import warnings

import numpy as np

from minidl import ops
from minidl.errors import unknown_name_message
from minidl.tensor import Tensor
from minidl.utils.arrays import broadcast_weights
from minidl.utils.object_registration import get_registered_object

EPSILON = 1e-7


def _pred(y_pred):
    return y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)


def _true(y_true, y_pred):
    """Targets as an array shaped like the predictions ((N,) becomes (N, 1) for (N, 1) outputs)."""
    y = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    y = y.astype(y_pred.dtype, copy=False)
    if y.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y = y.reshape(y.shape + (1,))
    if y.shape != y_pred.shape:
        raise ValueError(
            f"loss: y_true has shape {y.shape} but y_pred has shape {y_pred.shape}; "
            f"they must match (for class indices use a sparse_categorical_crossentropy loss)."
        )
    return y


def _softmax_logits(y_pred, from_logits, loss_name):
    """The logits to use with the fused kernel, or None (see the module docstring)."""
    logits = y_pred._logits
    if logits is None:
        return y_pred if from_logits else None
    if from_logits:
        warnings.warn(
            f'"{loss_name}" received from_logits=True, but y_pred was produced by a softmax and '
            "so does not hold logits; the softmax's input is used instead. Drop the softmax "
            "from the last layer, or from_logits=True from the loss.",
            UserWarning,
            stacklevel=3,
        )
    return logits


def _fused(logits, targets):
    """Per-sample softmax cross-entropy from logits of any rank (classes last)."""
    if logits.ndim == 2:
        return ops.softmax_cross_entropy(logits, targets, reduction="none")
    classes = logits.shape[-1]
    flat_targets = targets.reshape(-1, classes) if targets.shape == logits.shape else targets.reshape(-1)
    losses = ops.softmax_cross_entropy(ops.reshape(logits, (-1, classes)), flat_targets, reduction="none")
    return ops.reshape(losses, logits.shape[:-1])


def _class_indices(y_true, y_pred, loss_name):
    """Sparse labels as int64 (N,), checked against the number of classes."""
    y = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if y.ndim == y_pred.ndim and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"{loss_name}: expected class indices of shape {y_pred.shape[:-1]} for predictions of "
            f"shape {y_pred.shape}, received labels of shape {y.shape} (one-hot labels need "
            f"categorical_crossentropy)."
        )
    labels = y.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(
            f"{loss_name}: label {bad} is outside the {y_pred.shape[-1]} classes "
            f"[0, {y_pred.shape[-1] - 1}] of the predictions."
        )
    return labels


def _mean_last(x):
    return ops.mean(x, axis=-1)


# --- regression ------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis."""
    y_pred = _pred(y_pred)
    return _mean_last(ops.squared_error(_true(y_true, y_pred), y_pred))


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    y_pred = _pred(y_pred)
    return _mean_last(ops.absolute_error(_true(y_true, y_pred), y_pred))


def huber(y_true, y_pred, delta=1.0):
    """Squared error for small errors, linear for large ones (less swayed by outliers).

        |e| <= delta:  0.5 * e^2          else:  delta * |e| - 0.5 * delta^2

    written as 0.5 * q^2 + delta * (|e| - q) with q = min(|e|, delta).
    """
    y_pred = _pred(y_pred)
    error = ops.abs(ops.sub(y_pred, _true(y_true, y_pred)))
    small = ops.clip(error, 0.0, delta)
    return _mean_last(ops.add(ops.mul(0.5, ops.mul(small, small)), ops.mul(delta, ops.sub(error, small))))


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)); labels in {0, 1} are mapped to {-1, 1} as Keras does."""
    y_pred = _pred(y_pred)
    y = _true(y_true, y_pred)
    if np.all((y == 0) | (y == 1)):
        y = 2 * y - 1
    return _mean_last(ops.relu(ops.sub(1.0, ops.mul(y, y_pred))))


# --- classification --------------------------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False):
    """-(y log p + (1 - y) log(1 - p)), mean over the last axis; p = sigmoid(y_pred) if from_logits.

    ``y_pred``: probabilities (a sigmoid output), or logits with ``from_logits=True``.
    ``y_true``: the probability that each sample is of class 1 -- 0/1 labels, or
    soft targets such as smoothed or noisy labels.  As in Keras, the predictions
    are clipped to [1e-7, 1 - 1e-7] and the targets are used as given: a target
    slightly outside [0, 1] (Deep Learning with Python's GAN adds 0.05 * uniform
    noise to 0/1 labels, up to 1.05) is a valid target whose loss keeps pulling p
    towards the nearer end, and the loss can then dip below 0.  ``fit`` refuses
    whole-number targets other than 0 and 1 (class labels 0..9 belong to
    sparse_categorical_crossentropy).
    """
    y_pred = _pred(y_pred)
    y = _true(y_true, y_pred)
    if from_logits:
        return _mean_last(ops.binary_cross_entropy_with_logits(y, y_pred))
    return _mean_last(ops.binary_cross_entropy(y, y_pred, epsilon=EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-sum_c y_c log p_c per sample, for one-hot (or soft) targets y of shape (N, C)."""
    y_pred = _pred(y_pred)
    y = _true(y_true, y_pred)
    logits = _softmax_logits(y_pred, from_logits, "categorical_crossentropy")
    if logits is not None:
        return _fused(logits, y)
    probs = ops.div(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
    log_probs = ops.log(ops.clip(probs, EPSILON, 1 - EPSILON))
    return ops.neg(ops.sum(ops.mul(y, log_probs), axis=-1))


def check_ignore_class(ignore_class, who):
    """``ignore_class`` as an int or None, or a ValueError naming ``who``."""
    if ignore_class is None:
        return None
    if isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer)):
        raise ValueError(
            f"{who}: ignore_class must be an integer class index (for example -1, or 255 for "
            f"the unlabeled pixels of a segmentation) or None, received {ignore_class!r}."
        )
    return int(ignore_class)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1, ignore_class=None):
    """-log p[label] per sample, for integer labels of shape (N,) (or (N, 1)).

    ``ignore_class``: a label value (say -1 for padding) whose samples get the
    loss 0 and no gradient.  The result then carries which samples are real
    (``_keras_mask``), so a Loss object averages over those only, as Keras 2
    does: ``sum(w * loss) / number of real samples``.  A batch with no real
    sample has the loss 0 (Keras 2 and PyTorch's ``ignore_index`` give 0/0 = NaN,
    which would turn every weight into NaN at the next step).  ``axis``: the
    class axis, the last one (-1) only.
    """
    y_pred = _pred(y_pred)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(
            f"sparse_categorical_crossentropy: the classes must be on the last axis (axis=-1), "
            f"received axis={axis!r} for predictions of shape {y_pred.shape}; move them with "
            f"ops.transpose first."
        )
    ignore_class = check_ignore_class(ignore_class, "sparse_categorical_crossentropy")
    if ignore_class is not None:
        return _ignoring(y_true, y_pred, from_logits, ignore_class)
    logits = _softmax_logits(y_pred, from_logits, "sparse_categorical_crossentropy")
    if logits is not None and logits.ndim == 2:  # the kernel checks the labels' range
        labels = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
        return ops.softmax_cross_entropy(logits, labels, reduction="none")
    labels = _class_indices(y_true, y_pred, "sparse_categorical_crossentropy")
    if logits is not None:
        return _fused(logits, labels)
    one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
    np.put_along_axis(one_hot, labels[..., None], 1, axis=-1)
    log_probs = ops.log(ops.clip(y_pred, EPSILON, 1 - EPSILON))
    return ops.neg(ops.sum(ops.mul(one_hot, log_probs), axis=-1))


def _ignoring(y_true, y_pred, from_logits, ignore_class):
    """sparse_categorical_crossentropy with the labels equal to ``ignore_class`` left out:
    their loss is 0 (computed for class 0, then multiplied by 0: no gradient)."""
    labels = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
        labels = labels.reshape(labels.shape[:-1])
    real = labels != ignore_class
    per_sample = sparse_categorical_crossentropy(np.where(real, labels, 0), y_pred, from_logits)
    if real.shape != per_sample.shape:  # labels of the wrong shape: its error says so
        return per_sample
    result = ops.mul(per_sample, real.astype(per_sample.dtype))
    result._keras_mask = real
    return result


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
huber_loss = huber


# --- classes: a function with its options; __call__ returns the batch mean --
class Reduction:
    """How a Loss object turns the per-sample losses into what it returns (Keras 2's
    ``tf.keras.losses.Reduction``):

    * ``AUTO`` / ``SUM_OVER_BATCH_SIZE``: ``sum(w * loss) / number of losses`` (the mean);
    * ``SUM``: ``sum(w * loss)``;
    * ``NONE``: the per-sample losses themselves, weighted.
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key, owner="Reduction"):
        if key not in cls.all():
            raise ValueError(f"{owner}: reduction must be one of {cls.all()}, received {key!r}.")


class Loss:
    """Base class: ``loss(y_true, y_pred)`` -> scalar mean over the batch.

    Subclass and implement ``call(y_true, y_pred)`` returning per-sample losses.
    """

    def __init__(self, name=None, reduction="auto"):
        self.name = name or _snake(type(self).__name__)
        Reduction.validate(reduction, type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        per_sample = self.call(y_true, y_pred)
        if not isinstance(per_sample, Tensor):
            raise TypeError(
                f"loss {self.name!r} returned {type(per_sample).__name__}, not a Tensor: a loss must "
                "be computed with minidl ops (minidl.ops or Tensor methods) to have a gradient."
            )
        mask = y_pred._keras_mask if isinstance(y_pred, Tensor) else None
        ignored = per_sample._keras_mask  # the samples a loss left out (ignore_class)
        if ignored is not None:
            mask = ignored if mask is None or mask.shape != ignored.shape else mask & ignored
        if mask is not None:
            sample_weight = self._masked_weights(mask, sample_weight, per_sample.shape)
        if sample_weight is not None:
            weight = broadcast_weights(sample_weight, per_sample.shape).astype(per_sample.dtype)
            per_sample = ops.mul(per_sample, weight)
        if self.reduction == "none" or per_sample.ndim == 0 and self.reduction != "sum":
            return per_sample
        if self.reduction == "sum":
            return ops.sum(per_sample)
        return ops.mean(per_sample)

    def _masked_weights(self, mask, sample_weight, shape):
        """Keras's rule for a prediction with a mask (padded timesteps): they weigh 0;
        with the mean reductions the real ones weigh total / real, so the loss is the
        mean over the real timesteps only."""
        if mask.shape != tuple(shape[:mask.ndim]):
            return sample_weight
        weight = mask.astype(np.float64).reshape(mask.shape + (1,) * (len(shape) - mask.ndim))
        if self.reduction in ("auto", "sum_over_batch_size"):
            real = weight.sum()
            weight *= weight.size / real if real else 0.0
        if sample_weight is not None:
            weight = weight * broadcast_weights(sample_weight, shape)
        return weight

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A loss function ``fn(y_true, y_pred)`` as a Loss object (what ``compile``
    makes of a function you pass, as Keras does).

    Before calling ``fn`` it applies Keras's label handling: targets with one
    axis fewer than the predictions, whose last axis is 1, get that axis
    (``(N,)`` labels against ``(N, 1)`` outputs become ``(N, 1)``); targets
    with one axis more, of size 1, lose it.  Float targets get the
    predictions' dtype.
    """

    def __init__(self, fn, name=None, reduction="auto", **options):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn = fn
        self.options = options

    def call(self, y_true, y_pred):
        return self.fn(match_target_rank(y_true, y_pred), y_pred, **self.options)

    def get_config(self):
        return {**super().get_config(), **self.options}


def match_target_rank(y_true, y_pred):
    """Keras's ``squeeze_or_expand_dimensions`` for targets (see LossFunctionWrapper)."""
    y = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    pred_shape = y_pred.shape
    if y.ndim == len(pred_shape) - 1 and pred_shape[-1] == 1:
        y = y.reshape(y.shape + (1,))
    elif y.ndim == len(pred_shape) + 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.dtype.kind == "f" and y.dtype != y_pred.dtype:
        y = y.astype(y_pred.dtype)
    return y


class _FunctionLoss(LossFunctionWrapper):
    """A built-in loss class: one of this module's functions with its options."""

    fn = None

    def __init__(self, reduction="auto", name=None, **options):
        super().__init__(type(self).fn, name or _snake(type(self).__name__), reduction, **options)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.options)


class MeanSquaredError(_FunctionLoss):
    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(_FunctionLoss):
    fn = staticmethod(mean_absolute_error)


class Hinge(_FunctionLoss):
    fn = staticmethod(hinge)


class Huber(_FunctionLoss):
    fn = staticmethod(huber)

    def __init__(self, delta=1.0, reduction="auto", name="huber_loss"):
        super().__init__(reduction, name, delta=delta)


class BinaryCrossentropy(_FunctionLoss):
    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, reduction="auto", name="binary_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits)


class _SoftmaxCrossentropy(_FunctionLoss):
    """A categorical cross-entropy: the batch mean, when it comes from logits
    (or a softmax's logits) without sample weights, is the fused kernel's own
    mean (one op instead of two: this runs at every training step)."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is None and isinstance(y_pred, Tensor) and y_pred.data.ndim == 2 \
                and self.reduction in ("sum_over_batch_size", "auto") and y_pred._keras_mask is None \
                and self.options.get("ignore_class") is None:
            logits = _softmax_logits(y_pred, self.options["from_logits"], self.name)
            if logits is not None:
                targets = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
                return ops.softmax_cross_entropy(logits, targets, reduction="mean")
        return super().__call__(y_true, y_pred, sample_weight)


class CategoricalCrossentropy(_SoftmaxCrossentropy):
    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, reduction="auto",
                 name="categorical_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits)


class SparseCategoricalCrossentropy(_SoftmaxCrossentropy):
    """``sparse_categorical_crossentropy`` with its options; ``ignore_class``
    (Keras 2): samples with that label count neither in the loss nor in the
    mean (the mean is over the others; 0 when a batch has no other)."""

    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, ignore_class=None, reduction="auto",
                 name="sparse_categorical_crossentropy"):
        super().__init__(reduction, name, from_logits=from_logits, ignore_class=check_ignore_class(
            ignore_class, "SparseCategoricalCrossentropy"))


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "hinge": hinge, "huber": huber, "huber_loss": huber,
}
_CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, Hinge, Huber, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy,
)}


_CLASS_OF = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError, hinge: Hinge,
    huber: Huber, binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def as_object(identifier):
    """A Loss object for a name, a function or a Loss: what ``compile`` keeps.

    A built-in function becomes its class (``"mse"`` -> ``MeanSquaredError()``,
    named after the function); your own function is wrapped in a
    ``LossFunctionWrapper``, which gives it Keras's label handling.
    """
    loss = get(identifier)
    if isinstance(loss, Loss):
        return loss
    if loss in _CLASS_OF:
        return _CLASS_OF[loss](name=loss.__name__)
    return LossFunctionWrapper(loss)


def get(identifier):
    """A loss from a name (``"mse"``, ``"sparse_categorical_crossentropy"``,
    ``"MeanSquaredError"``), a Loss instance or a function ``(y_true, y_pred)``."""
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier.lower() in _FUNCTIONS:
            return _FUNCTIONS[identifier.lower()]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        custom = get_registered_object(identifier)  # your own, registered or in a scope
        if custom is not None:
            return custom() if isinstance(custom, type) else custom
        raise ValueError(unknown_name_message("loss", identifier, _FUNCTIONS))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"loss must be a name such as 'mse', a Loss instance or a function "
        f"(y_true, y_pred), received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize(loss):
    """A JSON-able description of a loss (for saving), or None if it is a user function."""
    for name, fn in _FUNCTIONS.items():
        if loss is fn:
            return name
    if type(loss).__name__ in _CLASSES and type(loss) is _CLASSES[type(loss).__name__]:
        config = loss.get_config()
        config.pop("name", None)
        return {"class_name": type(loss).__name__, "config": config}
    return None


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize``; your own losses are found by name in
    ``custom_objects``, among registered objects or in a ``custom_object_scope``."""
    if isinstance(config, str):
        custom = get_registered_object(config, custom_objects)
        if custom is not None and config not in _FUNCTIONS:
            return custom() if isinstance(custom, type) else custom
        return get(config)
    name = config["class_name"]
    cls = _CLASSES.get(name) or get_registered_object(name, custom_objects)
    if cls is None:
        raise ValueError(unknown_name_message("loss class", name, _CLASSES))
    arguments = dict(config.get("config", {}))
    return cls.from_config(arguments) if hasattr(cls, "from_config") else cls(**arguments)
