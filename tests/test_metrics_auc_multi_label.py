"""AUC(multi_label=True, num_labels=, label_weights=) (Keras 2): one curve per
label (column), their mean or weighted mean; and label_weights with
multi_label=False.  Expected figures marked "tf_keras" were printed by tf_keras
2.21 running the same snippet (20 rows of 3 labels, the second 10 weighted)."""

import numpy as np
import pytest

import minidl
from minidl import layers, metrics

RNG = np.random.default_rng(0)
Y = (RNG.random((20, 3)) > 0.5).astype("float32")
P = RNG.random((20, 3)).astype("float32")
W = RNG.random(20).astype("float32")

CASES = [  # tf_keras
    ({"multi_label": True}, 0.525143563747406),
    ({"multi_label": True, "num_labels": 3}, 0.525143563747406),
    ({"multi_label": True, "label_weights": [1, 2, 0.5]}, 0.5093494653701782),
    ({"multi_label": True, "curve": "PR"}, 0.586247980594635),
    ({"multi_label": True, "curve": "PR", "summation_method": "minoring"}, 0.49229875206947327),
    ({"multi_label": True, "num_thresholds": 7}, 0.5277807712554932),
    ({"multi_label": True, "thresholds": [0.3, 0.5, 0.8]}, 0.5304737091064453),
    ({"multi_label": False, "label_weights": [1, 2, 0.5]}, 0.5206078886985779),
    ({"multi_label": True, "from_logits": True}, 0.5257354974746704),
]


@pytest.mark.parametrize("options,expected", CASES, ids=[str(o) for o, _ in CASES])
def test_values_match_tf_keras(options, expected):
    auc = metrics.AUC(**options)
    auc.update_state(Y[:10], P[:10])
    auc.update_state(Y[10:], P[10:], sample_weight=W[10:])
    assert float(auc.result()) == pytest.approx(expected, rel=1e-6, abs=1e-7)
    rows = auc.num_thresholds
    assert auc.true_positives.shape == ((rows, 3) if options["multi_label"] else (rows,))


def test_each_label_is_its_own_curve():
    auc = metrics.AUC(multi_label=True)
    auc.update_state(Y, P)
    each = []
    for j in range(3):
        one = metrics.AUC()
        one.update_state(Y[:, j], P[:, j])
        each.append(float(one.result()))
        np.testing.assert_array_equal(auc.true_positives.data[:, j], one.true_positives.data)
    assert float(auc.result()) == pytest.approx(np.mean(each), rel=1e-6)
    no_positives = Y.copy()
    no_positives[:, 1] = 0
    auc = metrics.AUC(multi_label=True)
    auc.update_state(no_positives, P)
    assert float(auc.result()) == pytest.approx(0.4084511995315552, rel=1e-6)  # tf_keras
    auc.reset_state()
    assert auc.true_positives.shape == (200, 3) and not auc.true_positives.data.any()


def test_bad_arguments_and_shapes_are_refused():
    with pytest.raises(ValueError, match="num_labels must be a positive integer"):
        metrics.AUC(multi_label=True, num_labels=0)
    with pytest.raises(ValueError, match="give it with multi_label=True"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="label_weights must be non-negative"):
        metrics.AUC(multi_label=True, label_weights=[1, -1])
    with pytest.raises(ValueError, match="2 label_weights for num_labels=3"):
        metrics.AUC(multi_label=True, num_labels=3, label_weights=[1, 2])
    auc = metrics.AUC(multi_label=True, num_labels=3)
    with pytest.raises(ValueError, match="predictions with 2 labels"):
        auc.update_state(Y[:, :2], P[:, :2])
    with pytest.raises(ValueError, match=r"shape \(samples, labels\), received shape \(20,\)"):
        metrics.AUC(multi_label=True).update_state(Y[:, 0], P[:, 0])
    with pytest.raises(ValueError, match="2 label_weights for predictions with 3 labels"):
        metrics.AUC(label_weights=[1, 2]).update_state(Y, P)


def test_config_round_trip():
    auc = metrics.AUC(multi_label=True, num_labels=3, label_weights=[1, 2, 0.5], name="auc_ml")
    config = auc.get_config()
    assert config["multi_label"] is True and config["num_labels"] == 3
    assert config["label_weights"] == [1.0, 2.0, 0.5]
    again = metrics.AUC.from_config(config)
    assert again.get_config() == config
    lazy = metrics.AUC(multi_label=True)
    lazy.update_state(Y, P)
    assert lazy.get_config()["num_labels"] is None  # as tf_keras: the argument, not the count
    assert float(metrics.AUC(multi_label=True).result()) == 0.0  # nothing seen yet


def test_in_compile_for_a_multi_label_model():
    layers.reset_names()
    minidl.utils.set_random_seed(0)
    x = RNG.random((20, 4)).astype("float32")
    net = minidl.Sequential([layers.Dense(3, activation="sigmoid", input_shape=(4,))])
    net.compile("sgd", "binary_crossentropy", metrics=[metrics.AUC(multi_label=True, name="auc")])
    logs = net.evaluate(x, Y, batch_size=8, verbose=0, return_dict=True)
    auc = metrics.AUC(multi_label=True)
    auc.update_state(Y, net.predict(x, verbose=0))
    assert logs["auc"] == pytest.approx(float(auc.result()), rel=1e-6)
