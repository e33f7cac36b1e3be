"""The kernels of Keras 2's other optimizers against their NumPy twins in reference.py.

adagrad_update, adadelta_update, adamax_update, nadam_update, adamw_update, ftrl_update:
same results as the twins (float32 and float64, empty to parallel-sized buffers), the
same bits on 1 and 2 threads, read-only gradients accepted, bad arguments a ValueError
from both backends, and a fuzz family in the manner of test_kernel_fuzz.py.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import compiled, optim, reference
from test_kernel_fuzz import FUZZ, Call, array_spec, check, floats, maybe_none, seeds, with_alias

FLOATS = [np.float32, np.float64]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KERNELS = ["adagrad_update", "adadelta_update", "adamax_update", "nadam_update", "adamw_update",
           "ftrl_update"]


def tolerance(dtype):
    return dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def make_call(kernel, size, dtype, seed, variant=0):
    """(args maker, indices of the outputs): arguments as the optimizers pass them.
    ``variant`` picks the options: AMSGrad for adamw, the regularized form for ftrl."""
    rng = np.random.default_rng(seed)
    w, g, m = rng.normal(size=(3, size)).astype(dtype)
    s, d = rng.random(size=(2, size)).astype(dtype)
    if kernel == "adagrad_update":
        return lambda: (w.copy(), g, s.copy(), 0.1, 1e-7), [0, 2]
    if kernel == "adadelta_update":
        return lambda: (w.copy(), g, s.copy(), d.copy(), 1.0, 0.95, 1e-7), [0, 2, 3]
    if kernel == "adamax_update":
        return lambda: (w.copy(), g, m.copy(), s.copy(), 0.02, 0.9, 0.999, 1e-7), [0, 2, 3]
    if kernel == "nadam_update":
        return lambda: (w.copy(), g, m.copy(), s.copy(), 0.01, 4.7, 0.6, 9.5, 0.9, 0.999, 1e-7), [0, 2, 3]
    if kernel == "adamw_update":
        v_max = (s + d) if variant else None
        return (lambda: (w.copy(), g, m.copy(), s.copy(), None if v_max is None else v_max.copy(),
                         0.01, 0.004, 0.9, 0.999, 1e-7), [0, 2, 3] + ([4] if variant else []))
    args = (0.1, -0.3, 0.05, 0.1, 0.02, 0.5) if variant else (0.1, -0.5, 0.0, 0.0, 0.0, 0.0)
    return lambda: (w.copy(), g, s.copy(), m.copy(), *args), [0, 2, 3]


def run_both(kernel, make_args, outputs, dtype):
    results = []
    for backend in (compiled, reference):
        args = make_args()
        getattr(backend, kernel)(*args)
        results.append([args[i] for i in outputs])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **tolerance(dtype))
    return results[0]


@SETTINGS
@given(kernel=st.sampled_from(KERNELS), size=st.integers(0, 300), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 999), variant=st.integers(0, 1))
def test_kernels_match_their_twins(kernel, size, dtype, seed, variant):
    make_args, outputs = make_call(kernel, size, dtype, seed, variant)
    run_both(kernel, make_args, outputs, dtype)


@pytest.mark.parametrize("kernel", KERNELS)
def test_large_buffers_run_in_parallel_chunks_and_match(kernel):
    """300k values: over optim.PARALLEL_MIN_VALUES, so the chunks are shared by the threads."""
    assert 300_000 >= optim.PARALLEL_MIN_VALUES
    make_args, outputs = make_call(kernel, 300_000, np.float32, 5, variant=1)
    run_both(kernel, make_args, outputs, np.float32)


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


@pytest.mark.parametrize("kernel", KERNELS)
def test_same_bits_with_one_and_two_threads(kernel, restore_threads):
    make_args, outputs = make_call(kernel, (1 << 18) + 77, np.float32, 9, variant=1)
    results = []
    for n in (1, 2):
        minidl.set_num_threads(n)
        args = make_args()
        getattr(compiled, kernel)(*args)
        results.append([args[i] for i in outputs])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_read_only_gradients_are_accepted(kernel, dtype):
    make_args, outputs = make_call(kernel, 50, dtype, 3)

    def read_only():
        args = list(make_args())
        args[1] = args[1].copy()
        args[1].setflags(write=False)
        return tuple(args)

    run_both(kernel, read_only, outputs, dtype)


def _bad_calls():
    """(kernel, arguments, words the message must hold): one thing wrong in each."""
    z = lambda n, dtype=np.float32: np.zeros(n, dtype)  # noqa: E731
    frozen = z(5)
    frozen.setflags(write=False)
    buffer = z(12)
    return [
        ("adagrad_update", (z(5), z(4), z(5), 0.1, 1e-7), "grad"),
        ("adagrad_update", (z(5), z(5), z(5, np.float64), 0.1, 1e-7), "dtype"),
        ("adagrad_update", (z(5), z(5), frozen, 0.1, 1e-7), "writeable"),
        ("adadelta_update", (z(5), z(5), z(5), z(6), 1.0, 0.95, 1e-7), "state[1]"),
        ("adadelta_update", (z(5).reshape(5, 1), z(5), z(5), z(5), 1.0, 0.95, 1e-7), "param"),
        ("adamax_update", (z(10)[::2], z(5), z(5), z(5), 0.1, 0.9, 0.999, 1e-7), "param"),
        ("adamax_update", (buffer[:5], z(5), buffer[4:9], z(5), 0.1, 0.9, 0.999, 1e-7), "memory"),
        ("nadam_update", (z(5), z(5), z(5), None, 0.1, 1, 1, 1), "v must be a numpy array"),
        ("adagrad_update", (z(5), z(5), None, 0.1), "accumulator must be a numpy array"),
        ("adamw_update", (z(5), z(5), z(5), z(5), z(4), 0.1, 0.0), "state[2]"),
        ("adamw_update", (z(5), z(5, np.int32), z(5), z(5), None, 0.1, 0.0), "grad"),
        ("ftrl_update", (z(5), z(5), z(5), z(5, np.float16), 0.1), "state[1]"),
        ("ftrl_update", (z(5), z(5), z(5), z(5), 0.0), "lr must be > 0"),
        ("ftrl_update", (z(5), z(5), z(5), z(5), float("nan")), "lr must be > 0"),
    ]


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("call", _bad_calls(), ids=lambda c: f"{c[0]}-{c[2]}")
def test_bad_arguments_are_a_value_error_naming_the_problem(backend, call):
    kernel, args, words = call
    with pytest.raises(ValueError) as error:
        getattr(backend, kernel)(*args)
    assert kernel in str(error.value) and words in str(error.value), str(error.value)


# --- a fuzz family, drawn the way test_kernel_fuzz.py draws the others -------------------
@st.composite
def more_optimizer_calls(draw, alias=False):
    size, dtype = draw(st.integers(0, 40)), draw(floats)
    a = lambda **kw: draw(array_spec((size,), dtype, exact=alias, **kw))  # noqa: E731
    kernel = draw(st.sampled_from(KERNELS))
    w, g = a(output=True), a()
    if kernel == "adagrad_update":
        args = dict(param=w, grad=g, accumulator=a(values="positive", output=True), lr=0.1,
                    epsilon=1e-7)
    elif kernel == "adadelta_update":
        args = dict(param=w, grad=g, accumulated_grad=a(values="positive", output=True),
                    accumulated_delta=a(values="positive", output=True), lr=1.0, rho=0.95,
                    epsilon=1e-7)
    elif kernel == "adamax_update":
        args = dict(param=w, grad=g, m=a(output=True), u=a(values="positive", output=True),
                    lr_t=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    elif kernel == "nadam_update":
        args = dict(param=w, grad=g, m=a(output=True), v=a(values="positive", output=True),
                    lr=0.01, m_scale=4.7, g_scale=0.6, v_scale=9.5, beta_1=0.9, beta_2=0.999,
                    epsilon=1e-7)
    elif kernel == "adamw_update":
        args = dict(param=w, grad=g, m=a(output=True), v=a(values="positive", output=True),
                    v_max=maybe_none(draw, a(values="positive", output=True)), lr_t=0.01,
                    decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    else:
        args = dict(param=w, grad=g, accumulator=a(values="positive", output=True),
                    linear=a(output=True), lr=draw(st.sampled_from([0.1, 0.1, 0.0])),
                    lr_power=draw(st.sampled_from([-0.5, -0.3, 0.0])), l1=0.05, l2=0.1,
                    l2_shrinkage=0.02, beta=0.5)
    outputs = [name for name in args if name not in ("grad",) and isinstance(args[name], type(w))]
    call = Call(kernel, tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, outputs, ["grad"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("alias", [False, True])
def test_fuzz_matches_reference_or_refuses(alias):
    outcomes = {"refused": 0, "matched": 0}

    @settings(FUZZ, max_examples=120)
    @given(call=more_optimizer_calls(alias=alias))
    def fuzz(call):
        outcomes[check(call)] += 1

    fuzz()
    assert outcomes["refused"] >= 5 and outcomes["matched"] >= (5 if not alias else 0), outcomes
