"""minidl.TensorShape against tf.TensorShape (TensorFlow 2.21): the literals are what

    TF_CPP_MIN_LOG_LEVEL=3 python -c "import tensorflow as tf; T = tf.TensorShape; ..."

printed for the same expressions.
"""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.tensor_shape import TensorShape


def test_sizes_rank_and_conversions_as_tensorflow():
    shape = TensorShape([20, 30])
    assert repr(shape) == "TensorShape([20, 30])" and str(shape) == "(20, 30)"
    assert shape.rank == shape.ndims == len(shape) == 2
    assert list(shape) == shape.as_list() == [20, 30]
    assert shape[0] == 20 and shape[-1] == 30 and type(shape[0]) is int
    assert repr(shape[1:]) == "TensorShape([30])" and repr(shape[::-1]) == "TensorShape([30, 20])"
    with pytest.raises(IndexError):
        shape[5]
    assert repr(TensorShape(5)) == "TensorShape([5])"
    assert repr(TensorShape([])) == "TensorShape([])" and str(TensorShape([])) == "()"
    assert bool(TensorShape([]))  # a known shape is true, as in TensorFlow
    assert str(TensorShape([5])) == "(5,)" and str(TensorShape([None])) == "(None,)"
    assert repr(TensorShape((2, 3))) == "TensorShape([2, 3])"
    assert repr(TensorShape(TensorShape([1]))) == "TensorShape([1])"
    assert repr(TensorShape([np.int32(3), None])) == "TensorShape([3, None])"
    assert repr(TensorShape(np.int64(4))) == "TensorShape([4])"


def test_unknown_sizes_equality_and_concatenate_as_tensorflow():
    unknown = TensorShape([None, 3])
    assert repr(unknown) == "TensorShape([None, 3])" and str(unknown) == "(None, 3)"
    assert not unknown.is_fully_defined() and TensorShape([20, 30]).is_fully_defined()
    assert unknown == TensorShape([None, 3]) and unknown == (None, 3)
    shape = TensorShape([20, 30])
    assert shape == (20, 30) and shape == [20, 30] and (20, 30) == shape
    assert shape != (20, 31) and not shape == 5 and not TensorShape([1, 2]) == "ab"
    assert hash(shape) == hash(TensorShape((20, 30)))
    assert repr(shape.concatenate([4])) == "TensorShape([20, 30, 4])"
    assert repr(shape.concatenate(TensorShape([None]))) == "TensorShape([20, 30, None])"


def test_bad_sizes_are_refused_as_tensorflow():
    with pytest.raises(ValueError, match="sizes must be >= 0, received -1"):
        TensorShape([-1])  # tf: ValueError "Dimension -1 must be >= 0"
    with pytest.raises(TypeError, match="integer or None, received 2.5"):
        TensorShape([2.5])  # tf: TypeError "Dimension value must be integer or None ..."
    with pytest.raises(TypeError, match="integer or None, received 'ab'"):
        TensorShape("ab")  # tf: TypeError "Failed to convert ''ab'' to a shape ..."
    with pytest.raises(ValueError, match=r"TensorShape\(None\) \(a shape of unknown rank\) is "
                                         "not supported"):
        TensorShape(None)  # tf: TensorShape(None), unknown rank: minidl says it has none


def test_a_tensor_shape_goes_wherever_a_shape_goes():
    """tf_keras 2.21: Input(TensorShape([None, 32])).shape == (None, None, 32),
    Input(batch_shape=TensorShape([4, None, 32])).shape == (4, None, 32),
    add_weight(shape=TensorShape([2, 3])).shape == (2, 3)."""
    assert minidl.TensorShape is TensorShape
    assert minidl.Input(TensorShape([None, 32])).shape == (None, None, 32)
    assert minidl.Input(batch_shape=TensorShape([4, None, 32])).shape == (4, None, 32)
    layer = layers.Dense(3)
    layer.build(TensorShape([None, 5]))
    assert layer.kernel.shape == (5, 3)
    assert layer.add_weight(shape=TensorShape([2, 3]), name="x").shape == (2, 3)
    assert np.zeros(TensorShape([2, 3])).shape == (2, 3)
