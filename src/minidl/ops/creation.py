"""New tensors from sizes and numbers: arange, linspace, ones, zeros, full,
ones_like, zeros_like, full_like, eye (Keras 3's ``keras.ops`` names).

They are constants: nothing flows back into them (a weight is a ``Variable``).
Float results are Tensors, integer and bool results EagerArrays (see
``ops._dtypes``).  The dtype, when not given, is Keras 3's:

    ops.arange(5)            int32    (Python ints)
    ops.arange(0.0, 1, 0.25) float32  (a Python float among them)
    ops.ones((2, 3))         float32  (ones, zeros, full, eye, linspace: floatx)
    ops.zeros_like(x)        x's dtype
"""

from __future__ import annotations

import operator

import numpy as np

from minidl.ops._dtypes import as_result, plain_values, requested_dtype, resolved
from minidl.tensor import Tensor


def _dtype_of(value):
    """Keras 3's dtype for one number: its own when it has one, else int32 for a Python
    int, float32 for a Python float, bool for a Python bool."""
    if hasattr(value, "dtype"):
        return np.dtype(value.dtype)
    if isinstance(value, bool):
        return np.dtype(bool)
    return np.dtype(np.int32) if isinstance(value, int) else np.dtype(np.float32)


def _result_dtype(*values):
    """The dtype Keras 3 gives numbers computed from ``values``: a float dtype if any is
    a float (float64 only if one is float64), else the widest integer, else bool."""
    dtypes = [_dtype_of(v) for v in values if v is not None]
    floats = [d for d in dtypes if d.kind == "f"]
    if floats:
        return np.dtype(np.float64) if np.dtype(np.float64) in floats else np.dtype(np.float32)
    integers = [d for d in dtypes if d.kind in "iu"]
    return np.result_type(*integers) if integers else np.dtype(bool)


def _number(value):
    """A Python number as it is (exact), a Tensor or array as its NumPy values."""
    value = resolved(value)
    return value.data if isinstance(value, Tensor) else value


def _shape(shape, op):
    """``shape`` (an int or a sequence of ints) as a tuple, checked."""
    try:
        shape = (operator.index(shape),) if np.ndim(shape) == 0 else tuple(
            operator.index(size) for size in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a tuple of ints, received "
                        f"{shape!r}.") from None
    if any(size < 0 for size in shape):
        raise ValueError(f"{op}: shape sizes must not be negative, received {shape}.")
    return shape


def _dtype(dtype, op, default=np.float32):
    return np.dtype(default) if dtype is None else requested_dtype(dtype, op)


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop) (in [0, start) when ``stop`` is None),
    ``step`` (default 1) apart: ``arange(5)`` is [0, 1, 2, 3, 4], int32."""
    if step is not None and step == 0:
        raise ValueError(f"arange: step must not be zero, received step={step!r}.")
    dtype = _result_dtype(start, stop, 1 if step is None else step) if dtype is None \
        else requested_dtype(dtype, "arange")
    first, last = (0, start) if stop is None else (start, stop)
    values = np.arange(_number(first), _number(last), 1 if step is None else _number(step))
    return as_result(values.astype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` included when
    ``endpoint``); ``retstep=True`` also returns the spacing.  Arrays as ``start`` and
    ``stop`` give one sequence per position, along ``axis``."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: num must not be negative, received num={num}.")
    dtype = _result_dtype(start, stop, 1.0) if dtype is None else requested_dtype(dtype, "linspace")
    values, spacing = np.linspace(_number(start), _number(stop), num,
                                  endpoint=endpoint, retstep=True, axis=axis)
    result = as_result(np.asarray(values).astype(dtype))
    return (result, as_result(np.asarray(spacing).astype(dtype))) if retstep else result


def zeros(shape, dtype=None):
    """A tensor of ``shape`` full of 0 (float32 unless ``dtype`` says)."""
    return as_result(np.zeros(_shape(shape, "zeros"), _dtype(dtype, "zeros")))


def ones(shape, dtype=None):
    """A tensor of ``shape`` full of 1 (float32 unless ``dtype`` says)."""
    return as_result(np.ones(_shape(shape, "ones"), _dtype(dtype, "ones")))


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` full of ``fill_value`` (a number, or an array that
    broadcasts to ``shape``); float32 unless ``dtype`` says."""
    shape = _shape(shape, "full")
    fill = plain_values(fill_value)
    try:
        values = np.broadcast_to(fill, shape)
    except ValueError:
        raise ValueError(f"full: fill_value of shape {fill.shape} does not broadcast to "
                         f"shape {shape}.") from None
    return as_result(values.astype(_dtype(dtype, "full")))


def _like(x, dtype, op):
    values = plain_values(x)
    return values.shape, (values.dtype if dtype is None else requested_dtype(dtype, op))


def zeros_like(x, dtype=None):
    """0 in x's shape (and dtype, unless ``dtype`` says)."""
    shape, dtype = _like(x, dtype, "zeros_like")
    return as_result(np.zeros(shape, dtype))


def ones_like(x, dtype=None):
    """1 in x's shape (and dtype, unless ``dtype`` says)."""
    shape, dtype = _like(x, dtype, "ones_like")
    return as_result(np.ones(shape, dtype))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` in x's shape (and dtype, unless ``dtype`` says: an int32 x
    truncates 3.7 to 3)."""
    shape, dtype = _like(x, dtype, "full_like")
    return full(shape, fill_value, dtype)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras's names)
    """An N x M matrix (M = N when None) with ones on diagonal ``k`` (0 the main
    diagonal, 1 the one above it, -1 below) and zeros elsewhere; float32."""
    dtype = _dtype(dtype, "eye")
    return as_result(np.eye(operator.index(N), None if M is None else operator.index(M),
                            operator.index(k), dtype=dtype))

