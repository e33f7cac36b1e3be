"""The recurrent step kernels (recurrent.pyx) against their NumPy twins in reference.py."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import compiled, reference

FLOATS = [np.float32, np.float64]
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "hard_sigmoid"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def run_both(name, make_args, outputs, dtype):
    """Call both backends on fresh copies of the same arguments; compare the outputs."""
    results = []
    for backend in (compiled, reference):
        args = make_args()
        getattr(backend, name)(*args)
        results.append([args[i] for i in outputs])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **tolerance(dtype))
    return results[0]


def arrays(rng, dtype, *shapes, scale=2.0):
    return [(scale * rng.normal(size=s)).astype(dtype) for s in shapes]


def make_mask(rng, n, masked):
    return (rng.random(n) > 0.4).astype(np.uint8) if masked else None


@SETTINGS
@given(n=st.integers(0, 7), u=st.integers(0, 6), dtype=st.sampled_from(FLOATS),
       act=st.sampled_from(ACTIVATIONS), ract=st.sampled_from(ACTIVATIONS),
       masked=st.booleans(), seed=st.integers(0, 2**16))
def test_lstm_step(n, u, dtype, act, ract, masked, seed):
    rng = np.random.default_rng(seed)
    z, c_prev, h_prev, gh, gc = arrays(rng, dtype, (n, 4 * u), (n, u), (n, u), (n, u), (n, u))
    mask = make_mask(rng, n, masked)
    gates, c, h = run_both(
        "lstm_step_forward",
        lambda: (z.copy(), c_prev, h_prev, np.empty((n, u), dtype), np.empty((n, u), dtype), mask,
                 act, ract), [0, 3, 4], dtype)
    run_both(
        "lstm_step_backward",
        lambda: (gates, c_prev, c, gh, gc, mask, np.empty((n, 4 * u), dtype),
                 np.empty((n, u), dtype), np.empty((n, u), dtype), act, ract),
        [6, 7, 8], dtype)


@SETTINGS
@given(n=st.integers(0, 7), u=st.integers(0, 6), dtype=st.sampled_from(FLOATS),
       act=st.sampled_from(ACTIVATIONS), ract=st.sampled_from(ACTIVATIONS),
       masked=st.booleans(), seed=st.integers(0, 2**16))
def test_gru_step(n, u, dtype, act, ract, masked, seed):
    rng = np.random.default_rng(seed)
    x, rec, h_prev, gh = arrays(rng, dtype, (n, 3 * u), (n, 3 * u), (n, u), (n, u))
    mask = make_mask(rng, n, masked)
    gates, _ = run_both(
        "gru_step_forward",
        lambda: (x.copy(), rec, h_prev, np.empty((n, u), dtype), mask, act, ract), [0, 3], dtype)
    run_both(
        "gru_step_backward",
        lambda: (gates, rec, h_prev, gh, mask, np.empty((n, 3 * u), dtype),
                 np.empty((n, 3 * u), dtype), np.empty((n, u), dtype), act, ract),
        [5, 6, 7], dtype)


@SETTINGS
@given(n=st.integers(0, 7), u=st.integers(0, 6), dtype=st.sampled_from(FLOATS),
       act=st.sampled_from(ACTIVATIONS), masked=st.booleans(), seed=st.integers(0, 2**16))
def test_rnn_step(n, u, dtype, act, masked, seed):
    rng = np.random.default_rng(seed)
    pre, h_prev, gh = arrays(rng, dtype, (n, u), (n, u), (n, u))
    mask = make_mask(rng, n, masked)
    (h,) = run_both("rnn_step_forward", lambda: (pre.copy(), h_prev, mask, act), [0], dtype)
    run_both("rnn_step_backward",
             lambda: (h, gh, mask, np.empty((n, u), dtype), np.empty((n, u), dtype), act),
             [3, 4], dtype)


def lstm_step_arguments(n, u, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    z, c_prev, h_prev = arrays(rng, dtype, (n, 4 * u), (n, u), (n, u))
    return [z, c_prev, h_prev, np.empty((n, u), dtype), np.empty((n, u), dtype), None]


@pytest.mark.parametrize("backend", [compiled, reference])
def test_masked_rows_keep_their_state_and_pass_gradients_back(backend):
    z, c_prev, h_prev, c, h, _ = lstm_step_arguments(4, 3)
    mask = np.array([1, 0, 1, 0], np.uint8)
    gates = z.copy()
    backend.lstm_step_forward(gates, c_prev, h_prev, c, h, mask)
    np.testing.assert_array_equal(c[[1, 3]], c_prev[[1, 3]])
    np.testing.assert_array_equal(h[[1, 3]], h_prev[[1, 3]])
    gh, gc = np.ones((4, 3), np.float32), np.full((4, 3), 2.0, np.float32)
    out = [np.empty((4, 12), np.float32), np.empty((4, 3), np.float32), np.empty((4, 3), np.float32)]
    backend.lstm_step_backward(gates, c_prev, c, gh, gc, mask, *out)
    assert not out[0][[1, 3]].any()
    np.testing.assert_array_equal(out[1][[1, 3]], gc[[1, 3]])
    np.testing.assert_array_equal(out[2][[1, 3]], gh[[1, 3]])
    assert not out[2][[0, 2]].any()


@pytest.mark.parametrize("backend", [compiled, reference])
def test_read_only_inputs_are_accepted(backend):
    z, c_prev, h_prev, c, h, _ = lstm_step_arguments(3, 5)
    for a in (c_prev, h_prev):
        a.flags.writeable = False
    mask = np.ones(3, np.uint8)
    mask.flags.writeable = False
    backend.lstm_step_forward(z, c_prev, h_prev, c, h, mask)
    assert np.isfinite(h).all()


BAD_CALLS = {
    "wrong width": lambda a: (a[0][:, :-1].copy(), *a[1:]),
    "float64 state": lambda a: (a[0], a[1].astype(np.float64), *a[2:]),
    "non-contiguous": lambda a: (a[0], a[1], np.repeat(a[2], 2, axis=1)[:, ::2], *a[3:]),
    "mask of int64": lambda a: (*a[:5], np.ones(a[0].shape[0], np.int64)),
    "mask too short": lambda a: (*a[:5], np.ones(a[0].shape[0] - 1, np.uint8)),
    "output aliasing an input": lambda a: (a[0], a[1], a[2], a[1], a[4], a[5]),
    "read-only output": lambda a: (a[0], a[1], a[2], a[3], _read_only(a[4]), a[5]),
    "list": lambda a: (a[0].tolist(), *a[1:]),
}


def _read_only(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("backend", [compiled, reference])
@pytest.mark.parametrize("bad", sorted(BAD_CALLS))
def test_bad_arguments_are_value_errors(backend, bad):
    args = BAD_CALLS[bad](lstm_step_arguments(4, 3, seed=1))
    with pytest.raises(ValueError, match="lstm_step_forward"):
        backend.lstm_step_forward(*args)


@pytest.mark.parametrize("backend", [compiled, reference])
def test_unknown_activation_is_refused(backend):
    with pytest.raises(ValueError, match="softplus"):
        backend.lstm_step_forward(*lstm_step_arguments(2, 2), activation="softplus")
    z, h_prev = np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="recurrent_activation"):
        backend.gru_step_forward(np.zeros((2, 6), np.float32), np.zeros((2, 6), np.float32),
                                 h_prev, z, None, "tanh", "swish")


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


def test_same_bits_on_one_and_two_threads(restore_threads):
    n, u = 256, 128  # 4 * n * u over PARALLEL_MIN_VALUES: the rows are split over the threads
    from minidl._kernels import recurrent

    assert 4 * n * u >= recurrent.PARALLEL_MIN_VALUES
    rng = np.random.default_rng(3)
    z, c_prev, h_prev, gh, gc = arrays(rng, np.float32, (n, 4 * u), (n, u), (n, u), (n, u), (n, u))
    mask = make_mask(rng, n, True)
    results = []
    for threads in (1, 2):
        minidl.set_num_threads(threads)
        gates, c, h = z.copy(), np.empty((n, u), np.float32), np.empty((n, u), np.float32)
        compiled.lstm_step_forward(gates, c_prev, h_prev, c, h, mask)
        grads = [np.empty((n, 4 * u), np.float32), np.empty((n, u), np.float32),
                 np.empty((n, u), np.float32)]
        compiled.lstm_step_backward(gates, c_prev, c, gh, gc, mask, *grads)
        x, rec = z[:, :3 * u].copy(), z[:, u:].copy()
        gh_gru = np.empty((n, u), np.float32)
        compiled.gru_step_forward(x, rec, h_prev, gh_gru, mask)
        results.append([gates, c, h, *grads, x, gh_gru])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# --- GRU(reset_after=False): two passes per step each way ---------------------------
def gru_reset_before_step(backend, x, rec, dropped_h, h_prev, rec_h, grad_h, grad_reset_h,
                          mask, act, ract):
    """One step's four passes through ``backend`` (products replaced by given arrays)."""
    n, u = h_prev.shape
    dtype = x.dtype
    gates, reset_h, h = x.copy(), np.empty((n, u), dtype), np.empty((n, u), dtype)
    backend.gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h, ract)
    backend.gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask, act)
    grad_cand = np.empty((n, u), dtype)
    backend.gru_reset_before_candidate_backward(gates, grad_h, mask, grad_cand, act)
    grads = [np.empty((n, 2 * u), dtype), np.empty((n, u), dtype), np.empty((n, u), dtype)]
    backend.gru_reset_before_gates_backward(gates, h_prev, dropped_h, grad_h, grad_reset_h,
                                            mask, *grads, ract)
    return [gates, reset_h, h, grad_cand, *grads]


@SETTINGS
@given(n=st.integers(0, 7), u=st.integers(0, 6), dtype=st.sampled_from(FLOATS),
       act=st.sampled_from(ACTIVATIONS), ract=st.sampled_from(ACTIVATIONS),
       masked=st.booleans(), dropped=st.booleans(), seed=st.integers(0, 2**16))
def test_gru_reset_before_step(n, u, dtype, act, ract, masked, dropped, seed):
    rng = np.random.default_rng(seed)
    x, rec, h_prev, rec_h, gh, grh = arrays(rng, dtype, (n, 3 * u), (n, 2 * u), (n, u), (n, u),
                                            (n, u), (n, u))
    dropped_h = h_prev * (rng.random((n, u)) > 0.5).astype(dtype) * 2 if dropped else h_prev
    mask = make_mask(rng, n, masked)
    args = (x, rec, dropped_h, h_prev, rec_h, gh, grh, mask, act, ract)
    # The backward takes the gates' derivatives from their outputs (tanh: 1 - r**2), which
    # magnifies the compiled tanh's few-ulp difference from NumPy's where |r| is near 1
    # (seed 958: r = 0.995, dr 6e-6 apart at float32); hence a larger float32 atol there.
    names = ["gates", "reset_h", "h", "grad_candidate", "grad_gates", "grad_dropped",
             "grad_h_prev"]
    for name, a, b in zip(names, gru_reset_before_step(compiled, *args),
                          gru_reset_before_step(reference, *args)):
        tol = tolerance(dtype)
        if dtype == np.float32 and name.startswith("grad"):
            tol = dict(rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(a, b, err_msg=name, **tol)


@pytest.mark.parametrize("backend", [compiled, reference])
def test_gru_reset_before_masked_rows_keep_h_and_pass_dh_back(backend):
    rng = np.random.default_rng(4)
    n, u = 4, 3
    x, rec, h_prev, rec_h, gh, grh = arrays(rng, np.float32, (n, 3 * u), (n, 2 * u), (n, u),
                                            (n, u), (n, u), (n, u))
    mask = np.array([1, 0, 1, 0], np.uint8)
    gates, _, h, grad_cand, grad_gates, grad_dropped, grad_h_prev = gru_reset_before_step(
        backend, x, rec, h_prev, h_prev, rec_h, gh, grh, mask, "tanh", "sigmoid")
    np.testing.assert_array_equal(h[[1, 3]], h_prev[[1, 3]])
    assert not grad_cand[[1, 3]].any() and not grad_gates[[1, 3]].any()
    assert not grad_dropped[[1, 3]].any()
    np.testing.assert_array_equal(grad_h_prev[[1, 3]], gh[[1, 3]])
    z = gates[:, :u]
    np.testing.assert_allclose(grad_h_prev[[0, 2]], (gh * z)[[0, 2]], rtol=1e-6)
    assert grad_cand[[0, 2]].any() and grad_gates[[0, 2]].any()


def test_gru_reset_before_matches_the_equations():
    """The twin against the equations written out (Keras's GRUCell, reset_after=False)."""
    rng = np.random.default_rng(5)
    n, u = 3, 4
    x, h_prev = arrays(rng, np.float64, (n, 3 * u), (n, u))
    kernel_zr, kernel_h = arrays(rng, np.float64, (u, 2 * u), (u, u), scale=0.5)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = sigmoid(x[:, :u] + h_prev @ kernel_zr[:, :u])
    r = sigmoid(x[:, u:2 * u] + h_prev @ kernel_zr[:, u:])
    hh = np.tanh(x[:, 2 * u:] + (r * h_prev) @ kernel_h)
    expected = z * h_prev + (1 - z) * hh
    for backend in (compiled, reference):
        gates, reset_h, h = x.copy(), np.empty((n, u)), np.empty((n, u))
        backend.gru_reset_before_gates_forward(gates, h_prev @ kernel_zr, h_prev, reset_h)
        backend.gru_reset_before_state_forward(gates, reset_h @ kernel_h, h_prev, h, None)
        np.testing.assert_allclose(h, expected, rtol=1e-13)


GRU_RB_BAD_CALLS = {
    "rec of 3U columns": lambda a: (a[0], np.zeros((4, 9), np.float32), *a[2:]),
    "float64 reset_h": lambda a: (*a[:3], a[3].astype(np.float64)),
    "reset_h aliasing dropped_h": lambda a: (a[0], a[1], a[2], a[2]),
    "read-only gates": lambda a: (_read_only(a[0]), *a[1:]),
    "non-contiguous dropped_h": lambda a: (a[0], a[1], np.repeat(a[2], 2, axis=1)[:, ::2], a[3]),
}


@pytest.mark.parametrize("backend", [compiled, reference])
@pytest.mark.parametrize("bad", sorted(GRU_RB_BAD_CALLS))
def test_gru_reset_before_bad_arguments_are_value_errors(backend, bad):
    rng = np.random.default_rng(6)
    good = [*arrays(rng, np.float32, (4, 9), (4, 6), (4, 3)), np.empty((4, 3), np.float32)]
    with pytest.raises(ValueError, match="gru_reset_before_gates_forward"):
        backend.gru_reset_before_gates_forward(*GRU_RB_BAD_CALLS[bad](good))
    gates, h = np.zeros((4, 9), np.float32), np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="softplus"):
        backend.gru_reset_before_state_forward(gates, h.copy(), h.copy(), h, None, "softplus")


def test_gru_reset_before_same_bits_on_one_and_two_threads(restore_threads):
    n, u = 512, 128  # n * u over PARALLEL_MIN_VALUES: every pass splits its rows
    from minidl._kernels import recurrent

    assert n * u >= recurrent.PARALLEL_MIN_VALUES
    rng = np.random.default_rng(7)
    x, rec, h_prev, rec_h, gh, grh = arrays(rng, np.float32, (n, 3 * u), (n, 2 * u), (n, u),
                                            (n, u), (n, u), (n, u))
    dropped_h = h_prev * (rng.random((n, u)) > 0.3).astype(np.float32)
    mask = make_mask(rng, n, True)
    results = []
    for threads in (1, 2):
        minidl.set_num_threads(threads)
        results.append(gru_reset_before_step(compiled, x, rec, dropped_h, h_prev, rec_h, gh, grh,
                                             mask, "tanh", "sigmoid"))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
