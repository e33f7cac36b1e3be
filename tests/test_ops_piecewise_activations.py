"""rectified_linear, hard_sigmoid, selu, softsign: values against TensorFlow's and
PyTorch's, gradients, the derivative at the joins, dtypes."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

from minidl import Tensor, ops
from minidl.testing import gradcheck

rng = np.random.default_rng(5)
X = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 7.0])

# tf_keras 2.21: keras.activations.relu(X, **options) and the gradient of its sum.  One
# difference, at a join: with alpha alone TensorFlow runs leaky_relu, whose gradient at 0 is
# alpha; this op's is 0 there, as TensorFlow's general path gives at its threshold.
# (minidl.activations.relu runs leaky_relu in that case too: see test_activations.py.)
KERAS_RELU = [
    ({"alpha": 0.1}, [-0.3, -0.1, 0, 0.5, 1, 2, 7], [0.1, 0.1, 0, 1, 1, 1, 1]),
    ({"max_value": 1.5}, [0, 0, 0, 0.5, 1, 1.5, 1.5], [0, 0, 0, 1, 1, 0, 0]),
    ({"threshold": 1.0}, [0, 0, 0, 0, 0, 2, 7], [0, 0, 0, 0, 0, 1, 1]),
    ({"alpha": 0.1, "threshold": 1.0, "max_value": 5}, [-0.4, -0.2, -0.1, -0.05, 0, 2, 5],
     [0.1, 0.1, 0.1, 0.1, 0, 1, 0]),
    ({"threshold": -1.0}, [0, 0, 0, 0.5, 1, 2, 7], [0, 0, 1, 1, 1, 1, 1]),
    ({"threshold": -1.0, "max_value": 3.0}, [0, 0, 0, 0.5, 1, 2, 3], [0, 0, 1, 1, 1, 1, 0]),
    ({"alpha": 0.5, "threshold": -1.0}, [-1, 0, 0, 0.5, 1, 2, 7], [0.5, 0, 1, 1, 1, 1, 1]),
]


@pytest.mark.parametrize("options, values, grads", KERAS_RELU)
def test_rectified_linear_is_keras_relu_with_options(options, values, grads):
    x = Tensor(X.copy(), requires_grad=True)
    out = ops.rectified_linear(x, options.get("alpha", 0.0), options.get("max_value"),
                               options.get("threshold", 0.0))
    out.sum().backward()
    np.testing.assert_allclose(out.data, values, atol=1e-12)
    np.testing.assert_allclose(x.grad, grads)


def away_from(points, shape):
    """Random values at least 0.05 from each of ``points`` (where the pieces join)."""
    x = rng.uniform(-4, 8, shape)
    for point in points:
        x = np.where(np.abs(x - point) < 0.05, point + 0.5, x)
    return x


@pytest.mark.parametrize("options", [o for o, _, _ in KERAS_RELU])
def test_rectified_linear_gradcheck(options):
    threshold, max_value = options.get("threshold", 0.0), options.get("max_value")
    x = away_from([0.0, threshold] + ([max_value] if max_value else []), (3, 5))
    gradcheck(lambda t: ops.rectified_linear(t, options.get("alpha", 0.0), max_value, threshold),
              [x])


def test_rectified_linear_with_learned_slopes_is_pytorch_prelu():
    torch = pytest.importorskip("torch")
    x, slopes = away_from([0.0], (4, 3)), rng.uniform(0, 0.5, 3)
    assert_matches_torch(ops.rectified_linear, torch.nn.functional.prelu, [x, slopes])
    gradcheck(ops.rectified_linear, [x, slopes])
    shared = rng.uniform(0, 0.5, (1, 3))  # one slope per column of a (2, 4, 3) batch
    gradcheck(ops.rectified_linear, [away_from([0.0], (2, 4, 3)), shared])


@pytest.mark.parametrize("torch_name, options", [
    ("relu6", {"max_value": 6.0}),
    ("leaky_relu", {"negative_slope": 0.01}),
])
def test_rectified_linear_matches_pytorch(torch_name, options):
    torch = pytest.importorskip("torch")
    x = away_from([0.0, 6.0], (5, 4))
    assert_matches_torch(lambda t: ops.rectified_linear(t, **options),
                         lambda t: getattr(torch.nn.functional, torch_name)(t), [x])


def test_hard_sigmoid_is_keras_2s():
    # tf_keras 2.21: keras.activations.hard_sigmoid on [-3, -2.5, -1, 0, 1, 2.5, 3] and its
    # gradient (the bounds pass it, as tf.clip_by_value does).  Keras 3 and PyTorch's
    # hardsigmoid use x / 6 + 0.5 instead.
    x = Tensor(np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0]), requires_grad=True)
    out = ops.hard_sigmoid(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, [0, 0, 0.3, 0.5, 0.7, 1, 1], atol=1e-12)
    np.testing.assert_allclose(x.grad, [0, 0.2, 0.2, 0.2, 0.2, 0.2, 0])
    gradcheck(ops.hard_sigmoid, [away_from([-2.5, 2.5], (4, 5))])


@pytest.mark.parametrize("name", ["selu", "softsign"])
def test_selu_and_softsign_match_pytorch(name):
    torch = pytest.importorskip("torch")
    x = away_from([0.0], (4, 5))
    assert_matches_torch(getattr(ops, name), getattr(torch.nn.functional, name), [x])
    gradcheck(getattr(ops, name), [x])


def test_selu_constants_are_keras():
    # tf_keras 2.21: keras.activations.selu([-1.0, 1.0]) = [-1.11133074, 1.05070099]
    np.testing.assert_allclose(ops.selu(np.array([-1.0, 1.0])).data, [-1.11133074, 1.05070099],
                               rtol=1e-8)


OPS = [ops.rectified_linear, lambda t: ops.rectified_linear(t, 0.1, 6.0, 0.5), ops.hard_sigmoid,
       ops.selu, ops.softsign, lambda t: ops.rectified_linear(t, Tensor(np.float32(0.2)))]


@pytest.mark.parametrize("op", OPS)
def test_float32_stays_float32(op):
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    out = op(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("op", OPS)
def test_no_overflow_at_extremes(op):
    x = Tensor(np.array([-1e30, -1e4, 0.0, 1e4, 1e30], np.float32), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = op(x)
        out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
