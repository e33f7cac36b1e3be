"""where, maximum, minimum: values, broadcasting, gradients, TensorFlow's rule for ties."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

from minidl import Tensor, ops
from minidl.testing import gradcheck

rng = np.random.default_rng(7)

SHAPE_PAIRS = [((5,), (5,)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((2, 3), ())]


@pytest.mark.parametrize("op, reference", [(ops.maximum, np.maximum), (ops.minimum, np.minimum)])
@pytest.mark.parametrize("shape_a, shape_b", SHAPE_PAIRS)
def test_values_and_gradients(op, reference, shape_a, shape_b):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)  # no ties
    np.testing.assert_array_equal(op(a, b).data, reference(a, b))
    gradcheck(op, [a, b])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("shape_a, shape_b", SHAPE_PAIRS[:4])
def test_match_pytorch_without_ties(name, shape_a, shape_b):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    assert_matches_torch(getattr(ops, name), getattr(torch, name), [a, b])


def test_a_tie_sends_the_whole_gradient_to_the_first_input_as_tensorflow():
    # TensorFlow 2 (tf_keras 2.21), a = [1, 2, 3], b = [1, 0, 3]:
    #   tf.maximum -> grads [1, 1, 1] and [0, 0, 0];  tf.minimum -> [1, 0, 1] and [0, 1, 0]
    for op, grad_a, grad_b in ((ops.maximum, [1, 1, 1], [0, 0, 0]),
                               (ops.minimum, [1, 0, 1], [0, 1, 0])):
        a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        b = Tensor(np.array([1.0, 0.0, 3.0]), requires_grad=True)
        op(a, b).sum().backward()
        np.testing.assert_array_equal(a.grad, grad_a)
        np.testing.assert_array_equal(b.grad, grad_b)


def test_where_picks_and_routes_the_gradient():
    condition = np.array([[True, False, True]])
    a = Tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    b = Tensor(np.array([-1.0, -2.0, -3.0]), requires_grad=True)
    out = ops.where(condition, a, b)
    np.testing.assert_array_equal(out.data, [[1, -2, 3], [4, -2, 6]])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [[1, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(b.grad, [0, 2, 0])  # summed over the broadcast rows
    gradcheck(lambda a, b: ops.where(condition, a, b), [a.data, b.data])


def test_a_number_takes_the_tensors_dtype():
    x = Tensor(np.array([-1.0, 0.5, 2.0], np.float32), requires_grad=True)
    for out in (ops.maximum(x, 0.0), ops.minimum(1.0, x), ops.where(x.data > 0, x, -1e9)):
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(ops.maximum(x, 0.0).data, [0, 0.5, 2])
    np.testing.assert_array_equal(ops.minimum(1.0, x).data, [-1, 0.5, 1])


def test_shapes_that_do_not_broadcast_are_refused():
    with pytest.raises(ValueError):
        ops.maximum(np.ones(3), np.ones(4))
