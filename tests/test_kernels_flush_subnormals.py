"""Subnormal floats count as 0 in the compiled BLAS products, the recurrent step kernels
and packed_gemm (flush_denormals.h), as TensorFlow computes on the CPU; the twins keep
them.  Each value counted as 0 is off by less than float32's smallest normal value
(1.2e-38) (a sum of k such terms by k times that, times the other factor), and the
setting ends with each call (NumPy afterwards computes subnormals again)."""

import os
import platform

import numpy as np
import pytest

import minidl
from minidl._kernels import compiled, reference
from minidl._kernels.panel_checks import panels_shape

pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64")
    or bool(os.environ.get("MINIDL_UNDER_VALGRIND")),  # (valgrind ignores the flush bits)
    reason="subnormals are flushed on x86-64 only (natively)")

TINY = np.float32(1e-39)  # subnormal: below 1.2e-38
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


def _numpy_still_keeps_subnormals():
    assert np.float32(1e-38) / np.float32(10) != 0


@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_counts_subnormal_inputs_as_zero(threads, restore_threads):
    minidl.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a = np.full((300, 200), TINY, np.float32)  # big enough to be split over two threads
    b = rng.uniform(1, 2, (200, 40)).astype(np.float32)
    ours, twin = np.ones((300, 40), np.float32), np.ones((300, 40), np.float32)
    compiled.gemm(a, b, ours)
    reference.gemm(a, b, twin)
    assert np.all(ours == 0) and np.all(twin > 0)
    # each of the 200 terms is off by less than 1.2e-38 times b's value (at most 2)
    np.testing.assert_allclose(ours, twin, rtol=0, atol=200 * 2 * SMALLEST_NORMAL)
    _numpy_still_keeps_subnormals()


def test_a_product_that_would_be_subnormal_is_zero():
    """Normal inputs whose products fall below 1.2e-38: 0 (flush to zero), not a subnormal."""
    x = np.full((8, 16), 1e-20, np.float32)
    w = np.full((16, 4), 1e-20, np.float32)
    ours, twin = np.empty((8, 4), np.float32), np.empty((8, 4), np.float32)
    compiled.dense_forward(x, w, None, ours)
    reference.dense_forward(x, w, None, twin)
    assert np.all(ours == 0) and np.all(twin > 0)
    np.testing.assert_allclose(ours, twin, rtol=0, atol=SMALLEST_NORMAL)
    _numpy_still_keeps_subnormals()


@pytest.mark.parametrize("threads", [1, 2])
def test_packed_gemm_counts_subnormals_as_zero(threads, restore_threads):
    minidl.set_num_threads(threads)
    b = np.random.default_rng(1).uniform(1, 2, (128, 192)).astype(np.float32)
    packed = np.empty(panels_shape(128, 192), np.float32)
    compiled.pack_panels(b, packed)
    a = np.full((64, 128), TINY, np.float32)
    ours, twin = np.zeros((64, 192), np.float32), np.zeros((64, 192), np.float32)
    compiled.packed_gemm(a, packed, ours)
    reference.packed_gemm(a, packed, twin)
    assert np.all(ours == 0) and np.all(twin > 0)
    _numpy_still_keeps_subnormals()


@pytest.mark.parametrize("threads", [1, 2])
def test_recurrent_steps_count_subnormal_gradients_as_zero(threads, restore_threads):
    """A GRU's or SimpleRNN's gradient after many steps back, in the subnormals: 0."""
    minidl.set_num_threads(threads)
    rng = np.random.default_rng(2)
    n, units = 256, 64  # big enough to be split over two threads
    grad_h = np.full((n, units), TINY, np.float32)
    h = rng.uniform(-0.5, 0.5, (n, units)).astype(np.float32)
    results = []
    for backend in (compiled, reference):
        grad_pre, grad_h_prev = np.ones_like(h), np.ones_like(h)
        backend.rnn_step_backward(h, grad_h, None, grad_pre, grad_h_prev)
        results.append(grad_pre)
    assert np.all(results[0] == 0) and np.all(results[1] != 0)
    gates = rng.uniform(0.1, 0.9, (n, 3 * units)).astype(np.float32)
    rec = rng.uniform(-1, 1, (n, 3 * units)).astype(np.float32)
    outputs = []
    for backend in (compiled, reference):
        grad_gates, grad_rec = np.ones_like(gates), np.ones_like(rec)
        grad_h_prev = np.ones_like(h)
        backend.gru_step_backward(gates, rec, h, grad_h, None, grad_gates, grad_rec,
                                  grad_h_prev)
        outputs.append((grad_gates, grad_rec, grad_h_prev))
    for ours, twin in zip(*outputs):
        assert np.all(ours == 0) and np.any(twin != 0)
        np.testing.assert_allclose(ours, twin, rtol=0, atol=SMALLEST_NORMAL)
    _numpy_still_keeps_subnormals()


def test_a_gru_over_a_long_sequence_matches_the_twins():
    """A GRU over 200 steps whose gradient shrinks into the subnormals on its way back
    (small recurrent weights): the compiled kernels (flushing them) and the twins
    (keeping them) give the same output and gradients, to float32 rounding."""
    from minidl import _kernels, ops
    from minidl.tensor import Tensor

    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 200, 4)).astype(np.float32)
    w = (rng.normal(size=(4, 18)) * 0.3).astype(np.float32)
    u = (rng.normal(size=(6, 18)) * 0.3).astype(np.float32)
    b = (rng.normal(size=(2, 18)) * 0.1).astype(np.float32)
    results = []
    for backend in ("compiled", "reference"):
        previous = _kernels.current.NAME
        _kernels.use(backend)
        try:
            tensors = [Tensor(a, requires_grad=True) for a in (x, w, u, b)]
            out, h = ops.recurrent.gru(*tensors)
            (out[:, -1].sum() + h.sum()).backward()
            results.append([out.data] + [t.grad for t in tensors])
        finally:
            _kernels.use(previous)
    assert np.any((results[1][1] != 0) & (np.abs(results[1][1]) < SMALLEST_NORMAL))
    for ours, twin in zip(*results):
        np.testing.assert_allclose(ours, twin, rtol=1e-4, atol=1e-5)
