"""conv2d: against a naive NumPy loop, Keras's 'same' rule, gradients, errors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minidl import Tensor, _kernels, ops
from minidl._kernels import compiled, reference
from minidl._kernels import conv_plan
from minidl.testing import gradcheck

rng = np.random.default_rng(6)


@pytest.fixture(autouse=True, params=["im2col", "direct", "winograd"])
def conv_path(request, monkeypatch):
    """Every test runs the three ways conv2d computes: im2col + BLAS, the direct kernels,
    and Winograd's F(4x4, 3x3) for every 3x3 kernel at stride 1 (the others: im2col),
    with the twins' Winograd kernels too."""
    monkeypatch.setattr(conv_plan, "DIRECT_MAX_PATCH", 10**9 if request.param == "direct" else 0)
    winograd = request.param == "winograd"
    monkeypatch.setattr(conv_plan, "WINOGRAD_MIN_CHANNELS", 1 if winograd else 10**9)
    monkeypatch.setattr(conv_plan, "WINOGRAD_BACKENDS", _kernels.BACKENDS if winograd else ())
    return request.param


def naive_conv2d(x, w, b, strides, padding):
    """Convolution the slow, obvious way: pad, then one dot product per output pixel."""
    n, h, width, c = x.shape
    kh, kw, _, f = w.shape
    sh, sw = strides
    if padding == "same":
        out_h, out_w = -(-h // sh), -(-width // sw)
        pad_h = max((out_h - 1) * sh + kh - h, 0)
        pad_w = max((out_w - 1) * sw + kw - width, 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    else:
        out_h, out_w = (h - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n, out_h, out_w, f))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out if b is None else out + b


# (input N,H,W,C), (kernel kh,kw,C,F), strides, padding
CASES = [
    ((2, 5, 5, 2), (3, 3, 2, 3), (1, 1), "valid"),
    ((1, 6, 7, 1), (3, 3, 1, 2), (1, 1), "same"),
    ((2, 5, 6, 2), (2, 3, 2, 2), (2, 1), "same"),    # kh != kw, unequal strides
    ((1, 7, 7, 1), (3, 1, 1, 2), (1, 2), "valid"),
    ((2, 7, 5, 1), (2, 2, 1, 1), (3, 3), "valid"),    # stride > kernel
    ((1, 5, 5, 2), (4, 2, 2, 1), (2, 3), "same"),     # odd size, even kernel: extra pad bottom/right
    ((1, 3, 3, 1), (3, 3, 1, 1), (1, 1), "valid"),    # kernel covers the whole image
    ((2, 4, 4, 3), (1, 1, 3, 2), (1, 1), "same"),     # 1x1 convolution
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding", CASES)
def test_conv2d_matches_naive_loop(backend, x_shape, w_shape, strides, padding):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])
    out = ops.conv2d(x, w, b, strides, padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, strides, padding), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding", CASES)
@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_conv2d_gradcheck(backend, x_shape, w_shape, strides, padding, activation):
    inputs = [rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])]
    gradcheck(lambda x, w, b: ops.conv2d(x, w, b, strides, padding, activation), inputs)


def test_conv2d_relu_and_no_bias_gradcheck(backend):
    x = rng.uniform(0.1, 1.0, (2, 4, 5, 2))
    w = rng.uniform(0.1, 1.0, (2, 3, 2, 2))  # positive: pre-activations stay away from 0
    gradcheck(lambda x, w: ops.conv2d(x, w, None, 1, "same", "relu"), [x, w])


def test_same_padding_puts_the_extra_pixel_bottom_right(backend):
    # 5x5 image, 2x2 kernel of ones, stride 2: out 3x3, pad_total 1, all of it after.
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out = ops.conv2d(x, np.ones((2, 2, 1, 1)), None, 2, "same").data[0, :, :, 0]
    assert out.shape == (3, 3)
    assert out[0, 0] == 0 + 1 + 5 + 6
    assert out[2, 2] == 24  # only the bottom-right pixel; the rest is padding
    # 3x3 kernel, stride 1 on a 4-wide image: one pixel of padding on each side.
    out = ops.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), None, 1, "same").data[0, :, :, 0]
    np.testing.assert_array_equal(out[0], [4, 6, 6, 4])


@pytest.mark.parametrize("h, k, s, expected", [(28, 3, 1, 28), (28, 3, 2, 14), (7, 2, 2, 4), (5, 4, 3, 2)])
def test_same_output_size_is_ceil_n_over_stride(backend, h, k, s, expected):
    assert ops.conv2d(np.ones((1, h, h, 1)), np.ones((k, k, 1, 1)), None, s, "same").shape == (1, expected, expected, 1)


def test_conv2d_float32_path(backend):
    x = Tensor(rng.standard_normal((2, 6, 6, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, np.float32), requires_grad=True)
    y = ops.conv2d(x, w, b, (1, 1), "valid", "relu")
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    expected = np.maximum(naive_conv2d(x.data.astype(np.float64), w.data.astype(np.float64), None, (1, 1), "valid"), 0)
    np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-4)


def test_use_switches_backend_at_call_time(conv_path):
    x, w = rng.standard_normal((1, 4, 4, 1)), rng.standard_normal((2, 2, 1, 1))
    previous = _kernels.current
    kernel = "conv2d_forward" if conv_path == "direct" else "im2col"
    try:
        a = ops.conv2d(x, w).data
        _kernels.use("reference")
        calls = []
        original = getattr(_kernels.current, kernel)
        setattr(_kernels.current, kernel, lambda *args: (calls.append(1), original(*args)))
        try:
            b = ops.conv2d(x, w).data
        finally:
            setattr(_kernels.current, kernel, original)
        assert calls and np.allclose(a, b)
    finally:
        _kernels.current = previous


@given(
    n=st.integers(1, 2), h=st.integers(1, 7), w=st.integers(1, 7), c=st.integers(1, 3),
    kh=st.integers(1, 4), kw=st.integers(1, 4), f=st.integers(1, 3),
    sh=st.integers(1, 4), sw=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_conv2d_forward_property(n, h, w, c, kh, kw, f, sh, sw, padding):
    if padding == "valid" and (kh > h or kw > w):
        return
    x, k = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, f))
    out = ops.conv2d(x, k, None, (sh, sw), padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x, k, None, (sh, sw), padding), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((5, 5, 1, 1))},
     r"conv2d: kernel \(5, 5\) is larger than the padded input \(3, 3\)"),
    ({"x": np.ones((3, 3, 1)), "w": np.ones((2, 2, 1, 1))}, "input must be 4-D"),
    ({"x": np.ones((1, 3, 3, 2)), "w": np.ones((2, 2, 1, 1))}, "input has 2 channels"),
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((2, 2, 1))}, "kernel must be 4-D"),
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((2, 2, 1, 4)), "b": np.ones(3)}, r"bias must have shape \(4,\)"),
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((2, 2, 1, 1)), "padding": "full"}, "padding must be 'valid' or 'same'"),
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((2, 2, 1, 1)), "strides": 0}, "strides must be"),
    ({"x": np.ones((1, 3, 3, 1)), "w": np.ones((2, 2, 1, 1)), "strides": (1, 2, 3)}, "strides must be"),
])
def test_conv2d_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ops.conv2d(**kwargs)


def test_each_convolution_takes_its_path(monkeypatch):
    """The rules, with the real thresholds: small patches go direct (DIRECT_MAX_PATCH);
    with the compiled kernels, 3x3 kernels at stride 1 with enough channels and filters
    (WINOGRAD_MIN_CHANNELS) go through Winograd; everything else, and everything the
    twins compute but the direct cases, through im2col."""
    monkeypatch.setattr(conv_plan, "DIRECT_MAX_PATCH", 32)
    monkeypatch.setattr(conv_plan, "WINOGRAD_MIN_CHANNELS", 16)
    monkeypatch.setattr(conv_plan, "WINOGRAD_BACKENDS", ("compiled",))
    f32, f64 = np.float32, np.float64
    convolutions = [((1, 8, 8, 1), (3, 3, 1, 4), 1, f32),       # 9 values a patch
                    ((1, 8, 8, 8), (3, 3, 8, 32), 1, f32),      # 72 values, but only 8 channels
                    ((1, 8, 8, 16), (3, 3, 16, 16), 1, f32),    # the tutorials' kind
                    ((1, 8, 8, 16), (3, 3, 16, 16), 2, f32),    # stride 2
                    ((1, 8, 8, 16), (5, 5, 16, 16), 1, f32),    # 5x5
                    ((1, 8, 8, 16), (3, 3, 16, 16), 1, f64)]    # float64 alike
    for kernels in (compiled, reference):
        monkeypatch.setattr(_kernels, "current", kernels)
        used = []
        for name in ("im2col", "conv2d_forward", "conv2d_winograd_forward"):
            original = getattr(kernels, name)
            monkeypatch.setattr(kernels, name,
                                lambda *args, _name=name, _f=original: (used.append(_name), _f(*args))[1])
        for x_shape, w_shape, stride, dtype in convolutions:
            ops.conv2d(rng.standard_normal(x_shape).astype(dtype),
                       rng.standard_normal(w_shape).astype(dtype), strides=stride)
        if kernels is compiled:
            assert used == ["conv2d_forward", "im2col", "conv2d_winograd_forward", "im2col",
                            "im2col", "conv2d_winograd_forward"]
        else:
            assert used == ["conv2d_forward", "im2col", "im2col", "im2col", "im2col", "im2col"]

