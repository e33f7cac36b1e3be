"""pack_panels and packed_gemm (packed_gemm.pyx) against their NumPy twins in reference.py."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import compiled, reference
from minidl._kernels.panel_checks import PANEL, panels_shape

FLOATS = [np.float32, np.float64]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tolerance(dtype, k):
    return (dict(rtol=1e-5, atol=1e-5 * np.sqrt(k + 1)) if dtype == np.float32
            else dict(rtol=1e-12, atol=1e-12 * np.sqrt(k + 1)))


def packed_pair(b, trans_b):
    """B packed by each backend."""
    k, n = b.shape[::-1] if trans_b else b.shape
    out = []
    for backend in (compiled, reference):
        packed = np.full(panels_shape(k, n), np.nan, b.dtype)
        backend.pack_panels(b, packed, trans_b=trans_b)
        out.append(packed)
    return out


@SETTINGS
@given(m=st.integers(0, 20), k=st.integers(0, 70), n=st.integers(0, 200),
       trans_b=st.booleans(), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16),
       accumulate=st.booleans(), trans_a=st.booleans())
def test_packed_product_matches_twin_and_numpy(m, k, n, trans_b, dtype, seed, accumulate,
                                               trans_a):
    """out += op(a) @ B, or out = op(a) @ B without accumulate (out's old values, NaN
    here, never read: k = 0 gives zeros); op(a) is a, or a.T with trans_a."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, k)).astype(dtype)
    given_a = np.ascontiguousarray(a.T) if trans_a else a
    b = rng.normal(size=(n, k) if trans_b else (k, n)).astype(dtype)
    ours, twin = packed_pair(b, trans_b)
    np.testing.assert_array_equal(ours, twin)  # the same layout, zeros past column n
    start = rng.normal(size=(m, n)).astype(dtype) if accumulate else np.full((m, n), np.nan, dtype)
    results = []
    for backend, packed in ((compiled, ours), (reference, twin)):
        out = start.copy()
        backend.packed_gemm(given_a, packed, out, accumulate=accumulate, trans_a=trans_a)
        results.append(out)
    expected = a.astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    if accumulate:
        expected += start
    for out in results:
        np.testing.assert_allclose(out, expected, **tolerance(dtype, k))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m, k, n", [(64, 128, 512), (64, 512, 128), (128, 32, 128),
                                     (7, 5, 65), (13, 3, 64 * 3 + 17)])
def test_lstm_shapes(m, k, n, dtype):
    """M5's and M6's recurrent products, and sizes that leave partial tiles and panels."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(m, k)).astype(dtype), rng.normal(size=(k, n)).astype(dtype)
    packed = np.empty(panels_shape(k, n), dtype)
    compiled.pack_panels(b, packed)
    out = np.ones((m, n), dtype)
    compiled.packed_gemm(a, packed, out)
    np.testing.assert_allclose(out, 1 + a.astype(np.float64) @ b, **tolerance(dtype, k))


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"] or before["blas"] or 1)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("accumulate", [True, False])
@pytest.mark.parametrize("m", [64, 67, 200])
def test_same_bits_on_one_and_two_threads(m, accumulate, trans_a, restore_threads):
    from minidl._kernels import packed_gemm

    k, n = 128, 512
    assert m * k * n >= packed_gemm.PARALLEL_MIN_MACS  # the rows are split between threads
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32)
    if trans_a:
        a = np.ascontiguousarray(a.T)
    packed = np.empty(panels_shape(k, n), np.float32)
    compiled.pack_panels(b, packed)
    results = []
    for threads in (1, 2):
        minidl.set_num_threads(threads)
        out = np.ones((m, n), np.float32)
        compiled.packed_gemm(a, packed, out, accumulate=accumulate, trans_a=trans_a)
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_read_only_inputs(backend):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 9)).astype(np.float32), rng.normal(size=(9, 70)).astype(np.float32)
    a.flags.writeable = b.flags.writeable = False
    packed = np.empty(panels_shape(9, 70), np.float32)
    backend.pack_panels(b, packed)
    packed.flags.writeable = False
    out = np.zeros((5, 70), np.float32)
    backend.packed_gemm(a, packed, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)


def _bad_calls():
    a, out = np.ones((4, 6), np.float32), np.zeros((4, 70), np.float32)
    packed = np.zeros(panels_shape(6, 70), np.float32)
    return {
        "k differs": ("packed", (np.ones((4, 5), np.float32), packed, out)),
        "too few panels": ("panels", (a, packed, np.zeros((4, 130), np.float32))),
        "too many panels": ("panels", (a, packed, np.zeros((4, 64), np.float32))),
        "rows differ": ("shape", (a, packed, np.zeros((3, 70), np.float32))),
        "dtype mixed": ("one dtype", (a, packed, np.zeros((4, 70), np.float64))),
        "not contiguous": ("C-contiguous", (np.ones((6, 4), np.float32).T, packed, out)),
        "read-only out": ("writeable", (a, packed, np.zeros((4, 70), np.float32))),
        "out is a": ("shares memory", (a, np.zeros(panels_shape(6, 6), np.float32), a)),
        "panel width": ("packed", (a, np.zeros((2, 6, 32), np.float32), out)),
        # a (4, 6) as a.T is (6, 4): k = 4 rows of B, and out needs 6 rows
        "a.T's k differs": ("packed", (a, packed, out, True, True)),
        "a.T's rows differ": ("shape", (a, np.zeros(panels_shape(4, 70), np.float32), out,
                                        True, True)),
    }


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("case", list(_bad_calls()))
def test_bad_arguments_are_refused(backend, case):
    match, args = _bad_calls()[case]
    if case == "read-only out":
        args[2].flags.writeable = False
    with pytest.raises(ValueError, match=match):
        backend.packed_gemm(*args)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_pack_panels_refuses_a_wrong_output(backend):
    b = np.ones((6, 70), np.float32)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 6, 64\)"):
        backend.pack_panels(b, np.zeros((2, 70, PANEL), np.float32))
    with pytest.raises(ValueError, match=r"out must have shape \(1, 70, 64\)"):
        backend.pack_panels(b, np.zeros((2, 6, PANEL), np.float32), trans_b=True)
    with pytest.raises(ValueError, match="one dtype"):
        backend.pack_panels(b, np.zeros((2, 6, PANEL), np.float64))


@pytest.mark.parametrize("dtype", FLOATS)
def test_every_vector_copy_this_cpu_runs(dtype):
    """The AVX2 and SSE2 copies (narrower tiles) give the product too, not only the best."""
    from minidl._kernels import packed_gemm

    rng = np.random.default_rng(4)
    tested = 0
    try:
        for code in (0, 1, 2):  # SSE2, AVX2, AVX-512: as far as this CPU goes
            try:
                packed_gemm.choose_vector_isa(code)
            except ValueError:
                break
            tested += 1
            # rows left over after the full tiles: 4 (two pairs), 3 (a pair and a row), ...
            for m, k, n in [(64, 128, 512), (9, 7, 70), (5, 300, 33), (15, 157, 512),
                            (157, 64, 512)]:
                a, b = rng.normal(size=(m, k)).astype(dtype), rng.normal(size=(k, n)).astype(dtype)
                packed = np.empty(panels_shape(k, n), dtype)
                compiled.pack_panels(b, packed)
                expected = a.astype(np.float64) @ b
                for accumulate in (True, False):
                    for trans_a, given in ((False, a), (True, np.ascontiguousarray(a.T))):
                        out = np.ones((m, n), dtype)
                        compiled.packed_gemm(given, packed, out, accumulate=accumulate,
                                             trans_a=trans_a)
                        np.testing.assert_allclose(out, expected + accumulate,
                                                   **tolerance(dtype, k))
    finally:
        packed_gemm.choose_vector_isa(-1)
    assert tested >= 1
