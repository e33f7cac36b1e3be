"""Keras 2's RNN API around the recurrent layers, against tf_keras 2.21: Bidirectional
around any RNN layer (built-in, custom, stacked and AbstractRNNCell cells), unroll
with an unknown number of timesteps, AbstractRNNCell, and the layers' configs.

``fixtures/rnn_api/outputs.json`` is written by ``fixtures/rnn_api/make_fixtures.py``
(its docstring says what each entry holds); a case's layer is made by the same
expression, run here with minidl's layers and the two custom cells below.
"""

import json
import pathlib
import re

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.layers.nest import flatten as flatten_states
from minidl.models import load_model
from minidl.regularizers import L2
from minidl.tensor import Tensor
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "rnn_api" /
                    "outputs.json").read_text())
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
L = layers
matmul = ops.matmul


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


class MinimalRNNCell(layers.Layer):
    """The RNN API page's custom cell."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = matmul(inputs, self.kernel) + matmul(states[0], self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class AbstractCell(layers.AbstractRNNCell):
    """AbstractRNNCell's docstring example (tanh added; no output_size, as there)."""

    def __init__(self, units, **kwargs):
        self.units = units
        super().__init__(**kwargs)

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")
        super().build(input_shape)

    def call(self, inputs, states):
        output = ops.tanh(matmul(inputs, self.kernel) + matmul(states[0], self.recurrent_kernel))
        return output, output

    def get_config(self):
        return {**super().get_config(), "units": self.units}


CUSTOM = {"MinimalRNNCell": MinimalRNNCell, "AbstractCell": AbstractCell}


def make(expression):
    return eval(expression, {"L": layers, "L2": L2, **CUSTOM})


def plain_name(name):
    """A weight's name without the wrapper's scope and the names' counters."""
    return re.sub(r"_\d+(?=/|$)", "", name.split("/", 1)[1] if name.startswith(
        "bidirectional") else name)


def built(case, dtype=np.float32):
    layer = make(KERAS["bidirectional"][case]["expression"])
    how = KERAS["bidirectional"][case]["how"]
    layer.build((4, None, 3) if how.get("time_major") else (2, None, 3) if how.get(
        "stateful") else (None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], dtype))
    return layer


def flat(results):
    """Outputs (a stack of cells nests its states, as Keras) as a flat list of arrays."""
    if isinstance(results, (list, tuple)):
        return [array for r in results for array in flat(r)]
    return [np.asarray(getattr(results, "data", results))]


# --- Bidirectional around any RNN layer ------------------------------------------------
@pytest.mark.parametrize("case", sorted(KERAS["bidirectional"]))
def test_bidirectional_of_rnn_layers_matches_keras(case):
    expected = KERAS["bidirectional"][case]
    how = expected["how"]
    layers.reset_names()
    layer = built(case)
    assert [[plain_name(w.name), list(w.shape)] for w in layer.weights] == [
        [plain_name(name), shape] for name, shape in expected["weights"]]
    x = values(0, [(2, 4, 3)])[0]
    if how.get("time_major"):
        x = x.transpose(1, 0, 2)
    kwargs = {"mask": MASK} if how.get("mask") else {}
    if how.get("initial"):
        kwargs["initial_state"] = values(2, [(2, 3)] * 4)
    if how.get("stateful"):
        outputs = flat(layer(x[:, :2])) + flat(layer(x[:, 2:]))
        outputs += flat(layer.forward_layer.states) + flat(layer.backward_layer.states)
    else:
        outputs = flat(layer(x, **kwargs))
    assert len(outputs) == len(expected["outputs"])
    for got, wanted in zip(outputs, expected["outputs"]):
        np.testing.assert_allclose(got, np.array(wanted), atol=2e-6)


def test_bidirectional_of_stacked_cells_gradients_match_keras():
    layer = built("stacked")
    x = Tensor(values(0, [(2, 4, 3)])[0], requires_grad=True)
    results = flatten_states(layer(x, mask=MASK))  # (states nested per cell, as Keras)
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    for got, wanted in zip([x.grad, *[w.grad for w in layer.weights]], KERAS["gradients"]):
        np.testing.assert_allclose(got, np.array(wanted), atol=1e-5)


@pytest.mark.parametrize("expression", [
    "L.Bidirectional(L.RNN(MinimalRNNCell(2, dtype='float64'), go_backwards=True, "
    "return_sequences=True), merge_mode='sum')",
    "L.Bidirectional(L.RNN(AbstractCell(2, dtype='float64'), return_sequences=True), "
    "merge_mode='mul')",
    "L.Bidirectional(L.RNN([L.LSTMCell(3, dtype='float64'), L.GRUCell(2, dtype='float64')], "
    "return_sequences=True, return_state=True), merge_mode=None)"])
def test_bidirectional_gradcheck_float64(expression):
    """The outputs (and states) against central differences in x, masked."""
    layer = make(expression)
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()], np.float64))

    def fn(x):
        results = flatten_states(layer(x, mask=MASK))
        return ops.concatenate([ops.reshape(r, (-1,)) for r in results], axis=0)

    assert gradcheck(fn, [values(0, [(2, 4, 3)], np.float64)[0]])


@pytest.mark.parametrize("case", ["stacked", "minimal-backwards", "backward-layer", "abstract"])
def test_bidirectional_of_rnn_layers_config_save_and_load(case, tmp_path):
    layer = built(case)
    config = layer.get_config()
    with minidl.utils.custom_object_scope(CUSTOM):
        again = layers.Bidirectional.from_config(config)
    assert again.get_config() == config
    x = values(0, [(2, 4, 3)])[0]
    inputs = minidl.Input((4, 3))
    model = minidl.Model(inputs, flatten_states(layer(layers.Masking(0.5)(inputs))))
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl", custom_objects=CUSTOM)
    for got, wanted in zip(flat(loaded.predict(x, verbose=0)), flat(expected)):
        np.testing.assert_array_equal(got, wanted)
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]


def test_bidirectional_of_an_abstract_cell_trains_with_fit(capsys):
    layers.reset_names()
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([
        minidl.Input((4, 3)),
        layers.Bidirectional(layers.RNN(AbstractCell(4), return_sequences=True)),
        layers.Bidirectional(layers.RNN(AbstractCell(3))),
        layers.Dense(1)])
    model.summary()  # tf_keras 2.21's rows
    rows = capsys.readouterr().out
    assert " bidirectional (Bidirection  (None, 4, 8)              56" in rows
    assert " bidirectional_1 (Bidirecti  (None, 6)                 66" in rows
    assert "Total params: 129" in rows
    x = values(4, [(32, 4, 3)])[0]
    y = x.sum(axis=(1, 2))[:, None] / 4
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_bidirectional_summary_counts_as_keras(capsys):
    layers.reset_names()
    model = minidl.Sequential([layers.Bidirectional(layers.RNN(layers.LSTMCell(3)),
                                                    input_shape=(4, 2))])
    model.summary()
    assert "bidirectional (Bidirection  (None, 6)                 144" in capsys.readouterr().out
    assert [w.name for w in model.weights] == [
        f"bidirectional/{d}_rnn/lstm_cell/{w}" for d in ("forward", "backward")
        for w in ("kernel", "recurrent_kernel", "bias")]


def test_bidirectional_refuses_what_is_not_a_recurrent_layer_and_changes_nothing():
    cell = layers.LSTMCell(3)
    for layer, message in [(layers.Dense(3), "must be a recurrent layer"),
                           (cell, r"wrap it in layers.RNN\(cell\)"),
                           ("lstm", "must be a recurrent layer")]:
        with pytest.raises(ValueError, match=message):
            layers.Bidirectional(layer)
    assert not cell.built
    with pytest.raises(ValueError, match="backward_layer must be a recurrent layer"):
        layers.Bidirectional(layers.RNN(cell), backward_layer=layers.SimpleRNNCell(2))
    with pytest.raises(ValueError, match="read the other way"):
        layers.Bidirectional(layers.RNN(cell), backward_layer=layers.RNN(layers.GRUCell(2)))


# --- unroll --------------------------------------------------------------------------
@pytest.mark.parametrize("make_layer", [
    lambda: layers.LSTM(3, unroll=True), lambda: layers.GRU(3, unroll=True),
    lambda: layers.SimpleRNN(3, unroll=True),
    lambda: layers.RNN(layers.LSTMCell(3), unroll=True),
    lambda: layers.Bidirectional(layers.LSTM(3, unroll=True))])
def test_unroll_needs_a_known_number_of_timesteps(make_layer):
    """As tf_keras 2.21: a ValueError when the layer meets an unknown number of steps
    ("Unrolling requires a fixed number of timesteps." / "Cannot unroll a RNN if the
    time dimension is undefined."); with known steps the same results as unroll=False."""
    layer = make_layer()
    with pytest.raises(ValueError, match="cannot unroll a RNN if the time dimension is "
                                         r"undefined.*received input shape \(None, None, 3\)"):
        layer(minidl.Input((None, 3)))
    assert not layer.built and not layer.weights  # refused: nothing made
    with pytest.raises(ValueError, match="cannot unroll"):
        minidl.Sequential([minidl.Input((None, 3)), make_layer()])
    assert layer(minidl.Input((5, 3))).shape[-1] in (3, 6)
    x = values(5, [(2, 5, 3)])[0]
    if isinstance(layer, layers.Bidirectional):
        rolled = layers.Bidirectional(layers.LSTM(3))
    else:
        rolled = type(layer).from_config({**layer.get_config(), "unroll": False})
    rolled.build((None, 5, 3))
    rolled.set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer(x).data, rolled(x).data)


def test_unroll_time_major_reads_the_first_axis():
    layer = layers.GRU(2, unroll=True, time_major=True)
    assert layer(minidl.Input((None, 3), batch_size=4)).shape == (None, 2)
    with pytest.raises(ValueError, match="cannot unroll"):
        layers.GRU(2, unroll=True, time_major=True).build((None, 2, 3))


# --- AbstractRNNCell ----------------------------------------------------------------
def test_abstract_rnn_cell_contract_and_zero_states():
    cell = AbstractCell(3)
    with pytest.raises(NotImplementedError, match="must define the property output_size"):
        cell.output_size
    state = cell.get_initial_state(batch_size=2, dtype="float64")
    assert isinstance(state, Tensor) and state.shape == (2, 3) and state.dtype == np.float64
    assert not state.data.any()

    class TwoStates(layers.AbstractRNNCell):
        state_size = property(lambda self: [3, 2])
        output_size = property(lambda self: 3)

    states = TwoStates().get_initial_state(inputs=Tensor(np.ones((4, 5), np.float32)))
    assert [s.shape for s in states] == [(4, 3), (4, 2)]
    bare = layers.AbstractRNNCell()
    for attribute in ("state_size", "output_size"):
        with pytest.raises(NotImplementedError, match=f"define the property {attribute}"):
            getattr(bare, attribute)
    with pytest.raises(NotImplementedError, match="state_size"):
        layers.RNN(bare)
    with pytest.raises(NotImplementedError, match=r"call\(inputs, states\)"):
        bare.call(np.ones((1, 2)), [np.zeros((1, 2))])
    assert minidl.keras.layers.AbstractRNNCell is layers.AbstractRNNCell


# --- configs -------------------------------------------------------------------------
def rounded(value):
    """A config with floats to 6 digits (Keras keeps L1(0.01) as float32's 0.0099999998)."""
    if isinstance(value, dict):
        return {key: rounded(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return float(f"{value:.6g}") if isinstance(value, float) else value


def keras_config(name):
    config = json.loads(json.dumps(KERAS["configs"][name]["config"]))  # (a copy)
    return config


def older_form(config):
    """minidl's configs before Keras 2's "module" and "registered_name" keys."""
    if isinstance(config, dict):
        return {key: older_form(value) for key, value in config.items()
                if key not in ("module", "registered_name")}
    return [older_form(v) for v in config] if isinstance(config, list) else config


@pytest.mark.parametrize("name", sorted(KERAS["configs"]))
def test_configs_are_tf_keras_configs(name):
    layer = make(KERAS["configs"][name]["expression"])
    config = json.loads(json.dumps(layer.get_config()))
    assert rounded(config) == rounded(keras_config(name))
    assert list(config) == list(keras_config(name))  # in Keras's order too
    for given in (keras_config(name), older_form(config)):  # exchanged either way
        again = type(layer).from_config(json.loads(json.dumps(given)))
        assert rounded(json.loads(json.dumps(again.get_config()))) == rounded(config)


def test_a_registered_cell_is_named_as_keras_names_it(tmp_path):
    @minidl.utils.register_keras_serializable(package="rnn_api")
    class RegisteredCell(MinimalRNNCell):
        pass

    layer = layers.Bidirectional(layers.RNN(RegisteredCell(2), name="rnn"))
    cell = layer.get_config()["layer"]["config"]["cell"]
    assert {key: cell[key] for key in ("module", "class_name", "registered_name")} == {
        "module": None, "class_name": "RegisteredCell",
        "registered_name": "rnn_api>RegisteredCell"}  # as tf_keras 2.21
    again = layers.Bidirectional.from_config(layer.get_config())
    assert type(again.forward_layer.cell) is RegisteredCell
    older = layers.Bidirectional.from_config(older_form(layer.get_config()) | {
        "layer": {"class_name": "RNN", "config": {**older_form(layer.get_config())["layer"][
            "config"], "cell": {"class_name": "rnn_api>RegisteredCell",
                                "config": cell["config"]}}}})
    assert type(older.backward_layer.cell) is RegisteredCell


def test_keras_function_regularizer_form_is_read():
    def tiny(weights):
        return 0.0

    config = {"module": "builtins", "class_name": "function", "config": "tiny",
              "registered_name": "function"}  # tf_keras 2.21's form of your own function
    assert minidl.regularizers.deserialize(config, {"tiny": tiny}) is tiny


# --- a stateful RNN(cell): states as tf_keras 2.21 keeps them -------------------------
def test_stateful_rnn_of_stacked_cells_states_as_keras():
    layer = layers.RNN([layers.LSTMCell(2), layers.SimpleRNNCell(1)], stateful=True)
    layer.build((2, None, 2))  # zeros from build on, nested as state_size
    assert [np.shape(s) for s in layer.states[0]] == [(2, 2), (2, 2)]
    assert np.shape(layer.states[1]) == (2, 1) and not layer.states[1].any()
    layer.set_weights([np.full(w.shape, 0.1, "float32") for w in layer.get_weights()])
    layer(np.linspace(-1, 1, 12).reshape(2, 3, 2).astype("float32"))
    (h, c), h2 = layer.states  # tf_keras 2.21's values
    np.testing.assert_allclose(h, [[0.0093] * 2, [0.1449] * 2], atol=1e-4)
    np.testing.assert_allclose(c, [[0.0181] * 2, [0.2578] * 2], atol=1e-4)
    np.testing.assert_allclose(h2, [[0.1121], [0.1408]], atol=1e-4)
    before = [np.array(s) for s in (h, c, h2)]
    for states in ([np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 1))],  # another batch
                   [np.ones((2, 2)), np.ones((2, 1))],  # nested states, one too few
                   [np.ones((2, 2))] * 3):  # the last one too wide
        with pytest.raises(ValueError, match=r"reset_states needs 3 array\(s\)"):
            layer.reset_states(states)
        (h, c), h2 = layer.states
        for got, wanted in zip((h, c, h2), before):  # refused: nothing changed
            np.testing.assert_array_equal(got, wanted)
    with pytest.raises(ValueError, match="stateful with batch size 2, received a batch of 3"):
        layer(np.ones((3, 3, 2), "float32"))
    layer.reset_states([[np.ones((2, 2))] * 2, np.ones((2, 1))])  # nested, as layer.states
    assert layer.states[0][1].sum() == 4 and layer.states[1].sum() == 2
    layer.reset_states()
    assert not any(np.any(s) for s in (*layer.states[0], layer.states[1]))


def test_stateful_bidirectional_of_rnn_starts_from_zeros_and_resets():
    layer = layers.Bidirectional(layers.RNN(layers.LSTMCell(2), stateful=True))
    layer.build((2, None, 2))
    assert [np.shape(s) for s in layer.forward_layer.states] == [(2, 2), (2, 2)]
    layer.reset_states([np.ones((2, 2), "float32")] * 4)
    assert all(s.sum() == 4 for s in layer.backward_layer.states)
    with pytest.raises(ValueError, match="takes a list of states"):
        layer.reset_states(np.ones((2, 2), "float32"))
    assert all(s.sum() == 4 for s in layer.backward_layer.states)
