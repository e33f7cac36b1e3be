"""Activation layers (Softmax, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU): values
against PyTorch and tf_keras, PReLU's weights and gradients, the fused loss after a
Softmax layer, configs, saving, summary, dtypes, bad arguments."""

import numpy as np
import pytest
from torch_reference import assert_matches_torch

import minidl
from minidl import Tensor, layers, losses, optimizers
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


rng = np.random.default_rng(2)


def away_from_joins(shape, joins=(0.0,)):
    x = rng.uniform(-4, 8, shape)
    for join in joins:
        x = np.where(np.abs(x - join) < 0.05, join + 0.5, x)
    return x


# --- values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_class, options, torch_fn, joins", [
    (layers.LeakyReLU, {}, lambda F, t: F.leaky_relu(t, 0.3), (0.0,)),
    (layers.LeakyReLU, {"alpha": 0.01}, lambda F, t: F.leaky_relu(t, 0.01), (0.0,)),
    (layers.ELU, {}, lambda F, t: F.elu(t), (0.0,)),
    (layers.ELU, {"alpha": 0.5}, lambda F, t: F.elu(t, 0.5), (0.0,)),
    (layers.ReLU, {}, lambda F, t: F.relu(t), (0.0,)),
    (layers.ReLU, {"max_value": 6}, lambda F, t: F.relu6(t), (0.0, 6.0)),
    (layers.ThresholdedReLU, {"theta": 1.5}, lambda F, t: F.threshold(t, 1.5, 0.0), (1.5,)),
    (layers.Softmax, {}, lambda F, t: F.softmax(t, dim=-1), ()),
    (layers.Softmax, {"axis": 1}, lambda F, t: F.softmax(t, dim=1), ()),
])
def test_values_and_gradients_match_pytorch(layer_class, options, torch_fn, joins):
    torch = pytest.importorskip("torch")
    layer = layer_class(dtype="float64", **options)
    x = away_from_joins((3, 4, 5), joins)
    assert_matches_torch(layer, lambda t: torch_fn(torch.nn.functional, t), [x])
    gradcheck(layer, [x])


def test_relu_with_every_option_is_keras():
    # tf_keras 2.21: layers.ReLU(6, 0.1, 0.5)([-3, -1, 0, 0.5, 1, 2, 7])
    x = np.array([[-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 7.0]], np.float32)
    np.testing.assert_allclose(layers.ReLU(6, 0.1, 0.5)(x).data,
                               [[-0.35, -0.15, -0.05, 0.0, 1.0, 2.0, 6.0]], rtol=1e-6)


def test_softmax_over_several_axes_is_keras():
    # tf_keras 2.21: layers.Softmax(axis=(1, 2))(zeros((1, 2, 2))) is 0.25 everywhere
    np.testing.assert_allclose(layers.Softmax(axis=(1, 2))(np.zeros((1, 2, 2))).data, 0.25)
    x = rng.standard_normal((2, 3, 4))
    layer = layers.Softmax(axis=[1, 2], dtype="float64")
    expected = np.exp(x) / np.exp(x).sum(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    gradcheck(layer, [x])


def test_softmax_mask_leaves_out_positions():
    # tf_keras 2.21: layers.Softmax()(zeros((1, 3)), [[1, 1, 0]]) is [[0.5, 0.5, 0]] (the
    # compiled float32 softmax floors exp at exp(-87): the masked position gets ~1e-38)
    scores = np.zeros((2, 3), np.float32)
    for mask in (np.array([[1, 1, 0]]), np.array([[True, True, False]])):
        for layer in (layers.Softmax(), layers.Softmax(robust_masking=True)):
            np.testing.assert_allclose(layer(scores, mask).data, [[0.5, 0.5, 0]] * 2, atol=1e-30)
            np.testing.assert_allclose(layer(scores, mask=mask).data, [[0.5, 0.5, 0]] * 2,
                                       atol=1e-30)
    huge = np.array([[1e30, 0.0, 0.0]], np.float32)  # where only robust masking hides the score
    np.testing.assert_allclose(layers.Softmax(robust_masking=True)(huge, [[0, 1, 1]]).data,
                               [[0, 0.5, 0.5]], atol=1e-30)


def test_softmax_refuses_a_symbolic_mask_when_run():
    scores, mask = minidl.Input(shape=(3,)), minidl.Input(shape=(3,))
    model = minidl.Model([scores, mask], layers.Softmax()(scores, mask))
    with pytest.raises(TypeError, match="mask must be an array or a Tensor"):
        model.predict([np.zeros((1, 3)), np.ones((1, 3))], verbose=0)


# --- a Softmax layer keeps the logits for the fused cross-entropy --------------------------------
def softmax_layer_models():
    """Dense(2) then layers.Softmax(), weights that put logit 30 on class 0: a wrong label
    costs exactly 30 with the fused cross-entropy (16.1 if it used clipped probabilities)."""
    sequential = minidl.Sequential([layers.Dense(2, input_shape=(3,)), layers.Softmax()])
    inputs = minidl.Input(shape=(3,))
    functional = minidl.Model(inputs, layers.Softmax()(layers.Dense(2)(inputs)))
    for model in (sequential, functional):
        model.set_weights([np.zeros((3, 2), np.float32), np.array([30.0, 0.0], np.float32)])
    return sequential, functional


def test_a_model_ending_in_a_softmax_layer_gets_the_exact_fused_loss(monkeypatch):
    from minidl.ops import losses as loss_ops

    calls = []
    fused = loss_ops.softmax_cross_entropy
    monkeypatch.setattr(losses.ops, "softmax_cross_entropy",
                        lambda *a, **k: calls.append(1) or fused(*a, **k))
    x, labels = np.ones((4, 3), np.float32), np.ones(4, np.int64)
    for model in softmax_layer_models():
        model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
        assert model.evaluate(x, labels, verbose=0) == pytest.approx(30.0, rel=1e-5)
        calls.clear()
        assert model.train_on_batch(x, labels) == pytest.approx(30.0, rel=1e-5)
        assert calls, "the fused softmax-cross-entropy did not run"
        one_hot = np.eye(2, dtype=np.float32)[labels]
        assert float(losses.CategoricalCrossentropy()(one_hot, model(x))) == pytest.approx(30.0)


# --- PReLU ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shared_axes, alpha_shape", [
    (None, (6, 6, 4)), ([1, 2], (1, 1, 4)), (1, (1, 6, 4)), ((3,), (6, 6, 1)),
])
def test_prelu_weights_like_keras(shared_axes, alpha_shape):
    layer = layers.PReLU(shared_axes=shared_axes)
    out = layer(np.ones((2, 6, 6, 4), np.float32))
    assert out.shape == (2, 6, 6, 4)
    assert [w.shape for w in layer.weights] == [alpha_shape]
    assert layer.weights[0].name == "p_re_lu/alpha"
    assert layer.count_params() == int(np.prod(alpha_shape))
    assert np.all(layer.alpha.data == 0)  # alpha_initializer="zeros": a plain relu at first


def test_prelu_values_and_gradients_are_keras():
    # tf_keras 2.21: PReLU(alpha_initializer=Constant(0.25)) on [[1, -2, 3]],
    # loss sum(y * [1, 2, 3])
    layer = layers.PReLU(alpha_initializer=minidl.initializers.Constant(0.25))
    x = Tensor(np.array([[1.0, -2.0, 3.0]], np.float32), requires_grad=True)
    y = layer(x)
    (y * np.array([[1.0, 2.0, 3.0]], np.float32)).sum().backward()
    np.testing.assert_allclose(y.data, [[1.0, -0.5, 3.0]])
    np.testing.assert_allclose(x.grad, [[1.0, 0.5, 3.0]])
    np.testing.assert_allclose(layer.alpha.grad, [0.0, -4.0, 0.0])


def test_prelu_matches_pytorch_and_learns_its_slopes():
    torch = pytest.importorskip("torch")
    layer = layers.PReLU(alpha_initializer="random_uniform", dtype="float64")
    x = away_from_joins((5, 4))
    layer(x)
    slopes = layer.alpha.data.copy()
    assert_matches_torch(lambda t: layer(t),
                         lambda t: torch.nn.functional.prelu(t, torch.tensor(slopes)), [x])
    gradcheck(lambda t, a: minidl.ops.rectified_linear(t, a), [x, slopes])

    model = minidl.Sequential([layers.Dense(4, input_shape=(3,)), layers.PReLU()])
    model.compile("sgd", "mse")
    before = model.layers[1].get_weights()[0].copy()
    model.fit(rng.standard_normal((32, 3)), rng.standard_normal((32, 4)), epochs=2, verbose=0)
    assert not np.allclose(model.layers[1].get_weights()[0], before)
    assert len(model.trainable_weights) == 3


def test_prelu_checks_the_input_shape():
    layer = layers.PReLU()
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(None, 3\), received shape"):
        layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="unknown size on an axis that gets its own slopes"):
        layers.PReLU()(minidl.Input(shape=(None, 3)))
    assert layers.PReLU(shared_axes=1)(minidl.Input(shape=(None, 3))).shape == (None, None, 3)
    with pytest.raises(ValueError, match=r"shared_axes \[3\] must be axes of the input"):
        layers.PReLU(shared_axes=3)(np.ones((2, 3)))


# --- training and inference, dtypes --------------------------------------------------------------
def every_layer():
    return [layers.Softmax(), layers.ReLU(max_value=6, negative_slope=0.1, threshold=0.5),
            layers.LeakyReLU(), layers.PReLU(shared_axes=[1]), layers.ELU(alpha=0.7),
            layers.ThresholdedReLU(theta=0.2)]


@pytest.mark.parametrize("index", range(6))
def test_same_output_in_training_and_inference(index):
    layer = every_layer()[index]
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(layer(x, training=True).data, layer(x, training=False).data)


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes(index, dtype):
    layer = type(every_layer()[index]).from_config({**every_layer()[index].get_config(),
                                                    "dtype": dtype, "name": None})
    x = Tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == dtype and all(w.dtype == dtype for w in layer.weights)


# --- configs, saving, summary --------------------------------------------------------------------
def test_configs_are_keras_and_round_trip():
    expected = {  # tf_keras 2.21's get_config() of each, without name/trainable/dtype
        "Softmax": {"axis": -1},
        "ReLU": {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5},
        "LeakyReLU": {"alpha": 0.3},  # Keras stores 0.30000001192092896 (float32)
        "PReLU": {"alpha_initializer": {"class_name": "Zeros", "config": {}},
                  "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": [1]},
        "ELU": {"alpha": 0.7},
        "ThresholdedReLU": {"theta": 0.2},
    }
    for layer in every_layer():
        config = layer.get_config()
        own = {k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")}
        if "alpha_initializer" in own:
            initializer = own["alpha_initializer"]
            own["alpha_initializer"] = {k: initializer[k] for k in ("class_name", "config")}
        assert own == expected[type(layer).__name__]
        copy = layers.deserialize(layers.serialize(layer))
        assert type(copy) is type(layer) and copy.get_config() == config
    assert layers.Softmax(axis=[1, 2], robust_masking=True).get_config()["axis"] == [1, 2]
    assert layers.Softmax(robust_masking=True).get_config()["robust_masking"] is True


def test_keras_3_spellings_are_accepted():
    assert layers.LeakyReLU(negative_slope=0.1).alpha == 0.1
    keras_3_config = {"class_name": "LeakyReLU", "config": {"negative_slope": 0.2}}
    assert layers.deserialize(keras_3_config).alpha == 0.2
    with pytest.raises(ValueError, match="two names for the same slope; give one"):
        layers.LeakyReLU(alpha=0.1, negative_slope=0.2)


def test_a_model_with_every_activation_layer_saves_and_loads(tmp_path):
    model = minidl.Sequential([
        layers.Conv2D(4, 3, input_shape=(8, 8, 2)), layers.PReLU(shared_axes=[1, 2]),
        layers.LeakyReLU(), layers.Flatten(), layers.Dense(10),
        layers.PReLU(alpha_initializer="random_uniform"), layers.ELU(), layers.ReLU(max_value=6),
        layers.ThresholdedReLU(), layers.Dense(3), layers.Softmax(),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.standard_normal((16, 8, 8, 2)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 16), epochs=1, verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers]


# tf_keras 2.21's summary of the model above (its totals add the sizes in bytes)
SUMMARY = """\
 conv2d (Conv2D)             (None, 6, 6, 4)           76

 p_re_lu (PReLU)             (None, 6, 6, 4)           4

 leaky_re_lu (LeakyReLU)     (None, 6, 6, 4)           0

 flatten (Flatten)           (None, 144)               0

 dense (Dense)               (None, 10)                1450

 p_re_lu_1 (PReLU)           (None, 10)                10

 elu (ELU)                   (None, 10)                0

 re_lu (ReLU)                (None, 10)                0

 thresholded_re_lu (Thresho  (None, 10)                0
 ldedReLU)

 dense_1 (Dense)             (None, 3)                 33

 softmax (Softmax)           (None, 3)                 0
""".splitlines()


def test_summary_rows_are_keras():
    model = minidl.Sequential([
        layers.Conv2D(4, 3, input_shape=(8, 8, 2)), layers.PReLU(shared_axes=[1, 2]),
        layers.LeakyReLU(), layers.Flatten(), layers.Dense(10), layers.PReLU(), layers.ELU(),
        layers.ReLU(max_value=6), layers.ThresholdedReLU(), layers.Dense(3), layers.Softmax(),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines[4:4 + len(SUMMARY)]] == SUMMARY
    assert "Total params: 1,573" in lines


# --- bad arguments -------------------------------------------------------------------------------
RELU = 'ReLU layer "re_lu": '
BAD_ARGUMENTS = [
    (lambda: layers.ReLU(max_value=-1), RELU + "max_value must be a number >= 0, received -1"),
    (lambda: layers.ReLU(negative_slope=-0.1),
     "negative_slope must be a number >= 0, received -0.1"),
    (lambda: layers.ReLU(threshold=None), "threshold must be a number >= 0, received None"),
    (lambda: layers.ReLU(max_value="6"), "max_value must be a number >= 0, received '6'"),
    (lambda: layers.LeakyReLU(alpha=None),
     'LeakyReLU layer "leaky_re_lu": alpha must be a number, received None'),
    (lambda: layers.ELU(alpha=None), "alpha must be a number, received None"),
    (lambda: layers.ThresholdedReLU(theta=-1.0), "theta must be a number >= 0, received -1.0"),
    (lambda: layers.PReLU(shared_axes=0),
     r"shared_axes must be None, an axis or a list of axes \(integers >= 1; .* received 0"),
    (lambda: layers.PReLU(shared_axes="1"), "received '1'"),
    (lambda: layers.PReLU(shared_axes=[]), r"received \[\]"),
    (lambda: layers.PReLU(alpha_regularizer="l2"), "alpha_regularizer='l2' is not supported"),
    (lambda: layers.PReLU(alpha_constraint="non_negative"), "alpha_constraint: Unknown constraint"),
    (lambda: layers.PReLU(alpha_initializer="nope"), "nope"),
    (lambda: layers.Softmax(axis="a"),
     "axis must be an integer or a list of integers, received 'a'"),
    (lambda: layers.Softmax(axis=[]), "axis must be an integer or a list of integers"),
    (lambda: layers.Softmax(axis=2)(np.ones((2, 3))),
     r"axis 2 is out of range for inputs of shape \(2, 3\)"),
]


@pytest.mark.parametrize("make, message", BAD_ARGUMENTS)
def test_bad_arguments_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_misspelled_argument_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        layers.LeakyReLU(negativ_slope=0.1)
