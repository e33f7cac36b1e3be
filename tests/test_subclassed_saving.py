"""save() / load_model() of subclassed models (a Model subclass with its own
__init__ and call), Keras 3's rule: it saves when the class implements
get_config, loads back with custom_objects or registration (weights, optimizer
state, predictions), and is a clear error otherwise."""

import json
import zipfile

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.utils import custom_object_scope, object_registration, register_keras_serializable


@pytest.fixture(autouse=True)
def clean_registry():
    objects = dict(object_registration._GLOBAL_CUSTOM_OBJECTS)
    names = dict(object_registration._GLOBAL_CUSTOM_NAMES)
    yield
    for saved, live in ((objects, object_registration._GLOBAL_CUSTOM_OBJECTS),
                        (names, object_registration._GLOBAL_CUSTOM_NAMES)):
        live.clear()
        live.update(saved)


class MLP(minidl.Model):
    """The subclassing guide's shape: layers in __init__, call, get_config with the
    constructor's arguments (through super().get_config(), which is {} as in Keras 2)."""

    def __init__(self, hidden_units=(16, 8), classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units, self.classes = list(hidden_units), classes
        self.hidden = [layers.Dense(u, activation="relu") for u in hidden_units]
        self.dropout = layers.Dropout(0.2)
        self.head = layers.Dense(classes, activation="softmax")

    def call(self, x, training=False):
        for layer in self.hidden:
            x = layer(x)
        return self.head(self.dropout(x, training=training))

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_units": self.hidden_units, "classes": self.classes})
        return config


def data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


def trained_mlp():
    minidl.utils.set_random_seed(0)
    model = MLP()
    model.compile(minidl.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model


def test_super_get_config_of_a_subclass_is_empty_as_in_keras_2():
    assert MLP(hidden_units=[4], classes=2).get_config() == {"hidden_units": [4], "classes": 2}


def test_save_and_load_with_custom_objects(tmp_path):
    model = trained_mlp()
    path = tmp_path / "mlp.mdl"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        architecture = json.loads(archive.read("model.json"))
    assert architecture["class_name"] == "MLP"
    assert architecture["config"] == {"hidden_units": [16, 8], "classes": 3}
    loaded = load_model(path, custom_objects={"MLP": MLP})
    assert type(loaded) is MLP and loaded.hidden_units == [16, 8]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x, y = data()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    for m in (model, loaded):  # the optimizer state came back: training continues the same
        minidl.utils.set_random_seed(5)
        m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_load_with_a_scope_or_registration(tmp_path):
    model = trained_mlp()
    path = tmp_path / "mlp.mdl"
    model.save(path)
    x, _ = data()
    with custom_object_scope({"MLP": MLP}):
        np.testing.assert_array_equal(load_model(path).predict(x, verbose=0),
                                      model.predict(x, verbose=0))

    @register_keras_serializable(package="tests")
    class Registered(MLP):
        pass

    registered = Registered(hidden_units=[6])
    registered(x[:1])
    registered.save(path)
    loaded = load_model(path)  # no custom_objects: "tests>Registered" is known
    assert type(loaded) is Registered
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), registered.predict(x, verbose=0))


def test_load_without_the_class_names_it(tmp_path):
    model = trained_mlp()
    path = tmp_path / "mlp.mdl"
    model.save(path)
    with pytest.raises(ValueError, match=r"Unknown layer class 'MLP'.*custom_objects=\{'MLP': MLP\}"):
        load_model(path)


def test_own_from_config_and_several_inputs(tmp_path):
    class TwoInputs(minidl.Model):
        def __init__(self, width):
            super().__init__()
            self.width = width
            self.left, self.right = layers.Dense(width), layers.Dense(width)
            self.scale = minidl.Variable(np.float32(1.5))  # a weight of the model itself

        def call(self, inputs):
            a, b = inputs
            return (self.left(a) + self.right(b)) * self.scale

        def get_config(self):
            return {"size": self.width}

        @classmethod
        def from_config(cls, config):
            return cls(width=config["size"])

    model = TwoInputs(3)
    xs = [np.ones((2, 4), np.float32), np.ones((2, 2), np.float32)]
    model.scale.assign(np.float32(2.0))  # an unnamed Variable: saved as "Variable"
    expected = model(xs).numpy()
    path = tmp_path / "two.mdl"
    model.save(path)
    loaded = load_model(path, custom_objects={"TwoInputs": TwoInputs})
    assert float(loaded.scale.numpy()) == 2.0
    np.testing.assert_array_equal(loaded(xs).numpy(), expected)


def test_without_get_config_save_is_a_clear_error(tmp_path):
    class Bare(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Bare()
    model(np.zeros((1, 3), np.float32))
    path = tmp_path / "bare.mdl"
    with pytest.raises(NotImplementedError, match=r"subclassed model \(Bare\).*Implement "
                                                  r"get_config\(\).*save_weights\(\)"):
        model.save(path)
    assert not path.exists()
    model.save_weights(path)  # the way that always works
    other = Bare()
    other(np.zeros((1, 3), np.float32))
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_config_that_does_not_rebuild_the_same_weights_is_refused(tmp_path):
    class Liar(minidl.Model):
        def __init__(self, units=2):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {}  # forgets units

    model = Liar(units=5)
    model(np.zeros((1, 3), np.float32))
    path = tmp_path / "liar.mdl"
    model.save(path)
    with pytest.raises(ValueError, match="weight .* has shape"):
        load_model(path, custom_objects={"Liar": Liar})


def test_unbuilt_subclassed_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="has no weights yet"):
        MLP().save(tmp_path / "never.mdl")
