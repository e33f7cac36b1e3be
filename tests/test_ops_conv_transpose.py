"""conv2d_transpose: values and gradients against PyTorch's conv_transpose2d, Keras's
output sizes, gradients by finite differences, errors."""

import itertools

import numpy as np
import pytest

from minidl import Tensor, ops
from minidl.ops.conv2d_transpose import transposed_geometry, transposed_output_length
from minidl.testing import gradcheck

torch = pytest.importorskip("torch")

rng = np.random.default_rng(15)


def torch_conv_transpose(x, w, b, strides, padding, output_padding):
    """PyTorch's transposed convolution (NCHW, kernel (C_in, F, kh, kw)) of the full
    size (n - 1) * s + k, then cut to Keras's size at Keras's offset: the oracle.
    Returns the output (NHWC) and the torch leaves (x, w, b) for gradients."""
    kh, kw = w.shape[:2]
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    w_t = torch.tensor(w.transpose(3, 2, 0, 1), requires_grad=True)
    b_t = torch.tensor(b, requires_grad=True)
    full = torch.nn.functional.conv_transpose2d(x_t, w_t, stride=strides)
    extra = output_padding or (None, None)
    (out_h, top), (out_w, left) = (
        transposed_geometry(n, k, s, padding, p, "test")
        for n, k, s, p in zip(x.shape[1:3], (kh, kw), strides, extra))
    grow = (0, max(left + out_w - full.shape[3], 0), 0, max(top + out_h - full.shape[2], 0))
    full = torch.nn.functional.pad(full, grow)  # sizes beyond the full one are zeros (+ bias)
    out = full[:, :, top:top + out_h, left:left + out_w] + b_t[None, :, None, None]
    return out, (x_t, w_t, b_t)


SHAPES = [(1, 1), (4, 5)]
KERNELS = [(1, 1), (2, 3), (3, 3), (5, 4)]
STRIDES = [(1, 1), (2, 2), (3, 2)]


def cases():
    """Every combination that Keras accepts (for "same", output_padding=0 with an even
    kernel gives sizes no convolution maps back: refused, tested below)."""
    for (h, w), kernel, strides, padding, output_padding in itertools.product(
            SHAPES, KERNELS, STRIDES, ["valid", "same"], [None, "zero", "most"]):
        if output_padding is not None:
            if output_padding == "most" and strides == (1, 1):
                continue  # the same as "zero"
            output_padding = (0, 0) if output_padding == "zero" else (strides[0] - 1, strides[1] - 1)
        try:
            for n, k, s, p in zip((h, w), kernel, strides, output_padding or (None, None)):
                transposed_geometry(n, k, s, padding, p, "test")
        except ValueError:
            continue
        yield (h, w), kernel, strides, padding, output_padding


@pytest.mark.parametrize("image, kernel, strides, padding, output_padding", list(cases()), ids=str)
def test_values_and_gradients_match_pytorch(backend, image, kernel, strides, padding, output_padding):
    x = rng.normal(size=(2, *image, 3))
    w = rng.normal(size=(*kernel, 4, 3))
    b = rng.normal(size=4)
    expected, leaves = torch_conv_transpose(x, w, b, strides, padding, output_padding)
    tensors = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = ops.conv2d_transpose(*tensors, strides, padding, output_padding)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-10)
    grad = rng.normal(size=out.shape)
    out.backward(grad)
    expected.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    for tensor, leaf, layout in zip(tensors, leaves, [(0, 2, 3, 1), (2, 3, 1, 0), (0,)]):
        np.testing.assert_allclose(tensor.grad, leaf.grad.numpy().transpose(layout),
                                   rtol=1e-10, atol=1e-10)


def test_keras_values_on_small_images():
    """tf_keras 2: ``Conv2DTranspose(1, (3, 2), strides=2, padding="same", use_bias=False)``
    and ``Conv2DTranspose(1, 3, strides=(2, 3), output_padding=(1, 2), use_bias=False)``
    on arange(1, 7).reshape(1, 2, 3, 1), kernels arange(6) and arange(9)."""
    x = np.arange(1, 7, dtype=np.float32).reshape(1, 2, 3, 1)
    same = ops.conv2d_transpose(x, np.arange(6, dtype=np.float32).reshape(3, 2, 1, 1), None,
                                2, "same")
    np.testing.assert_array_equal(same.numpy()[0, :, :, 0], [
        [0, 1, 0, 2, 0, 3], [2, 3, 4, 6, 6, 9], [4, 9, 8, 15, 12, 21], [8, 12, 10, 15, 12, 18]])
    valid = ops.conv2d_transpose(x, np.arange(9, dtype=np.float32).reshape(3, 3, 1, 1), None,
                                 (2, 3), "valid", (1, 2))
    np.testing.assert_array_equal(valid.numpy()[0, :, :, 0], [
        [0, 1, 2, 0, 2, 4, 0, 3, 6, 0, 0], [3, 4, 5, 6, 8, 10, 9, 12, 15, 0, 0],
        [6, 11, 16, 12, 19, 26, 18, 27, 36, 0, 0], [12, 16, 20, 15, 20, 25, 18, 24, 30, 0, 0],
        [24, 28, 32, 30, 35, 40, 36, 42, 48, 0, 0], [0] * 11])


@pytest.mark.parametrize("n, k, s, padding, output_padding, expected", [
    (7, 3, 1, "valid", None, 9), (7, 3, 2, "valid", None, 15), (7, 2, 3, "valid", None, 21),
    (7, 4, 2, "same", None, 14), (7, 3, 3, "valid", 2, 23), (5, 3, 2, "same", 1, 10),
    (6, 2, 3, "same", None, 18), (4, 5, 2, "valid", 1, 12),
])
def test_output_length_is_keras_deconv_output_length(n, k, s, padding, output_padding, expected):
    """Values of keras.utils.conv_utils.deconv_output_length (tf_keras 2)."""
    assert transposed_output_length(n, k, s, padding, output_padding) == expected
    assert transposed_output_length(None, k, s, padding, output_padding) is None


@pytest.mark.parametrize("strides, padding, output_padding", [
    ((1, 1), "valid", None), ((2, 2), "same", None), ((2, 3), "valid", (1, 2)),
    ((2, 2), "same", (1, 1)),
])
def test_gradients_by_finite_differences(strides, padding, output_padding):
    x = rng.normal(size=(2, 3, 2, 2))
    w = rng.normal(size=(3, 2, 3, 2))
    b = rng.normal(size=3)
    assert gradcheck(lambda x, w, b: ops.conv2d_transpose(x, w, b, strides, padding, output_padding),
                     [x, w, b])


def test_float32_and_mixed_dtypes():
    x = rng.normal(size=(1, 3, 3, 2)).astype(np.float32)
    w = rng.normal(size=(3, 3, 4, 2))
    out = ops.conv2d_transpose(x, w.astype(np.float32), None, 2, "same")
    assert out.dtype == np.float32 and out.shape == (1, 6, 6, 4)
    x_t = Tensor(x, requires_grad=True)
    mixed = ops.conv2d_transpose(x_t, Tensor(w, requires_grad=True), np.zeros(4), 2, "same")
    assert mixed.dtype == np.float64  # the computation runs in the kernel's dtype, as conv2d
    mixed.backward(np.ones(mixed.shape))
    assert x_t.grad.dtype == np.float32


def test_only_the_needed_gradients():
    x = Tensor(rng.normal(size=(1, 2, 2, 2)))
    w = Tensor(rng.normal(size=(2, 2, 3, 2)), requires_grad=True)
    out = ops.conv2d_transpose(x, w, Tensor(np.zeros(3)), 2)
    out.backward(np.ones(out.shape))
    assert x.grad is None and w.grad.shape == (2, 2, 3, 2)


@pytest.mark.parametrize("call, words", [
    (lambda: ops.conv2d_transpose(np.ones((2, 3, 3)), np.ones((3, 3, 2, 3))), ["4-d", "(2, 3, 3)"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2))), ["kernel", "4-d"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 5))),
     ["2 channels", "expects 5"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), np.ones(3)),
     ["bias", "(4,)"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), None, 2, "same", 2),
     ["output_padding", "smaller than the strides"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), None, 2, "same", -1),
     ["output_padding", "-1"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((4, 4, 4, 2)), None, 3, "same", 0),
     ["output_padding=0", "size 6", "back to 3", "output_padding=none"]),
    (lambda: ops.conv2d_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), None, 1, "full"),
     ["padding", "'full'"]),
])
def test_bad_arguments(call, words):
    with pytest.raises(ValueError) as caught:
        call()
    message = str(caught.value).lower()
    assert "conv2d_transpose" in message and all(word in message for word in words), message
