"""The quick check of later batches from a source (models/batch_format.py): a bad
batch arriving after good ones is refused with the very message it gets when it
comes first (the full checks of data_adapter), and a batch of another format is
converted as the full checks convert it."""

import warnings

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.data import Dataset
from minidl.models import data_adapter
from minidl.models.batch_format import BatchFormat
from minidl.tensor import Tensor

RNG = np.random.default_rng(0)
X = RNG.random((64, 4)).astype(np.float32)
Y = (X[:, 0] > 0.5).astype(np.int64)
W = np.ones(64, np.float32)


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def model(loss="sparse_categorical_crossentropy", units=2, activation="softmax"):
    minidl.utils.set_random_seed(1)
    net = minidl.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                             layers.Dense(units, activation=activation)])
    net.compile("sgd", loss)
    return net


def with_nan(a, where=(3, 1)):
    a = a.copy()
    a[where] = np.nan
    return a


def changed(a, index, value):
    a = a.copy()
    a[index] = value
    return a


GOOD = (X[:16], Y[:16])
BAD = {
    "nan in x": (with_nan(X[:16]), Y[:16]),
    "inf in x": (changed(X[:16], (0, 0), np.inf), Y[:16]),
    "-inf in x": (changed(X[:16], (5, 2), -np.inf), Y[:16]),
    "x beyond float32": (changed(X[:16].astype(np.float64), (2, 3), 1e39), Y[:16]),
    "a label too large": (X[:16], changed(Y[:16], 4, 2)),
    "a negative label": (X[:16], changed(Y[:16], 4, -1)),
    "fractional labels": (X[:16], changed(Y[:16].astype(np.float32), 1, 0.5)),
    "one-hot labels": (X[:16], np.eye(2, dtype=np.float32)[Y[:16]]),
    "a sample of 3 values": (X[:16, :3], Y[:16]),
    "one sample without batch axis": (X[0], Y[:1]),
    "fewer labels than samples": (X[:16], Y[:15]),
    "an empty batch": (X[:0], Y[:0]),
    "strings": (X[:16].astype(str), Y[:16]),
    "nan in the weights": (X[:16], Y[:16], with_nan(W[:16], 7)),
}


def message(batches):
    layers.reset_names()  # the same model name in both messages
    net = model()
    with pytest.raises(ValueError) as caught:
        net.fit(iter(batches), verbose=0)
    return str(caught.value)


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_batch_after_good_ones_gets_the_message_it_gets_first(name):
    bad = BAD[name]
    good = GOOD if len(bad) == 2 else GOOD + (W[:16],)
    first = message([bad])
    later = message([good, good, bad, good])
    assert later == first
    assert "x" in later


@pytest.mark.parametrize("loss,units,activation,bad,match", [
    ("binary_crossentropy", 1, "sigmoid", (X[:8], changed(np.ones((8, 1), np.float32), 2, 2.0)),
     "binary_crossentropy expects targets in"),
    ("binary_crossentropy", 1, "sigmoid", (X[:8], with_nan(np.ones((8, 1), np.float32), (2, 0))),
     "non-finite"),
    ("categorical_crossentropy", 2, "softmax", (X[:8], with_nan(np.eye(2, dtype=np.float32)[Y[:8]])),
     "non-finite"),
    ("mse", 2, None, (X[:8], changed(np.zeros((8, 2), np.float32), (1, 1), np.inf)), "non-finite"),
])
def test_later_bad_targets_of_other_losses_are_refused(loss, units, activation, bad, match):
    good = (X[:8], np.ones((8, units), np.float32) if loss != "categorical_crossentropy"
            else np.eye(2, dtype=np.float32)[Y[:8]])
    net = model(loss, units, activation)
    with pytest.raises(ValueError, match=match):
        net.fit(iter([good, good, bad]), verbose=0)
    assert net.optimizer.iterations == 2  # the good batches trained, the bad one did not


def test_later_batches_of_another_format_train_as_the_full_checks_make_them():
    """float64, lists, Tensors, (N, 1) labels and soft binary targets after float32
    batches: converted (or used) exactly as when they come alone."""
    batches = [(X[:16], Y[:16]), (X[16:32].astype(np.float64), Y[16:32]),
               (X[32:48].tolist(), Y[32:48].reshape(-1, 1)), (Tensor(X[48:]), Y[48:].astype(np.int32))]
    fed, by_arrays = model(), model()
    fed.fit(iter(batches), verbose=0)
    by_arrays.fit(X, Y, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(fed.get_weights(), by_arrays.get_weights()):
        np.testing.assert_array_equal(a, b)

    soft = np.full((8, 1), 1.05, np.float32)  # Keras's GAN label noise: used as given
    net = model("binary_crossentropy", 1, "sigmoid")
    net.fit(iter([(X[:8], np.ones((8, 1), np.float32)), (X[8:16], soft)]), verbose=0)
    assert net.optimizer.iterations == 2


def full(net, x, y, w=None):
    return net._prepare(x, y, w)


def test_learn_keeps_only_a_format_the_full_checks_used_unchanged():
    net = model()
    specs = net._target_specs()
    x, y = X[:16], Y[:16]
    assert BatchFormat.learn(x, y, None, full(net, x, y), specs) is not None
    x64 = x.astype(np.float64)  # cast: every batch must be cast again
    assert BatchFormat.learn(x64, y, None, full(net, x64, y), specs) is None
    y2 = y.reshape(-1, 1)  # reshaped
    assert BatchFormat.learn(x, y2, None, full(net, x, y2), specs) is None
    weighted = net._prepare(x, y, None, {0: 1.0, 1: 2.0})  # class weights: made per batch
    assert BatchFormat.learn(x, y, None, weighted, specs) is None


def test_check_gives_the_full_checks_result_or_none():
    net = model()
    specs = net._target_specs()
    x, y, w = X[:16], Y[:16], W[:16]
    fmt = BatchFormat.learn(x, y, w, full(net, x, y, w), specs)
    x, y, w = X[16:40], Y[16:40], W[16:40]
    data = fmt.check(x, y, w)
    expected = full(net, x, y, w)
    assert data.counts == expected.counts
    assert all(a is b for a, b in zip(data.arrays, expected.arrays))
    assert fmt.check(X[16:40], Y[16:40], None) is None  # weights missing
    assert fmt.check(X[16:40], None, W[16:40]) is None  # targets missing
    assert fmt.check(X[16:40], Y[16:41], W[16:40]) is None  # lengths differ
    assert fmt.check(X[16:40, :3], Y[16:40], W[16:40]) is None
    assert fmt.check(np.asfortranarray(X[16:40]), Y[16:40], W[16:40]) is None
    assert fmt.check(X[16:40].astype(np.float64), Y[16:40], W[16:40]) is None
    assert fmt.check(X[16:40], Y[16:40].astype(np.int32), W[16:40]) is None
    assert fmt.check(X[16:40, None], Y[16:40], W[16:40]) is None
    assert fmt.check(X[:0], Y[:0], W[:0]) is None
    assert fmt.check(changed(X[:8], (1, 1), np.nan), Y[:8], W[:8]) is None
    assert fmt.check(X[:8], changed(Y[:8], 0, 2), W[:8]) is None
    assert fmt.check(X[:8], Y[:8], changed(W[:8], 0, np.inf)) is None


def test_all_finite():
    assert data_adapter.all_finite(X)
    for value in (np.nan, np.inf, -np.inf):
        assert not data_adapter.all_finite(changed(X, (63, 3), value))
    huge = np.full(4, 3e38, np.float32)  # finite, but the sum overflows: the exact check decides
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not data_adapter.all_finite(huge)
        assert not data_adapter.all_finite(changed(huge, 0, np.nan))
    data_adapter.check_finite(huge, "x")  # accepts it
    net = model()
    net.fit(iter([GOOD, (X[:16] * np.float32(1e38), Y[:16])]), verbose=0)  # the full checks accept
    assert net.optimizer.iterations == 2


def test_a_dataset_with_a_nan_in_a_late_batch_stops_before_it():
    x = changed(X, (50, 0), np.nan)
    net = model()
    with pytest.raises(ValueError, match=r"x contains 1 non-finite value\(s\) \(NaN first, at flat "
                                         r"index 8\)"):
        net.fit(Dataset.from_tensor_slices((x, Y)).batch(16), verbose=0)
    assert net.optimizer.iterations == 3
