"""``conv2d_transpose``: the transposed convolution of NHWC images (Keras's Conv2DTranspose).

A strided convolution shrinks an image; its transpose grows one by the same
rule run backwards: every input pixel adds a copy of the kernel, weighted by
its value, into the output window it maps to.  That is exactly what a
convolution's backward pass does with its output gradient (col2im of
``grad @ w.T``), so the transposed convolution is built from the same
kernels as ``conv2d`` -- its forward is conv2d's input gradient, its backward
is a conv2d (im2col, then products):

    x (N, H, W, C), w (kh, kw, F, C), b (F,)       w: Keras's layout, which is
                                                   the HWIO kernel of the
                                                   convolution F -> C it undoes
    forward   cols = x2 @ w2.T                     x2 (N*H*W, C), w2 (kh*kw*F, C)
              out  = col2im(cols) + b              (N, OH, OW, F)
    backward  gcols  = im2col(g)                   g = dL/dout, (N*H*W, kh*kw*F)
              dL/dx  = gcols @ w2                  (the convolution of g with w)
              dL/dw  = gcols.T @ x2
              dL/db  = g summed over N, OH, OW

Output size along one axis (Keras's ``deconv_output_length``), input ``n``,
kernel ``k``, stride ``s``:

* ``"valid"``: ``n * s + max(k - s, 0)``, or ``(n - 1) * s + k + output_padding``
* ``"same"``: ``n * s``, or ``(n - 1) * s + k - 2 * (k // 2) + output_padding``

and the convolution it undoes, over an image of that size, pads as conv2d
pads (``_geometry``): nothing for "valid", ``max((n - 1) * s + k - out, 0) // 2``
pixels before for "same".  ``output_padding`` (each less than its stride)
picks among the output sizes a stride-``s`` convolution maps onto ``n``.

``dilation_rate`` d (stride 1, as Keras requires): ``k`` above is the dilated
span ``(k - 1) * d + 1``, and the op runs on the kernel spread out to that span
with zeros between its taps (``spread_kernel``).
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.autograd import record
from minidl.ops._geometry import check_image_batch, check_padding, pair
from minidl.ops.arithmetic import as_tensor
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import getitem, reshape, transpose


def transposed_output_length(length, kernel, stride, padding, output_padding=None):
    """Output size along one axis (see the module docstring); None stays None."""
    if length is None:
        return None
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def check_output_padding(output_padding, strides, who):
    """``output_padding`` (None, an int or a pair) as None or a pair of ints in
    [0, stride), else a ValueError."""
    if output_padding is None:
        return None
    received = output_padding
    if isinstance(output_padding, (int, np.integer)) and not isinstance(output_padding, bool):
        output_padding = (int(output_padding),) * 2
    try:
        output_padding = tuple(int(p) for p in output_padding)
    except (TypeError, ValueError):
        output_padding = ()
    if len(output_padding) != 2 or min(output_padding) < 0:
        raise ValueError(
            f"{who}: output_padding must be None, a non-negative integer or a pair of them, "
            f"received {received!r}."
        )
    if any(p >= s for p, s in zip(output_padding, strides)):
        raise ValueError(
            f"{who}: output_padding must be smaller than the strides, received "
            f"output_padding={received!r} with strides={tuple(strides)}."
        )
    return output_padding


def transposed_geometry(length, kernel, stride, padding, output_padding, who):
    """``(out, pad_before)`` along one axis: the output size, and the padding of the
    convolution (out -> length) this transposes.  A ValueError when that convolution
    does not give back ``length`` (Keras's own formula allows it for "same" with an
    even kernel and output_padding=0; TensorFlow then fails when called)."""
    out = transposed_output_length(length, kernel, stride, padding, output_padding)
    if padding == "valid":
        back = (out - kernel) // stride + 1
        pad_before = 0
    else:
        back = -(-out // stride)
        pad_before = max((length - 1) * stride + kernel - out, 0) // 2
    if back != length:
        raise ValueError(
            f"{who}: with kernel size {kernel}, stride {stride}, padding={padding!r} and "
            f"output_padding={output_padding}, an input of size {length} gives size {out}, "
            f"which a convolution does not map back to {length}; use output_padding=None "
            f"(size {length * stride}) or a larger output_padding."
        )
    return out, pad_before


def conv2d_transpose(x, w, b=None, strides=(1, 1), padding="valid", output_padding=None,
                     dilation_rate=(1, 1)):
    """The transposed convolution of ``x`` with ``w``, plus ``b``.

    Shapes: x (N, H, W, C), w (kh, kw, F, C), b (F,) or None; the result is
    (N, OH, OW, F) (sizes: see the module docstring).  ``strides`` and
    ``dilation_rate``: ints or pairs, not both above 1 (as in Keras);
    ``padding``: "valid" or "same"; ``output_padding``: None, an int or a pair.
    The computation runs in w's dtype.
    """
    w = as_tensor(w)
    x = as_tensor(x, w)
    b = None if b is None else as_tensor(b, w)
    strides = pair(strides, "strides", "conv2d_transpose")
    dilation = pair(dilation_rate, "dilation_rate", "conv2d_transpose")
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"conv2d_transpose: strides > 1 together with dilation_rate > 1 is not supported "
            f"(as in Keras); received strides={strides}, dilation_rate={dilation}."
        )
    padding = check_padding(padding, "conv2d_transpose")
    output_padding = check_output_padding(output_padding, strides, "conv2d_transpose")
    check_image_batch(x, "conv2d_transpose")
    if w.ndim != 4:
        raise ValueError(
            "conv2d_transpose: kernel must be 4-D (height, width, filters, in_channels), "
            f"received {w.shape}."
        )
    n, h, width, c = x.shape
    kh, kw, f, kc = w.shape
    if kc != c:
        raise ValueError(
            f"conv2d_transpose: input has {c} channels (shape {x.shape}) but the kernel "
            f"{w.shape} expects {kc}."
        )
    if b is not None and b.shape != (f,):
        raise ValueError(f"conv2d_transpose: bias must have shape ({f},), received {b.shape}.")
    if dilation != (1, 1):
        w = spread_kernel(w, dilation)
        kh, kw = w.shape[:2]
    extra = output_padding or (None, None)
    out_h, pad_top = transposed_geometry(h, kh, strides[0], padding, extra[0], "conv2d_transpose")
    out_w, pad_left = transposed_geometry(width, kw, strides[1], padding, extra[1],
                                          "conv2d_transpose")
    # the window walk of the convolution (out_h, out_w) -> (h, width) this transposes
    geometry = (kh, kw, *strides, pad_top, pad_left, h, width)

    kernels = _kernels.current
    dtype = w.dtype
    x2 = np.ascontiguousarray(x.data, dtype=dtype).reshape(n * h * width, c)
    w2 = np.ascontiguousarray(w.data).reshape(kh * kw * f, c)
    cols = np.empty((n * h * width, kh * kw * f), dtype)
    kernels.gemm(x2, w2, cols, trans_b=True)
    out = np.empty((n, out_h, out_w, f), dtype)
    kernels.col2im(cols, *geometry, out)
    if b is not None:
        out += b.data

    def backward(grad):
        kernels = _kernels.current
        grad_out = np.ascontiguousarray(grad, dtype=dtype)
        grad_cols = np.empty((n * h * width, kh * kw * f), dtype)
        kernels.im2col(grad_out, *geometry, grad_cols)
        grad_x = None
        if x.requires_grad:
            grad_x = np.empty_like(x2)
            kernels.gemm(grad_cols, w2, grad_x)
            grad_x = grad_x.reshape(x.shape).astype(x.dtype, copy=False)
        grad_w = np.empty_like(w2)
        kernels.gemm(grad_cols, x2, grad_w, trans_a=True)
        grad_b = None
        if b is not None and b.requires_grad:
            grad_b = grad_out.sum(axis=(0, 1, 2)).astype(b.dtype, copy=False)
        return (grad_x, grad_w.reshape(w.shape)) + (() if b is None else (grad_b,))

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)


def spread_kernel(w, dilation):
    """A (kh, kw, ...) kernel with d - 1 zeros after each tap along its two first axes,
    cut to the dilated span ((kh - 1) * dh + 1, (kw - 1) * dw + 1): the undilated kernel
    that does what ``w`` dilated by ``dilation`` does.  Through ops (pad, reshapes, a
    slice), so the gradient of ``w`` is the spread kernel's, gathered back at the taps."""
    kh, kw, *rest = w.shape
    (dh, dw), size = dilation, int(np.prod(rest))
    taps = zero_pad2d(reshape(w, (kh * kw, 1, 1, size)), ((0, dh - 1), (0, dw - 1)))
    spread = reshape(transpose(reshape(taps, (kh, kw, dh, dw, size)), (0, 2, 1, 3, 4)),
                     (kh * dh, kw * dw, *rest))
    return getitem(spread, (slice(0, (kh - 1) * dh + 1), slice(0, (kw - 1) * dw + 1)))
