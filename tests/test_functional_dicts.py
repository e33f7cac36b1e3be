"""Functional models with dict inputs and dict outputs, as Keras builds them
(keras.io's functional API guide: ``outputs={"priority": ..., "department": ...}``;
TensorFlow's "Load CSV data" tutorial: ``Model(inputs={name: Input(...)}, ...)``).

Expected names, orders and shapes are what tf_keras 2.21 printed for the same models."""

import warnings

import numpy as np
import pytest

import minidl
from minidl import keras, layers

NUM_TAGS, NUM_WORDS, NUM_DEPARTMENTS = 12, 100, 4


def ticket_model():
    """The guide's multi-input, multi-output model, smaller."""
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(NUM_TAGS,), name="tags")
    title_features = layers.LSTM(16)(layers.Embedding(NUM_WORDS, 8)(title_input))
    body_features = layers.LSTM(4)(layers.Embedding(NUM_WORDS, 8)(body_input))
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(NUM_DEPARTMENTS, name="department")(x)
    return keras.Model(inputs=[title_input, body_input, tags_input],
                       outputs={"priority": priority_pred, "department": department_pred})


def ticket_data(n=64):
    rng = np.random.default_rng(0)
    x = {"title": rng.integers(0, NUM_WORDS, size=(n, 10)),
         "body": rng.integers(0, NUM_WORDS, size=(n, 20)),
         "tags": rng.integers(0, 2, size=(n, NUM_TAGS)).astype("float32")}
    y = {"priority": rng.random(size=(n, 1)),
         "department": rng.integers(0, 2, size=(n, NUM_DEPARTMENTS)).astype("float32")}
    return x, y


def test_dict_outputs_are_flat_in_sorted_key_order_and_returned_as_dicts():
    minidl.utils.set_random_seed(0)
    model = ticket_model()
    assert model.output_names == ["department", "priority"]  # sorted keys, as tf_keras
    assert model.output_shape == {"priority": (None, 1), "department": (None, 4)}
    assert [tuple(t.shape) for t in model.outputs] == [(None, 4), (None, 1)]
    assert set(model.output) == {"priority", "department"}
    x, _ = ticket_data(8)
    out = model(x)
    assert list(out) == ["priority", "department"] and tuple(out["department"].shape) == (8, 4)
    predicted = model.predict(x, verbose=0)
    assert list(predicted) == ["priority", "department"]
    np.testing.assert_allclose(predicted["priority"], out["priority"].numpy(), rtol=1e-6)
    on_batch = model.predict_on_batch([x["title"], x["body"], x["tags"]])
    np.testing.assert_allclose(on_batch["department"], predicted["department"], rtol=1e-6)


def test_the_guides_compile_and_fit_with_dict_outputs():
    minidl.utils.set_random_seed(0)
    model = ticket_model()
    x, y = ticket_data()
    # a list of losses follows the flat (sorted) order, as in tf_keras: department first
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=[keras.losses.BinaryCrossentropy(from_logits=True),
                        keras.losses.CategoricalCrossentropy(from_logits=True)],
                  loss_weights=[1.0, 0.2])
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert sorted(history.history) == ["department_loss", "loss", "priority_loss"]
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                        "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2},
                  metrics={"priority": ["mae"], "department": ["accuracy"]})
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert sorted(history.history) == ["department_accuracy", "department_loss", "loss",
                                       "priority_loss", "priority_mae"]
    logs = history.history
    total = np.array(logs["priority_loss"]) + 0.2 * np.array(logs["department_loss"])
    np.testing.assert_allclose(logs["loss"], total, rtol=1e-4)
    model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "department_loss", "priority_loss",
                                   "department_accuracy", "priority_mae"]
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == [
        "department_accuracy", "department_loss", "loss", "priority_loss", "priority_mae"]


def test_dict_keys_other_than_the_layer_names():
    """Keys and output layer names may differ: losses, metrics and targets go by the keys,
    the logs by the layer names (tf_keras 2.21: ['a_loss', 'loss', 's_accuracy', 's_loss'])."""
    minidl.utils.set_random_seed(0)
    inputs = {"fare": keras.Input(shape=(1,), name="fare"),
              "age": keras.Input(shape=(1,), name="age_in"),
              "cls": keras.Input(shape=(3,), name="cls")}
    hidden = layers.Dense(4, activation="relu")(layers.Concatenate()(list(inputs.values())))
    outputs = {"surv": layers.Dense(1, activation="sigmoid", name="s")(hidden),
               "aux": layers.Dense(2, name="a")(hidden)}
    model = keras.Model(inputs, outputs)
    assert model.input_names == ["age_in", "cls", "fare"] and model.output_names == ["a", "s"]
    assert model.input_shape == {"fare": (None, 1), "age": (None, 1), "cls": (None, 3)}
    rng = np.random.default_rng(0)
    data = {"fare": rng.random((16, 1)), "age": rng.random((16, 1)), "cls": rng.random((16, 3))}
    y = {"surv": rng.integers(0, 2, (16, 1)).astype("float32"), "aux": rng.random((16, 2))}
    model.compile("adam", loss={"surv": "binary_crossentropy", "aux": "mse"},
                  metrics={"surv": "accuracy"})
    history = model.fit(data, y, epochs=1, verbose=0)
    assert sorted(history.history) == ["a_loss", "loss", "s_accuracy", "s_loss"]
    # the inputs by the Input layers' names work too
    by_name = {"fare": data["fare"], "age_in": data["age"], "cls": data["cls"]}
    np.testing.assert_allclose(model.predict(by_name, verbose=0)["surv"],
                               model.predict(data, verbose=0)["surv"], rtol=1e-6)
    assert model.get_config()["input_layers"] == {
        "fare": ["fare", 0, 0], "age": ["age_in", 0, 0], "cls": ["cls", 0, 0]}
    with pytest.raises(ValueError, match="no targets for outputs"):
        model.fit(data, {"surv": y["surv"]}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"no data for input 'cls'.*\['age', 'cls', 'fare'\]"):
        model.predict({"fare": data["fare"], "age": data["age"]}, verbose=0)
    with pytest.warns(UserWarning, match=r"keys \['zzz'\].*ignored"):  # as Keras 2
        model.predict({**data, "zzz": data["fare"]}, verbose=0)


def test_dict_models_save_load_and_rebuild_from_config(tmp_path):
    minidl.utils.set_random_seed(0)
    model = ticket_model()
    model.compile("adam", loss={"priority": "mse", "department": "mse"})
    x, y = ticket_data(16)
    model.fit(x, y, epochs=1, verbose=0)
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = keras.models.load_model(tmp_path / "m.mdl")
    after = loaded.predict(x, verbose=0)
    assert list(after) == ["priority", "department"]
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
    rebuilt = keras.models.model_from_json(model.to_json())
    assert rebuilt.output_shape == model.output_shape
    assert model.get_config()["output_layers"] == {"priority": ["priority", 0, 0],
                                                   "department": ["department", 0, 0]}


def test_a_train_step_of_your_own_gets_the_dict():
    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data
            with minidl.GradientTape() as tape:
                y_pred = self(x, training=True)
                assert isinstance(y_pred, dict)
                loss = self.compiled_loss(y, y_pred)
            self.optimizer.minimize(loss, self.trainable_weights, tape=tape)
            return {"loss": loss}

    inputs = keras.Input((3,))
    model = Custom(inputs, {"b": layers.Dense(1, name="b")(inputs),
                            "a": layers.Dense(2, name="a")(inputs)})
    model.compile("sgd", loss={"a": "mse", "b": "mse"})
    history = model.fit(np.ones((8, 3)), {"a": np.zeros((8, 2)), "b": np.zeros((8, 1))},
                        epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_bad_dicts_are_refused_with_a_message():
    inputs = keras.Input((3,))
    with pytest.raises(TypeError, match="string keys"):
        keras.Model(inputs, {1: layers.Dense(1)(inputs)})
    with pytest.raises(TypeError, match="dict.*named Input"):
        keras.Sequential([layers.Dense(1, input_shape=(3,))])({"x": np.ones((1, 3))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a list of outputs: no dict, no warning
        keras.Model(inputs, [layers.Dense(1)(inputs), layers.Dense(2)(inputs)])


def test_dict_models_in_keras_3_files(tmp_path):
    """Keras 3 writes dict inputs/outputs as dicts of references in config.json
    (keras 3.15: {'b': ['b', 0, 0], 'a': ['a', 0, 0]}); minidl writes and reads them so."""
    pytest.importorskip("h5py")
    import json
    import zipfile

    minidl.utils.set_random_seed(0)
    inputs = keras.Input((3,), name="x")
    model = keras.Model({"x": inputs}, {"b": layers.Dense(1, name="b")(inputs),
                                        "a": layers.Dense(2, name="a")(inputs)})
    path = tmp_path / "dicts.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))["config"]
    assert config["output_layers"] == {"b": ["b", 0, 0], "a": ["a", 0, 0]}
    assert config["input_layers"] == {"x": ["x", 0, 0]}
    loaded = keras.models.load_model(path)
    data = {"x": np.ones((2, 3), "float32")}
    before, after = model.predict(data, verbose=0), loaded.predict(data, verbose=0)
    assert list(after) == ["b", "a"]
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)


def test_dict_models_in_keras_2_h5_files(tmp_path):
    """tf_keras 2.21 keeps dict inputs/outputs as dicts of references in an .h5's
    model_config (and loads minidl's file with the same predictions: checked by hand)."""
    h5py = pytest.importorskip("h5py")
    import json

    minidl.utils.set_random_seed(0)
    inputs = keras.Input((3,), name="x")
    model = keras.Model({"x": inputs}, {"b": layers.Dense(1, name="b")(inputs),
                                        "a": layers.Dense(2, name="a")(inputs)})
    model.compile("adam", loss={"a": "mse", "b": "mse"})
    data = {"x": np.ones((4, 3), "float32")}
    model.fit(data, {"a": np.ones((4, 2)), "b": np.ones((4, 1))}, verbose=0)
    model.save(tmp_path / "dicts.h5")
    with h5py.File(tmp_path / "dicts.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
    assert config["output_layers"] == {"b": ["b", 0, 0], "a": ["a", 0, 0]}
    assert config["input_layers"] == {"x": ["x", 0, 0]}
    loaded = keras.models.load_model(tmp_path / "dicts.h5")
    before, after = model.predict(data, verbose=0), loaded.predict(data, verbose=0)
    assert list(after) == ["b", "a"]
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
