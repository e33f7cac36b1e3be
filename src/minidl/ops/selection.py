"""Ops that pick, position by position, one of two inputs: where, maximum, minimum.

``where(condition, a, b)`` takes ``a`` where ``condition`` holds and ``b``
elsewhere.  The output is one of the inputs at every position, so the
gradient goes back to the input that was picked, and the other gets 0.

``maximum(a, b)`` is ``where(a >= b, a, b)`` and ``minimum(a, b)`` is
``where(a <= b, a, b)``: on a tie the first input is picked and gets the
whole gradient, as TensorFlow's ``tf.maximum``/``tf.minimum`` do.  (PyTorch
splits a tie's gradient in halves; both are valid subgradients.)

Inputs broadcast against each other with NumPy's rules; each gradient is
summed back to its input's shape.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record, unbroadcast
from minidl.ops._dtypes import integers_by_numpy, plain_values
from minidl.ops.arithmetic import _pair


def where(condition, x1, x2):
    """``x1`` where ``condition`` is true, ``x2`` elsewhere (NumPy's ``np.where``).

    ``condition`` is a boolean array (not differentiated).  With a = x1, b = x2:
    d/da = 1 where picked, else 0;  d/db = 1 where picked, else 0.
    """
    a, b = _pair(x1, x2)
    condition = plain_values(condition).astype(bool)
    out = np.where(condition, a.data, b.data)

    def backward(grad):
        grad_a = unbroadcast(np.where(condition, grad, 0), a.shape) if a.requires_grad else None
        grad_b = unbroadcast(np.where(condition, 0, grad), b.shape) if b.requires_grad else None
        return grad_a, grad_b

    return record(out, (a, b), backward)


@integers_by_numpy(np.maximum, operands=2)
def maximum(x1, x2):
    """The larger of ``x1`` and ``x2``, elementwise; a tie's gradient goes to ``x1``."""
    a, b = _pair(x1, x2)
    return where(a.data >= b.data, a, b)


@integers_by_numpy(np.minimum, operands=2)
def minimum(x1, x2):
    """The smaller of ``x1`` and ``x2``, elementwise; a tie's gradient goes to ``x1``."""
    a, b = _pair(x1, x2)
    return where(a.data <= b.data, a, b)
