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


class _Convolution:
    """A valid 3x3 convolution's arrays (NHWC x, HWIO kernel, relu) and its forward +
    backward three ways: as ``ops.conv2d`` runs it with the given kernels, or through
    im2col's products whatever the kernels."""

    def __init__(self, n, h, w, c, filters, k=3):
        oh, ow = h - k + 1, w - k + 1
        self.geometry = (k, k, 1, 1, 0, 0, oh, ow)
        self.x = np.maximum(_normal(n, h, w, c), 0)
        self.kernel = _normal(k, k, c, filters) * 0.1
        self.bias = _normal(filters) * 0.1
        self.cols = np.empty((n * oh * ow, k * k * c), np.float32)
        self.out = np.empty((n, oh, ow, filters), np.float32)
        self.grad_out = _normal(n, oh, ow, filters)  # dense: every multiply-add counts
        self.grads = (np.empty_like(self.x), np.empty_like(self.kernel), np.empty_like(self.bias))
        self.grad_cols = np.empty_like(self.cols)

    def behind_max_pool(self):
        """Make grad_out what a 2x2 max-pooling after the relu hands back: one nonzero per
        pooling window (about a sixth of the values)."""
        from minidl._kernels import compiled

        self.products(compiled)
        n, oh, ow, f = self.out.shape
        pooled = np.empty((n, oh // 2, ow // 2, f), np.float32)
        argmax = np.empty(pooled.shape, np.int64)
        compiled.max_pool2d_forward(self.out, 2, 2, 2, 2, 0, 0, pooled, argmax)
        compiled.max_pool2d_backward(_normal(*pooled.shape), argmax, self.grad_out)
        return self

    def as_ops_run_it(self, kernels):
        """As ops.conv2d runs it with these kernels (``_kernels/conv_plan.py``): compiled,
        Winograd's F(4x4, 3x3) both ways; the twins, im2col's products."""
        from minidl._kernels.conv_plan import choose_algorithm

        if choose_algorithm(self.kernel.shape, (1, 1), kernels.NAME) == "winograd":
            kernels.conv2d_winograd_forward(self.x, self.kernel, self.bias, 0, 0, self.out, "relu")
            kernels.conv2d_winograd_backward(self.x, self.kernel, self.out, self.grad_out, 0, 0,
                                             *self.grads, "relu")
        else:
            self.products(kernels)

    def products(self, kernels):
        """im2col + product (bias, relu) + the backward products + col2im."""
        self._forward(kernels)
        rows, f = self.cols.shape[0], self.kernel.shape[3]
        grad_x, grad_k, grad_b = self.grads
        kernels.dense_backward(self.cols, self.kernel.reshape(-1, f), self.out.reshape(rows, f),
                               self.grad_out.reshape(rows, f), self.grad_cols,
                               grad_k.reshape(-1, f), grad_b, "relu")
        kernels.col2im(self.grad_cols, *self.geometry, grad_x)

    def _forward(self, kernels):
        f = self.kernel.shape[3]
        kernels.im2col(self.x, *self.geometry, self.cols)
        kernels.dense_forward(self.cols, self.kernel.reshape(-1, f), self.bias,
                              self.out.reshape(-1, f), "relu")


def conv_case(n, h, w, c, filters, k=3):
    """A valid k x k convolution, forward and backward, with a dense (random) gradient, as
    ops.conv2d runs it with each backend (compiled: Winograd; twins: im2col + products)."""
    return _Convolution(n, h, w, c, filters, k).as_ops_run_it


def im2col_conv_case(n, h, w, c, filters, k=3):
    """The same convolution through im2col's products on both sides (what the compiled
    kernels ran before Winograd; still their way for other kernel sizes and strides)."""
    return _Convolution(n, h, w, c, filters, k).products


def pooled_conv_case(n, h, w, c, filters, k=3):
    """The same convolution the way the tutorial CNN trains it: followed by a 2x2
    max-pooling, whose backward hands it a gradient with one nonzero per pooling window.
    The compiled side is Winograd as with any gradient; the twins' products multiply
    the zeros as well."""
    return _Convolution(n, h, w, c, filters, k).behind_max_pool().as_ops_run_it


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


def softmax_case(n, c):
    """Softmax alone, forward only (its backward is no kernel of its own)."""
    logits = _normal(n, c)
    probs = np.empty_like(logits)

    def step(kernels):
        kernels.softmax_forward(logits, probs)

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


def optimizer_case(kernel, size=118_282):
    """One step of Keras 2's other optimizers on the same weights as adam_case
    (arguments as the optimizer classes pass them, Ftrl's accumulator at its 0.1)."""
    w, g, m = _normal(size), _normal(size), np.zeros(size, np.float32)
    s, d = np.full(size, 0.1, np.float32), np.zeros(size, np.float32)
    arguments = {
        "adagrad_update": (w, g, s, 1e-3, 1e-7),
        "adadelta_update": (w, g, s, d, 1e-3, 0.95, 1e-7),
        "adamax_update": (w, g, m, d, 1e-2, 0.9, 0.999, 1e-7),
        "nadam_update": (w, g, m, d, 1e-3, 4.7, 0.6, 9.5, 0.9, 0.999, 1e-7),
        "adamw_update": (w, g, m, d, None, 1e-3, 4e-6, 0.9, 0.999, 1e-7),
        "ftrl_update": (w, g, s, d, 1e-3, -0.5, 0.0, 0.0, 0.0, 0.0),
    }[kernel]

    def step(kernels):
        getattr(kernels, kernel)(*arguments)

    return step


def gemm_case(n, k, m):
    a, b = _normal(n, k), _normal(k, m)
    out = np.empty((n, m), np.float32)

    def step(kernels):
        kernels.gemm(a, b, out)

    return step


def embedding_case(n, vocabulary, width):
    """M6's lookup: n tokens (batch x steps) in an Embedding(vocabulary, width)."""
    indices = RNG.integers(0, vocabulary, n).astype(np.int64)
    weights = _normal(vocabulary, width)
    out, grad_weights = np.empty((n, width), np.float32), np.empty_like(weights)
    grad_out = _normal(n, width)

    def step(kernels):
        kernels.embedding_forward(indices, weights, out)
        kernels.embedding_backward(indices, grad_out, grad_weights)

    return step


def string_hash_case(n, kernel):
    """A batch of reviews' words for a Hashing layer: n words of 2-11 letters, end to end."""
    lengths = RNG.integers(2, 12, n)
    data = RNG.integers(97, 123, int(lengths.sum())).astype(np.uint8)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    out = np.empty(n, np.uint64)

    def step(kernels):
        if kernel == "siphash64":
            kernels.siphash64(data, offsets, 1337, 1337, out)
        else:
            kernels.fingerprint64(data, offsets, out)

    return step


def lstm_step_case(n, units):
    """One LSTM step's fused gates + state update, forward and backward (M5's shapes)."""
    z, c_prev, h_prev = _normal(n, 4 * units), _normal(n, units), _normal(n, units)
    gates, c, h = np.empty_like(z), np.empty_like(c_prev), np.empty_like(c_prev)
    grad_h, grad_c = _normal(n, units), _normal(n, units)
    grad_gates, grad_c_prev, grad_h_prev = np.empty_like(z), np.empty_like(c), np.empty_like(c)

    def step(kernels):
        gates[...] = z
        kernels.lstm_step_forward(gates, c_prev, h_prev, c, h, None)
        kernels.lstm_step_backward(gates, c_prev, c, grad_h, grad_c, None, grad_gates,
                                   grad_c_prev, grad_h_prev)

    return step


def lstm_sequence_case(n, steps, features, units):
    """An LSTM's whole time loop, forward and backward (lstm_sequence_*): M5's and M6's
    shapes, with a bias and no mask; the weight gradient of every step added up."""
    from minidl._kernels.panel_checks import panels_shape

    k = features + units + 1
    xh = _normal(steps, n, k)
    xh[:, :, -1] = 1
    stacked = _normal(k, 4 * units) * 0.1
    u = np.ascontiguousarray(stacked[features:features + units])
    cells, hidden = np.zeros((steps + 1, n, units), np.float32), np.zeros((steps + 1, n, units), np.float32)
    gates = np.empty((steps, n, 4 * units), np.float32)
    grad_gates, grad_stacked = np.empty((n, 4 * units), np.float32), np.empty_like(stacked)
    packed = np.empty(panels_shape(k, 4 * units), np.float32)
    packed_ut = np.empty(panels_shape(4 * units, units), np.float32)
    grad_h0, grad_c0 = _normal(n, units), _normal(n, units)

    def step(kernels):
        kernels.pack_panels(stacked, packed)
        kernels.lstm_sequence_forward(xh, packed, gates, cells, hidden, None, None, features)
        kernels.pack_panels(u, packed_ut, trans_b=True)
        kernels.lstm_sequence_backward(xh, packed_ut, gates, cells, None, grad_h0.copy(),
                                       grad_c0.copy(), None, None, grad_gates, grad_stacked,
                                       features, 1)

    return step


def gru_step_case(n, units):
    """One GRU step (reset_after) forward and backward."""
    x, rec, h_prev, grad_h = (_normal(n, 3 * units), _normal(n, 3 * units), _normal(n, units),
                              _normal(n, units))
    gates, h = np.empty_like(x), np.empty_like(h_prev)
    grad_gates, grad_rec, grad_h_prev = np.empty_like(x), np.empty_like(x), np.empty_like(h)

    def step(kernels):
        gates[...] = x
        kernels.gru_step_forward(gates, rec, h_prev, h, None)
        kernels.gru_step_backward(gates, rec, h_prev, grad_h, None, grad_gates, grad_rec,
                                  grad_h_prev)

    return step


def gru_reset_before_step_case(n, units):
    """One GRU(reset_after=False) step's four element-wise passes, forward and backward
    (the products between them are not timed)."""
    x, rec, h_prev, rec_h, grad_h, grad_reset = (
        _normal(n, 3 * units), _normal(n, 2 * units), _normal(n, units), _normal(n, units),
        _normal(n, units), _normal(n, units))
    gates, reset_h, h = np.empty_like(x), np.empty_like(h_prev), np.empty_like(h_prev)
    grad_cand, grad_dropped, grad_h_prev = (np.empty_like(h_prev) for _ in range(3))
    grad_gates = np.empty_like(rec)

    def step(kernels):
        gates[...] = x
        kernels.gru_reset_before_gates_forward(gates, rec, h_prev, reset_h)
        kernels.gru_reset_before_state_forward(gates, rec_h, h_prev, h, None)
        kernels.gru_reset_before_candidate_backward(gates, grad_h, None, grad_cand)
        kernels.gru_reset_before_gates_backward(gates, h_prev, h_prev, grad_h, grad_reset, None,
                                                grad_gates, grad_dropped, grad_h_prev)

    return step


CASES = {
    "dense 32x784x128 +bias+relu": lambda: dense_case(32, 784, 128),
    "dense 64x784x128 +bias+relu": lambda: dense_case(64, 784, 128),
    "conv 64x28x28x1 -> 32 (3x3)": lambda: direct_conv_case(64, 28, 28, 1, 32),
    "conv 64x13x13x32 -> 64 (3x3)": lambda: conv_case(64, 13, 13, 32, 64),
    "  same, behind 2x2 max-pool": lambda: pooled_conv_case(64, 13, 13, 32, 64),
    "  same, both through im2col": lambda: im2col_conv_case(64, 13, 13, 32, 64),
    "max-pool 64x26x26x32 (2x2)": lambda: max_pool_case(64, 26, 26, 32),
    "max-pool 64x11x11x64 (2x2)": lambda: max_pool_case(64, 11, 11, 64),
    "softmax 32x10 (forward)": lambda: softmax_case(32, 10),
    "softmax 1000x10 (forward)": lambda: softmax_case(1000, 10),
    "softmax-xent 64x10": lambda: softmax_xent_case(64, 10),
    "softmax-xent 256x10": lambda: softmax_xent_case(256, 10),
    "adam 118,282 weights": adam_case,
    "adagrad 118,282 weights": lambda: optimizer_case("adagrad_update"),
    "adadelta 118,282 weights": lambda: optimizer_case("adadelta_update"),
    "adamax 118,282 weights": lambda: optimizer_case("adamax_update"),
    "nadam 118,282 weights": lambda: optimizer_case("nadam_update"),
    "adamw 118,282 weights": lambda: optimizer_case("adamw_update"),
    "ftrl 118,282 weights": lambda: optimizer_case("ftrl_update"),
    "gemm 64x784x128": lambda: gemm_case(64, 784, 128),
    "embedding 128x200 in 10000x32": lambda: embedding_case(128 * 200, 10000, 32),
    "fingerprint64 128x200 words": lambda: string_hash_case(128 * 200, "fingerprint64"),
    "siphash64 128x200 words": lambda: string_hash_case(128 * 200, "siphash64"),
    "lstm step 64x128 (M5)": lambda: lstm_step_case(64, 128),
    "lstm 28 steps 64x28 -> 128 (M5)": lambda: lstm_sequence_case(64, 28, 28, 128),
    "lstm 200 steps 128x32 -> 32 (M6)": lambda: lstm_sequence_case(128, 200, 32, 32),
    "gru step 64x128": lambda: gru_step_case(64, 128),
    "gru step 64x128, reset_after=False": lambda: gru_reset_before_step_case(64, 128),
}
