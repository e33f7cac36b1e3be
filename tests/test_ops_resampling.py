"""upsample2d, zero_pad2d, crop2d: against PyTorch and Keras, gradients, errors."""

import numpy as np
import pytest

from minidl import Tensor, ops
from minidl.testing import gradcheck

torch = pytest.importorskip("torch")

rng = np.random.default_rng(3)


def check_against_torch(op, torch_op, x):
    """Values and input gradients of ``op`` (NHWC) and ``torch_op`` (NCHW) agree."""
    x_minidl = Tensor(x, requires_grad=True)
    out = op(x_minidl)
    x_torch = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    expected = torch_op(x_torch)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)
    grad = rng.normal(size=out.shape)
    out.backward(grad)
    expected.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(x_minidl.grad, x_torch.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(2, 2), (3, 1), (1, 4), (3, 5)])
@pytest.mark.parametrize("shape", [(2, 1, 1, 3), (2, 4, 5, 3), (1, 2, 7, 2)])
def test_upsample2d_matches_pytorch(interpolation, size, shape):
    """PyTorch's bilinear with align_corners=False is TensorFlow's half-pixel resize;
    its nearest repeats pixels, as TensorFlow's does for integer factors."""
    extra = {"align_corners": False} if interpolation == "bilinear" else {}
    check_against_torch(
        lambda x: ops.upsample2d(x, size, interpolation),
        lambda x: torch.nn.functional.interpolate(x, scale_factor=size, mode=interpolation, **extra),
        rng.normal(size=shape))


def test_bilinear_matches_keras():
    """tf_keras 2: ``UpSampling2D((3, 2), interpolation="bilinear")`` of
    ``arange(12).reshape(1, 3, 4, 1) ** 1.5``, rows 0, 2 and 8 of its output."""
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1) ** 1.5
    out = ops.upsample2d(x, (3, 2), "bilinear").numpy()[0, :, :, 0]
    assert out.shape == (9, 8) and out.dtype == np.float32
    keras_rows = {
        0: [0.0, 0.25, 0.75, 1.45711, 2.37132, 3.42036, 4.60422, 5.19615],
        2: [2.66667, 3.09836, 3.96175, 4.99123, 6.18681, 7.49783, 8.92429, 9.63752],
        8: [22.62742, 23.72056, 25.90686, 28.15569, 30.46708, 32.8378, 35.26785, 36.48287],
    }
    for row, values in keras_rows.items():
        np.testing.assert_allclose(out[row], values, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("edges", [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((2, 1), (0, 0))])
def test_zero_pad2d_and_crop2d_match_pytorch(edges):
    (top, bottom), (left, right) = edges
    x = rng.normal(size=(2, 5, 6, 3))
    check_against_torch(lambda x: ops.zero_pad2d(x, edges),
                        lambda x: torch.nn.functional.pad(x, (left, right, top, bottom)), x)
    check_against_torch(lambda x: ops.crop2d(x, edges),
                        lambda x: x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right], x)


@pytest.mark.parametrize("op", [
    lambda x: ops.upsample2d(x, (2, 3), "bilinear"), lambda x: ops.upsample2d(x, (3, 2)),
    lambda x: ops.zero_pad2d(x, ((1, 0), (2, 1))), lambda x: ops.crop2d(x, ((1, 0), (0, 1))),
])
def test_gradients_by_finite_differences(op):
    assert gradcheck(op, [rng.normal(size=(2, 3, 4, 2))])


def test_dtypes_are_kept():
    for dtype in (np.float32, np.float64):
        x = np.ones((1, 2, 2, 1), dtype)
        for out in (ops.upsample2d(x, (2, 2), "bilinear"), ops.upsample2d(x, (2, 2)),
                    ops.zero_pad2d(x, ((1, 1), (1, 1))), ops.crop2d(x, ((1, 0), (0, 0)))):
            assert out.dtype == dtype


@pytest.mark.parametrize("call, words", [
    (lambda: ops.upsample2d(np.ones((2, 3, 3))), ["upsample2d", "4-d", "(2, 3, 3)"]),
    (lambda: ops.upsample2d(np.ones((1, 2, 2, 1)), (2, 2), "bicubic"),
     ["upsample2d", "interpolation", "'bicubic'", "nearest"]),
    (lambda: ops.zero_pad2d(np.ones((3, 3)), ((1, 1), (1, 1))), ["zero_pad2d", "4-d"]),
    (lambda: ops.crop2d(np.ones((1, 4, 4, 1)), ((2, 2), (0, 0))), ["crop2d", "leaves nothing", "(4, 4)"]),
])
def test_bad_arguments(call, words):
    with pytest.raises(ValueError) as caught:
        call()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message
