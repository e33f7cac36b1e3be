"""Conv2D and the pooling layers: shapes, parameter counts, values, errors."""

import numpy as np
import pytest

from minidl import layers


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def naive_conv(x, kernel, bias, stride, pad):
    """Direct loops over output pixels: the definition of a convolution."""
    x = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    kh, kw, _, filters = kernel.shape
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias
    return out


def test_conv2d_shapes_and_params_like_keras():
    layer = layers.Conv2D(32, (3, 3), activation="relu")
    y = layer(np.zeros((2, 28, 28, 1)))
    assert y.shape == (2, 26, 26, 32)
    assert layer.kernel.shape == (3, 3, 1, 32) and layer.count_params() == 320
    same = layers.Conv2D(8, 5, strides=2, padding="same")
    assert same.compute_output_shape((None, 28, 28, 3)) == (None, 14, 14, 8)
    assert same(np.zeros((1, 28, 28, 3))).shape == (1, 14, 14, 8)


@pytest.mark.parametrize("padding, stride", [("valid", 1), ("same", 2)])
def test_conv2d_values_match_the_definition(padding, stride):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 7, 3)).astype(np.float32)
    layer = layers.Conv2D(4, 3, strides=stride, padding=padding, activation="relu")
    layer.build((None, 6, 7, 3))
    kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    layer.set_weights([kernel, bias])
    if padding == "same":  # TensorFlow puts the odd extra pixel at the bottom/right
        pads = []
        for n in (6, 7):
            total = max((-(-n // stride) - 1) * stride + 3 - n, 0)
            pads.append((total // 2, total - total // 2))
    else:
        pads = [(0, 0), (0, 0)]
    expected = np.maximum(naive_conv(x, kernel, bias, stride, pads), 0)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_bad_arguments():
    with pytest.raises(ValueError, match="filters must be a positive integer"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="strides must be"):
        layers.Conv2D(4, 3, strides=0)
    with pytest.raises(ValueError, match="kernel_size must be"):
        layers.Conv2D(4, (3, 3, 3))


def test_conv2d_kernel_larger_than_image_fails_at_build():
    layer = layers.Conv2D(4, 5)
    with pytest.raises(ValueError, match=r"kernel_size \(5, 5\) is larger than its input image \(4, 4\)"):
        layer.build((None, 4, 4, 1))
    assert layers.Conv2D(4, 5, padding="same").compute_output_shape((None, 4, 4, 1)) == (None, 4, 4, 4)


def test_conv2d_wants_channels_last_images():
    with pytest.raises(ValueError, match="Add a channel axis"):
        layers.Conv2D(4, 3)(np.zeros((2, 28, 28)))
    layer = layers.Conv2D(4, 3)
    layer(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="channels-last"):
        layer(np.zeros((1, 3, 8, 8)))


def test_pooling_values_and_shapes():
    x = np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2)
    max_pool = layers.MaxPooling2D((2, 2))
    np.testing.assert_array_equal(np.asarray(max_pool(x)), x.reshape(1, 2, 2, 2, 2, 2).max(axis=(2, 4)))
    avg = layers.AveragePooling2D(pool_size=2)
    np.testing.assert_allclose(np.asarray(avg(x)), x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(2, 4)))
    assert layers.MaxPooling2D().compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert layers.MaxPooling2D(3, strides=2, padding="same").compute_output_shape((None, 7, 7, 1)) == (None, 4, 4, 1)
    gap = layers.GlobalAveragePooling2D()
    np.testing.assert_allclose(np.asarray(gap(x)), x.mean(axis=(1, 2)))
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (1, 1, 1, 2)
    assert max_pool.count_params() == 0


def test_pooling_errors():
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(0)
    with pytest.raises(ValueError, match="larger than its input image"):
        layers.MaxPooling2D(3).build((None, 2, 2, 1))
    with pytest.raises(ValueError, match="expects images"):
        layers.AveragePooling2D().build((None, 10))
