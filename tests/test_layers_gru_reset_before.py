"""GRU(reset_after=False) -- Keras 1's GRU -- against tf_keras 2.21.

``fixtures/gru_reset_before/outputs.json`` holds tf_keras's outputs and gradients
with the same weights (how, in ``make_fixtures.py`` there), ``model.h5`` a Keras 2
model file with two such layers.  PyTorch has no GRU of this form: tf_keras and
float64 gradient checks (``test_layers_recurrent.py``'s OPS table) are the oracles.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import _kernels, layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "gru_reset_before"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
MASK = np.array([[0, 1, 1, 0], [1, 1, 0, 1]], bool)
CASES = {
    "plain": ({}, {}), "backwards": ({"go_backwards": True}, {}),
    "masked": ({}, {"mask": MASK}), "initial": ({}, {"initial_state": "h0"}),
    "relu-hard_sigmoid": ({"activation": "relu", "recurrent_activation": "hard_sigmoid"}, {}),
    "no-bias": ({"use_bias": False}, {}),
    "masked-backwards-initial": ({"go_backwards": True}, {"mask": MASK, "initial_state": "h0"}),
}


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def gru(dtype="float32", **kwargs):
    layer = layers.GRU(2, reset_after=False, return_sequences=True, return_state=True,
                       dtype=dtype, **kwargs)
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


@pytest.fixture(params=["compiled", "reference"])
def backend(request):
    previous = _kernels.backend_name()
    _kernels.use(request.param)
    yield request.param
    _kernels.use(previous)


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_match_tf_keras(case, backend):
    options, call = CASES[case]
    if call.get("initial_state") == "h0":
        call = {**call, "initial_state": values(2, [(2, 2)])}
    results = gru(**options)(values(0, [(2, 4, 3)])[0], **call)
    assert len(results) == 2 == len(KERAS[case])
    for result, expected in zip(results, KERAS[case]):
        np.testing.assert_allclose(result.data, np.array(expected), atol=2e-6)


def test_gradients_match_tf_keras():
    """d/d(x, kernel, recurrent_kernel, bias, h0) of sum(outputs * weights), masked."""
    layer = gru("float64")
    x = Tensor(values(0, [(2, 4, 3)], np.float64)[0], requires_grad=True)
    h0 = Tensor(values(2, [(2, 2)], np.float64)[0], requires_grad=True)
    results = layer(x, mask=MASK, initial_state=[h0])
    weights = values(3, [r.shape for r in results], np.float64)
    sum((r * Tensor(w)).sum() for r, w in zip(results, weights)).backward()
    ours = [x.grad, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad, h0.grad]
    for mine, expected in zip(ours, KERAS["gradients"], strict=True):
        np.testing.assert_allclose(mine, np.array(expected), atol=2e-6)


def test_stateful_matches_tf_keras():
    layer = layers.GRU(2, reset_after=False, return_sequences=True, stateful=True,
                       batch_input_shape=(2, 2, 3))
    layer.build((2, 2, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    x = values(0, [(2, 4, 3)])[0]
    for result, expected in zip([layer(x[:, :2]), layer(x[:, 2:])], KERAS["stateful"]):
        np.testing.assert_allclose(result.data, np.array(expected), atol=2e-6)


def test_bidirectional_matches_tf_keras(tmp_path):
    layer = layers.Bidirectional(layers.GRU(3, reset_after=False, return_sequences=True))
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    assert [w.shape for w in layer.get_weights()] == [(3, 9), (3, 9), (9,)] * 2
    x = values(0, [(2, 4, 3)])[0]
    np.testing.assert_allclose(layer(x, mask=MASK).data, np.array(KERAS["bidirectional"][0]),
                               atol=2e-6)
    model = minidl.Sequential([minidl.Input((4, 3)), layer])
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "bi.mdl")
    loaded = load_model(tmp_path / "bi.mdl")
    assert loaded.layers[0].forward_layer.reset_after is False
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_weights_parameters_and_summary_as_keras(capsys):
    layers.reset_names()
    model = minidl.Sequential([layers.GRU(8, reset_after=False, input_shape=(10, 16))])
    assert [[list(w.shape), w.name.split("/")[-1].split(":")[0]] for w in model.weights] == [
        [shape, name.split("/")[-1].split(":")[0]] for shape, name in KERAS["weights"]]
    assert model.count_params() == KERAS["params"] == 600  # 3 * (16*8 + 8*8 + 8)
    model.summary()
    assert "gru (GRU)                   (None, 8)                 600" in capsys.readouterr().out


def test_config_as_keras_round_trip_and_save_load(tmp_path):
    config = layers.GRU(3, reset_after=False).get_config()
    config.pop("name")
    assert list(config) == list(KERAS["config"])
    assert config["reset_after"] is False and config["implementation"] == 2
    layer = layers.GRU(4, reset_after=False, return_sequences=True, go_backwards=True,
                       dropout=0.1, recurrent_dropout=0.2, activation="relu",
                       recurrent_activation="hard_sigmoid", input_shape=(5, 3))
    config = layer.get_config()
    assert layers.GRU.from_config(config).get_config() == config
    model = minidl.Sequential([layer, layers.GRU(2, reset_after=False)])
    x = values(3, [(2, 5, 3)])[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "gru.mdl")
    loaded = load_model(tmp_path / "gru.mdl")
    assert loaded.layers[0].get_config() == config
    assert loaded.layers[1].bias.shape == (6,)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_reads_a_keras_2_h5_file():
    pytest.importorskip("h5py")
    model = load_model(FIXTURES / "model.h5")
    assert [layer.reset_after for layer in model.layers[:2]] == [False, False]
    data = np.load(FIXTURES / "model.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=2e-6)


def test_weights_of_the_other_form_are_refused_by_shape():
    """reset_after=False has one bias (3U,); Keras 2's default form's (2, 3U) is refused."""
    layer = layers.GRU(2, reset_after=False)
    layer.build((None, 4, 3))
    other = layers.GRU(2)
    other.build((None, 4, 3))
    with pytest.raises(ValueError, match=r"\(6,\)|\(2, 6\)"):
        layer.set_weights(other.get_weights())
    with pytest.raises(ValueError, match=r"bias must have shape \(6,\)"):
        ops.gru_reset_before(np.zeros((1, 4, 3), np.float32), layer.kernel, layer.recurrent_kernel,
                             np.zeros((2, 6), np.float32))


def test_dropout_only_while_training_and_it_trains():
    minidl.utils.set_random_seed(0)
    layer = layers.GRU(4, reset_after=False, dropout=0.5, recurrent_dropout=0.5)
    x = values(6, [(3, 5, 2)])[0]
    inference = layer(x).data
    np.testing.assert_array_equal(layer(x, training=False).data, inference)
    assert not np.allclose(layer(x, training=True).data, inference)

    minidl.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = minidl.Sequential([layers.GRU(16, reset_after=False, input_shape=(8, 1)),
                               layers.Dense(1, "sigmoid")])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
