"""layers.InputSpec and a layer's ``input_spec``, checked at every call as in tf_keras 2.21
(every expected message below is tf_keras's, run on the same inputs)."""

import numpy as np
import pytest

import minidl
from minidl import layers


class Affine(layers.Layer):
    """A layer whose inputs must be at least 2-D with 3 features (set in __init__)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = layers.InputSpec(min_ndim=2, axes={-1: 3})

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones", name="w")

    def call(self, x):
        return minidl.ops.matmul(x, self.w)


class Pair(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [layers.InputSpec(ndim=2), layers.InputSpec(ndim=3)]

    def call(self, inputs):
        return inputs[0]


class Typed(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = layers.InputSpec(dtype="int32", max_ndim=2, shape=(None, 4))

    def call(self, x):
        return x


def test_repr_config_and_shape_setting_ndim():
    spec = layers.InputSpec(ndim=4, axes={-1: 3})
    assert repr(spec) == "InputSpec(ndim=4, axes={-1: 3})"
    assert spec.get_config() == {"dtype": None, "shape": None, "ndim": 4, "max_ndim": None,
                                 "min_ndim": None, "axes": {-1: 3}}
    assert repr(layers.InputSpec(shape=(None, 5), dtype="float32")) == (
        "InputSpec(dtype=float32, shape=(None, 5), ndim=2)")
    assert repr(layers.InputSpec(shape=(None, 4), ndim=3)) == "InputSpec(shape=(None, 4), ndim=2)"
    copy = layers.InputSpec.from_config({**spec.get_config(), "axes": {"-1": 3}})
    assert copy.axes == {-1: 3} and copy.ndim == 4
    with pytest.raises(ValueError, match="Axis 3 is greater than the maximum allowed value: 1"):
        layers.InputSpec(ndim=2, axes={3: 1})
    assert minidl.keras.layers.InputSpec is layers.InputSpec


def test_a_layer_refuses_inputs_its_spec_does_not_admit():
    assert Affine(name="l")(np.ones((2, 3), np.float32)).shape == (2, 2)
    with pytest.raises(ValueError, match=r'Input 0 of layer "l" is incompatible with the layer: '
                                         r"expected min_ndim=2, found ndim=1. Full shape "
                                         r"received: \(3,\)"):
        Affine(name="l")(np.ones((3,), np.float32))
    layer = Affine(name="l")
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3, but "
                                         r"received input with shape \(2, 4\)"):
        layer(np.ones((2, 4), np.float32))
    assert not layer.built and not layer.weights  # a refused call changes nothing


def test_one_spec_per_input():
    with pytest.raises(ValueError, match=r'Layer "m" expects 2 input\(s\), but it received 1 '
                                         r"input tensors"):
        Pair(name="m")(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r'Input 1 of layer "m2" is incompatible with the layer: '
                                         r"expected ndim=3, found ndim=2. Full shape received: "
                                         r"\(2, 3\)"):
        Pair(name="m2")([np.ones((2, 3)), np.ones((2, 3))])


def test_dtype_rank_and_shape():
    with pytest.raises(ValueError, match="expected dtype=int32, found dtype=float32"):
        Typed(name="d")(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"expected ndim=2, found ndim=3. Full shape received: "
                                         r"\(2, 4, 1\)"):
        Typed(name="d")(np.ones((2, 4, 1), np.int32))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 5\)"):
        Typed(name="d")(np.ones((2, 5), np.int32))


def test_symbolic_inputs_are_checked_when_the_model_is_built():
    with pytest.raises(ValueError, match=r'Input 0 of layer "ls" is incompatible with the layer: '
                                         r"expected axis -1 of input shape to have value 3, but "
                                         r"received input with shape \(None, 4\)"):
        Affine(name="ls")(layers.Input((4,)))
    inputs = layers.Input((3,))
    model = minidl.Model(inputs, Affine()(inputs))
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), verbose=0)
    assert model.predict(np.ones((2, 3), np.float32), verbose=0).shape == (2, 2)


# --- layers.Wrapper (tf_keras 2.21: TimeDistributed and Bidirectional are Wrappers) -------
class Doubled(layers.Wrapper):
    def call(self, inputs):
        return 2 * self.layer(inputs)


def test_your_own_wrapper_trains_the_wrapped_layer_and_saves_it(tmp_path):
    assert issubclass(layers.TimeDistributed, layers.Wrapper)
    assert issubclass(layers.Bidirectional, layers.Wrapper)
    layers.reset_names()
    wrapper = Doubled(layers.Dense(3), name="doubled")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    y = wrapper(x)
    assert y.shape == (4, 3) and len(wrapper.trainable_weights) == 2  # Dense's: the wrapper's
    kernel, bias = wrapper.layer.get_weights()
    np.testing.assert_allclose(y.data, 2 * (x @ kernel + bias), rtol=1e-6)
    config = wrapper.get_config()
    assert config["name"] == "doubled" and config["layer"]["class_name"] == "Dense"
    copy = Doubled.from_config(config)
    assert type(copy.layer) is layers.Dense and copy.layer.units == 3
    model = minidl.Sequential([layers.Input((5,)), wrapper])
    model.compile("sgd", "mse")
    before = model.evaluate(x, np.ones((4, 3)), verbose=0)
    model.fit(x, np.ones((4, 3)), epochs=5, verbose=0)
    assert model.evaluate(x, np.ones((4, 3)), verbose=0) < before
    # tf_keras: 'Layer 3 supplied to wrapper is not a supported layer type. ...'
    with pytest.raises(ValueError, match="Layer 3 supplied to wrapper is not a supported layer"):
        Doubled(3)


def test_time_distributed_config_is_the_wrappers():
    layer = layers.TimeDistributed(layers.Dense(2))
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is layers.TimeDistributed and copy.get_config() == layer.get_config()
