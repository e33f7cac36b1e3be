"""The kernels in plain NumPy: the math, written to be read.

These are the twins of the compiled kernels (``compiled.py`` and the ``*.pyx``
files beside it): same names, same arguments, same results.  They write their
results into the output arrays they are given (``out[...] = ...``) so the two
backends are interchangeable; ``MINIDL_KERNELS=reference`` runs minidl on them.

Shapes: N batch, K inputs, M outputs; images are NHWC (batch, height, width,
channels), convolution kernels HWIO (height, width, in, out) as Keras stores them.
"""

from __future__ import annotations

import numpy as np

from minidl._kernels.checks import (
    check_conv2d,
    check_conv2d_backward,
    check_conv2d_winograd,
    check_conv2d_winograd_backward,
    check_dense,
    check_dense_backward,
    check_embedding,
    check_embedding_backward,
    check_gemm,
    check_hash_key,
    check_im2col,
    check_optimizer,
    check_required_state,
    check_pool,
    check_pool_backward,
    check_argmax_range,
    check_label_range,
    check_softmax,
    check_softmax_xent,
    check_string_hash,
    embedding_range_error,
    first_out_of_range,
)

NAME = "reference"


# --- activations, as used by the fused dense epilogue ----------------------
def _activate(z, activation):
    """Apply ``activation`` to the pre-activation ``z`` in place."""
    if activation == "relu":
        np.maximum(z, 0, out=z)
    elif activation == "sigmoid":
        # 1 / (1 + e^-z), written so that large |z| never overflows
        np.negative(z, out=z)
        np.exp(np.minimum(z, 80), out=z)
        z += 1
        np.reciprocal(z, out=z)
    elif activation == "tanh":
        np.tanh(z, out=z)


def _activation_derivative(out, activation):
    """d act(z) / dz, written in terms of the output y = act(z).

    relu: 1 where y > 0;  sigmoid: y (1 - y);  tanh: 1 - y^2;  linear: 1.
    Using the output means the forward pass need not keep z.
    """
    if activation == "relu":
        return (out > 0).astype(out.dtype)
    if activation == "sigmoid":
        return out * (1 - out)
    if activation == "tanh":
        return 1 - out * out
    return None


# --- matrix products ------------------------------------------------------
def gemm(a, b, out, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
    """out = alpha * op(a) @ op(b) + beta * out, where op transposes if asked."""
    check_gemm(a, b, out, trans_a, trans_b)
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    product = a @ b
    if beta == 0.0:
        out[...] = alpha * product
    else:
        out[...] = alpha * product + beta * out


def dense_forward(x, w, b, out, activation="linear"):
    """out = act(x @ w + b).   x (N, K), w (K, M), b (M,) or None, out (N, M)."""
    check_dense(x, w, b, out, activation)
    np.matmul(x, w, out=out)
    if b is not None:
        out += b
    _activate(out, activation)


def dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation="linear"):
    """Gradients of a dense layer, given grad_out = dL/d(out).

    With z = x @ w + b and out = act(z):
        dL/dz = grad_out * act'(z)       (elementwise)
        dL/dx = dL/dz @ w.T              (N, K)
        dL/dw = x.T @ dL/dz              (K, M)
        dL/db = sum over the batch of dL/dz   (M,)
    ``grad_x`` or ``grad_b`` may be None when not needed.
    """
    check_dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation)
    derivative = _activation_derivative(out, activation)
    grad_z = grad_out if derivative is None else grad_out * derivative
    np.matmul(x.T, grad_z, out=grad_w)
    if grad_x is not None:
        np.matmul(grad_z, w.T, out=grad_x)
    if grad_b is not None:
        grad_b[...] = grad_z.sum(axis=0)


# --- convolution as a matrix product: im2col and its adjoint ----------------
def im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols):
    """Unfold image patches into rows, so convolution becomes one product.

    Each output pixel (n, oh, ow) gets one row of ``cols`` holding the
    kh x kw x C input values its kernel covers, in (i, j, c) order -- the
    order of a HWIO kernel reshaped to (kh*kw*C, filters).  Then
    ``conv(x, w) = cols @ w.reshape(-1, filters)``.  Pixels that fall in the
    padding read as 0.
    """
    check_im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "im2col")
    n, h, w, c = x.shape
    pad_bottom = max((out_h - 1) * sh + kh - h - pad_top, 0)
    pad_right = max((out_w - 1) * sw + kw - w - pad_left, 0)
    padded = np.pad(x, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)))
    patches = cols.reshape(n, out_h, out_w, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            patches[:, :, :, i, j, :] = padded[
                :, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :
            ]


def col2im(cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x):
    """The adjoint of im2col: add every entry of ``cols`` back to its pixel.

    A pixel covered by several kernel positions receives the sum of their
    gradients; entries that came from the padding are dropped.
    """
    check_im2col(grad_x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols, "col2im")
    n, h, w, c = grad_x.shape
    pad_bottom = max((out_h - 1) * sh + kh - h - pad_top, 0)
    pad_right = max((out_w - 1) * sw + kw - w - pad_left, 0)
    padded = np.zeros((n, h + pad_top + pad_bottom, w + pad_left + pad_right, c), grad_x.dtype)
    patches = cols.reshape(n, out_h, out_w, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            padded[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :] += (
                patches[:, :, :, i, j, :]
            )
    grad_x[...] = padded[:, pad_top : pad_top + h, pad_left : pad_left + w, :]


# --- direct convolution: one product per kernel tap --------------------------
def _padded(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w):
    """x with zeros around it: pad_top rows above, pad_left columns to the left, and
    below and to the right as many as the last window reaches past the image."""
    n, h, w, c = x.shape
    pad_bottom = max((out_h - 1) * sh + kh - h - pad_top, 0)
    pad_right = max((out_w - 1) * sw + kw - w - pad_left, 0)
    return np.pad(x, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)))


def _tap(padded, i, j, sh, sw, out_h, out_w):
    """The pixels tap (i, j) of the kernel reads, one per output pixel: the view
    padded[:, oh*sh + i, ow*sw + j, :] over all (oh, ow), shape (N, OH, OW, C)."""
    return padded[:, i : i + sh * out_h : sh, j : j + sw * out_w : sw, :]


def conv2d_forward(x, w, b, sh, sw, pad_top, pad_left, out, activation="linear"):
    """out = act(conv(x, w) + b), computed directly: a loop over the kernel's taps.

    x (N, H, W, C), w (kh, kw, C, F), b (F,) or None, out (N, OH, OW, F).  Output
    pixel (oh, ow) sees input pixel (oh*sh - pad_top + i, ow*sw - pad_left + j)
    through tap (i, j).  With xp the input padded with zeros,

        z[n, oh, ow, :] = b + sum over i < kh, j < kw of  xp[n, oh*sh + i, ow*sw + j, :] @ w[i, j]

    and for one tap the pixels it reads form one strided slice of xp,
    (N, OH, OW, C): a single product with w[i, j] (C, F) adds that tap's share
    to every output pixel at once.  No patch matrix is built; the compiled
    kernel (conv_direct.h) makes the same sum pixel by pixel in vector registers.
    """
    check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation)
    n, out_h, out_w, f = out.shape
    kh, kw = w.shape[:2]
    padded = _padded(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w)
    z = np.zeros(out.shape, x.dtype)
    for i in range(kh):
        for j in range(kw):
            z += _tap(padded, i, j, sh, sw, out_h, out_w) @ w[i, j]
    if b is not None:
        z += b
    _activate(z, activation)
    out[...] = z


def conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                    activation="linear"):
    """The gradients of ``conv2d_forward``, tap by tap.

    With dL/dz = grad_out * act'(out), (N, OH, OW, F), and for each tap (i, j)
    its slice xp_ij = xp[:, i::sh, j::sw, :] (N, OH, OW, C) as in the forward:

        grad_w[i, j]  = xp_ij^T @ dL/dz   (summed over n, oh, ow)      (C, F)
        dL/dxp_ij    += dL/dz @ w[i, j]^T                              (N, OH, OW, C)
        grad_b        = dL/dz summed over n, oh, ow                    (F,)

    and grad_x is dL/dxp without its padding.  ``grad_out`` is only read.
    """
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                          activation)
    n, out_h, out_w, f = out.shape
    kh, kw, c, _ = w.shape
    derivative = _activation_derivative(out, activation)
    grad_z = grad_out if derivative is None else grad_out * derivative
    padded = _padded(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w)
    grad_padded = np.zeros_like(padded)
    rows = n * out_h * out_w
    for i in range(kh):
        for j in range(kw):
            window = _tap(padded, i, j, sh, sw, out_h, out_w)
            grad_w[i, j] = window.reshape(rows, c).T @ grad_z.reshape(rows, f)
            _tap(grad_padded, i, j, sh, sw, out_h, out_w)[...] += grad_z @ w[i, j].T
    if grad_b is not None:
        grad_b[...] = grad_z.reshape(rows, f).sum(axis=0)
    if grad_x is not None:
        h, width = x.shape[1:3]
        grad_x[...] = grad_padded[:, pad_top : pad_top + h, pad_left : pad_left + width, :]


# --- Winograd convolution F(4x4, 3x3) ----------------------------------------
# Four outputs y of a 3-tap filter g over six inputs d in 6 multiplications, not 12:
#     y = A^T [(G g) * (B^T d)]          (* element by element)
# and, nested, a 4x4 tile of outputs from a 6x6 input patch in 36, not 144:
#     Y = A^T [(G g G^T) * (B^T d B)] A.
# With channels, the * becomes a sum over input channels: a matrix product at each
# of the 36 points.  See conv_winograd.h for the whole story.
WINOGRAD_BT = np.array([[4, 0, -5, 0, 1, 0],
                        [0, -4, -4, 1, 1, 0],
                        [0, 4, -4, -1, 1, 0],
                        [0, -2, -1, 2, 1, 0],
                        [0, 2, -1, -2, 1, 0],
                        [0, 4, 0, -5, 0, 1]], np.float64)
WINOGRAD_G = np.array([[1 / 4, 0, 0],
                       [-1 / 6, -1 / 6, -1 / 6],
                       [-1 / 6, 1 / 6, -1 / 6],
                       [1 / 24, 1 / 12, 1 / 6],
                       [1 / 24, -1 / 12, 1 / 6],
                       [0, 0, 1]], np.float64)
WINOGRAD_AT = np.array([[1, 1, 1, 1, 1, 0],
                        [0, 1, -1, 2, -2, 0],
                        [0, 1, 1, 4, 4, 0],
                        [0, 1, -1, 8, -8, 1]], np.float64)


def _einsum(subscripts, *operands):
    """np.einsum, free to pick the order of its products (three operands at a time here)."""
    return np.einsum(subscripts, *operands, optimize=True)


def _winograd_patches(x, pad_top, pad_left, out_h, out_w):
    """The 6x6 input patch of every 4x4 tile of the output, (N, TH, TW, 6, 6, C): tiles
    start every 4 pixels, patches overlap by 2, zeros outside the image."""
    n, h, w, c = x.shape
    th, tw = -(-out_h // 4), -(-out_w // 4)
    padded = np.zeros((n, 4 * th + 2, 4 * tw + 2, c), x.dtype)
    rows = max(0, min(h, padded.shape[1] - pad_top))
    cols = max(0, min(w, padded.shape[2] - pad_left))
    padded[:, pad_top:pad_top + rows, pad_left:pad_left + cols] = x[:, :rows, :cols]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (6, 6), axis=(1, 2))
    return windows[:, ::4, ::4].transpose(0, 1, 2, 4, 5, 3)


def _winograd_points(m):
    """(N, TH, TW, 6, 6, K) -> (36, N*TH*TW, K): one matrix per point, tiles as rows."""
    return m.reshape(-1, 36, m.shape[-1]).transpose(1, 0, 2)


def _winograd_tiles(m, shape):
    """The inverse of _winograd_points: (36, tiles, K) -> ``shape`` (N, TH, TW, 6, 6, K)."""
    return m.transpose(1, 0, 2).reshape(shape)


def conv2d_winograd_forward(x, w, b, pad_top, pad_left, out, activation="linear"):
    """out = act(conv(x, w) + b) for a 3x3 kernel at stride 1, by Winograd's F(4x4, 3x3)."""
    check_conv2d_winograd(x, w, b, pad_top, pad_left, out, activation)
    if x.size == 0 or out.size == 0:  # no tiles or no channels: as the direct kernel
        conv2d_forward(x, w, b, 1, 1, pad_top, pad_left, out, activation)
        return
    n, out_h, out_w, f = out.shape
    u = _einsum("ai,ijcf,bj->abcf", WINOGRAD_G, w, WINOGRAD_G)         # (6, 6, C, F)
    d = _winograd_patches(x, pad_top, pad_left, out_h, out_w)
    v = _einsum("ai,ntsijc,bj->ntsabc", WINOGRAD_BT, d, WINOGRAD_BT)  # (N, TH, TW, 6, 6, C)
    # at each point: (tiles x C) @ (C x F)
    m = _winograd_points(v) @ u.reshape(36, *u.shape[2:])
    m = _winograd_tiles(m, v.shape[:-1] + (f,))
    y = _einsum("ia,ntsabf,jb->ntsijf", WINOGRAD_AT, m, WINOGRAD_AT)  # (N, TH, TW, 4, 4, F)
    y = y.transpose(0, 1, 3, 2, 4, 5).reshape(n, 4 * y.shape[1], 4 * y.shape[2], f)
    z = y[:, :out_h, :out_w] + (0 if b is None else b)
    _activate(z, activation)
    out[...] = z


def conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w, grad_b,
                             activation="linear"):
    """The gradients of ``conv2d_winograd_forward``: its transforms, transposed.
    With W = A dz A^T for each tile's dL/dz:
    dL/dU = sum over tiles of V^T W (then G^T . G), dL/dV = W U^T (then B . B^T)."""
    check_conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x, grad_w, grad_b,
                                   activation)
    if x.size == 0 or out.size == 0:
        conv2d_backward(x, w, out, grad_out, 1, 1, pad_top, pad_left, grad_x, grad_w, grad_b,
                        activation)
        return
    n, out_h, out_w, f = out.shape
    h, width, c = x.shape[1:]
    derivative = _activation_derivative(out, activation)
    dz = grad_out if derivative is None else grad_out * derivative
    th, tw = -(-out_h // 4), -(-out_w // 4)
    dz_tiles = np.zeros((n, 4 * th, 4 * tw, f), x.dtype)
    dz_tiles[:, :out_h, :out_w] = dz  # tiles overhanging the output get no gradient
    dz_tiles = dz_tiles.reshape(n, th, 4, tw, 4, f).transpose(0, 1, 3, 2, 4, 5)
    wz = _einsum("ia,ntsijf,jb->ntsabf", WINOGRAD_AT, dz_tiles, WINOGRAD_AT)
    d = _winograd_patches(x, pad_top, pad_left, out_h, out_w)
    v = _einsum("ai,ntsijc,bj->ntsabc", WINOGRAD_BT, d, WINOGRAD_BT)
    # dL/dU at each point: (C x tiles) @ (tiles x F)
    du = _winograd_points(v).transpose(0, 2, 1) @ _winograd_points(wz)
    grad_w[...] = _einsum("ai,abcf,bj->ijcf", WINOGRAD_G, du.reshape(6, 6, c, f), WINOGRAD_G)
    if grad_b is not None:
        grad_b[...] = dz.sum(axis=(0, 1, 2))
    if grad_x is None:
        return
    u = _einsum("ai,ijcf,bj->abcf", WINOGRAD_G, w, WINOGRAD_G)
    dv = _winograd_points(wz) @ u.reshape(36, c, f).transpose(0, 2, 1)  # (tiles x F) @ (F x C)
    dv = _winograd_tiles(dv, v.shape)
    patches = _einsum("ai,ntsabc,bj->ntsijc", WINOGRAD_BT, dv, WINOGRAD_BT)
    # add every patch back where it was read (neighbours overlap by 2 pixels)
    padded = np.zeros((n, 4 * th + 2, 4 * tw + 2, c), x.dtype)
    for i in range(6):
        for j in range(6):
            padded[:, i:i + 4 * th:4, j:j + 4 * tw:4] += patches[:, :, :, i, j]
    rows = max(0, min(h, padded.shape[1] - pad_top))
    cols = max(0, min(width, padded.shape[2] - pad_left))
    grad_x[...] = 0
    grad_x[:, :rows, :cols] = padded[:, pad_top:pad_top + rows, pad_left:pad_left + cols]


# --- pooling ----------------------------------------------------------------
def _windows(x, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, fill):
    """All pooling windows as an array (N, OH, OW, ph*pw, C); padding = ``fill``."""
    n, h, w, c = x.shape
    pad_bottom = max((out_h - 1) * sh + ph - h - pad_top, 0)
    pad_right = max((out_w - 1) * sw + pw - w - pad_left, 0)
    padded = np.pad(
        x, ((0, 0), (pad_top, pad_bottom), (pad_left, pad_right), (0, 0)), constant_values=fill
    )
    windows = np.empty((n, out_h, out_w, ph * pw, c), x.dtype)
    for i in range(ph):
        for j in range(pw):
            windows[:, :, :, i * pw + j, :] = padded[
                :, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :
            ]
    return windows


def max_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out, argmax):
    """Max over each ph x pw window; ``argmax`` remembers where it was.

    argmax[n, oh, ow, c] = (h * W + w) * C + c, the flat index within image n
    of the winning input, so backward can send the gradient straight there.
    Padding is -inf, so it never wins.  Ties go to the first in row order, and
    a NaN wins over any number (``np.argmax`` picks the first NaN): NaN in, NaN out.
    """
    check_pool(x, ph, pw, sh, sw, pad_top, pad_left, out, argmax)
    n, h, w, c = x.shape
    out_h, out_w = out.shape[1:3]
    windows = _windows(x, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, -np.inf)
    best = windows.argmax(axis=3)  # (N, OH, OW, C): which window slot won
    out[...] = np.take_along_axis(windows, best[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    rows = np.arange(out_h)[None, :, None, None] * sh - pad_top + best // pw
    columns = np.arange(out_w)[None, None, :, None] * sw - pad_left + best % pw
    argmax[...] = (rows * w + columns) * c + np.arange(c)


def max_pool2d_backward(grad_out, argmax, grad_x):
    """Send each output's gradient to the input that won its window."""
    check_pool_backward(grad_out, argmax, grad_x)
    n = grad_x.shape[0]
    size = int(np.prod(grad_x.shape[1:]))
    check_argmax_range(argmax, size)
    flat = grad_x.reshape(n, size)
    flat[...] = 0
    for i in range(n):
        np.add.at(flat[i], argmax[i].ravel(), grad_out[i].ravel())


def _window_counts(h, w, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, dtype):
    """How many real (non-padding) pixels each window covers: (OH, OW, 1)."""
    rows = np.arange(out_h) * sh - pad_top
    cols = np.arange(out_w) * sw - pad_left
    count_h = np.minimum(rows + ph, h) - np.maximum(rows, 0)
    count_w = np.minimum(cols + pw, w) - np.maximum(cols, 0)
    return (count_h[:, None] * count_w[None, :]).astype(dtype)[:, :, None]


def avg_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out):
    """Mean over each window, counting only pixels inside the image."""
    check_pool(x, ph, pw, sh, sw, pad_top, pad_left, out, None)
    n, h, w, c = x.shape
    out_h, out_w = out.shape[1:3]
    windows = _windows(x, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, 0)
    counts = _window_counts(h, w, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, x.dtype)
    out[...] = windows.sum(axis=3) / counts


def avg_pool2d_backward(grad_out, ph, pw, sh, sw, pad_top, pad_left, grad_x):
    """Each input in a window gets grad / (pixels in that window)."""
    check_pool(grad_x, ph, pw, sh, sw, pad_top, pad_left, grad_out, None, backward=True)
    n, h, w, c = grad_x.shape
    out_h, out_w = grad_out.shape[1:3]
    counts = _window_counts(h, w, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x.dtype)
    share = grad_out / counts
    cols = np.repeat(share[:, :, :, None, :], ph * pw, axis=3)
    col2im(cols.reshape(n * out_h * out_w, ph * pw * c), ph, pw, sh, sw, pad_top, pad_left,
           out_h, out_w, grad_x)


# --- softmax ----------------------------------------------------------------
def softmax_forward(logits, probs):
    """probs = softmax(logits), row by row; logits and probs are (N, C).

        probs[n, c] = exp(z_c - max z) / sum_k exp(z_k - max z),   z = logits[n]

    Subtracting the row's maximum cancels between the numerator and the
    denominator, so the result is the same, but every exp is then of a value
    <= 0: it cannot overflow, whatever the logits.  A row holding NaN or +inf,
    or only -inf, comes out all NaN (inf - inf is NaN), with no warning, as in
    the compiled kernel; a -inf logit beside finite ones gets probability 0
    (the compiled float32 kernel gives 0 to every z_c - max z below -87, where
    exp is under 1.7e-38, as TensorFlow does with its denormals flushed).
    """
    check_softmax(logits, probs)
    # invalid: inf - inf; over: z - max z below the float's range, which is -inf (exp 0)
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        if exp.dtype == np.float32:
            exp[shifted < -87] = 0  # denormal or 0: 0, as the compiled kernel gives
        probs[...] = exp / exp.sum(axis=1, keepdims=True)


# --- softmax and cross-entropy, fused ----------------------------------------
def softmax_cross_entropy_forward(logits, labels, probs, losses):
    """probs = softmax(logits); losses[n] = -log probs[n, label[n]].

    Subtracting each row's maximum before exp keeps it stable for any logits
    (exp of a value <= 0 never overflows), and the loss is computed as
    logsumexp(z) - z[label], never as log of a probability that underflowed.
    ``labels`` are int64 class indices (N,) or float targets (N, C).
    """
    check_softmax_xent(logits, labels, probs, losses)
    check_label_range(labels, logits.shape[1])
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    if exp.dtype == np.float32:
        exp[shifted < -87] = 0  # denormal or 0: 0, as the compiled kernel gives
    total = exp.sum(axis=1, keepdims=True)
    probs[...] = exp / total
    log_probs = shifted - np.log(total)
    if labels.ndim == 1:
        losses[...] = -log_probs[np.arange(len(labels)), labels]
    else:
        losses[...] = -(labels * log_probs).sum(axis=1)


def softmax_cross_entropy_backward(probs, labels, grad_losses, grad_logits):
    """dL/dlogits = (probs - target) * dL/dloss, row by row.

    The softmax Jacobian and the log's 1/p cancel, leaving this short form:
    the reason softmax and cross-entropy are fused.  For a mean over the
    batch, grad_losses is 1/N everywhere.
    """
    check_softmax_xent(grad_logits, labels, probs, grad_losses, backward=True)
    check_label_range(labels, probs.shape[1])
    if labels.ndim == 1:
        grad_logits[...] = probs
        grad_logits[np.arange(len(labels)), labels] -= 1
    else:
        # for targets t: d/dz of -sum(t * log softmax(z)) = p * sum(t) - t
        grad_logits[...] = probs * labels.sum(axis=1, keepdims=True) - labels
    grad_logits *= grad_losses[:, None]


# --- optimizer updates (Keras's rules), over flat 1-D buffers ----------------
def sgd_update(param, grad, velocity, lr, momentum=0.0, nesterov=False):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

        no momentum:   w = w - lr * g
        momentum:      v = momentum * v - lr * g;   w = w + v
        Nesterov:      v as above;                  w = w + momentum * v - lr * g
    """
    check_optimizer("sgd_update", param, grad, velocity)
    if velocity is None or momentum == 0.0:
        param -= lr * grad
        return
    velocity *= momentum
    velocity -= lr * grad
    if nesterov:
        param += momentum * velocity - lr * grad
    else:
        param += velocity


def rmsprop_update(param, grad, mean_square, momentum_buffer, lr, rho=0.9, momentum=0.0,
                   epsilon=1e-7):
    """RMSprop: divide the step by a running root-mean-square of the gradient.

        s = rho * s + (1 - rho) * g^2
        step = lr * g / sqrt(s + epsilon)          (Keras puts epsilon inside the root)
        no momentum:  w = w - step
        momentum:     m = momentum * m + step;  w = w - m
    """
    check_required_state("rmsprop_update", mean_square=mean_square,
                         **({"momentum_buffer": momentum_buffer} if momentum > 0.0 else {}))
    check_optimizer("rmsprop_update", param, grad, mean_square, momentum_buffer)
    mean_square *= rho
    mean_square += (1 - rho) * grad * grad
    step = lr * grad / np.sqrt(mean_square + epsilon)
    if momentum_buffer is not None and momentum > 0.0:
        momentum_buffer *= momentum
        momentum_buffer += step
        param -= momentum_buffer
    else:
        param -= step


def adam_update(param, grad, m, v, v_max, lr_t, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adam: momentum on the gradient and on its square.

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        (AMSGrad: v_max = max(v_max, v), used in place of v)
        w = w - lr_t * m / (sqrt(v) + epsilon)
    where the caller passes lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t),
    the bias correction for step t, as Keras does.
    """
    check_required_state("adam_update", m=m, v=v)
    check_optimizer("adam_update", param, grad, m, v, v_max)
    _adam_step(param, grad, m, v, v_max, lr_t, beta_1, beta_2, epsilon)


def _adam_step(param, grad, m, v, v_max, lr_t, beta_1, beta_2, epsilon):
    """Adam's rule (adam_update's docstring) on checked buffers; AdamW's too."""
    m += (1 - beta_1) * (grad - m)
    v += (1 - beta_2) * (grad * grad - v)
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    param -= lr_t * m / (np.sqrt(v) + epsilon)


# --- Keras 2's other optimizers (tf_keras 2.21's rules), over flat 1-D buffers ----
def adagrad_update(param, grad, accumulator, lr, epsilon=1e-7):
    """Adagrad: each weight's step shrinks with the sum of its squared gradients.

        a = a + g^2                                  (a starts at initial_accumulator_value)
        w = w - lr * g / sqrt(a + epsilon)
    """
    check_required_state("adagrad_update", accumulator=accumulator)
    check_optimizer("adagrad_update", param, grad, accumulator)
    accumulator += grad * grad
    param -= lr * grad / np.sqrt(accumulator + epsilon)


def adadelta_update(param, grad, accumulated_grad, accumulated_delta, lr, rho=0.95,
                    epsilon=1e-7):
    """Adadelta: the step's size comes from the running size of the past steps.

        a = rho * a + (1 - rho) * g^2                        (running mean of g^2)
        delta = -sqrt(d + epsilon) / sqrt(a + epsilon) * g
        d = rho * d + (1 - rho) * delta^2                    (running mean of delta^2)
        w = w + lr * delta
    """
    check_required_state("adadelta_update", accumulated_grad=accumulated_grad,
                         accumulated_delta=accumulated_delta)
    check_optimizer("adadelta_update", param, grad, accumulated_grad, accumulated_delta)
    accumulated_grad *= rho
    accumulated_grad += (1 - rho) * grad * grad
    delta = -np.sqrt(accumulated_delta + epsilon) * grad / np.sqrt(accumulated_grad + epsilon)
    accumulated_delta *= rho
    accumulated_delta += (1 - rho) * delta * delta
    param += lr * delta


def adamax_update(param, grad, m, u, lr_t, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adamax: Adam with the infinity norm in place of the root mean square.

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w = w - lr_t * m / (u + epsilon)
    where the caller passes lr_t = lr / (1 - beta_1^t) for step t (t = 1, 2, ...).
    """
    check_required_state("adamax_update", m=m, u=u)
    check_optimizer("adamax_update", param, grad, m, u)
    m += (1 - beta_1) * (grad - m)
    np.maximum(beta_2 * u, np.abs(grad), out=u)
    param -= lr_t * m / (u + epsilon)


def nadam_update(param, grad, m, v, lr, m_scale, g_scale, v_scale, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7):
    """Nadam: Adam with Nesterov momentum (the momentum of the next step in the step).

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = m_scale * m + g_scale * g
        v_hat = v_scale * v
        w = w - lr * m_hat / (sqrt(v_hat) + epsilon)
    where the caller passes, for step t with Keras's momentum schedule
    mu_t = beta_1 * (1 - 0.5 * 0.96^t) and prod_t = mu_1 * ... * mu_t:
        m_scale = mu_{t+1} / (1 - prod_{t+1}),   g_scale = (1 - mu_t) / (1 - prod_t),
        v_scale = 1 / (1 - beta_2^t).
    """
    check_required_state("nadam_update", m=m, v=v)
    check_optimizer("nadam_update", param, grad, m, v)
    m += (1 - beta_1) * (grad - m)
    v += (1 - beta_2) * (grad * grad - v)
    m_hat = m_scale * m + g_scale * grad
    param -= lr * m_hat / (np.sqrt(v_scale * v) + epsilon)


def adamw_update(param, grad, m, v, v_max, lr_t, decay, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7):
    """AdamW: Adam, with the weights shrunk first by a decay that is not in the gradient.

        w = w - decay * w                            (decay = lr * weight_decay)
        then Adam's step (adam_update, AMSGrad when v_max is given) with lr_t.
    """
    check_required_state("adamw_update", m=m, v=v)
    check_optimizer("adamw_update", param, grad, m, v, v_max)
    param -= param * decay
    _adam_step(param, grad, m, v, v_max, lr_t, beta_1, beta_2, epsilon)


def ftrl_update(param, grad, accumulator, linear, lr, lr_power=-0.5, l1=0.0, l2=0.0,
                l2_shrinkage=0.0, beta=0.0):
    """Ftrl ("follow the regularized leader"), as Keras writes it; z is the "linear" slot.

        g' = g + 2 * l2_shrinkage * w
        a' = a + g^2
        z = z + g' - (a'^(-lr_power) - a^(-lr_power)) / lr * w
        q = a'^(-lr_power) / lr + 2 * (l2 + beta / (2 * lr))
        w = (clip(z, -l1, l1) - z) / q                  (0 where |z| <= l1)
        a = a'
    """
    check_required_state("ftrl_update", accumulator=accumulator, linear=linear)
    check_optimizer("ftrl_update", param, grad, accumulator, linear)
    if not lr > 0:
        raise ValueError(f"ftrl_update: lr must be > 0 (the rule divides by it), received {lr!r}.")
    shrunk = grad + 2 * l2_shrinkage * param
    new_accumulator = accumulator + grad * grad
    scaled_new = new_accumulator ** -lr_power
    linear += shrunk - (scaled_new - accumulator ** -lr_power) / lr * param
    quadratic = scaled_new / lr + 2 * (l2 + beta / (2 * lr))
    param[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
    accumulator[...] = new_accumulator


# --- embedding ---------------------------------------------------------------
def embedding_forward(indices, weights, out):
    """Gather: out[i] = weights[indices[i]] for indices (N,) int64, weights (V, D).

    An index outside [0, V) is an error, never a read (NumPy would quietly take
    weights[-1] for -1).
    """
    check_embedding(indices, weights, out)
    bad = first_out_of_range(indices, weights.shape[0])
    if bad is not None:
        raise embedding_range_error("embedding_forward", indices, bad, weights.shape[0])
    out[...] = weights[indices]


def embedding_backward(indices, grad_out, grad_weights):
    """Scatter-add: grad_weights[v] = sum of grad_out[i] over the i with indices[i] == v.

    ``np.add.at`` adds repeated indices one after another, in token order (plain
    ``grad_weights[indices] += grad_out`` would keep only the last of them).
    """
    check_embedding_backward(indices, grad_out, grad_weights)
    bad = first_out_of_range(indices, grad_weights.shape[0])
    if bad is not None:
        raise embedding_range_error("embedding_backward", indices, bad, grad_weights.shape[0])
    grad_weights[...] = 0
    np.add.at(grad_weights, indices, grad_out)


# --- recurrent layers: one timestep, and backpropagation through time -------
# (the argument checks are in recurrent_checks.py, imported here to keep the
# list at the top of this file about the image kernels)
def _recurrent_checks():
    from minidl._kernels import recurrent_checks

    return recurrent_checks


def _recurrent_activate(z, activation):
    """``activation`` of z (a new array); Keras 2's hard_sigmoid is clip(0.2 z + 0.5, 0, 1)."""
    if activation == "hard_sigmoid":
        return np.clip(0.2 * z + 0.5, 0, 1).astype(z.dtype, copy=False)
    y = z.copy()
    _activate(y, activation)
    return y


def _recurrent_slope(y, activation):
    """d act(z) / dz from the output y = act(z) (see ``_activation_derivative``)."""
    if activation == "hard_sigmoid":
        return np.where((y > 0) & (y < 1), 0.2, 0).astype(y.dtype)
    slope = _activation_derivative(y, activation)
    return np.ones_like(y) if slope is None else slope


def _kept_rows(mask):
    """Column of booleans: the rows a mask of 0 keeps at their previous state."""
    if mask is None:
        return None
    return (mask == 0)[:, None]


def lstm_step_forward(gates, c_prev, h_prev, c, h, mask, activation="tanh",
                      recurrent_activation="sigmoid"):
    """One LSTM step for a batch (Keras's gate order i, f, c, o).

    A recurrent layer reads a sequence x_1 .. x_T (each (N, F)) and keeps a
    state; an LSTM's state is two arrays, h (the output) and c (the cell),
    each (N, U) for U units.  With kernel W (F, 4U), recurrent kernel U_
    (U, 4U) and bias b (4U,), step t computes

        z_t = x_t W + b + h_{t-1} U_                      (N, 4U), split in 4:
        i = sigma(z_i)   input gate      f = sigma(z_f)   forget gate
        g = tanh(z_g)    candidate       o = sigma(z_o)   output gate
        c_t = f * c_{t-1} + i * g                          (N, U)
        h_t = o * tanh(c_t)                                (N, U)

    (sigma is ``recurrent_activation``, tanh ``activation``).  The layer
    computes x_t W + b for every t in one product, adds h_{t-1} U_ with one
    product per step, and calls this kernel for the rest: ``gates`` holds z_t
    on entry and i, f, g, o on return (backward needs them), ``c`` and ``h``
    receive c_t and h_t.  A row whose ``mask`` is 0 (a padded step) keeps
    c_{t-1} and h_{t-1}.

    Backpropagation through time (``lstm_step_backward``) walks the steps in
    reverse.  The loss reaches h_t twice -- from the layer's output at step t
    and through step t+1's product -- and c_t from step t+1; with dh = dL/dh_t
    and dc_in = dL/dc_t from step t+1:

        dc  = dc_in + dh * o * tanh'(c_t)          all of dL/dc_t
        dz_o = dh * tanh(c_t) * sigma'(z_o)        dz_i = dc * g * sigma'(z_i)
        dz_f = dc * c_{t-1} * sigma'(z_f)          dz_g = dc * i * tanh'(z_g)
        dL/dc_{t-1} = dc * f
        dL/dh_{t-1} = dz_t U_^T                    (one product per step)

    Once every dz_t (N, 4U) is known, stacked as (T*N, 4U), the weight
    gradients are each ONE product over all steps: dL/dW = X^T dZ with X
    (T*N, F), dL/dU_ = H_prev^T dZ with H_prev (T*N, U), dL/db = sum of dZ;
    and dL/dx = dZ W^T.  (The LSTM op adds the same sums up step by step,
    while each dz_t is still in the cache: ``lstm_sequence_backward``.)
    """
    _recurrent_checks().check_lstm_step_forward(gates, c_prev, h_prev, c, h, mask,
                                                activation, recurrent_activation)
    units = c.shape[1]
    z = gates.copy()
    for k, name in enumerate((recurrent_activation, recurrent_activation, activation,
                              recurrent_activation)):
        gates[:, k * units:(k + 1) * units] = _recurrent_activate(
            z[:, k * units:(k + 1) * units], name)
    i, f, g, o = (gates[:, k * units:(k + 1) * units] for k in range(4))
    new_c = f * c_prev + i * g
    new_h = o * _recurrent_activate(new_c, activation)
    kept = _kept_rows(mask)
    if kept is not None:
        new_c = np.where(kept, c_prev, new_c)
        new_h = np.where(kept, h_prev, new_h)
    c[...] = new_c
    h[...] = new_h


def lstm_step_backward(gates, c_prev, c, grad_h, grad_c, mask, grad_gates, grad_c_prev,
                       grad_h_prev, activation="tanh", recurrent_activation="sigmoid"):
    """The LSTM step's backward (equations in ``lstm_step_forward``).

    In: ``gates`` (i, f, g, o from the forward), c_{t-1}, c_t, dL/dh_t
    (``grad_h``) and dL/dc_t from step t+1 (``grad_c``).  Out: dz (N, 4U) in
    ``grad_gates``, dL/dc_{t-1}, and ``grad_h_prev``: the part of dL/dh_{t-1}
    that does not go through the recurrent kernel -- zero, except on masked
    rows, which pass dL/dh_t and dL/dc_t straight back (and have dz = 0).
    The caller then adds dz U_^T to ``grad_h_prev`` (one product).
    """
    _recurrent_checks().check_lstm_step_backward(
        gates, c_prev, c, grad_h, grad_c, mask, grad_gates, grad_c_prev, grad_h_prev,
        activation, recurrent_activation)
    units = c.shape[1]
    i, f, g, o = (gates[:, k * units:(k + 1) * units] for k in range(4))
    a = _recurrent_activate(c, activation)
    dc = grad_c + grad_h * o * _recurrent_slope(a, activation)
    dz = np.concatenate([
        dc * g * _recurrent_slope(i, recurrent_activation),
        dc * c_prev * _recurrent_slope(f, recurrent_activation),
        dc * i * _recurrent_slope(g, activation),
        grad_h * a * _recurrent_slope(o, recurrent_activation),
    ], axis=1)
    dc_prev = dc * f
    dh_prev = np.zeros_like(grad_h)
    kept = _kept_rows(mask)
    if kept is not None:
        dz = np.where(kept, 0, dz)
        dc_prev = np.where(kept, grad_c, dc_prev)
        dh_prev = np.where(kept, grad_h, dh_prev)
    grad_gates[...] = dz
    grad_c_prev[...] = dc_prev
    grad_h_prev[...] = dh_prev


def gru_step_forward(gates, rec, h_prev, h, mask, activation="tanh",
                     recurrent_activation="sigmoid"):
    """One GRU step, Keras's ``reset_after=True`` form (PyTorch's GRU), gates z, r, h.

    With kernel W (F, 3U), recurrent kernel U_ (U, 3U) and bias (2, 3U) --
    one row added to x W, one to h U_ --:

        gates = x_t W + b_in             (N, 3U), parts x_z, x_r, x_h
        rec   = h_{t-1} U_ + b_rec        (N, 3U), parts r_z, r_r, r_h
        z  = sigma(x_z + r_z)             update gate
        r  = sigma(x_r + r_r)             reset gate
        hh = tanh(x_h + r * r_h)          candidate
        h_t = z * h_{t-1} + (1 - z) * hh

    ``gates`` holds x_t W + b_in on entry and z, r, hh on return.  Backward,
    with dh = dL/dh_t:

        dz_z = dh * (h_{t-1} - hh) * sigma'(z)
        dhh  = dh * (1 - z) * tanh'(hh)              (dL/d of tanh's argument)
        dz_r = dhh * r_h * sigma'(r)
        dL/dgates = [dz_z, dz_r, dhh];  dL/drec = [dz_z, dz_r, dhh * r]
        dL/dh_{t-1} = dh * z + dL/drec U_^T
    """
    _recurrent_checks().check_gru_step_forward(gates, rec, h_prev, h, mask, activation,
                                               recurrent_activation)
    units = h.shape[1]
    x_z, x_r, x_h = (gates[:, k * units:(k + 1) * units] for k in range(3))
    r_z, r_r, r_h = (rec[:, k * units:(k + 1) * units] for k in range(3))
    z = _recurrent_activate(x_z + r_z, recurrent_activation)
    r = _recurrent_activate(x_r + r_r, recurrent_activation)
    hh = _recurrent_activate(x_h + r * r_h, activation)
    new_h = z * h_prev + (1 - z) * hh
    kept = _kept_rows(mask)
    if kept is not None:
        new_h = np.where(kept, h_prev, new_h)
    gates[...] = np.concatenate([z, r, hh], axis=1)
    h[...] = new_h


def gru_step_backward(gates, rec, h_prev, grad_h, mask, grad_gates, grad_rec, grad_h_prev,
                      activation="tanh", recurrent_activation="sigmoid"):
    """The GRU step's backward (equations in ``gru_step_forward``); ``grad_h_prev``
    receives dh * z (all of dL/dh_t on masked rows), the caller adds dL/drec U_^T."""
    _recurrent_checks().check_gru_step_backward(
        gates, rec, h_prev, grad_h, mask, grad_gates, grad_rec, grad_h_prev, activation,
        recurrent_activation)
    units = h_prev.shape[1]
    z, r, hh = (gates[:, k * units:(k + 1) * units] for k in range(3))
    r_h = rec[:, 2 * units:]
    dz = grad_h * (h_prev - hh) * _recurrent_slope(z, recurrent_activation)
    dhh = grad_h * (1 - z) * _recurrent_slope(hh, activation)
    dr = dhh * r_h * _recurrent_slope(r, recurrent_activation)
    d_gates = np.concatenate([dz, dr, dhh], axis=1)
    d_rec = np.concatenate([dz, dr, dhh * r], axis=1)
    dh_prev = grad_h * z
    kept = _kept_rows(mask)
    if kept is not None:
        d_gates = np.where(kept, 0, d_gates)
        d_rec = np.where(kept, 0, d_rec)
        dh_prev = np.where(kept, grad_h, dh_prev)
    grad_gates[...] = d_gates
    grad_rec[...] = d_rec
    grad_h_prev[...] = dh_prev


def gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h,
                                   recurrent_activation="sigmoid"):
    """The first pass of a step of Keras's GRU with ``reset_after=False``.

    In this form (Keras 1's GRU; Keras 2's ``reset_after=False``) the reset gate
    multiplies h_{t-1} BEFORE the candidate's recurrent product.  With kernel W
    (F, 3U), recurrent kernel U_ (U, 3U) = [U_z | U_r | U_h] and ONE bias b (3U,):

        gates = x_t W + b                    (N, 3U), parts x_z, x_r, x_h
        z  = sigma(x_z + h U_z)              update gate
        r  = sigma(x_r + h U_r)              reset gate
        hh = tanh(x_h + (r * h) U_h)         candidate
        h_t = z * h_{t-1} + (1 - z) * hh

    where h is h_{t-1} as the products see it (``dropped_h``: times the
    recurrent dropout mask, or h_{t-1} itself).  The product (r * h) U_h needs
    r, so a step is two passes around it: this one (``rec`` = h [U_z | U_r],
    (N, 2U)) puts z, r into the first 2U columns of ``gates`` and writes
    ``reset_h`` = r * h (N, U); ``gru_reset_before_state_forward`` does the rest.

    Backward (``gru_reset_before_candidate_backward``, then a product, then
    ``gru_reset_before_gates_backward``), with dh = dL/dh_t:

        dhh   = dh * (1 - z) * tanh'(hh)     dL/d of tanh's argument
        drh   = dhh U_h^T                    dL/d(r * h)    (the product)
        dz_z  = dh * (h_{t-1} - hh) * sigma'(z)
        dz_r  = drh * h * sigma'(r)
        dL/dh_{t-1} = dh * z + (drh * r + [dz_z, dz_r] [U_z | U_r]^T) * dropout mask

    and, over all steps, dL/dW = X^T [dz_z, dz_r, dhh], dL/db its column sums,
    dL/d[U_z | U_r] = H^T [dz_z, dz_r], dL/dU_h = (R * H)^T dhh.
    """
    _recurrent_checks().check_gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h,
                                                             recurrent_activation)
    units = dropped_h.shape[1]
    zr = _recurrent_activate(gates[:, :2 * units] + rec, recurrent_activation)
    gates[:, :2 * units] = zr
    reset_h[...] = zr[:, units:] * dropped_h


def gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask, activation="tanh"):
    """The second pass (equations in ``gru_reset_before_gates_forward``): with
    ``rec_h`` = (r * h) U_h (N, U), the candidate hh = act(x_h + rec_h) goes into
    the last U columns of ``gates`` (z stays in the first U) and h_t into ``h``;
    a masked row (mask 0) keeps h_{t-1}."""
    _recurrent_checks().check_gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask,
                                                             activation)
    units = h.shape[1]
    z = gates[:, :units]
    hh = _recurrent_activate(gates[:, 2 * units:] + rec_h, activation)
    new_h = z * h_prev + (1 - z) * hh
    kept = _kept_rows(mask)
    if kept is not None:
        new_h = np.where(kept, h_prev, new_h)
    gates[:, 2 * units:] = hh
    h[...] = new_h


def gru_reset_before_candidate_backward(gates, grad_h, mask, grad_candidate,
                                        activation="tanh"):
    """``grad_candidate`` = dhh = dh * (1 - z) * act'(hh) (N, U), 0 on masked rows
    (equations in ``gru_reset_before_gates_forward``)."""
    _recurrent_checks().check_gru_reset_before_candidate_backward(gates, grad_h, mask,
                                                                  grad_candidate, activation)
    units = grad_h.shape[1]
    z, hh = gates[:, :units], gates[:, 2 * units:]
    d_cand = grad_h * (1 - z) * _recurrent_slope(hh, activation)
    kept = _kept_rows(mask)
    grad_candidate[...] = d_cand if kept is None else np.where(kept, 0, d_cand)


def gru_reset_before_gates_backward(gates, h_prev, dropped_h, grad_h, grad_reset_h, mask,
                                    grad_gates, grad_dropped, grad_h_prev,
                                    recurrent_activation="sigmoid"):
    """With ``grad_reset_h`` = drh = dhh U_h^T: ``grad_gates`` (N, 2U) = [dz_z, dz_r],
    ``grad_dropped`` = drh * r (dL/d dropped_h through r * h) and ``grad_h_prev`` =
    dh * z; on masked rows 0, 0 and dh.  The caller adds [dz_z, dz_r] [U_z | U_r]^T
    to grad_dropped, times the dropout mask, to grad_h_prev (equations in
    ``gru_reset_before_gates_forward``)."""
    _recurrent_checks().check_gru_reset_before_gates_backward(
        gates, h_prev, dropped_h, grad_h, grad_reset_h, mask, grad_gates, grad_dropped,
        grad_h_prev, recurrent_activation)
    units = grad_h.shape[1]
    z, r, hh = (gates[:, k * units:(k + 1) * units] for k in range(3))
    d_z = grad_h * (h_prev - hh) * _recurrent_slope(z, recurrent_activation)
    d_r = grad_reset_h * dropped_h * _recurrent_slope(r, recurrent_activation)
    d_gates = np.concatenate([d_z, d_r], axis=1)
    d_dropped = grad_reset_h * r
    dh_prev = grad_h * z
    kept = _kept_rows(mask)
    if kept is not None:
        d_gates = np.where(kept, 0, d_gates)
        d_dropped = np.where(kept, 0, d_dropped)
        dh_prev = np.where(kept, grad_h, dh_prev)
    grad_gates[...] = d_gates
    grad_dropped[...] = d_dropped
    grad_h_prev[...] = dh_prev


def rnn_step_forward(pre, h_prev, mask, activation="tanh"):
    """One SimpleRNN step: h_t = act(x_t W + b + h_{t-1} U_), in place of ``pre``
    (which holds the sum on entry); masked rows keep h_{t-1}.  Backward:
    dL/dpre = dh * act'(h_t), dL/dh_{t-1} = dL/dpre U_^T."""
    _recurrent_checks().check_rnn_step_forward(pre, h_prev, mask, activation)
    h = _recurrent_activate(pre, activation)
    kept = _kept_rows(mask)
    pre[...] = h if kept is None else np.where(kept, h_prev, h)


def rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev, activation="tanh"):
    """``grad_pre`` = dh * act'(h) (0 on masked rows); ``grad_h_prev`` = 0 (dh on
    masked rows), to which the caller adds grad_pre U_^T."""
    _recurrent_checks().check_rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev,
                                                activation)
    d_pre = grad_h * _recurrent_slope(h, activation)
    dh_prev = np.zeros_like(grad_h)
    kept = _kept_rows(mask)
    if kept is not None:
        d_pre = np.where(kept, 0, d_pre)
        dh_prev = np.where(kept, grad_h, dh_prev)
    grad_pre[...] = d_pre
    grad_h_prev[...] = dh_prev


# --- metrics: confusion counts at thresholds (see minidl/metrics/confusion.py) --------
from minidl._kernels.checks import check_confusion  # noqa: E402  (this section came later)


def _add_counts(positive_above, negative_above, positives, negatives, tp, fp, fn, tn):
    """Add per-threshold counts into the outputs that are given (not None)."""
    for out, value in ((tp, positive_above), (fp, negative_above),
                       (fn, positives - positive_above), (tn, negatives - negative_above)):
        if out is not None:
            out += value.astype(out.dtype)


def _label_weights(labels, weights):
    """The weight of each prediction on the positive side (label != 0) and the negative."""
    w = np.ones(len(labels)) if weights is None else weights.astype(np.float64)
    positive = labels != 0
    return np.where(positive, w, 0.0), np.where(positive, 0.0, w)


def confusion_thresholds_add(labels, predictions, weights, thresholds, tp, fp, fn, tn):
    """Weighted confusion counts at each threshold, added to tp, fp, fn, tn (each may be None).

    A prediction p is positive at threshold t when p > t; a label is positive when it
    is not 0.  With w the weights (1 without):
        tp[j] += sum(w * (label != 0) * (p > t_j))     fn[j] += sum(w * (label != 0)) - that
        fp[j] += sum(w * (label == 0) * (p > t_j))     tn[j] += sum(w * (label == 0)) - that
    Shapes: labels, predictions, weights (M,); thresholds and the counts (T,).
    """
    check_confusion("confusion_thresholds_add", labels, predictions, weights, thresholds,
                    tp, fp, fn, tn)
    positive, negative = _label_weights(labels, weights)
    above = (predictions[None, :] > thresholds[:, None]).astype(np.float64)  # (T, M)
    _add_counts(above @ positive, above @ negative, positive.sum(), negative.sum(),
                tp, fp, fn, tn)


def confusion_buckets_add(labels, predictions, weights, num_thresholds, tp, fp, fn, tn):
    """``confusion_thresholds_add`` at T = num_thresholds evenly spread thresholds
    -1e-7, 1/(T-1), ..., (T-2)/(T-1), 1 + 1e-7 (Keras's AUC), in O(M + T).

    p clipped to [0, 1] is positive at threshold j exactly when j <= b, its bucket
        b = max(ceil(p * (T-1)) - 1, 0)     (computed in the predictions' dtype);
    so each weight goes to its bucket, and a sum from the top bucket down gives
    the count at every threshold.  A NaN prediction has no bucket: it counts
    only in fn or tn, as in Keras 2.
    """
    check_confusion("confusion_buckets_add", labels, predictions, weights, None,
                    tp, fp, fn, tn, num_thresholds)
    p = np.clip(predictions, 0, 1)
    with np.errstate(invalid="ignore"):
        buckets = np.maximum(np.ceil(p * p.dtype.type(num_thresholds - 1)) - 1, 0)
    has_bucket = ~np.isnan(buckets)
    index = buckets[has_bucket].astype(np.int64)
    positive, negative = _label_weights(labels, weights)
    per_bucket = [np.bincount(index, side[has_bucket], minlength=num_thresholds)
                  for side in (positive, negative)]
    above = [np.cumsum(counts[::-1])[::-1] for counts in per_bucket]  # buckets >= j
    _add_counts(above[0], above[1], positive.sum(), negative.sum(), tp, fp, fn, tn)


# --- an LSTM's recurrent products, with B packed once (see packed_gemm.h) -------------
from minidl._kernels.panel_checks import (  # noqa: E402  (this section came later)
    PANEL,
    check_pack_panels,
    check_packed_gemm,
    panels_shape,
)


def pack_panels(b, out, trans_b=False):
    """out = B (k, n) in panels of 64 columns, the layout ``packed_gemm`` reads:

        out[p, kk, j] = B[kk, 64 p + j]      (0 past B's last column)

    out (ceil(n / 64), k, 64) (``panel_checks.panels_shape``); B is b, or b.T with
    ``trans_b``.  Done once for a matrix used in many products (an LSTM's U).
    """
    check_pack_panels(b, out, trans_b)
    matrix = b.T if trans_b else b
    k, n = matrix.shape
    padded = np.zeros((k, out.shape[0] * PANEL), b.dtype)
    padded[:, :n] = matrix
    out[...] = padded.reshape(k, out.shape[0], PANEL).transpose(1, 0, 2)


def packed_gemm(a, packed, out, accumulate=True, trans_a=False):
    """out += op(a) @ B, for op(a) (m, k), B (k, n) packed by ``pack_panels``, out (m, n);
    op(a) is a, or a.T with ``trans_a``.  With ``accumulate=False``, out = op(a) @ B."""
    check_packed_gemm(a, packed, out, trans_a)
    panels, k, _ = packed.shape
    b = packed.transpose(1, 0, 2).reshape(k, panels * PANEL)[:, :out.shape[1]]
    product = (a.T if trans_a else a) @ b
    if accumulate:
        out += product
    else:
        out[...] = product


def lstm_sequence_forward(xh, packed, gates, cells, hidden, masks, dropout, features,
                          activation="tanh", recurrent_activation="sigmoid"):
    """Every step of an LSTM forward: the time loop the LSTM op runs (``lstm_sequence.pyx``
    runs the same loop in C).  Step t, with xh[t] the row [x_t, h_{t-1}, 1]:

        xh[t][:, F:F+U] = h_{t-1} (times ``dropout``, Keras's recurrent dropout mask)
        z_t = xh[t] @ [W; U; b]                      (N, 4U), B packed by pack_panels
        i, f, g, o, c_t, h_t = lstm_step_forward(z_t, c_{t-1}, h_{t-1})

    xh (T, N, K) (x and 1 columns given), gates (T, N, 4U) out, cells and hidden
    (T + 1, N, U) with row 0 the initial state, masks (T, N) uint8 or None.
    """
    _recurrent_checks().check_lstm_sequence_forward(
        xh, packed, gates, cells, hidden, masks, dropout, features, activation,
        recurrent_activation)
    units = cells.shape[2]
    h_part = slice(features, features + units)
    for t in range(gates.shape[0]):
        xh[t, :, h_part] = hidden[t] if dropout is None else hidden[t] * dropout
        packed_gemm(xh[t], packed, gates[t], accumulate=False)
        lstm_step_forward(gates[t], cells[t], hidden[t], cells[t + 1], hidden[t + 1],
                          None if masks is None else masks[t], activation,
                          recurrent_activation)


def lstm_sequence_backward(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks,
                           dropout, grad_gates, grad_stacked, features, first,
                           activation="tanh", recurrent_activation="sigmoid"):
    """Every step of an LSTM backward, from the last: backpropagation through time.

    dL/dh_t reaches step t from its output (``grad_steps[t]``, if the layer returns
    the sequence) and from step t + 1; then, per step:

        dL/dz_t, dL/dc_{t-1} = lstm_step_backward(...)       (the gate equations)
        dL/dh_{t-1} = dL/dz_t U^T (times ``dropout``)         skipped for t < first
        [dL/dW; dL/dU; dL/db] += xh[t]^T dL/dz_t               ((K, 4U), xh's order)

    Adding the weight gradient up as the loop goes reads dL/dz_t while it is still in
    the cache (one product over all steps after the loop gives the same sum).  The
    compiled kernel adds a group of steps at a time (M5: 4), one product over their
    rows: the same sum, rounded in another order.  grad_h and
    grad_c (N, U) come in as dL/dh_T, dL/dc_T and leave as dL/dh_0, dL/dc_0 (with
    first = 1, h_0 is a zero that is no input: step 0's product is skipped).
    grad_gates: (T, N, 4U), every step's dL/dz kept (dL/dx needs them), or (N, 4U).
    """
    _recurrent_checks().check_lstm_sequence_backward(
        xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks, dropout, grad_gates,
        grad_stacked, features, first, activation, recurrent_activation)
    steps, units = gates.shape[0], cells.shape[2]
    if steps == 0 or grad_h.size == 0:
        grad_stacked[...] = 0
        return
    dh, dc = grad_h.copy(), grad_c.copy()
    dh_prev, dc_prev = np.empty_like(dh), np.empty_like(dc)
    packed_grad = np.empty(panels_shape(dh.shape[0], 4 * units), dh.dtype)
    for t in reversed(range(steps)):
        dz = grad_gates[t] if grad_gates.ndim == 3 else grad_gates
        total = dh if grad_steps is None else grad_steps[t] + dh
        lstm_step_backward(gates[t], cells[t], cells[t + 1], total, dc,
                           None if masks is None else masks[t], dz, dc_prev, dh_prev,
                           activation, recurrent_activation)
        if t >= first:
            product = np.zeros_like(dh_prev)
            packed_gemm(dz, packed_ut, product)
            dh_prev += product if dropout is None else product * dropout
        pack_panels(dz, packed_grad)
        packed_gemm(xh[t], packed_grad, grad_stacked, accumulate=t < steps - 1, trans_a=True)
        dh, dh_prev, dc, dc_prev = dh_prev, dh, dc_prev, dc
    grad_h[...], grad_c[...] = dh, dc


# --- string hashes (the Hashing layers) ----------------------------------------
# Python integers have no overflow, so every step of these uint64 hashes keeps the
# low 64 bits (``& _WORD``), as C's unsigned arithmetic does by itself.
_WORD = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def fingerprint64(data, offsets, out):
    """out[i] = FarmHash's Fingerprint64 of the bytes data[offsets[i]:offsets[i + 1]],
    TensorFlow's string fingerprint (tf.strings.to_hash_bucket_fast is it mod
    num_buckets).  ``data`` (B,) uint8, ``offsets`` (N + 1,) int64, ``out`` (N,) uint64."""
    check_string_hash("fingerprint64", data, offsets, out)
    raw = data.tobytes()
    out[...] = [_fingerprint(raw[start:stop]) for start, stop in zip(offsets[:-1].tolist(),
                                                                      offsets[1:].tolist())]


def siphash64(data, offsets, key0, key1, out):
    """out[i] = SipHash-2-4 of data[offsets[i]:offsets[i + 1]] under the 128-bit key
    (key0, key1) (tf.strings.to_hash_bucket_strong is it mod num_buckets)."""
    check_string_hash("siphash64", data, offsets, out)
    check_hash_key("siphash64", key0, key1)
    raw = data.tobytes()
    out[...] = [_siphash(raw[start:stop], int(key0), int(key1))
                for start, stop in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def _word(s, i, size=8):
    """``size`` bytes of ``s`` from ``i`` as a little-endian number."""
    return int.from_bytes(s[i:i + size], "little")


def _rotate(v, shift):
    return ((v >> shift) | (v << (64 - shift))) & _WORD


def _shift_mix(v):
    return v ^ (v >> 47)


def _hash_len16(u, v, mul):
    a = _shift_mix(((u ^ v) * mul) & _WORD)
    b = _shift_mix(((v ^ a) * mul) & _WORD)
    return (b * mul) & _WORD


def _weak_hash32(s, i, a, b):
    """Two words from the 32 bytes s[i:i + 32] and two seeds."""
    w, x, y, z = (_word(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _WORD
    b = _rotate((b + a + z) & _WORD, 21)
    c = a
    a = (a + x + y) & _WORD
    b = (b + _rotate(a, 44)) & _WORD
    return (a + z) & _WORD, (b + c) & _WORD


def _fingerprint(s):
    """Fingerprint64 (farmhashna::Hash64) of the bytes ``s``: one formula per length
    0-16, 17-32, 33-64, and a loop over 64-byte blocks beyond."""
    n = len(s)
    mul = (_K2 + 2 * n) & _WORD
    if n == 0:
        return _K2
    if n < 4:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _WORD) * _K2) & _WORD
    if n < 8:
        return _hash_len16(n + (_word(s, 0, 4) << 3), _word(s, n - 4, 4), mul)
    if n <= 16:
        a = (_word(s, 0) + _K2) & _WORD
        b = _word(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & _WORD
        d = ((_rotate(a, 25) + b) * mul) & _WORD
        return _hash_len16(c, d, mul)
    if n <= 32:
        a = (_word(s, 0) * _K1) & _WORD
        b = _word(s, 8)
        c = (_word(s, n - 8) * mul) & _WORD
        d = (_word(s, n - 16) * _K2) & _WORD
        return _hash_len16((_rotate((a + b) & _WORD, 43) + _rotate(c, 30) + d) & _WORD,
                           (a + _rotate((b + _K2) & _WORD, 18) + c) & _WORD, mul)
    if n <= 64:
        a = (_word(s, 0) * _K2) & _WORD
        b = _word(s, 8)
        c = (_word(s, n - 8) * mul) & _WORD
        d = (_word(s, n - 16) * _K2) & _WORD
        y = (_rotate((a + b) & _WORD, 43) + _rotate(c, 30) + d) & _WORD
        z = _hash_len16(y, (a + _rotate((b + _K2) & _WORD, 18) + c) & _WORD, mul)
        e = (_word(s, 16) * mul) & _WORD
        f = _word(s, 24)
        g = ((y + _word(s, n - 32)) * mul) & _WORD
        h = ((z + _word(s, n - 24)) * mul) & _WORD
        return _hash_len16((_rotate((e + f) & _WORD, 43) + _rotate(g, 30) + h) & _WORD,
                           (e + _rotate((f + a) & _WORD, 18) + g) & _WORD, mul)
    # over 64 bytes: 56 bytes of state (x, y, z, v, w) through every 64-byte block but
    # the last, then the last 64 bytes of the string (they may overlap that block)
    x = (81 * _K2 + _word(s, 0)) & _WORD
    y = (81 * _K1 + 113) & _WORD
    z = (_shift_mix((y * _K2 + 113) & _WORD) * _K2) & _WORD
    v0 = v1 = w0 = w1 = 0
    for i in range(0, (n - 1) // 64 * 64, 64):
        x = (_rotate((x + y + v0 + _word(s, i + 8)) & _WORD, 37) * _K1) & _WORD
        y = (_rotate((y + v1 + _word(s, i + 48)) & _WORD, 42) * _K1) & _WORD
        x ^= w1
        y = (y + v0 + _word(s, i + 40)) & _WORD
        z = (_rotate((z + w0) & _WORD, 33) * _K1) & _WORD
        v0, v1 = _weak_hash32(s, i, (v1 * _K1) & _WORD, (x + w0) & _WORD)
        w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _WORD, (y + _word(s, i + 16)) & _WORD)
        x, z = z, x
    mul = (_K1 + ((z & 0xFF) << 1)) & _WORD
    i = n - 64
    w0 = (w0 + ((n - 1) & 63)) & _WORD
    v0 = (v0 + w0) & _WORD
    w0 = (w0 + v0) & _WORD
    x = (_rotate((x + y + v0 + _word(s, i + 8)) & _WORD, 37) * mul) & _WORD
    y = (_rotate((y + v1 + _word(s, i + 48)) & _WORD, 42) * mul) & _WORD
    x ^= (w1 * 9) & _WORD
    y = (y + v0 * 9 + _word(s, i + 40)) & _WORD
    z = (_rotate((z + w0) & _WORD, 33) * mul) & _WORD
    v0, v1 = _weak_hash32(s, i, (v1 * mul) & _WORD, (x + w0) & _WORD)
    w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _WORD, (y + _word(s, i + 16)) & _WORD)
    x, z = z, x
    return _hash_len16((_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _WORD,
                       (_hash_len16(v1, w1, mul) + x) & _WORD, mul)


def _sip_round(v0, v1, v2, v3):
    """One SipRound: add, rotate, xor on the four state words."""
    v0 = (v0 + v1) & _WORD
    v1 = _rotate(v1, 64 - 13) ^ v0
    v0 = _rotate(v0, 32)
    v2 = (v2 + v3) & _WORD
    v3 = _rotate(v3, 64 - 16) ^ v2
    v0 = (v0 + v3) & _WORD
    v3 = _rotate(v3, 64 - 21) ^ v0
    v2 = (v2 + v1) & _WORD
    v1 = _rotate(v1, 64 - 17) ^ v2
    v2 = _rotate(v2, 32)
    return v0, v1, v2, v3


def _siphash(s, key0, key1):
    """SipHash-2-4 of the bytes ``s``: two rounds per 8-byte word, the last word
    holding the 0-7 bytes left and the length (mod 256) in its top byte, then four."""
    v = (key0 ^ 0x736F6D6570736575, key1 ^ 0x646F72616E646F6D,
         key0 ^ 0x6C7967656E657261, key1 ^ 0x7465646279746573)
    n = len(s)
    full = n - n % 8
    words = [_word(s, i) for i in range(0, full, 8)]
    words.append(_word(s, full, n - full) | ((n & 0xFF) << 56))
    for m in words:
        v = _sip_round(*_sip_round(v[0], v[1], v[2], v[3] ^ m))
        v = (v[0] ^ m, *v[1:])
    v = (v[0], v[1], v[2] ^ 0xFF, v[3])
    for _ in range(4):
        v = _sip_round(*v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
