"""Bidirectional: against tf_keras 2.21's outputs with the same weights, PyTorch's
bidirectional LSTM, config, save/load, summary.

``keras_bidirectional_outputs.json``: tf_keras's ``Bidirectional(GRU(3,
return_sequences=...), merge_mode=...)`` on ``values(0, [(2, 4, 2)])`` with
``mask=MASK`` and weights ``values(1, shapes of get_weights())`` (keys
"<merge_mode>-<return_sequences>"), and ``Bidirectional(LSTM(3,
return_state=True))`` without a mask ("state"); rounded to 6 decimals.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.tensor import Tensor

KERAS = json.loads((pathlib.Path(__file__).parent / "keras_bidirectional_outputs.json").read_text())
MASK = np.array([[1, 1, 1, 0], [0, 1, 1, 1]], bool)


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("case", sorted(KERAS))
def test_outputs_match_keras(case):
    if case == "state":
        layer, kwargs = layers.Bidirectional(layers.LSTM(3, return_state=True)), {}
    else:
        mode, sequences = case.split("-")
        layer = layers.Bidirectional(layers.GRU(3, return_sequences=sequences == "True"),
                                     merge_mode=None if mode == "None" else mode)
        kwargs = {"mask": MASK}
    layer.build((None, 4, 2))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    results = layer(values(0, [(2, 4, 2)])[0], **kwargs)
    results = results if isinstance(results, list) else [results]
    assert len(results) == len(KERAS[case])
    for result, expected in zip(results, KERAS[case]):
        np.testing.assert_allclose(result.data, np.array(expected), atol=2e-6)


def test_matches_pytorch_bidirectional_lstm():
    torch = pytest.importorskip("torch")
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dtype="float64"))
    layer.build((None, 5, 3))
    weights = values(2, [w.shape for w in layer.get_weights()], np.float64)
    layer.set_weights(weights)
    module = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for suffix, (kernel, recurrent, bias) in (("", weights[:3]), ("_reverse", weights[3:])):
            getattr(module, "weight_ih_l0" + suffix).copy_(torch.tensor(kernel.T))
            getattr(module, "weight_hh_l0" + suffix).copy_(torch.tensor(recurrent.T))
            getattr(module, "bias_ih_l0" + suffix).copy_(torch.tensor(bias))
            getattr(module, "bias_hh_l0" + suffix).zero_()
    x = values(3, [(2, 5, 3)], np.float64)[0]
    grad = values(4, [(2, 5, 8)], np.float64)[0]
    ours = Tensor(x, requires_grad=True)
    out = layer(ours)
    (out * Tensor(grad)).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected, _ = module(theirs)
    (expected * torch.tensor(grad)).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.backward_layer.kernel.grad,
                               module.weight_ih_l0_reverse.grad.numpy().T, rtol=1e-9, atol=1e-11)


def test_weights_summary_and_output_shapes(capsys):
    layers.reset_names()
    model = minidl.Sequential([layers.Bidirectional(layers.LSTM(32), input_shape=(10, 16))])
    assert model.count_params() == 2 * 6272
    assert [w.name for w in model.weights] == [  # as Keras 2 (which adds ":0")
        f"bidirectional/{direction}_lstm/lstm_cell/{weight}"
        for direction in ("forward", "backward") for weight in ("kernel", "recurrent_kernel", "bias")]
    model.summary()
    assert "(None, 64)                12544" in capsys.readouterr().out
    inputs = minidl.Input((10, 16))
    outputs = layers.Bidirectional(layers.GRU(3, return_sequences=True, return_state=True),
                                   merge_mode=None)(inputs)
    assert [tuple(o.shape) for o in outputs] == [(None, 10, 3)] * 2 + [(None, 3)] * 2


def test_config_round_trip_and_save_load(tmp_path):
    layer = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="ave",
                                 input_shape=(4, 2))
    config = layer.get_config()
    assert config["layer"]["class_name"] == "GRU" and config["merge_mode"] == "ave"
    assert layers.Bidirectional.from_config(config).get_config() == config
    model = minidl.Sequential([layers.Masking(input_shape=(4, 2)), layer,
                               layers.Bidirectional(layers.LSTM(2))])
    x = values(5, [(3, 4, 2)])[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "bidirectional.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "bidirectional.mdl").predict(x, verbose=0),
                                  expected)


def test_masked_steps_give_zeros_and_the_mask_goes_on():
    layer = layers.Bidirectional(layers.LSTM(2, return_sequences=True))
    out = layer(layers.Masking()(np.array([[[1.0], [2.0], [0.0]]], np.float32)))
    assert not out.data[0, 2].any()
    np.testing.assert_array_equal(out._keras_mask, [[True, True, False]])


@pytest.mark.parametrize("kwargs, message", [
    (dict(layer=layers.Dense(3)), "must be a recurrent layer"),
    (dict(layer=layers.LSTMCell(3)), r"wrap it in layers.RNN\(cell\)"),
    (dict(layer=layers.LSTM(3), backward_layer=layers.Dense(2)), "backward_layer must be a rec"),
    (dict(layer=layers.LSTM(3), merge_mode="max"), "merge_mode must be one of"),
    (dict(layer=layers.LSTM(3), backward_layer=layers.LSTM(3)), "read the other way"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Bidirectional(**kwargs)


def test_initial_states_eager_and_symbolic():
    layer = layers.Bidirectional(layers.GRU(2, return_sequences=True))
    x = values(9, [(2, 3, 2)])[0]
    zeros = [np.zeros((2, 2), np.float32)] * 2
    np.testing.assert_allclose(layer(x, initial_state=zeros).data, layer(x).data)
    inputs, state = minidl.Input((3, 2)), minidl.Input((2,))
    model = minidl.Model([inputs, state], layer(inputs, initial_state=[state, state]))
    np.testing.assert_allclose(model.predict([x, zeros[0]], verbose=0), layer(x).data)


def test_a_given_backward_layer_is_used():
    layer = layers.Bidirectional(layers.LSTM(3), backward_layer=layers.GRU(2, go_backwards=True))
    assert layer(np.ones((2, 4, 1), np.float32)).shape == (2, 5)
    assert type(layer.backward_layer) is layers.GRU


# --- TimeDistributed ---------------------------------------------------------
def test_time_distributed_applies_one_layer_at_every_step(capsys):
    layers.reset_names()
    dense = layers.Dense(8)
    model = minidl.Sequential([layers.TimeDistributed(dense, input_shape=(10, 16))])
    model.summary()
    assert "time_distributed (TimeDist  (None, 10, 8)             136" in capsys.readouterr().out
    x = values(6, [(3, 10, 16)])[0]
    np.testing.assert_allclose(model.predict(x, verbose=0), dense(x).data, rtol=1e-6)
    conv = layers.TimeDistributed(layers.Conv2D(2, (3, 3)))
    assert conv(values(7, [(2, 4, 6, 5, 1)])[0]).shape == (2, 4, 4, 3, 2)
    assert conv.compute_output_shape((None, 4, 6, 5, 1)) == (None, 4, 4, 3, 2)


def test_time_distributed_of_a_layer_with_several_outputs_is_refused():
    """tf_keras 2.21 refuses it too (AttributeError: 'list' object has no attribute 'shape')."""
    with pytest.raises(ValueError, match=r'TimeDistributed layer "td" wraps a layer with several '
                                         r'outputs \(GRU "gru_s" gives \[\(None, 2\), '):
        minidl.Sequential([layers.InputLayer(input_shape=(3, 5, 2)), layers.TimeDistributed(
            layers.GRU(2, return_state=True, name="gru_s"), name="td")])


def test_time_distributed_gradients_config_mask_and_save_load(tmp_path):
    layer = layers.TimeDistributed(layers.Dense(2, activation="tanh"), input_shape=(3, 4))
    model = minidl.Sequential([layers.Masking(input_shape=(3, 4)), layer])
    x = values(8, [(2, 3, 4)])[0]
    x[0, 1] = 0
    out = model(x)
    np.testing.assert_array_equal(out._keras_mask, [[True, False, True], [True, True, True]])
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert layers.TimeDistributed.from_config(config).get_config() == config
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "td.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "td.mdl").predict(x, verbose=0), expected)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((2, 3, 2), np.float32), verbose=0)
    with pytest.raises(ValueError, match="at least 3 axes"):
        layers.TimeDistributed(layers.Dense(2))(np.ones((2, 3), np.float32))
