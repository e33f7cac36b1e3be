"""compile(loss=...) per output: an output without a loss (None, or left out of a
dict) adds nothing to the total and may go without targets, as in Keras 2.

Figures marked "tf_keras" come from tf_keras 2.21 on the same snippet."""

import numpy as np
import pytest

import minidl
from minidl import layers

RNG = np.random.default_rng(0)
X = RNG.random((16, 3)).astype(np.float32)
Y1, Y2 = np.zeros((16, 1), np.float32), np.ones((16, 2), np.float32)


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def two_outputs():
    minidl.utils.set_random_seed(0)
    a = minidl.Input((3,))
    return minidl.Model(a, [layers.Dense(1, name="o1")(a), layers.Dense(2, name="o2")(a)])


def fit_once(model, y, **compile_args):
    model.compile("sgd", **compile_args)
    return model.fit(X, y, batch_size=16, verbose=0).history


def test_an_output_without_a_loss_is_not_trained_and_has_no_loss_log():
    model = two_outputs()
    before = model.get_weights()
    history = fit_once(model, [Y1, Y2], loss=["mse", None], metrics=["mae"])
    # tf_keras: {'loss', 'o1_loss', 'o1_mae', 'o2_mae'}
    assert list(history) == ["loss", "o1_loss", "o1_mae", "o2_mae"]
    assert history["loss"] == history["o1_loss"]
    after = model.get_weights()
    assert not np.array_equal(before[0], after[0])  # o1 trained
    np.testing.assert_array_equal(before[2], after[2])  # o2 not
    np.testing.assert_array_equal(before[3], after[3])


def test_the_total_is_the_weighted_sum_of_the_outputs_with_a_loss():
    model = two_outputs()
    history = fit_once(model, [Y1, Y2], loss=["mse", None], loss_weights=[2.0, 3.0])
    # tf_keras: E {'loss': [0.386...], 'o1_loss': [0.193...]}: loss = 2 * o1_loss
    assert list(history) == ["loss", "o1_loss"]
    assert history["loss"][0] == pytest.approx(2.0 * history["o1_loss"][0], rel=1e-6)


def test_a_dict_of_losses_leaves_the_other_outputs_out_and_their_targets_may_be_too():
    model = two_outputs()
    history = fit_once(model, {"o1": Y1}, loss={"o1": "mse"}, metrics={"o1": "mae"})
    assert list(history) == ["loss", "o1_loss", "o1_mae"]  # tf_keras
    logs = model.evaluate(X, [Y1, None], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "o1_loss", "o1_mae"}
    assert model.train_on_batch(X, {"o1": Y1})[0] > 0


def test_missing_targets_that_are_needed_are_clear_errors():
    model = two_outputs()
    model.compile("sgd", loss=["mse", None])
    with pytest.raises(ValueError, match=r"y\[0\] is None, but output 'o1' has a loss"):
        model.fit(X, [None, Y2], verbose=0)
    with pytest.raises(ValueError, match=r"no targets for outputs \['o1'\]"):
        model.fit(X, {"o2": Y2}, verbose=0)
    with pytest.raises(ValueError, match="unknown outputs"):
        model.fit(X, {"o1": Y1, "o3": Y2}, verbose=0)
    # tf_keras reports o2_mae 0.0 without targets; minidl refuses rather than log a made-up value
    model.compile("sgd", loss={"o1": "mse"}, metrics={"o2": "mae"})
    with pytest.raises(ValueError, match="'o2' has metrics"):
        model.fit(X, {"o1": Y1}, verbose=0)


def test_no_loss_anywhere_and_none_added_is_an_error():
    model = two_outputs()
    model.compile("sgd", loss=[None, None])
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(X, [Y1, Y2], verbose=0)


def test_validation_split_and_saving_keep_the_missing_targets(tmp_path):
    model = two_outputs()
    model.compile("sgd", loss={"o1": "mse"})
    history = model.fit(X, {"o1": Y1}, validation_split=0.25, epochs=2, verbose=0).history
    assert list(history) == ["loss", "o1_loss", "val_loss", "val_o1_loss"]
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    np.testing.assert_allclose(loaded.evaluate(X, {"o1": Y1}, verbose=0),
                               model.evaluate(X, {"o1": Y1}, verbose=0), rtol=1e-6)
