"""The Winograd convolution kernels against their NumPy twins and against im2col's.

Both Winograd copies (compiled, twin) are compared with the exact result: im2col's
twin in float64.  How far a float sum may be from it depends on its size: rounding
errors are fractions (eps, the dtype's machine epsilon) of the terms added, so they
are bounded by eps times the sum of the terms' absolute values (the sum's magnitude,
|x| convolved with |w|), never by the result, which cancellation can make small.
Winograd's transforms add and subtract values of different sizes (factors up to 8,
down to 1/24), and mix the 6x6 input patch of a whole tile, so the bound is taken
over the largest magnitude in the array and multiplied by ``GROWTH``.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minidl._kernels import compiled, conv, reference

FLOATS = [np.float32, np.float64]
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh"]
# every copy of the compiled kernels this CPU can run (AVX-512, AVX2, the SSE2 baseline)
ISAS = conv.available_vector_isas()
running = conv.using_vector_isa
# Measured over 1300 random cases (every copy, shapes as below): the largest error was
# 22 eps times the largest magnitude (forward), 18 (gradients); 64 leaves a margin of 3.
GROWTH = 64


def wide(array):
    return None if array is None else np.asarray(array, np.float64)


def assert_within_rounding(actual, exact, magnitude, dtype):
    """|actual - exact| <= GROWTH * eps(dtype) * max(magnitude)."""
    bound = GROWTH * float(np.finfo(dtype).eps) * float(np.max(magnitude, initial=0.0))
    np.testing.assert_allclose(actual, exact, rtol=0, atol=bound)


def geometry(h, w, pads):
    """(pad_top, pad_left, out_h, out_w) of a 3x3 stride-1 convolution with these paddings
    (top, left, bottom, right), or None when no window would start inside the image."""
    top, left, bottom, right = pads
    out_h, out_w = h + top + bottom - 2, w + left + right - 2
    if out_h < 1 or out_w < 1 or out_h - 1 - top >= h or out_w - 1 - left >= w:
        return None
    return top, left, out_h, out_w


def check_against_twins(x, k, b, g, pad_top, pad_left, out_shape, activation, want_x, dtype):
    """Forward and backward, compiled and Winograd twin, against im2col's twin in float64.

    The magnitudes come from the same float64 twin run on |x|, |w|, |b| and |dL/dout|
    with no activation: every activation here changes a value, or passes a gradient on,
    by a factor of at most 1, so it cannot make an error larger."""
    exact, magnitude = np.empty(out_shape), np.empty(out_shape)
    reference.conv2d_forward(wide(x), wide(k), wide(b), 1, 1, pad_top, pad_left, exact, activation)
    reference.conv2d_forward(*(wide(np.abs(a)) if a is not None else None for a in (x, k, b)),
                             1, 1, pad_top, pad_left, magnitude, "linear")
    forwards = []
    for run in (compiled.conv2d_winograd_forward, reference.conv2d_winograd_forward):
        out = np.empty(out_shape, dtype)
        run(x, k, b, pad_top, pad_left, out, activation)
        assert_within_rounding(out, exact, magnitude, dtype)
        forwards.append(out)
    out = exact.astype(dtype)

    def gradient_buffers(kind):
        return (np.empty(x.shape, kind), np.empty(k.shape, kind),
                np.empty(k.shape[3], kind) if b is not None else None)

    exact_grads, magnitudes = gradient_buffers(np.float64), gradient_buffers(np.float64)
    reference.conv2d_backward(wide(x), wide(k), wide(out), wide(g), 1, 1, pad_top, pad_left,
                              *exact_grads, activation)
    reference.conv2d_backward(wide(np.abs(x)), wide(np.abs(k)), wide(out), wide(np.abs(g)), 1, 1,
                              pad_top, pad_left, *magnitudes, "linear")
    gradients = []
    for run in (compiled.conv2d_winograd_backward, reference.conv2d_winograd_backward):
        grads = gradient_buffers(dtype)
        if not want_x:
            grads = (None, *grads[1:])
        run(x, k, out, g, pad_top, pad_left, *grads, activation)
        for got, expected, size in zip(grads, exact_grads, magnitudes):
            if got is not None:
                assert_within_rounding(got, expected, size, dtype)
        gradients.append(grads)
    return forwards[0], gradients[0]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 3), h=st.integers(1, 14), w=st.integers(1, 14),
       c=st.sampled_from([1, 3, 16, 33]),
       pads=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
       f=st.sampled_from([1, 3, 16, 17, 32, 64, 80]), activation=st.sampled_from(ACTIVATIONS),
       bias=st.booleans(), want_x=st.booleans(), dtype=st.sampled_from(FLOATS),
       isa=st.sampled_from(ISAS), seed=st.integers(0, 999))
def test_winograd_convolution(n, h, w, c, pads, f, activation, bias, want_x, dtype, isa, seed):
    """Images from 1x1 to 14x14 (tiles that overhang the output, patches that overhang
    the image on every side), paddings 0-2; channels and filters that fill the widest
    and narrowest vector paths of the products and leave 1-value tails; every copy of
    the kernels this CPU can run."""
    shape = geometry(h, w, pads)
    if shape is None:
        return
    pad_top, pad_left, out_h, out_w = shape
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, c)).astype(dtype)
    # weights as Glorot would draw them: pre-activations of about unit size
    k = (rng.normal(size=(3, 3, c, f)) / np.sqrt(9 * c)).astype(dtype)
    b = rng.normal(size=f).astype(dtype) if bias else None
    g = rng.normal(size=(n, out_h, out_w, f)).astype(dtype)
    with running(isa):
        check_against_twins(x, k, b, g, pad_top, pad_left, (n, out_h, out_w, f), activation,
                            want_x, dtype)


@pytest.mark.slow
def test_winograd_convolution_on_600_large_random_cases():
    """The largest shapes of the test above, 600 of them: with a tolerance of 2e-5 times
    the largest output, about 1 in 150 failed (a tanh output is at most 1 where the sum
    before it is larger); the bound from the sums' magnitude holds on every one."""
    draw = np.random.default_rng(600)
    for case in range(600):
        n, h, w = int(draw.integers(1, 4)), int(draw.integers(8, 15)), int(draw.integers(8, 15))
        c, f = int(draw.choice([16, 33])), int(draw.choice([32, 64, 80]))
        pad_top, pad_left, out_h, out_w = geometry(h, w, tuple(draw.integers(0, 3, 4)))
        activation, isa = str(draw.choice(ACTIVATIONS)), str(draw.choice(ISAS))
        rng = np.random.default_rng(case)
        x = rng.normal(size=(n, h, w, c)).astype(np.float32)
        k = (rng.normal(size=(3, 3, c, f)) / np.sqrt(9 * c)).astype(np.float32)
        b = rng.normal(size=f).astype(np.float32)
        g = rng.normal(size=(n, out_h, out_w, f)).astype(np.float32)
        with running(isa):
            check_against_twins(x, k, b, g, pad_top, pad_left, (n, out_h, out_w, f), activation,
                                True, np.float32)


@pytest.mark.parametrize("n, h, w, c, f, pads", [
    (64, 13, 13, 32, 64, (0, 0, 0, 0)),   # the tutorial CNN's second convolution: 8 chunks
    (3, 28, 28, 16, 16, (1, 1, 1, 1)),    # 'same' on 28x28: 49 tiles an image, 2 chunks
    (37, 5, 5, 5, 5, (1, 1, 1, 1)),       # 3 chunks, the last one short; no vector path
    (2, 30, 7, 8, 24, (2, 0, 1, 2)),      # a block of 16 tiles spanning two images
    (300, 5, 5, 16, 16, (1, 1, 1, 1)),    # chunks of 32 images, not 16: at most 16 chunks
])
@pytest.mark.parametrize("isa", ISAS)
def test_winograd_convolution_in_chunks_and_blocks(n, h, w, c, f, pads, isa):
    """Shapes whose tiles fill several blocks and chunks (see conv.pyx)."""
    pad_top, pad_left, out_h, out_w = geometry(h, w, pads)
    rng = np.random.default_rng(n)
    x = np.maximum(rng.normal(size=(n, h, w, c)), 0).astype(np.float32)
    k = (rng.normal(size=(3, 3, c, f)) * 0.1).astype(np.float32)
    b = (rng.normal(size=f) * 0.1).astype(np.float32)
    g = rng.normal(size=(n, out_h, out_w, f)).astype(np.float32)
    with running(isa):
        check_against_twins(x, k, b, g, pad_top, pad_left, (n, out_h, out_w, f), "relu", True,
                            np.float32)


def test_winograd_nan_reaches_every_output_that_sees_it():
    """A NaN in x makes NaN of every output whose window holds it (and, through the
    transforms, possibly others of the same 4x4 tile), and of the gradients it meets;
    tiles whose patch does not hold it stay finite."""
    x = np.ones((1, 14, 14, 2), np.float32)
    x[0, 3, 5, 1] = np.nan
    k = np.ones((3, 3, 2, 16), np.float32)
    for backend in (compiled, reference):
        out = np.empty((1, 12, 12, 16), np.float32)
        backend.conv2d_winograd_forward(x, k, None, 0, 0, out, "linear")
        assert np.isnan(out[0, 1:4, 3:6]).all()
        assert np.isfinite(out[0, 8:, :]).all() and np.isfinite(out[0, :, 8:]).all()
        grad_x, grad_w = np.empty_like(x), np.empty_like(k)
        backend.conv2d_winograd_backward(x, k, out, np.ones_like(out), 0, 0, grad_x, grad_w, None,
                                         "linear")
        assert np.isnan(grad_w).any()


def test_winograd_of_nothing():
    """No images, no channels, no filters: what the direct kernels give (the bias, zeros)."""
    for backend in (compiled, reference):
        out = np.full((2, 3, 3, 4), 7, np.float32)
        b = np.arange(4, dtype=np.float32)
        backend.conv2d_winograd_forward(np.empty((2, 5, 5, 0), np.float32),
                                        np.empty((3, 3, 0, 4), np.float32), b, 0, 0, out, "relu")
        np.testing.assert_array_equal(out, np.broadcast_to(b, out.shape))
        grad_w = np.full((3, 3, 2, 4), 7, np.float32)
        backend.conv2d_winograd_backward(np.ones((0, 5, 5, 2), np.float32), grad_w.copy(),
                                         np.empty((0, 3, 3, 4), np.float32),
                                         np.empty((0, 3, 3, 4), np.float32), 0, 0, None, grad_w,
                                         None, "relu")
        np.testing.assert_array_equal(grad_w, 0)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_winograd_refuses_other_kernel_sizes(backend):
    x, out = np.zeros((1, 6, 6, 2), np.float32), np.zeros((1, 2, 2, 4), np.float32)
    with pytest.raises(ValueError, match="3x3"):
        backend.conv2d_winograd_forward(x, np.zeros((5, 5, 2, 4), np.float32), None, 0, 0, out,
                                        "relu")
    with pytest.raises(ValueError, match="3x3"):
        backend.conv2d_winograd_backward(x, np.zeros((5, 5, 2, 4), np.float32), out, out, 0, 0,
                                         None, np.zeros((5, 5, 2, 4), np.float32), None, "relu")


def test_vector_isa_choice():
    """The copy in use is this CPU's best unless asked; one it cannot run is refused."""
    best = conv.vector_isa()
    assert best in conv.VECTOR_ISAS
    with running("baseline"):
        assert conv.vector_isa() == "baseline"
    assert conv.vector_isa() == best
    with pytest.raises(ValueError, match="one of"):
        conv.vector_isa("neon")
    if best != "avx512":
        with pytest.raises(ValueError, match="cannot run"):
            conv.vector_isa("avx512")
