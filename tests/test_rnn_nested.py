"""layers.RNN over a cell with nested inputs, states of several dimensions and several
outputs (Keras guide "Working with RNNs": "RNNs with list/dict inputs, or nested
inputs"), against tf_keras 2.21.

``fixtures/rnn_nested/outputs.json`` is written by ``fixtures/rnn_nested/make_fixtures.py``
(its docstring says what each entry holds) with the same ``PairCell`` in tf's names.
The other literals here come from the snippets quoted beside them, run in tf_keras 2.21.
"""

import collections
import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.layers.nest import map_nest
from minidl.models import Model, clone_model
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "rnn_nested" /
                    "outputs.json").read_text())
MASK = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool)
NestedInput = collections.namedtuple("NestedInput", ["feature1", "feature2"])
NestedState = collections.namedtuple("NestedState", ["state1", "state2"])


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


class PairCell(layers.Layer):
    """x1 (batch, 3) and x2 (batch, 2, 2) at each step; states h (batch, 2) and m (batch,
    2, 3), each feeding the other's update; outputs (2 h, m)."""

    def __init__(self, **kwargs):
        self.state_size = [minidl.TensorShape([2]), minidl.TensorShape([2, 3])]
        self.output_size = [minidl.TensorShape([2]), minidl.TensorShape([2, 3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        (_, i1), (_, i2, i3) = input_shapes
        self.kernel_1 = self.add_weight(shape=(i1, 2), name="kernel_1")
        self.recurrent_1 = self.add_weight(shape=(2, 2), name="recurrent_1")
        self.kernel_2 = self.add_weight(shape=(i2, i3, 2, 3), name="kernel_2")
        self.from_m = self.add_weight(shape=(2, 3, 2), name="from_m")
        self.from_h = self.add_weight(shape=(2, 2, 3), name="from_h")

    def call(self, inputs, states):
        x1, x2 = inputs
        h, m = states
        h_new = ops.tanh(ops.matmul(x1, self.kernel_1) + ops.matmul(h, self.recurrent_1)
                         + ops.einsum("bij,ijk->bk", m, self.from_m))
        m_new = ops.tanh(ops.einsum("bij,ijkl->bkl", x2, self.kernel_2) + 0.5 * m
                         + ops.einsum("bk,kij->bij", h, self.from_h))
        return (2.0 * h_new, m_new), (h_new, m_new)


def inputs():
    return tuple(values(0, [(2, 4, 3), (2, 4, 2, 2)]))


def layer_with_weights(dtype="float32", **kwargs):
    layer = layers.RNN(PairCell(dtype=dtype),
                       **{"return_sequences": True, "return_state": True, **kwargs})
    batch = 2 if layer.stateful else None
    layer.build(((4, batch, 3), (4, batch, 2, 2)) if layer.time_major else
                ((batch, 4, 3), (batch, 4, 2, 2)))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


def flat(results):
    return [np.asarray(r.data) for r in minidl.layers.nest.flatten(results)]


def close(results, expected, atol=2e-6):
    assert len(results) == len(expected)
    for result, want in zip(results, expected):
        np.testing.assert_allclose(result, np.array(want, np.float32), atol=atol, rtol=1e-5)


# --- values: tf_keras's, in every mode --------------------------------------------------
@pytest.mark.parametrize("case, kwargs, call", [
    ("plain", {}, {}),
    ("backwards", {"go_backwards": True}, {}),
    ("masked", {}, {"mask": MASK}),
    ("initial", {}, {"initial_state": values(2, [(2, 2), (2, 2, 3)])}),
    ("masked-backwards-initial", {"go_backwards": True},
     {"mask": MASK, "initial_state": values(2, [(2, 2), (2, 2, 3)])}),
    ("zero-output", {"zero_output_for_mask": True}, {"mask": MASK}),
    ("last-masked", {"return_sequences": False}, {"mask": MASK}),
])
def test_outputs_and_states_match_keras(case, kwargs, call):
    results = layer_with_weights(**kwargs)(inputs(), **call)
    assert [type(r).__name__ for r in results] == ["tuple", "Tensor", "Tensor"]  # Keras's
    close(flat(results), KERAS[case])  # [(output_1, output_2), h, m]: to_list(output) + states


def test_time_major_nested_sequences_match_keras():
    layer = layer_with_weights(time_major=True)
    results = layer(tuple(np.swapaxes(x, 0, 1) for x in inputs()))
    assert [r.shape for r in flat(results)] == [(4, 2, 2), (4, 2, 2, 3), (2, 2), (2, 2, 3)]
    close(flat(results), KERAS["time-major"])


def test_stateful_multi_dimensional_states_match_keras_and_reset():
    assert [s.shape for s in layer_with_weights().get_initial_state(inputs())] == [
        (2, 2), (2, 2, 3)]
    layer = layer_with_weights(stateful=True)
    assert [s.shape for s in layer.states] == [(2, 2), (2, 2, 3)]  # zeros from build on
    assert not any(s.any() for s in layer.states)
    layer(tuple(x[:, :2] for x in inputs()))
    second = layer(tuple(x[:, 2:] for x in inputs()))
    close(flat(second), KERAS["stateful"])
    close(layer.states, KERAS["stateful"][2:])
    layer.reset_states()
    assert [s.shape for s in layer.states] == [(2, 2), (2, 2, 3)]
    assert not any(s.any() for s in layer.states)
    with pytest.raises(ValueError, match=r"reset_states needs 2 array\(s\) of shapes "
                                         r"\[\(2, 2\), \(2, 2, 3\)\].*received shapes "
                                         r"\[\(2, 2\), \(2, 3\)\]"):
        layer.reset_states([np.ones((2, 2)), np.ones((2, 3))])
    layer.reset_states([np.ones((2, 2)), np.ones((2, 2, 3))])
    assert layer.states[1].sum() == 12


def test_a_padded_step_keeps_every_state_whatever_its_rank():
    layer = layer_with_weights()
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    masked = flat(layer(inputs(), mask=mask))
    shorter = flat(layer(tuple(x[:, :2] for x in inputs())))
    for result, reference in zip(masked[2:], shorter[2:]):  # sample 0's final h and m
        np.testing.assert_array_equal(result[0], reference[0])
    np.testing.assert_array_equal(masked[1][0, 2:], np.stack([shorter[1][0, 1]] * 2))


def test_outputs_after_return_sequences_false_are_the_last_steps():
    sequences = flat(layer_with_weights()(inputs()))
    last = layer_with_weights(return_sequences=False, return_state=False)(inputs())
    assert isinstance(last, tuple) and [t.shape for t in last] == [(2, 2), (2, 2, 3)]
    np.testing.assert_array_equal(last[0].data, sequences[0][:, -1])
    np.testing.assert_array_equal(last[1].data, sequences[1][:, -1])


@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_through_a_multi_dimensional_state(masked):
    """float64 gradcheck in both sequences, the initial states and every weight, through
    four steps of h (batch, 2) and m (batch, 2, 3) feeding each other (go_backwards,
    a mask): the checked values are put in the cell in place of its weights."""
    layer = layer_with_weights(dtype="float64", go_backwards=True)
    cell = layer.cell
    names = ["kernel_1", "recurrent_1", "kernel_2", "from_m", "from_h"]
    mask = MASK if masked else None

    def fn(x1, x2, h0, m0, *weights):
        for name, weight in zip(names, weights):
            object.__setattr__(cell, name, weight)  # (not tracked as a new weight)
        output_1, output_2 = layer((x1, x2), mask=mask, initial_state=[h0, m0])[0]
        return ops.concatenate([ops.reshape(output_1, (2, -1)),
                                ops.reshape(output_2, (2, -1))], axis=1)

    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=s) * 0.5 for s in
              [(2, 4, 3), (2, 4, 2, 2), (2, 2), (2, 2, 3)]
              + [getattr(cell, name).shape for name in names]]
    assert gradcheck(fn, arrays)


# --- named tuples ------------------------------------------------------------------------
class NamedCell(PairCell):
    """The guide's other form: named tuples of inputs and states (tf_keras gives build
    the named tuple of shapes, and call the named tuple of inputs)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = NestedState(state1=2, state2=minidl.TensorShape([2, 3]))
        self.seen = []

    def build(self, input_shapes):
        self.seen.append(input_shapes)
        super().build((input_shapes.feature1, input_shapes.feature2))

    def call(self, inputs, states):
        self.seen.append((type(inputs).__name__, type(states).__name__))
        output, (h, m) = super().call((inputs.feature1, inputs.feature2), states)
        return list(output), NestedState(state1=h, state2=m)


def test_named_tuples_of_inputs_and_states_as_keras():
    layer = layers.RNN(NamedCell(), return_sequences=True, return_state=True)
    x = inputs()
    results = layer(NestedInput(*x))
    cell = layer.cell
    assert cell.seen[0] == NestedInput(feature1=(2, 3), feature2=(2, 2, 2))
    assert type(cell.seen[0]) is NestedInput
    assert set(cell.seen[1:]) == {("NestedInput", "tuple")}  # tf_keras: the states in a tuple
    # tf_keras 2.21: the cell's list of outputs is spliced into return_state's list, then
    # the states: [output_1, output_2, h, m]
    assert [type(r).__name__ for r in results] == ["Tensor", "Tensor", "Tensor", "Tensor"]
    plain = layer_with_weights()
    plain.set_weights(layer.get_weights())
    for mine, reference in zip(flat(results), flat(plain(x))):
        np.testing.assert_array_equal(mine, reference)
    assert isinstance(layer.get_initial_state(NestedInput(*x)), list)


def test_named_tuple_state_size_nests_states_as_keras():
    """tf_keras 2.21 with state_size [NS(a=3, b=TensorShape([2, 2])), 4]: the cell gets
    (NS(a, b), c); return_state gives [output, NS(a, b), c]; get_initial_state
    [NS(a, b), c]; a stateful layer's states [NS(a, b), c]."""
    class Cell(layers.Layer):
        def __init__(self, **kwargs):
            self.state_size = [NestedState(3, minidl.TensorShape([2, 2])), 4]
            self.output_size = 3
            super().__init__(**kwargs)

        def build(self, shape):
            self.k = self.add_weight(shape=(shape[-1], 3), initializer="ones", name="k")

        def call(self, x, states):
            assert type(states) is tuple and type(states[0]) is NestedState
            (a, b), c = states
            o = ops.matmul(x, self.k) + a
            return o, [NestedState(o, b + 1.0), c + 1.0]

    x = np.ones((2, 3, 5), "float32")
    layer = layers.RNN(Cell(), return_state=True)
    output, (a, b), c = results = layer(x)
    assert type(results[1]) is NestedState
    assert map_nest(lambda t: t.shape, results) == [(2, 3), NestedState((2, 3), (2, 2, 2)),
                                                    (2, 4)]
    np.testing.assert_array_equal(b.data, np.full((2, 2, 2), 3.0))
    assert layer.compute_output_shape((None, 3, 5)) == [(None, 3),
                                                        NestedState((None, 3), (None, 2, 2)),
                                                        (None, 4)]
    initial = layer.get_initial_state(x)
    assert type(initial) is list and type(initial[0]) is NestedState
    out = layer(x, initial_state=[NestedState(np.zeros((2, 3), "float32"),
                                              np.ones((2, 2, 2), "float32")),
                                  np.zeros((2, 4), "float32")])
    np.testing.assert_array_equal(out[1][1].data, np.full((2, 2, 2), 4.0))  # tf_keras: 4
    # a masked sequence: sample 0 reads steps 0 and 2 (o = 5 + a: 5, then 10), sample 1 none
    out = layer(x, mask=np.array([[1, 0, 1], [0, 0, 0]], bool))
    np.testing.assert_array_equal(out[0].data, [[10, 10, 10], [0, 0, 0]])
    np.testing.assert_array_equal(out[1][1].data[:, 0, 0], [2, 0])
    stateful = layers.RNN(Cell(), stateful=True)
    stateful(x)
    assert type(stateful.states) is list and type(stateful.states[0]) is NestedState
    np.testing.assert_array_equal(stateful.states[0][1], np.full((2, 2, 2), 3.0))


# --- functional models and their summary ---------------------------------------------------
def test_functional_model_with_nested_inputs_shapes_summary_and_clone(capsys):
    layers.reset_names()
    input_1 = minidl.Input((None, 3))
    input_2 = minidl.Input((None, 2, 2))
    rnn = layers.RNN(PairCell(), return_sequences=True, return_state=True)
    masked = layers.Masking()(input_1)
    outputs = rnn((masked, input_2))
    rnn.set_weights(values(1, [w.shape for w in rnn.get_weights()]))
    assert [type(o).__name__ for o in outputs] == ["tuple", "KerasTensor", "KerasTensor"]
    assert map_nest(lambda t: t.shape, outputs) == [((None, None, 2), (None, None, 2, 3)),
                                                    (None, 2), (None, 2, 3)]
    # tf_keras 2.21: only the first output carries the mask (Keras pairs its flat outputs
    # with [mask, None, None])
    assert [t._keras_mask is not None for t in minidl.layers.nest.flatten(outputs)] == [
        True, False, False, False]
    assert rnn.output_shape == [((None, None, 2), (None, None, 2, 3)), (None, 2), (None, 2, 3)]
    assert rnn.input_shape == ((None, None, 3), (None, None, 2, 2))
    (sequence_1, sequence_2), h, m = outputs
    model = Model([input_1, input_2], [sequence_1, sequence_2, h, m])
    model.summary()
    # tf_keras 2.21, the same model: Model([input_1, input_2], rnn((masked, input_2))).summary()
    assert "\n".join([
        " rnn (RNN)                   [((None, None, 2),           58        ['masking[0][0]',             ",
        "                              (None, None, 2, 3)),                   'input_2[0][0]']             ",
        "                              (None, 2),                                                          ",
        "                              (None, 2, 3)]                                                       ",
    ]) in capsys.readouterr().out
    x = inputs()
    predicted = model.predict(list(x), verbose=0)
    for mine, reference in zip(predicted, flat(rnn(x))):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)
    x[0][0, 2:] = 0.0  # (Masking: sample 0 has two real steps, its final states those of 2)
    for mine, reference in zip(model.predict(list(x), verbose=0)[2:],
                               flat(rnn(tuple(a[:, :2] for a in x)))[2:]):
        np.testing.assert_allclose(mine[0], reference[0], rtol=1e-6)
    with minidl.utils.custom_object_scope({"PairCell": PairCell}):
        copy = clone_model(model)
    copy.set_weights(model.get_weights())
    for mine, reference in zip(copy.predict(list(x), verbose=0),
                               model.predict(list(x), verbose=0)):
        np.testing.assert_array_equal(mine, reference)
    with pytest.raises(NotImplementedError, match='Layer "rnn" was called on a nest of inputs'):
        model.get_config()


def test_named_tuple_of_symbolic_inputs_builds_the_cell_with_named_shapes():
    input_1 = minidl.Input((5, 3))
    input_2 = minidl.Input((5, 2, 2))
    layer = layers.RNN(NamedCell())
    outputs = layer(NestedInput(feature1=input_1, feature2=input_2))
    assert layer.cell.seen[0] == NestedInput((None, 3), (None, 2, 2))
    assert type(layer.cell.seen[0]) is NestedInput
    assert [o.shape for o in outputs] == [(None, 2), (None, 2, 3)]
    model = Model([input_1, input_2], outputs)
    x = inputs()
    results = model.predict([np.concatenate([x[0]] * 2, 1)[:, :5],
                             np.concatenate([x[1]] * 2, 1)[:, :5]], verbose=0)
    assert [r.shape for r in results] == [(2, 2), (2, 2, 3)]


def test_initial_states_of_several_dimensions_as_inputs_of_a_model():
    input_1, input_2 = minidl.Input((4, 3)), minidl.Input((4, 2, 2))
    h0, m0 = minidl.Input((2,)), minidl.Input((2, 3))
    rnn = layer_with_weights()
    outputs = rnn((input_1, input_2), initial_state=[h0, m0])
    model = Model([input_1, input_2, h0, m0], minidl.layers.nest.flatten(outputs))
    initial = values(2, [(2, 2), (2, 2, 3)])
    close(model.predict([*inputs(), *initial], verbose=0), KERAS["initial"])
    with pytest.raises(ValueError, match=r"then initial states of shapes \[\('batch', 2\), "
                                         r"\('batch', 2, 3\)\]; received more inputs of shapes "
                                         r"\[\(None, 2\), \(None, 3\)\]"):
        layers.RNN(PairCell())((input_1, input_2), initial_state=[h0, minidl.Input((3,))])


# --- refused, with the reason ------------------------------------------------------------
class WrongStateShape(PairCell):
    def call(self, inputs, states):
        output, (h, m) = super().call(inputs, states)
        return output, (h, m[:, :1])


class OneOutput(PairCell):
    def call(self, inputs, states):
        output, new_states = super().call(inputs, states)
        return output[1], new_states


def test_cells_giving_the_wrong_shapes_are_refused_naming_them():
    with pytest.raises(ValueError, match=r"the cell WrongStateShape has state_size "
                                         r"\[TensorShape\(\[2\]\), TensorShape\(\[2, 3\]\)\], so "
                                         r"its states must have shapes \[\(1, 2\), \(1, 2, 3\)\]; "
                                         r"its call \(one step on zeros, batch 1, to learn how it "
                                         r"nests its outputs\) gave \[\(1, 2\), \(1, 1, 3\)\]"):
        layers.RNN(WrongStateShape())(inputs())
    with pytest.raises(ValueError, match=r"the output shaped as its output_size "
                                         r"\[TensorShape\(\[2\]\), TensorShape\(\[2, 3\]\)\]: "
                                         r"\[\(1, 2\), \(1, 2, 3\)\] \(batch first\), a tensor "
                                         r"each; it returned Tensor \(1, 2, 3\)"):
        layers.RNN(OneOutput())(inputs())


def test_bad_nested_inputs_are_refused_clearly():
    layer = layers.RNN(PairCell())
    layer(inputs())
    x1, x2 = inputs()
    with pytest.raises(ValueError, match=r'Input of layer "rnn.*" is incompatible with the '
                                         r"layer: expected shape \(\(batch, timesteps, 3\), "
                                         r"\(batch, timesteps, 2, 2\)\), received shape "
                                         r"\(\(2, 4, 3\), \(2, 4, 2, 3\)\)"):
        layer((x1, np.zeros((2, 4, 2, 3), "float32")))
    with pytest.raises(ValueError, match=r"nested input sequences must have the same batch "
                                         r"and timesteps sizes, received shapes \(\(2, 4, 3\), "
                                         r"\(2, 3, 2, 2\)\)"):
        layer((x1, x2[:, :3]))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 4\)"):
        layer((x1, x2), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape \(2, 2, 3\), "
                                         r"received \(2, 6\)"):
        layer((x1, x2), initial_state=[np.zeros((2, 2)), np.zeros((2, 6))])


def test_a_dict_of_sequences_is_refused_with_the_named_tuple_form():
    """tf_keras 2.21 takes a dict too (the cell gets a dict per step); minidl does not."""
    x1, x2 = inputs()
    layer = layers.RNN(PairCell())
    with pytest.raises(NotImplementedError, match=r"received a dict of sequences \(keys \['a', "
                                                  r"'b'\]\).*Pass a named tuple"):
        layer({"b": x2, "a": x1})
    assert not layer.built


def test_a_built_in_cell_refuses_nested_inputs():
    """tf_keras 2.21 refuses it too, with a TypeError from deep inside (Dimension value
    must be integer or None ...)."""
    x1, x2 = inputs()
    with pytest.raises(ValueError, match=r'RNN layer "rnn.*" received nested inputs \(a tuple '
                                         r"of 2 sequences, shapes \(\(2, 4, 3\), \(2, 4, 2, "
                                         r"2\)\)\), but its cell LSTMCell reads one tensor"):
        layers.RNN(layers.LSTMCell(4))((x1, x2))
    with pytest.raises(ValueError, match="received nested inputs"):
        layers.RNN(layers.LSTMCell(4))((minidl.Input((4, 3)), minidl.Input((4, 2))))


def test_bidirectional_refuses_a_cell_with_several_outputs():
    """tf_keras 2.21 refuses it too (AttributeError: 'tuple' object has no attribute
    'shape')."""
    with pytest.raises(ValueError, match=r'Bidirectional layer "both" wraps an RNN whose cell '
                                         r"PairCell gives several outputs"):
        layers.Bidirectional(layers.RNN(PairCell()), name="both")(inputs())


def test_a_list_is_still_the_sequence_then_its_initial_states():
    """tf_keras's standardize_args: a list is [sequence, *initial_states], a tuple is
    nested input."""
    x1, x2 = inputs()
    initial = values(2, [(2, 2), (2, 2, 3)])
    layer = layer_with_weights()
    close(flat(layer([(x1, x2), *initial])), KERAS["initial"])
    simple = layers.RNN(layers.SimpleRNNCell(2))
    assert simple([x1, np.zeros((2, 2), "float32")]).shape == (2, 2)


def test_summary_of_the_guide_model_with_tensor_shapes(capsys):
    layers.reset_names()
    input_1 = minidl.Input((None, 3))
    input_2 = minidl.Input((None, 2, 2))
    Model([input_1, input_2], layers.RNN(PairCell())((input_1, input_2))).summary()
    # tf_keras 2.21 (the guide's model, NestedCell(10, 20, 30), prints the same form)
    assert "\n".join([
        " rnn (RNN)                   ((None, 2),                  58        ['input_1[0][0]',             ",
        "                              (None, 2, 3))                          'input_2[0][0]']             ",
    ]) in capsys.readouterr().out
