"""batch_dot and l2_normalize: values against einsum and PyTorch, shapes as Keras, gradients."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

from minidl import Tensor, ops
from minidl.testing import gradcheck

rng = np.random.default_rng(11)

# (x shape, y shape, axes, the output shape tf_keras 2.21's backend.batch_dot gives)
CASES = [
    ((2, 5), (2, 5), 1, (2, 1)),
    ((2, 5), (2, 5), -1, (2, 1)),
    ((2, 3, 5), (2, 4, 5), 2, (2, 3, 4)),
    ((2, 3, 5), (2, 3, 4), (1, 1), (2, 5, 4)),
    ((2, 5), (2, 4, 5), (1, 2), (2, 4)),
    ((2, 4, 5), (2, 5), (2, 1), (2, 4)),
    ((2, 2, 3, 5), (2, 5, 4, 6), (3, 1), (2, 2, 3, 4, 6)),
    ((3, 4, 5), (3, 5, 2), None, (3, 4, 2)),  # Keras's default: x's last with y's second-to-last
    ((3, 4, 5), (3, 5), None, (3, 4)),        # ... with y's last for a 2-D y
]


def einsum_reference(x, y, axes):
    """The definition: sum over the two named axes, per sample, with np.einsum."""
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    axis_x, axis_y = (axes, axes) if isinstance(axes, int) else axes
    axis_x, axis_y = axis_x % x.ndim, axis_y % y.ndim
    letters = iter("bcdefghij")
    x_sub = ["a"] + [next(letters) for _ in range(x.ndim - 1)]
    y_sub = ["a"] + [next(letters) for _ in range(y.ndim - 1)]
    y_sub[axis_y] = x_sub[axis_x]
    out_sub = ["a"] + [s for i, s in enumerate(x_sub) if i not in (0, axis_x)]
    out_sub += [s for i, s in enumerate(y_sub) if i not in (0, axis_y)]
    out = np.einsum(f"{''.join(x_sub)},{''.join(y_sub)}->{''.join(out_sub)}", x, y)
    return out.reshape(len(x), 1) if out.ndim == 1 else out


@pytest.mark.parametrize("x_shape, y_shape, axes, out_shape", CASES)
def test_batch_dot_values_shapes_and_gradients(x_shape, y_shape, axes, out_shape):
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    out = ops.batch_dot(x, y, axes)
    assert out.shape == out_shape
    np.testing.assert_allclose(out.data, einsum_reference(x, y, axes), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, b: ops.batch_dot(a, b, axes), [x, y])


def test_batch_dot_matches_pytorch_bmm():
    torch = pytest.importorskip("torch")
    x, y = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 5, 2))
    assert_matches_torch(lambda a, b: ops.batch_dot(a, b, (2, 1)), torch.bmm, [x, y])


def test_batch_dot_float32_stays_float32():
    x = Tensor(rng.standard_normal((2, 3, 4)).astype(np.float32), requires_grad=True)
    y = Tensor(rng.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    out = ops.batch_dot(x, y, (2, 1))
    out.sum().backward()
    assert out.dtype == x.grad.dtype == y.grad.dtype == np.float32


@pytest.mark.parametrize("x_shape, y_shape, axes, message", [
    ((2, 5), (2, 4), 1, "axis 1 of the first input has size 5 but axis 1 of the second has size 4"),
    ((2, 5), (3, 5), 1, "different batch sizes"),
    ((2, 5), (2, 5), 0, "other than the batch axis"),
    ((2, 5), (2, 5), 2, "other than the batch axis"),
    ((5,), (5,), 0, "needs inputs with a batch axis"),
    ((2, 5), (2, 5), (1, 1, 1), "an integer or a pair of integers"),
    ((2, 5), (2, 5), "1", "an integer or a pair of integers"),
])
def test_batch_dot_bad_arguments(x_shape, y_shape, axes, message):
    with pytest.raises(ValueError, match=message):
        ops.batch_dot(np.ones(x_shape), np.ones(y_shape), axes)


@pytest.mark.parametrize("shape, axis", [((4,), -1), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), (1, 2))])
def test_l2_normalize_values_and_gradients(shape, axis):
    x = rng.standard_normal(shape)
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    np.testing.assert_allclose(ops.l2_normalize(x, axis).data, x / norm, rtol=1e-12)
    gradcheck(lambda t: ops.l2_normalize(t, axis), [x])


def test_l2_normalize_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 6))
    assert_matches_torch(lambda t: ops.l2_normalize(t, axis=1),
                         lambda t: torch.nn.functional.normalize(t, dim=1), [x])


def test_l2_normalize_keeps_a_zero_vector_at_zero_as_tensorflow():
    """Below epsilon the norm is sqrt(epsilon): zeros stay zeros and the
    gradient is grad / sqrt(1e-12), as tf.linalg.l2_normalize's."""
    x = Tensor(np.array([[0.0, 0.0], [3.0, 4.0]]), requires_grad=True)
    out = ops.l2_normalize(x, axis=1)
    np.testing.assert_allclose(out.data, [[0, 0], [0.6, 0.8]])
    out.backward(np.array([[1.0, 2.0], [0.0, 0.0]]))
    np.testing.assert_allclose(x.grad[0], [1e6, 2e6])
    gradcheck(lambda t: ops.l2_normalize(t, axis=1, epsilon=1.0), [np.array([[0.3, -0.4]])])
