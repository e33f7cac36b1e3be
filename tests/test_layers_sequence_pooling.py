"""1-D pooling (ops and layers), global 1-D pooling, RepeatVector, Permute and Flatten
of sequences: values (PyTorch's max/avg_pool1d, tf_keras's "same" values), gradients,
config, save/load, bad arguments."""

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


@pytest.mark.parametrize("pool, strides, steps", [(2, None, 10), (3, 2, 11), (3, 1, 7), (4, 3, 4),
                                                 (1, 1, 5)])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_valid_pooling_matches_torch(kind, pool, strides, steps):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, steps, 5))
    grad = None
    mine = Tensor(x, requires_grad=True)
    out = getattr(ops, f"{kind}_pool1d")(mine, pool, strides)
    grad = rng.normal(size=out.shape)
    out.backward(grad)
    twin = torch.tensor(x, requires_grad=True)
    function = getattr(torch.nn.functional, f"{kind}_pool1d")
    twin_out = function(twin.permute(0, 2, 1), pool, strides or pool).permute(0, 2, 1)
    twin_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.data, twin_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.grad, twin.grad.numpy(), rtol=1e-12)


def test_same_padding_values_as_tf_keras():
    x = np.arange(2 * 7 * 3, dtype=np.float32).reshape(2, 7, 3)
    # tf_keras 2.21: AveragePooling1D(3, strides=2, padding="same")(x)[0, :, 0], and the
    # maximum of -x: padding is not counted in the mean, and never wins the maximum
    np.testing.assert_allclose(layers.AveragePooling1D(3, 2, "same")(x).data[0, :, 0],
                               [1.5, 6.0, 12.0, 16.5])
    np.testing.assert_allclose(layers.MaxPooling1D(3, 2, "same")(-x).data[0, :, 0],
                               [0.0, -3.0, -9.0, -15.0])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_gradcheck_float64(kind, padding):
    x = np.random.default_rng(1).normal(size=(2, 9, 3))
    assert gradcheck(lambda t: getattr(ops, f"{kind}_pool1d")(t, 3, 2, padding), [x])


@pytest.mark.parametrize("layer, expected", [
    (layers.GlobalAveragePooling1D(), lambda x: x.mean(axis=1)),
    (layers.GlobalMaxPooling1D(), lambda x: x.max(axis=1)),
    (layers.GlobalAveragePooling1D(keepdims=True), lambda x: x.mean(axis=1, keepdims=True)),
    (layers.GlobalMaxPooling1D(keepdims=True), lambda x: x.max(axis=1, keepdims=True)),
])
def test_global_pooling(layer, expected):
    x = np.random.default_rng(2).normal(size=(4, 6, 3)).astype(np.float32)
    out = layer(x)
    np.testing.assert_allclose(out.data, expected(x), rtol=1e-6)
    assert layer.compute_output_shape((None, 6, 3)) == (None, *out.shape[1:])


def test_global_pooling_gradcheck_float64():
    x = np.random.default_rng(3).normal(size=(2, 5, 3))
    assert gradcheck(lambda t: layers.GlobalAveragePooling1D(dtype="float64")(t), [x])
    assert gradcheck(lambda t: layers.GlobalMaxPooling1D(dtype="float64")(t), [x])


def test_repeat_vector_and_its_gradient():
    x = np.random.default_rng(4).normal(size=(2, 3))
    out = layers.RepeatVector(4)(x.astype(np.float32))
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out.data, np.repeat(x[:, None, :].astype(np.float32), 4, axis=1))
    assert gradcheck(lambda t: layers.RepeatVector(4, dtype="float64")(t), [x])


def test_permute_and_its_gradient():
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 5))
    layer = layers.Permute((3, 1, 2))
    out = layer(x.astype(np.float32))
    np.testing.assert_array_equal(out.data, x.astype(np.float32).transpose(0, 3, 1, 2))
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    assert gradcheck(lambda t: layers.Permute((2, 1, 3), dtype="float64")(t), [x])


def test_flatten_of_sequences():
    x = np.arange(2 * 7 * 3, dtype=np.float32).reshape(2, 7, 3)
    out = layers.Flatten()(x)
    np.testing.assert_array_equal(out.data, x.reshape(2, 21))


@pytest.mark.parametrize("make, words", [
    (lambda: layers.MaxPooling1D(0), ["pool_size", "0"]),
    (lambda: layers.AveragePooling1D(2, strides=-1), ["strides", "-1"]),
    (lambda: layers.MaxPooling1D(padding="causal"), ["padding", "causal"]),
    (lambda: layers.MaxPooling1D((2, 2)), ["pool_size"]),
    (lambda: layers.GlobalMaxPooling1D(data_format="channels_middle"),
     ["channels_first", "channels_last", "Received: channels_middle"]),
    (lambda: layers.AveragePooling1D(data_format="nwc"), ["channels_last", "nwc"]),
    (lambda: layers.RepeatVector(0), ["n", "positive", "0"]),
    (lambda: layers.RepeatVector(2.5), ["n", "2.5"]),
    (lambda: layers.Permute((1, 1)), ["permutation", "(1, 1)"]),
    (lambda: layers.Permute((0, 1)), ["permutation", "(0, 1)"]),
    (lambda: layers.Permute(3), ["permutation"]),
    # tf_keras 2.21 refuses "21"; minidl read it as (2, 1), and (2.7, 1.2) as (2, 1)
    (lambda: layers.Permute("21"), ["permutation", "'21'"]),
    (lambda: layers.Permute((2.7, 1.2)), ["permutation", "(2.7, 1.2)"]),
    (lambda: layers.Permute((True, 2)), ["permutation", "(True, 2)"]),
])
def test_bad_arguments_refused(make, words):
    with pytest.raises(ValueError) as caught:
        make()
    assert all(word in str(caught.value) for word in words), str(caught.value)


@pytest.mark.parametrize("layer, shape, words", [
    (layers.MaxPooling1D(), (2, 10), ["(None, steps, channels)", "(2, 10)"]),
    (layers.MaxPooling1D(5), (2, 3, 1), ["pool_size 5", "3 steps"]),
    (layers.GlobalAveragePooling1D(), (2, 3, 4, 1), ["(None, steps, channels)"]),
    (layers.RepeatVector(3), (2, 3, 4), ["(None, features)"]),
    (layers.Permute((2, 1)), (2, 3, 4, 5), ["3 axes"]),
])
def test_bad_inputs_refused(layer, shape, words):
    with pytest.raises(ValueError) as caught:
        layer(np.zeros(shape, np.float32))
    assert all(word in str(caught.value) for word in words), str(caught.value)


ALL = [
    layers.MaxPooling1D(3, strides=1, padding="same"), layers.AveragePooling1D(),
    layers.GlobalAveragePooling1D(keepdims=True), layers.GlobalMaxPooling1D(),
    layers.RepeatVector(3), layers.Permute((2, 1)),
]


@pytest.mark.parametrize("layer", ALL, ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    again = layers.deserialize(layers.serialize(layer))
    assert again.get_config() == config


def test_keras_config_keys_and_aliases():
    assert layers.MaxPooling1D().get_config() | {"name": None} == {
        "name": None, "trainable": True, "dtype": "float32", "strides": (2,), "pool_size": (2,),
        "padding": "valid", "data_format": "channels_last"}
    assert layers.GlobalMaxPooling1D(keepdims=True).get_config()["keepdims"] is True
    assert layers.RepeatVector(3).get_config()["n"] == 3
    assert layers.Permute((2, 1)).get_config()["dims"] == (2, 1)  # a tuple, as tf_keras 2.21
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D


def seq2seq_like():
    return minidl.Sequential([
        minidl.Input(shape=(12, 4)),
        layers.AveragePooling1D(),
        layers.MaxPooling1D(3, strides=1, padding="same"),
        layers.GlobalMaxPooling1D(),
        layers.RepeatVector(5),
        layers.Permute((2, 1)),
        layers.GlobalAveragePooling1D(),
        layers.Dense(2),
    ], name="shapes")


def test_summary_as_keras_2_prints_it():
    lines = []
    seq2seq_like().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines][4:19] == [
        " average_pooling1d (Average  (None, 6, 4)              0",
        " Pooling1D)", "",
        " max_pooling1d (MaxPooling1  (None, 6, 4)              0",
        " D)", "",
        " global_max_pooling1d (Glob  (None, 4)                 0",
        " alMaxPooling1D)", "",
        " repeat_vector (RepeatVecto  (None, 5, 4)              0",
        " r)", "",
        " permute (Permute)           (None, 4, 5)              0", "",
        " global_average_pooling1d (  (None, 5)                 0",
    ]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    x = np.random.default_rng(6).normal(size=(32, 12, 4)).astype(np.float32)
    y = x.max(axis=(1, 2))[:, None].repeat(2, axis=1)
    model = seq2seq_like()
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "shapes.mdl")
    loaded = load_model(tmp_path / "shapes.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# --- data_format="channels_first" in the global 1-D poolings: (batch, channels, steps) ----------
# x and the mask below through tf_keras 2.21's layers, printed rounded to 4 places
X_CF = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10) ** 2 / 10
MASK_CF = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool)
KERAS_CF = {
    "GlobalAveragePooling1D": [[7.35, 2.15, 0.15], [1.35, 5.75, 13.35]],
    "GlobalMaxPooling1D": [[10.0, 3.6, 0.4], [2.5, 8.1, 16.9]],
}


@pytest.mark.parametrize("name", sorted(KERAS_CF))
def test_channels_first_values_shapes_and_config_as_keras(name):
    cls = getattr(layers, name)
    layer = cls(data_format="channels_first")
    np.testing.assert_allclose(layer(X_CF).numpy(), KERAS_CF[name], rtol=1e-6)
    kept = cls(data_format="channels_first", keepdims=True)
    np.testing.assert_allclose(kept(X_CF).numpy(), np.expand_dims(KERAS_CF[name], -1), rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3)
    assert kept.compute_output_shape((None, 3, 4)) == (None, 3, 1)
    config = kept.get_config()
    assert config["data_format"] == "channels_first" and config["keepdims"] is True
    assert layers.deserialize(layers.serialize(kept)).get_config() == config
    # Keras lower-cases the name; None is image_data_format(), channels_last
    assert cls(data_format="Channels_First").data_format == "channels_first"
    assert cls(data_format=None).data_format == "channels_last"


def test_channels_first_masked_mean_as_keras():
    layer = layers.GlobalAveragePooling1D(data_format="channels_first")
    np.testing.assert_allclose(layer(X_CF, mask=MASK_CF).numpy(),
                               [[7.6667, 2.3333, 0.2], [1.25, 5.65, 13.25]], rtol=1e-4)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, steps\) = \(2, 4\)"):
        layer(X_CF, mask=MASK_CF[:, :3])


@pytest.mark.parametrize("name", sorted(KERAS_CF))
def test_channels_first_gradcheck_float64(name):
    x = np.random.default_rng(1).normal(size=(2, 3, 5))
    layer = getattr(layers, name)(data_format="channels_first", dtype="float64")
    assert gradcheck(layer, [x])


def test_channels_first_refuses_bad_arguments_and_inputs():
    with pytest.raises(TypeError, match="data_format must be a string"):
        layers.GlobalAveragePooling1D(data_format=3)
    layer = layers.GlobalAveragePooling1D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"\(None, channels, steps\)"):
        layer.compute_output_shape((None, 3, 4, 1))
    with pytest.raises(ValueError, match=r"\(None, channels, steps\)"):
        layer.compute_output_shape((None, None, 4))


def test_channels_first_in_a_model_summary_and_saving(tmp_path):
    inputs = minidl.Input((6, 1))
    pooled = layers.GlobalAveragePooling1D(data_format="channels_first")(inputs)
    model = minidl.Model(inputs, layers.Dense(2)(pooled))
    lines = []
    model.summary(print_fn=lines.append)
    # tf_keras 2.21: the mean over the 1 channel leaves the 6 steps: Dense 6 * 2 + 2
    assert " global_average_pooling1d (  (None, 6)                 0" in [
        line.rstrip() for line in lines]
    assert "Total params: 14" in lines
    x = np.random.default_rng(0).normal(size=(3, 6, 1)).astype(np.float32)
    model.save(tmp_path / "cf.mdl")
    np.testing.assert_allclose(load_model(tmp_path / "cf.mdl").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
