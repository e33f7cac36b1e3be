"""The sequence layers on hostile inputs, against tf_keras 2.21 and PyTorch.

Sequences with no real step, padded steps between real ones, NaN and inf in the
inputs (they propagate, nothing crashes), empty batches, and inputs in every memory
layout NumPy makes (Fortran order, strided, read-only, views of one buffer): the
outputs are Keras's (``fixtures/sequence_hostile/outputs.json``, made by the script
beside it) or the same as for a plain C-contiguous copy.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers as L

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "sequence_hostile"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())["layers"]
CASES = {
    "all-masked": {"mask": [[0, 0, 0, 0], [1, 0, 0, 1]], "initial": True},
    "middle-masked-backwards": {"mask": [[1, 0, 1, 0], [0, 0, 1, 1]], "go_backwards": True},
    "nan-inf": {},
}


def values(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]


def hostile_inputs(case):
    x = values(0, [(2, 4, 3)])[0]
    if case == "nan-inf":
        x[0, 1, 0], x[1, 2, 1] = np.nan, np.inf
    return x


def make(expression, **options):
    layer = eval(expression.format(", ".join(f"{k}={v!r}" for k, v in options.items())))
    layer.build((None, None, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("expression", KERAS)
def test_hostile_sequences_as_tf_keras(expression, case):
    settings = CASES[case]
    layer = make(expression, return_sequences=True, return_state=True,
                 go_backwards=settings.get("go_backwards", False))
    kwargs = {}
    if "mask" in settings:
        kwargs["mask"] = np.array(settings["mask"], bool)
    if settings.get("initial"):
        kwargs["initial_state"] = values(2, [(2, 2)] * (2 if "LSTM" in expression else 1))
    outputs = layer(hostile_inputs(case), **kwargs)
    for output, expected in zip(outputs, KERAS[expression][case], strict=True):
        np.testing.assert_allclose(np.asarray(output.data, np.float64).ravel(), expected,
                                   rtol=1e-5, atol=1e-6)
    if case == "all-masked":  # no real step: zeros out, the initial state as final state
        assert not np.asarray(outputs[0].data)[0].any()
        for final, initial in zip(outputs[1:], kwargs["initial_state"]):
            np.testing.assert_array_equal(final.data[0], initial[0])


LAYOUTS = {
    "fortran": np.asfortranarray,
    "strided": lambda x: np.repeat(x, 2, axis=1)[:, ::2],
    "reversed-view": lambda x: np.ascontiguousarray(x[::-1])[::-1],
    "read-only": lambda x: _read_only(x.copy()),
    "float64": lambda x: x.astype(np.float64),
    "int": lambda x: x.astype(np.int64),  # (x holds whole numbers for this one)
}


def _read_only(x):
    x.setflags(write=False)
    return x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("expression", KERAS)
def test_every_memory_layout_gives_the_contiguous_result(expression, layout):
    x = values(0, [(2, 4, 3)])[0]
    if layout == "int":
        x = np.round(x * 3).astype(np.float32)
    given = LAYOUTS[layout](x)
    before = given.copy()
    layer = make(expression, return_sequences=True)
    np.testing.assert_allclose(layer(given).data, layer(np.ascontiguousarray(x)).data,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(given, before)  # the input is left as it was


def test_inputs_and_initial_state_views_of_one_buffer():
    buffer = values(0, [(40,)])[0]
    x = buffer[:24].reshape(2, 4, 3)
    h, c = buffer[20:24].reshape(2, 2), buffer[22:26].reshape(2, 2)  # overlapping x and each other
    layer = make("L.LSTM(2, {})", return_state=True)
    got = layer(x, initial_state=[h, c])
    want = layer(x.copy(), initial_state=[h.copy(), c.copy()])
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(buffer, values(0, [(40,)])[0])


@pytest.mark.parametrize("expression", KERAS)
def test_an_empty_batch_gives_empty_outputs_as_tf_keras(expression):
    layer = make(expression, return_sequences=True, return_state=True)
    shapes = [o.shape for o in layer(np.zeros((0, 4, 3), np.float32))]
    assert shapes[0] == (0, 4, 2) and all(s == (0, 2) for s in shapes[1:])


def test_a_refused_stateful_call_keeps_the_states():
    layer = L.GRU(2, stateful=True)
    x = values(0, [(2, 4, 3)])[0]
    layer(x)
    states = [s.copy() for s in layer.states]
    for bad in (lambda: layer(x[:1]), lambda: layer(x[..., :2]),
                lambda: layer(x, initial_state=[np.zeros((2, 3), np.float32)])):
        with pytest.raises(ValueError):
            bad()
        for kept, state in zip(states, layer.states):
            np.testing.assert_array_equal(kept, state)


def test_nan_in_one_sample_stays_in_that_sample_through_the_gradient():
    """PyTorch's rule too: a NaN in sample 0 makes sample 0's outputs and gradient NaN,
    never sample 1's."""
    values_ = hostile_inputs("nan-inf")
    values_[1, 2, 1] = 0.5  # (sample 1 finite)
    x = minidl.Tensor(values_, requires_grad=True)
    layer = make("L.LSTM(2, {})", return_sequences=True)
    out = layer(x)
    out.sum().backward()
    assert np.isnan(out.data[0, 1:]).all() and np.isfinite(out.data[1]).all()
    assert np.isnan(x.grad[0]).any() and np.isfinite(x.grad[1]).all()


@pytest.mark.parametrize("merge_mode", ["sum", "mul", "ave"])
def test_bidirectional_merge_of_different_widths_names_the_layer(merge_mode):
    """tf_keras 2.21 fails inside TensorFlow (Incompatible shapes: [2,2] vs. [2,3]); concat
    joins them (2 + 3 columns), as Keras does."""
    x = values(0, [(2, 4, 3)])[0]
    layer = L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(3, go_backwards=True),
                            merge_mode=merge_mode)
    with pytest.raises(ValueError, match=rf"Bidirectional layer .*merge_mode='{merge_mode}'.*"
                                         r"\(2, 2\) and \(2, 3\)"):
        layer(x)
    joined = L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(3, go_backwards=True))
    assert joined(x).shape == (2, 5)


@pytest.mark.parametrize("make, mask, expected", [
    (lambda: L.GRU(2), np.ones((2, 5), bool), r"GRU layer .*\(2, 4\) \(batch, timesteps\)"),
    (lambda: L.LSTM(2), np.ones(2, bool), r"LSTM layer .*received \(2,\)"),
    (lambda: L.SimpleRNN(2, time_major=True), np.ones((4, 2), bool),
     r"SimpleRNN layer .*\(2, 4\) \(timesteps, batch\)"),
    (lambda: L.RNN(L.GRUCell(2)), np.ones((2, 1), bool), r"RNN layer .*received \(2, 1\)"),
])
def test_a_mask_of_the_wrong_shape_names_the_layer(make, mask, expected):
    """(tf_keras 2.21 fails inside TensorFlow's select; minidl named the op, "lstm")"""
    with pytest.raises(ValueError, match=expected):
        make()(values(0, [(2, 4, 3)])[0], mask=mask)
