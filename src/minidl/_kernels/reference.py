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
    check_softmax_xent,
)

NAME = "reference"
# the twin of conv2d_backward_sparse multiplies the zeros too (NumPy has no faster way
# than its products), so the ops never ask for it; it is there to test the compiled one
SPARSE_BACKWARD = False


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
    check_pool(grad_x, ph, pw, sh, sw, pad_top, pad_left, grad_out, None)
    n, h, w, c = grad_x.shape
    out_h, out_w = grad_out.shape[1:3]
    counts = _window_counts(h, w, ph, pw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x.dtype)
    share = grad_out / counts
    cols = np.repeat(share[:, :, :, None, :], ph * pw, axis=3)
    col2im(cols.reshape(n * out_h * out_w, ph * pw * c), ph, pw, sh, sw, pad_top, pad_left,
           out_h, out_w, grad_x)


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
    check_softmax_xent(grad_logits, labels, probs, grad_losses)
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
