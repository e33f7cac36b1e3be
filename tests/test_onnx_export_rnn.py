"""ONNX export of the sequence layers (SimpleRNN, LSTM, GRU, Bidirectional,
TimeDistributed, Masking and masks), checked by running the files in ONNX Runtime.

As in test_onnx_export: each model is exported, checked by ``onnx.checker``,
run by ONNX Runtime on batches of 1 and 7 and compared with ``predict``;
the masked models are also run on crafted batches (padding before, after and
inside the sequences, and all-padding rows).
"""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import Model, Sequential

from test_onnx_export import check_export, randomize, sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RECURRENT = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU,
             "GRU_reset_before": lambda *a, **k: layers.GRU(*a, reset_after=False, **k)}


def run_onnx(model, tmp_path, xs, name="model.onnx"):
    """ONNX Runtime's outputs for ``xs`` (a list, one array per input)."""
    path = tmp_path / name
    if not path.exists():
        minidl.onnx.export(model, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {f.name: x for f, x in zip(session.get_inputs(), xs)})


def assert_matches(model, tmp_path, xs):
    expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    got = run_onnx(model, tmp_path, xs)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.shape == e.shape
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6 * scale)


def node_ops(tmp_path, name="model.onnx"):
    return [n.op_type for n in onnx.load(str(tmp_path / name)).graph.node]


# --- the recurrent layers ---------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(RECURRENT))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_layer(kind, return_sequences, go_backwards, tmp_path):
    model = sequential(RECURRENT[kind](5, return_sequences=return_sequences,
                                       go_backwards=go_backwards), input_shape=(6, 3))
    check_export(model, tmp_path)
    assert {"SimpleRNN": "RNN", "GRU_reset_before": "GRU"}.get(kind, kind) in node_ops(tmp_path)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "GRU_reset_before"])
@pytest.mark.parametrize("activation, recurrent_activation", [
    ("relu", "hard_sigmoid"), ("linear", "sigmoid"), ("hard_sigmoid", "linear"),
    ("sigmoid", "tanh"), ("tanh", "relu")])
def test_gated_activations(kind, activation, recurrent_activation, tmp_path):
    model = sequential(RECURRENT[kind](4, activation=activation,
                                       recurrent_activation=recurrent_activation,
                                       return_sequences=True), input_shape=(5, 3))
    model.set_weights([w * 0.5 for w in model.get_weights()])  # linear/relu states stay small
    check_export(model, tmp_path)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "hard_sigmoid"])
def test_simple_rnn_activations(activation, tmp_path):
    model = sequential(layers.SimpleRNN(4, activation=activation, return_sequences=True),
                       input_shape=(5, 3))
    model.set_weights([w * 0.5 for w in model.get_weights()])
    check_export(model, tmp_path)


def test_no_bias_and_stacked(tmp_path):
    model = sequential(layers.GRU(6, use_bias=False, return_sequences=True),
                       layers.LSTM(5, return_sequences=True, unit_forget_bias=False),
                       layers.SimpleRNN(4), layers.Dense(2), input_shape=(7, 3))
    check_export(model, tmp_path)


@pytest.mark.parametrize("kind", sorted(RECURRENT))
def test_return_state_outputs(kind, tmp_path):
    inputs = layers.Input(shape=(6, 3), name="sequence")
    output, *states = RECURRENT[kind](4, return_state=True, return_sequences=True,
                                      name="rnn")(inputs)
    model = randomize(Model(inputs, [output, *states]))
    session = check_export(model, tmp_path)
    names = ["rnn", "rnn_1", "rnn_2"][:1 + len(states)]  # one layer's outputs, as Keras names them
    assert [o.name for o in session.get_outputs()] == names


def test_initial_states_from_inputs_encoder_decoder(tmp_path):
    encoder_in = layers.Input(shape=(5, 3), name="encoder_in")
    decoder_in = layers.Input(shape=(4, 2), name="decoder_in")
    _, h, c = layers.LSTM(6, return_state=True)(encoder_in)
    decoded = layers.LSTM(6, return_sequences=True)(decoder_in, initial_state=[h, c])
    gru_state = layers.Input(shape=(3,), name="gru_state")
    gru = layers.GRU(3, go_backwards=True)([decoder_in, gru_state])
    model = randomize(Model([encoder_in, decoder_in, gru_state], [decoded, gru]))
    check_export(model, tmp_path)


# --- Bidirectional -------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merge_modes(merge_mode, return_sequences, tmp_path):
    inputs = layers.Input(shape=(6, 3), name="sequence")
    outputs = layers.Bidirectional(layers.LSTM(4, return_sequences=return_sequences),
                                   merge_mode=merge_mode)(inputs)
    model = randomize(Model(inputs, outputs))
    check_export(model, tmp_path)
    assert node_ops(tmp_path).count("LSTM") == 1  # one direction="bidirectional" node
    node = next(n for n in onnx.load(str(tmp_path / "model.onnx")).graph.node
                if n.op_type == "LSTM")
    assert onnx.helper.get_attribute_value(
        next(a for a in node.attribute if a.name == "direction")) == b"bidirectional"


@pytest.mark.parametrize("kind", ["GRU", "SimpleRNN"])
def test_bidirectional_gru_and_rnn(kind, tmp_path):
    model = sequential(layers.Bidirectional(RECURRENT[kind](4, return_sequences=True)),
                       layers.Bidirectional(RECURRENT[kind](3), merge_mode="sum"),
                       input_shape=(6, 3))
    check_export(model, tmp_path)


def test_bidirectional_return_state(tmp_path):
    inputs = layers.Input(shape=(6, 3), name="sequence")
    output, *states = layers.Bidirectional(layers.LSTM(4, return_state=True))(inputs)
    model = randomize(Model(inputs, [output, *states]))
    session = check_export(model, tmp_path)
    assert len(session.get_outputs()) == 5  # output, forward h c, backward h c


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_with_another_backward_layer(return_sequences, tmp_path):
    """Two classes cannot share a node: two nodes, then the merge."""
    layer = layers.Bidirectional(
        layers.LSTM(4, return_sequences=return_sequences),
        backward_layer=layers.GRU(4, go_backwards=True, return_sequences=return_sequences))
    model = sequential(layer, input_shape=(6, 3))
    check_export(model, tmp_path)
    assert {"LSTM", "GRU"} <= set(node_ops(tmp_path))


def test_bidirectional_of_a_go_backwards_layer(tmp_path):
    model = sequential(layers.Bidirectional(layers.GRU(3, go_backwards=True,
                                                       return_sequences=True)),
                       input_shape=(5, 2))
    check_export(model, tmp_path)


# --- masks ------------------------------------------------------------------------------
def padded_tokens():
    """Token batches of 6 steps, 0 = padding: before the words (pad_sequences'
    default), after, inside, none, and all of it."""
    return np.array([[0, 0, 0, 4, 2, 7],
                     [3, 5, 1, 0, 0, 0],
                     [0, 6, 0, 0, 2, 0],
                     [1, 2, 3, 4, 5, 6],
                     [0, 0, 0, 0, 0, 0],
                     [0, 0, 0, 0, 0, 9],
                     [8, 0, 0, 0, 0, 0]], dtype=np.float32)


def masked_model(layer, *after):
    return sequential(layers.Embedding(10, 3, mask_zero=True), layer, *after, input_shape=(6,))


MASKED = {
    "lstm": lambda: layers.LSTM(4),
    "lstm_sequences": lambda: layers.LSTM(4, return_sequences=True),
    "gru_backwards": lambda: layers.GRU(4, go_backwards=True),
    "gru_backwards_sequences": lambda: layers.GRU(4, go_backwards=True, return_sequences=True),
    "gru_reset_before_sequences": lambda: layers.GRU(4, reset_after=False,
                                                     return_sequences=True),
    "bidirectional_gru_reset_before": lambda: layers.Bidirectional(
        layers.GRU(3, reset_after=False)),
    "simple_rnn_sequences": lambda: layers.SimpleRNN(4, return_sequences=True),
    "bidirectional_lstm": lambda: layers.Bidirectional(layers.LSTM(4)),
    "bidirectional_lstm_sequences_ave": lambda: layers.Bidirectional(
        layers.LSTM(4, return_sequences=True), merge_mode="ave"),
    "bidirectional_gru_sequences": lambda: layers.Bidirectional(
        layers.GRU(3, return_sequences=True)),
    "bidirectional_two_classes": lambda: layers.Bidirectional(
        layers.GRU(3, return_sequences=True),
        backward_layer=layers.SimpleRNN(3, go_backwards=True, return_sequences=True)),
}


@pytest.mark.parametrize("case", sorted(MASKED))
def test_masked_sequences(case, tmp_path):
    model = masked_model(MASKED[case]())
    check_export(model, tmp_path, integers=3)  # many zeros: padding anywhere
    assert_matches(model, tmp_path, [padded_tokens()])


def test_mask_passes_dense_dropout_noise_and_stacked_layers(tmp_path):
    model = masked_model(layers.Dense(4), layers.Dropout(0.3), layers.GaussianNoise(0.5),
                         layers.LSTM(5, return_sequences=True), layers.GRU(3, return_state=False))
    assert_matches(model, tmp_path, [padded_tokens()])


def test_mask_with_return_state(tmp_path):
    inputs = layers.Input(shape=(6,), name="tokens")
    embedded = layers.Embedding(10, 3, mask_zero=True)(inputs)
    output, h, c = layers.LSTM(4, return_state=True, return_sequences=True)(embedded)
    model = randomize(Model(inputs, [output, h, c]))
    assert_matches(model, tmp_path, [padded_tokens()])


def test_bidirectional_initial_states_from_inputs(tmp_path):
    """A bidirectional encoder's final states start a bidirectional decoder (the
    forward layer's states, then the backward layer's), with and without a mask."""
    tokens = layers.Input(shape=(6,), name="tokens")
    embedded = layers.Embedding(10, 3, mask_zero=True)(tokens)
    _, *states = layers.Bidirectional(layers.LSTM(4, return_state=True))(embedded)
    decoded = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode="sum")(
        embedded, initial_state=states)
    given = [layers.Input(shape=(2,), name=f"state_{k}") for k in range(2)]
    gru = layers.Bidirectional(layers.GRU(2, return_state=True))([embedded, *given])
    model = randomize(Model([tokens, *given], [decoded, *gru]))
    starts = list(np.random.default_rng(5).normal(size=(2, 7, 2)).astype(np.float32))
    assert_matches(model, tmp_path, [padded_tokens(), *starts])


def test_mask_with_initial_states(tmp_path):
    tokens = layers.Input(shape=(6,), name="tokens")
    state = layers.Input(shape=(4,), name="state")
    embedded = layers.Embedding(10, 3, mask_zero=True)(tokens)
    output, h = layers.GRU(4, return_state=True)(embedded, initial_state=[state])
    model = randomize(Model([tokens, state], [output, h]))
    states = np.random.default_rng(3).normal(size=(7, 4)).astype(np.float32)
    assert_matches(model, tmp_path, [padded_tokens(), states])


def test_masking_layer(tmp_path):
    x = np.random.default_rng(4).normal(size=(7, 6, 3)).astype(np.float32)
    x[padded_tokens() == 0] = -1.0  # the padded steps
    x[2, 1, 0] = -1.0  # one feature equal to mask_value: still a real step
    model = sequential(layers.Masking(mask_value=-1.0), layers.LSTM(4, return_sequences=True),
                       layers.Bidirectional(layers.GRU(3)), input_shape=(6, 3))
    check_export(model, tmp_path)
    assert_matches(model, tmp_path, [x])


def test_mask_dropped_by_a_layer_that_does_not_pass_it(tmp_path):
    """minidl's Conv1D drops the mask: the LSTM after it reads every step."""
    model = masked_model(layers.Conv1D(4, 1), layers.LSTM(3))
    assert_matches(model, tmp_path, [padded_tokens()])


def test_mask_reaching_a_layer_that_reads_it_is_refused(tmp_path):
    model = masked_model(layers.Softmax(name="scores"))
    with pytest.raises(NotImplementedError, match=r'layer "scores" \(Softmax\) reads the timestep '
                                                  "mask"):
        model.export(tmp_path / "m.onnx")


# --- refused ------------------------------------------------------------------------------
def test_stateful_is_refused(tmp_path):
    model = Sequential([layers.LSTM(3, stateful=True, name="memory",
                                    batch_input_shape=(2, 4, 3))])
    with pytest.raises(NotImplementedError, match=r'"memory" \(LSTM\) is stateful.*stateful=False'):
        model.export(tmp_path / "m.onnx")


def test_stateful_inside_bidirectional_is_refused(tmp_path):
    model = Sequential([layers.Bidirectional(layers.GRU(3, stateful=True), name="both",
                                             batch_input_shape=(2, 4, 3))])
    with pytest.raises(NotImplementedError, match=r'"both" \(Bidirectional\) is stateful'):
        model.export(tmp_path / "m.onnx")


def test_time_major_is_refused(tmp_path):
    model = Sequential([layers.InputLayer(input_shape=(4, 3)),
                        layers.GRU(3, time_major=True, name="tm")])
    with pytest.raises(NotImplementedError, match=r'"tm" \(GRU\) is time_major'):
        model.export(tmp_path / "m.onnx")


def any_length_tokens(steps, seed):
    """7 token rows of ``steps`` steps: padding before, after, inside and all of it."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 10, (7, steps)).astype(np.float32)
    x[0, :steps // 2] = 0
    x[1, steps // 3:] = 0
    x[2, ::3] = 0
    x[4] = 0
    return x


def test_sequences_of_any_length(tmp_path):
    """examples/10's longer_model: no input_length, so the graph has a "timesteps" axis."""
    model = Sequential([layers.Embedding(10, 8, mask_zero=True),
                        layers.Bidirectional(layers.LSTM(4)),
                        layers.Dense(1, activation="sigmoid")])
    model.predict(any_length_tokens(5, 0), verbose=0)  # built for any length
    assert model.inputs[0].shape == (None, None)
    for steps in (5, 11, 1):
        assert_matches(model, tmp_path, [any_length_tokens(steps, steps)])
    dims = onnx.load(str(tmp_path / "model.onnx")).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "timesteps"]


def test_tagger_of_any_length(tmp_path):
    """Per-step outputs for sequences of any length: LSTM, GRU and TimeDistributed(Dense)."""
    inputs = layers.Input(shape=(None,), name="tokens")
    embedded = layers.Embedding(10, 6, mask_zero=True)(inputs)
    steps = layers.LSTM(5, return_sequences=True)(embedded)
    steps = layers.GRU(4, return_sequences=True, go_backwards=True)(steps)
    tags = layers.TimeDistributed(layers.Dense(3, activation="softmax"), name="tags")(steps)
    model = randomize(Model(inputs, [tags, layers.GlobalMaxPooling1D(name="pooled")(steps)]))
    for steps in (6, 13):
        assert_matches(model, tmp_path, [any_length_tokens(steps, steps)])


def test_layer_that_needs_the_length_is_named(tmp_path):
    model = Sequential([layers.Embedding(10, 8), layers.Conv1D(4, 3, padding="same", name="conv"),
                        layers.GlobalMaxPooling1D()])
    model.predict(np.ones((2, 7), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r'"conv" \(Conv1D\) gets inputs of shape \(None, None, 8\)'
                                         r".*Conv1D needs the number of timesteps.*input_length="):
        model.export(tmp_path / "m.onnx")


# --- TimeDistributed ---------------------------------------------------------------------
def test_time_distributed_dense_after_lstm(tmp_path):
    model = sequential(layers.LSTM(5, return_sequences=True),
                       layers.TimeDistributed(layers.Dense(3, activation="softmax")),
                       input_shape=(6, 4))
    check_export(model, tmp_path)


def test_time_distributed_conv2d(tmp_path):
    model = sequential(layers.TimeDistributed(layers.Conv2D(2, 3, activation="relu")),
                       layers.TimeDistributed(layers.Flatten()), input_shape=(3, 6, 5, 2))
    check_export(model, tmp_path)


def test_time_distributed_keeps_the_mask(tmp_path):
    model = masked_model(layers.TimeDistributed(layers.Dense(4)), layers.LSTM(3))
    assert_matches(model, tmp_path, [padded_tokens()])


def test_time_distributed_lstm_and_embedding(tmp_path):
    """(batch, sentences, words): an Embedding and an LSTM per sentence."""
    model = sequential(layers.TimeDistributed(layers.Embedding(10, 3)),
                       layers.TimeDistributed(layers.LSTM(4)), layers.LSTM(2),
                       input_shape=(3, 5))
    check_export(model, tmp_path, integers=10)


@pytest.mark.parametrize("opset", [13, 17, None])
def test_opsets_masked_bidirectional(opset, tmp_path):
    newest = onnx.defs.onnx_opset_version()
    opset = newest if opset is None else opset
    model = sequential(layers.Masking(), layers.Bidirectional(layers.GRU(3, return_sequences=True)),
                       layers.LSTM(2), input_shape=(6, 3))
    x = np.random.default_rng(7).normal(size=(7, 6, 3)).astype(np.float32)
    x[padded_tokens() == 0] = 0.0
    minidl.onnx.export(model, tmp_path / "model.onnx", opset=opset)
    onnx.checker.check_model(onnx.load(str(tmp_path / "model.onnx")), full_check=True)
    try:
        assert_matches(model, tmp_path, [x])
    except ort.capi.onnxruntime_pybind11_state.Fail as error:
        if opset == newest and "Unsupported model IR version" in str(error):
            pytest.skip(f"onnxruntime {ort.__version__} cannot run opset {opset} yet: {error}")
        raise


def test_activation_onnx_lacks_is_named(tmp_path):
    model = sequential(layers.LSTM(3, name="odd"), input_shape=(4, 2))
    model.layers[0].activation = minidl.activations.get("softplus")  # past the layer's own check
    with pytest.raises(NotImplementedError, match=r'layer "odd" \(LSTM\) uses the activation '
                                                  "'softplus'"):
        model.export(tmp_path / "m.onnx")


def test_mask_crossing_a_nested_model_is_refused(tmp_path):
    inner = Sequential([layers.Embedding(10, 3, mask_zero=True, input_shape=(6,)),
                        layers.LSTM(4, return_sequences=True)], name="encoder")
    outer = Sequential([inner, layers.LSTM(2)])
    with pytest.raises(NotImplementedError, match='model "encoder" is nested .*output carries a '
                                                  "timestep mask"):
        outer.export(tmp_path / "m.onnx")


# --- the other sequence layers (their converters are in convert_conv and convert_core) ----
@pytest.mark.parametrize("options", [dict(padding="same", dilation_rate=2),
                                     dict(padding="valid", strides=3),
                                     dict(padding="causal", strides=2),
                                     dict(padding="valid", dilation_rate=3, activation="relu")])
def test_conv1d_more_geometries(options, tmp_path):
    check_export(sequential(layers.Conv1D(3, 3, **options), input_shape=(11, 2)), tmp_path)


def test_sequence_model_of_conv1d_pooling_repeat_permute(tmp_path):
    """A small sequence model through the 1-D layers into an LSTM decoder."""
    model = sequential(layers.Conv1D(4, 3, padding="causal", activation="relu"),
                       layers.MaxPooling1D(2), layers.AveragePooling1D(2, strides=1),
                       layers.GlobalMaxPooling1D(), layers.RepeatVector(3),
                       layers.LSTM(5, return_sequences=True), layers.Permute((2, 1)),
                       layers.GlobalAveragePooling1D(), input_shape=(12, 2))
    check_export(model, tmp_path)


# --- the tutorial LSTM models ------------------------------------------------------------
def test_tutorial_fashion_lstm_rows_after_training(tmp_path):
    """examples/09: LSTM(128) over the 28 rows of each image, Dense 10 softmax."""
    model = Sequential([layers.LSTM(128, input_shape=(28, 28)),
                        layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(5)
    x = rng.random((64, 28, 28), dtype=np.float32)
    model.fit(x, rng.integers(0, 10, 64), epochs=1, batch_size=32, verbose=0)
    check_export(model, tmp_path)
    assert_matches(model, tmp_path, [x])


def test_tutorial_imdb_bidirectional_lstm_after_training(tmp_path):
    """examples/10: Embedding(mask_zero=True), Bidirectional(LSTM(32)), Dense 1 sigmoid,
    on reviews padded before their words (pad_sequences' default)."""
    words, length = 200, 40
    model = Sequential([layers.Embedding(words, 32, mask_zero=True, input_length=length),
                        layers.Bidirectional(layers.LSTM(32)),
                        layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    rng = np.random.default_rng(6)
    lengths = rng.integers(1, length + 1, 96)
    x = np.zeros((96, length), np.float32)
    for row, n in zip(x, lengths):
        row[length - n:] = rng.integers(1, words, n)
    model.fit(x, rng.integers(0, 2, 96).astype(np.float32), epochs=1, batch_size=32, verbose=0)
    check_export(model, tmp_path, integers=words)
    assert_matches(model, tmp_path, [x])
