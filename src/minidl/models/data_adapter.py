"""Checking the data given to ``fit``/``evaluate``/``predict``, and cutting it into batches.

Everything is checked once, before training touches anything, so a mistake
ends in a ``ValueError`` that says what was received and what was expected,
with the model and the optimizer unchanged.  Inputs are converted once to
C-contiguous float32 (lists, uint8 images and float64 arrays all work);
sparse labels become int64 class indices, other targets float32.

Batches of a shuffled epoch are gathered with ``np.take`` into buffers
allocated once, so an epoch allocates nothing per step.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.layers.input import STRING_DTYPE
from minidl.layers.text_tokens import as_strings
from minidl.tensor import Tensor


def as_numeric_array(value, what):
    """``value`` (array, list, Tensor) as an ndarray of numbers, or a ValueError."""
    if isinstance(value, Tensor):
        return value.data
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise ValueError(
            f"{what} must be a rectangular array of numbers; converting it failed ({error})."
        ) from None
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{what} must hold numbers, received an array of dtype {array.dtype}"
            f"{' (strings)' if array.dtype.kind in 'US' else ''}; convert it with "
            f"np.asarray(..., dtype='float32') after cleaning the data."
        )
    return array


def all_finite(array):
    """Whether a float array holds no NaN and no inf, in one pass, with no copy:
    the sum of the values is finite when every value is (a NaN or inf anywhere
    makes it NaN or inf; inf - inf is NaN).  It may also overflow for finite
    values (a sum beyond float32's 3.4e38): then False, and the caller's exact
    check (``check_finite``) decides.  ``einsum`` sums without the boolean copy
    of ``np.isfinite(x).all()`` (three quarters of its instructions for a batch
    of 32 MNIST images), without BLAS threads, and raises no floating-point
    warnings."""
    return bool(np.isfinite(np.einsum("i->", array.reshape(-1))))


_SMALL = 1 << 16  # values up to which check_finite tests each value (a boolean copy is cheap)


def check_finite(array, what, source=None):
    """Refuse NaN and inf in ``array``; ``source`` is the data it was cast from,
    so that a float64 value too large for float32 (1e39, which the cast made inf)
    is named as such."""
    # One sum of all the values is finite when every value is (a NaN or inf
    # anywhere makes it NaN or inf), and it needs no boolean copy of the data.
    # It runs in the array's own precision, at memory speed; if huge values
    # overflow it, the exact search below runs and finds nothing to refuse.
    if array.dtype.kind != "f":
        return
    if array.size <= _SMALL:  # a batch: the boolean test is quicker than a guarded sum
        if np.isfinite(array).all():
            return
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # the exact search explains, not numpy
            if np.isfinite(array.sum()):
                return
    if not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array.reshape(-1)))
        first = bad[0]
        original = None if source is None else source.reshape(-1)[first]
        if original is not None and np.isfinite(original):
            raise ValueError(
                f"{what} holds {original:g} at flat index {first}, beyond float32's range "
                f"(about +-3.4e38), which training would turn into inf; scale the data "
                f"(for example divide by its largest value) first."
            )
        kind = "NaN" if np.isnan(array.reshape(-1)[first]) else "inf"
        raise ValueError(
            f"{what} contains {bad.size} non-finite value(s) ({kind} first, at flat index "
            f"{first}); remove or replace them (np.nan_to_num) before training."
        )


def to_float32(array, what, finite=True):
    """``array`` as C-contiguous float32, NaN, inf and values beyond float32's range
    refused after the cast (when ``finite``)."""
    if array.dtype == np.float32 and array.flags.c_contiguous:
        result = array  # nothing to cast (the common case of a batch): no cast to watch
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # check_finite explains instead
            result = np.ascontiguousarray(array, dtype=np.float32)
    if finite:
        check_finite(result, what, source=array if result is not array else None)
    return result


def _fmt_sample(shape):
    """A shape as Keras prints it: ``(None, 28, 28)``, ``(784,)``."""
    return str(tuple(shape))


def prepare_inputs(model, x, what="x", finite=True):
    """``x`` as a list of float32 arrays, one per model input, shapes checked.

    ``finite``: also refuse NaN and inf, as fit and evaluate do (a NaN would
    silently poison the weights or the score).  predict passes False: like
    Keras and PyTorch it returns NaN for a NaN input, and the check would cost
    a pass over all the data.
    """
    if x is None:
        raise ValueError(f"{what} is None; pass the input data as an array.")
    count = model.inputs_count if getattr(model, "built", False) else 1
    if isinstance(x, dict):
        x = model._flat_inputs(x, what)
        x = x[0] if count == 1 and len(x) == 1 else x
    if count > 1:
        if not isinstance(x, (list, tuple)) or len(x) != count:
            received = f"a list of {len(x)}" if isinstance(x, (list, tuple)) else type(x).__name__
            raise ValueError(
                f"{what}: the model has {count} inputs, so pass a list of {count} arrays; "
                f"received {received}."
            )
        items = [(x_i, f"{what}[{i}]") for i, x_i in enumerate(x)]
    else:
        items = [(x, what)]
    expected_shapes = _known_shapes(model, "input_shapes", count)
    integer = model.integer_inputs()
    if not getattr(model, "built", False) and integer != [STRING_DTYPE]:
        integer = []  # (a Sequential not yet built that starts with a TextVectorization: strings)
    arrays = []
    for i, (value, label) in enumerate(items):
        wanted = integer[i] if i < len(integer) else None
        if wanted is STRING_DTYPE:  # text for a TextVectorization: strings stay strings
            expected = expected_shapes[i] if expected_shapes else None
            arrays.append(_as_string_batch(model, value, expected, label))
            continue
        array = as_numeric_array(value, label)
        if array.ndim == 0:
            raise ValueError(f"{label} must be an array with a batch axis, received a scalar {array!r}.")
        if len(array) == 0:
            raise ValueError(f"{label} is empty (shape {array.shape}): it holds no samples.")
        if 0 in array.shape[1:]:
            raise ValueError(
                f"{label} has shape {array.shape}: its samples hold no values (an axis of size "
                "0), so there is nothing for the model to read."
            )
        if wanted is not None and (array.dtype.kind in "iu" or wanted != "any"):
            array = as_word_indices(array, wanted, label)
        else:
            array = to_float32(array, label, finite)
        expected = expected_shapes[i] if expected_shapes else None
        if expected is not None:
            array = _match_input_shape(model, array, expected, label)
        arrays.append(array)
    return arrays


def as_word_indices(array, dtype, what):
    """Integer data for an integer input (or an Embedding first in a Sequential),
    as C-contiguous integers of ``dtype`` ("any": the array's own integer dtype).
    Floats holding whole numbers are cast; fractions, NaN and inf are refused, and
    so are values that ``dtype`` cannot hold (a cast would wrap them around)."""
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array))
        if not whole.all():
            bad = array[~whole].flat[0]
            raise ValueError(
                f"{what} feeds an integer input and holds {bad!r}: word indices must be whole "
                "numbers. Round or cast them first (x.astype('int64'))."
            )
        array = array.astype(np.int64)
    if dtype == "any":
        return np.ascontiguousarray(array)
    limits = np.iinfo(dtype)
    if array.size and (array.min() < limits.min or array.max() > limits.max):
        bad = array.min() if array.min() < limits.min else array.max()
        raise ValueError(f"{what} holds {bad}, which the input's dtype {dtype} cannot hold.")
    return np.ascontiguousarray(array, dtype=dtype)


def _fits(shape, expected):
    """Whether an array shape fits a batch shape like (None, 28, 28) (None matches anything)."""
    return len(shape) == len(expected) and all(e is None or e == a for e, a in zip(expected[1:], shape[1:]))


def _known_shapes(model, attribute, count):
    if not getattr(model, "built", False):
        return None
    try:
        shapes = list(getattr(model, attribute))
    except (AttributeError, ValueError, TypeError):
        return None
    return shapes if len(shapes) == count else None


def _as_string_batch(model, value, expected, label):
    """Strings for a string input: one per sample, shaped (batch,) or (batch, 1) as the
    input wants, whichever of the two is given (Keras's tutorials pass both)."""
    array = as_strings(value, label)
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{label} must be a batch of strings, received shape {array.shape}.")
    if expected is None:
        return array
    if len(expected) == 1 and array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    if len(expected) == 2 and expected[1] in (1, None) and array.ndim == 1:
        return array.reshape(-1, 1)
    return _match_input_shape(model, array, expected, label)


def _match_input_shape(model, array, expected, label):
    sample = tuple(expected[1:])
    if array.ndim == 1 and sample == (1,):
        return array.reshape(-1, 1)  # a 1-D x for input_shape=(1,)
    if _fits(array.shape, expected):
        return array
    name = getattr(model, "name", "model")
    hint = ""
    known = [d for d in sample if d is not None]
    if len(known) == len(sample) and array.ndim > 1 and math.prod(array.shape[1:]) == math.prod(sample):
        if len(sample) == 1:
            hint = (f" Each sample has {math.prod(array.shape[1:])} values: did you forget Flatten, or "
                    f"x.reshape(-1, {sample[0]})?")
        else:
            hint = f" Each sample has the right number of values: reshape x to {(-1, *sample)}."
    elif array.ndim == len(expected) - 1:
        hint = " x has one axis too few: is it a single sample? Use x[None] for a batch of one."
    raise ValueError(
        f"{label}: model {name!r} expects input samples of shape {_fmt_sample(sample)} "
        f"(batch shape {_fmt_sample(expected)}), received {label} of shape {array.shape}.{hint}"
    )


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from what ``train_step`` receives: ``(x,)``,
    ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` alone (Keras's helper)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"Data of a step must be (x,), (x, y) or (x, y, sample_weight), received a tuple of "
        f"{len(data)} items."
    )


class TargetSpec:
    """What one output needs from its targets: ``kind`` is "sparse" (class
    indices), "categorical" (one-hot), "binary" (values in [0, 1], shaped like
    the output), "dense" (anything shaped like the output), or None (no loss
    for this output: any numbers, kept as float32 or int64).  ``ignore_class``:
    a label the sparse loss leaves out (allowed beside the classes)."""

    def __init__(self, output_name, output_shape, kind, optional=False, ignore_class=None):
        self.output_name = output_name
        self.output_shape = output_shape
        self.kind = kind
        self.optional = optional  # no loss here (compile(loss=[..., None])): may have no target
        self.ignore_class = ignore_class


def ignored_class(loss):
    """The ``ignore_class`` of a compiled Loss object (None for most losses)."""
    return getattr(loss, "options", {}).get("ignore_class")


def prepare_targets(specs, y, what="y"):
    """``y`` as a list of arrays, one per output: int64 labels or float32 targets."""
    if y is None:
        raise ValueError(f"{what} is None; fit() and evaluate() need targets (labels) for x.")
    if len(specs) > 1:
        if isinstance(y, dict):
            names = [s.output_name for s in specs]
            unknown = [k for k in y if k not in names]
            missing = [s.output_name for s in specs if s.output_name not in y and not s.optional]
            if unknown or missing:
                problem = f"no targets for outputs {missing}" if missing else \
                    f"targets for unknown outputs {unknown}"
                raise ValueError(f"{what}: {problem}; the outputs are {names}.")
            y = [y.get(s.output_name) for s in specs]
        if not isinstance(y, (list, tuple)) or len(y) != len(specs):
            received = f"a list of {len(y)}" if isinstance(y, (list, tuple)) else type(y).__name__
            raise ValueError(
                f"{what}: the model has {len(specs)} outputs {[s.output_name for s in specs]}, so pass a "
                f"list (or dict) of {len(specs)} target arrays; received {received}."
            )
        items = [(y_i, f"{what}[{i}]") for i, y_i in enumerate(y)]
    else:
        items = [(y, what)]
    for spec, (value, label) in zip(specs, items):
        if value is None and not spec.optional:
            raise ValueError(
                f"{label} is None, but output {spec.output_name!r} has a loss; give its targets "
                f"(only an output compiled with loss None may go without)."
            )
    return [None if value is None else _prepare_target(spec, value, label)
            for spec, (value, label) in zip(specs, items)]


def _prepare_target(spec, value, label):
    array = as_numeric_array(value, label)
    if array.ndim == 0:
        raise ValueError(f"{label} must be an array with one target per sample, received a scalar.")
    if len(array) == 0:
        raise ValueError(f"{label} is empty (shape {array.shape}).")
    if spec.kind == "sparse" or array.dtype.kind in "biu":
        check_finite(array, label)  # class indices stay exact; checked in their own dtype
    else:
        array = to_float32(array, label)  # (1e39 in float64 is refused here, after the cast)
    if spec.kind is None:  # no compiled loss reads it: a train_step you wrote will
        dtype = np.int64 if array.dtype.kind in "biu" else np.float32
        return np.ascontiguousarray(array, dtype=dtype)
    shape = spec.output_shape
    classes = shape[-1] if shape is not None and len(shape) >= 2 else None
    out = f"output {spec.output_name!r}"
    if spec.kind in ("sparse", "categorical") and shape is not None and len(shape) < 2:
        raise ValueError(
            f"{out} has shape {_fmt_sample(shape)}, but a cross-entropy loss needs class scores "
            f"on a last axis, shape (None, classes) (or (None, steps, classes): one row per step)."
        )
    if spec.kind == "binary" and (array.min() < 0 or array.max() > 1) and np.all(
            array == np.round(array)):
        # whole numbers beyond 0/1 are class labels given to a two-class loss; soft
        # targets (the label noise of 1.05 in Keras's GAN recipe) are used as given
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(
            f"{label}: binary_crossentropy expects targets in [0, 1] (0/1 labels or probabilities), "
            f"received the class label {bad:g}. For more than two classes use a softmax output "
            f"with sparse_categorical_crossentropy."
        )
    if spec.kind == "sparse":
        steps = () if shape is None else tuple(shape[1:-1])  # a label per step of a sequence
        if array.ndim == len(steps) + 2 and array.shape[-1] == 1:
            array = array.reshape(array.shape[:-1])
        if array.ndim != len(steps) + 1 or not _fits(array.shape, (None, *steps)):
            expected = _fmt_sample((None, *steps)).replace("None", "N", 1)
            hint = (_FLATTEN_HINT if array.ndim == 1 else
                    " If these are one-hot labels, use loss='categorical_crossentropy', or "
                    "y.argmax(axis=-1).")
            raise ValueError(
                f"{label}: a sparse_categorical_crossentropy loss expects integer class labels of shape "
                f"{expected}, one per row of class scores of {out} (shape {_fmt_sample(shape)}), "
                f"received shape {array.shape}.{hint}"
            )
        if array.dtype.kind == "f" and not np.all(array == np.round(array)):
            example = array[array != np.round(array)][0]
            raise ValueError(f"{label}: class labels must be whole numbers, received values such as {example}.")
        _check_range(array if spec.ignore_class is None else array[array != spec.ignore_class],
                     classes, label, out)
        return np.ascontiguousarray(array, dtype=np.int64)
    if spec.kind == "categorical":
        if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1 and classes not in (None, 1)):
            raise ValueError(
                f"{label}: a categorical_crossentropy loss expects one-hot targets of shape "
                f"(N, {classes if classes else 'classes'}), received shape {array.shape} (integer labels?). "
                f"Use loss='sparse_categorical_crossentropy', or minidl.utils.to_categorical(y)."
            )
        if classes is not None and array.ndim == len(shape) and array.shape[-1] != classes:
            raise ValueError(
                f"{label}: one-hot targets have {array.shape[-1]} columns but {out} has {classes} "
                f"classes (shape {_fmt_sample(shape)})."
            )
        if shape is not None and not _fits(array.shape, shape):
            raise ValueError(
                f"{label}: one-hot targets of shape {array.shape} do not match {out} of shape "
                f"{_fmt_sample(shape)}: a categorical_crossentropy loss needs a one-hot row for "
                f"each row of class scores.{_FLATTEN_HINT if array.ndim == 2 else ''}"
            )
        return np.ascontiguousarray(array, dtype=np.float32)
    array = np.ascontiguousarray(array, dtype=np.float32)
    if shape is not None:
        sample = tuple(shape[1:])
        if array.ndim == 1 and sample == (1,):
            array = array.reshape(-1, 1)
        if not _fits(array.shape, shape):
            raise ValueError(
                f"{label}: targets of shape {array.shape} do not match {out} of shape "
                f"{_fmt_sample(shape)}; each sample's target must have shape {_fmt_sample(sample)}."
            )
    return array


_FLATTEN_HINT = (" One label per sample? Add layers.Flatten() (or GlobalAveragePooling2D) before "
                 "the last Dense layer, so that it gives one row of class scores per sample.")


def _check_range(labels, classes, label, out):
    if labels.size == 0:  # every label is the ignored class
        return
    low, high = labels.min(), labels.max()
    if low < 0:
        raise ValueError(f"{label}: class labels must be >= 0, received {low}.")
    if classes is not None and high >= classes:
        raise ValueError(
            f"{label}: received the label {int(high)}, but {out} has {classes} units, so labels "
            f"must be in [0, {classes - 1}]. Give the last Dense layer {int(high) + 1} units, or "
            f"check the labels."
        )


def prepare_sample_weights(sample_weight, class_weight, specs, ys, n, what="sample_weight"):
    """The weight of each sample's loss, as Keras takes it: [] when none is given,
    else one float32 array of shape (n,) per output.

    ``sample_weight``: an array of n weights ((n,) or (n, 1)), for every output,
    or a list (or dict by output name) of them, one per output.
    ``class_weight``: ``{class index: weight}`` for a single-output model; each
    sample gets the weight of its label (the index of a one-hot row's 1; for one
    sigmoid unit, the rounded target).  Both given: their product.
    """
    if sample_weight is None and class_weight is None:
        return []
    count = len(specs)
    weights = [None] * count
    if sample_weight is not None:
        if count > 1 and isinstance(sample_weight, dict):
            sample_weight = [sample_weight.get(spec.output_name) for spec in specs]
        if count > 1 and isinstance(sample_weight, (list, tuple)):
            if len(sample_weight) != count:
                raise ValueError(
                    f"{what}: the model has {count} outputs, so give one array of weights per "
                    f"output, received {len(sample_weight)}."
                )
            weights = [None if w is None else _one_weight_array(w, n, f"{what}[{i}]")
                       for i, w in enumerate(sample_weight)]
        else:
            weights = [_one_weight_array(sample_weight, n, what)] * count
    if class_weight is not None:
        if count != 1:
            raise ValueError(
                f"class_weight is only supported for models with one output (this one has "
                f"{count}); give sample_weight per output instead."
            )
        if not ys:
            raise ValueError("class_weight needs the targets y, to read each sample's class.")
        by_class = _class_weights(class_weight, ys[0], specs[0])
        weights = [by_class if weights[0] is None else weights[0] * by_class]
    return [np.ones(n, np.float32) if w is None else w for w in weights]


def _one_weight_array(value, n, what):
    array = as_numeric_array(value, what)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(
            f"{what} must hold one weight per sample, shape ({n},), received shape {array.shape}."
        )
    if len(array) != n:
        raise ValueError(f"{what} has {len(array)} weights for {n} samples; give one per sample.")
    return to_float32(array, what)


def _class_weights(class_weight, targets, spec):
    """Each sample's weight from its class (see prepare_sample_weights)."""
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError(
            f"class_weight must be a dict {{class index: weight}}, received {class_weight!r}."
        )
    targets = np.asarray(targets)
    if targets.ndim == 2 and targets.shape[1] > 1:
        labels = targets.argmax(axis=1)  # one-hot rows
    else:
        labels = np.rint(targets.reshape(len(targets), -1)[:, 0]).astype(np.int64)
    table = {}
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"class_weight keys must be class indices (integers), received {key!r}.")
        table[int(key)] = float(weight)
    missing = sorted(set(np.unique(labels).tolist()) - set(table))
    if missing:
        raise ValueError(
            f"class_weight gives no weight for class(es) {missing[:5]} of output "
            f"{spec.output_name!r}; give one for every class in the labels."
        )
    lookup = np.zeros(max(table) + 1, np.float32)
    for key, weight in table.items():
        if key >= 0:
            lookup[key] = weight
    return lookup[labels]


class Data:
    """What fit, evaluate and the single-batch methods work on: the inputs, the
    targets and the sample weights, checked and converted, all of one length.
    A target is None for an output compiled without a loss and given none."""

    def __init__(self, xs, ys, ws):
        self.xs, self.ys, self.ws = xs, ys, ws

    @property
    def arrays(self):
        return self.xs + [y for y in self.ys if y is not None] + self.ws

    @property
    def counts(self):
        """``(number of inputs, which targets are present)``: what ``pack_batch`` needs
        to put a batch of ``arrays`` back in place."""
        return len(self.xs), tuple(y is not None for y in self.ys)

    @property
    def size(self):
        return len(self.xs[0])

    def split(self, validation_split):
        """(training part, validation part) by Keras's rule (see split_validation)."""
        return tuple(self._from_arrays(part)
                     for part in split_validation(self.arrays, validation_split))

    def _from_arrays(self, arrays):
        n_x, present = self.counts
        targets = iter(arrays[n_x:n_x + sum(present)])
        ys = [next(targets) if here else None for here in present]
        return Data(arrays[:n_x], ys, arrays[n_x + sum(present):])


def check_lengths(xs, ys, what_x="x", what_y="y"):
    """Every array has the same number of samples."""
    ys = [a for a in ys if a is not None]
    lengths = {len(a) for a in xs} | {len(a) for a in ys}
    if len(lengths) > 1:
        x_lens = [len(a) for a in xs]
        y_lens = [len(a) for a in ys]
        raise ValueError(
            f"{what_x} and {what_y} must have the same number of samples, received "
            f"len({what_x})={x_lens if len(x_lens) > 1 else x_lens[0]} and "
            f"len({what_y})={y_lens if len(y_lens) > 1 else y_lens[0]}."
        )
    return lengths.pop()


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {value!r}.")
    return int(value)


def check_validation_split(validation_split):
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)) \
            or not 0.0 <= validation_split < 1.0:
        raise ValueError(
            f"validation_split must be a number in [0, 1) (the fraction of the data kept for "
            f"validation, e.g. 0.2), received {validation_split!r}."
        )


def split_validation(arrays, validation_split):
    """Keras's rule: the LAST ``validation_split`` fraction (before shuffling) validates."""
    check_validation_split(validation_split)
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} of {n} samples leaves "
            f"{split_at} for training and {n - split_at} for validation; both need at least one."
        )
    return [a[:split_at] for a in arrays], [a[split_at:] for a in arrays]


class BatchLoader:
    """Mini-batches over aligned arrays (inputs and targets).

    ``shuffled(order)`` gathers rows ``order[i:i + batch_size]`` into buffers
    allocated once; ``sequential()`` yields plain slices (views, no copies).
    A yielded batch is only valid until the next one is requested.
    """

    def __init__(self, arrays, batch_size):
        self.arrays = arrays
        self.batch_size = batch_size
        self.size = len(arrays[0])
        self.steps = math.ceil(self.size / batch_size)
        self._buffers = None

    def sequential(self):
        for start in range(0, self.size, self.batch_size):
            yield [a[start:start + self.batch_size] for a in self.arrays]

    def shuffled(self, order):
        if self._buffers is None:
            rows = min(self.batch_size, self.size)
            self._buffers = [np.empty((rows,) + a.shape[1:], dtype=a.dtype) for a in self.arrays]
        for start in range(0, self.size, self.batch_size):
            index = order[start:start + self.batch_size]
            n = len(index)
            yield [a.take(index, axis=0, out=buf[:n], mode="clip")
                   for a, buf in zip(self.arrays, self._buffers)]
