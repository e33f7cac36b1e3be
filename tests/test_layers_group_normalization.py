"""GroupNormalization against tf_keras 2.21 and torch.nn.GroupNorm: values, gradients
(finite differences in float64 and PyTorch's), weights, config, summary, save and load,
and the arguments Keras refuses.

``fixtures/group_normalization_tf_keras.json`` holds tf_keras 2.21's outputs, made with::

    x = np.round(np.random.default_rng(0).uniform(-2, 2, (2, 3, 2, 6)), 2).astype("float32")
    layer = tf_keras.layers.GroupNormalization(groups=3)
    layer.build(x.shape); layer.set_weights([gamma, beta]); y = layer(x)
    x2 = np.round(rng.uniform(-2, 2, (2, 4, 5)), 2)       # the same rng, drawn next
    y2 = tf_keras.layers.GroupNormalization(groups=2, axis=1, center=False, epsilon=0.1)(x2)
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers
from minidl.models import load_model
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures"
                    / "group_normalization_tf_keras.json").read_text())


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(seed, shape, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_channels_last_equals_keras_2():
    case = KERAS["groups3_channels_last"]
    x = np.array(case["x"], np.float32)
    layer = layers.GroupNormalization(groups=3)
    layer.build((None, 3, 2, 6))
    layer.set_weights([np.array(case["gamma"], np.float32), np.array(case["beta"], np.float32)])
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(np.asarray(out), case["y"], atol=1e-5)


def test_channel_axis_one_without_beta_equals_keras_2():
    case = KERAS["groups2_axis1_no_center_eps0.1"]
    layer = layers.GroupNormalization(groups=2, axis=1, center=False, epsilon=0.1)
    np.testing.assert_allclose(np.asarray(layer(np.array(case["x"], np.float32))), case["y"],
                               atol=1e-5)
    assert [w.name for w in layer.weights] == ["group_normalization/gamma"]


def test_the_formula_per_group():
    x = values(0, (2, 3, 4, 6)) * 3 + 1
    out = np.asarray(layers.GroupNormalization(groups=2, epsilon=1e-3)(x))
    for group in (slice(0, 3), slice(3, 6)):
        part = x[..., group]
        mean = part.mean(axis=(1, 2, 3), keepdims=True)
        var = part.var(axis=(1, 2, 3), keepdims=True)
        np.testing.assert_allclose(out[..., group], (part - mean) / np.sqrt(var + 1e-3),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("groups", [1, 2, 6, -1])
def test_equals_torch_group_norm_values_and_gradients(groups):
    torch = pytest.importorskip("torch")
    x = values(1, (3, 4, 5, 6))
    gamma, beta = values(2, (6,)), values(3, (6,))
    reference = torch.nn.GroupNorm(6 if groups == -1 else groups, 6, eps=1e-3)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(gamma))
        reference.bias.copy_(torch.from_numpy(beta))
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_()  # torch: NCHW
    upstream = values(4, (3, 4, 5, 6))
    yt = reference(xt)
    (yt * torch.from_numpy(upstream.transpose(0, 3, 1, 2).copy())).sum().backward()

    layer = layers.GroupNormalization(groups=groups)
    layer.build((None, 4, 5, 6))
    layer.set_weights([gamma, beta])
    xm = Tensor(x, requires_grad=True)
    y = layer(xm)
    (y * upstream).sum().backward()
    np.testing.assert_allclose(np.asarray(y), yt.detach().numpy().transpose(0, 2, 3, 1),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xm.grad, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(layer.gamma.grad, reference.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(layer.beta.grad, reference.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape, groups, axis", [((2, 3, 4), 2, -1), ((2, 6, 3), 3, 1),
                                                 ((2, 2, 3, 4), 2, -1), ((2, 4, 2, 3), 2, -3),
                                                 ((3, 6), 3, -1)])
def test_gradcheck_float64(shape, groups, axis):
    layer = layers.GroupNormalization(groups=groups, axis=axis, dtype="float64")
    layer.build((None, *shape[1:]))
    channels = shape[axis]
    gamma, beta = values(5, (channels,), np.float64), values(6, (channels,), np.float64)

    def normalised(x, g, b):
        layer.gamma, layer.beta = g, b
        return layer(x)

    assert gradcheck(normalised, [values(7, shape, np.float64), gamma, beta])


def test_weights_groups_minus_one_and_config_as_keras_2():
    layer = layers.GroupNormalization(groups=-1)
    layer.build((None, 4, 3))
    assert [w.shape for w in layer.weights] == [(3,), (3,)]  # gamma, beta: one per channel
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3))
    np.testing.assert_array_equal(layer.get_weights()[1], np.zeros(3))
    config = layer.get_config()
    assert config["groups"] == 3  # as Keras 2: -1 becomes the channels once built
    assert {key: config[key] for key in ("axis", "epsilon", "center", "scale", "beta_regularizer",
                                         "gamma_regularizer", "beta_constraint",
                                         "gamma_constraint")} == {
        "axis": -1, "epsilon": 0.001, "center": True, "scale": True, "beta_regularizer": None,
        "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}
    assert config["gamma_initializer"]["class_name"] == "Ones"
    assert config["beta_initializer"]["class_name"] == "Zeros"
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is layers.GroupNormalization and copy.get_config() == config
    bare = layers.GroupNormalization(2, center=False, scale=False)
    x = values(0, (2, 4))
    np.testing.assert_allclose(np.asarray(bare(x)), np.asarray(layers.GroupNormalization(2)(x)))
    assert bare.count_params() == 0


def test_regularizers_add_losses():
    layer = layers.GroupNormalization(2, gamma_regularizer="l2", beta_regularizer="l1")
    layer(values(0, (2, 4)))
    assert len(layer.losses) == 2


def test_summary_fit_save_and_load(tmp_path):
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([
        minidl.Input((5, 5, 8)),
        layers.GroupNormalization(4),
        layers.Conv2D(4, 3, activation="relu"),
        layers.GroupNormalization(2, gamma_initializer="glorot_uniform"),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    # tf_keras 2.21: " group_normalization (Group  (None, 5, 5, 8)           16"
    assert any(line.startswith(" group_normalization (Group  (None, 5, 5, 8)           16")
               for line in lines)
    assert any(line.startswith(" group_normalization_1 (Gro  (None, 3, 3, 4)           8")
               for line in lines)
    x = values(1, (8, 5, 5, 8))
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    predictions = model.predict(x, verbose=0)
    model.save(tmp_path / "gn.mdl")
    loaded = load_model(tmp_path / "gn.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)
    assert type(loaded.layers[0]) is layers.GroupNormalization


@pytest.mark.parametrize("kwargs, error, match", [
    ({"groups": 0}, ValueError, "groups must be a positive integer"),
    ({"groups": 2.5}, ValueError, "groups must be a positive integer"),
    ({"groups": True}, ValueError, "groups must be a positive integer"),
    ({"axis": [1, 2]}, TypeError, "axis must be an int"),
    ({"epsilon": 0}, ValueError, "epsilon must be a positive number"),
    ({"gamma_constraint": "non_negative"}, ValueError,
     "gamma_constraint: Unknown constraint: 'non_negative'"),
])
def test_bad_arguments_refused(kwargs, error, match):
    with pytest.raises(error, match=r'GroupNormalization layer "group_normalization": ' + match):
        layers.GroupNormalization(**kwargs)


@pytest.mark.parametrize("groups, shape, match", [
    (4, (None, 6), "6 channels .* cannot be split into 4 groups"),  # Keras: must divide
    (8, (None, 6), "6 channels .* cannot be split into 8 groups"),  # Keras: more groups
    (32, (None, 5, 5, 8), "8 channels .* cannot be split into 32 groups"),  # the default 32
])
def test_groups_must_divide_the_channels(groups, shape, match):
    layer = layers.GroupNormalization(groups)
    with pytest.raises(ValueError, match=match):
        layer.build(shape)
    assert layer.weights == []  # a refused build creates nothing


def test_bad_shapes_refused():
    with pytest.raises(ValueError, match=r"invalid axis 3 for inputs of shape \(2, 6\)"):
        layers.GroupNormalization(2, axis=3)(values(0, (2, 6)))
    with pytest.raises(ValueError, match="axis 0 is the batch"):
        layers.GroupNormalization(2, axis=0)(values(0, (4, 6)))
    with pytest.raises(ValueError, match=r"at least one channel axis, received input shape \(4,\)"):
        layers.GroupNormalization(2)(values(0, (4,)))
    with pytest.raises(ValueError, match="must have a known size"):
        minidl.Sequential([minidl.Input((None, 4)), layers.GroupNormalization(2, axis=1)])
    layer = layers.GroupNormalization(2)
    layer(values(0, (2, 4)))
    with pytest.raises(ValueError, match=r"built for rank-2 inputs with 4 channels on axis -1, "
                                         r"received shape \(2, 6\)"):
        layer(values(0, (2, 6)))
