"""The embedding kernels (gather forward, scatter-add backward) against their NumPy twins."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import compiled, reference

BACKENDS = [compiled, reference]


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


def run_both(indices, weights, grad_out):
    results = []
    for backend in BACKENDS:
        out = np.empty((indices.size, weights.shape[1]), weights.dtype)
        backend.embedding_forward(indices, weights, out)
        grad_weights = np.empty_like(weights)
        backend.embedding_backward(indices, grad_out, grad_weights)
        results.append((out, grad_weights))
    return results


@settings(max_examples=60, deadline=None)
@given(n=st.sampled_from([0, 1, 2, 7, 300, 9000]), vocabulary=st.integers(1, 40),
       width=st.integers(0, 9), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**31 - 1))
def test_compiled_matches_the_twin(n, vocabulary, width, dtype, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, vocabulary, n).astype(np.int64)
    weights = rng.normal(size=(vocabulary, width)).astype(dtype)
    grad_out = rng.normal(size=(n, width)).astype(dtype)
    (out, grad_w), (twin_out, twin_grad_w) = run_both(indices, weights, grad_out)
    np.testing.assert_array_equal(out, twin_out)
    # both add a word's gradients one after another in token order: the same bits
    np.testing.assert_array_equal(grad_w, twin_grad_w)


def test_values_by_hand():
    weights = np.arange(8, dtype=np.float32).reshape(4, 2)
    indices = np.array([3, 0, 3], np.int64)
    grad_out = np.array([[1, 2], [3, 4], [10, 20]], np.float32)
    for backend in BACKENDS:
        out = np.empty((3, 2), np.float32)
        backend.embedding_forward(indices, weights, out)
        np.testing.assert_array_equal(out, [[6, 7], [0, 1], [6, 7]])
        grad_w = np.full((4, 2), np.nan, np.float32)  # whatever was there is overwritten
        backend.embedding_backward(indices, grad_out, grad_w)
        np.testing.assert_array_equal(grad_w, [[3, 4], [0, 0], [0, 0], [11, 22]])


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.NAME)
@pytest.mark.parametrize("bad", [-1, 5, 2**40, -(2**62)])
def test_indices_out_of_range_are_refused_before_any_read(backend, bad):
    weights = np.ones((5, 3), np.float32)
    indices = np.array([0, 4, bad, 1], np.int64)
    out = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=rf"indices\[2\] = {bad} is not in \[0, 5\)"):
        backend.embedding_forward(indices, weights, out)
    with pytest.raises(ValueError, match=rf"indices\[2\] = {bad} is not in \[0, 5\)"):
        backend.embedding_backward(indices, out, np.empty_like(weights))


def _good():
    return (np.array([0, 1], np.int64), np.ones((3, 4), np.float32), np.empty((2, 4), np.float32))


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.NAME)
@pytest.mark.parametrize("change, match", [
    (lambda i, w, o: (i.astype(np.int32), w, o), "indices must be int64"),
    (lambda i, w, o: (i.astype(np.float64), w, o), "indices must be int64"),
    (lambda i, w, o: (i.reshape(1, 2), w, o), "indices must have 1 dimensions"),
    (lambda i, w, o: (i, w.astype(np.int64), o), "weights must be float32 or float64"),
    (lambda i, w, o: (i, w, o.astype(np.float64)), "share one dtype"),
    (lambda i, w, o: (i, w, np.empty((2, 5), np.float32)), r"out must have shape \(2, 4\)"),
    (lambda i, w, o: (i, w, np.empty((3, 4), np.float32)), r"out must have shape \(2, 4\)"),
    (lambda i, w, o: (i, np.ones((4, 3), np.float32).T, o), "C-contiguous"),
    (lambda i, w, o: (i, w, w[:2]), "shares memory"),
    (lambda i, w, o: (i, w, list(o)), "numpy array"),
])
def test_forward_arguments_checked(backend, change, match):
    with pytest.raises(ValueError, match=match):
        backend.embedding_forward(*change(*_good()))


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.NAME)
def test_backward_arguments_checked(backend):
    indices, weights, grad_out = _good()
    grad_out = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError, match="grad_out must have shape"):
        backend.embedding_backward(indices, np.ones((3, 4), np.float32), weights)
    with pytest.raises(ValueError, match="share one dtype"):
        backend.embedding_backward(indices, grad_out, weights.astype(np.float64))
    read_only = weights.copy()
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="writeable"):
        backend.embedding_backward(indices, grad_out, read_only)
    with pytest.raises(ValueError, match="shares memory"):
        backend.embedding_backward(indices, grad_out, grad_out.reshape(2, 4))


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.NAME)
def test_read_only_inputs_accepted(backend):
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 6, 50).astype(np.int64)
    weights = rng.normal(size=(6, 3)).astype(np.float32)
    grad_out = rng.normal(size=(50, 3)).astype(np.float32)
    for array in (indices, weights, grad_out):
        array.setflags(write=False)
    out = np.empty((50, 3), np.float32)
    backend.embedding_forward(indices, weights, out)
    np.testing.assert_array_equal(out, weights[indices])
    grad_w = np.empty_like(weights)
    backend.embedding_backward(indices, grad_out, grad_w)
    expected = np.zeros_like(weights)
    np.add.at(expected, indices, grad_out)
    np.testing.assert_array_equal(grad_w, expected)


def test_one_and_two_threads_give_the_same_bits(restore_threads):
    rng = np.random.default_rng(2)
    # M6's shapes (batch 128 x 200 tokens, Embedding(10000, 32)): big enough to run in parallel
    indices = rng.integers(0, 10000, 128 * 200).astype(np.int64)
    indices[:500] = 7  # a word repeated many times: its row adds 500+ gradients
    weights = rng.normal(size=(10000, 32)).astype(np.float32)
    grad_out = rng.normal(size=(indices.size, 32)).astype(np.float32)
    results = []
    for threads in (1, 2):
        minidl.set_num_threads(threads)
        out = np.empty((indices.size, 32), np.float32)
        compiled.embedding_forward(indices, weights, out)
        grad_w = np.empty_like(weights)
        compiled.embedding_backward(indices, grad_out, grad_w)
        results.append((out, grad_w))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    twin = np.empty_like(weights)
    reference.embedding_backward(indices, grad_out, twin)
    np.testing.assert_array_equal(results[1][1], twin)


def test_empty_batches_and_rows():
    for backend in BACKENDS:
        out = np.empty((0, 3), np.float32)
        backend.embedding_forward(np.empty(0, np.int64), np.ones((4, 3), np.float32), out)
        grad_w = np.full((4, 3), np.nan, np.float32)
        backend.embedding_backward(np.empty(0, np.int64), np.empty((0, 3), np.float32), grad_w)
        np.testing.assert_array_equal(grad_w, 0)
