"""lstm_sequence_forward/_backward (lstm_sequence.pyx): an LSTM's whole time loop in one
call, against the NumPy twins (the same loop in Python over the step twins)."""

import os
import platform

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import compiled, reference
from minidl._kernels.panel_checks import panels_shape

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACTIVATIONS = ["tanh", "sigmoid", "relu", "hard_sigmoid", "linear"]


def _problem(rng, steps, n, features, units, bias, dtype, masked, dropout, sequence):
    """The arrays of one LSTM call: the forward's inputs and a backward's gradients."""
    k = features + units + bias
    xh = np.full((steps, n, k), np.nan, dtype)  # the h columns are the kernel's to write
    xh[:, :, :features] = rng.normal(size=(steps, n, features))
    if bias:
        xh[:, :, -1] = 1
    stacked = (rng.normal(size=(k, 4 * units)) * 0.5).astype(dtype)
    cells = np.full((steps + 1, n, units), np.nan, dtype)
    hidden = np.full((steps + 1, n, units), np.nan, dtype)
    cells[0], hidden[0] = rng.normal(size=(n, units)), rng.normal(size=(n, units))
    return dict(
        xh=xh, stacked=stacked, cells=cells, hidden=hidden, features=features,
        masks=(rng.random((steps, n)) > 0.3).astype(np.uint8) if masked else None,
        dropout=(rng.random((n, units)) > 0.4).astype(dtype) / 0.6 if dropout else None,
        grad_steps=rng.normal(size=(steps, n, units)).astype(dtype) if sequence else None,
        grad_h=rng.normal(size=(n, units)).astype(dtype),
        grad_c=rng.normal(size=(n, units)).astype(dtype))


def _run(backend, p, every_step, first, activation="tanh", recurrent_activation="sigmoid"):
    """Forward then backward with ``backend``'s kernels on copies of ``p``'s arrays."""
    steps, n, k = p["xh"].shape
    units = p["cells"].shape[2]
    dtype = p["xh"].dtype
    xh, cells, hidden = p["xh"].copy(), p["cells"].copy(), p["hidden"].copy()
    packed = np.empty(panels_shape(k, 4 * units), dtype)
    backend.pack_panels(p["stacked"], packed)
    gates = np.full((steps, n, 4 * units), np.nan, dtype)
    backend.lstm_sequence_forward(xh, packed, gates, cells, hidden, p["masks"], p["dropout"],
                                  p["features"], activation, recurrent_activation)
    u = np.ascontiguousarray(p["stacked"][p["features"]:p["features"] + units])
    packed_ut = np.empty(panels_shape(4 * units, units), dtype)
    backend.pack_panels(u, packed_ut, trans_b=True)
    grad_h, grad_c = p["grad_h"].copy(), p["grad_c"].copy()
    grad_gates = np.full((steps, n, 4 * units) if every_step else (n, 4 * units), np.nan, dtype)
    grad_stacked = np.full((k, 4 * units), np.nan, dtype)
    backend.lstm_sequence_backward(xh, packed_ut, gates, cells, p["grad_steps"], grad_h, grad_c,
                                   p["masks"], p["dropout"], grad_gates, grad_stacked,
                                   p["features"], first, activation, recurrent_activation)
    out = dict(xh=xh, gates=gates, cells=cells, hidden=hidden, grad_h=grad_h, grad_c=grad_c,
               grad_stacked=grad_stacked)
    if every_step:
        out["grad_gates"] = grad_gates
    return out


@SETTINGS
@given(steps=st.integers(0, 5), n=st.integers(0, 7), features=st.integers(0, 5),
       units=st.integers(0, 20), bias=st.integers(0, 1), masked=st.booleans(),
       dropout=st.booleans(), sequence=st.booleans(), every_step=st.booleans(),
       first=st.integers(0, 1), dtype=st.sampled_from([np.float32, np.float64]),
       activation=st.sampled_from(ACTIVATIONS), recurrent_activation=st.sampled_from(ACTIVATIONS),
       seed=st.integers(0, 2**16))
def test_time_loop_matches_twin(steps, n, features, units, bias, masked, dropout, sequence,
                                every_step, first, dtype, activation, recurrent_activation, seed):
    """Every output of both directions, on shapes with partial tiles and panels (4U up to
    80 columns), masks, recurrent dropout, per-step output gradients or not."""
    if dtype == np.float32:
        # relu and linear gates let h and c grow without bound step after step, and with
        # them float32's rounding: kept to float64, where the comparison stays meaningful
        bounded = {"relu": "tanh", "linear": "sigmoid"}
        activation = bounded.get(activation, activation)
        recurrent_activation = bounded.get(recurrent_activation, recurrent_activation)
    p = _problem(np.random.default_rng(seed), steps, n, features, units, bias, dtype, masked,
                 dropout, sequence)
    ours = _run(compiled, p, every_step, first, activation, recurrent_activation)
    twin = _run(reference, p, every_step, first, activation, recurrent_activation)
    for name in twin:
        # float32: sums of rounded terms, to a few roundings of the largest value
        scale = max(1.0, float(np.nanmax(np.abs(twin[name]), initial=0)))
        tol = 2e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(ours[name], twin[name], err_msg=name, rtol=tol,
                                   atol=tol * scale)


def test_twin_is_backpropagation_through_time():
    """The twins' gradients are the LSTM's: against finite differences of a loss of the
    forward outputs, in float64 (weights, initial states; with masks and dropout)."""
    rng = np.random.default_rng(3)
    steps, n, features, units = 4, 3, 2, 3
    p = _problem(rng, steps, n, features, units, 1, np.float64, True, True, True)

    def loss(q):
        r = _run(reference, q, True, 0)
        # the loss whose gradients p gives: sum of grad_steps * h_t, grad_h * h_T, grad_c * c_T
        return (np.sum(q["grad_steps"] * r["hidden"][1:]) + np.sum(q["grad_h"] * r["hidden"][-1])
                + np.sum(q["grad_c"] * r["cells"][-1]))

    result = _run(reference, p, True, 0)
    eps = 1e-6
    for name, index, analytic in (
            ("stacked", (1, 2), result["grad_stacked"][1, 2]),
            ("stacked", (features + 1, 5), result["grad_stacked"][features + 1, 5]),
            ("stacked", (-1, 7), result["grad_stacked"][-1, 7]),
            ("hidden", (0, 1, 2), result["grad_h"][1, 2]),
            ("cells", (0, 2, 0), result["grad_c"][2, 0])):
        plus, minus = ({**p, name: p[name].copy()} for _ in range(2))
        plus[name][index] += eps
        minus[name][index] -= eps
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        assert abs(numeric - analytic) < 1e-6 * max(1, abs(numeric)), (name, index)


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


@pytest.mark.parametrize("n, features, units, masked, every_step", [
    # (dL/dW sums over groups of 256 // n steps: the 6 steps are [4, 5], [0, 3] at n = 64)
    (64, 28, 128, False, True),  # M5's shape: 8 panels of dL/dW, 4 a thread
    (64, 28, 128, True, False),  # with masks and dropout, one step's dL/dz kept
    (37, 30, 40, True, True),  # odd rows, 3 panels (2 + 1), one group of 6 steps
    (100, 10, 20, True, False),  # three groups of 2 steps: the two buffers in turn
    (1001, 20, 12, False, False)])  # one panel: the threads split dL/dW's rows instead
def test_same_bits_on_one_and_two_threads(n, features, units, masked, every_step,
                                          restore_threads):
    """Each thread takes its own rows through the steps and its own panels (or rows) of
    the weight gradient, a group of steps at a time: the same bits as one thread on two and three, and the twin's
    values."""
    p = _problem(np.random.default_rng(5), 6, n, features, units, 1, np.float32, masked,
                 masked, True)
    results = []
    for threads in (1, 2, 3):  # (3: an odd team, uneven shares of rows and panels)
        minidl.set_num_threads(threads)
        results.append(_run(compiled, p, every_step, 1))
    twin = _run(reference, p, every_step, 1)
    for name in results[0]:
        for other in results[1:]:
            np.testing.assert_array_equal(results[0][name], other[name], err_msg=name)
        scale = max(1.0, float(np.nanmax(np.abs(twin[name]))))
        np.testing.assert_allclose(results[1][name], twin[name], err_msg=name, rtol=2e-4,
                                   atol=2e-4 * scale)


def test_the_op_gives_the_step_by_step_values():
    """The LSTM op through the time-loop kernels matches the twins' op (reference backend)."""
    from minidl import _kernels, ops
    from minidl.tensor import Tensor

    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 6, 4)).astype(np.float32)
    w, u = rng.normal(size=(4, 12)) * 0.5, rng.normal(size=(3, 12)) * 0.5
    b = rng.normal(size=12)
    mask = rng.random((5, 6)) > 0.3
    results = []
    for backend in ("compiled", "reference"):
        previous = _kernels.current.NAME
        _kernels.use(backend)
        try:
            tensors = [Tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, u, b)]
            out, h, c = ops.recurrent.lstm(*tensors, mask=mask)
            (out.sum() + 2 * h.sum() + 3 * c.sum()).backward()
            results.append([out.data, h.data, c.data] + [t.grad for t in tensors])
        finally:
            _kernels.use(previous)
    for ours, twin in zip(*results):
        np.testing.assert_allclose(ours, twin, rtol=1e-5, atol=1e-5)


def _arguments():
    """Valid arguments of both kernels (T = 2, N = 3, F = 2, U = 3, a bias: K = 6)."""
    f32 = np.float32
    forward = dict(xh=np.zeros((2, 3, 6), f32), packed=np.zeros((1, 6, 64), f32),
                   gates=np.zeros((2, 3, 12), f32), cells=np.zeros((3, 3, 3), f32),
                   hidden=np.zeros((3, 3, 3), f32), masks=None, dropout=None, features=2)
    backward = dict(xh=np.zeros((2, 3, 6), f32), packed_ut=np.zeros((1, 12, 64), f32),
                    gates=np.zeros((2, 3, 12), f32), cells=np.zeros((3, 3, 3), f32),
                    grad_steps=None, grad_h=np.zeros((3, 3), f32), grad_c=np.zeros((3, 3), f32),
                    masks=None, dropout=None, grad_gates=np.zeros((3, 12), f32),
                    grad_stacked=np.zeros((6, 12), f32), features=2, first=1)
    return forward, backward


BAD = {
    "forward: xh's K is not F + U (+ 1)": ("forward", "xh", np.zeros((2, 3, 8), np.float32),
                                           "xh must have shape"),
    "forward: packed for another K": ("forward", "packed", np.zeros((1, 7, 64), np.float32),
                                      "packed must have shape"),
    "forward: too few panels": ("forward", "packed", np.zeros((0, 6, 64), np.float32),
                                "packed must have shape"),
    "forward: gates too short": ("forward", "gates", np.zeros((1, 3, 12), np.float32),
                                 "gates must have shape"),
    "forward: masks not uint8": ("forward", "masks", np.ones((2, 3), bool), "masks must be"),
    "forward: masks per row only": ("forward", "masks", np.ones(3, np.uint8),
                                    "masks must have 2 dimensions"),
    "forward: dropout of another width": ("forward", "dropout", np.ones((3, 4), np.float32),
                                          "dropout must have shape"),
    "forward: features negative": ("forward", "features", -1, "xh must have shape"),
    "forward: features not a number": ("forward", "features", 2.0, "features must be"),
    "forward: float64 gates": ("forward", "gates", np.zeros((2, 3, 12)), "one dtype"),
    "backward: first 2": ("backward", "first", 2, "first must be 0 or 1"),
    "backward: grad_gates of another shape": ("backward", "grad_gates",
                                              np.zeros((3, 3, 12), np.float32),
                                              "grad_gates must have shape"),
    "backward: grad_stacked for another K": ("backward", "grad_stacked",
                                             np.zeros((5, 12), np.float32),
                                             "grad_stacked must have shape"),
    "backward: packed_ut not U^T's": ("backward", "packed_ut", np.zeros((1, 6, 64), np.float32),
                                      "packed_ut must have shape"),
    "backward: grad_steps one step short": ("backward", "grad_steps",
                                            np.zeros((1, 3, 3), np.float32),
                                            "grad_steps must have shape"),
}


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_are_refused_and_change_nothing(backend, case):
    direction, name, value, match = BAD[case]
    forward, backward = _arguments()
    args = forward if direction == "forward" else backward
    args[name] = value
    before = {key: a.copy() for key, a in args.items() if isinstance(a, np.ndarray)}
    kernel = getattr(backend, f"lstm_sequence_{direction}")
    with pytest.raises(ValueError, match=match):
        kernel(**args)
    for key, a in before.items():
        np.testing.assert_array_equal(args[key], a, err_msg=key)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_an_output_sharing_memory_is_refused(backend):
    _, backward = _arguments()
    backward["grad_c"] = backward["grad_h"]
    with pytest.raises(ValueError, match="shares memory"):
        backend.lstm_sequence_backward(**backward)
    forward, _ = _arguments()
    forward["hidden"] = forward["cells"]
    with pytest.raises(ValueError, match="shares memory"):
        backend.lstm_sequence_forward(**forward)


FLUSHES = platform.machine().lower() in ("x86_64", "amd64") and not os.environ.get(
    "MINIDL_UNDER_VALGRIND")  # (valgrind does not emulate the flush-to-zero bits)


@pytest.mark.skipif(not FLUSHES, reason="subnormals are flushed on x86-64 only (natively)")
def test_subnormals_are_flushed_to_zero_as_tensorflow_does():
    """A gradient in float32's subnormal range (below 1.2e-38) counts as 0 in the compiled
    loop (TensorFlow flushes them too; x86 computes them ~100x slower), where the twin
    keeps it: the two differ by less than 1.2e-38.  The setting ends with the call."""
    p = _problem(np.random.default_rng(11), 3, 4, 2, 5, 1, np.float32, False, False, False)
    p["grad_h"] = np.full_like(p["grad_h"], 1e-39)  # subnormal
    p["grad_c"] = np.zeros_like(p["grad_c"])
    ours, twin = _run(compiled, p, True, 0), _run(reference, p, True, 0)
    assert np.all(ours["grad_gates"] == 0) and np.all(ours["grad_stacked"] == 0)
    assert np.any(twin["grad_gates"] != 0)  # NumPy keeps them
    np.testing.assert_allclose(ours["grad_stacked"], twin["grad_stacked"], rtol=0, atol=1.2e-38)
    tiny = np.float32(1e-38)
    assert tiny / np.float32(10) != 0  # NumPy after the kernel: subnormals again


@pytest.mark.parametrize("masked", [False, True])
def test_flushing_gives_the_same_bits_on_one_and_two_threads(masked, restore_threads):
    """Gradients that shrink into the subnormals part way through the products: every
    thread flushes them alike."""
    p = _problem(np.random.default_rng(13), 4, 64, 28, 128, 1, np.float32, masked, False, True)
    for name in ("grad_steps", "grad_h", "grad_c"):
        p[name] *= np.float32(1e-36)
    results = []
    for threads in (1, 2):
        minidl.set_num_threads(threads)
        results.append(_run(compiled, p, True, 1))
    assert np.any(results[0]["grad_stacked"] != 0)
    for name in results[0]:
        np.testing.assert_array_equal(results[0][name], results[1][name], err_msg=name)

