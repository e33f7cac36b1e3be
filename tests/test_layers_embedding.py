"""ops.embedding and layers.Embedding: values, gradients (float64 gradcheck, PyTorch's
nn.Embedding), index checks, masks, config, save/load and summary as Keras 2."""

import numpy as np
import pytest

import minidl
from minidl import _kernels, layers, ops
from minidl.models import load_model
from minidl.testing import gradcheck
from minidl.tensor import Tensor


@pytest.fixture(params=["compiled", "reference"])
def backend(request):
    before = _kernels.backend_name()
    _kernels.use(request.param)
    yield request.param
    _kernels.use(before)


def test_forward_is_a_gather_and_backward_a_scatter_add(backend):
    weights = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = ops.embedding(np.array([[3, 0], [3, 3]]), weights)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, weights.data[[[3, 0], [3, 3]]])
    out.backward(np.ones((2, 2, 3)))
    np.testing.assert_array_equal(weights.grad, [[1, 1, 1], [0, 0, 0], [0, 0, 0], [3, 3, 3]])


def test_gradcheck_float64(backend):
    indices = np.array([[1, 4, 1], [0, 2, 4]])
    weights = np.random.default_rng(0).normal(size=(5, 3))
    assert gradcheck(lambda w: ops.embedding(indices, w) * ops.embedding(indices, w), [weights])


def test_matches_torch_embedding():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 50, (8, 20))
    indices[:, :5] = 0  # padding, repeated
    weights = rng.normal(size=(50, 16)).astype(np.float32)
    grad = rng.normal(size=(8, 20, 16)).astype(np.float32)
    table = Tensor(weights, requires_grad=True)
    out = ops.embedding(indices, table)
    out.backward(grad)
    twin = torch.nn.Embedding(50, 16)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(weights))
    twin_out = twin(torch.from_numpy(indices))
    twin_out.backward(torch.from_numpy(grad))
    np.testing.assert_array_equal(out.data, twin_out.detach().numpy())
    np.testing.assert_allclose(table.grad, twin.weight.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                   np.int64, np.uint64, np.float32, np.float64])
def test_any_integer_dtype_and_floats_holding_integers(dtype):
    layer = layers.Embedding(300, 4)
    x = np.array([[0, 1, 127], [5, 6, 7]]).astype(dtype)
    out = layer(x)
    assert out.shape == (2, 3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, layer.embeddings.data[x.astype(np.int64)])


@pytest.mark.parametrize("bad, words", [
    (10, ["10", "[0, 10)", "input_dim=10", '"words"']),
    (-1, ["-1", "[0, 10)", '"words"']),
    (2**62, [str(2**62), '"words"']),
    (1.5, ["whole word indices", "1.5"]),
    (np.nan, ["whole word indices", "nan"]),
    (np.inf, ["whole word indices", "inf"]),
])
def test_bad_indices_are_a_value_error_naming_the_layer(bad, words):
    layer = layers.Embedding(10, 2, name="words")
    x = np.array([[1, 2, 3]], dtype=np.float64 if isinstance(bad, float) else np.int64)
    x[0, 1] = bad
    with pytest.raises(ValueError) as caught:
        layer(x)
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert "(0, 1)" in message


def test_non_numeric_indices_refused():
    with pytest.raises((ValueError, TypeError), match="dtype"):
        ops.embedding(np.array([["a"]]), np.ones((3, 2)))


def test_mask_zero():
    layer = layers.Embedding(10, 2, mask_zero=True)
    x = np.array([[0, 0, 3, 4], [1, 2, 0, 5]])
    np.testing.assert_array_equal(layer.compute_mask(x), x != 0)
    np.testing.assert_array_equal(layer.compute_mask(Tensor(x)), x != 0)
    assert layer.supports_masking
    plain = layers.Embedding(10, 2)
    assert plain.compute_mask(x) is None and not plain.supports_masking


@pytest.mark.parametrize("make, words", [
    (lambda: layers.Embedding(0, 3), ["input_dim", "positive", "0"]),
    (lambda: layers.Embedding(10, -2), ["output_dim", "positive", "-2"]),
    (lambda: layers.Embedding(10.5, 2), ["input_dim", "10.5"]),
    (lambda: layers.Embedding(10, 2, input_length=0), ["input_length", "0"]),
    (lambda: layers.Embedding(10, 2, embeddings_initializer="nonsense"), ["nonsense"]),
    (lambda: layers.Embedding(10, 2, embeddings_constraint="non_negative"), ["constraint"]),
    (lambda: layers.Embedding(10, 2, input_lenght=5), ["input_lenght"]),
])
def test_bad_arguments_refused(make, words):
    with pytest.raises((ValueError, TypeError)) as caught:
        make()
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_input_length_must_match():
    layer = layers.Embedding(10, 2, input_length=5)
    with pytest.raises(ValueError, match="input_length is 5"):
        layer(np.zeros((2, 6)))


def test_config_round_trip_and_keras_keys():
    layer = layers.Embedding(1000, 8, mask_zero=True, input_length=20, name="emb",
                             embeddings_regularizer="l2")
    config = layer.get_config()
    assert config["embeddings_initializer"] == {
        "module": "keras.initializers", "class_name": "RandomUniform",
        "config": {"minval": -0.05, "maxval": 0.05, "seed": None}, "registered_name": None}
    assert config["batch_input_shape"] == (None, 20)  # a tuple, as tf_keras 2.21
    for key in ("input_dim", "output_dim", "embeddings_regularizer", "activity_regularizer",
                "embeddings_constraint", "mask_zero", "input_length"):
        assert key in config
    again = layers.deserialize(layers.serialize(layer))
    assert again.get_config() == config
    assert layers.Embedding(3, 2).get_config()["batch_input_shape"] == (None, None)


def imdb_like_model():
    return minidl.Sequential([
        layers.Embedding(100, 8, input_length=12),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ], name="imdb_like")


def test_summary_as_keras_2_prints_it():
    layers.reset_names()
    lines = []
    imdb_like_model().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines] == [
        'Model: "imdb_like"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " embedding (Embedding)       (None, 12, 8)             800", "",
        " flatten (Flatten)           (None, 96)                0", "",
        " dense (Dense)               (None, 1)                 97", "",
        "=" * 65,
        "Total params: 897", "Trainable params: 897", "Non-trainable params: 0",
    ]
    lines = []
    minidl.Sequential([layers.Embedding(10000, 32)]).summary(print_fn=lines.append)
    assert " embedding_1 (Embedding)     (None, None, 32)          320000" in [
        line.rstrip() for line in lines]


def test_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 100, (64, 12))
    y = (x[:, 0] > 50).astype(np.float32)
    model = imdb_like_model()
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0)[0] < before
    model.save(tmp_path / "embedding.mdl")
    loaded = load_model(tmp_path / "embedding.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    assert [w.shape for w in model.get_weights()] == [(100, 8), (96, 1), (1,)]
