"""clipnorm, global_clipnorm, clipvalue on every optimizer, with Keras 2's semantics.

KERAS_FIGURES were measured with tf_keras 2.21 in /work/tfvenv (float64 weights, three
apply_gradients steps, as in test_optimizers_more.py); Keras's rules are
``Optimizer._clip_gradients`` in tf_keras/src/optimizers/optimizer.py: clipnorm
(tf.clip_by_norm per gradient), else global_clipnorm (tf.clip_by_global_norm), else
clipvalue (tf.clip_by_value); clipvalue beside a norm is ignored.
"""

import warnings

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers, optimizers
from minidl.models import load_model
from minidl.optimizers.clipping import clip_by_global_norm, clip_by_norm, clip_gradients

W0 = [0.5, -1.0, 2.0, 0.0]
GRADS = [[0.1, -0.4, 1.5, 0.0], [-0.3, 0.2, 0.8, 0.5], [0.25, -0.6, -1.0, 0.05]]
KERAS_FIGURES = [
    ("SGD", {"learning_rate": 0.125, "clipnorm": 1.0},
     [0.502916859261729, -0.9297843850040012, 1.885169157800277, -0.06711989528968834]),
    ("SGD", {"learning_rate": 0.125, "clipvalue": 0.5}, [0.49375, -0.9125, 1.9375, -0.06875]),
    ("RMSprop", {"learning_rate": 0.125, "clipnorm": 0.5, "clipvalue": 0.01},
     [0.25946533489646023, -0.5138666715099793, 1.5789670334247266, -0.43039362353432375]),
]
# SGD(learning_rate=0.125, global_clipnorm=1.0) on W0 and [[1, -2]], gradients GRADS and
# [[2, 1]] at every step
KERAS_GLOBAL = [[0.4983663733232634, -0.9622450427506639, 1.939723992442473, -0.027938816570452177],
                [[0.7077009890867442, -2.1461495054566275]]]
ALL = ["SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Ftrl"]


@pytest.mark.parametrize("name, arguments, expected", KERAS_FIGURES, ids=lambda v: str(v)[:40])
def test_three_steps_match_tf_keras(name, arguments, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RMSprop's clipvalue beside clipnorm
        opt = getattr(optimizers, name)(**arguments)
    w = Tensor(np.array(W0), requires_grad=True)
    for g in GRADS:
        opt.apply_gradients([(np.array(g), w)])
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)


def test_global_clipnorm_matches_tf_keras():
    opt = optimizers.SGD(learning_rate=0.125, global_clipnorm=1.0)
    ws = [Tensor(np.array(W0), requires_grad=True), Tensor(np.array([[1.0, -2.0]]), requires_grad=True)]
    for g in GRADS:
        opt.apply_gradients([(np.array(g), ws[0]), (np.array([[2.0, 1.0]]), ws[1])])
    for w, expected in zip(ws, KERAS_GLOBAL):
        np.testing.assert_allclose(w.data, expected, rtol=1e-6)


def test_the_three_rules():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=n) * 3 for n in (5, 7, 1)]
    norms = [np.linalg.norm(g) for g in grads]
    for g, clipped, norm in zip(grads, clip_gradients(grads, clipnorm=2.0), norms):
        np.testing.assert_allclose(clipped, g * 2.0 / max(norm, 2.0), rtol=1e-14)
    total = np.sqrt(sum(n * n for n in norms))
    for g, clipped in zip(grads, clip_gradients(grads, global_clipnorm=2.0)):
        np.testing.assert_allclose(clipped, g * 2.0 / total, rtol=1e-14)
    for g, clipped in zip(grads, clip_gradients(grads, clipvalue=0.5)):
        np.testing.assert_array_equal(clipped, np.clip(g, -0.5, 0.5))
    short = np.array([0.3, -0.4], np.float32)
    assert clip_by_norm(short, 1.0) is short and clip_by_global_norm([short], 1.0)[0] is short
    assert clip_by_norm(short, 0.25).dtype == np.float32


def test_nonfinite_norms_give_nan_as_in_keras():
    assert np.isnan(clip_by_global_norm([np.array([np.inf, 1.0]), np.ones(2)], 1.0)[1]).all()
    assert np.isnan(clip_by_norm(np.array([np.nan, 1.0]), 1.0)).all()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("clip", ["clipnorm", "global_clipnorm", "clipvalue"])
def test_every_optimizer_clips_like_its_unclipped_self_on_clipped_gradients(name, clip):
    """The step with ``clip=c`` is the plain step on the gradients clipped by hand; the
    caller's (read-only) gradient arrays are left as they were."""
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(3, 4)) * 4, rng.normal(size=(4,)) * 4]
    for g in grads:
        g.setflags(write=False)
    kept = [g.copy() for g in grads]
    clipping = getattr(optimizers, name)(**{clip: 0.75})
    plain = getattr(optimizers, name)()
    ws = [Tensor(np.ones(g.shape), requires_grad=True) for g in grads]
    vs = [Tensor(np.ones(g.shape), requires_grad=True) for g in grads]
    clipping.apply_gradients(zip(grads, ws))
    plain.apply_gradients(zip(clip_gradients(grads, **{clip: 0.75}), vs))
    for w, v in zip(ws, vs):
        np.testing.assert_array_equal(w.data, v.data)
    for g, k in zip(grads, kept):
        np.testing.assert_array_equal(g, k)
    assert clipping.get_config()[clip] == 0.75


def test_fit_clips_the_gradients():
    """A step of fit with clipnorm is the hand-written step on clipped gradients."""
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 4)).astype(np.float32) * 50, np.arange(8) % 3
    minidl.utils.set_random_seed(3)
    model = minidl.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dense(3)])
    model.compile(optimizers.SGD(learning_rate=0.5, clipnorm=0.01),
                  minidl.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = model.get_weights()
    with minidl.GradientTape() as tape:
        loss = model.compiled_loss(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights, as_arrays=True)
    assert max(np.linalg.norm(g) for g in grads) > 0.01  # the clip matters
    expected = [w - 0.5 * c for w, c in zip(start, clip_gradients(grads, clipnorm=0.01))]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_clipping_survives_save_and_load(tmp_path):
    model = minidl.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizers.Adam(global_clipnorm=2.5), "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = load_model(tmp_path / "m.mdl")
    assert loaded.optimizer.global_clipnorm == 2.5 and loaded.optimizer.clipnorm is None


def test_both_norms_is_keras_error():
    with pytest.raises(ValueError, match="At most one of `clipnorm` and `global_clipnorm` can be set. "
                                         "Received: clipnorm=1, global_clipnorm=2"):
        optimizers.SGD(clipnorm=1, global_clipnorm=2)


@pytest.mark.parametrize("arg", ["clipnorm", "clipvalue", "global_clipnorm"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "1", True])
def test_bad_clip_values_are_refused(arg, value):
    with pytest.raises(ValueError, match=f"{arg} must be a positive number or None"):
        optimizers.Adam(**{arg: value})


def test_clipvalue_beside_global_clipnorm_warns_and_is_ignored():
    with pytest.warns(UserWarning, match="clipvalue=0.001 is ignored because global_clipnorm"):
        opt = optimizers.SGD(learning_rate=1.0, global_clipnorm=100.0, clipvalue=0.001)
    w = Tensor(np.zeros(2), requires_grad=True)
    opt.apply_gradients([(np.array([1.0, -2.0]), w)])
    np.testing.assert_array_equal(w.data, [-1.0, 2.0])  # not clipped to 0.001
