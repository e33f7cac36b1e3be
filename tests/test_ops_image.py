"""ops.image: resize, affine_transform and flip against TensorFlow's kernels,
a pixel-by-pixel reference, PyTorch, and finite differences."""

import numpy as np
import pytest

from minidl import Tensor, ops
from minidl.ops import image
from minidl.testing import gradcheck

# Produced with TensorFlow 2.21 (/work/tfvenv):
#   img = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
#   tf.raw_ops.ImageProjectiveTransformV3(images=img, transforms=[ROTATION_30 + [0, 0]],
#       output_shape=[3, 4], fill_value=-1.0, fill_mode=MODE.upper(), interpolation=...)
# ROTATION_30 is Keras's get_rotation_matrix for pi / 6 on a 3x4 image.
ROTATION_30 = [0.8660254, -0.5, 0.70096195, 0.5, 0.8660254, -0.61602545]
TF_ROTATED = {
    ("reflect", "bilinear"): [[0.70096, 1.56699, 3.96891, 6.5359], [1.20096, 4.06699, 6.93301, 9.79904],
                              [4.4641, 7.03109, 9.43301, 10.29904]],
    ("reflect", "nearest"): [[1, 2, 2, 7], [0, 5, 6, 11], [4, 9, 9, 10]],
    ("wrap", "bilinear"): [[8.70096, 9.56699, 3.96891, 3.5359], [1.20096, 4.06699, 6.93301, 9.79904],
                           [7.4641, 7.03109, 1.43301, 2.29904]],
    ("wrap", "nearest"): [[9, 10, 2, 4], [0, 5, 6, 11], [7, 9, 1, 2]],
    ("constant", "bilinear"): [[-0.34687, 1.26915, 3.96891, 4.28238],
                               [1.20096, 4.06699, 6.93301, 9.79904],
                               [2.83013, 7.03109, 8.22252, 3.33854]],
    ("constant", "nearest"): [[-1, 2, 2, 7], [0, 5, 6, 11], [4, 9, 9, -1]],
    ("nearest", "bilinear"): [[0.70096, 1.56699, 3.96891, 6.5359], [1.20096, 4.06699, 6.93301, 9.79904],
                              [4.4641, 7.03109, 9.43301, 10.29904]],
    ("nearest", "nearest"): [[1, 2, 2, 7], [0, 5, 6, 11], [4, 9, 9, 10]],
}
# The same image shifted by more than its size (transform [1, 0, 5.5, 0, 1, -2.25]), bilinear:
# TensorFlow's "wrap" clamps the last half pixel instead of blending it with the first.
TF_SHIFTED = {
    "reflect": [[6.5, 5.5, 5.0, 5.5], [2.5, 1.5, 1.0, 1.5], [1.5, 0.5, 0.0, 0.5]],
    "wrap": [[9.5, 8.0, 8.0, 8.5], [8.5, 7.0, 7.0, 7.5], [9.5, 8.0, 8.0, 8.5]],
}
# tf.image.resize(np.arange(6.).reshape(1, 2, 3, 1), (3, 5)) and of np.arange(16.) as 4x4 to (3, 2)
TF_RESIZED = {
    ((2, 3), (3, 5), "bilinear"): [[0, 0.4, 1, 1.6, 2], [1.5, 1.9, 2.5, 3.1, 3.5], [3, 3.4, 4, 4.6, 5]],
    ((2, 3), (3, 5), "nearest"): [[0, 0, 1, 2, 2], [3, 3, 4, 5, 5], [3, 3, 4, 5, 5]],
    ((4, 4), (3, 2), "bilinear"): [[1.16667, 3.16667], [6.5, 8.5], [11.83333, 13.83333]],
    ((4, 4), (3, 2), "nearest"): [[1, 3], [9, 11], [13, 15]],
}


def grid_image(height, width):
    return np.arange(height * width, dtype=np.float32).reshape(1, height, width, 1)


@pytest.mark.parametrize("fill_mode, interpolation", sorted(TF_ROTATED))
def test_rotation_matches_tensorflow(fill_mode, interpolation):
    out = image.affine_transform(grid_image(3, 4), ROTATION_30, interpolation, fill_mode, -1.0)
    np.testing.assert_allclose(out.data[0, :, :, 0], TF_ROTATED[fill_mode, interpolation], atol=1e-4)


@pytest.mark.parametrize("fill_mode", sorted(TF_SHIFTED))
def test_far_shifts_fold_back_as_tensorflow_does(fill_mode):
    out = image.affine_transform(grid_image(3, 4), [1, 0, 5.5, 0, 1, -2.25], "bilinear", fill_mode)
    np.testing.assert_allclose(out.data[0, :, :, 0], TF_SHIFTED[fill_mode], atol=1e-5)


@pytest.mark.parametrize("sizes, interpolation", [(k[:2], k[2]) for k in TF_RESIZED])
def test_resize_matches_tensorflow(sizes, interpolation):
    (h, w), (oh, ow) = sizes
    out = image.resize(grid_image(h, w), oh, ow, interpolation)
    assert out.shape == (1, oh, ow, 1)
    np.testing.assert_allclose(out.data[0, :, :, 0], TF_RESIZED[(h, w), (oh, ow), interpolation],
                               atol=1e-4)


# --- a plain, one-pixel-at-a-time statement of TensorFlow's kernel -----------
def reference_coordinate(c, length, fill_mode):
    """tensorflow/core/kernels/image/image_ops.h, MapCoordinate, written out."""
    if fill_mode == "reflect" and (c < 0 or c > length - 1):
        if length <= 1:
            c = 0.0
        elif c < 0:
            period = 2 * length
            c = period * int(-c / period) + c
            c = c + period if c < -length else -c - 1
        else:
            period = 2 * length
            c -= period * int(c / period)
            if c >= length:
                c = period - c - 1
    elif fill_mode == "wrap" and (c < 0 or c > length - 1):
        if length <= 1:
            c = 0.0
        elif c < 0:
            c += length * (int(-c / (length - 1)) + 1)
        else:
            c -= length * int(c / (length - 1))
    if fill_mode == "constant":
        return c
    return min(max(c, 0.0), length - 1.0)


def reference_transform(img, transform, interpolation, fill_mode, fill_value):
    height, width, _ = img.shape
    a0, a1, a2, b0, b1, b2 = transform

    def read(row, col):
        inside = 0 <= row < height and 0 <= col < width
        return img[int(row), int(col)] if inside else np.full(img.shape[2], fill_value)

    out = np.empty_like(img)
    for y in range(height):
        for x in range(width):
            col = reference_coordinate(a0 * x + a1 * y + a2, width, fill_mode)
            row = reference_coordinate(b0 * x + b1 * y + b2, height, fill_mode)
            if interpolation == "nearest":
                out[y, x] = read(np.sign(row) * np.floor(abs(row) + 0.5),
                                 np.sign(col) * np.floor(abs(col) + 0.5))
                continue
            top, left = np.floor(row), np.floor(col)
            upper = (left + 1 - col) * read(top, left) + (col - left) * read(top, left + 1)
            lower = (left + 1 - col) * read(top + 1, left) + (col - left) * read(top + 1, left + 1)
            out[y, x] = (top + 1 - row) * upper + (row - top) * lower
    return out


@pytest.mark.parametrize("fill_mode", image.FILL_MODES)
@pytest.mark.parametrize("interpolation", image.INTERPOLATIONS)
def test_random_transforms_match_the_pixel_by_pixel_reference(fill_mode, interpolation):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (5, 6, 7, 2))
    angle = rng.uniform(-np.pi, np.pi, 5)
    zoom = rng.uniform(0.3, 2.5, (5, 2))
    shift = rng.uniform(-15, 15, (5, 2))
    transforms = np.stack([np.cos(angle) * zoom[:, 0], -np.sin(angle) * zoom[:, 0], shift[:, 0],
                           np.sin(angle) * zoom[:, 1], np.cos(angle) * zoom[:, 1], shift[:, 1]], 1)
    out = image.affine_transform(images, transforms, interpolation, fill_mode, 0.25)
    for img, transform, got in zip(images, transforms, out.data):
        expected = reference_transform(img, transform, interpolation, fill_mode, 0.25)
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_identity_transform_and_one_image_for_all():
    images = np.random.default_rng(1).random((3, 4, 5, 2)).astype(np.float32)
    out = image.affine_transform(images, [1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(out.data, images)
    assert out.dtype == np.float32


def test_resize_to_the_same_size_is_the_identity_and_one_pixel_is_the_mean_of_the_centre():
    images = np.random.default_rng(2).random((2, 4, 6, 3))
    np.testing.assert_allclose(image.resize(images, 4, 6).data, images, atol=1e-7)
    # 4x6 -> 2x3: each output pixel centre falls between four input pixels
    expected = images.reshape(2, 2, 2, 3, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(image.resize(images, 2, 3).data, expected, atol=1e-6)


def test_flip_each_image_its_own_way_and_back():
    images = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3, 1)
    out = ops.image.flip(images, [True, False], [False, True]).data
    np.testing.assert_array_equal(out[0], images[0, :, ::-1])
    np.testing.assert_array_equal(out[1], images[1, ::-1])
    back = ops.image.flip(out, [True, False], [False, True]).data
    np.testing.assert_array_equal(back, images)


# --- gradients ------------------------------------------------------------------
@pytest.mark.parametrize("fill_mode", image.FILL_MODES)
@pytest.mark.parametrize("interpolation", image.INTERPOLATIONS)
def test_affine_transform_gradcheck(fill_mode, interpolation):
    rng = np.random.default_rng(3)
    images = rng.standard_normal((2, 4, 5, 2))
    transforms = [[0.9, -0.45, 1.3, 0.4, 1.1, -0.7], [1.6, 0.2, -2.1, -0.3, 0.7, 0.9]]
    gradcheck(lambda x: image.affine_transform(x, transforms, interpolation, fill_mode, 0.5),
              [images])


@pytest.mark.parametrize("interpolation", image.INTERPOLATIONS)
@pytest.mark.parametrize("size", [(3, 7), (6, 2)])
def test_resize_gradcheck(interpolation, size):
    images = np.random.default_rng(4).standard_normal((2, 4, 5, 3))
    gradcheck(lambda x: image.resize(x, *size, interpolation), [images])


def test_flip_gradcheck():
    images = np.random.default_rng(5).standard_normal((3, 2, 3, 2))
    gradcheck(lambda x: ops.image.flip(x, [True, False, True], [True, True, False]), [images])


def test_backward_is_the_adjoint():
    """<S x, g> = <x, S^T g> for the linear map S the resampling is."""
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((2, 5, 6, 3)), requires_grad=True)
    g = rng.standard_normal((2, 5, 6, 3))
    y = image.affine_transform(x, [0.8, 0.3, 0.5, -0.2, 1.2, -1.0], fill_mode="wrap")
    y.backward(g)
    assert np.isclose(np.sum(y.data * g), np.sum(x.data * x.grad))


# --- PyTorch: interpolate and grid_sample do the same sampling ---------------------
def test_resize_matches_pytorch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    images, grad = rng.standard_normal((2, 5, 7, 3)), rng.standard_normal((2, 8, 4, 3))
    for interpolation, mode in (("bilinear", "bilinear"), ("nearest", "nearest-exact")):
        x = Tensor(images, requires_grad=True)
        y = image.resize(x, 8, 4, interpolation)
        y.backward(grad)
        twin = torch.tensor(images.transpose(0, 3, 1, 2), requires_grad=True)
        kwargs = {"align_corners": False} if mode == "bilinear" else {}
        out = torch.nn.functional.interpolate(twin, size=(8, 4), mode=mode, **kwargs)
        out.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
        np.testing.assert_allclose(y.data, out.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
        np.testing.assert_allclose(x.grad, twin.grad.numpy().transpose(0, 2, 3, 1), atol=1e-12)


@pytest.mark.parametrize("fill_mode, padding_mode", [("constant", "zeros"), ("nearest", "border")])
def test_affine_transform_matches_pytorch_grid_sample(fill_mode, padding_mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    n, h, w, c = 2, 5, 6, 3
    images, grad = rng.standard_normal((n, h, w, c)), rng.standard_normal((n, h, w, c))
    transforms = np.array([[0.8, -0.5, 1.2, 0.5, 0.8, -0.9], [1.3, 0.1, -0.4, 0.2, 0.7, 1.1]])
    x = Tensor(images, requires_grad=True)
    y = image.affine_transform(x, transforms, "bilinear", fill_mode)
    y.backward(grad)
    # grid_sample reads at normalised coordinates: -1 and 1 are the first and last pixel centres
    rows, cols = np.mgrid[0:h, 0:w]
    a0, a1, a2, b0, b1, b2 = (transforms[:, i, None, None] for i in range(6))
    grid = np.stack([2 * (a0 * cols + a1 * rows + a2) / (w - 1) - 1,
                     2 * (b0 * cols + b1 * rows + b2) / (h - 1) - 1], axis=-1)
    twin = torch.tensor(images.transpose(0, 3, 1, 2), requires_grad=True)
    out = torch.nn.functional.grid_sample(twin, torch.tensor(grid), mode="bilinear",
                                          padding_mode=padding_mode, align_corners=True)
    out.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y.data, out.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
    np.testing.assert_allclose(x.grad, twin.grad.numpy().transpose(0, 2, 3, 1), atol=1e-12)


# --- bad arguments ----------------------------------------------------------------
def test_bad_arguments():
    images = np.zeros((1, 3, 3, 1), np.float32)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        image.affine_transform(images, [1, 0, 0, 0, 1, 0], fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        image.resize(images, 2, 2, "bicubic")
    with pytest.raises(ValueError, match=r"transforms must have shape \(1, 6\)"):
        image.affine_transform(images, np.eye(3))
    with pytest.raises(ValueError, match="must be 4-D"):
        image.resize(images[0], 2, 2)
    with pytest.raises(ValueError, match="resize: .*positive"):
        image.resize(images, 0, 2)
