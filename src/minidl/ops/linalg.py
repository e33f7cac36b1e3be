"""Linear algebra: matmul, dot (NumPy's ``np.dot``) and norm.

For y = a @ b and an output gradient g (shaped like y):
    dL/da = g @ b^T        dL/db = a^T @ g
Plain 2-D products go through the kernel backend's ``gemm`` (BLAS), whose
transpose flags give a^T and b^T without copying; other cases (1-D vectors,
stacks of matrices that broadcast) use NumPy's ``matmul`` rules.  ``dot`` is
a matmul between reshaped operands.

``norm`` is built from other ops (abs, sum, max, sqrt, ...), whose backwards
give its gradient, except the norms made of singular values ("nuc", 2, -2):
for x = U diag(s) V^T, d s_i / d x = u_i v_i^T, so the gradient is
U diag(g) V^T.  (This is also ``keras.ops.linalg.norm``: ``ops.linalg`` is
this module.)
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record, unbroadcast
from minidl.ops.arithmetic import _pair, as_tensor, mul, pow
from minidl.ops.elementwise import abs, sqrt
from minidl.ops.reductions import max, min, sum
from minidl.ops.shaping import reshape, transpose


def _matmul_2d(a, b):
    """(N, K) @ (K, M) through the kernels' gemm."""
    gemm = _kernels.current.gemm
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    gemm(a.data, b.data, out)

    def backward(grad):
        grad = np.ascontiguousarray(grad)
        grad_a = grad_b = None
        if a.requires_grad:
            grad_a = np.empty_like(a.data)
            gemm(grad, b.data, grad_a, trans_b=True)
        if b.requires_grad:
            grad_b = np.empty_like(b.data)
            gemm(a.data, grad, grad_b, trans_a=True)
        return grad_a, grad_b

    return record(out, (a, b), backward)


def matmul(a, b):
    """a @ b with NumPy's rules: (..., N, K) @ (..., K, M) -> (..., N, M).

    A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector, and the
    added axis is dropped from the result.  Leading (batch) axes broadcast.
    """
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: needs arrays of at least 1 axis, received {a.shape} @ {b.shape}.")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: inner sizes differ, {a.shape} @ {b.shape}; the last axis of the "
            "first must equal the second-to-last of the second (transpose one of them?)."
        )
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype:
        return _matmul_2d(a, b)
    out = np.matmul(a.data, b.data)

    def backward(grad):
        a2 = a.data if a.ndim > 1 else a.data[None, :]
        b2 = b.data if b.ndim > 1 else b.data[:, None]
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = unbroadcast(grad @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ grad, b2.shape).reshape(b.shape)
        return grad_a, grad_b

    return record(out, (a, b), backward)


def dot(x1, x2):
    """NumPy's ``np.dot``: a product of a number and a tensor; of two vectors, their
    inner product; otherwise the sum over the last axis of x1 and the second-to-last
    of x2 (the last when x2 is a vector): (A..., k) . (B..., k, m) -> (A..., B..., m)."""
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner:
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape} do not line up: the last axis of the "
            f"first ({a.shape[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} "
            f"axis of the second ({inner})."
        )
    if b.ndim == 1:
        return matmul(a, b)
    # x2's summed axis first, its others flattened: (k, B... * m)
    order = (b.ndim - 2, *range(b.ndim - 2), b.ndim - 1)
    columns = reshape(transpose(b, order), (inner, -1))
    product = matmul(reshape(a, (-1, inner)), columns)
    return reshape(product, a.shape[:-1] + b.shape[:-2] + b.shape[-1:])


def _singular_values(x):
    """The singular values of the matrices in x's last two axes.
    d s_i / d x = u_i v_i^T, so backward gives U diag(grad) V^T."""
    u, s, vt = np.linalg.svd(x.data, full_matrices=False)

    def backward(grad):
        return ((u * grad[..., None, :]) @ vt,)

    return record(s, (x,), backward)


def norm(x, ord=None, axis=None, keepdims=False):
    """A vector norm along ``axis`` (an int), or a matrix norm over ``axis`` (two
    axes); with ``axis`` None, the norm of the whole of x (a vector norm of a 1-D x, a
    matrix norm of a 2-D x, the 2-norm of all values when ``ord`` is None).

    Vector ``ord``: None or 2 sqrt(sum x^2); 1 sum |x|; inf max |x|; -inf min |x|;
    0 the count of non-zero values; p (sum |x|^p)^(1/p).
    Matrix ``ord``: None or "fro" sqrt(sum x^2); "nuc" the sum of the singular values;
    2 / -2 the largest / smallest singular value; 1 / -1 the largest / smallest
    column sum of |x|; inf / -inf the largest / smallest row sum of |x|.
    """
    x = as_tensor(x)
    if axis is None:
        if ord is None:
            out = sqrt(sum(mul(x, x)))
            return reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} without axis needs a vector or a matrix, "
                             f"received a tensor of shape {x.shape}; give axis.")
        axis = tuple(range(x.ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    try:
        axes = np.lib.array_utils.normalize_axis_tuple(axes, x.ndim)
    except np.exceptions.AxisError as error:
        raise ValueError(f"norm: axis {axis} for a tensor of shape {x.shape}: {error}.") from None
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be one axis or two, received {axis}.")


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return sqrt(sum(mul(x, x), axis, keepdims))
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give two axes for it.")
    if ord == np.inf:
        return max(abs(x), axis, keepdims)
    if ord == -np.inf:
        return min(abs(x), axis, keepdims)
    if ord == 0:
        return as_tensor(np.sum(x.data != 0, axis=axis, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return sum(abs(x), axis, keepdims)
    return pow(sum(pow(abs(x), float(ord)), axis, keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord is None or ord == "fro":
        return sqrt(sum(mul(x, x), axes, keepdims))
    if ord in ("nuc", 2, -2):
        rest = [a for a in range(x.ndim) if a not in axes]
        values = _singular_values(transpose(x, (*rest, rows, cols)))
        out = {"nuc": sum, 2: max, -2: min}[ord](values, -1)
        if keepdims:
            out = reshape(out, tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
        return out
    if ord in (1, -1, np.inf, -np.inf):
        summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
        totals = sum(abs(x), summed, keepdims=True)
        out = (max if ord > 0 else min)(totals, picked, keepdims=True)
        return out if keepdims else reshape(
            out, tuple(n for a, n in enumerate(x.shape) if a not in axes))
    raise ValueError(f"norm: ord={ord!r} is not a matrix norm; use None, 'fro', 'nuc', "
                     "1, -1, 2, -2, inf or -inf.")
