"""SimpleRNN, LSTM and GRU: Keras's weights and outputs, PyTorch's gradients, gradcheck.

``keras_recurrent_outputs.json`` holds the outputs of tf_keras 2.21's layers
(``units=2``, ``return_sequences=True, return_state=True``) on ``inputs()``,
with the weights ``values(1, shapes of get_weights())``: as plain, with
``go_backwards=True``, with ``mask=MASK`` and with ``initial_state=values(2, ...)``,
rounded to 6 decimals.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import _kernels, layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "keras_recurrent_outputs.json").read_text())
MASK = np.array([[0, 1, 1, 0], [1, 1, 0, 1]], bool)
STATES = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def inputs():
    return values(0, [(2, 4, 3)])[0]


@pytest.mark.parametrize("case", sorted(KERAS))
def test_outputs_match_keras_with_keras_weights(case):
    name, variant = case.split("-")
    layer = getattr(layers, name)(2, return_sequences=True, return_state=True,
                                  go_backwards=variant == "backwards")
    layer.build((None, 4, 3))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    kwargs = {}
    if variant == "masked":
        kwargs["mask"] = MASK
    if variant == "initial":
        kwargs["initial_state"] = values(2, [(2, 2)] * STATES[name])
    results = layer(inputs(), **kwargs)
    assert len(results) == 1 + STATES[name]
    for result, expected in zip(results, KERAS[case]):
        np.testing.assert_allclose(result.data, np.array(expected), atol=2e-6)


@pytest.mark.parametrize("name, shapes", [
    ("LSTM", [(16, 128), (32, 128), (128,)]),
    ("GRU", [(16, 96), (32, 96), (2, 96)]),
    ("SimpleRNN", [(16, 32), (32, 32), (32,)]),
])
def test_weights_in_keras_layout(name, shapes):
    model = minidl.Sequential([getattr(layers, name)(32, input_shape=(10, 16))])
    assert [w.shape for w in model.get_weights()] == shapes
    assert [w.name.split("/")[-1] for w in model.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert model.count_params() == {"LSTM": 6272, "GRU": 4800, "SimpleRNN": 1568}[name]


def test_lstm_starts_with_forget_bias_one_and_orthogonal_recurrent_kernel():
    layer = layers.LSTM(5)
    layer.build((None, 3, 4))
    np.testing.assert_array_equal(layer.bias.data, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    u = layer.recurrent_kernel.data.astype(np.float64)  # (5, 20): orthonormal rows
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)
    layer = layers.LSTM(5, unit_forget_bias=False)
    layer.build((None, 3, 4))
    assert not layer.bias.data.any()


def test_summary_as_keras(capsys):
    layers.reset_names()
    minidl.Sequential([layers.LSTM(32, return_sequences=True, input_shape=(10, 16)),
                       layers.GRU(8), layers.Dense(1)]).summary()
    text = capsys.readouterr().out
    assert "lstm (LSTM)                 (None, 10, 32)            6272" in text
    assert "gru (GRU)                   (None, 8)                 1008" in text
    assert "Total params: 7,289" in text


# --- PyTorch, weights copied across ------------------------------------------
def torch_module(name, features, units, kernel, recurrent_kernel, bias):
    """The same layer in PyTorch: gates reordered (Keras i f c o -> PyTorch i f g o is
    the same; Keras z r h -> PyTorch r z n), weights transposed."""
    torch = pytest.importorskip("torch")
    module = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[name](
        features, units, batch_first=True).double()
    order = np.arange(kernel.shape[1])
    if name == "GRU":  # z r h -> r z h
        order = np.r_[units:2 * units, 0:units, 2 * units:3 * units]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(kernel[:, order].T))
        module.weight_hh_l0.copy_(torch.tensor(recurrent_kernel[:, order].T))
        if name == "GRU":
            module.bias_ih_l0.copy_(torch.tensor(bias[0, order]))
            module.bias_hh_l0.copy_(torch.tensor(bias[1, order]))
        else:
            module.bias_ih_l0.copy_(torch.tensor(bias[order]))
            module.bias_hh_l0.zero_()
    return module, order


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_and_gradients_match_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    n, steps, features, units = 3, 6, 4, 5
    layer = getattr(layers, name)(units, return_sequences=True, return_state=True, dtype=dtype)
    layer.build((None, steps, features))
    weights = values(7, [w.shape for w in layer.get_weights()], np.float64)
    layer.set_weights(weights)
    module, order = torch_module(name, features, units, *weights)
    x = values(8, [(n, steps, features)], np.float64)[0]
    states = values(9, [(n, units)] * STATES[name], np.float64)
    grads = values(10, [(n, steps, units)] + [(n, units)] * STATES[name], np.float64)

    x_ours = Tensor(x.astype(dtype), requires_grad=True)
    states_ours = [Tensor(s.astype(dtype), requires_grad=True) for s in states]
    results = layer(x_ours, initial_state=states_ours)
    loss = sum((r * Tensor(g.astype(dtype))).sum() for r, g in zip(results, grads))
    loss.backward()

    x_torch = torch.tensor(x, requires_grad=True)
    states_torch = [torch.tensor(s[None], requires_grad=True) for s in states]
    out, final = module(x_torch, tuple(states_torch) if name == "LSTM" else states_torch[0])
    finals = final if name == "LSTM" else (final,)
    torch_results = [out] + [f[0] for f in finals]
    sum((r * torch.tensor(g)).sum() for r, g in zip(torch_results, grads)).backward()

    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-11)
    for ours, theirs in zip(results, torch_results):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)
    np.testing.assert_allclose(x_ours.grad, x_torch.grad.numpy(), **tol)
    for ours, theirs in zip(states_ours, states_torch):
        np.testing.assert_allclose(ours.grad, theirs.grad[0].numpy(), **tol)
    np.testing.assert_allclose(layer.kernel.grad[:, order], module.weight_ih_l0.grad.numpy().T,
                               **tol)
    np.testing.assert_allclose(layer.recurrent_kernel.grad[:, order],
                               module.weight_hh_l0.grad.numpy().T, **tol)
    if name == "GRU":
        np.testing.assert_allclose(layer.bias.grad[0, order], module.bias_ih_l0.grad.numpy(), **tol)
        np.testing.assert_allclose(layer.bias.grad[1, order], module.bias_hh_l0.grad.numpy(), **tol)
    else:
        np.testing.assert_allclose(layer.bias.grad[order], module.bias_ih_l0.grad.numpy(), **tol)


# --- float64 gradient checks of the ops --------------------------------------
OPS = {"LSTM": (ops.lstm, 4, 2), "GRU": (ops.gru, 3, 1), "SimpleRNN": (ops.simple_rnn, 1, 1),
       "GRU_reset_before": (ops.gru_reset_before, 3, 1)}  # (its bias is (3U,), as LSTM's (4U,))


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("variant", ["plain", "masked", "backwards-masked-zero", "dropout",
                                     "no-bias"])
def test_gradcheck(name, variant):
    op, gates, state_count = OPS[name]
    n, steps, features, units = 3, 4, 2, 3
    rng = np.random.default_rng(4)
    bias_shape = (2, 3 * units) if name == "GRU" else (gates * units,)
    arrays = [rng.normal(size=(n, steps, features)), rng.normal(size=(features, gates * units)),
              rng.normal(size=(units, gates * units)) * 0.6]
    arrays += [rng.normal(size=(n, units)) for _ in range(state_count)]
    if variant != "no-bias":
        arrays.append(rng.normal(size=bias_shape))
    mask = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]], bool) if "masked" in variant else None
    dropout = (rng.random((n, units)) > 0.3) / 0.7 if variant == "dropout" else None

    def fn(x, kernel, recurrent_kernel, *rest):
        states, bias = (rest[:state_count], rest[state_count]) if len(rest) > state_count else (
            rest, None)
        sequence, *finals = op(x, kernel, recurrent_kernel, bias, *states, mask=mask,
                               go_backwards="backwards" in variant,
                               zero_output_for_mask="zero" in variant,
                               recurrent_dropout_mask=dropout)
        total = sequence
        for k, final in enumerate(finals):
            total = total + ops.reshape(final, (n, 1, units)) * (k + 2.0)
        return total

    assert gradcheck(fn, arrays)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("dropout", [False, True])
def test_no_initial_state_is_a_zero_initial_state(name, steps, dropout):
    """Without initial states the op skips step 0's h_0 U (h_0 = 0): the outputs and
    the gradients must be those of explicit zero states, and gradcheck must hold."""
    op, gates, state_count = OPS[name]
    n, features, units = 3, 2, 3
    rng = np.random.default_rng(5)
    bias_shape = (2, 3 * units) if name == "GRU" else (gates * units,)
    arrays = [rng.normal(size=(n, steps, features)), rng.normal(size=(features, gates * units)),
              rng.normal(size=(units, gates * units)) * 0.6, rng.normal(size=bias_shape)]
    drop = (rng.random((n, units)) > 0.3) / 0.7 if dropout else None
    results = []
    for states in ([None] * state_count, [np.zeros((n, units))] * state_count):
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        sequence, *finals = op(*tensors, *states, recurrent_dropout_mask=drop)
        weights = np.random.default_rng(6)  # the same output weights for both runs
        total = (sequence * Tensor(weights.normal(size=sequence.shape))).sum()
        for final in finals:
            total = total + (final * Tensor(weights.normal(size=final.shape))).sum()
        total.backward()
        results.append([sequence.data, *(f.data for f in finals), *(t.grad for t in tensors)])
    for ours, explicit in zip(*results):
        np.testing.assert_allclose(ours, explicit, rtol=1e-12, atol=1e-12)

    def fn(x, kernel, recurrent_kernel, bias):
        sequence, *finals = op(x, kernel, recurrent_kernel, bias, recurrent_dropout_mask=drop)
        return sequence + sum(ops.reshape(f, (n, 1, units)) * (k + 2.0) for k, f in enumerate(finals))

    assert gradcheck(fn, arrays)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("masked", [False, True])
def test_return_sequences_false_gives_the_same_final_states(name, masked):
    """``return_sequences=False``: None for the sequence, and the final states and
    every gradient as with the sequence computed and left unused."""
    op, gates, state_count = OPS[name]
    n, steps, features, units = 3, 4, 2, 3
    rng = np.random.default_rng(7)
    bias_shape = (2, 3 * units) if name == "GRU" else (gates * units,)
    arrays = [rng.normal(size=(n, steps, features)), rng.normal(size=(features, gates * units)),
              rng.normal(size=(units, gates * units)) * 0.6, rng.normal(size=bias_shape),
              *(rng.normal(size=(n, units)) for _ in range(state_count))]
    mask = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], bool) if masked else None
    weights = [rng.normal(size=(n, units)) for _ in range(state_count)]
    results = []
    for return_sequences in (True, False):
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        sequence, *finals = op(*tensors, mask=mask, return_sequences=return_sequences)
        assert (sequence is None) == (not return_sequences)
        sum((f * Tensor(w)).sum() for f, w in zip(finals, weights)).backward()
        results.append([*(f.data for f in finals), *(t.grad for t in tensors)])
    for without, with_sequence in zip(results[1], results[0]):
        np.testing.assert_allclose(without, with_sequence, rtol=1e-12, atol=1e-12)

    def fn(*values):
        return op(*values, mask=mask, return_sequences=False)[1]

    assert gradcheck(fn, arrays)


@pytest.fixture
def reference_kernels():
    previous = _kernels.backend_name()
    _kernels.use("reference")
    yield
    _kernels.use(previous)


@pytest.mark.parametrize("name", sorted(OPS))
def test_reference_kernels_give_the_same_training_step(name, reference_kernels):
    op, gates, state_count = OPS[name]
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(4, 5, 3)), rng.normal(size=(3, gates * 6)),
              rng.normal(size=(6, gates * 6)) * 0.5]
    mask = rng.random((4, 5)) > 0.3
    results = []
    for backend in ("reference", "compiled"):
        _kernels.use(backend)
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        sequence, *_ = op(*tensors, mask=mask)
        (sequence * sequence).sum().backward()
        results.append([sequence.data] + [t.grad for t in tensors])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# --- the layer's arguments ----------------------------------------------------
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_config_round_trip_and_save_load(name, tmp_path):
    layer = getattr(layers, name)(4, return_sequences=True, go_backwards=True, dropout=0.1,
                                  recurrent_dropout=0.2, kernel_regularizer="l2",
                                  activation="relu", input_shape=(5, 3))
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    model = minidl.Sequential([layer, layers.SimpleRNN(2)])
    x = values(3, [(2, 5, 3)])[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "rnn.mdl")
    loaded = load_model(tmp_path / "rnn.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert type(loaded.layers[0]) is type(layer)
    assert loaded.layers[0].get_config() == config


def test_keras_config_keys():
    config = layers.LSTM(3).get_config()
    keras = ["name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards",
             "stateful", "unroll", "time_major", "units", "activation", "recurrent_activation",
             "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
             "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
             "bias_regularizer", "activity_regularizer", "kernel_constraint",
             "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
             "implementation"]
    assert list(config) == keras
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert layers.GRU(3).get_config()["reset_after"] is True


@pytest.mark.parametrize("kwargs, message", [
    (dict(units=0), "units must be a positive integer"),
    (dict(units=3, dropout=1.0), "dropout must be a number in"),
    (dict(units=3, recurrent_dropout=-0.1), "recurrent_dropout"),
    (dict(units=3, activation="softmax"), "activation must be one of"),
    (dict(units=3, kernel_constraint="maximum_norm"), "kernel_constraint: Unknown constraint"),
    (dict(units=3, implementation=3), "implementation must be 1 or 2"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.LSTM(**kwargs)


def test_gru_reset_after_must_be_a_bool():
    with pytest.raises(ValueError, match="reset_after must be True or False"):
        layers.GRU(3, reset_after="no")


def test_bad_inputs_and_states_are_refused():
    layer = layers.LSTM(3)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        layer(np.zeros((2, 5), np.float32))
    layer = layers.LSTM(3)
    layer(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="expected shape"):
        layer(np.zeros((2, 5, 6), np.float32))
    with pytest.raises(ValueError, match="has 2 state"):
        layer(np.zeros((2, 5, 4), np.float32), initial_state=[np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape \(2, 3\)"):
        layer(np.zeros((2, 5, 4), np.float32),
              initial_state=[np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)])


def test_return_sequences_and_state_shapes_symbolic_and_eager():
    inputs = minidl.Input((7, 3))
    outputs = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    assert [tuple(o.shape) for o in outputs] == [(None, 7, 4), (None, 4), (None, 4)]
    sequence, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(
        np.ones((2, 7, 3), np.float32))
    np.testing.assert_array_equal(sequence.data[:, -1], h.data)
    assert c.shape == (2, 4)


def test_time_major_transposes_inputs_and_outputs():
    x = values(4, [(2, 5, 3)])[0]
    batch_major = layers.GRU(4, return_sequences=True)
    expected = batch_major(x).data
    time_major = layers.GRU(4, return_sequences=True, time_major=True)
    time_major.build((5, None, 3))
    time_major.set_weights(batch_major.get_weights())
    np.testing.assert_allclose(time_major(x.transpose(1, 0, 2)).data, expected.transpose(1, 0, 2))


def test_stateful_continues_where_the_last_batch_stopped():
    x = values(5, [(2, 6, 3)])[0]
    whole = layers.LSTM(4, return_sequences=True)
    expected = whole(x).data
    stateful = layers.LSTM(4, return_sequences=True, stateful=True, batch_input_shape=(2, 3, 3))
    model = minidl.Sequential([stateful])
    stateful.set_weights(whole.get_weights())
    first = model.predict(x[:, :3], verbose=0)
    second = model.predict(x[:, 3:], verbose=0)
    np.testing.assert_allclose(np.concatenate([first, second], 1), expected, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), first, atol=1e-6)
    with pytest.raises(ValueError, match="batch size 2, received a batch of 3"):
        stateful(np.zeros((3, 3, 3), np.float32))


def test_dropout_only_while_training():
    minidl.utils.set_random_seed(0)
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5)
    x = values(6, [(3, 5, 2)])[0]
    inference = layer(x).data
    np.testing.assert_array_equal(layer(x, training=False).data, inference)
    assert not np.allclose(layer(x, training=True).data, inference)


def test_trains_on_a_learnable_sequence_task():
    """The sign of the sum of a sequence: an LSTM learns it in a few epochs."""
    minidl.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = minidl.Sequential([layers.LSTM(16, input_shape=(8, 1)), layers.Dense(1, "sigmoid")])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 3, 4)])
def test_orthogonal_initializer(shape):
    init = minidl.initializers.get("orthogonal")
    w = minidl.initializers.Orthogonal(gain=2.0, seed=3)(shape, np.float64).reshape(-1, shape[-1])
    small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(small, 4 * np.eye(min(w.shape)), atol=1e-12)
    assert minidl.initializers.serialize(init) == {
        "module": "keras.initializers", "class_name": "Orthogonal",
        "config": {"gain": 1.0, "seed": None}, "registered_name": None}
    np.testing.assert_array_equal(minidl.initializers.Orthogonal(seed=1)(shape),
                                  minidl.initializers.Orthogonal(seed=1)(shape))
    with pytest.raises(ValueError, match="at least 2 axes"):
        init((4,))


def test_encoder_states_start_a_decoder_in_a_functional_model(tmp_path):
    """Keras's sequence-to-sequence pattern: initial_state from another layer's
    return_state joins the graph (the encoder's weights train)."""
    encoder_inputs = minidl.Input((5, 3))
    _, h, c = layers.LSTM(4, return_state=True)(encoder_inputs)
    decoder_inputs = minidl.Input((6, 2))
    decoded = layers.LSTM(4, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    model = minidl.Model([encoder_inputs, decoder_inputs], layers.Dense(2)(decoded))
    assert model.count_params() == 128 + 112 + 10
    encoder = model.layers[1] if isinstance(model.layers[1], layers.LSTM) else model.layers[2]
    before = [w.copy() for w in encoder.get_weights()]
    a, b = values(11, [(8, 5, 3), (8, 6, 2)])
    model.compile("adam", "mse")
    model.fit([a, b], np.ones((8, 6, 2), np.float32), epochs=2, verbose=0)
    assert all(not np.array_equal(w, v) for w, v in zip(before, encoder.get_weights()))
    expected = model.predict([a, b], verbose=0)
    model.save(tmp_path / "seq2seq.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "seq2seq.mdl").predict([a, b], verbose=0),
                                  expected)
    eager = layers.GRU(3)
    x, h0 = values(12, [(2, 4, 3), (2, 3)])
    np.testing.assert_array_equal(eager([x, h0]).data, eager(x, initial_state=h0).data)


def test_recurrent_layers_say_they_support_masking_as_keras_2():
    """tf_keras 2.21: SimpleRNN/LSTM/GRU/Bidirectional have supports_masking = True (they
    read the mask); what goes on is compute_mask's (the sequence's mask with
    return_sequences only)."""
    for layer in (layers.SimpleRNN(2), layers.LSTM(2), layers.GRU(2),
                  layers.Bidirectional(layers.LSTM(2))):
        assert layer.supports_masking is True
    mask = np.array([[True, False, True]])
    assert layers.LSTM(2).compute_mask(np.zeros((1, 3, 4)), mask) is None
    np.testing.assert_array_equal(
        layers.LSTM(2, return_sequences=True).compute_mask(np.zeros((1, 3, 4)), mask), mask)


def test_stateful_states_are_zeros_once_built_with_a_batch_size():
    """tf_keras 2.21: a stateful layer built with a known batch size has zero states
    before its first call."""
    model = minidl.Sequential([layers.LSTM(3, stateful=True, batch_input_shape=(2, 5, 4))])
    states = model.layers[0].states
    assert [s.shape for s in states] == [(2, 3), (2, 3)]
    assert all(not s.any() for s in states)
    unknown = layers.GRU(3, stateful=True)
    unknown.build((None, 5, 4))
    assert unknown.states == [None]  # the batch size comes with the first batch
