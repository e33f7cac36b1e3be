"""Loss functions: Keras's values, per-sample shapes, gradients."""

import numpy as np
import pytest

from minidl import Tensor, losses
from minidl.testing import gradcheck

rng = np.random.default_rng(0)
PROBS = rng.dirichlet(np.ones(4), size=5)
LOGITS = rng.normal(size=(5, 4))
LABELS = np.array([0, 3, 1, 2, 3])
ONE_HOT = np.eye(4)[LABELS]


def test_mse_and_mae_are_means_over_the_last_axis():
    y_true = rng.normal(size=(6, 3))
    y_pred = rng.normal(size=(6, 3))
    out = losses.mean_squared_error(y_true, y_pred)
    assert out.shape == (6,)
    np.testing.assert_allclose(out.data, ((y_pred - y_true) ** 2).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(losses.mae(y_true, y_pred).data, np.abs(y_pred - y_true).mean(-1), rtol=1e-6)


def test_1d_targets_match_an_n_by_1_output():
    """(N,) targets against (N, 1) predictions must not broadcast to (N, N)."""
    y_true = np.arange(4.0)
    y_pred = np.arange(4.0).reshape(4, 1) + 1
    np.testing.assert_allclose(losses.mse(y_true, y_pred).data, np.ones(4))


def test_sparse_and_categorical_crossentropy_agree():
    sparse = losses.sparse_categorical_crossentropy(LABELS, PROBS)
    dense = losses.categorical_crossentropy(ONE_HOT, PROBS)
    expected = -np.log(PROBS[np.arange(5), LABELS])
    np.testing.assert_allclose(sparse.data, expected, rtol=1e-6)
    np.testing.assert_allclose(dense.data, expected, rtol=1e-6)


def test_from_logits_equals_softmax_then_loss():
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    expected = -np.log(softmax[np.arange(5), LABELS])
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True).data, expected, rtol=1e-6)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True).data, expected, rtol=1e-6)


def test_clipping_keeps_confident_mistakes_finite():
    out = losses.sparse_categorical_crossentropy([1], [[1.0, 0.0]])
    np.testing.assert_allclose(out.data, [-np.log(1e-7)], rtol=1e-4)


def test_binary_crossentropy_keras_value():
    y = np.array([[0.0, 1.0], [1.0, 1.0]])
    p = np.array([[0.2, 0.7], [0.9, 0.4]])
    expected = -(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(y, p).data, expected, rtol=1e-5)
    logits = np.log(p / (1 - p))
    np.testing.assert_allclose(losses.binary_crossentropy(y, logits, from_logits=True).data, expected, rtol=1e-4)


def test_hinge_maps_01_labels_to_pm1():
    y = np.array([[0.0], [1.0]])
    p = np.array([[0.3], [0.3]])
    np.testing.assert_allclose(losses.hinge(y, p).data, [1.3, 0.7], rtol=1e-6)


def test_huber_is_quadratic_then_linear():
    y = np.zeros((1, 3))
    p = np.array([[0.5, -2.0, 3.0]])
    expected = np.mean([0.5 * 0.25, 2.0 - 0.5, 3.0 - 0.5])
    np.testing.assert_allclose(losses.huber(y, p).data, [expected], rtol=1e-6)


@pytest.mark.parametrize("fn,target", [
    (losses.mse, rng.normal(size=(5, 4))),
    (losses.mae, rng.normal(size=(5, 4)) + 3),
    (losses.huber, 2 * rng.normal(size=(5, 4))),
    (losses.categorical_crossentropy, ONE_HOT),
    (losses.sparse_categorical_crossentropy, LABELS),
    (losses.binary_crossentropy, (rng.random((5, 4)) > 0.5).astype(float)),
])
def test_losses_are_differentiable(fn, target):
    gradcheck(lambda p: fn(target, p), [PROBS * 0.8 + 0.1])


def test_classes_return_the_batch_mean():
    per_sample = losses.sparse_categorical_crossentropy(LABELS, PROBS).data
    value = losses.SparseCategoricalCrossentropy()(LABELS, PROBS)
    assert value.shape == ()
    np.testing.assert_allclose(value.item(), per_sample.mean(), rtol=1e-6)
    logits_value = losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)
    np.testing.assert_allclose(
        logits_value.item(), losses.sparse_categorical_crossentropy(LABELS, LOGITS, True).data.mean(), rtol=1e-6)
    assert losses.MeanSquaredError().name == "mean_squared_error"


def test_hand_written_loop_gradient_reaches_the_prediction():
    pred = Tensor(PROBS, requires_grad=True)
    losses.categorical_crossentropy(ONE_HOT, pred).mean().backward()
    assert pred.grad.shape == PROBS.shape


def test_get_resolves_names_and_suggests():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("sparse_categorical_crossentropy") is losses.sparse_categorical_crossentropy
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    with pytest.raises(ValueError, match="Did you mean 'sparse_categorical_crossentropy'"):
        losses.get("sparse_categorical_crossentropi")
    with pytest.raises(TypeError, match="loss must be"):
        losses.get(3)


def test_label_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match="label 7 is outside the 4 classes"):
        losses.sparse_categorical_crossentropy([7, 0, 0, 0, 0], PROBS)


def test_reduction_as_keras_2():
    from minidl.losses import Reduction

    assert Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    assert losses.MeanSquaredError().get_config() == {"name": "mean_squared_error",
                                                      "reduction": "auto"}  # tf_keras
    y_true = np.array([[0.0, 1.0], [1.0, 1.0]])
    y_pred = np.array([[1.0, 1.0], [1.0, 0.0]])
    weights = np.array([0.3, 0.7])
    # tf_keras 2.21: auto 0.5 / 0.25, none [0.5 0.5] / [0.15 0.35], sum 1.0 / 0.5
    expected = {Reduction.AUTO: (0.5, 0.25), Reduction.SUM_OVER_BATCH_SIZE: (0.5, 0.25),
                Reduction.SUM: (1.0, 0.5), Reduction.NONE: ([0.5, 0.5], [0.15, 0.35])}
    for reduction, (plain, weighted) in expected.items():
        loss = losses.MeanSquaredError(reduction=reduction)
        np.testing.assert_allclose(loss(y_true, y_pred).numpy(), plain, rtol=1e-6)
        np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=weights).numpy(), weighted,
                                   rtol=1e-6)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="mean")
