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
    check_gemm,
    check_gradient_nonzeros,
    check_im2col,
    check_optimizer,
    check_pool,
    check_pool_backward,
    check_argmax_range,
    check_label_range,
    check_softmax,
    check_softmax_xent,
)

NAME = "reference"
# the twin of conv2d_backward_sparse multiplies the zeros too (NumPy has no faster way
# than its products), so the ops never ask for it; it is there to test the compiled one
SPARSE_BACKWARD = False
# the Winograd twins show the algorithm, but in NumPy their einsums and many small
# arrays cost more than im2col's products: the ops keep im2col with these kernels
WINOGRAD = False


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


def conv2d_forward(x, w, b, sh, sw, pad_top, pad_left, out, activation="linear"):
    """out = act(conv(x, w) + b): the compiled kernel convolves directly; the
    math is the same as im2col followed by a dense product."""
    check_conv2d(x, w, b, sh, sw, pad_top, pad_left, out, activation)
    n, out_h, out_w, f = out.shape
    kh, kw, c, _ = w.shape
    cols = np.empty((n * out_h * out_w, kh * kw * c), x.dtype)
    im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)
    dense_forward(cols, w.reshape(kh * kw * c, f), b, out.reshape(n * out_h * out_w, f), activation)


def conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                    activation="linear"):
    """The gradients of ``conv2d_forward``: dense's backward on the patches, then col2im."""
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                          activation)
    n, out_h, out_w, f = out.shape
    kh, kw, c, _ = w.shape
    cols = np.empty((n * out_h * out_w, kh * kw * c), x.dtype)
    im2col(x, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)
    grad_cols = None if grad_x is None else np.empty_like(cols)
    rows, patch = n * out_h * out_w, kh * kw * c
    dense_backward(cols, w.reshape(patch, f), out.reshape(rows, f), grad_out.reshape(rows, f),
                   grad_cols, grad_w.reshape(patch, f), grad_b, activation)
    if grad_x is not None:
        col2im(grad_cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x)


def conv2d_backward_sparse(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w,
                           grad_b, activation="linear"):
    """The gradients of a convolution, as ``conv2d_backward``.  The compiled kernel adds
    only the terms of the nonzero dL/dz; multiplying the zeros too gives the same sums."""
    check_conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                          activation, "conv2d_backward_sparse")
    conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x, grad_w, grad_b,
                    activation)


def gradient_nonzeros(out, grad_out, activation="linear"):
    """How many values of dL/dz = grad_out * act'(out) are nonzero (NaN counts)."""
    check_gradient_nonzeros(out, grad_out, activation)
    derivative = _activation_derivative(out, activation)
    grad_z = grad_out if derivative is None else grad_out * derivative
    return int(np.count_nonzero(grad_z))


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
    Padding is -inf, so it never wins.  Ties go to the first in row order.
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
    (about 1e-38 in the compiled float32 kernel, whose exp stops at exp(-87)).
    """
    check_softmax(logits, probs)
    # invalid: inf - inf; over: z - max z below the float's range, which is -inf (exp 0)
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
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
    check_optimizer("adam_update", param, grad, m, v, v_max)
    m += (1 - beta_1) * (grad - m)
    v += (1 - beta_2) * (grad * grad - v)
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    param -= lr_t * m / (np.sqrt(v) + epsilon)
