"""The metrics kernels (``_kernels/metrics.pyx``) against their NumPy twins.

``confusion_thresholds_add`` and ``confusion_buckets_add`` add weighted
confusion counts to the state of Precision, Recall and AUC.  Here: hypothesis
against the twins on valid calls (both dtypes, NaN, predictions outside
[0, 1] and on the thresholds), a fuzz family in the style of
``test_kernel_fuzz.py`` (mostly right, sometimes wrong calls: compiled either
refuses with ValueError or matches the twin), read-only inputs, 1 and 2
threads, and the argument errors by name.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernel_fuzz import FUZZ, Arr, Call, array_spec, check, floats, maybe_none, seeds, with_alias

import minidl
from minidl._kernels import compiled, reference

KERNELS = ("confusion_thresholds_add", "confusion_buckets_add")


def make_inputs(rng, m, dtype, weighted, nan):
    labels = rng.integers(0, 2, m).astype(dtype)
    labels[rng.random(m) < 0.1] = 3.0  # any nonzero label is positive
    predictions = rng.random(m).astype(dtype)
    edges = rng.random(m) < 0.3  # exactly on a threshold, or outside [0, 1]
    predictions[edges] = rng.choice([0.0, 0.25, 0.5, 1.0, -0.5, 1.5, 1 / 3], edges.sum())
    if nan and m:
        predictions[rng.integers(0, m)] = np.nan
    weights = rng.random(m).astype(dtype) if weighted else None
    return labels, predictions, weights


def run_both(kernel, labels, predictions, weights, thresholds, start):
    """Both backends on copies of the same counts; returns their four counts each."""
    results = []
    for backend in (compiled, reference):
        counts = [start.copy() for _ in range(4)]
        getattr(backend, kernel)(labels, predictions, weights, thresholds, *counts)
        results.append(counts)
    return results


def assert_close(got, expected, dtype):
    tolerance = dict(rtol=1e-6, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12,
                                                                             atol=1e-12)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, **tolerance)


@settings(max_examples=80, deadline=None)
@given(m=st.sampled_from([0, 1, 2, 7, 33, 320, 1000]), count=st.integers(2, 210),
       dtype=st.sampled_from([np.float32, np.float64]), weighted=st.booleans(),
       nan=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_buckets_match_the_twin(m, count, dtype, weighted, nan, seed):
    rng = np.random.default_rng(seed)
    labels, predictions, weights = make_inputs(rng, m, dtype, weighted, nan)
    start = rng.random(count).astype(dtype)  # the kernels add to what is there
    got, expected = run_both("confusion_buckets_add", labels, predictions, weights, count, start)
    assert_close(got, expected, dtype)
    # the counts at threshold j are those of p > t_j, thresholds in the predictions' dtype
    # (Keras casts them to its variables' dtype), counted directly
    t = np.array([-1e-7] + [(i + 1) / (count - 1) for i in range(count - 2)] + [1 + 1e-7],
                 dtype)
    w = np.ones(m) if weights is None else weights.astype(np.float64)
    p = np.clip(predictions, 0, 1)
    direct = ((p[None, :] > t[:, None]) & (labels != 0)) @ w
    # A prediction within a few ulps of a threshold may fall either side: the buckets
    # (as Keras's, ceil(p * (count - 1)) - 1) round p * (count - 1), so p == t_j can
    # count as above t_j (hypothesis seed 28604: p = t_111 = 0.56632656 in float32,
    # p * 196 = 111.00001); such predictions are the slack allowed.
    near = np.abs(p[None, :] - t[:, None]) <= 4 * np.spacing(np.abs(t[:, None]))
    slack = (near & (labels != 0)) @ w
    assert np.all(np.abs((got[0] - start) - direct) <= slack + 1e-4 + 1e-5 * np.abs(direct))


@settings(max_examples=80, deadline=None)
@given(m=st.sampled_from([0, 1, 5, 64, 500]), count=st.integers(1, 6),
       dtype=st.sampled_from([np.float32, np.float64]), weighted=st.booleans(),
       nan=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_thresholds_match_the_twin(m, count, dtype, weighted, nan, seed):
    rng = np.random.default_rng(seed)
    labels, predictions, weights = make_inputs(rng, m, dtype, weighted, nan)
    thresholds = rng.choice([-1e10, 0.0, 0.25, 0.5, 0.7, 1.0], count).astype(dtype)
    start = np.zeros(count, dtype)
    got, expected = run_both("confusion_thresholds_add", labels, predictions, weights,
                             thresholds, start)
    assert_close(got, expected, dtype)


def test_outputs_left_out_stay_out_and_read_only_inputs_are_accepted():
    rng = np.random.default_rng(3)
    labels, predictions, weights = make_inputs(rng, 50, np.float32, True, False)
    thresholds = np.array([0.3, 0.6], np.float32)
    for a in (labels, predictions, weights, thresholds):
        a.setflags(write=False)
    for backend in (compiled, reference):
        tp, fn = np.zeros(2, np.float32), np.zeros(2, np.float32)
        backend.confusion_thresholds_add(labels, predictions, weights, thresholds, tp, None, fn,
                                         None)
        positive = (labels != 0) * weights
        np.testing.assert_allclose(tp + fn, [positive.sum()] * 2, rtol=1e-5)
        counts = [np.zeros(9, np.float32) for _ in range(4)]
        backend.confusion_buckets_add(labels, predictions, None, 9, *counts)
        np.testing.assert_allclose(counts[0] + counts[2], [np.sum(labels != 0)] * 9)


def test_one_and_two_threads_give_the_same_bits():
    before = minidl.get_num_threads()
    rng = np.random.default_rng(5)
    labels, predictions, weights = make_inputs(rng, 100_000, np.float32, True, True)
    thresholds = np.linspace(0, 1, 7, dtype=np.float32)
    results = []
    try:
        for n in (1, 2):
            minidl.set_num_threads(n)
            buckets = [np.zeros(200, np.float32) for _ in range(4)]
            compiled.confusion_buckets_add(labels, predictions, weights, 200, *buckets)
            direct = [np.zeros(7, np.float32) for _ in range(4)]
            compiled.confusion_thresholds_add(labels, predictions, weights, thresholds, *direct)
            results.append(buckets + direct)
    finally:
        minidl.set_num_threads(before["openmp"] or before["blas"] or 1)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_bad_arguments_are_value_errors_that_name_them(backend):
    f32 = lambda *shape: np.zeros(shape, np.float32)  # noqa: E731
    y, p = f32(5), f32(5)
    with pytest.raises(ValueError, match="predictions must have shape"):
        backend.confusion_buckets_add(y, f32(4), None, 10, f32(10), None, None, None)
    with pytest.raises(ValueError, match="num_thresholds must be >= 2"):
        backend.confusion_buckets_add(y, p, None, 1, f32(1), None, None, None)
    with pytest.raises(ValueError, match="num_thresholds must be an integer"):
        backend.confusion_buckets_add(y, p, None, 2.5, f32(2), None, None, None)
    with pytest.raises(ValueError, match="tn must have shape"):
        backend.confusion_buckets_add(y, p, None, 10, f32(10), f32(10), f32(10), f32(9))
    with pytest.raises(ValueError, match="one dtype"):
        backend.confusion_buckets_add(y, p, np.ones(5), 10, f32(10), None, None, None)
    with pytest.raises(ValueError, match="weights must have shape"):
        backend.confusion_thresholds_add(y, p, f32(3), f32(2), f32(2), None, None, None)
    with pytest.raises(ValueError, match="C-contiguous"):
        backend.confusion_thresholds_add(f32(10)[::2], p, None, f32(2), f32(2), None, None, None)
    read_only = f32(2)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="fp is an output and must be writeable"):
        backend.confusion_thresholds_add(y, p, None, f32(2), f32(2), read_only, None, None)
    shared = f32(2)
    with pytest.raises(ValueError, match="shares memory"):
        backend.confusion_thresholds_add(y, p, None, shared, shared, None, None, None)
    with pytest.raises(ValueError, match="must be float32 or float64"):
        backend.confusion_thresholds_add(y.astype(np.int64), p, None, f32(2), f32(2), None, None,
                                         None)


# --- a fuzz family, as test_kernel_fuzz.py's ----------------------------------------------
@st.composite
def metrics_calls(draw, alias=False):
    m, count, dtype = draw(st.integers(0, 40)), draw(st.integers(0, 12)), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    counts = {name: maybe_none(draw, a((count,), output=True)) for name in ("tp", "fp", "fn", "tn")}
    common = dict(labels=a((m,), values="labels:1"), predictions=a((m,)),
                  weights=maybe_none(draw, a((m,), values="positive")))
    if draw(st.booleans()):
        args = dict(common, thresholds=a((count,)), **counts)
        call = Call("confusion_thresholds_add", tuple(args), args, draw(seeds))
        inputs = ["labels", "predictions", "weights", "thresholds"]
    else:
        number = draw(st.one_of(st.just(count), st.sampled_from([0, 1, -3, 2.0, True])))
        args = dict(common, num_thresholds=number, **counts)
        call = Call("confusion_buckets_add", tuple(args), args, draw(seeds))
        inputs = ["labels", "predictions", "weights"]
    return with_alias(draw, alias, call, ["tp", "fp", "fn", "tn"], inputs)


def test_fuzz_matches_reference_or_refuses():
    outcomes = set()

    # more examples than the other families: most drawn calls are refused (a count buffer
    # of the wrong length, a bad num_thresholds), and the test must also see some match
    @settings(FUZZ, max_examples=300)
    @given(call=metrics_calls())
    def fuzz(call):
        outcomes.add(check(call))

    fuzz()
    assert outcomes == {"refused", "matched"}


def test_fuzz_aliased_outputs_match_reference_or_refuse():
    @settings(FUZZ, max_examples=100)
    @given(call=metrics_calls(alias=True))
    def fuzz(call):
        check(call)

    fuzz()


def test_the_fuzz_family_builds_arrays_as_the_kernels_take_them():
    call = Call("confusion_buckets_add", ("labels", "predictions", "weights", "num_thresholds",
                                          "tp", "fp", "fn", "tn"),
                dict(labels=Arr((4,), np.dtype(np.float32), values="labels:1"),
                     predictions=Arr((4,), np.dtype(np.float32)), weights=None, num_thresholds=3,
                     tp=Arr((3,), np.dtype(np.float32), output=True), fp=None, fn=None, tn=None),
                seed=2)
    assert check(call) == "matched"
