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
    return [(2, s) for s in layer._state_sizes]


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
    assert_all_close(layer(inputs(), mask=MASK), KERAS["stacked"]["masked"])
    x = Tensor(inputs(), requires_grad=True)
    states = [Tensor(s, requires_grad=True) for s in values(2, [(2, 3), (2, 3), (2, 2)])]
    results = layer(x, mask=MASK, initial_state=[[states[0], states[1]], states[2]])
    grads = values(3, [r.shape for r in results])
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()
    sources = [x, *layer.trainable_weights, *states]
    assert_all_close([s.grad for s in sources], KERAS["stacked"]["gradients"], atol=1e-5)


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
