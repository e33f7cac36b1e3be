"""What ``keras.ops`` adds to each op: integers stay integers.

``minidl.ops.add`` (what ``keras.ops.add`` is) is the op of ``ops/arithmetic.py``
wrapped once by ``keras_op``.  Given only integers or booleans
(``ops.add([1, 2], [3, 4])``), an op marked with ``integers_by_numpy`` (see
``ops._dtypes``) answers as Keras 3 does, in integers: the op's NumPy twin
computes the result, an int32 EagerArray.

On Tensors the op runs as it is; the wrapper costs one function call.  Inside
minidl, ops call each other directly (``from minidl.ops.arithmetic import add``),
without it.
"""

from __future__ import annotations

import functools

from minidl.ops._dtypes import integer_result
from minidl.tensor import Tensor


def keras_op(name, function):
    """``function`` (the op ``minidl.ops.<name>``) as ``keras.ops.<name>``."""
    operands = getattr(function, "integers_by_numpy", (None, 0))[1]

    @functools.wraps(function)
    def op(*args, **kwargs):
        for value in args[:operands]:
            if isinstance(value, Tensor):
                break  # the common case: a Tensor among the operands
        else:  # (no Tensor: maybe integers only)
            result = integer_result(function, args, kwargs) if operands else None
            if result is not None:
                return result
        return function(*args, **kwargs)

    return op
