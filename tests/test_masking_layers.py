"""Masks through GlobalAveragePooling1D (a masked mean), against tf_keras 2.21.

The expected numbers were computed once with tf_keras 2.21 from the same weights
(the snippet is in each test's docstring); they are stored here, so tf_keras is not
needed to run the tests.
"""

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.testing import gradcheck

# The weights used on both sides.
EMB = (np.arange(30, dtype=np.float32).reshape(10, 3) % 7 - 3) / 4


def _lstm_weights(units, dim):
    k = (np.arange(dim * 4 * units) % 5 - 2).reshape(dim, 4 * units).astype(np.float32) / 5
    r = (np.arange(units * 4 * units) % 3 - 1).reshape(units, 4 * units).astype(np.float32) / 4
    b = (np.arange(4 * units) % 4).astype(np.float32) / 10
    return [k, r, b]


def _gap_model():
    model = minidl.Sequential([layers.Embedding(10, 3, mask_zero=True),
                               layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.build((None, None))
    model.layers[0].set_weights([EMB])
    model.layers[2].set_weights([np.array([[0.5], [-1.0], [0.25]], np.float32),
                                 np.array([0.1], np.float32)])
    return model


def test_masked_global_average_pooling_matches_keras():
    """tf_keras: Sequential([Embedding(10, 3, mask_zero=True), GlobalAveragePooling1D(),
    Dense(1)]) with the weights above, predict([[1,2,0,0],[3,0,0,0],[4,5,6,7]])."""
    out = _gap_model().predict(np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]]), verbose=0)
    np.testing.assert_allclose(out.ravel(), [0.5375000238418579, 0.03750000149011612,
                                             -0.10312499850988388], rtol=1e-6, atol=1e-7)


def test_masked_global_average_pooling_ignores_padding():
    model = _gap_model()
    padded = model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    np.testing.assert_allclose(padded, model.predict(np.array([[1, 2]]), verbose=0), rtol=1e-6)
    # and the same in a functional model
    inputs = minidl.Input((None,))
    functional = minidl.Model(inputs, model.layers[2](model.layers[1](model.layers[0](inputs))))
    np.testing.assert_allclose(functional.predict(np.array([[1, 2, 0, 0]]), verbose=0), padded,
                               rtol=1e-6)


def test_masked_mean_values_keepdims_and_the_mask_stops():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[True, False, True], [False, False, True]])
    out = layers.GlobalAveragePooling1D(keepdims=True)(x, mask=mask)
    np.testing.assert_allclose(out.data, [[[2, 3]], [[10, 11]]])
    assert out._keras_mask is None
    # GlobalMaxPooling1D does not support masking in Keras: a max over every step
    out = layers.GlobalMaxPooling1D()(layers.Masking()(x))
    np.testing.assert_allclose(out.data, [[4, 5], [10, 11]])


def test_masked_mean_gradcheck_float64():
    rng = np.random.default_rng(0)
    mask = np.array([[True, False, True, True], [False, True, False, False]])
    layer = layers.GlobalAveragePooling1D(dtype="float64")
    weights = rng.standard_normal((2, 3))
    assert gradcheck(lambda x: ops.sum(ops.mul(layer(x, mask=mask), weights)),
                     [rng.standard_normal((2, 4, 3))])


def test_a_mask_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D.*\(2, 3\).*\(2, 4\)"):
        layers.GlobalAveragePooling1D()(np.ones((2, 3, 1), np.float32), mask=np.ones((2, 4), bool))
