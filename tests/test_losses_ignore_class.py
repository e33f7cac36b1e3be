"""``ignore_class`` of the sparse categorical cross-entropy (Keras 2): the loss
function, the Loss class, the metric class and fit.  Expected figures marked
"tf_keras" were printed by tf_keras 2.21 running the same snippet; the gradient
is checked against PyTorch's ``cross_entropy(ignore_index=...)``, which means the same."""

import numpy as np
import pytest
import torch

import minidl
from minidl import layers, losses, metrics
from minidl.data import Dataset
from minidl.tensor import Tensor

PROBS = np.array([[.7, .2, .1], [.1, .8, .1], [.2, .2, .6], [.3, .3, .4], [.5, .4, .1]], np.float32)
LABELS = np.array([0, 1, 2, -1, 1])


def value(x):
    return float(np.asarray(x.data if isinstance(x, Tensor) else x.result()))


def test_the_function_gives_0_for_ignored_samples():
    got = losses.sparse_categorical_crossentropy(LABELS, PROBS, ignore_class=-1)
    np.testing.assert_allclose(got.data, [0.35667497, 0.22314355, 0.5108256, 0.0, 0.9162907],
                               rtol=1e-6)  # tf_keras
    logits = np.log(PROBS[:3]) * 2
    got = losses.sparse_categorical_crossentropy([0, 1, -1], logits, from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(got.data, [0.09716371, 0.03077166, 0.0], rtol=1e-5)  # tf_keras
    assert minidl.metrics.sparse_categorical_crossentropy is losses.sparse_categorical_crossentropy
    sequences = losses.sparse_categorical_crossentropy([[0, 1, -1], [2, -1, -1]],
                                                       np.tile(PROBS[:3], (2, 1, 1)), ignore_class=-1)
    np.testing.assert_allclose(sequences.data, [[0.35667497, 0.22314355, 0.0],
                                                [2.3025851, 0.0, 0.0]], rtol=1e-6)  # tf_keras


@pytest.mark.parametrize("reduction,options,expected", [
    ("auto", {}, 0.50173366),
    ("auto", {"sample_weight": np.array([1, 2, 1, 1, 1.0])}, 0.55751956),
    ("sum", {}, 2.006935),
])
def test_the_loss_class_averages_over_the_other_samples(reduction, options, expected):
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction=reduction)
    assert value(loss(LABELS, PROBS, **options)) == pytest.approx(expected, rel=1e-6)  # tf_keras


def test_the_loss_class_other_cases_match_tf_keras():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    assert value(loss([[0], [1], [-1]], PROBS[:3])) == pytest.approx(0.28990927, rel=1e-6)
    assert value(loss([[0, 1, -1], [2, -1, -1]], np.tile(PROBS[:3], (2, 1, 1)))) == pytest.approx(
        0.9608012, rel=1e-6)
    two = losses.SparseCategoricalCrossentropy(ignore_class=2)
    assert value(two([0, 1, 2, 2, 1], PROBS)) == pytest.approx(0.49870306, rel=1e-6)
    logits = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    assert value(logits(LABELS[:3], np.log(PROBS[:3]))) == pytest.approx(0.28990927, rel=1e-6)
    none = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="none")(LABELS, PROBS)
    np.testing.assert_allclose(none.data, [0.35667497, 0.22314355, 0.5108256, 0.0, 0.9162907],
                               rtol=1e-6)
    # tf_keras gives NaN (0 / 0) for a batch of ignored labels only; minidl gives 0, as for
    # a batch whose timesteps are all masked, so that one such batch cannot ruin the weights
    assert value(loss([-1, -1], PROBS[:2])) == 0.0


def test_the_gradient_matches_pytorch_ignore_index():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4))
    labels = np.array([3, -1, 0, 2, -1, 1])
    z = Tensor(logits, requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(labels, z)
    loss.backward()
    t = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t, torch.tensor(labels), ignore_index=-1)
    expected.backward()
    assert value(loss) == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert not z.grad[labels == -1].any()


def test_the_metric_class_leaves_ignored_samples_out_of_its_mean():
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    metric.update_state(LABELS, PROBS)
    assert value(metric) == pytest.approx(0.5017337, rel=1e-6)  # tf_keras
    metric.update_state(LABELS[:2], PROBS[:2], sample_weight=[1, 3])
    assert value(metric) == pytest.approx(0.37913007, rel=1e-6)  # tf_keras
    empty = metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    empty.update_state([-1, -1], PROBS[:2])
    assert value(empty) == 0.0  # tf_keras too


def test_config_round_trips_and_bad_values_are_refused():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=255, from_logits=True)
    config = loss.get_config()
    assert config == {"name": "sparse_categorical_crossentropy", "reduction": "auto",
                      "from_logits": True, "ignore_class": 255}
    assert losses.SparseCategoricalCrossentropy(**config).get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=0)
    assert metric.get_config()["ignore_class"] == 0
    assert metrics.SparseCategoricalCrossentropy.from_config(metric.get_config()).ignore_class == 0
    for bad in (1.5, "x", True):
        with pytest.raises(ValueError, match="ignore_class must be an integer"):
            losses.SparseCategoricalCrossentropy(ignore_class=bad)
        with pytest.raises(ValueError, match="ignore_class must be an integer"):
            metrics.SparseCategoricalCrossentropy(ignore_class=bad)
    with pytest.raises(ValueError, match="axis=0"):
        losses.sparse_categorical_crossentropy(LABELS, PROBS, axis=0)


def classifier(loss):
    layers.reset_names()
    minidl.utils.set_random_seed(0)
    net = minidl.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    net.compile("sgd", loss)
    return net


def test_fit_and_evaluate_leave_the_ignored_samples_out(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((40, 2)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    y[::4] = -1
    kept = y != -1
    net = classifier(losses.SparseCategoricalCrossentropy(ignore_class=-1))
    plain = classifier("sparse_categorical_crossentropy")
    assert net.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x[kept], y[kept], verbose=0),
                                                          rel=1e-6)
    net.fit(x, y, batch_size=40, epochs=3, verbose=0)
    plain.fit(x[kept], y[kept], batch_size=30, epochs=3, verbose=0)
    for a, b in zip(net.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    fed = classifier(losses.SparseCategoricalCrossentropy(ignore_class=-1))
    fed.fit(Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0)  # quick checks too
    with pytest.raises(ValueError, match=r"labels must be >= 0, received -2"):
        net.fit(x, np.where(kept, y, -2), verbose=0)
    with pytest.raises(ValueError, match="received the label 3"):
        fed.fit(Dataset.from_tensor_slices((x, np.where(kept, y, 3))).batch(8), verbose=0)
    net.save(tmp_path / "m.keras")
    loaded = minidl.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled_loss.losses[0].get_config()["ignore_class"] == -1
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(net.evaluate(x, y, verbose=0))
