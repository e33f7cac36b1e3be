"""Argument checks shared by both kernel backends.

Compiled loops trust their arguments: a wrong shape there reads or writes
memory it does not own.  So every kernel calls one of these first, and a
mistake becomes a ``ValueError`` that says which argument is wrong and what
was expected -- never a crash.
"""

from __future__ import annotations

import numpy as np

from minidl._kernels import ACTIVATIONS

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INT64 = np.dtype(np.int64)
# the C function behind np.may_share_memory, without numpy's dispatch layer
# (half the cost; these checks run on every kernel call)
_may_share_memory = getattr(np.may_share_memory, "_implementation", np.may_share_memory)


def _array(kernel, name, a, ndim, dtype=None, writeable=False):
    """Check ``a`` is a C-contiguous ndarray of float32/float64 (or ``dtype``)."""
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{kernel}: {name} must be a numpy array, received {type(a).__name__}.")
    if a.ndim != ndim:
        raise ValueError(
            f"{kernel}: {name} must have {ndim} dimensions, received shape {a.shape}."
        )
    if dtype is None:
        if a.dtype not in _FLOATS:
            raise ValueError(f"{kernel}: {name} must be float32 or float64, received {a.dtype}.")
    elif a.dtype != dtype:
        raise ValueError(f"{kernel}: {name} must be {dtype}, received {a.dtype}.")
    if not a.flags.c_contiguous:
        raise ValueError(
            f"{kernel}: {name} must be C-contiguous; pass np.ascontiguousarray({name})."
        )
    if writeable and not a.flags.writeable:
        raise ValueError(f"{kernel}: {name} is an output and must be writeable.")


def _same_dtype(kernel, **arrays):
    first = None
    for a in arrays.values():
        if a is not None:
            if first is None:
                first = a.dtype
            elif a.dtype != first:
                listed = ", ".join(f"{name}={b.dtype}" for name, b in arrays.items() if b is not None)
                raise ValueError(f"{kernel}: all float arrays must share one dtype, received {listed}.")


def _separate(kernel, outputs, inputs):
    """No output may share memory with another argument.

    A kernel that reads an input while it writes an output over the same
    memory reads values it has already overwritten; the compiled loops and
    the NumPy twins would then disagree.  ``np.may_share_memory`` compares
    the address ranges, so it is quick.
    """
    checked = list(inputs.items())
    for out_name, out in outputs.items():
        if out is None:
            continue
        for name, other in checked:
            if other is not None and _may_share_memory(out, other):
                raise ValueError(
                    f"{kernel}: {out_name} shares memory with {name}; outputs must be "
                    "separate arrays (pass a fresh np.empty_like(...))."
                )
        checked.append((out_name, out))


def _shape(kernel, name, a, expected):
    if a.shape != tuple(expected):
        raise ValueError(f"{kernel}: {name} must have shape {tuple(expected)}, received {a.shape}.")


def _positive_int(kernel, name, value, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{kernel}: {name} must be an integer, received {value!r}.")
    if value < minimum:
        raise ValueError(f"{kernel}: {name} must be >= {minimum}, received {value}.")


def check_activation(kernel, activation):
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"{kernel}: activation must be one of {ACTIVATIONS}, received {activation!r}."
        )


def check_gemm(a, b, out, trans_a, trans_b):
    k = "gemm"
    _array(k, "a", a, 2)
    _array(k, "b", b, 2)
    _array(k, "out", out, 2, writeable=True)
    _same_dtype(k, a=a, b=b, out=out)
    m, inner = a.shape[::-1] if trans_a else a.shape
    inner_b, n = b.shape[::-1] if trans_b else b.shape
    if inner != inner_b:
        raise ValueError(f"gemm: op(a) is {(m, inner)} and op(b) is {(inner_b, n)}; inner sizes differ.")
    _shape(k, "out", out, (m, n))
    _separate(k, {"out": out}, {"a": a, "b": b})


def _forward_arrays(kernel, ndim, x, w, b, out):
    """A forward kernel's arrays: x, w (and b) readable, out writeable, one float dtype."""
    _array(kernel, "x", x, ndim)
    _array(kernel, "w", w, ndim)
    _array(kernel, "out", out, ndim, writeable=True)
    if b is not None:
        _array(kernel, "b", b, 1)
    _same_dtype(kernel, x=x, w=w, b=b, out=out)


def check_dense(x, w, b, out, activation):
    k = "dense_forward"
    _forward_arrays(k, 2, x, w, b, out)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{k}: x has {x.shape[1]} features per row, w expects {w.shape[0]} (x {x.shape}, w {w.shape}).")
    if b is not None:
        _shape(k, "b", b, (w.shape[1],))
    _shape(k, "out", out, (x.shape[0], w.shape[1]))
    check_activation(k, activation)
    _separate(k, {"out": out}, {"x": x, "w": w, "b": b})


def _backward_arrays(kernel, ndim, x, w, out, grad_out, grad_x, grad_w, grad_b):
    """A backward kernel's arrays: the forward's x, w, out and grad_out readable, the
    gradients (grad_x and grad_b optional) writeable and shaped like what they are of."""
    _array(kernel, "x", x, ndim)
    _array(kernel, "w", w, ndim)
    _array(kernel, "out", out, ndim)
    _array(kernel, "grad_out", grad_out, ndim)
    _array(kernel, "grad_w", grad_w, ndim, writeable=True)
    if grad_x is not None:
        _array(kernel, "grad_x", grad_x, ndim, writeable=True)
        _shape(kernel, "grad_x", grad_x, x.shape)
    if grad_b is not None:
        _array(kernel, "grad_b", grad_b, 1, writeable=True)
        _shape(kernel, "grad_b", grad_b, (w.shape[-1],))
    _same_dtype(kernel, x=x, w=w, out=out, grad_out=grad_out, grad_x=grad_x, grad_w=grad_w,
                grad_b=grad_b)


def check_dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation):
    k = "dense_backward"
    _backward_arrays(k, 2, x, w, out, grad_out, grad_x, grad_w, grad_b)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{k}: x {x.shape} and w {w.shape} do not multiply.")
    _shape(k, "out", out, (x.shape[0], w.shape[1]))
    _shape(k, "grad_out", grad_out, out.shape)
    _shape(k, "grad_w", grad_w, w.shape)
    check_activation(k, activation)
    _separate(k, {"grad_x": grad_x, "grad_w": grad_w, "grad_b": grad_b},
              {"x": x, "w": w, "out": out, "grad_out": grad_out})


def check_window(kernel, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, h, w):
    """Window sizes, strides and paddings are sane, and every window touches the image."""
    for name, value in (("kernel height", kh), ("kernel width", kw),
                        ("stride height", sh), ("stride width", sw),
                        ("out_h", out_h), ("out_w", out_w)):
        _positive_int(kernel, name, value)
    _positive_int(kernel, "pad_top", pad_top, 0)
    _positive_int(kernel, "pad_left", pad_left, 0)
    if pad_top >= kh or pad_left >= kw:
        raise ValueError(
            f"{kernel}: padding ({pad_top}, {pad_left}) must be smaller than the window ({kh}, {kw})."
        )
    if (out_h - 1) * sh - pad_top >= h or (out_w - 1) * sw - pad_left >= w:
        raise ValueError(
            f"{kernel}: an output of {out_h}x{out_w} with strides ({sh}, {sw}) reaches past "
            f"the {h}x{w} input; the last window would lie entirely in padding."
        )


def check_im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, kernel):
    _array(kernel, "image", x, 4, writeable=(kernel == "col2im"))
    _array(kernel, "cols", cols, 2, writeable=(kernel == "im2col"))
    _same_dtype(kernel, image=x, cols=cols)
    n, h, w, c = x.shape
    check_window(kernel, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, h, w)
    _shape(kernel, "cols", cols, (n * out_h * out_w, kh * kw * c))
    if kernel == "im2col":
        _separate(kernel, {"cols": cols}, {"image": x})
    else:
        _separate(kernel, {"image": x}, {"cols": cols})


def check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation, k="conv2d_forward"):
    _forward_arrays(k, 4, x, w, b, out)
    _conv_shapes(k, x, w, out, sh, sw, pad_top, pad_left)
    if b is not None:
        _shape(k, "b", b, (w.shape[3],))
    check_activation(k, activation)
    _separate(k, {"out": out}, {"x": x, "w": w, "b": b})


def _conv_shapes(kernel, x, w, out, sh, sw, pad_top, pad_left):
    """x (N, H, W, C), w (kh, kw, C, F), out (N, OH, OW, F) inside the padded image."""
    n, h, width, c = x.shape
    kh, kw, kc, f = w.shape
    if kc != c:
        raise ValueError(f"{kernel}: x has {c} channels (shape {x.shape}), w {w.shape} expects {kc}.")
    if out.shape[0] != n or out.shape[3] != f:
        raise ValueError(f"{kernel}: out {out.shape} must be (N, OH, OW, F) = ({n}, OH, OW, {f}).")
    check_window(kernel, kh, kw, sh, sw, pad_top, pad_left, out.shape[1], out.shape[2], h, width)


def check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                          activation, k="conv2d_backward"):
    _backward_arrays(k, 4, x, w, out, grad_out, grad_x, grad_w, grad_b)
    _conv_shapes(k, x, w, out, sh, sw, pad_top, pad_left)
    _shape(k, "grad_out", grad_out, out.shape)
    _shape(k, "grad_w", grad_w, w.shape)
    check_activation(k, activation)
    _separate(k, {"grad_x": grad_x, "grad_w": grad_w, "grad_b": grad_b},
              {"x": x, "w": w, "out": out, "grad_out": grad_out})


def _winograd_kernel(w, kernel):
    """Winograd's F(4x4, 3x3) is for 3x3 kernels (its kernels take no strides: 1)."""
    if w.shape[0] != 3 or w.shape[1] != 3:
        raise ValueError(f"{kernel}: w {w.shape} must be a 3x3 kernel (3, 3, C, F); other sizes "
                         "go through conv2d_forward/conv2d_backward or im2col.")


def check_conv2d_winograd(x, w, b, pad_top, pad_left, out, activation):
    k = "conv2d_winograd_forward"
    check_conv2d(x, w, b, 1, 1, pad_top, pad_left, out, activation, k)
    _winograd_kernel(w, k)


def check_conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w, grad_b,
                                   activation):
    k = "conv2d_winograd_backward"
    check_conv2d_backward(x, w, out, grad_out, 1, 1, pad_top, pad_left, grad_x, grad_w, grad_b,
                          activation, k)
    _winograd_kernel(w, k)


def check_pool(x, ph, pw, sh, sw, pad_top, pad_left, out, argmax, backward=False):
    """A pooling's image ``x`` and pooled ``out``; the forward writes ``out``, the
    (average-pooling) backward writes ``x`` (the image's gradient)."""
    k = "avg_pool2d_backward" if backward else "pool2d"
    _array(k, "grad_x" if backward else "input", x, 4, writeable=backward)
    _array(k, "grad_out" if backward else "output", out, 4, writeable=not backward)
    _same_dtype(k, input=x, output=out)
    n, h, w, c = x.shape
    if out.ndim != 4 or out.shape[0] != n or out.shape[3] != c:
        raise ValueError(f"{k}: output {out.shape} must be (N, OH, OW, C) for input {x.shape}.")
    check_window(k, ph, pw, sh, sw, pad_top, pad_left, out.shape[1], out.shape[2], h, w)
    if argmax is not None:
        _array(k, "argmax", argmax, 4, dtype=_INT64, writeable=True)
        _shape(k, "argmax", argmax, out.shape)
    _separate(k, {"output": out, "argmax": argmax}, {"input": x})


def check_pool_backward(grad_out, argmax, grad_x):
    k = "max_pool2d_backward"
    _array(k, "grad_out", grad_out, 4)
    _array(k, "argmax", argmax, 4, dtype=_INT64)
    _array(k, "grad_x", grad_x, 4, writeable=True)
    _same_dtype(k, grad_out=grad_out, grad_x=grad_x)
    _shape(k, "argmax", argmax, grad_out.shape)
    if grad_out.shape[0] != grad_x.shape[0]:
        raise ValueError(f"{k}: grad_out {grad_out.shape} and grad_x {grad_x.shape} differ in batch size.")
    _separate(k, {"grad_x": grad_x}, {"grad_out": grad_out, "argmax": argmax})


def check_argmax_range(argmax, size):
    """Every index in ``argmax`` must point inside one image of ``size`` values."""
    if argmax.size and (argmax.min() < 0 or argmax.max() >= size):
        raise ValueError(
            f"max_pool2d_backward: argmax holds indices outside [0, {size}); "
            "it must come from max_pool2d_forward on an input of the same shape."
        )


def check_softmax_xent(logits, labels, probs, losses, backward=False):
    """The forward's arguments (logits, labels, probs, losses): probs and losses written.
    The backward's (grad_logits, labels, probs, grad_losses) fill the same roles, checked
    by the same rules, with grad_logits the one written."""
    k = "softmax_cross_entropy_backward" if backward else "softmax_cross_entropy"
    _array(k, "grad_logits" if backward else "logits", logits, 2, writeable=backward)
    _array(k, "probs", probs, 2, writeable=not backward)
    _array(k, "grad_losses" if backward else "losses", losses, 1, writeable=not backward)
    _same_dtype(k, logits=logits, probs=probs, losses=losses)
    n, c = logits.shape
    if c < 1:
        raise ValueError(f"{k}: logits need at least one class, received shape {logits.shape}.")
    _shape(k, "probs", probs, (n, c))
    _shape(k, "losses", losses, (n,))
    if not isinstance(labels, np.ndarray):
        raise ValueError(f"{k}: labels must be a numpy array, received {type(labels).__name__}.")
    if labels.ndim == 1:
        _array(k, "labels", labels, 1, dtype=_INT64)
        _shape(k, "labels", labels, (n,))
    else:
        _array(k, "labels", labels, 2)
        _same_dtype(k, logits=logits, labels=labels)
        _shape(k, "labels", labels, (n, c))
    _separate(k, {"probs": probs, "losses": losses}, {"logits": logits, "labels": labels})


def check_softmax(logits, probs):
    """logits and probs: (N, C) arrays of one float dtype, C >= 1, probs a separate output."""
    k = "softmax_forward"
    _array(k, "logits", logits, 2)
    _array(k, "probs", probs, 2, writeable=True)
    _same_dtype(k, logits=logits, probs=probs)
    if logits.shape[1] < 1:
        raise ValueError(f"{k}: logits need at least one class, received shape {logits.shape}.")
    _shape(k, "probs", probs, logits.shape)
    _separate(k, {"probs": probs}, {"logits": logits})


def check_label_range(labels, classes):
    if labels.ndim == 1 and labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"softmax_cross_entropy: labels must be in [0, {classes}), received values from "
            f"{labels.min()} to {labels.max()}."
        )


def check_optimizer(kernel, param, grad, *state):
    _array(kernel, "param", param, 1, writeable=True)
    _array(kernel, "grad", grad, 1)
    _shape(kernel, "grad", grad, param.shape)
    outputs = {"param": param}
    for i, buffer in enumerate(state):
        if buffer is not None:
            name = f"state[{i}]"
            _array(kernel, name, buffer, 1, writeable=True)
            _shape(kernel, name, buffer, param.shape)
            outputs[name] = buffer
    _same_dtype(kernel, grad=grad, **outputs)
    _separate(kernel, outputs, {"grad": grad})


def check_required_state(kernel, **state):
    """State buffers a rule cannot go without (check_optimizer lets None through for the
    optional ones, such as SGD's velocity): None here is a ValueError naming the buffer."""
    for name, buffer in state.items():
        if buffer is None:
            raise ValueError(f"{kernel}: {name} must be a numpy array, received None.")


def _embedding_indices(kernel, indices):
    _array(kernel, "indices", indices, 1, dtype=_INT64)


def check_embedding(indices, weights, out, k="embedding_forward"):
    """indices (N,) int64, weights (V, D), out (N, D) of weights' dtype."""
    _embedding_indices(k, indices)
    _array(k, "weights", weights, 2)
    _array(k, "out", out, 2, writeable=True)
    _same_dtype(k, weights=weights, out=out)
    _shape(k, "out", out, (indices.shape[0], weights.shape[1]))
    _separate(k, {"out": out}, {"indices": indices, "weights": weights})


def check_embedding_backward(indices, grad_out, grad_weights, k="embedding_backward"):
    """indices (N,) int64, grad_out (N, D), grad_weights (V, D) of grad_out's dtype."""
    _embedding_indices(k, indices)
    _array(k, "grad_out", grad_out, 2)
    _array(k, "grad_weights", grad_weights, 2, writeable=True)
    _same_dtype(k, grad_out=grad_out, grad_weights=grad_weights)
    _shape(k, "grad_out", grad_out, (indices.shape[0], grad_weights.shape[1]))
    _separate(k, {"grad_weights": grad_weights}, {"indices": indices, "grad_out": grad_out})


def embedding_range_error(kernel, indices, position, vocabulary):
    """The ValueError for ``indices[position]`` outside [0, vocabulary)."""
    return ValueError(
        f"{kernel}: indices[{position}] = {int(indices[position])} is not in [0, {vocabulary}); "
        "nothing was read or written for it."
    )


def first_out_of_range(indices, vocabulary):
    """The position of the first of ``indices`` outside [0, vocabulary), or None."""
    bad = np.flatnonzero((indices < 0) | (indices >= vocabulary))
    return int(bad[0]) if bad.size else None


def check_confusion(kernel, labels, predictions, weights, thresholds, tp, fp, fn, tn,
                    num_thresholds=None):
    """The metrics kernels' arguments: labels, predictions and weights (or None) 1-D of
    one length; the counts tp, fp, fn, tn (each may be None) 1-D, writeable, one per
    threshold (``thresholds``, 1-D, or ``num_thresholds`` evenly spread ones, >= 2)."""
    _array(kernel, "labels", labels, 1)
    _array(kernel, "predictions", predictions, 1)
    _shape(kernel, "predictions", predictions, labels.shape)
    if weights is not None:
        _array(kernel, "weights", weights, 1)
        _shape(kernel, "weights", weights, labels.shape)
    if thresholds is not None:
        _array(kernel, "thresholds", thresholds, 1)
        _positive_int(kernel, "len(thresholds)", len(thresholds))
        count = len(thresholds)
    else:
        _positive_int(kernel, "num_thresholds", num_thresholds, minimum=2)
        count = num_thresholds
    outputs = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    for name, out in outputs.items():
        if out is not None:
            _array(kernel, name, out, 1, writeable=True)
            _shape(kernel, name, out, (count,))
    _same_dtype(kernel, labels=labels, predictions=predictions, weights=weights,
                thresholds=thresholds, **outputs)
    _separate(kernel, outputs, {"labels": labels, "predictions": predictions,
                                "weights": weights, "thresholds": thresholds})


_UINT8 = np.dtype(np.uint8)
_UINT64 = np.dtype(np.uint64)


def check_string_hash(kernel, data, offsets, out):
    """The string hashes' arguments: ``data`` (B,) uint8, the bytes of N strings end to
    end; ``offsets`` (N + 1,) int64, string i is ``data[offsets[i]:offsets[i + 1]]``
    (non-decreasing, from 0 or more up to at most B); ``out`` (N,) uint64, writeable."""
    _array(kernel, "data", data, 1, dtype=_UINT8)
    _array(kernel, "offsets", offsets, 1, dtype=_INT64)
    _array(kernel, "out", out, 1, dtype=_UINT64, writeable=True)
    _shape(kernel, "offsets", offsets, (out.shape[0] + 1,))
    if offsets[0] < 0 or offsets[-1] > data.shape[0] or (np.diff(offsets) < 0).any():
        raise ValueError(f"{kernel}: offsets must rise from 0 or more to at most len(data) = "
                         f"{data.shape[0]}, received offsets from {offsets[0]} to {offsets[-1]}"
                         f"{' that fall somewhere' if (np.diff(offsets) < 0).any() else ''}.")
    _separate(kernel, {"out": out}, {"data": data, "offsets": offsets})


def check_hash_key(kernel, key0, key1):
    """SipHash's key: two integers in [0, 2**64)."""
    for name, value in (("key0", key0), ("key1", key1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
                or not 0 <= value < 2 ** 64:
            raise ValueError(f"{kernel}: {name} must be an integer in [0, 2**64), received "
                             f"{value!r}.")
