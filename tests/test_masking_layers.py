"""Masks through GlobalAveragePooling1D (a masked mean) and the merge layers (masks
combined), against tf_keras 2.21.

The expected numbers were computed once with tf_keras 2.21 from the same weights
(the snippet is in each test's docstring); they are stored here, so tf_keras is not
needed to run the tests.
"""

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
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


# tf_keras: a = Input((None,)); b = Input((None,)); ea = Embedding(10, 3, mask_zero=True)(a)
# with EMB, eb the same with EMB[::-1]; merged = <merge>([ea, eb]); LSTM(2)(merged) with
# _lstm_weights(2, dim); predict([XA, XB]).
XA = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
XB = np.array([[7, 0, 0, 0], [1, 1, 1, 1]])
KERAS_MERGE_LSTM = {
    "add": [[0.05383282154798508, -0.07896295189857483],
            [-0.09495799243450165, 0.1031557098031044]],
    "mul": [[0.026615429669618607, 0.03288963437080383],
            [0.014496911317110062, 0.07242279499769211]],
    "cat_time": [[0.11484645307064056, -0.09278695285320282],
                 [-0.12232805043458939, 0.03796789050102234]],
    "cat_feat": [[-0.029633410274982452, 0.10522343963384628],
                 [0.07143392413854599, 0.02288057655096054]],
}
MERGES = {"add": (layers.Add, 3), "mul": (layers.Multiply, 3),
          "cat_time": (lambda: layers.Concatenate(axis=1), 3), "cat_feat": (layers.Concatenate, 6)}


def _merge_model(name):
    make, dim = MERGES[name]
    a, b = minidl.Input((None,)), minidl.Input((None,))
    ea, eb = layers.Embedding(10, 3, mask_zero=True), layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(2)
    model = minidl.Model([a, b], lstm(make()([ea(a), eb(b)])))
    ea.set_weights([EMB])
    eb.set_weights([EMB[::-1].copy()])
    lstm.set_weights(_lstm_weights(2, dim))
    return model


@pytest.mark.parametrize("name", sorted(MERGES))
def test_merge_masks_reach_the_lstm_as_keras(name):
    out = _merge_model(name).predict([XA, XB], verbose=0)
    np.testing.assert_allclose(out, KERAS_MERGE_LSTM[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["add", "mul", "cat_feat"])
def test_merge_then_lstm_ignores_padding(name):
    model = _merge_model(name)
    padded = model.predict([np.array([[1, 2, 0, 0]]), np.array([[3, 4, 0, 0]])], verbose=0)
    alone = model.predict([np.array([[1, 2]]), np.array([[3, 4]])], verbose=0)
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-7)


def test_merge_masks_combine_as_keras():
    x = np.ones((2, 3, 2), np.float32)
    m1 = np.array([[1, 1, 0], [1, 0, 0]], bool)
    m2 = np.array([[1, 0, 0], [1, 1, 1]], bool)
    t1, t2 = layers.Masking(mask_value=-1.0)(x), layers.Dense(2)(x)  # t2 unmasked
    t1._keras_mask = m1
    for layer in (layers.Add(), layers.Subtract(), layers.Multiply(), layers.Average(),
                  layers.Maximum(), layers.Minimum(), layers.Concatenate()):
        np.testing.assert_array_equal(layer([t1, t2])._keras_mask, m1, err_msg=layer.name)
        np.testing.assert_array_equal(layer([t1, t1 * 1])._keras_mask, m1)
    both = layers.Masking(mask_value=-1.0)(x)
    both._keras_mask = m2
    np.testing.assert_array_equal(layers.Add()([t1, both])._keras_mask, m1 & m2)
    np.testing.assert_array_equal(layers.Concatenate()([t1, both])._keras_mask, m1 & m2)
    np.testing.assert_array_equal(layers.Concatenate(axis=1)([t1, both])._keras_mask,
                                  np.concatenate([m1, m2], axis=1))
    np.testing.assert_array_equal(layers.Concatenate(axis=1)([t1, t2])._keras_mask,
                                  np.concatenate([m1, np.ones((2, 3), bool)], axis=1))
    assert layers.Dot(axes=2)([t1, both])._keras_mask is None
    assert layers.Add()([layers.Dense(2)(x), t2])._keras_mask is None


def test_merge_model_save_load_keeps_the_masks(tmp_path):
    model = _merge_model("add")
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(load_model(tmp_path / "m.keras").predict([XA, XB], verbose=0),
                               KERAS_MERGE_LSTM["add"], rtol=1e-5, atol=1e-6)
