"""The stateful metric classes, checked against values computed here in NumPy.

The formulas are Keras 2's (tf_keras 2.21): where a test says "Keras's
formula" it names the source read (``tf_keras/src/metrics/*.py``,
``utils/metrics_utils.py``, ``backend.py``).  The same inputs were also run
through tf_keras 2.21 while writing these tests (a script kept out of the
suite: minidl must not depend on TensorFlow), and every value agreed to
1e-5; the names (``precision``, ``precision_1``, ...) were read there too.
"""

import numpy as np
import pytest

import minidl
from minidl import metrics
from minidl.tensor import Tensor

RNG = np.random.default_rng(0)


def value(metric):
    result = metric.result()
    assert isinstance(result, Tensor) and result.dtype == np.float32
    return result.numpy()


def binary_data(n, rng=RNG):
    return (rng.random(n) > 0.5).astype(np.float32), rng.random(n).astype(np.float32)


# --- the base class ------------------------------------------------------------------
def test_mean_and_sum_weighted_over_batches():
    """Keras 2's Reduce: total += sum(v * w), count += sum(w) (or the number of values)."""
    mean, total = metrics.Mean(), metrics.Sum()
    batches = [([1.0, 2.0, 3.0], None), ([4.0], [2.0]), ([[1.0, 2.0], [3.0, 4.0]], [1.0, 0.5])]
    for values, weight in batches:
        mean.update_state(values, sample_weight=weight)
        total.update_state(values, sample_weight=weight)
    # the (2,) weights meet (2, 2) values as (2, 1): each weight covers one row
    weighted = 6 + 8 + (1 + 2) * 1.0 + (3 + 4) * 0.5
    count = 3 + 2 + 2 * 1.0 + 2 * 0.5
    assert value(mean) == pytest.approx(weighted / count)
    assert value(total) == pytest.approx(weighted)
    assert [v.name for v in mean.variables] == ["total", "count"]
    assert [v.name for v in total.variables] == ["total"]
    mean.reset_states()  # Keras 2's older name
    assert value(mean) == 0.0 and float(mean.count) == 0.0


def test_weights_that_cannot_broadcast_average_the_values_first():
    """(N,) weights for (N, T, D) values: Keras 2 reduces the values to (N,) first."""
    values = RNG.random((2, 3, 4)).astype(np.float32)
    m = metrics.Mean()
    m.update_state(values, sample_weight=[1.0, 3.0])
    expected = (values[0].mean() * 1 + values[1].mean() * 3) / 4
    assert value(m) == pytest.approx(expected, rel=1e-6)


def test_a_metric_is_callable_and_its_result_is_a_tensor():
    m = metrics.Mean()
    result = m([1.0, 3.0])
    assert isinstance(result, Tensor) and result.numpy() == 2.0
    assert f"{result:.3f}" == "2.000" and "%.1f" % result == "2.0"
    assert m([5.0]) > 2.5 and float(m.result()) == 3.0


class BinaryTruePositives(metrics.Metric):
    """The Keras guide "Writing your own metrics", with NumPy in place of tf."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = (np.asarray(y_true) > 0.5) & (np.asarray(y_pred) > 0.5)
        hits = hits.astype(self.dtype)
        if sample_weight is not None:
            hits = hits * np.asarray(sample_weight, self.dtype)
        self.true_positives.assign_add(np.sum(hits))

    def result(self):
        return self.true_positives


def test_a_metric_of_your_own_with_add_weight():
    m = BinaryTruePositives()
    m.update_state([1, 1, 0, 1], [0.9, 0.2, 0.8, 0.7])
    m.update_state([1, 1], [0.9, 0.9], sample_weight=[0.5, 2.0])
    assert float(m.result()) == 2 + 2.5
    assert m.variables == [m.true_positives] and m.trainable_weights == []
    assert m.get_config() == {"name": "binary_true_positives", "dtype": "float32"}
    m.reset_state()  # the default: every add_weight Variable back to zero
    assert float(m.result()) == 0.0
    clone = BinaryTruePositives.from_config(m.get_config())
    assert clone.name == m.name and clone is not m


def test_an_old_style_reset_states_override_is_called_by_reset_state():
    class Counter(metrics.Metric):
        def __init__(self):
            super().__init__(name="counter")
            self.n = 0

        def update_state(self, values):
            self.n += len(values)

        def result(self):
            return self.n

        def reset_states(self):
            self.n = 0

    c = Counter()
    c.update_state([1, 2])
    c.reset_state()
    assert c.result() == 0


def test_default_names_as_keras_names_them():
    """Classes with a fixed default name keep it; Precision, Recall, AUC and your own
    classes without a name get Keras's unique names, which clear_session restarts."""
    minidl.backend.clear_session()
    assert metrics.Precision().name == "precision"
    assert metrics.Precision().name == "precision_1"
    assert [metrics.AUC().name, metrics.AUC().name] == ["auc", "auc_1"]
    assert [metrics.Recall().name, metrics.Recall().name] == ["recall", "recall_1"]
    assert [metrics.Mean().name, metrics.Mean().name] == ["mean", "mean"]
    assert metrics.SparseTopKCategoricalAccuracy().name == "sparse_top_k_categorical_accuracy"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"

    class MyMetric(metrics.Mean):
        def __init__(self, name=None):
            metrics.Metric.__init__(self, name)

    assert [MyMetric().name, MyMetric().name] == ["my_metric", "my_metric_1"]
    minidl.backend.clear_session()
    assert metrics.Precision().name == "precision"


CONFIGS = [
    (metrics.Mean, {}), (metrics.Sum, {}), (metrics.Accuracy, {}),
    (metrics.BinaryAccuracy, {"threshold": 0.7}), (metrics.CategoricalAccuracy, {}),
    (metrics.SparseCategoricalAccuracy, {}), (metrics.TopKCategoricalAccuracy, {"k": 3}),
    (metrics.SparseTopKCategoricalAccuracy, {"k": 2}),
    (metrics.Precision, {"thresholds": [0.3, 0.6], "top_k": None, "class_id": 1}),
    (metrics.Recall, {"thresholds": None, "top_k": 2, "class_id": None}),
    (metrics.AUC, {"num_thresholds": 50, "curve": "PR", "summation_method": "minoring",
                   "multi_label": False, "num_labels": None, "label_weights": None,
                   "from_logits": True}),
    (metrics.MeanSquaredError, {}), (metrics.MeanAbsoluteError, {}),
    (metrics.MeanAbsolutePercentageError, {}), (metrics.RootMeanSquaredError, {}),
    (metrics.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1}),
    (metrics.CategoricalCrossentropy, {"from_logits": False, "label_smoothing": 0.2, "axis": -1}),
    (metrics.SparseCategoricalCrossentropy, {"from_logits": True, "ignore_class": None,
                                             "axis": -1}),
]


@pytest.mark.parametrize("cls,options", CONFIGS, ids=[c.__name__ for c, _ in CONFIGS])
def test_config_round_trip_with_keras_keys(cls, options):
    """get_config holds Keras 2's keys (name, dtype, then the class's own)."""
    m = cls(name="m", **options)
    config = m.get_config()
    assert config == {"name": "m", "dtype": "float32", **options}
    again = cls.from_config(config)
    assert again.get_config() == config
    restored = metrics.deserialize(metrics.serialize(m))
    assert type(restored) is cls and restored.get_config() == config


# --- accuracies ------------------------------------------------------------------------
def test_accuracy_classes_match_numpy_over_two_batches():
    probs = RNG.random((9, 4)).astype(np.float32)
    labels = RNG.integers(0, 4, 9)
    weights = RNG.random(9).astype(np.float32)
    hit = (probs.argmax(1) == labels).astype(np.float64)
    for m, y in ((metrics.SparseCategoricalAccuracy(), labels),
                 (metrics.SparseCategoricalAccuracy(), labels[:, None]),
                 (metrics.CategoricalAccuracy(), np.eye(4)[labels])):
        m.update_state(y[:5], probs[:5], sample_weight=weights[:5])
        m.update_state(y[5:], probs[5:], sample_weight=weights[5:])
        assert value(m) == pytest.approx(np.sum(hit * weights) / np.sum(weights), rel=1e-6)


def test_binary_accuracy_compares_the_thresholded_prediction_with_the_label():
    """Keras 2's binary_matches: y_true == (y_pred > threshold); a soft label never matches."""
    y = np.array([1.0, 0.0, 1.0, 0.9])
    p = np.array([0.8, 0.6, 0.4, 0.9])
    m = metrics.BinaryAccuracy()
    m.update_state(y, p)
    assert value(m) == pytest.approx(1 / 4)
    high = metrics.BinaryAccuracy(threshold=0.7)
    high.update_state(y[:, None], p[:, None], sample_weight=[1.0, 2.0, 3.0, 4.0])
    assert value(high) == pytest.approx((1 + 2 + 0 + 0) / 10)
    exact = metrics.Accuracy()
    exact.update_state([1, 2, 3, 4], [0, 2, 3, 4])
    assert value(exact) == pytest.approx(0.75)


def test_top_k_counts_ties_for_the_label_as_in_top_k():
    """tf.math.in_top_k: the label is in the top k when fewer than k classes score
    strictly higher; so a tie at the boundary counts."""
    probs = np.array([[0.1, 0.4, 0.4, 0.1], [0.5, 0.2, 0.2, 0.1], [0.3, 0.3, 0.3, 0.1]])
    labels = np.array([2, 3, 2])
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state(labels, probs)
    assert value(m) == pytest.approx(2 / 3)
    m2 = metrics.TopKCategoricalAccuracy(k=2)
    m2.update_state(np.eye(4)[labels], probs)
    assert value(m2) == pytest.approx(2 / 3)  # row 1: three classes above class 3
    big = RNG.random((20, 6))
    lab = RNG.integers(0, 6, 20)
    rank = (big > big[np.arange(20), lab][:, None]).sum(1)
    m3 = metrics.SparseTopKCategoricalAccuracy()  # k=5 by default
    m3.update_state(lab, big)
    assert value(m3) == pytest.approx(np.mean(rank < 5))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics.TopKCategoricalAccuracy(k=0)


# --- precision and recall --------------------------------------------------------------
def counts(y, p, w, thresholds):
    """tp, fp, fn per threshold, the direct way (Keras: positive when p > t)."""
    y = y.reshape(-1) != 0
    p = p.reshape(-1)
    w = np.ones_like(p) if w is None else np.broadcast_to(w, p.shape).reshape(-1)
    tp = np.array([np.sum(w * (y & (p > t))) for t in thresholds])
    fp = np.array([np.sum(w * (~y & (p > t))) for t in thresholds])
    fn = np.array([np.sum(w * (y & (p <= t))) for t in thresholds])
    return tp, fp, fn


def test_precision_and_recall_over_batches_with_weights():
    y1, p1 = binary_data(11)
    y2, p2 = binary_data(6)
    w1, w2 = RNG.random(11), RNG.random(6)
    precision, recall = metrics.Precision(), metrics.Recall(thresholds=[0.2, 0.5, 0.8])
    for m in (precision, recall):
        m.update_state(y1, p1, sample_weight=w1)
        m.update_state(y2[:, None], p2[:, None], sample_weight=w2)
    y, p, w = np.concatenate([y1, y2]), np.concatenate([p1, p2]), np.concatenate([w1, w2])
    tp, fp, _ = counts(y, p, w, [0.5])
    assert value(precision) == pytest.approx(tp[0] / (tp[0] + fp[0]), rel=1e-5)
    assert value(precision).shape == ()
    tp, _, fn = counts(y, p, w, [0.2, 0.5, 0.8])
    np.testing.assert_allclose(value(recall), tp / (tp + fn), rtol=1e-5)
    assert precision.true_positives.shape == (1,) and recall.false_negatives.shape == (3,)


def test_precision_with_top_k_and_class_id():
    """Keras's _filter_top_k: outside each row's k highest, predictions become -1e10,
    and with top_k the threshold is -1e10 too (every kept prediction is positive)."""
    probs = RNG.random((8, 5)).astype(np.float32)
    onehot = np.eye(5)[RNG.integers(0, 5, 8)]
    keep = np.zeros_like(probs, dtype=bool)
    np.put_along_axis(keep, np.argsort(-probs, axis=1)[:, :2], True, axis=1)
    m = metrics.Precision(top_k=2)
    m.update_state(onehot, probs)
    assert value(m) == pytest.approx(np.sum(keep & (onehot == 1)) / np.sum(keep))
    r = metrics.Recall(top_k=2)
    r.update_state(onehot, probs)
    assert value(r) == pytest.approx(np.sum(keep & (onehot == 1)) / np.sum(onehot))
    c = metrics.Recall(class_id=3, thresholds=0.4)
    c.update_state(onehot, probs)
    tp, _, fn = counts(onehot[:, 3], probs[:, 3], None, [0.4])
    assert value(c) == pytest.approx(tp[0] / (tp[0] + fn[0]) if tp[0] + fn[0] else 0.0)


def test_precision_is_zero_before_any_positive_and_refuses_bad_arguments():
    m = metrics.Precision()
    m.update_state([0, 1], [0.1, 0.2])
    assert value(m) == 0.0  # no prediction above 0.5: 0/0 gives 0, as divide_no_nan
    with pytest.raises(ValueError, match=r"threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        metrics.Recall(top_k=0)
    with pytest.raises(ValueError, match="same shape"):
        metrics.Precision().update_state([[1, 0, 1]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="class_id=7 is out of range"):
        metrics.Precision(class_id=7).update_state(np.eye(3), np.eye(3))


# --- AUC ---------------------------------------------------------------------------------
def rank_auc(y, p, w=None):
    """The exact ROC AUC: the weighted share of (positive, negative) pairs ordered right."""
    w = np.ones_like(p) if w is None else w
    pos, neg = y == 1, y == 0
    wins = (p[pos][:, None] > p[neg][None, :]) + 0.5 * (p[pos][:, None] == p[neg][None, :])
    pair_w = w[pos][:, None] * w[neg][None, :]
    return np.sum(wins * pair_w) / np.sum(pair_w)


def test_roc_auc_approaches_the_exact_rank_statistic():
    """An independent check: with many thresholds the trapezoids give Mann-Whitney's AUC."""
    y, p = binary_data(300)
    p = np.where(y == 1, p * 0.7 + 0.3, p * 0.8)  # positives score higher
    w = RNG.random(300)
    m = metrics.AUC(num_thresholds=4001)
    m.update_state(y[:100], p[:100], sample_weight=w[:100])
    m.update_state(y[100:], p[100:], sample_weight=w[100:])
    assert value(m) == pytest.approx(rank_auc(y, p, w), abs=2e-4)


def curve_counts(y, p, w, num_thresholds):
    t = [-1e-7] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + 1e-7]
    tp, fp, fn = counts(y, np.clip(p, 0, 1), w, t)
    tn = np.sum(np.broadcast_to(1.0 if w is None else w, y.shape) * (y == 0)) - fp
    return tp, fp, fn, tn


@pytest.mark.parametrize("curve,summation", [
    ("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
    ("PR", "minoring"), ("PR", "majoring")])
def test_auc_riemann_sums_match_numpy(curve, summation):
    """Keras's AUC.result: x = fpr (ROC) or recall (PR), y = recall or precision,
    area = sum((x_i - x_{i+1}) * h_i), h the mean/min/max of the two heights."""
    y, p = binary_data(40)
    tp, fp, fn, tn = curve_counts(y, p, None, 13)
    recall = tp / np.maximum(tp + fn, 1e-300)
    if curve == "ROC":
        x, h = fp / (fp + tn), recall
    else:
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
        x, h = recall, precision
    pick = {"interpolation": lambda a, b: (a + b) / 2, "minoring": np.minimum,
            "majoring": np.maximum}[summation]
    expected = np.sum((x[:-1] - x[1:]) * pick(h[:-1], h[1:]))
    m = metrics.AUC(num_thresholds=13, curve=curve, summation_method=summation)
    m.update_state(y, p)
    assert value(m) == pytest.approx(expected, rel=1e-5)


def test_pr_auc_interpolation_as_davis_and_goadrich():
    """Keras's interpolate_pr_auc: between two points precision follows
    tp = a + s * p (p = tp + fp); the area of a step is s * (dtp + a * ln(p_i / p_{i+1})) / P."""
    y, p = binary_data(50)
    w = RNG.random(50)
    tp, fp, fn, _ = curve_counts(y, p, w, 7)
    total = 0.0
    for i in range(6):
        dtp, dp = tp[i] - tp[i + 1], (tp[i] + fp[i]) - (tp[i + 1] + fp[i + 1])
        slope = dtp / dp if dp > 0 else 0.0
        intercept = tp[i + 1] - slope * (tp[i + 1] + fp[i + 1])
        hi, lo = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
        ratio = hi / lo if hi > 0 and lo > 0 else 1.0
        if tp[i + 1] + fn[i + 1] > 0:
            total += slope * (dtp + intercept * np.log(ratio)) / (tp[i + 1] + fn[i + 1])
    m = metrics.AUC(num_thresholds=7, curve="PR")
    m.update_state(y, p, sample_weight=w)
    assert value(m) == pytest.approx(total, rel=1e-5)


def test_auc_buckets_equal_the_direct_count_on_threshold_edges():
    """Predictions exactly on thresholds (0, 0.25, 1, ...): the bucketed count (p > t)
    equals counting each threshold directly; your own thresholds take the direct way."""
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0], dtype=np.float32)
    p = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.25, 1.0, 0.0], dtype=np.float32)
    m = metrics.AUC(num_thresholds=5)
    m.update_state(y, p)
    tp, fp, fn, tn = curve_counts(y, p, None, 5)
    assert list(tp) == [4, 2, 1, 1, 0]  # p > -1e-7, > 0.25, > 0.5, > 0.75, > 1 + 1e-7
    np.testing.assert_array_equal(m.true_positives.numpy(), tp)
    np.testing.assert_array_equal(m.false_positives.numpy(), fp)
    np.testing.assert_array_equal(m.false_negatives.numpy(), fn)
    np.testing.assert_array_equal(m.true_negatives.numpy(), tn)
    own = metrics.AUC(thresholds=[0.25, 0.5, 0.75])  # evenly spread: the same buckets
    own.update_state(y, p)
    assert value(own) == pytest.approx(value(m))
    uneven = metrics.AUC(thresholds=[0.1, 0.6])
    uneven.update_state(y, p)
    tp, fp, fn = counts(y, p, None, [-1e-7, 0.1, 0.6, 1 + 1e-7])
    np.testing.assert_array_equal(uneven.true_positives.numpy(), tp)
    assert uneven.thresholds == pytest.approx([-1e-7, 0.1, 0.6, 1 + 1e-7])


def test_auc_from_logits_clips_and_refuses_bad_arguments():
    y, p = binary_data(30)
    logits = np.log(p / (1 - p))
    a, b = metrics.AUC(), metrics.AUC(from_logits=True)
    a.update_state(y, p)
    b.update_state(y, logits)
    assert value(b) == pytest.approx(value(a), abs=1e-6)
    outside = metrics.AUC()
    outside.update_state([1, 0], [1.5, -0.5])  # clipped to [0, 1] as in Keras
    assert value(outside) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="label_weights must be non-negative"):
        metrics.AUC(multi_label=True, label_weights=[-1.0])
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 1"):
        metrics.AUC(num_thresholds=1)


# --- regression and cross-entropy ---------------------------------------------------------
def test_regression_errors_over_batches_with_weights():
    y1, p1 = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    y2, p2 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    w1, w2 = RNG.random(6), RNG.random(4)
    y, p, w = np.vstack([y1, y2]), np.vstack([p1, p2]), np.concatenate([w1, w2])
    per_sample = {
        metrics.MeanSquaredError: np.mean((p - y) ** 2, axis=1),
        metrics.MeanAbsoluteError: np.mean(np.abs(p - y), axis=1),
        # Keras: 100 * mean(|y - p| / max(|y|, 1e-7))
        metrics.MeanAbsolutePercentageError: 100 * np.mean(np.abs(y - p) / np.abs(y), axis=1),
    }
    for cls, values in per_sample.items():
        m = cls()
        m.update_state(y1, p1, sample_weight=w1)
        m.update_state(y2, p2, sample_weight=w2[:, None])
        assert value(m) == pytest.approx(np.sum(values * w) / np.sum(w), rel=1e-5), cls
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y1, p1, sample_weight=w1)
    rmse.update_state(y2, p2, sample_weight=w2)
    # Keras: the squared errors element by element, each weighted by its row's weight
    expected = np.sqrt(np.sum((p - y) ** 2 * w[:, None]) / (3 * np.sum(w)))
    assert value(rmse) == pytest.approx(expected, rel=1e-5)


def test_one_dimensional_targets_and_predictions_as_keras_2_counts_them():
    """(N,) and (N, 1) meet as (N,) (squeeze_or_expand); then mean_squared_error
    averages the batch into one value, which Keras 2 counts once per update."""
    m = metrics.MeanSquaredError()
    m.update_state([0.0, 0.0, 0.0], [[1.0], [1.0], [1.0]])  # batch mean 1
    m.update_state([0.0], [3.0])                            # batch mean 9
    assert value(m) == pytest.approx((1 + 9) / 2)
    columns = metrics.MeanSquaredError()  # with a last axis, each sample counts
    columns.update_state([[0.0], [0.0], [0.0]], [[1.0], [1.0], [1.0]])
    columns.update_state([[0.0]], [[3.0]])
    assert value(columns) == pytest.approx((3 + 9) / 4)
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        metrics.MeanSquaredError().update_state([0.0, 1.0], [1.0, 1.0], sample_weight=[1, 2])


def test_crossentropies_follow_keras_2_backend_formulas():
    """backend.binary_crossentropy: p clipped to [1e-7, 1 - 1e-7], then
    -(z log(p + 1e-7) + (1 - z) log(1 - p + 1e-7)); categorical: p / sum(p), clipped,
    -sum(z log p); sparse: -log of the clipped p renormalised (log_softmax of log p)."""
    eps = 1e-7
    z = RNG.integers(0, 2, (5, 2)).astype(np.float64)
    p = np.clip(RNG.random((5, 2)), 0.01, 0.99)
    p[0, 0] = 1.0
    smooth = z * 0.8 + 0.5 * 0.2
    pc = np.clip(p, eps, 1 - eps)
    bce = -(smooth * np.log(pc + eps) + (1 - smooth) * np.log(1 - pc + eps)).mean(axis=1)
    m = metrics.BinaryCrossentropy(label_smoothing=0.2)
    m.update_state(z, p)
    assert value(m) == pytest.approx(bce.mean(), rel=1e-5)
    x = RNG.normal(size=(5, 2)) * 3
    logit_bce = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean(axis=1)
    m = metrics.BinaryCrossentropy(from_logits=True)
    m.update_state(z, x)
    assert value(m) == pytest.approx(logit_bce.mean(), rel=1e-5)

    labels = RNG.integers(0, 3, 6)
    probs = RNG.random((6, 3)) + 0.05
    onehot = np.eye(3)[labels]
    normal = probs / probs.sum(1, keepdims=True)
    cce = -np.log(np.clip(normal, eps, 1 - eps))[np.arange(6), labels]
    m = metrics.CategoricalCrossentropy()
    m.update_state(onehot, probs)
    assert value(m) == pytest.approx(cce.mean(), rel=1e-5)
    soft = onehot * 0.7 + 0.3 / 3
    m = metrics.CategoricalCrossentropy(label_smoothing=0.3)
    m.update_state(onehot, probs)
    assert value(m) == pytest.approx(
        np.mean(-np.sum(soft * np.log(np.clip(normal, eps, 1 - eps)), 1)), rel=1e-5)
    clipped = np.clip(probs, eps, 1 - eps)  # sparse: clip first, then renormalise
    scce = -np.log(clipped[np.arange(6), labels] / clipped.sum(1))
    s = metrics.SparseCategoricalCrossentropy()
    s.update_state(labels[:, None], probs, sample_weight=np.arange(6.0))
    assert value(s) == pytest.approx(np.sum(scce * np.arange(6)) / 15, rel=1e-5)
    logits = RNG.normal(size=(6, 3))
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    s = metrics.SparseCategoricalCrossentropy(from_logits=True)
    s.update_state(labels, logits)
    assert value(s) == pytest.approx(-np.mean(log_softmax[np.arange(6), labels]), rel=1e-5)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        s.update_state([3], logits[:1])


# --- names for compile -------------------------------------------------------------------
def test_get_resolves_class_names_and_keras_3_spellings():
    auc = metrics.get("AUC")
    assert isinstance(auc, metrics.AUC) and auc.name == "auc"
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert metrics.get("precision").name == "precision"
    assert metrics.get("Recall").name == "recall"
    assert metrics.get("RootMeanSquaredError").name == "root_mean_squared_error"
    assert metrics.get("mape") is metrics.mean_absolute_percentage_error
    assert metrics.get("top_k_categorical_accuracy") is metrics.top_k_categorical_accuracy
    assert metrics.get("ce") == "ce"
    restored = metrics.get({"class_name": "Precision", "config": {"name": "p", "thresholds": 0.3}})
    assert restored.name == "p" and restored.thresholds == [0.3]
    with pytest.raises(ValueError, match="Did you mean 'auc'"):
        metrics.get("AUCC")
