"""reshape transpose flatten concatenate getitem: values and gradients."""

import numpy as np
import pytest

from minidl import Tensor, ops
from minidl.testing import gradcheck

rng = np.random.default_rng(2)


@pytest.mark.parametrize("shape, new_shape", [((2, 3), (3, 2)), ((2, 3, 4), (6, -1)), ((6,), (1, 2, 3)), ((1,), ())])
def test_reshape(shape, new_shape):
    x = rng.standard_normal(shape)
    out = ops.reshape(x, new_shape)
    np.testing.assert_array_equal(out.data, x.reshape(new_shape))
    gradcheck(lambda t: ops.reshape(t, new_shape), [x])


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 values\) into shape \(4,\)"):
        ops.reshape(np.ones((2, 3)), (4,))


@pytest.mark.parametrize("shape, axes", [((2, 3), None), ((2, 3, 4), (1, 2, 0)), ((2, 3, 4), (-1, 0, 1)), ((), None)])
def test_transpose(shape, axes):
    x = rng.standard_normal(shape)
    out = ops.transpose(x, axes)
    np.testing.assert_array_equal(out.data, np.transpose(x, axes))
    assert out.data.flags.c_contiguous
    gradcheck(lambda t: ops.transpose(t, axes), [x])


def test_transpose_rejects_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        ops.transpose(np.ones((2, 3)), (0, 0))


@pytest.mark.parametrize("shape, expected", [((4, 2, 3), (4, 6)), ((4, 2, 3, 5), (4, 30)), ((4,), (4, 1))])
def test_flatten_keeps_batch_axis(shape, expected):
    x = rng.standard_normal(shape)
    assert ops.flatten(x).shape == expected
    gradcheck(ops.flatten, [x])


def test_flatten_needs_a_batch_axis():
    with pytest.raises(ValueError, match="batch axis"):
        ops.flatten(np.float64(1.0))


@pytest.mark.parametrize("shapes, axis", [([(2, 3), (4, 3)], 0), ([(2, 1), (2, 3), (2, 2)], 1), ([(2, 2, 1), (2, 2, 2)], -1)])
def test_concatenate(shapes, axis):
    xs = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_array_equal(ops.concatenate(xs, axis).data, np.concatenate(xs, axis))
    gradcheck(lambda *ts: ops.concatenate(ts, axis), xs)


def test_concatenate_errors():
    with pytest.raises(ValueError, match="at least one"):
        ops.concatenate([])
    with pytest.raises(ValueError, match=r"concatenate: shapes \[\(2, 3\), \(2, 4\)\]"):
        ops.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_matches_numpy_and_torch_and_passes_gradcheck(axis):
    xs = [rng.standard_normal((2, 3)) for _ in range(4)]
    out = ops.stack(xs, axis)
    np.testing.assert_array_equal(out.data, np.stack(xs, axis))
    gradcheck(lambda *ts: ops.stack(ts, axis), xs)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(out.data, torch.stack([torch.from_numpy(x) for x in xs], axis).numpy())


def test_stack_errors():
    with pytest.raises(ValueError, match="at least one"):
        ops.stack([])
    with pytest.raises(ValueError, match="one shape"):
        ops.stack([np.ones((2, 3)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="out of range"):
        ops.stack([np.ones(2)], axis=2)


INDICES = [0, -1, slice(1, None), (slice(None), 1), (Ellipsis, slice(0, 2)), (None, 1),
           np.array([0, 2, 0]), (np.array([0, 1]), np.array([2, 2])), np.array([True, False, True])]


@pytest.mark.parametrize("index", INDICES, ids=[repr(i) for i in INDICES])
def test_getitem(index):
    x = rng.standard_normal((3, 4))
    out = ops.getitem(x, index)
    np.testing.assert_array_equal(out.data, x[index])
    assert out.shape == x[index].shape
    gradcheck(lambda t: t[index], [x])


def test_getitem_repeated_indices_accumulate():
    x = Tensor(np.arange(3.0), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


def test_getitem_accepts_tensor_index():
    x = Tensor(np.arange(4.0))
    np.testing.assert_array_equal(x[Tensor(np.array([1.0, 3.0])).data.astype(int)].data, [1, 3])
