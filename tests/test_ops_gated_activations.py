"""gelu, swish, mish: values and gradients against PyTorch and TensorFlow's numbers,
finite differences, extremes, dtypes."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

from minidl import Tensor, ops
from minidl.testing import gradcheck

rng = np.random.default_rng(3)

GATED = [
    ("gelu exact", ops.gelu, lambda f, t: f.gelu(t)),
    ("gelu tanh", lambda t: ops.gelu(t, approximate=True),
     lambda f, t: f.gelu(t, approximate="tanh")),
    ("swish", ops.swish, lambda f, t: f.silu(t)),
    ("mish", ops.mish, lambda f, t: f.mish(t)),
]


@pytest.mark.parametrize("name, op, torch_op", GATED, ids=[g[0] for g in GATED])
def test_values_and_gradients_match_pytorch(name, op, torch_op):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 6)) * 3
    assert_matches_torch(op, lambda t: torch_op(torch.nn.functional, t), [x])


@pytest.mark.parametrize("name, op, torch_op", GATED, ids=[g[0] for g in GATED])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 2, 3)])
def test_gradcheck(name, op, torch_op, shape):
    gradcheck(op, [rng.standard_normal(shape) * 3])


def test_gelu_matches_tensorflow():
    # tf_keras 2.21: keras.activations.gelu on float32 [-3, -1, 0, 1, 3] (its rounding: atol)
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(ops.gelu(x).data,
                               [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507], atol=1e-6)
    np.testing.assert_allclose(ops.gelu(x, approximate=True).data,
                               [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627], atol=1e-6)


@pytest.mark.parametrize("name, op, torch_op", GATED, ids=[g[0] for g in GATED])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extremes_stay_finite_and_dtype_is_kept(name, op, torch_op, dtype):
    x = Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = op(x)
        out.sum().backward()
    assert out.dtype == x.grad.dtype == dtype
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(out.data[[0, 4]], [0.0, 1e4], atol=1e-6)  # 0 far left, x far right
    np.testing.assert_allclose(x.grad[[0, 4]], [0.0, 1.0], atol=1e-6)
