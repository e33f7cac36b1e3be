"""Tensor: construction, dtype, conversion, operators and methods."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, Variable


def test_defaults_to_float32_and_keeps_float64():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2), dtype=np.float32).dtype == np.float32


def test_data_is_c_contiguous():
    t = Tensor(np.ones((3, 4)).T)
    assert t.data.flags.c_contiguous
    assert t.shape == (4, 3) and t.ndim == 2 and t.size == 12 and len(t) == 4


def test_rejects_non_float_dtype():
    with pytest.raises(TypeError, match="float32 or float64"):
        Tensor(np.zeros(2), dtype=np.int64)


def test_numpy_item_and_array_protocol():
    t = Tensor([[1.5]])
    assert t.item() == 1.5
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), [[1.5]])


def test_repr_mentions_grad_and_name():
    t = Tensor([1.0], requires_grad=True, name="dense/kernel")
    assert "requires_grad=True" in repr(t) and "dense/kernel" in repr(t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_operators_keep_dtype(dtype):
    a = Tensor(np.array([1.0, 2.0], dtype))
    for result in (a + 1, 1 + a, a - 1, 1 - a, a * 2, 2 * a, a / 2, 2 / a, -a, a**2,
                   a @ a, a[0], a.exp(), a.log(), a.sqrt(), a.abs(), a.clip(0, 1),
                   a.relu(), a.sigmoid(), a.tanh(), a.softmax(), a.sum(), a.mean(), a.max(),
                   a.reshape(2, 1), a.reshape((1, 2)).T, a.transpose()):
        assert isinstance(result, Tensor)
        assert result.dtype == dtype


def test_operator_values():
    a = Tensor([1.0, 2.0])
    b = np.array([3.0, 5.0])
    np.testing.assert_allclose((a + b).data, [4, 7])
    np.testing.assert_allclose((b - a).data, [2, 3])
    np.testing.assert_allclose((a * b).data, [3, 10])
    np.testing.assert_allclose((b / a).data, [3, 2.5])
    np.testing.assert_allclose((a**2).data, [1, 4])
    np.testing.assert_allclose((a @ b).data, 13)
    np.testing.assert_allclose(Tensor([[1.0, 2.0], [3.0, 4.0]]).T.data, [[1, 3], [2, 4]])


def test_detach_shares_values_but_not_graph():
    a = Tensor([1.0, 2.0], requires_grad=True)
    d = (a * 2).detach()
    assert not d.requires_grad and d._backward is None
    np.testing.assert_array_equal(d.data, [2, 4])


def test_assign_checks_shape():
    t = Tensor(np.zeros(3), name="w")
    t.assign([1, 2, 3])
    np.testing.assert_array_equal(t.data, [1, 2, 3])
    with pytest.raises(ValueError, match=r"w has shape \(3,\)"):
        t.assign(np.zeros(2))


def test_public_names():
    assert minidl.Tensor is Tensor
    assert callable(minidl.no_grad)


def test_scalars_stay_zero_dimensional():
    assert Tensor(3.0).shape == ()
    assert (Tensor(np.ones((2, 2))).mean() * 2.0).shape == ()


def test_python_numbers_and_numpy_copies_as_keras_variables_give():
    t = Tensor([[2.5]])
    assert float(t) == 2.5 and int(t) == 2 and bool(t)
    with pytest.raises(TypeError, match="one value"):
        float(Tensor([1.0, 2.0]))
    w = Variable(np.zeros(3))
    before = w.numpy()
    w.assign_add(np.ones(3))
    assert before.tolist() == [0, 0, 0], "numpy() is a copy: a kept value must not change"
    w.assign_sub(Tensor(np.full(3, 0.5)))
    np.testing.assert_array_equal(w.numpy(), [0.5, 0.5, 0.5])
    assert w.assign([1, 2, 3]) is w


def test_assign_checks_before_writing():
    w = Variable(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        w.assign_add(np.ones(4))
    with pytest.raises(TypeError, match="numbers"):
        w.assign(np.array(["a", "b", "c"]))
    computed = w * 2
    with pytest.raises(RuntimeError, match="computed from others"):
        computed.assign(np.ones(3))
    np.testing.assert_array_equal(w.numpy(), np.zeros(3))


def test_a_variable_is_a_trainable_tensor():
    w = Variable(np.ones(2), trainable=False, name="w")
    assert isinstance(w, Tensor) and not w.requires_grad and not w.trainable
    assert "Variable(" in repr(w)
    assert Variable(np.ones(2)).requires_grad


@pytest.mark.parametrize("value, kind", [
    (np.array([1 + 2j]), "complex"), ("3.5", "text"), (["1", "2"], "text"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "dates"), (np.array([b"x"]), "bytes"),
    (np.array([object()], dtype=object), "Python objects"),
])
def test_only_real_numbers_become_tensors(value, kind):
    with pytest.raises(TypeError, match=kind):
        Tensor(value)


def test_numpy_reductions_of_a_tensor():
    """np.mean(t), np.sum(t), np.max(t) call the Tensor's methods with NumPy's dtype= and
    out= (the autoencoder tutorial's np.mean(train_loss)): they work, as for a PyTorch
    tensor, and give Tensors; out= is refused with a clear error."""
    values = np.arange(6.0).reshape(2, 3)
    t = Tensor(values, dtype="float32")
    for reduce in (np.mean, np.sum, np.max):
        result = reduce(t, axis=0, keepdims=True)
        assert isinstance(result, Tensor) and result.dtype == np.float32
        np.testing.assert_allclose(result.numpy(), reduce(values, axis=0, keepdims=True))
        assert float(reduce(t)) == reduce(values)
    assert np.mean(t, dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sum(t, out=np.zeros(()))


def test_numpy_sees_a_scalar_result_as_an_array():
    """t.mean() + 1.0 (0-d arrays added give a NumPy scalar): np.asarray and NumPy's
    functions still take it (the autoencoder tutorial's np.less(loss, threshold))."""
    t = Tensor(np.arange(6.0), dtype="float32")
    threshold = t.mean() + 1.0
    assert np.asarray(threshold).shape == ()
    assert np.asarray(threshold, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.less(t, threshold), np.arange(6.0) < 3.5)


def test_numpy_of_a_scalar_is_a_numpy_scalar_as_in_tensorflow():
    value = Tensor(np.ones((2, 2), np.float32)).mean().numpy()
    assert isinstance(value, np.float32) and value == 1.0
    assert isinstance(Tensor([1.0, 2.0]).numpy(), np.ndarray)
