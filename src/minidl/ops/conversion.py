"""What a tensor is and how it converts: shape, cast, convert_to_tensor,
convert_to_numpy, stop_gradient (Keras 3's ``keras.ops`` names).

Floats become Tensors; integers and booleans stay NumPy arrays viewed as
``EagerArray`` (a Tensor holds only floats, see ``ops._dtypes``)::

    ops.shape(x)                    (32, 200): a tuple of ints
    ops.cast(x, "int32")            an int32 EagerArray (no gradient: integers have none)
    ops.cast(mask, "float32")       a float32 Tensor
    ops.convert_to_tensor([1, 2])   an int32 EagerArray;  [1., 2.] -> a float32 Tensor
    ops.convert_to_numpy(t)         a plain np.ndarray

Of these only a float-to-float ``cast`` is in the graph: d/dx = 1, the
gradient cast back to x's dtype.  ``stop_gradient`` is the same values cut
off from it (``Tensor.detach``).
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops._dtypes import FLOAT_DTYPES, as_result, is_exact, plain_values, requested_dtype, resolved
from minidl.tensor import Tensor


def shape(x):
    """The shape of ``x`` as a tuple of Python ints (``ops.shape(x)[-1]``).

    A symbolic tensor of a functional model under construction gives its symbolic
    shape, None for sizes not known yet (the batch), as Keras 3's does.
    """
    if hasattr(type(x), "_resolve_symbolic"):
        try:
            x = resolved(x)
        except TypeError:  # building a model: no values, but a shape
            return tuple(x.shape)
    return tuple(int(size) for size in np.shape(x.data if isinstance(x, Tensor) else x))


def cast(x, dtype):
    """``x`` in ``dtype``: a Tensor for float32/float64 (float to float is
    differentiable: d/dx = 1), an EagerArray for integer and bool dtypes (floats
    truncated toward zero, as TensorFlow and NumPy do; bool is ``x != 0``)."""
    dtype = requested_dtype(dtype, "cast")
    x = resolved(x)
    if dtype not in FLOAT_DTYPES:
        return as_result(plain_values(x).astype(dtype))
    x = x if isinstance(x, Tensor) else Tensor(plain_values(x), dtype=dtype)
    if x.dtype == dtype:
        return x
    source = x.dtype
    return record(x.data.astype(dtype), (x,), lambda grad: (grad.astype(source),))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` (numbers, a list, an array, a Tensor) as Keras 3's tensor: floats as a
    Tensor (Python floats float32, a NumPy array its own dtype), integers and
    booleans as an EagerArray (Python ints int32).  ``dtype`` converts as ``cast``.
    A Tensor comes back as it is (the same object, still in the graph).

    minidl's tensors are all dense: ``sparse=True`` or ``ragged=True`` is refused.
    """
    if sparse or ragged:
        raise NotImplementedError(
            f"convert_to_tensor: minidl tensors are dense; sparse={sparse!r}, ragged={ragged!r} "
            "is not supported (leave both unset)."
        )
    x = resolved(x)
    if dtype is not None:
        return cast(x, dtype)
    if isinstance(x, Tensor):
        return x
    if is_exact(x):
        return as_result(plain_values(x))
    return Tensor(plain_values(x))


def convert_to_numpy(x):
    """``x`` as a plain NumPy array (a copy of a Tensor's values; an EagerArray as
    a plain ndarray; numbers and lists through ``np.asarray``)."""
    x = resolved(x)
    if isinstance(x, Tensor):
        return x.data.copy()
    return np.asarray(x).view(np.ndarray)


def stop_gradient(variable):
    """The same values, with no way back into the graph: the gradient stops here
    (Keras 3's ``stop_gradient``; minidl's ``Tensor.detach``)."""
    variable = resolved(variable)
    if isinstance(variable, Tensor):
        return variable.detach()
    return convert_to_tensor(variable)
