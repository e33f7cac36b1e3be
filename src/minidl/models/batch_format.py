"""The quick check of the batches a Dataset, Sequence or generator feeds to ``fit``.

Every batch from a source is checked and converted as arrays given to ``fit``
are (``Model._prepare``: shapes, dtypes, finite values, label range; see
``data_adapter``).  Most of that only asks about the *format* of the batch,
which a source keeps from batch to batch.  So after a batch passed the full
checks *unchanged* (each array was used as given: nothing cast, reshaped or
converted), its format is remembered (``BatchFormat.learn``): how the arrays
are nested, and each one's dtype and sample shape (the shape without the
batch axis).  A later batch whose arrays have exactly that format, all of
one length, only needs the checks on its values (``BatchFormat.check``):

* inputs, float targets and sample weights: no NaN or inf
  (``data_adapter.all_finite``);
* class indices of a sparse cross-entropy: ``0 <= y.min()`` and
  ``y.max() < classes`` (over the labels other than its ``ignore_class``);
* targets of a binary cross-entropy: no NaN or inf, and in ``[0, 1]``.

Anything else (another dtype or shape, a list instead of an array, a Tensor,
a value that fails a test, a soft target 1.05) returns None, and the caller
runs the full checks, which convert the batch or refuse it with their own
message.  The quick check therefore never accepts a batch the full checks
would refuse, and what it accepts is used exactly as the full checks would
use it: the same arrays.
"""

from __future__ import annotations

import numpy as np

from minidl.models import data_adapter

_NONE, _FINITE, _LABELS, _BINARY = range(4)


def _nested(value, count):
    """The arrays of ``value`` given for ``count`` inputs (or outputs) as a list,
    or None when it is nested another way (a dict, a list of the wrong length)."""
    if count == 1:
        return [value]
    if isinstance(value, (list, tuple)) and len(value) == count:
        return list(value)
    return None


class BatchFormat:
    """The format of a batch that passed the full checks unchanged (see the module docstring).

    ``slots``: per array (inputs, then targets, then the sample weights),
    ``(dtype, sample shape, test, classes, ignored label)``, or None for a target left out
    (an output compiled without a loss).
    """

    def __init__(self, n_inputs, n_targets, n_weights, slots):
        self.n_inputs = n_inputs
        self.n_targets = n_targets  # 0: the batches have no targets
        self.n_weights = n_weights  # 0, or one per output: the batch's one array of weights
        self.slots = slots

    @classmethod
    def learn(cls, x, y, w, data, specs, finite=True):
        """The format of the batch ``(x, y, w)``, if ``data`` (what the full checks
        made of it) holds its very arrays; else None."""
        n_inputs = len(data.xs)
        xs = _nested(x, n_inputs)
        ys = [] if y is None else _nested(y, len(data.ys))
        if xs is None or ys is None or len(ys) != len(data.ys):
            return None
        if w is None:
            if data.ws:
                return None  # weights made from class_weight: the full checks make them again
        elif not isinstance(w, np.ndarray) or not data.ws or any(a is not w for a in data.ws):
            return None
        given, used = xs + ys, data.xs + data.ys
        if any(a is not b for a, b in zip(given, used)):
            return None
        slots = []
        for i, array in enumerate(given):
            if array is None:
                slots.append(None)
                continue
            if type(array) is not np.ndarray or array.ndim == 0:
                return None
            test, classes, ignore = _NONE, None, None
            if array.dtype.kind == "f":
                test = _FINITE if finite or i >= n_inputs else _NONE
            if i >= n_inputs:
                spec = specs[i - n_inputs]
                if spec.kind == "sparse":
                    test = _LABELS
                    shape = spec.output_shape
                    classes = shape[-1] if shape is not None and len(shape) >= 2 else None
                    ignore = spec.ignore_class
                elif spec.kind == "binary":
                    test = _BINARY
            slots.append((array.dtype, array.shape[1:], test, classes, ignore))
        if w is not None:
            slots.append((w.dtype, w.shape[1:], _FINITE, None, None))
        return cls(n_inputs, len(ys), len(data.ws), slots)

    def check(self, x, y, w):
        """A ``Data`` of the batch ``(x, y, w)`` when it has this format and passes
        the tests on its values; else None (then the full checks decide)."""
        if (w is None) != (self.n_weights == 0) or (y is None) != (self.n_targets == 0):
            return None
        xs = _nested(x, self.n_inputs)
        ys = [] if y is None else _nested(y, self.n_targets)
        if xs is None or ys is None:
            return None
        arrays = xs + ys
        if w is not None:
            arrays.append(w)
        n = -1
        for array, slot in zip(arrays, self.slots):
            if slot is None:
                if array is not None:
                    return None
                continue
            dtype, sample, test, classes, ignore = slot
            if type(array) is not np.ndarray or array.dtype != dtype \
                    or array.shape[1:] != sample or array.ndim != len(sample) + 1 \
                    or not array.flags.c_contiguous:
                return None
            if n < 0:
                n = array.shape[0]
                if n == 0:
                    return None
            elif array.shape[0] != n:
                return None
            if test == _FINITE:
                if not data_adapter.all_finite(array):
                    return None
            elif test == _LABELS:
                if ignore is not None:
                    array = array[array != ignore]
                    if array.size == 0:
                        continue
                if array.min() < 0 or classes is not None and array.max() >= classes:
                    return None
            elif test == _BINARY:
                low, high = array.min(), array.max()
                if not (0 <= low and high <= 1):  # NaN fails too
                    return None
        ws = [w] * self.n_weights if w is not None else []
        return data_adapter.Data(xs, ys, ws)
