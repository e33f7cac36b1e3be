"""Keras 3's dtypes on minidl's two kinds of results.

A minidl ``Tensor`` holds floats (float32, or float64 when asked): autograd
needs real numbers.  Keras 3's ops also compute in integers and booleans:
``ops.arange(5)`` is int32, ``ops.argmax(x)`` int32, ``ops.equal(a, b)`` bool,
``ops.add([1, 2], [3, 4])`` int32.  minidl returns those as NumPy arrays
viewed as ``EagerArray`` (``minidl.eager_array``): they have ``.numpy()`` as
Keras's tensors have, and they index and feed an ``Embedding`` as integers.
Float results are Tensors.

Which dtype, as Keras 3 decides it (``keras.backend.result_type``): a Python
int is int32, a Python float float32 (``floatx``), a Python bool bool; a NumPy
value keeps its own dtype.

``integers_by_numpy(np.add, operands=2)`` marks an op so that ``keras.ops.add``,
given only integers or booleans (no Tensor, no floats), computes in NumPy and
returns an EagerArray of Keras's dtype instead of a float Tensor, as Keras keeps
integers integers (``ops._keras_api`` applies it; the op itself always computes
on Tensors).
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from minidl.eager_array import eager
from minidl.tensor import Tensor

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolved(value):
    """A symbolic tensor (``KerasTensor``) as the value it has in the model running now;
    anything else as it is.  Outside a running model a KerasTensor holds no numbers:
    its ``_resolve_symbolic`` raises a TypeError saying to compute inside a layer."""
    resolve = getattr(type(value), "_resolve_symbolic", None)
    return value if resolve is None else resolve(value)


def is_exact(value):
    """True for integers and booleans that are not a Tensor: Python ints and bools,
    integer or boolean NumPy arrays and scalars (EagerArrays too), lists of them."""
    if isinstance(value, (Tensor, float)):
        return False
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind in "biu"
    if isinstance(value, numbers.Integral):
        return True
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value).dtype.kind in "biu"
        except (ValueError, TypeError):
            return False
    return False


def exact_array(value):
    """Integers or booleans as a NumPy array: Python ints become int32 (as Keras's
    ``convert_to_tensor`` makes them), NumPy values keep their dtype."""
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    array = np.asarray(value)
    return array.astype(np.int32) if array.dtype.kind in "iu" else array


def plain_values(value):
    """Any input as a NumPy array of its values (a Tensor's floats, a list's numbers;
    Python ints as int32, Python floats as float32): what ops answering with
    integers or booleans (``argmax``, ``equal``) read."""
    value = resolved(value)
    if isinstance(value, Tensor):
        return value.data
    if is_exact(value):
        return exact_array(value)
    array = np.asarray(value)
    if array.dtype.kind == "f" and not isinstance(value, (np.ndarray, np.generic)):
        return array.astype(np.float32)
    return array


def requested_dtype(dtype, op):
    """A Keras dtype name ("float32", "int32", "bool", ...) as a NumPy dtype."""
    try:
        dtype = np.dtype(getattr(dtype, "name", dtype))
    except TypeError:
        raise TypeError(f"{op}: dtype {dtype!r} is not a dtype name such as 'float32', "
                        "'int32' or 'bool'.") from None
    if dtype.kind == "f" and dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: minidl Tensors hold float32 or float64, received dtype "
                        f"{dtype.name}.")
    if dtype.kind not in "biuf":
        raise TypeError(f"{op}: dtype must be a float, integer or bool dtype, received "
                        f"{dtype.name}.")
    return dtype


def as_result(array):
    """A NumPy result as Keras gives it: floats as a Tensor (a constant, outside the
    graph), integers and booleans as an EagerArray."""
    array = np.asarray(array)
    if array.dtype in FLOAT_DTYPES:
        return Tensor._wrap(np.asarray(array, order="C"))
    return eager(array)


def integers_by_numpy(numpy_function, operands=1):
    """Decorator: marks the op with the NumPy function that computes it on integers or
    booleans.  ``keras.ops``'s name for the op (see ``ops._keras_api``) then returns
    ``numpy_function(*first operands, **other arguments)`` as an EagerArray when the
    op's first ``operands`` arguments are all integers or booleans (``is_exact``)."""

    def mark(op):
        op.integers_by_numpy = (numpy_function, operands)
        return op

    return mark


def integer_result(op, args, kwargs):
    """``op(*args, **kwargs)`` computed in integers as ``integers_by_numpy`` says, or
    None when the operands are not all integers or booleans (nor is it marked)."""
    numpy_function, operands = op.integers_by_numpy
    bound = inspect.signature(op).bind(*args, **kwargs)
    names = list(bound.signature.parameters)[:operands]
    for name in names:
        bound.arguments[name] = resolved(bound.arguments.get(name))
    if not all(is_exact(bound.arguments[name]) for name in names):
        return None
    bound.apply_defaults()
    values = [exact_array(bound.arguments.pop(name)) for name in names]
    try:
        result = numpy_function(*values, **bound.arguments)
    except ValueError as error:  # (NumPy's AxisError is one)
        shapes = " and ".join(str(np.shape(value)) for value in values)
        raise ValueError(f"{op.__name__}: {error} (input shape {shapes}).") from None
    return eager(np.asarray(result))
