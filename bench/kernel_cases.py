"""The kernel workloads of the tutorial models, shared by the kernel benchmarks.

Each case builds its arrays once and returns a function ``step(backend)``
that runs the kernel's forward and backward on them, so the compiled kernels
and their NumPy twins are timed on exactly the same work.
"""

import contextlib

import numpy as np

RNG = np.random.default_rng(0)


@contextlib.contextmanager
def numpy_blas_threads():
    """Inside: numpy's OpenBLAS on as many threads as minidl's products use.

    minidl keeps the OpenBLAS it calls on one thread (it splits big products
    over its own threads); when that is numpy's, numpy's ``@`` -- the NumPy
    twins and the ``@`` baselines -- would run single-threaded too.  A plain
    NumPy program gets every core, so the twins are timed that way.
    """
    from minidl._kernels import compiled, dense

    blas = compiled.BLAS
    if blas.name != "numpy" or blas.set_threads is None:
        yield
        return
    blas.set_threads(dense.blas_thread_limit())
    try:
        yield
    finally:
        blas.set_threads(1)


def _normal(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def dense_case(n, k, m, activation="relu"):
    x, w, b = _normal(n, k), _normal(k, m) * 0.05, _normal(m)
    out = np.empty((n, m), np.float32)
    grad_out = _normal(n, m)
    grad_x, grad_w, grad_b = np.empty_like(x), np.empty_like(w), np.empty_like(b)

    def step(kernels):
        kernels.dense_forward(x, w, b, out, activation)
        kernels.dense_backward(x, w, out, grad_out, grad_x, grad_w, grad_b, activation)

    return step


def conv_case(n, h, w, c, filters, k=3):
    """im2col + product + col2im: a valid 'k x k' convolution, forward and backward, with
    a dense (random) gradient, so every multiply-add of the products counts."""
    oh, ow = h - k + 1, w - k + 1
    x = _normal(n, h, w, c)
    kernel = _normal(k * k * c, filters) * 0.1
    bias = _normal(filters)
    cols = np.empty((n * oh * ow, k * k * c), np.float32)
    out = np.empty((n * oh * ow, filters), np.float32)
    grad_out = _normal(n * oh * ow, filters)
    grad_cols, grad_k, grad_b = np.empty_like(cols), np.empty_like(kernel), np.empty_like(bias)
    grad_x = np.empty_like(x)

    def step(kernels):
        kernels.im2col(x, k, k, 1, 1, 0, 0, oh, ow, cols)
        kernels.dense_forward(cols, kernel, bias, out, "relu")
        kernels.dense_backward(cols, kernel, out, grad_out, grad_cols, grad_k, grad_b, "relu")
        kernels.col2im(grad_cols, k, k, 1, 1, 0, 0, oh, ow, grad_x)

    return step


def pooled_conv_case(n, h, w, c, filters, k=3):
    """The same convolution as ``conv_case`` the way the tutorial CNN trains it: followed
    by a 2x2 max-pooling, whose backward hands it a gradient with one nonzero per pooling
    window.  The backward is what ``ops.conv2d`` runs: with the compiled kernels, the walk
    over the nonzeros of dL/dz (``conv2d_backward_sparse``); with the NumPy twins, whose
    products are their fastest way, the products and col2im."""
    from minidl._kernels import compiled
    from minidl.ops.conv import sparse_backward_pays

    oh, ow = h - k + 1, w - k + 1
    x = np.maximum(_normal(n, h, w, c), 0)
    kernel = _normal(k, k, c, filters) * 0.1
    bias = _normal(filters) * 0.1
    cols = np.empty((n * oh * ow, k * k * c), np.float32)
    out = np.empty((n * oh * ow, filters), np.float32)
    # the gradient max-pooling gives back, from the forward's output
    compiled.im2col(x, k, k, 1, 1, 0, 0, oh, ow, cols)
    compiled.dense_forward(cols, kernel.reshape(-1, filters), bias, out, "relu")
    image = out.reshape(n, oh, ow, filters)
    pooled = np.empty((n, oh // 2, ow // 2, filters), np.float32)
    argmax = np.empty(pooled.shape, np.int64)
    compiled.max_pool2d_forward(image, 2, 2, 2, 2, 0, 0, pooled, argmax)
    grad_out = np.empty_like(image)
    compiled.max_pool2d_backward(_normal(*pooled.shape), argmax, grad_out)
    grad_cols, grad_k, grad_b = np.empty_like(cols), np.empty_like(kernel), np.empty_like(bias)
    grad_x = np.empty_like(x)

    def step(kernels):
        kernels.im2col(x, k, k, 1, 1, 0, 0, oh, ow, cols)
        kernels.dense_forward(cols, kernel.reshape(-1, filters), bias, out, "relu")
        if sparse_backward_pays(kernels, image, grad_out, "relu"):
            kernels.conv2d_backward_sparse(x, kernel, image, grad_out, 1, 1, 0, 0, grad_x, grad_k,
                                           grad_b, "relu")
        else:
            kernels.dense_backward(cols, kernel.reshape(-1, filters), out,
                                   grad_out.reshape(out.shape), grad_cols,
                                   grad_k.reshape(-1, filters), grad_b, "relu")
            kernels.col2im(grad_cols, k, k, 1, 1, 0, 0, oh, ow, grad_x)

    return step


def direct_conv_case(n, h, w, c, filters, k=3):
    """The direct kernels (what conv2d uses for small patches), forward and backward.

    Like a first layer in training, the backward computes no input gradient
    (the images need none); the twin then skips its col2im too.
    """
    oh, ow = h - k + 1, w - k + 1
    x = _normal(n, h, w, c)
    kernel = _normal(k, k, c, filters) * 0.1
    bias = _normal(filters)
    out = np.empty((n, oh, ow, filters), np.float32)
    grad_out = _normal(n, oh, ow, filters)
    grad_k, grad_b = np.empty_like(kernel), np.empty_like(bias)

    def step(kernels):
        kernels.conv2d_forward(x, kernel, bias, 1, 1, 0, 0, out, "relu")
        kernels.conv2d_backward(x, kernel, out, grad_out, 1, 1, 0, 0, None, grad_k, grad_b, "relu")

    return step


def max_pool_case(n, h, w, c, p=2):
    x = _normal(n, h, w, c)
    shape = (n, h // p, w // p, c)
    out, argmax = np.empty(shape, np.float32), np.empty(shape, np.int64)
    grad = _normal(*shape)
    grad_x = np.empty_like(x)

    def step(kernels):
        kernels.max_pool2d_forward(x, p, p, p, p, 0, 0, out, argmax)
        kernels.max_pool2d_backward(grad, argmax, grad_x)

    return step


def softmax_xent_case(n, c):
    logits = _normal(n, c)
    labels = RNG.integers(0, c, n).astype(np.int64)
    probs, losses = np.empty_like(logits), np.empty(n, np.float32)
    grad_losses = np.full(n, 1.0 / n, np.float32)
    grad_logits = np.empty_like(logits)

    def step(kernels):
        kernels.softmax_cross_entropy_forward(logits, labels, probs, losses)
        kernels.softmax_cross_entropy_backward(probs, labels, grad_losses, grad_logits)

    return step


def adam_case(size=118_282):
    w, g = _normal(size), _normal(size)
    m, v = np.zeros(size, np.float32), np.zeros(size, np.float32)

    def step(kernels):
        kernels.adam_update(w, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7)

    return step


def gemm_case(n, k, m):
    a, b = _normal(n, k), _normal(k, m)
    out = np.empty((n, m), np.float32)

    def step(kernels):
        kernels.gemm(a, b, out)

    return step


CASES = {
    "dense 32x784x128 +bias+relu": lambda: dense_case(32, 784, 128),
    "dense 64x784x128 +bias+relu": lambda: dense_case(64, 784, 128),
    "conv 64x28x28x1 -> 32 (3x3)": lambda: direct_conv_case(64, 28, 28, 1, 32),
    "conv 64x13x13x32 -> 64 (3x3)": lambda: conv_case(64, 13, 13, 32, 64),
    "  same, behind 2x2 max-pool": lambda: pooled_conv_case(64, 13, 13, 32, 64),
    "max-pool 64x26x26x32 (2x2)": lambda: max_pool_case(64, 26, 26, 32),
    "max-pool 64x11x11x64 (2x2)": lambda: max_pool_case(64, 11, 11, 64),
    "softmax-xent 64x10": lambda: softmax_xent_case(64, 10),
    "softmax-xent 256x10": lambda: softmax_xent_case(256, 10),
    "adam 118,282 weights": adam_case,
    "gemm 64x784x128": lambda: gemm_case(64, 784, 128),
}
