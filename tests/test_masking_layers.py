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


# Which layers pass a (batch, steps) mask on, as tf_keras 2.21 does: the table was made
# once with tf_keras (layer(Masking()(Input((4, 3))))._keras_mask is not None).
KERAS_KEEPS_THE_MASK = {
    "ReLU": True, "LeakyReLU": True, "ELU": True, "PReLU": True, "ThresholdedReLU": True,
    "BatchNormalization": True, "GaussianNoise": True, "GaussianDropout": True,
    "ActivityRegularization": True, "Dropout": True, "Dense": True, "Activation": True,
    "TimeDistributed": True, "Masking": True, "LSTM_seq": True, "Bidirectional_seq": True,
    "Conv1D": False, "MaxPooling1D": False, "AveragePooling1D": False,
    "GlobalMaxPooling1D": False, "GlobalAveragePooling1D": False, "Flatten": False,
    "Reshape": False, "Permute": False, "Rescaling": False, "Lambda": False, "LSTM": False,
    "Normalization": False, "Identity": False, "AlphaDropout": True, "UnitNormalization": True,
    "LocallyConnected1D": False,
}
MAKERS = {
    "ReLU": layers.ReLU, "LeakyReLU": layers.LeakyReLU, "ELU": layers.ELU, "PReLU": layers.PReLU,
    "ThresholdedReLU": layers.ThresholdedReLU, "BatchNormalization": layers.BatchNormalization,
    "GaussianNoise": lambda: layers.GaussianNoise(0.1),
    "GaussianDropout": lambda: layers.GaussianDropout(0.1),
    "ActivityRegularization": layers.ActivityRegularization,
    "Dropout": lambda: layers.Dropout(0.1), "Dense": lambda: layers.Dense(2),
    "Activation": lambda: layers.Activation("tanh"),
    "TimeDistributed": lambda: layers.TimeDistributed(layers.Dense(2)),
    "Masking": lambda: layers.Masking(-99.0),
    "LSTM_seq": lambda: layers.LSTM(2, return_sequences=True),
    "Bidirectional_seq": lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)),
    "Conv1D": lambda: layers.Conv1D(2, 2), "MaxPooling1D": layers.MaxPooling1D,
    "AveragePooling1D": layers.AveragePooling1D, "GlobalMaxPooling1D": layers.GlobalMaxPooling1D,
    "GlobalAveragePooling1D": layers.GlobalAveragePooling1D, "Flatten": layers.Flatten,
    "Reshape": lambda: layers.Reshape((12,)), "Permute": lambda: layers.Permute((2, 1)),
    "Rescaling": lambda: layers.Rescaling(2.0), "Lambda": lambda: layers.Lambda(lambda t: t * 2),
    "LSTM": lambda: layers.LSTM(2),
    "Normalization": lambda: layers.Normalization(mean=0.0, variance=1.0),
    "Identity": layers.Identity, "AlphaDropout": lambda: layers.AlphaDropout(0.1),
    "UnitNormalization": layers.UnitNormalization,
    "LocallyConnected1D": lambda: layers.LocallyConnected1D(2, 2),
}


@pytest.mark.parametrize("name", sorted(KERAS_KEEPS_THE_MASK))
@pytest.mark.parametrize("training", [False, True])
def test_each_layer_keeps_or_drops_the_mask_as_keras(name, training):
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3) / 10
    x[0, 3] = 0.0  # a padded step
    out = MAKERS[name]()(layers.Masking()(x), training=training)
    if name == "Masking":  # makes its own (nothing equals -99), as Keras
        np.testing.assert_array_equal(out._keras_mask, np.ones((2, 4), bool))
    elif KERAS_KEEPS_THE_MASK[name]:
        np.testing.assert_array_equal(out._keras_mask, [[1, 1, 1, 0], [1, 1, 1, 1]])
    else:
        assert out._keras_mask is None


# tf_keras: BatchNormalization(momentum=0.5) on (None, 4, 3), weights gamma, beta below,
# moving statistics 0 and 1; bn(BN_X, training=True, mask=BN_MASK) and the moving weights.
BN_X = ((np.arange(24, dtype=np.float32).reshape(2, 4, 3) * 7) % 11 - 5) / 3
BN_MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
KERAS_BN_Y = [
    [[-2.4740965366363525, 0.4905152916908264, -1.7837927341461182],
     [2.122504472732544, 0.27472925186157227, -2.3966727256774902],
     [1.6628444194793701, 0.05894322693347931, -3.0095531940460205],
     [1.2031843662261963, -0.15684279799461365, -3.6224331855773926]],
    [[0.7435241937637329, -0.3726288080215454, 2.506368637084961],
     [0.2838640511035919, -0.5884148478507996, 1.8934886455535889],
     [-0.17579609155654907, -0.8042008876800537, 1.2806084156036377],
     [-0.6354562044143677, -1.0199867486953735, 0.6677282452583313]]]
KERAS_BN_MOVING = [[0.10000000149011612, -0.20000000298023224, 0.23333331942558289],
                   [1.0911110639572144, 0.7977777719497681, 1.0911110639572144]]


def _bn(dtype="float32"):
    bn = layers.BatchNormalization(momentum=0.5, dtype=dtype)
    bn.build((None, 4, 3))
    bn.set_weights([np.array([1.5, 0.5, 2.0]), np.array([0.1, -0.2, 0.3]), np.zeros(3),
                    np.ones(3)])
    return bn


def test_batch_normalization_trains_on_the_unmasked_steps_as_keras():
    bn = _bn()
    out = bn(BN_X, training=True, mask=BN_MASK)
    np.testing.assert_allclose(out.data, KERAS_BN_Y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([w.numpy() for w in bn.weights[2:]], KERAS_BN_MOVING, rtol=1e-5)
    np.testing.assert_array_equal(out._keras_mask, BN_MASK)
    # inference: the moving statistics, the mask changes nothing
    np.testing.assert_allclose(bn(BN_X, mask=BN_MASK).data, bn(BN_X).data)


def test_masked_batch_normalization_gradcheck_float64_and_errors():
    bn = _bn("float64")
    weights = np.random.default_rng(1).standard_normal((2, 4, 3))
    assert gradcheck(lambda x: ops.sum(ops.mul(bn(x, training=True, mask=BN_MASK), weights)),
                     [BN_X.astype(np.float64)])
    with pytest.raises(ValueError, match=r"BatchNormalization.*every step of the batch is masked"):
        bn(BN_X, training=True, mask=np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match=r"BatchNormalization.*\(2, 4, 3\).*\(2, 3\)"):
        bn(BN_X, training=True, mask=np.ones((2, 3), bool))


def test_lambda_mask_argument_as_keras():
    """Keras 2's Lambda(mask=...): a function (inputs, input_mask) -> mask, or a fixed mask;
    None drops the input's mask."""
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3) / 10
    x[0, 2:] = 0.0
    masked = layers.Masking()(x)
    keep = layers.Lambda(lambda t: t * 2, mask=lambda inputs, mask: mask)(masked)
    np.testing.assert_array_equal(keep._keras_mask, [[1, 1, 0, 0], [1, 1, 1, 1]])
    fixed = np.array([[1, 0, 0, 0], [1, 1, 0, 0]], bool)
    np.testing.assert_array_equal(layers.Lambda(lambda t: t * 2, mask=fixed)(x)._keras_mask, fixed)
    assert layers.Lambda(lambda t: t * 2)(masked)._keras_mask is None
    # the kept mask reaches an LSTM: padding changes nothing
    inputs = minidl.Input((None,))
    steps = layers.Lambda(lambda t: t * 2, output_shape=(None, 3), mask=lambda t, m: m)(
        layers.Embedding(10, 3, mask_zero=True)(inputs))
    model = minidl.Model(inputs, layers.LSTM(2)(steps))
    np.testing.assert_allclose(model.predict(np.array([[1, 2, 0, 0]]), verbose=0),
                               model.predict(np.array([[1, 2]]), verbose=0), rtol=1e-5, atol=1e-7)


# tf_keras: TD_X below; Input((3, 4, 2)) -> Masking() -> TimeDistributed(LSTM(2)) (y) ->
# LSTM(2) (out), both LSTMs with _lstm_weights(2, 2); model.predict(TD_X) -> [y, out].
TD_X = ((np.arange(48, dtype=np.float32).reshape(2, 3, 4, 2) * 5) % 9 - 4) / 4
TD_X[0, 0, 2:] = 0
TD_X[0, 2, 1:] = 0
TD_X[1, 1, :] = 0
KERAS_TD_LSTM = [[[-0.19921179115772247, 0.2043948471546173],
                  [0.09152451157569885, -0.11747218668460846],
                  [0.07565369457006454, -0.07898756861686707]],
                 [[0.04135908931493759, -0.05502991005778313], [0.0, 0.0],
                  [-0.014883743599057198, 0.029743414372205734]]]
KERAS_TD_OUTER = [[0.0004937244229950011, 0.04516660049557686],
                  [-0.0007044875528663397, 0.045969825237989426]]
# tf_keras: Input((2, 3)) -> TimeDistributed(Embedding(10, 3, mask_zero=True)) (EMB) ->
# TimeDistributed(GlobalAveragePooling1D()), predict(TD_IDS); the second sample's second
# step is all padding: NaN (0 / 0), as in Keras.
TD_IDS = np.array([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [0, 0, 0]]])
KERAS_TD_GAP = [[[0.375, -0.25, 0.0], [-0.25, 0.0, 0.25]],
                [[0.0833333358168602, 0.3333333432674408, 0.0], [np.nan, np.nan, np.nan]]]


def test_time_distributed_gives_the_folded_mask_to_its_layer_as_keras():
    inputs = minidl.Input((3, 4, 2))
    inner, outer = layers.LSTM(2), layers.LSTM(2)
    steps = layers.TimeDistributed(inner)(layers.Masking()(inputs))
    model = minidl.Model(inputs, [steps, outer(steps)])
    inner.set_weights(_lstm_weights(2, 2))
    outer.set_weights(_lstm_weights(2, 2))
    y, out = model.predict(TD_X, verbose=0)
    np.testing.assert_allclose(y, KERAS_TD_LSTM, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, KERAS_TD_OUTER, rtol=1e-5, atol=1e-6)
    masked = layers.TimeDistributed(layers.LSTM(2))(layers.Masking()(TD_X))
    np.testing.assert_array_equal(masked._keras_mask, [[1, 1, 1], [1, 0, 1]])


def test_time_distributed_unfolds_its_layers_mask_as_keras():
    inputs = minidl.Input((2, 3))
    embed = layers.Embedding(10, 3, mask_zero=True)
    model = minidl.Model(inputs, layers.TimeDistributed(layers.GlobalAveragePooling1D())(
        layers.TimeDistributed(embed)(inputs)))
    embed.set_weights([EMB])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(model.predict(TD_IDS, verbose=0), KERAS_TD_GAP, rtol=1e-6)
    out = layers.TimeDistributed(embed)(TD_IDS)
    np.testing.assert_array_equal(out._keras_mask, TD_IDS != 0)
    pooled = layers.TimeDistributed(layers.GlobalAveragePooling1D())(out)
    np.testing.assert_array_equal(pooled._keras_mask, [[1, 1], [1, 0]])
