"""What ``keras.ops`` adds to each op: integers stay integers, and symbolic tensors
become layers.

``minidl.ops.add`` (what ``keras.ops.add`` is) is the op of ``ops/arithmetic.py``
wrapped once by ``keras_op``, which handles two cases before and after it runs:

* Only integers or booleans in (``ops.add([1, 2], [3, 4])``), for an op marked
  with ``integers_by_numpy`` (see ``ops._dtypes``): Keras 3 answers in integers,
  so the op's NumPy twin computes the result, an int32 EagerArray.
* A symbolic tensor in: building a functional model, Keras 3 lets you call ops
  between layers::

      inputs = keras.Input(shape=(28, 28))
      x = keras.ops.expand_dims(inputs, -1)      # (None, 28, 28, 1)
      x = layers.Conv2D(8, 3)(x)

  The placeholder ``inputs`` holds no numbers, so the op cannot run: reading it
  raises ``SymbolicTensorError``, and the call becomes a layer instead
  (``layers.OpsLayer``: the op's name and its other arguments), which the model
  runs on real tensors later and which saves and loads like any layer.

On Tensors the op runs as it is; the wrapper costs one function call.  Inside
minidl, ops call each other directly (``from minidl.ops.arithmetic import add``),
without it.
"""

from __future__ import annotations

import functools

from minidl.errors import SymbolicTensorError
from minidl.ops._dtypes import integer_result
from minidl.tensor import Tensor


def keras_op(name, function):
    """``function`` (the op ``minidl.ops.<name>``) as ``keras.ops.<name>``."""
    operands = getattr(function, "integers_by_numpy", (None, 0))[1]

    @functools.wraps(function)
    def op(*args, **kwargs):
        try:
            for value in args[:operands]:
                if isinstance(value, Tensor):
                    break  # the common case: a Tensor among the operands
            else:  # (no Tensor: maybe integers only)
                result = integer_result(function, args, kwargs) if operands else None
                if result is not None:
                    return result
            return function(*args, **kwargs)
        except SymbolicTensorError:
            from minidl.layers.ops_layer import apply_op_layer  # (layers import ops)

            return apply_op_layer(name, args, kwargs)

    return op
