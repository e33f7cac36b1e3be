"""LayerNormalization against tf_keras 2.21 and torch.nn.LayerNorm: values, gradients
(tf_keras's and float64 finite differences), weights, masks, argument checks,
config, summary, save and load.

``fixtures/attention/outputs.json`` holds tf_keras's numbers (how: ``make_fixtures.py``
there, whose ``values`` helper is repeated here).
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "attention" / "outputs.json")
                   .read_text())["layer_normalization"]


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def inputs():
    return values(0, [(2, 3, 4)])[0] * 2 + 1


@pytest.mark.parametrize("case, kwargs", [
    ("last", {}), ("axes12", {"axis": [1, 2], "epsilon": 1e-6}),
    ("axis1", {"axis": 1, "center": False}),
])
def test_outputs_equal_keras_2(case, kwargs):
    layer = layers.LayerNormalization(**kwargs)
    layer.build((None, 3, 4))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    np.testing.assert_allclose(np.asarray(layer(inputs())), KERAS[case], atol=2e-5)


def test_gradients_equal_keras_2():
    layer = layers.LayerNormalization()
    layer.build((None, 3, 4))
    layer.set_weights(values(1, [(4,), (4,)]))
    x = Tensor(inputs(), requires_grad=True)
    (layer(x) * values(2, [(2, 3, 4)])[0]).sum().backward()
    for got, expected in zip([x.grad, layer.gamma.grad, layer.beta.grad], KERAS["gradients"]):
        np.testing.assert_allclose(got, expected, atol=2e-5)


@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (-1, 1)])
def test_gradcheck_float64(axis):
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer.build((None, 3, 4))
    gamma, beta = values(1, [w.shape for w in layer.weights], np.float64)

    def normalised(x, g, b):
        layer.gamma, layer.beta = g, b
        return layer(x)

    assert gradcheck(normalised, [inputs().astype(np.float64), gamma, beta])


def test_equals_torch_layer_norm():
    torch = pytest.importorskip("torch")
    x = inputs()
    reference = torch.nn.LayerNorm([3, 4], eps=1e-5)
    gamma, beta = values(1, [(3, 4), (3, 4)])
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(gamma))
        reference.bias.copy_(torch.from_numpy(beta))
    layer = layers.LayerNormalization(axis=[-2, -1], epsilon=1e-5)
    layer.build((None, 3, 4))
    layer.set_weights([gamma, beta])
    xt = torch.from_numpy(x).requires_grad_()
    y = reference(xt)
    (y * torch.from_numpy(values(2, [(2, 3, 4)])[0])).sum().backward()
    xm = Tensor(x, requires_grad=True)
    ym = layer(xm)
    (ym * values(2, [(2, 3, 4)])[0]).sum().backward()
    np.testing.assert_allclose(np.asarray(ym), y.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xm.grad, xt.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.gamma.grad, reference.weight.grad.numpy(), atol=1e-5)


def test_weights_config_and_masks_as_keras_2():
    layer = layers.LayerNormalization()
    assert layer.get_config()["axis"] == -1  # as given, until built
    layer.build((None, 3, 4))
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("layer_normalization/gamma", (4,)), ("layer_normalization/beta", (4,))]
    config = layer.get_config()
    config.pop("name")
    expected = dict(KERAS["config"])
    for key in ("beta_initializer", "gamma_initializer"):  # minidl writes no module
        assert config.pop(key)["class_name"] == expected.pop(key)["class_name"]
    assert config == expected
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.axis == [2] and clone.epsilon == 1e-3
    assert layer.supports_masking
    words = np.array([[3, 0, 2], [0, 1, 1]])
    embedded = layers.Embedding(5, 4, mask_zero=True)(words)
    out = layers.LayerNormalization()(embedded)
    np.testing.assert_array_equal(out._keras_mask, words != 0)
    # the mask changes nothing in the values (Keras 2 normalises every step)
    np.testing.assert_allclose(np.asarray(out), np.asarray(layers.LayerNormalization()(
        embedded.data)), atol=1e-6)


@pytest.mark.parametrize("kwargs, error", [
    ({"axis": "a"}, TypeError), ({"axis": 1.5}, TypeError), ({"axis": []}, TypeError),
    ({"axis": True}, TypeError), ({"epsilon": -1.0}, ValueError),
    ({"gamma_constraint": "non_negative"}, ValueError), ({"beta_regularizer": "l7"}, ValueError),
])
def test_bad_arguments_refused(kwargs, error):
    with pytest.raises(error, match="layer_normalization"):
        layers.LayerNormalization(**kwargs)


@pytest.mark.parametrize("axis, match", [
    (3, "invalid axis"), (-4, "invalid axis"), (0, "axis 0 is the batch"),
    ([2, -1], "duplicate axis"),
])
def test_bad_axes_refused_at_build(axis, match):
    layer = layers.LayerNormalization(axis=axis)
    with pytest.raises(ValueError, match=match):
        layer(np.zeros((2, 3, 4), np.float32))
    assert not layer.built and layer.weights == []


def test_wrong_input_after_build_refused():
    layer = layers.LayerNormalization()
    layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"received shape \(2, 3, 5\)"):
        layer(np.zeros((2, 3, 5), np.float32))


def test_regularizers_add_losses():
    layer = layers.LayerNormalization(gamma_regularizer=minidl.regularizers.l2(0.5))
    layer.build((None, 4))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(np.asarray(layer.losses[0])), 0.5 * 4)


def test_summary_fit_save_and_load(tmp_path):
    minidl.utils.set_random_seed(0)
    inputs_ = minidl.Input((3, 4))
    hidden = layers.LayerNormalization(center=False)(inputs_)
    outputs = layers.Dense(1)(layers.Flatten()(hidden))
    model = minidl.Model(inputs_, outputs)
    lines = []
    model.summary(print_fn=lines.append)
    assert " layer_normalization (Layer  (None, 3, 4)              4" in [
        line.rstrip() for line in lines]  # as Keras 2 prints it (center=False: gamma only)
    x = values(5, [(32, 3, 4)])[0]
    y = x.sum(axis=(1, 2))[:, None]
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "ln.mdl")
    loaded = load_model(tmp_path / "ln.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("path, key", [("layer_normalization_keras2.h5", "keras2"),
                                       ("layer_normalization.keras", "keras3")])
def test_keras_files_load(path, key):
    """Models saved by tf_keras 2.21 and Keras 3 (Keras 3's rms_scaling=False is read)."""
    fixtures = pathlib.Path(__file__).parent / "fixtures" / "attention"
    stored = np.load(fixtures / "layer_normalization.npz")
    model = load_model(fixtures / path)
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored[key], atol=1e-5)
    assert isinstance(model.layers[1], layers.LayerNormalization)
