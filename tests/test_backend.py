"""minidl.backend: the tf.keras.backend functions tutorials call, with Keras 2's results."""

import importlib

import numpy as np
import pytest

import minidl
from minidl import backend, layers, optimizers


def test_reachable_as_keras_backend():
    from minidl import keras

    assert keras.backend is backend is minidl.backend


def test_get_value_and_set_value_on_the_learning_rate():
    optimizer = optimizers.Adam(learning_rate=0.001)
    value = backend.get_value(optimizer.lr)
    assert value == 0.001 and isinstance(value, np.float64)
    backend.set_value(optimizer.lr, 0.5)
    assert float(optimizer.learning_rate) == 0.5
    backend.set_value(optimizer.lr, np.float32(0.25))
    assert optimizer.get_config()["learning_rate"] == 0.25
    with pytest.raises(ValueError, match="non-negative"):
        backend.set_value(optimizer.lr, -1.0)
    scheduled = optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    assert backend.get_value(scheduled.lr) == 0.1
    with pytest.raises(TypeError, match="not settable"):  # Keras would silently lose it
        backend.set_value(scheduled.lr, 0.01)


def test_get_value_and_set_value_on_weights():
    w = minidl.Variable(np.zeros((2, 3), dtype=np.float32))
    backend.set_value(w, np.ones((2, 3)))
    value = backend.get_value(w)
    np.testing.assert_array_equal(value, np.ones((2, 3)))
    value[0, 0] = 5  # a copy, as Keras's numpy() is
    assert w.data[0, 0] == 1 and w.dtype == np.float32
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        backend.set_value(w, np.ones(3))
    assert backend.get_value(0.5) == 0.5  # not a tensor: returned as is
    with pytest.raises(TypeError, match="must be a variable"):
        backend.set_value(0.5, 1.0)


def test_epsilon_floatx_and_image_format():
    assert backend.epsilon() == 1e-7
    backend.set_epsilon(1e-7)
    with pytest.raises(NotImplementedError, match="fixed epsilon"):
        backend.set_epsilon(1e-8)
    assert backend.floatx() == "float32"
    backend.set_floatx("float32")
    with pytest.raises(NotImplementedError, match="dtype='float64'"):
        backend.set_floatx("float64")
    with pytest.raises(ValueError, match="Unknown `floatx` value: float8"):
        backend.set_floatx("float8")
    assert backend.image_data_format() == "channels_last"
    backend.set_image_data_format("channels_last")
    backend.set_image_data_format("channels_first")  # layers made with data_format=None follow
    try:
        assert backend.image_data_format() == "channels_first"
        assert minidl.layers.Conv2D(2, 3).data_format == "channels_first"
    finally:
        backend.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="Unknown `data_format`: nchw"):
        backend.set_image_data_format("nchw")


def test_int_shape_and_count_params():
    inputs = minidl.Input(shape=(28, 28, 1))
    assert backend.int_shape(inputs) == (None, 28, 28, 1)
    dense = layers.Dense(10)
    dense.build((None, 784))
    assert backend.int_shape(dense.kernel) == (784, 10)
    assert backend.count_params(dense.kernel) == 7840
    assert backend.count_params(dense.bias) == 10
    assert backend.int_shape(np.zeros((3, 4))) == (3, 4)
    with pytest.raises(TypeError, match="int_shape"):
        backend.int_shape([1, 2])


def test_clear_session_starts_layer_names_over():
    layers.Dense(1)
    backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_keras_submodules_import_as_tf_keras_ones_do():
    """``from tensorflow.keras.models import Sequential`` (the image classification
    tutorial) and ``from tensorflow.keras.layers import Dense`` change one word."""
    from minidl.keras.layers import Dense
    from minidl.keras.models import Sequential
    schedules = importlib.import_module("minidl.keras.optimizers.schedules")

    assert Sequential is minidl.Sequential and Dense is minidl.layers.Dense
    assert schedules is minidl.optimizers.schedules  # the module itself, not a copy
    assert schedules.__name__ == "minidl.optimizers.schedules"
    assert schedules.ExponentialDecay is minidl.optimizers.schedules.ExponentialDecay
    with pytest.raises(ModuleNotFoundError, match="minidl.keras.applications"):
        importlib.import_module("minidl.keras.applications")


def test_minidl_function_is_tf_functions_pass_through():
    import minidl

    def step(x):
        return x * 2

    assert minidl.function(step) is step
    assert minidl.function(jit_compile=True, reduce_retracing=True)(step) is step
    with pytest.raises(TypeError, match="unexpected"):
        minidl.function(step, compile_me=True)
