"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Dot) and their
lowercase forms: Keras's shapes and broadcasting, values, gradients, configs, saving,
summary, bad arguments."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

import minidl
from minidl import Tensor, layers
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


rng = np.random.default_rng(9)
Input = minidl.Input

ELEMENTWISE = {
    "Add": lambda xs: sum(xs),
    "Subtract": lambda xs: xs[0] - xs[1],
    "Multiply": lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0),
    "Average": lambda xs: sum(xs) / len(xs),
    "Maximum": lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs)),
    "Minimum": lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
}


# --- shapes, as tf_keras 2.21 gives them ----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shapes, expected", [
    ([(3,), (3,)], (None, 3)),
    ([(3,), (4, 3)], (None, 4, 3)),      # fewer axes: size-1 axes after the batch axis
    ([(1, 3), (4, 3)], (None, 4, 3)),
    ([(4,), (4, 1)], (None, 4, 4)),
    ([(5, 1), (5, 3)], (None, 5, 3)),
    ([(None, 3), (5, 3)], (None, None, 3)),
])
def test_symbolic_shapes_broadcast_as_keras(name, shapes, expected):
    inputs = [Input(shape=s) for s in shapes]
    assert getattr(layers, name)()(inputs).shape == expected


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shapes", [[(2, 3), (2, 3)], [(2, 3), (2, 4, 3)], [(2, 4), (2, 4, 1)],
                                    [(2, 1, 3), (2, 4, 1)]])
def test_values_broadcast_as_keras(name, shapes):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    rank = max(len(s) for s in shapes)
    lined_up = [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim) + a.shape[1:]) for a in arrays]
    out = getattr(layers, name)()(arrays)
    np.testing.assert_allclose(out.data, ELEMENTWISE[name](lined_up), rtol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", ["Add", "Multiply", "Average", "Maximum", "Minimum"])
def test_three_inputs_and_one(name):
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    layer = getattr(layers, name)(dtype="float64")
    np.testing.assert_allclose(layer(arrays).data, ELEMENTWISE[name](arrays), rtol=1e-12)
    single = getattr(layers, name)()([Input(shape=(3,))])  # Keras passes one input through
    assert single.shape == (None, 3)


def test_average_of_integers_is_float_as_keras():
    # tf_keras 2.21: Average()([[[1, 2]], [[3, 6]]]) is [[2., 4.]]
    out = layers.Average()([np.array([[1, 2]]), np.array([[3, 6]])])
    np.testing.assert_array_equal(out.data, [[2.0, 4.0]])
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_gradients(name):
    layer = getattr(layers, name)(dtype="float64")
    shapes = [(2, 4, 3), (2, 3)] if name == "Subtract" else [(2, 4, 3), (2, 3), (2, 4, 1)]
    gradcheck(lambda *xs: layer(list(xs)), [rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_match_pytorch(name):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer = getattr(layers, name.capitalize())(dtype="float64")
    assert_matches_torch(lambda x, y: layer([x, y]), getattr(torch, name), [a, b])


def test_a_tie_in_maximum_sends_the_gradient_to_the_earlier_input_as_keras():
    # tf_keras 2.21: Maximum()([a, b, c]) with a = [1, 2, 3], b = [1, 0, 3],
    # c = [1, 5, 3]: gradients of the sum [1, 0, 1], [0, 0, 0], [0, 1, 0]
    values = ([1.0, 2.0, 3.0], [1.0, 0.0, 3.0], [1.0, 5.0, 3.0])
    tensors = [Tensor(np.array([v]), requires_grad=True) for v in values]
    layers.Maximum(dtype="float64")(tensors).sum().backward()
    for tensor, expected in zip(tensors, ([[1, 0, 1]], [[0, 0, 0]], [[0, 1, 0]])):
        np.testing.assert_array_equal(tensor.grad, expected)


# --- Dot ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("axes, shape_a, shape_b, expected", [  # tf_keras 2.21's shapes
    (1, (5,), (5,), (None, 1)),
    ((2, 2), (3, 5), (4, 5), (None, 3, 4)),
    ((1, 1), (3, 5), (3, 4), (None, 5, 4)),
    (-1, (3, 5), (4, 5), (None, 3, 4)),
    ((1, 2), (5,), (4, 5), (None, 4)),
    ((2, 1), (4, 5), (5,), (None, 4)),
    ((3, 1), (2, 3, 5), (5, 4, 6), (None, 2, 3, 4, 6)),
])
def test_dot_shapes_values_and_gradients(axes, shape_a, shape_b, expected):
    assert layers.Dot(axes)([Input(shape=shape_a), Input(shape=shape_b)]).shape == expected
    a, b = rng.standard_normal((2, *shape_a)), rng.standard_normal((2, *shape_b))
    layer = layers.Dot(axes, dtype="float64")
    out = layer([a, b])
    assert out.shape == (2, *expected[1:])
    np.testing.assert_allclose(out.data, minidl.ops.batch_dot(a, b, axes).data)
    gradcheck(lambda x, y: layer([x, y]), [a, b])
    normalized = layers.Dot(axes, normalize=True, dtype="float64")
    gradcheck(lambda x, y: normalized([x, y]), [a, b])


def test_dot_normalize_is_the_cosine_similarity():
    # tf_keras 2.21: Dot(1, normalize=True)([[3, 4]], [[1, 0]]) is [[0.6]]; [[0]] for zeros
    cosine = layers.Dot(1, normalize=True)
    np.testing.assert_allclose(cosine([np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]])]).data,
                               [[0.6]])
    np.testing.assert_array_equal(cosine([np.zeros((1, 2)), np.array([[1.0, 0.0]])]).data, [[0]])
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    cosine = layers.Dot(1, normalize=True, dtype="float64")
    assert_matches_torch(lambda x, y: cosine([x, y]),
                         lambda x, y: torch.nn.functional.cosine_similarity(x, y)[:, None], [a, b])


def test_dot_bad_arguments_and_shapes():
    with pytest.raises(TypeError, match=r'Dot layer "dot": axes must be an integer or a pair'):
        layers.Dot("a")
    with pytest.raises(TypeError, match="received 1.0"):
        layers.Dot(1.0)
    with pytest.raises(ValueError, match=r"pair of two integers, received \(1, 1, 1\)"):
        layers.Dot((1, 1, 1))
    a, b = Input(shape=(5,)), Input(shape=(4,))
    with pytest.raises(ValueError, match=r'Dot layer "dot_\d": batch_dot: axis 1 of the first '
                                         r"input has size 5 but axis 1 of the second has size 4"):
        layers.Dot(1)([a, b])
    with pytest.raises(ValueError, match="other than the batch axis"):
        layers.Dot(0)([a, a])
    with pytest.raises(ValueError, match="exactly 2 inputs, received 3"):
        layers.Dot(1)([a, a, a])
    with pytest.raises(ValueError, match="list of at least 2 input"):
        layers.Dot(1)(a)


# --- other bad inputs ---------------------------------------------------------------------------
def test_bad_inputs_name_the_layer():
    a, b = Input(shape=(3,)), Input(shape=(4,))
    with pytest.raises(ValueError, match=r'Add layer "add": inputs must have the same shape, or '
                                         r"shapes that broadcast .* \[\(None, 3\), \(None, 4\)\]"):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Multiply()([np.ones((2, 3)), np.ones((1, 3))])
    with pytest.raises(ValueError, match=r"Subtract layer .* exactly 2 inputs, received 3"):
        layers.Subtract()([a, a, a])
    with pytest.raises(ValueError, match="list of at least 2 input"):
        layers.Subtract()([a])
    with pytest.raises(ValueError, match="must be called on a list"):
        layers.Maximum()(np.ones((2, 3)))
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        layers.Average(axis=1)


# --- functional forms, training, configs, saving, summary ---------------------------------------
def merged_model():
    a, b, c = Input(shape=(4,)), Input(shape=(4,)), Input(shape=(3, 4))
    outputs = [layers.subtract([a, b]), layers.multiply([a, b]), layers.average([a, b]),
               layers.maximum([a, b]), layers.minimum([a, b]), layers.add([a, c]),
               layers.dot([a, b], axes=1, normalize=True), layers.Dot(axes=(2, 1))([c, b])]
    return minidl.Model([a, b, c], outputs)


def test_lowercase_forms_and_summary_rows_are_keras():
    lines = []
    merged_model().summary(print_fn=lines.append)
    rows = {line.split()[0]: line.split()[1:] for line in lines if "(" in line and "[" in line}
    expected = {  # tf_keras 2.21: layer (type), output shape, parameters
        "subtract": "(Subtract) (None, 4) 0", "multiply": "(Multiply) (None, 4) 0",
        "average": "(Average) (None, 4) 0", "maximum": "(Maximum) (None, 4) 0",
        "minimum": "(Minimum) (None, 4) 0", "add": "(Add) (None, 3, 4) 0",
        "dot": "(Dot) (None, 1) 0", "dot_1": "(Dot) (None, 3) 0",
    }
    for name, row in expected.items():
        assert " ".join(rows[name][:len(row.split())]) == row


def test_configs_round_trip_and_a_merged_model_saves_and_loads(tmp_path):
    for layer in (layers.Subtract(), layers.Multiply(), layers.Average(), layers.Maximum(),
                  layers.Minimum(), layers.Dot((1, 2), normalize=True), layers.Dot(-1)):
        copy = layers.deserialize(layers.serialize(layer))
        assert type(copy) is type(layer) and copy.get_config() == layer.get_config()
    # tf_keras 2.21: Dot((1, 2), normalize=True).get_config() has axes (1, 2), normalize True
    assert layers.Dot((1, 2), normalize=True).get_config()["axes"] == [1, 2]
    assert layers.Dot(1).get_config()["axes"] == 1
    model = merged_model()
    x = [rng.standard_normal(s).astype(np.float32) for s in ((5, 4), (5, 4), (5, 3, 4))]
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    for got, expected in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, expected)


def test_a_model_with_merges_trains():
    """Two towers whose product (Multiply), maximum and cosine (Dot) feed the output,
    learning a product of the inputs."""
    minidl.utils.set_random_seed(0)
    a, b = Input(shape=(6,)), Input(shape=(6,))
    left, right = layers.Dense(8)(a), layers.Dense(8)(b)
    merged = layers.Concatenate()([layers.Multiply()([left, right]),
                                   layers.Maximum()([left, right]),
                                   layers.Dot(1, normalize=True)([left, right])])
    model = minidl.Model([a, b], layers.Dense(1)(merged))
    model.compile(minidl.optimizers.Adam(0.01), "mse")
    x = [rng.standard_normal((64, 6)).astype(np.float32) for _ in range(2)]
    y = x[0][:, :2] @ np.array([[1.0], [0.5]], np.float32) * x[1][:, :1]
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    np.testing.assert_array_equal(model(x, training=True).data, model(x, training=False).data)
