"""minidl.utils.custom_object_scope / get_custom_objects / register_keras_serializable:
your own classes and functions found again by name, as in Keras 2
(tf_keras/src/saving/object_registration.py: scopes, then the global dictionary, then
the custom_objects argument, then the library's own names)."""

import threading

import numpy as np
import pytest

import minidl
from minidl import activations, initializers, layers, losses, metrics, optimizers, regularizers
from minidl.models import load_model
from minidl.utils import (CustomObjectScope, custom_object_scope, get_custom_objects,
                          get_registered_name, get_registered_object, object_registration,
                          register_keras_serializable, set_random_seed)


@pytest.fixture(autouse=True)
def clean_registry():
    """Each test registers into the global dictionaries; put them back afterwards."""
    objects = dict(object_registration._GLOBAL_CUSTOM_OBJECTS)
    names = dict(object_registration._GLOBAL_CUSTOM_NAMES)
    yield
    object_registration._GLOBAL_CUSTOM_OBJECTS.clear()
    object_registration._GLOBAL_CUSTOM_OBJECTS.update(objects)
    object_registration._GLOBAL_CUSTOM_NAMES.clear()
    object_registration._GLOBAL_CUSTOM_NAMES.update(names)


class CustomLayer(layers.Layer):
    """The Keras serialization guide's layer: x @ w + b."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return minidl.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def custom_activation(x):
    return minidl.ops.tanh(x) ** 2


def custom_model():
    inputs = minidl.Input((6,))
    x = CustomLayer(5)(inputs)
    outputs = layers.Activation(custom_activation)(x)
    return minidl.Model(inputs, outputs)


OBJECTS = {"CustomLayer": CustomLayer, "custom_activation": custom_activation}


def same_predictions(a, b):
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).normal(size=(3, *a.input_shape[1:])).astype(np.float32)
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


# --- custom_object_scope ----------------------------------------------------------------
def test_scope_rebuilds_a_functional_config():
    model = custom_model()
    config = model.get_config()
    with custom_object_scope(OBJECTS) as scope:
        assert isinstance(scope, CustomObjectScope)
        new_model = minidl.Model.from_config(config)
    assert isinstance(new_model.layers[1], CustomLayer)
    assert new_model.layers[2].activation is custom_activation
    same_predictions(model, new_model)


def test_without_the_scope_the_error_names_the_class_and_the_ways_to_give_it():
    config = custom_model().get_config()
    with pytest.raises(ValueError, match=r"Unknown layer class 'CustomLayer'.*custom_objects="
                                         r".*register_keras_serializable"):
        minidl.Model.from_config(config)
    with custom_object_scope({"CustomLayer": CustomLayer}):  # the activation still missing
        with pytest.raises(ValueError, match="Unknown activation 'custom_activation'.*"
                                             "custom_objects"):
            minidl.Model.from_config(config)


def test_scopes_nest_and_restore_what_was_known():
    def known(name):
        return get_registered_object(name)

    with custom_object_scope({"a": 1}, {"b": 2}):
        assert (known("a"), known("b")) == (1, 2)
        with CustomObjectScope({"a": 3, "c": 4}):
            assert (known("a"), known("b"), known("c")) == (3, 2, 4)
        assert (known("a"), known("c")) == (1, None)
    assert known("a") is None and known("b") is None
    assert "a" not in get_custom_objects()  # scope objects are not the global dictionary


def test_scope_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with custom_object_scope({"a": 1}):
            raise RuntimeError("inside")
    assert get_registered_object("a") is None


def test_scope_is_per_thread():
    seen = []
    with custom_object_scope({"a": 1}):
        thread = threading.Thread(target=lambda: seen.append(get_registered_object("a")))
        thread.start()
        thread.join()
        assert get_registered_object("a") == 1
    assert seen == [None]


def test_scope_takes_only_dicts():
    assert custom_object_scope is CustomObjectScope
    with pytest.raises(TypeError, match="dictionaries.*argument 0.*list"):
        custom_object_scope([CustomLayer])


def test_lookup_order_scope_then_global_then_argument():
    get_custom_objects()["thing"] = "global"
    assert get_registered_object("thing", {"thing": "argument"}) == "global"
    with custom_object_scope({"thing": "scope"}):
        assert get_registered_object("thing", {"thing": "argument"}) == "scope"
    assert get_registered_object("other", {"other": "argument"}, {"other": "module"}) == "argument"
    assert get_registered_object("other", None, {"other": "module"}) == "module"


# --- get_custom_objects -------------------------------------------------------------------
def test_get_custom_objects_is_the_live_global_dictionary():
    get_custom_objects().update(OBJECTS)
    assert get_custom_objects() is get_custom_objects()
    new_model = minidl.Model.from_config(custom_model().get_config())
    assert isinstance(new_model.layers[1], CustomLayer)


# --- register_keras_serializable -----------------------------------------------------------
def test_register_names_package_and_name():
    @register_keras_serializable(package="my_package")
    class MyDense(layers.Dense):
        pass

    @register_keras_serializable()
    def double(x):
        return x * 2

    @register_keras_serializable("pkg", name="renamed")
    def triple(x):
        return x * 3

    assert get_registered_name(MyDense) == "my_package>MyDense"
    assert get_registered_object("my_package>MyDense") is MyDense
    assert get_custom_objects()["Custom>double"] is double
    assert get_registered_name(triple) == "pkg>renamed"
    assert get_registered_name(layers.Dense) == "Dense"  # not registered: its own name


def test_registered_layer_and_activation_round_trip_with_no_custom_objects():
    @register_keras_serializable(package="my_package")
    class ScaledDense(layers.Dense):
        def __init__(self, units, scale=2.0, **kwargs):
            super().__init__(units, **kwargs)
            self.scale = scale

        def call(self, inputs):
            return super().call(inputs) * self.scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    @register_keras_serializable()
    def halve(x):
        return x * 0.5

    model = minidl.Sequential([ScaledDense(3, scale=3.0, activation=halve, input_shape=(4,))])
    entry = layers.serialize(model.layers[0])
    assert entry["class_name"] == "my_package>ScaledDense"
    assert entry["config"]["activation"] == "Custom>halve"
    rebuilt = minidl.models.model_from_config(layers.serialize(model))
    assert type(rebuilt.layers[0]) is ScaledDense and rebuilt.layers[0].scale == 3.0
    assert rebuilt.layers[0].activation is halve
    same_predictions(model, rebuilt)


def test_register_refuses_a_class_without_get_config_and_a_missing_call():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        register_keras_serializable()(NoConfig)
    with pytest.raises(TypeError, match="parentheses"):
        register_keras_serializable(CustomLayer)  # written @register_keras_serializable
    with pytest.raises(ValueError, match="'>'"):
        register_keras_serializable(package="a>b")


# --- load_model honours all three ways -------------------------------------------------------
@pytest.mark.parametrize("way", ["argument", "scope", "registration"])
def test_load_model_finds_custom_layer_activation_and_loss(tmp_path, way):
    def custom_loss(y_true, y_pred):
        return minidl.ops.mean((y_true - y_pred) ** 2)

    objects = {**OBJECTS, "custom_loss": custom_loss}
    if way == "registration":
        for obj in objects.values():
            register_keras_serializable(package="tests")(obj)
    set_random_seed(0)
    model = custom_model()
    model.compile("adam", custom_loss)
    x = np.random.default_rng(1).normal(size=(8, 6)).astype(np.float32)
    model.fit(x, np.zeros((8, 5), np.float32), epochs=1, verbose=0)
    path = tmp_path / "custom.mdl"
    model.save(path)
    if way == "argument":
        loaded = load_model(path, custom_objects=objects)
    elif way == "scope":
        with custom_object_scope(objects):
            loaded = load_model(path)
    else:
        loaded = load_model(path)
    assert isinstance(loaded.layers[1], CustomLayer)
    assert loaded.layers[2].activation is custom_activation
    assert loaded.optimizer is not None  # compiled: the custom loss was found
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_load_model_without_them_is_a_clear_error(tmp_path):
    model = custom_model()
    path = tmp_path / "custom.mdl"
    model.save(path)
    with pytest.raises(ValueError, match="CustomLayer"):
        load_model(path)


# --- each family's deserialize ----------------------------------------------------------------
def test_activations_deserialize_and_get():
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("custom_activation")
    assert activations.deserialize("custom_activation", custom_objects=OBJECTS) is custom_activation
    with custom_object_scope(OBJECTS):
        assert activations.get("custom_activation") is custom_activation
        assert layers.Dense(2, activation="custom_activation").activation is custom_activation
    assert activations.serialize(custom_activation) == "custom_activation"
    assert activations.deserialize("relu") is activations.relu


def test_losses_deserialize_and_get():
    class HalfMSE(losses.MeanSquaredError):
        pass

    def my_loss(y_true, y_pred):
        return minidl.ops.mean(minidl.ops.abs(y_true - y_pred))

    assert losses.deserialize("my_loss", custom_objects={"my_loss": my_loss}) is my_loss
    with custom_object_scope({"my_loss": my_loss}):
        assert losses.get("my_loss") is my_loss
    register_keras_serializable()(HalfMSE)
    assert isinstance(losses.get("Custom>HalfMSE"), HalfMSE)
    rebuilt = losses.deserialize({"class_name": "Custom>HalfMSE", "config": {}})
    assert isinstance(rebuilt, HalfMSE)
    with pytest.raises(ValueError, match="Unknown loss class 'Nope'"):
        losses.deserialize({"class_name": "Nope", "config": {}})
    assert losses.deserialize("mse") is losses.get("mse")


def test_metrics_deserialize_and_get():
    def my_metric(y_true, y_pred):
        return minidl.ops.mean(y_pred)

    assert metrics.deserialize("my_metric", custom_objects={"my_metric": my_metric}) is my_metric
    with custom_object_scope({"my_metric": my_metric}):
        assert metrics.get("my_metric") is my_metric
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("my_metric")
    assert metrics.deserialize("accuracy") == "accuracy"


def test_optimizers_and_schedules_deserialize():
    @register_keras_serializable(package="tests")
    class MySGD(optimizers.SGD):
        pass

    class MySchedule(optimizers.schedules.ExponentialDecay):
        pass

    config = optimizers.serialize(MySGD(learning_rate=MySchedule(0.1, 10, 0.5)))
    assert config["class_name"] == "tests>MySGD"
    with pytest.raises(ValueError, match="MySchedule"):
        optimizers.deserialize(config)
    with custom_object_scope({"MySchedule": MySchedule}):
        rebuilt = optimizers.deserialize(config)
    assert type(rebuilt) is MySGD and type(rebuilt._schedule) is MySchedule
    assert type(optimizers.get("tests>MySGD")) is MySGD


def test_initializers_and_regularizers_deserialize():
    @register_keras_serializable(package="tests")
    class Fives(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 5.0, dtype or np.float32)

    def tiny_penalty(weights):
        return 0.001 * minidl.ops.sum(weights ** 2)

    layer = layers.Dense(2, kernel_initializer=Fives(), kernel_regularizer=tiny_penalty)
    config = layer.get_config()
    assert config["kernel_initializer"] == {  # as tf_keras 2.21
        "module": None, "class_name": "Fives", "config": {}, "registered_name": "tests>Fives"}
    with custom_object_scope({"tiny_penalty": tiny_penalty}):
        rebuilt = layers.Dense.from_config(config)
    assert rebuilt.kernel_regularizer is tiny_penalty
    rebuilt.build((None, 3))
    np.testing.assert_array_equal(rebuilt.kernel.numpy(), np.full((3, 2), 5.0))
    assert isinstance(initializers.get("tests>Fives"), Fives)
    assert regularizers.deserialize("tiny_penalty", {"tiny_penalty": tiny_penalty}) is tiny_penalty


def test_sequential_from_config_honours_the_scope():
    model = minidl.Sequential([CustomLayer(3, input_shape=(2,)), layers.Activation(custom_activation)])
    config = model.get_config()
    with custom_object_scope(OBJECTS):
        rebuilt = minidl.Sequential.from_config(config)
    same_predictions(model, rebuilt)
    rebuilt = minidl.Sequential.from_config(config, custom_objects=OBJECTS)
    assert isinstance(rebuilt.layers[0], CustomLayer)


def test_keras_saving_namespace(tmp_path):
    """``keras.saving.*`` (Keras 2.13+, Keras 3) as the serialization guide writes it."""
    from minidl import keras

    @keras.saving.register_keras_serializable(package="guide")
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([Doubler(input_shape=(2,))])
    path = tmp_path / "doubler.mdl"
    keras.saving.save_model(model, path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is Doubler
    assert keras.saving.get_registered_name(Doubler) == "guide>Doubler"
    assert keras.saving.get_custom_objects() is get_custom_objects()
    assert keras.saving.custom_object_scope is CustomObjectScope
    assert keras.models.save_model is keras.saving.save_model


def test_load_model_custom_objects_must_be_a_dict(tmp_path):
    model = minidl.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "m.mdl")
    with pytest.raises(TypeError, match="dictionaries"):
        load_model(tmp_path / "m.mdl", custom_objects=[CustomLayer])
