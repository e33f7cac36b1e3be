"""Every compiled kernel against its NumPy twin in reference.py, on many shapes."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from minidl._kernels import compiled, reference
from minidl._kernels.conv import available_vector_isas, using_vector_isa

FLOATS = [np.float32, np.float64]
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tolerance(dtype):
    return dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def run_both(name, make_args, outputs, dtype, large_sums=False):
    """Call compiled and reference on fresh copies of the same arguments; compare outputs.

    ``large_sums``: the outputs are sums of many large terms (the tutorial shapes), whose
    rounding depends on the order of the additions (each copy of a kernel, isa.h, and
    each BLAS adds in its own); a value that cancels to near zero then keeps an error of
    about 1e-6 of the largest value, which the absolute tolerance allows for."""
    results = []
    for backend in (compiled, reference):
        args = make_args()
        getattr(backend, name)(*args)
        results.append([args[i] for i in outputs])
    for a, b in zip(*results):
        if a.dtype == np.int64:
            np.testing.assert_array_equal(a, b)
        else:
            tol = tolerance(dtype)
            if large_sums:
                tol["atol"] = max(tol["atol"], 1e-6 * float(np.max(np.abs(b), initial=0)))
            np.testing.assert_allclose(a, b, **tol)
    return results[0]


@SETTINGS
@given(n=st.integers(0, 9), k=st.integers(0, 9), m=st.integers(1, 9), dtype=st.sampled_from(FLOATS),
       activation=st.sampled_from(ACTIVATIONS), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_dense_forward_and_backward(n, k, m, dtype, activation, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)).astype(dtype)
    w = rng.normal(size=(k, m)).astype(dtype)
    b = rng.normal(size=m).astype(dtype) if bias else None
    g = rng.normal(size=(n, m)).astype(dtype)
    (out,) = run_both("dense_forward", lambda: (x, w, b, np.empty((n, m), dtype), activation), [3], dtype)
    run_both(
        "dense_backward",
        lambda: (x, w, out, g.copy(), np.empty((n, k), dtype), np.empty((k, m), dtype),
                 np.empty(m, dtype) if bias else None, activation),
        [3, 4, 5] + ([6] if bias else []), dtype,
    )


@SETTINGS
@given(m=st.integers(1, 7), n=st.integers(1, 7), k=st.integers(1, 7), ta=st.booleans(),
       tb=st.booleans(), beta=st.sampled_from([0.0, 0.5]), dtype=st.sampled_from(FLOATS))
def test_gemm(m, n, k, ta, tb, beta, dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(k, m) if ta else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if tb else (k, n)).astype(dtype)
    c = rng.normal(size=(m, n)).astype(dtype)
    run_both("gemm", lambda: (a, b, c.copy(), ta, tb, 1.5, beta), [2], dtype)


window = st.tuples(
    st.integers(1, 4), st.integers(1, 4),  # kh, kw
    st.integers(1, 3), st.integers(1, 3),  # sh, sw
)


def valid_geometry(h, w, kh, kw, sh, sw, pad_top, pad_left, extra_h, extra_w):
    """Output size for the padded image, or None when the geometry is not allowed."""
    if pad_top >= kh or pad_left >= kw:
        return None
    out_h = (h + pad_top + extra_h - kh) // sh + 1
    out_w = (w + pad_left + extra_w - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        return None
    if (out_h - 1) * sh - pad_top >= h or (out_w - 1) * sw - pad_left >= w:
        return None
    return out_h, out_w


@SETTINGS
@given(n=st.integers(1, 3), h=st.integers(1, 8), w=st.integers(1, 8), c=st.integers(1, 4),
       win=window, pads=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 999))
def test_im2col_col2im(n, h, w, c, win, pads, dtype, seed):
    kh, kw, sh, sw = win
    geometry = valid_geometry(h, w, kh, kw, sh, sw, *pads)
    if geometry is None:
        return
    out_h, out_w = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c)).astype(dtype)
    cols_shape = (n * out_h * out_w, kh * kw * c)
    run_both("im2col", lambda: (x, kh, kw, sh, sw, pads[0], pads[1], out_h, out_w,
                                np.empty(cols_shape, dtype)), [9], dtype)
    cols = rng.normal(size=cols_shape).astype(dtype)
    run_both("col2im", lambda: (cols, kh, kw, sh, sw, pads[0], pads[1], out_h, out_w,
                                np.empty_like(x)), [9], dtype)


def conv_case(n, h, w, c, win, pads, f, dtype, seed):
    """``(rng, x, kernel, (sh, sw, pad_top, pad_left), (out_h, out_w))`` of a random
    convolution, or None when the geometry is not allowed."""
    kh, kw, sh, sw = win
    geometry = valid_geometry(h, w, kh, kw, sh, sw, *pads)
    if geometry is None:
        return None
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c)).astype(dtype)
    k = rng.normal(size=(kh, kw, c, f)).astype(dtype)
    return rng, x, k, (sh, sw, pads[0], pads[1]), geometry


@SETTINGS
@given(n=st.integers(1, 3), h=st.integers(1, 12), w=st.integers(1, 12), c=st.integers(1, 4),
       win=window, pads=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
       f=st.sampled_from([1, 3, 4, 8, 16, 17, 32, 48]), activation=st.sampled_from(ACTIVATIONS),
       bias=st.booleans(), want_x=st.booleans(), dtype=st.sampled_from(FLOATS),
       isa=st.sampled_from(available_vector_isas()), seed=st.integers(0, 999))
def test_direct_convolution(n, h, w, c, win, pads, f, activation, bias, want_x, dtype, isa, seed):
    """conv2d_forward/backward, in every copy of conv_direct.h this CPU can run (vectors of
    16, 8 or 4 floats, isa.h); filters in whole vectors take the 4-pixel fast path where
    windows lie inside the image, 1, 3 and 17 its leftover-filter loop."""
    case = conv_case(n, h, w, c, win, pads, f, dtype, seed)
    if case is None:
        return
    rng, x, k, conv, (out_h, out_w) = case
    b = rng.normal(size=f).astype(dtype) if bias else None
    g = rng.normal(size=(n, out_h, out_w, f)).astype(dtype)
    with using_vector_isa(isa):
        (out,) = run_both("conv2d_forward", lambda: (x, k, b, *conv, np.empty((n, out_h, out_w, f), dtype),
                                                     activation), [7], dtype)
        run_both("conv2d_backward",
                 lambda: (x, k, out, g, *conv, np.empty_like(x) if want_x else None, np.empty_like(k),
                          np.empty(f, dtype) if bias else None, activation),
                 ([8] if want_x else []) + [9] + ([10] if bias else []), dtype)


@pytest.mark.parametrize("isa", available_vector_isas())
def test_direct_convolution_at_the_tutorial_shape(isa):
    """64 grey 28x28 images, 32 filters 3x3: the first layer of the tutorials' CNN."""
    rng = np.random.default_rng(3)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    k = rng.normal(size=(3, 3, 1, 32)).astype(np.float32)
    b = rng.normal(size=32).astype(np.float32)
    g = rng.normal(size=(64, 26, 26, 32)).astype(np.float32)
    with using_vector_isa(isa):
        (out,) = run_both("conv2d_forward", lambda: (x, k, b, 1, 1, 0, 0,
                                                     np.empty((64, 26, 26, 32), np.float32), "relu"),
                          [7], np.float32, large_sums=True)
        run_both("conv2d_backward", lambda: (x, k, out, g, 1, 1, 0, 0, None, np.empty_like(k),
                                             np.empty_like(b), "relu"), [9, 10], np.float32,
                 large_sums=True)


@SETTINGS
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 4),
       win=window, pads=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 999))
def test_pooling(n, h, w, c, win, pads, dtype, seed):
    ph, pw, sh, sw = win
    geometry = valid_geometry(h, w, ph, pw, sh, sw, *pads)
    if geometry is None:
        return
    out_h, out_w = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c)).astype(dtype)
    g = rng.normal(size=(n, out_h, out_w, c)).astype(dtype)
    shape = (n, out_h, out_w, c)
    out, argmax = run_both(
        "max_pool2d_forward",
        lambda: (x, ph, pw, sh, sw, pads[0], pads[1], np.empty(shape, dtype), np.empty(shape, np.int64)),
        [7, 8], dtype)
    run_both("max_pool2d_backward", lambda: (g, argmax, np.empty_like(x)), [2], dtype)
    run_both("avg_pool2d_forward",
             lambda: (x, ph, pw, sh, sw, pads[0], pads[1], np.empty(shape, dtype)), [7], dtype)
    run_both("avg_pool2d_backward",
             lambda: (g, ph, pw, sh, sw, pads[0], pads[1], np.empty_like(x)), [7], dtype)


def test_max_pool_matches_a_plain_loop():
    x = np.random.default_rng(1).normal(size=(2, 5, 4, 3)).astype(np.float32)
    out = np.empty((2, 2, 2, 3), np.float32)
    argmax = np.empty(out.shape, np.int64)
    compiled.max_pool2d_forward(x, 3, 2, 2, 2, 0, 0, out, argmax)
    for b in range(2):
        for i in range(2):
            for j in range(2):
                window = x[b, 2 * i:2 * i + 3, 2 * j:2 * j + 2]
                np.testing.assert_array_equal(out[b, i, j], window.max(axis=(0, 1)))


@SETTINGS
@given(n=st.integers(1, 9), c=st.integers(1, 12), onehot=st.booleans(),
       scale=st.sampled_from([1.0, 100.0, 1e4]), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 999))
# a loss of 6.7e-4 from logits near 1e4: the kernel rounded it to 7.3e-4 when it added the
# row's maximum back before subtracting the label's logit
@example(n=5, c=6, onehot=False, scale=1e4, dtype=np.float32, seed=415)
@example(n=5, c=6, onehot=True, scale=1e4, dtype=np.float32, seed=415)
def test_softmax_cross_entropy(n, c, onehot, scale, dtype, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(n, c)) * scale).astype(dtype)
    ids = rng.integers(0, c, size=n)
    labels = np.eye(c, dtype=dtype)[ids] if onehot else ids.astype(np.int64)
    probs, losses = run_both(
        "softmax_cross_entropy_forward",
        lambda: (logits, labels, np.empty((n, c), dtype), np.empty(n, dtype)), [2, 3], dtype)
    assert np.all(np.isfinite(losses)) and np.all(losses >= -1e-6)
    grad_losses = np.full(n, 1.0 / n, dtype)
    run_both("softmax_cross_entropy_backward",
             lambda: (probs, labels, grad_losses, np.empty((n, c), dtype)), [3], dtype)


@pytest.mark.parametrize("onehot", [False, True])
def test_a_small_loss_from_large_logits_keeps_float32_precision(onehot):
    """-log p[label] = log sum exp(z - top) - (z[label] - top): small numbers only, so a
    loss of 1e-3 from logits of 1e4 is as precise as float32's log of a sum near 1 (1e-7
    apart); log-sum-exp first, then minus z[label], rounded it to 1e4's spacing, 1e-3."""
    rng = np.random.default_rng(0)
    top = rng.uniform(-1e4, 1e4, size=(64, 1))
    logits = (top - np.c_[np.zeros(64), rng.uniform(4, 12, size=(64, 2))]).astype(np.float32)
    labels = logits.argmax(axis=1)  # losses from 4e-5 to 0.04
    z = logits.astype(np.float64)
    expected = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) \
        - (z[np.arange(64), labels] - z.max(axis=1))
    target = np.eye(3, dtype=np.float32)[labels] if onehot else labels
    for kernels in (compiled, reference):
        losses = np.empty(64, np.float32)
        kernels.softmax_cross_entropy_forward(logits, target, np.empty_like(logits), losses)
        np.testing.assert_allclose(losses, expected, rtol=1e-5, atol=3e-7)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], np.float32)
    probs = np.empty_like(logits)
    losses = np.empty(2, np.float32)
    compiled.softmax_cross_entropy_forward(logits, np.array([1, 2]), probs, losses)
    np.testing.assert_allclose(losses, [2e4, 0.0])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


@SETTINGS
@given(n=st.integers(0, 9), c=st.one_of(st.integers(1, 12), st.integers(13, 70)),
       scale=st.sampled_from([1e-3, 1.0, 100.0, 1e4]), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 999))
def test_softmax_forward(n, c, scale, dtype, seed):
    """Rows of 1 to 70 classes: the vector exp's full vectors and its leftovers."""
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(n, c)) * scale).astype(dtype)
    before = logits.copy()
    (probs,) = run_both("softmax_forward", lambda: (logits, np.empty((n, c), dtype)), [1], dtype)
    np.testing.assert_array_equal(logits, before)
    assert np.all(probs >= 0)
    sum_tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=sum_tolerance)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_forward_is_stable_for_huge_logits(dtype):
    """exp of a logit of 1e4 overflows; exp of (logit - the row's maximum) never does.  At
    the float's limits, -top - top overflows to -inf: a probability of 0, silently."""
    top = np.finfo(dtype).max
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, 1e4], [top, -top, top]],
                      dtype)
    expected = [[1, 0, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0.5]]
    for backend in (compiled, reference):
        probs = np.empty_like(logits)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            backend.softmax_forward(logits, probs)
        np.testing.assert_allclose(probs, expected, rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_forward_row_with_nan_or_inf_is_nan_silently(dtype):
    """NaN or +inf in a row, or a row of -inf only, makes that row NaN (inf - inf is NaN),
    and only that row: no exception, no warning.  A -inf logit beside finite ones is a
    probability of 0 (or next to it)."""
    nan, inf = np.nan, np.inf
    logits = np.array([[0, nan, 1], [0, inf, 1], [-inf, -inf, -inf], [1, 2, 3], [-inf, 0, 1]],
                      dtype)
    for backend in (compiled, reference):
        probs = np.empty_like(logits)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            backend.softmax_forward(logits, probs)
        assert np.isnan(probs[:3]).all()
        np.testing.assert_allclose(probs[3], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(),
                                   rtol=1e-6)
        np.testing.assert_allclose(probs[4], [0, 1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-6,
                                   atol=1e-30)


@SETTINGS
@given(size=st.integers(0, 300), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 999),
       momentum=st.sampled_from([0.0, 0.9]), nesterov=st.booleans(), amsgrad=st.booleans())
def test_optimizer_updates(size, dtype, seed, momentum, nesterov, amsgrad):
    rng = np.random.default_rng(seed)
    w, g = rng.normal(size=(2, size)).astype(dtype)
    s = rng.random(size).astype(dtype)
    v = rng.normal(size=size).astype(dtype)
    run_both("sgd_update", lambda: (w.copy(), g, v.copy(), 0.1, momentum, nesterov), [0, 2], dtype)
    run_both("rmsprop_update",
             lambda: (w.copy(), g, s.copy(), v.copy() if momentum else None, 0.01, 0.9, momentum, 1e-7),
             [0, 2], dtype)
    run_both("adam_update",
             lambda: (w.copy(), g, v.copy(), s.copy(), s.copy() * 2 if amsgrad else None, 0.01,
                      0.9, 0.999, 1e-7), [0, 2, 3], dtype)


def test_large_buffers_run_in_parallel_chunks_and_match():
    """300k values: over optim.PARALLEL_MIN_VALUES, so the chunks are shared by the threads."""
    from minidl._kernels import optim

    assert 300_000 >= optim.PARALLEL_MIN_VALUES
    rng = np.random.default_rng(3)
    w, g, m = rng.normal(size=(3, 300_000)).astype(np.float32)
    v = rng.random(300_000).astype(np.float32)
    run_both("adam_update", lambda: (w.copy(), g, m.copy(), v.copy(), None, 1e-3, 0.9, 0.999, 1e-7),
             [0, 2, 3], np.float32)
    run_both("sgd_update", lambda: (w.copy(), g, m.copy(), 0.01, 0.9, True), [0, 2], np.float32)
    run_both("rmsprop_update", lambda: (w.copy(), g, v.copy(), m.copy(), 1e-3, 0.9, 0.5, 1e-7),
             [0, 2, 3], np.float32)


def test_dense_forward_large_batch_matches_numpy():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 784)).astype(np.float32)
    w = rng.normal(size=(784, 128)).astype(np.float32)
    b = rng.normal(size=128).astype(np.float32)
    out = np.empty((64, 128), np.float32)
    compiled.dense_forward(x, w, b, out, "relu")
    np.testing.assert_allclose(out, np.maximum(x @ w + b, 0), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("n,k,m", [
    (32, 300, 100),   # M2's second layer: dL/dx through transposes, beside dL/dw on the other thread
    (16, 300, 20),    # through transposes, one thread
    (100, 300, 100),  # beside dL/dw, without transposes (more than 64 rows)
    (64, 1600, 128),  # big enough to split each product over the threads
    (32, 128, 10),    # too small for either
    (600, 40, 2000),  # three blocks of rows: the first writes dL/dw and dL/db, the others add
    (296, 8, 1024),   # blocks of 256 rows, then 40: only the last goes through the transposes
])
@pytest.mark.parametrize("dtype", FLOATS)
def test_dense_backward_at_model_shapes(n, k, m, dtype):
    """Shapes the small hypothesis cases never reach: the ways dense_backward schedules
    its products (dense.pyx: _side_by_side, _grad_x_block) against the twin."""
    rng = np.random.default_rng(n + k + m)
    x, w = rng.normal(size=(n, k)).astype(dtype), rng.normal(size=(k, m)).astype(dtype)
    out, g = np.abs(rng.normal(size=(n, m))).astype(dtype), rng.normal(size=(n, m)).astype(dtype)
    out[:, ::3] = 0
    g /= dtype(np.sqrt(n))  # sums over the batch of order 1, like the tolerance
    run_both("dense_backward", lambda: (x, w, out, g, np.empty_like(x), np.empty_like(w),
                                        np.empty(m, dtype), "relu"), [4, 5, 6], dtype)
