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
