"""The Winograd convolution kernels against their NumPy twins and against im2col's.

Winograd's transforms add and subtract values of different sizes (factors up to 8,
down to 1/24), so their rounding error is a small fraction of the largest value a
tile touches rather than of each output: results are compared relative to the
largest value of the expected array.
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


def assert_close_to_scale(actual, expected, dtype):
    """|actual - expected| <= tol * max|expected| (+ a floor for all-zero arrays)."""
    tol = 2e-5 if dtype == np.float32 else 1e-12
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def geometry(h, w, pads):
    """(pad_top, pad_left, out_h, out_w) of a 3x3 stride-1 convolution with these paddings
    (top, left, bottom, right), or None when no window would start inside the image."""
    top, left, bottom, right = pads
    out_h, out_w = h + top + bottom - 2, w + left + right - 2
    if out_h < 1 or out_w < 1 or out_h - 1 - top >= h or out_w - 1 - left >= w:
        return None
    return top, left, out_h, out_w


def check_against_twins(x, k, b, g, pad_top, pad_left, out_shape, activation, want_x, dtype):
    """Forward and backward, compiled vs Winograd twin vs im2col twin."""
    forwards = []
    for run in (compiled.conv2d_winograd_forward, reference.conv2d_winograd_forward):
        out = np.empty(out_shape, dtype)
        run(x, k, b, pad_top, pad_left, out, activation)
        forwards.append(out)
    im2col = np.empty(out_shape, dtype)
    reference.conv2d_forward(x, k, b, 1, 1, pad_top, pad_left, im2col, activation)
    for out in forwards:
        assert_close_to_scale(out, im2col, dtype)
    out = im2col
    gradients = []
    for run in (compiled.conv2d_winograd_backward, reference.conv2d_winograd_backward,
                lambda *a: reference.conv2d_backward(*a[:4], 1, 1, *a[4:])):
        grads = (np.empty_like(x) if want_x else None, np.empty_like(k),
                 np.empty(k.shape[3], dtype) if b is not None else None)
        run(x, k, out, g, pad_top, pad_left, *grads, activation)
        gradients.append(grads)
    for grads in gradients[:2]:
        for got, expected in zip(grads, gradients[2]):
            if expected is not None:
                assert_close_to_scale(got, expected, dtype)
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
