"""The sequence layers against tf_keras 2.21, case by case: what an audit of Embedding,
Masking, Flatten, the recurrent layers, their wrappers, 1-D pooling and pad_sequences
found different from Keras 2 (expected values copied from tf_keras 2.21 as literals)."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.utils import pad_sequences


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


# --- arguments of the wrong type: a TypeError, as Keras 2 raises ----------------------
@pytest.mark.parametrize("make", [
    lambda: layers.Embedding("10", 4),
    lambda: layers.Embedding(10, None),
    lambda: layers.RepeatVector("3"),
    lambda: layers.Masking("a"),
    lambda: layers.RepeatVector(3.0),
    lambda: layers.SimpleRNN("3"),
    lambda: layers.LSTM(None),
    lambda: layers.LSTM(3.0),
    lambda: layers.GRU(3, dropout="a"),
    lambda: layers.LSTM(3, recurrent_dropout=None),
    lambda: layers.Conv1D("3", 3),
    lambda: layers.MaxPooling1D("2"),
    lambda: pad_sequences([[1]], maxlen=2.0),
    lambda: pad_sequences([[1]], maxlen="2"),
])
def test_wrong_types_are_a_type_error(make):
    with pytest.raises(TypeError):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Embedding(0, 4),
    lambda: layers.Embedding(10, -1),
    lambda: layers.LSTM(0),
    lambda: layers.GRU(-2),
    lambda: layers.Conv1D(0, 3),
    lambda: pad_sequences([[1]], maxlen=-1),
])
def test_bad_values_are_a_value_error(make):
    with pytest.raises(ValueError):
        make()


# --- Embedding ----------------------------------------------------------------------
def test_embedding_takes_sparse_false_and_refuses_sparse_true():
    layer = layers.Embedding(10, 4, sparse=False)
    assert "sparse" not in layer.get_config()  # tf_keras 2.21 leaves it out
    with pytest.raises(ValueError, match="sparse=True"):
        layers.Embedding(10, 4, sparse=True)


# --- Masking ------------------------------------------------------------------------
def test_masking_compute_mask_of_a_numpy_array():
    x = np.array([[[1., 2.], [0., 0.], [0., 3.]]], dtype="float32")
    layer = layers.Masking()
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True]])
    np.testing.assert_array_equal(layers.Masking(-1.0).compute_mask(x - 1), [[True, False, True]])


# --- Flatten(data_format=...) -------------------------------------------------------
def test_flatten_config_has_data_format():
    assert layers.Flatten().get_config()["data_format"] == "channels_last"
    config = layers.Flatten(data_format="channels_first").get_config()
    assert config["data_format"] == "channels_first"
    assert layers.Flatten.from_config(config).data_format == "channels_first"


def test_flatten_channels_first_moves_channels_last_as_tf_keras():
    x3 = np.arange(6, dtype="float32").reshape(1, 2, 3)
    out = layers.Flatten(data_format="channels_first")(x3)
    np.testing.assert_array_equal(out.numpy(), [[0, 3, 1, 4, 2, 5]])  # tf_keras 2.21
    x4 = np.arange(12, dtype="float32").reshape(1, 2, 3, 2)
    out = layers.Flatten(data_format="channels_first")(x4)
    np.testing.assert_array_equal(out.numpy(), [[0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]])
    with pytest.raises(ValueError, match="data_format"):
        layers.Flatten(data_format="nchw")


def test_flatten_channels_first_saves_and_loads(tmp_path):
    model = minidl.Sequential([minidl.Input((2, 3)), layers.Flatten(data_format="channels_first")])
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].data_format == "channels_first"


# --- SimpleRNN / LSTM / GRU -----------------------------------------------------------
X = np.random.RandomState(0).randn(2, 3, 4).astype("float32")
_CELL_KEYS = ["activation", "bias_constraint", "bias_initializer", "bias_regularizer", "dropout",
              "dtype", "kernel_constraint", "kernel_initializer", "kernel_regularizer", "name",
              "recurrent_constraint", "recurrent_dropout", "recurrent_initializer",
              "recurrent_regularizer", "trainable", "units", "use_bias"]
CELLS = {  # tf_keras 2.21: sorted(layer.cell.get_config()), layer.cell.name
    "SimpleRNN": (_CELL_KEYS, "simple_rnn_cell", "SimpleRNNCell"),
    "LSTM": (sorted(_CELL_KEYS + ["implementation", "recurrent_activation", "unit_forget_bias"]),
             "lstm_cell", "LSTMCell"),
    "GRU": (sorted(_CELL_KEYS + ["implementation", "recurrent_activation", "reset_after"]),
            "gru_cell", "GRUCell"),
}
# tf_keras 2.21: stateful layer(3) called on X, weights RandomState(1).randn * 0.5 in
# get_weights() order, reset_states(states=[0.5 everywhere] per state), then layer(X)
STATEFUL_FROM_HALF = {
    "SimpleRNN": [[0.520303, 0.950355, -0.842664], [-0.595618, 0.663541, 0.900276]],
    "LSTM": [[0.190377, 0.328794, -0.050817], [0.224746, 0.050148, -0.166622]],
    "GRU": [[-0.568304, -0.460236, -0.058577], [-0.837283, -0.061633, -0.405096]],
}


def _set_weights(layer, seed=1):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.randn(*w.shape).astype("float32") * 0.5 for w in layer.get_weights()])


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_layer_cell_as_keras_2(name):
    keys, cell_name, cell_class = CELLS[name]
    layer = getattr(layers, name)(3, dropout=0.25, name="r")
    cell = layer.cell
    assert type(cell).__name__ == cell_class and cell.name == cell_name
    config = cell.get_config()
    assert sorted(config) == keys
    assert config["units"] == 3 and config["dropout"] == 0.25 and config["name"] == cell_name
    assert cell is layer.cell
    layer(X)
    assert [w is v for w, v in zip(layer.cell.weights, layer.weights)] == [True] * 3
    assert len(layer.cell.weights) == 3
    # the cell is no second owner: the layer's (and a model's) weights are counted once
    assert len(layer.weights) == 3
    model = minidl.Sequential([minidl.Input((3, 4)), getattr(layers, name)(3)])
    model.layers[0].cell
    assert len(model.weights) == 3 and len(model.trainable_weights) == 3


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_weight_names_name_the_cell_as_keras_2(name):
    layer = getattr(layers, name)(3, name="r")
    layer(X)
    cell = CELLS[name][1]  # tf_keras 2.21: "r/lstm_cell/kernel:0" (minidl has no ":0")
    assert [w.name for w in layer.trainable_weights] == [
        f"r/{cell}/kernel", f"r/{cell}/recurrent_kernel", f"r/{cell}/bias"]


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_implementation_as_keras_2(name):
    make = getattr(layers, name)
    assert make(3).get_config()["implementation"] == 2
    assert make(3, implementation=1).get_config()["implementation"] == 1
    # Keras switches to implementation 1 when there is recurrent dropout
    assert make(3, recurrent_dropout=0.1).get_config()["implementation"] == 1
    assert getattr(layers, f"{name}Cell")(3, recurrent_dropout=0.1).get_config()[
        "implementation"] == 1
    with pytest.warns(DeprecationWarning, match="implementation=0"):
        assert make(3, implementation=0).get_config()["implementation"] == 0
    with pytest.raises(ValueError, match="implementation must be 1 or 2"):
        make(3, implementation=3)


def test_simple_rnn_implementation_is_deprecated_and_ignored():
    with pytest.warns(DeprecationWarning, match="implementation"):
        layer = layers.SimpleRNN(3, implementation=1)
    assert "implementation" not in layer.get_config()


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_zero_timesteps_is_a_clear_error(name):
    with pytest.raises(ValueError, match="0 timesteps"):
        getattr(layers, name)(3)(X[:, :0])


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_reset_states_with_values_as_tf_keras(name):
    layer = getattr(layers, name)(3, stateful=True)
    layer(X)
    _set_weights(layer)
    count = 2 if name == "LSTM" else 1
    layer.reset_states(states=[np.full((2, 3), 0.5)] * count)
    np.testing.assert_allclose([s for s in layer.states], np.full((count, 2, 3), 0.5))
    np.testing.assert_allclose(layer(X).numpy(), STATEFUL_FROM_HALF[name], atol=2e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_reset_states_of_the_wrong_shape_is_refused_and_changes_nothing(name):
    layer = getattr(layers, name)(3, stateful=True)
    layer(X)
    before = [np.array(s) for s in layer.states]
    count = 2 if name == "LSTM" else 1
    for states in ([np.full((2, 4), 0.5)] * count,  # units
                   [np.full((5, 3), 0.5)] * count,  # batch (fixed at 2 by the first call)
                   [np.full((2, 3), 0.5)] * (count + 1)):  # how many
        with pytest.raises(ValueError, match="reset_states needs"):
            layer.reset_states(states=states)
        np.testing.assert_array_equal(layer.states, before)
    with pytest.raises(AttributeError, match="stateful"):
        getattr(layers, name)(3).reset_states()


def test_stateful_batch_size_message_says_what_works():
    layer = layers.LSTM(3, stateful=True)
    layer(X)
    with pytest.raises(ValueError, match="batch_size="):
        layer(X[:1])


# --- Bidirectional --------------------------------------------------------------------
def test_bidirectional_layer_attribute_is_the_given_layer():
    inner = layers.LSTM(3, name="inner")
    wrapper = layers.Bidirectional(inner)
    assert wrapper.layer is inner  # tf_keras 2.21: True, "forward_inner", "backward_inner"
    assert (wrapper.forward_layer.name, wrapper.backward_layer.name) == (
        "forward_inner", "backward_inner")
    wrapper(X)
    assert len(wrapper.weights) == 6 and not inner.built


# --- 1-D pooling with data_format="channels_first" -------------------------------------
CF = (np.arange(24, dtype="float32").reshape(2, 3, 4) % 7) - 3  # (batch, channels 3, steps 4)
CF_POOLED = {  # tf_keras 2.21, pool 3, strides 2, padding "same", channels_first
    "MaxPooling1D": [[[-1, 0], [3, 3], [0, 1]], [[3, -2], [1, 2], [3, -1]]],
    "AveragePooling1D": [[[-2, -0.5], [2, 0], [-1, 0.5]],
                         [[2 / 3, -2.5], [0, 1.5], [-2 / 3, -1.5]]],
}
CF_GLOBAL = {"GlobalMaxPooling1D": [[0, 3, 1], [3, 2, 3]],
             "GlobalAveragePooling1D": [[-1.5, 0.75, -0.5], [0, 0.5, -0.75]]}


@pytest.mark.parametrize("name", sorted(CF_POOLED))
def test_pooling1d_channels_first_as_tf_keras(name):
    layer = getattr(layers, name)(3, strides=2, padding="same", data_format="channels_first")
    np.testing.assert_allclose(layer(CF).numpy(), CF_POOLED[name], rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 2)
    config = layer.get_config()
    assert config["data_format"] == "channels_first"
    assert type(layer).from_config(config).data_format == "channels_first"


@pytest.mark.parametrize("name", sorted(CF_GLOBAL))
def test_global_pooling1d_channels_first_as_tf_keras(name):
    make = getattr(layers, name)
    np.testing.assert_allclose(make(data_format="channels_first")(CF).numpy(), CF_GLOBAL[name])
    kept = make(data_format="channels_first", keepdims=True)
    assert kept(CF).shape == (2, 3, 1) and kept.compute_output_shape((None, 3, 4)) == (None, 3, 1)
    assert kept.get_config()["data_format"] == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        make(data_format="nhwc")


def test_global_average_pooling1d_channels_first_with_a_mask_as_tf_keras():
    mask = np.array([[True, True, False, False], [True, False, True, False]])  # over the steps
    out = layers.GlobalAveragePooling1D(data_format="channels_first")(CF, mask=mask)
    np.testing.assert_allclose(out.numpy(), [[-2.5, 1.5, -1.5], [-0.5, 0, 0.5]])


def test_channels_first_pooling_in_a_model_summary_and_gradients():
    model = minidl.Sequential([
        minidl.Input((3, 4)),
        layers.MaxPooling1D(3, strides=2, padding="same", data_format="channels_first"),
        layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)])
    assert model.output_shape == (None, 3, 1)  # tf_keras 2.21
    from minidl.testing import gradcheck
    from minidl.tensor import Tensor
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 5)), requires_grad=True)
    assert gradcheck(lambda t: layers.AveragePooling1D(
        2, data_format="channels_first", dtype="float64")(t), [x])


# --- Conv1D(groups=..., data_format="channels_first") ----------------------------------
CX = ((np.arange(40, dtype="float32").reshape(2, 5, 4) * 7) % 11 - 5) / 5


def _rounded_weights(layer):
    rng = np.random.RandomState(3)
    layer.set_weights([np.round(rng.randn(*w.shape), 1).astype("float32")
                       for w in layer.get_weights()])


def test_conv1d_groups_as_tf_keras():
    layer = layers.Conv1D(4, 2, groups=2, activation="relu")
    layer(CX)
    assert [w.shape for w in layer.get_weights()] == [(2, 2, 4), (4,)]  # (k, in / groups, f)
    _rounded_weights(layer)
    np.testing.assert_allclose(layer(CX).numpy(), [  # tf_keras 2.21
        [[0, 0, 0, 0], [0.58, 0.24, 1.24, 0], [0, 0, 0, 0.7], [1.06, 0.48, 1, 0]],
        [[1.54, 0.72, 0.54, 0.98], [0, 0, 2.18, 0], [0.04, 0, 0.3, 0.58], [0, 0, 1.94, 0]]],
        atol=1e-5)


def test_conv1d_channels_first_as_tf_keras():
    layer = layers.Conv1D(3, 2, strides=2, padding="same", data_format="channels_first")
    layer(CX)  # (batch 2, channels 5, steps 4)
    _rounded_weights(layer)
    np.testing.assert_allclose(layer(CX).numpy(), [  # tf_keras 2.21
        [[-2.78, -2.26], [1.48, -1.08], [-1.24, -2.08]],
        [[5.5, -2.78], [3.38, 1.48], [-2.6, -1.24]]], atol=1e-5)


def test_conv1d_groups_and_channels_first_summary_config_and_errors():
    model = minidl.Sequential([
        minidl.Input((20, 4)), layers.Conv1D(8, 3, padding="causal"), layers.MaxPooling1D(),
        layers.Conv1D(4, 3, groups=2), layers.GlobalAveragePooling1D()])
    assert model.count_params() == 156  # tf_keras 2.21
    assert [layer.output_shape for layer in model.layers] == [
        (None, 20, 8), (None, 10, 8), (None, 8, 4), (None, 4)]
    first = minidl.Sequential([minidl.Input((4, 20)), layers.Conv1D(
        6, 3, data_format="channels_first", groups=2)])
    assert (first.count_params(), first.output_shape) == (42, (None, 6, 18))
    config = layers.Conv1D(4, 2, groups=2, data_format="channels_first").get_config()
    assert (config["groups"], config["data_format"]) == (2, "channels_first")
    assert layers.Conv1D.from_config(config).groups == 2
    with pytest.raises(ValueError, match="filters must be evenly divisible"):
        layers.Conv1D(3, 3, groups=2)
    with pytest.raises(ValueError, match="input channels must be evenly divisible"):
        layers.Conv1D(4, 2, groups=2)(np.ones((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match="data_format"):
        layers.Conv1D(4, 2, data_format="ncw")


def test_conv1d_groups_channels_first_gradients():
    from minidl.tensor import Tensor
    from minidl.testing import gradcheck
    layer = layers.Conv1D(4, 2, groups=2, data_format="channels_first", dtype="float64",
                          activation="tanh")
    x = Tensor(np.random.default_rng(1).normal(size=(2, 4, 5)), requires_grad=True)
    layer(x)
    assert gradcheck(lambda t: layer(t), [x])
    assert gradcheck(lambda k, b: layer(x), [layer.kernel, layer.bias])


def test_conv1d_groups_saves_and_loads(tmp_path):
    model = minidl.Sequential([minidl.Input((6, 4)), layers.Conv1D(
        4, 3, groups=2, data_format="channels_first")])
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    x = np.random.default_rng(2).normal(size=(2, 6, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


S4 = [np.full((2, 3), 0.1 * (k + 1), "float32") for k in range(4)]


def test_bidirectional_initial_state_from_model_inputs_as_tf_keras():
    inputs = minidl.Input((3, 4))
    states = [minidl.Input((3,)) for _ in range(4)]
    wrapper = layers.Bidirectional(layers.LSTM(3))
    model = minidl.Model([inputs] + states, wrapper(inputs, initial_state=states))
    _set_weights(wrapper)
    np.testing.assert_allclose(model.predict([X] + S4, verbose=0), [  # tf_keras 2.21
        [0.202342, 0.283398, -0.199746, 0.382683, 0.085476, -0.323735],
        [0.237954, 0.033452, -0.337061, 0.385232, -0.00744, 0.028674]], atol=2e-6)
    # an encoder's final states start a decoder: the encoder is part of the model
    encoded, *final = layers.Bidirectional(layers.LSTM(3, return_state=True))(inputs)
    model = minidl.Model(inputs, layers.Bidirectional(layers.LSTM(3))(
        inputs, initial_state=final))
    assert len(model.weights) == 12 and model.output_shape == (None, 6)
    with pytest.raises(ValueError, match="list of 4 states"):
        layers.Bidirectional(layers.LSTM(3))(X, initial_state=S4[:3])


def test_bidirectional_stateful_reset_states_as_tf_keras():
    wrapper = layers.Bidirectional(layers.GRU(3, stateful=True))
    assert wrapper.stateful
    wrapper(X)
    _set_weights(wrapper)
    wrapper.reset_states(states=S4[:2])  # the forward layer's, then the backward layer's
    np.testing.assert_allclose(wrapper(X).numpy(), [  # tf_keras 2.21
        [-0.564923, -0.60757, -0.173471, 0.224704, -0.665346, 0.529029],
        [-0.826126, -0.296279, -0.546753, 0.020148, -0.604436, 0.07762]], atol=2e-6)
    before = [np.array(s) for s in wrapper.forward_layer.states + wrapper.backward_layer.states]
    with pytest.raises(ValueError, match="list of states"):
        wrapper.reset_states(states=S4[0])
    with pytest.raises(ValueError, match="reset_states needs"):  # the backward half is wrong
        wrapper.reset_states(states=[S4[0], np.zeros((2, 4))])
    np.testing.assert_array_equal(  # a refused call changes neither layer
        wrapper.forward_layer.states + wrapper.backward_layer.states, before)
    with pytest.raises(AttributeError, match="stateful"):
        layers.Bidirectional(layers.GRU(3)).reset_states()
    with pytest.raises(ValueError, match="stateful"):
        layers.Bidirectional(layers.LSTM(3, stateful=True),
                             backward_layer=layers.LSTM(3, go_backwards=True))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_attributes_of_keras_2(name):
    layer = getattr(layers, name)(3)
    states = layer.get_initial_state(X)  # tf_keras 2.21: a list of (2, 3) float32 zeros
    assert isinstance(states, list) and len(states) == (2 if name == "LSTM" else 1)
    assert all(s.shape == (2, 3) and s.dtype == np.float32 and not s.numpy().any()
               for s in states)
    assert layer.zero_output_for_mask is False
    assert layers.Bidirectional(getattr(layers, name)(3, return_sequences=True)
                                ).forward_layer.zero_output_for_mask is True
    assert (layer.kernel_constraint, layer.recurrent_constraint, layer.bias_constraint) == (
        None, None, None)
    assert layers.Embedding(3, 2).sparse is False


def test_time_distributed_embedding_mask_of_integer_indices():
    indices = np.array([[[1, 0], [0, 0]], [[2, 3], [0, 1]]])
    wrapper = layers.TimeDistributed(layers.Embedding(5, 2, mask_zero=True))
    np.testing.assert_array_equal(wrapper.compute_mask(indices), [  # tf_keras 2.21
        [[True, False], [False, False]], [[True, True], [False, True]]])


def test_wrapped_weights_are_named_under_the_wrapper_as_keras_2():
    wrapper = layers.Bidirectional(layers.LSTM(3))
    wrapper(X)
    assert [w.name for w in wrapper.weights][::3] == [  # tf_keras 2.21, without ":0"
        "bidirectional/forward_lstm/lstm_cell/kernel",
        "bidirectional/backward_lstm/lstm_cell/kernel"]
    rnn = layers.RNN(layers.LSTMCell(3), name="r")
    rnn(X)
    assert [w.name for w in rnn.weights] == [
        "r/lstm_cell/kernel", "r/lstm_cell/recurrent_kernel", "r/lstm_cell/bias"]
    stacked = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], name="s")
    stacked(X)
    assert [w.name for w in stacked.weights][::3] == [
        "s/stacked_rnn_cells/lstm_cell_1/kernel", "s/stacked_rnn_cells/gru_cell/kernel"]


def test_time_distributed_weights_are_named_after_the_wrapper_as_keras_2():
    wrapper = layers.TimeDistributed(layers.Dense(2))
    wrapper(X)
    assert [w.name for w in wrapper.weights] == [  # tf_keras 2.21, without ":0"
        "time_distributed/kernel", "time_distributed/bias"]
    recurrent = layers.TimeDistributed(layers.LSTM(2))
    recurrent(np.ones((1, 2, 5, 3), "float32"))
    assert recurrent.weights[0].name == "time_distributed_1/lstm_cell/kernel"
    dense = layers.Dense(2)  # built before it was wrapped: its names stay
    dense(np.ones((1, 4), "float32"))
    layers.TimeDistributed(dense)(X)
    assert dense.kernel.name == "dense_1/kernel"


def test_tuple_valued_config_entries_are_tuples_as_tf_keras():
    conv = layers.Conv1D(4, 3, strides=2).get_config()
    assert (conv["kernel_size"], conv["strides"], conv["dilation_rate"]) == ((3,), (2,), (1,))
    pool = layers.MaxPooling1D(3, strides=1).get_config()
    assert (pool["pool_size"], pool["strides"]) == ((3,), (1,))
    assert layers.Permute([2, 1]).get_config()["dims"] == (2, 1)
    assert layers.Conv1D.from_config(conv).kernel_size == 3
