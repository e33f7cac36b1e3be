"""layers.RNN and the cells: outputs and gradients of tf_keras 2.21, the fused path
against the LSTM/GRU/SimpleRNN layers, custom cells, config and saving, errors.

``fixtures/rnn_cells/outputs.json`` is written by ``fixtures/rnn_cells/make_fixtures.py``
(its docstring says what each entry holds): inputs ``values(0, [(2, 4, 3)])``, weights
``values(1, ...)``, initial states ``values(2, ...)``, output gradients ``values(3, ...)``.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.layers.rnn_wrapper import _fused_op
from minidl.layers.nest import flatten as flatten_states
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "rnn_cells" /
                    "outputs.json").read_text())
MASK = np.array([[0, 1, 1, 0], [1, 1, 0, 1]], bool)
CELLS = {
    "SimpleRNNCell": lambda: layers.SimpleRNNCell(2),
    "LSTMCell": lambda: layers.LSTMCell(2),
    "GRUCell": lambda: layers.GRUCell(2),
    "GRUCell-reset_before": lambda: layers.GRUCell(2, reset_after=False),
    "LSTMCell-softsign": lambda: layers.LSTMCell(2, activation="softsign"),
}
CASES = ["plain", "backwards", "masked", "initial", "masked-backwards-initial", "zero-output"]


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def inputs():
    return values(0, [(2, 4, 3)])[0]


def looped(cell):
    """The same cell, as a subclass with its own call: RNN runs it step by step."""
    base = type(cell)

    class Looped(base):
        def call(self, inputs, states, training=None):
            return base.call(self, inputs, states, training=training)

    config = cell.get_config()
    config.pop("name")
    return Looped(**config)


def rnn(cell_name, path, **kwargs):
    cell = CELLS[cell_name]()
    if path == "loop":
        cell = looped(cell)
    layer = layers.RNN(cell, return_sequences=True, return_state=True, **kwargs)
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


def state_shapes(layer):
    return [(2, *s) for s in layer._state_shapes]


def assert_all_close(results, expected, atol=2e-6):
    assert len(results) == len(expected)
    for result, wanted in zip(results, expected):
        np.testing.assert_allclose(getattr(result, "data", result), np.array(wanted), atol=atol)


# --- tf_keras's outputs and gradients, fused and looped --------------------------
@pytest.mark.parametrize("path", ["fused", "loop"])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
@pytest.mark.parametrize("case", CASES)
def test_rnn_outputs_match_keras(cell_name, path, case):
    layer = rnn(cell_name, path, go_backwards="backwards" in case,
                zero_output_for_mask=case == "zero-output")
    fused = _fused_op(layer.cell) is not None
    assert fused == (path == "fused" and cell_name != "LSTMCell-softsign")
    kwargs = {}
    if "masked" in case or case == "zero-output":
        kwargs["mask"] = MASK
    if "initial" in case:
        kwargs["initial_state"] = values(2, state_shapes(layer))
    assert_all_close(layer(inputs(), **kwargs), KERAS[cell_name][case])


@pytest.mark.parametrize("path", ["fused", "loop"])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_rnn_gradients_match_keras(cell_name, path):
    layer = rnn(cell_name, path)
    x = Tensor(inputs(), requires_grad=True)
    states = [Tensor(s, requires_grad=True) for s in values(2, state_shapes(layer))]
    results = layer(x, mask=MASK, initial_state=states)
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    sources = [x, *layer.trainable_weights, *states]
    assert_all_close([s.grad for s in sources], KERAS[cell_name]["gradients"], atol=1e-5)


@pytest.mark.parametrize("path", ["fused", "loop"])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_stateful_rnn_matches_keras(cell_name, path):
    layer = rnn(cell_name, path, stateful=True)
    x = inputs()
    results = layer(x[:, :2]) + layer(x[:, 2:])
    assert_all_close(results, KERAS[cell_name]["stateful"])
    layer.reset_states()
    assert_all_close(layer(x[:, :2]), KERAS[cell_name]["stateful"][:len(results) // 2])


@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_one_step_of_a_cell_alone_matches_keras(cell_name):
    cell = CELLS[cell_name]()
    cell.build((None, 3))
    cell.set_weights(values(1, [w.shape for w in cell.get_weights()]))
    sizes = [cell.state_size] if isinstance(cell.state_size, int) else cell.state_size
    x = Tensor(inputs()[:, 0], requires_grad=True)
    states = [Tensor(s, requires_grad=True) for s in values(2, [(2, s) for s in sizes])]
    output, new_states = cell(x, list(states))
    assert isinstance(new_states, list)
    results = [output, *new_states]
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    expected = KERAS[cell_name]["step"]
    assert_all_close(results, expected["results"])
    assert_all_close([s.grad for s in [x, *cell.trainable_weights, *states]],
                     expected["gradients"], atol=1e-5)


def test_a_cell_given_one_state_not_in_a_list_returns_one_state():
    cell = layers.GRUCell(3)
    output, state = cell(np.ones((2, 4), np.float32), np.zeros((2, 3), np.float32))
    assert isinstance(state, Tensor) and state.shape == (2, 3)
    np.testing.assert_array_equal(output.data, state.data)


@pytest.mark.parametrize("cls, expected", [
    (layers.SimpleRNNCell, (3, 3, 1)), (layers.LSTMCell, ([3, 3], 3, 2)),
    (layers.GRUCell, (3, 3, 1))])
def test_state_size_output_size_and_initial_state(cls, expected):
    cell = cls(3)
    assert (cell.state_size, cell.output_size) == expected[:2]
    initial = cell.get_initial_state(batch_size=2, dtype="float32")
    initial = initial if isinstance(initial, list) else [initial]
    assert len(initial) == expected[2]
    assert all(s.shape == (2, 3) and not s.data.any() for s in initial)
    initial = cell.get_initial_state(inputs=np.zeros((5, 4)))  # the batch size of the inputs
    assert [s.shape for s in (initial if isinstance(initial, list) else [initial])] == [
        (5, 3)] * expected[2]


# --- RNN(cell) is the layer of the same name --------------------------------------
@pytest.mark.parametrize("cell_cls, layer_cls", [
    (layers.LSTMCell, layers.LSTM), (layers.GRUCell, layers.GRU),
    (layers.SimpleRNNCell, layers.SimpleRNN)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_rnn_of_a_builtin_cell_is_the_layer(cell_cls, layer_cls, return_sequences):
    x = Tensor(values(4, [(3, 5, 4)])[0], requires_grad=True)
    layer = layer_cls(6, return_sequences=return_sequences, go_backwards=True)
    wrapper = layers.RNN(cell_cls(6), return_sequences=return_sequences, go_backwards=True)
    expected = layer(x, mask=MASK[[0, 1, 0]].repeat(2, axis=1)[:, :5])
    wrapper.build((None, 5, 4))
    wrapper.set_weights(layer.get_weights())
    assert [w.shape for w in wrapper.get_weights()] == [w.shape for w in layer.get_weights()]
    result = wrapper(x, mask=MASK[[0, 1, 0]].repeat(2, axis=1)[:, :5])
    np.testing.assert_array_equal(result.data, expected.data)
    grad = values(5, [expected.shape])[0]
    (expected * Tensor(grad)).sum().backward()
    expected_grads = [x.grad.copy()] + [w.grad.copy() for w in layer.trainable_weights]
    x.grad = None
    (result * Tensor(grad)).sum().backward()
    for ours, theirs in zip([x.grad] + [w.grad for w in wrapper.trainable_weights],
                            expected_grads):
        np.testing.assert_array_equal(ours, theirs)


def test_dropout_only_while_training_in_both_paths():
    x = values(6, [(4, 5, 3)])[0]
    for cell in (layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.5),
                 looped(layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.5))):
        layer = layers.RNN(cell)
        inference = layer(x).data
        np.testing.assert_array_equal(layer(x, training=False).data, inference)
        assert not np.allclose(layer(x, training=True).data, inference)


# --- stacked cells, custom cells ----------------------------------------------------
def stacked_layer():
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_sequences=True,
                       return_state=True)
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


def test_stacked_cells_match_keras():
    layer = stacked_layer()
    assert isinstance(layer.cell, layers.StackedRNNCells)
    assert layer.cell.state_size == ([3, 3], 2) and layer.cell.output_size == 2
    output, (h, c), h2 = layer(inputs(), mask=MASK)  # nested per cell, as Keras
    assert_all_close([output, h, c, h2], KERAS["stacked"]["masked"])
    x = Tensor(inputs(), requires_grad=True)
    states = [Tensor(s, requires_grad=True) for s in values(2, [(2, 3), (2, 3), (2, 2)])]
    results = flatten_states(layer(x, mask=MASK, initial_state=[[states[0], states[1]],
                                                                 states[2]]))
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    sources = [x, *layer.trainable_weights, *states]
    assert_all_close([s.grad for s in sources], KERAS["stacked"]["gradients"], atol=1e-5)


def test_stacked_cells_take_nested_initial_states_from_other_layers():
    x = minidl.Input(shape=(None, 3))
    h, c, h2 = (minidl.Input(shape=(size,)) for size in (3, 3, 2))
    layer = stacked_layer()
    output, (h_out, c_out), h2_out = layer(x, initial_state=[[h, c], h2])
    model = minidl.Model([x, h, c, h2], [output, h_out, c_out, h2_out])
    states = values(2, [(2, 3), (2, 3), (2, 2)])
    expected = flatten_states(layer(inputs(), initial_state=states))
    for got, wanted in zip(model.predict([inputs(), *states], verbose=0), expected):
        np.testing.assert_allclose(got, wanted.data, atol=1e-6)


def test_stacked_cells_alone_take_nested_states():
    cells = layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)])
    initial = cells.get_initial_state(batch_size=2)
    output, (lstm_states, gru_state) = cells(np.ones((2, 5), np.float32), initial)
    assert output.shape == (2, 2) and len(lstm_states) == 2 and gru_state.shape == (2, 2)


class MinimalRNNCell(layers.Layer):
    """The guide's custom cell: output = x @ kernel + h_prev @ recurrent_kernel."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
        return output, [output]


def test_custom_cell_matches_keras():
    layer = layers.RNN(MinimalRNNCell(2), return_sequences=True, return_state=True)
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    assert_all_close(layer(inputs(), mask=MASK), KERAS["minimal"]["masked"])
    x = Tensor(inputs(), requires_grad=True)
    state = Tensor(values(2, [(2, 2)])[0], requires_grad=True)
    results = layer(x, mask=MASK, initial_state=[state])
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    sources = [x, *layer.trainable_weights, state]
    assert_all_close([s.grad for s in sources], KERAS["minimal"]["gradients"], atol=1e-5)


class RunningSumCell(layers.Layer):
    """Two states, set (as in Keras's examples) before super().__init__(): the sum of the
    inputs so far, and the count of steps; the output is their ratio (a running mean)."""

    def __init__(self, units, **kwargs):
        self.state_size = [units, 1]
        self.output_size = units
        super().__init__(**kwargs)

    def call(self, inputs, states):
        total, count = states[0] + inputs, states[1] + 1.0
        return total / count, [total, count]


def test_custom_cell_with_two_states_a_mask_and_go_backwards():
    x = values(8, [(2, 4, 3)])[0]
    layer = layers.RNN(RunningSumCell(3), return_state=True, go_backwards=True)
    mean, total, count = layer(x, mask=MASK)
    kept = x * MASK[..., None]
    np.testing.assert_allclose(total.data, kept.sum(axis=1), atol=1e-6)
    np.testing.assert_array_equal(count.data, MASK.sum(axis=1, keepdims=True))
    # the output of the last step read (step 0, backwards): kept where step 0 is masked
    np.testing.assert_allclose(mean.data, total.data / count.data, atol=1e-6)


class OnesStartCell(MinimalRNNCell):
    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return [np.ones((batch_size, self.units), dtype)]


def test_the_cells_get_initial_state_starts_the_sequence():
    """As Keras 2: without initial_state=, the states are the cell's get_initial_state."""
    layer = layers.RNN(OnesStartCell(2), return_state=True, time_major=True)
    x = values(9, [(4, 3, 5)])[0]  # (timesteps, batch, features)
    assert [s.data.tolist() for s in layer.get_initial_state(x)] == [[[1.0, 1.0]] * 3]
    output, state = layer(x)
    expected = layer(x, initial_state=[np.ones((3, 2), np.float32)])[0]
    np.testing.assert_array_equal(output.data, expected.data)


def test_a_builtin_cell_with_its_own_initial_state_runs_step_by_step():
    class HalfStart(layers.GRUCell):
        def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
            return np.full((batch_size, self.units), 0.5, dtype)

    layer = layers.RNN(HalfStart(2))
    assert _fused_op(layer.cell) is None
    x = values(9, [(3, 4, 5)])[0]
    np.testing.assert_array_equal(layer(x).data,
                                  layer(x, initial_state=np.full((3, 2), 0.5, np.float32)).data)


def test_custom_cell_trains_with_fit():
    minidl.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 6, 3)).astype(np.float32)
    y = x.sum(axis=1)[:, :1] * 0.3
    model = minidl.Sequential([layers.RNN(MinimalRNNCell(4), input_shape=(None, 3)),
                               layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_through_the_loop_of_steps(masked):
    """float64 gradcheck in x and every weight of a stack of a custom cell and a GRUCell
    run step by step (go_backwards, a mask): the checked values are put in the cells
    in place of their weights at each call."""
    gru = looped(layers.GRUCell(2, dtype="float64"))
    minimal = MinimalRNNCell(3, dtype="float64")
    layer = layers.RNN([minimal, gru], return_sequences=True, go_backwards=True)
    layer.build((None, 4, 2))
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool) if masked else None
    names = [(minimal, "kernel"), (minimal, "recurrent_kernel"), (gru, "kernel"),
             (gru, "recurrent_kernel"), (gru, "bias")]

    def fn(x, *weights):
        for (cell, name), weight in zip(names, weights):
            object.__setattr__(cell, name, weight)  # (not tracked as a new weight)
        return layer(x, mask=mask)

    rng = np.random.default_rng(7)
    weights = [rng.normal(size=getattr(cell, name).shape) * 0.5 for cell, name in names]
    assert gradcheck(fn, [rng.normal(size=(2, 4, 2)), *weights])


# --- shapes, summary, config, saving --------------------------------------------------
@pytest.mark.parametrize("name, make", [
    ("RNN-LSTMCell-4", lambda: layers.LSTMCell(4)),
    ("RNN-GRUCell-4", lambda: layers.GRUCell(4)),
    ("RNN-SimpleRNNCell-4", lambda: layers.SimpleRNNCell(4)),
    ("RNN-stacked", lambda: [layers.LSTMCell(4), layers.SimpleRNNCell(2)])])
def test_parameter_counts_and_output_shapes_as_keras(name, make):
    model = minidl.Sequential([layers.RNN(make(), input_shape=(7, 5))])
    count, shape = KERAS["summary"][name]
    assert model.count_params() == count
    assert model.output_shape == tuple(shape)


def test_summary_rows(capsys):
    layers.reset_names()
    minidl.Sequential([layers.RNN(layers.LSTMCell(4), return_sequences=True,
                                  input_shape=(None, 5)),
                       layers.RNN([layers.GRUCell(3), MinimalRNNCell(2)])]).summary()
    out = capsys.readouterr().out
    assert "rnn (RNN)                   (None, None, 4)           160" in out
    assert "rnn_1 (RNN)                 (None, 2)                 91" in out


def test_return_state_shapes_symbolic_and_eager():
    inputs = minidl.Input(shape=(None, 3))
    output, (h, c), h2 = layers.RNN([layers.LSTMCell(4), layers.GRUCell(2)],
                                    return_state=True)(inputs)
    assert [t.shape for t in (output, h, c, h2)] == [(None, 2), (None, 4), (None, 4), (None, 2)]
    model = minidl.Model(inputs, [output, h, c, h2])
    results = model.predict(values(0, [(5, 6, 3)])[0], verbose=0)
    assert [r.shape for r in results] == [(5, 2), (5, 4), (5, 4), (5, 2)]
    np.testing.assert_array_equal(results[0], results[3])  # the output is the last h


def test_encoder_states_start_a_decoder_cell(tmp_path):
    """The guide's encoder-decoder: the final states of one RNN are the initial states of
    another, in a functional model, saved and loaded."""
    encoder_input = minidl.Input(shape=(None, 3))
    _, h, c = layers.RNN(layers.LSTMCell(4), return_state=True)(encoder_input)
    decoder_input = minidl.Input(shape=(None, 2))
    decoder_cell = looped(layers.LSTMCell(4))  # (the step-by-step path)
    decoded = layers.RNN(decoder_cell, return_sequences=True)(
        decoder_input, initial_state=[h, c])
    model = minidl.Model([encoder_input, decoder_input], layers.Dense(1)(decoded))
    x = [values(1, [(2, 5, 3)])[0], values(2, [(2, 6, 2)])[0]]
    expected = model.predict(x, verbose=0)
    assert expected.shape == (2, 6, 1)
    model.save(tmp_path / "seq2seq.mdl")
    loaded = load_model(tmp_path / "seq2seq.mdl", custom_objects={"Looped": type(decoder_cell)})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_time_major_transposes_inputs_and_outputs():
    x = values(3, [(2, 5, 3)])[0]
    for cell in (layers.GRUCell(4), looped(layers.GRUCell(4))):
        batch_major = layers.RNN(cell, return_sequences=True)
        expected = batch_major(x).data
        time_major = layers.RNN(type(cell).from_config(cell.get_config() | {"name": None}),
                                return_sequences=True, time_major=True)
        time_major.build((5, None, 3))
        time_major.set_weights(batch_major.get_weights())
        np.testing.assert_allclose(time_major(x.transpose(1, 0, 2)).data,
                                   expected.transpose(1, 0, 2), atol=1e-6)


def test_config_as_keras():
    config = layers.RNN(layers.LSTMCell(3)).get_config()
    keras = KERAS["config"]
    assert list(config) == list(keras)
    assert config["cell"]["class_name"] == "LSTMCell"
    assert list(config["cell"]["config"]) == list(keras["cell"]["config"])
    for key in ("units", "activation", "recurrent_activation", "unit_forget_bias", "dropout",
                "implementation", "use_bias"):
        assert config["cell"]["config"][key] == keras["cell"]["config"][key]
    assert "zero_output_for_mask" not in config  # written only when True, as Keras
    assert layers.RNN(layers.GRUCell(2), zero_output_for_mask=True).get_config()[
        "zero_output_for_mask"] is True


@pytest.mark.parametrize("make", [
    lambda: layers.LSTMCell(3, recurrent_activation="hard_sigmoid", dropout=0.1,
                            unit_forget_bias=False, kernel_regularizer="l2"),
    lambda: layers.GRUCell(3, reset_after=False, activation="relu"),
    lambda: layers.SimpleRNNCell(3, use_bias=False),
    lambda: [layers.LSTMCell(3), layers.SimpleRNNCell(2)]])
def test_config_round_trip_and_save_load(make, tmp_path):
    layer = layers.RNN(make(), return_sequences=True, go_backwards=True, input_shape=(5, 3))
    config = layer.get_config()
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone.cell) is type(layer.cell)
    assert clone.get_config() == config
    model = minidl.Sequential([layer, layers.RNN(layers.SimpleRNNCell(2))])
    x = values(3, [(2, 5, 3)])[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "rnn.mdl")
    loaded = load_model(tmp_path / "rnn.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert loaded.layers[0].get_config() == config


def test_custom_cell_saved_and_loaded_with_custom_objects(tmp_path):
    model = minidl.Sequential([layers.RNN(MinimalRNNCell(4), input_shape=(None, 3)),
                               layers.Dense(1)])
    x = values(3, [(2, 5, 3)])[0]
    expected = model.predict(x, verbose=0)
    assert model.layers[0].get_config()["cell"]["class_name"] == "MinimalRNNCell"
    model.save(tmp_path / "custom.mdl")
    with pytest.raises(ValueError, match="MinimalRNNCell"):
        load_model(tmp_path / "custom.mdl")
    loaded = load_model(tmp_path / "custom.mdl",
                        custom_objects={"MinimalRNNCell": MinimalRNNCell})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_weights_in_keras_order_and_trainable():
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)])
    layer.build((None, 4, 5))
    assert [w.name.split("/")[-1] for w in layer.weights] == [
        "kernel", "recurrent_kernel", "bias"] * 2
    assert [w.shape for w in layer.weights] == [(5, 12), (3, 12), (12,), (3, 6), (2, 6), (2, 6)]
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 6


def test_stateful_model_reset_states():
    x = values(5, [(2, 6, 3)])[0]
    whole = layers.RNN(MinimalRNNCell(4), return_sequences=True)
    expected = whole(x).data
    stateful = layers.RNN(MinimalRNNCell(4), return_sequences=True, stateful=True,
                          batch_input_shape=(2, 3, 3))
    model = minidl.Sequential([stateful])
    stateful.set_weights(whole.get_weights())
    first = model.predict(x[:, :3], verbose=0)
    second = model.predict(x[:, 3:], verbose=0)
    np.testing.assert_allclose(np.concatenate([first, second], 1), expected, atol=1e-6)
    assert stateful.states[0].shape == (2, 4)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), first, atol=1e-6)
    with pytest.raises(ValueError, match="batch size 2, received a batch of 3"):
        stateful(np.zeros((3, 3, 3), np.float32))
    with pytest.raises(AttributeError, match="stateful"):
        whole.reset_states()


# --- refused -------------------------------------------------------------------------------
class NoStateSize(layers.Layer):
    def call(self, inputs, states):
        return inputs, states


class WrongStates(MinimalRNNCell):
    def call(self, inputs, states):
        output, _ = super().call(inputs, states)
        return output, [output, output]


class TupleOutput(MinimalRNNCell):
    def call(self, inputs, states):
        output, new_states = super().call(inputs, states)
        return (output, output), new_states


def test_what_is_not_a_cell_is_refused():
    with pytest.raises(ValueError, match="needs a call"):
        layers.RNN(object())
    with pytest.raises(ValueError, match='NoStateSize "no_state_size".*state_size'):
        layers.RNN(NoStateSize())
    with pytest.raises(ValueError, match="cells must be a non-empty list"):
        layers.StackedRNNCells([])
    cell = MinimalRNNCell(2)
    cell.state_size = [2, 3.5]
    with pytest.raises(ValueError, match=r"state_size \[2, 3.5\]: each size must be a positive "
                                         r"integer .* or a TensorShape .*received 3.5"):
        layers.RNN(cell)
    with pytest.raises(ValueError, match=r"states must have shapes \[\(2, 2\)\]; its call gave "
                                         r"\[\(2, 2\), \(2, 2\)\]"):
        layers.RNN(WrongStates(2))(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"output shaped as its output_size 2: \(2, 2\) .*it "
                                         r"returned tuple \(\(2, 2\), \(2, 2\)\)\. \(A cell "
                                         "with several outputs says so with a list output_size"):
        layers.RNN(TupleOutput(2))(np.zeros((2, 3, 4), np.float32))


@pytest.mark.parametrize("make, message", [
    (lambda: layers.LSTMCell(0), "units must be a positive integer, received 0"),
    (lambda: layers.GRUCell(-3), "units must be a positive integer, received -3"),
    (lambda: layers.LSTMCell(2, dropout=1.5), "dropout must be a number in"),
    (lambda: layers.GRUCell(2, reset_after="yes"), "reset_after must be True or False"),
    (lambda: layers.LSTMCell(2, implementation=3), "implementation must be 1 or 2"),
    (lambda: layers.LSTMCell(2, kernel_constraint="non_negative"), "kernel_constraint"),
    (lambda: layers.LSTMCell(2, activation="nope"), "Unknown activation"),
])
def test_bad_cell_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_cell_arguments_of_the_wrong_type_are_a_type_error():
    """Not a number where a number goes: a TypeError, as Keras 2 raises."""
    with pytest.raises(TypeError, match="units must be a positive integer"):
        layers.SimpleRNNCell(2.5)
    with pytest.raises(TypeError, match="units must be a positive integer"):
        layers.LSTMCell("3")
    with pytest.raises(TypeError, match="dropout must be a number in"):
        layers.GRUCell(2, dropout="a")


def test_wrong_ranks_and_states_are_refused_and_change_nothing():
    layer = layers.RNN(layers.LSTMCell(3))
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\).*received input "
                                         r"shape \(2, 5\)"):
        layer(np.zeros((2, 5), np.float32))
    assert not layer.built and not layer.cell.built
    layer(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected shape \(batch, timesteps, 5\), received "
                                         r"shape \(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), np.float32))
    with pytest.raises(ValueError, match="has 2 state"):
        layer(np.zeros((2, 4, 5), np.float32), initial_state=[np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape \(2, 3\)"):
        layer(np.zeros((2, 4, 5), np.float32),
              initial_state=[np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)])
    cell = layers.LSTMCell(3)
    with pytest.raises(ValueError, match=r"one timestep.*\(batch, features\).*\(2, 4, 5\)"):
        cell(np.zeros((2, 4, 5), np.float32), [np.zeros((2, 3), np.float32)] * 2)
    with pytest.raises(ValueError, match="has 2 state"):
        cell(np.zeros((2, 5), np.float32), [np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match=r"states\[1\] must have shape \(2, 3\)"):
        cell(np.zeros((2, 5), np.float32), [np.zeros((2, 3), np.float32), np.zeros((2, 2))])


def test_cell_config_keys_as_keras():
    """tf_keras 2.21's keys, in its order."""
    common = ["name", "trainable", "dtype", "units", "activation"]
    weights = ["use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer"]
    rest = ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
            "recurrent_dropout"]
    assert list(layers.SimpleRNNCell(2).get_config()) == common + weights + rest
    assert list(layers.GRUCell(2).get_config()) == (
        common + ["recurrent_activation"] + weights + rest + ["implementation", "reset_after"])
    assert list(layers.LSTMCell(2).get_config()) == (
        common + ["recurrent_activation"] + weights + ["unit_forget_bias"] + rest
        + ["implementation"])
    assert list(layers.StackedRNNCells([layers.GRUCell(2)]).get_config()) == [
        "name", "trainable", "dtype", "cells"]


def test_keras_namespace_has_the_cells():
    from minidl.keras.layers import RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells

    assert (RNN, LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells) == (
        layers.RNN, layers.LSTMCell, layers.GRUCell, layers.SimpleRNNCell, layers.StackedRNNCells)
