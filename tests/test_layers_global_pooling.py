"""GlobalMaxPooling2D (and GlobalAveragePooling2D's keepdims): Keras's shapes, configs,
values and gradients, saving, summary, bad arguments."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers, ops
from minidl.models import load_model
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


@pytest.mark.parametrize("cls", [layers.GlobalMaxPooling2D, layers.GlobalAveragePooling2D])
def test_shapes_and_configs_as_in_keras(cls):
    """tf_keras 2: (None, 4, 5, 2) -> (None, 2), or (None, 1, 1, 2) with keepdims=True."""
    assert cls().compute_output_shape((None, 4, 5, 2)) == (None, 2)
    assert cls(keepdims=True).compute_output_shape((None, 4, 5, 2)) == (None, 1, 1, 2)
    x = np.ones((3, 4, 5, 2), np.float32)
    assert cls()(x).shape == (3, 2) and cls(keepdims=True)(x).shape == (3, 1, 1, 2)
    layer = cls(keepdims=True)
    config = layer.get_config()
    assert config["keepdims"] is True and cls().get_config()["keepdims"] is False
    assert layers.deserialize(layers.serialize(layer)).get_config() == config


def test_aliases():
    assert layers.GlobalMaxPool2D is layers.GlobalMaxPooling2D
    assert layers.GlobalMaxPooling2D().name == "global_max_pooling2d"


def test_values_and_gradients():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D(dtype="float64")(x).numpy(),
                                  x.max(axis=(1, 2)))
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D(keepdims=True, dtype="float64")(x).numpy(),
                                  x.max(axis=(1, 2), keepdims=True))
    assert gradcheck(ops.global_max_pool2d, [x])


def test_ties_share_the_gradient_as_in_tensorflow():
    """tf_keras 2: the gradient of sum(GlobalMaxPooling2D()(x)) for one channel holding
    [[1, 3], [3, 2]] is [[0, 0.5], [0.5, 0]]."""
    x = Tensor(np.array([1.0, 3.0, 3.0, 2.0]).reshape(1, 2, 2, 1), requires_grad=True)
    layers.GlobalMaxPooling2D(dtype="float64")(x).sum().backward()
    np.testing.assert_array_equal(x.grad.ravel(), [0, 0.5, 0.5, 0])


def test_in_a_model_summary_training_and_saving(tmp_path):
    """The guide's debugging workflow head; summary rows as tf_keras 2 prints them."""
    model = minidl.Sequential([
        minidl.Input(shape=(6, 6, 3)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.GlobalMaxPooling2D(),
        layers.Dense(2),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    assert " global_max_pooling2d (Glob  (None, 4)                 0         " in lines
    assert " alMaxPooling2D)                                                 " in lines
    x = np.random.default_rng(0).random((8, 6, 6, 3)).astype(np.float32)
    model.compile("adam", "mse")
    history = model.fit(x, np.zeros((8, 2)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    model.save(tmp_path / "m.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "m.mdl").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_bad_arguments():
    with pytest.raises(ValueError, match='GlobalMaxPooling2D layer "global_max_pooling2d".*channels_last'):
        layers.GlobalMaxPooling2D(data_format="NCHW")
    with pytest.raises(ValueError, match=r"global_max_pooling2d.*\(None, height, width, channels\).*"
                                         r"\(2, 3, 4\)"):
        layers.GlobalMaxPooling2D()(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="global_max_pool2d: input must be 4-D"):
        ops.global_max_pool2d(np.ones((2, 3)))
