"""model.save("x.keras") writing Keras 3's layout (minidl.models.keras_writer).

Unit tests check the written zip and HDF5 against what Keras 3.15 itself writes (the
paths and orders below were read from files Keras saved), minidl's own round trip
through such a file, and the two fallbacks to minidl's layout (no h5py; a model Keras
cannot rebuild).  The slow test loads the files in real Keras 3: it runs the interpreter
named by MINIDL_KERAS_PYTHON (e.g. /work/tfvenv/bin/python), or skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import minidl
from minidl import layers as L
from minidl import initializers, models, optimizers, regularizers
from minidl.models import keras_writer, load_model
from minidl.utils import set_random_seed

h5py = pytest.importorskip("h5py")


def mlp():
    return minidl.Sequential([
        L.Input(shape=(6, 6)), L.Flatten(), L.Dense(16, activation="relu"), L.Dropout(0.2),
        L.Dense(5, activation="softmax")], name="mlp")


def cnn():
    return minidl.Sequential([
        L.Input(shape=(10, 10, 1)), L.Conv2D(4, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)), L.Conv2D(8, (3, 3), activation="relu", padding="same"),
        L.MaxPooling2D((2, 2)), L.Flatten(), L.Dense(16, activation="relu"),
        L.Dense(10, activation="softmax")], name="cnn")


def two_heads():
    """The functional model whose Keras-saved file was inspected: Keras 3 lists its layers
    features, branch_a, norm, dropout, branch_b, sum, extra, join, probs."""
    features = L.Input(shape=(8,), name="features")
    extra = L.Input(shape=(3,), name="extra")
    a = L.Dense(6, activation="relu", name="branch_a")(features)
    a = L.BatchNormalization(name="norm")(a)
    a = L.Dropout(0.3, name="dropout")(a)
    b = L.Dense(6, activation="tanh", name="branch_b")(features)
    merged = L.Add(name="sum")([a, b])
    joined = L.Concatenate(name="join")([merged, extra])
    probs = L.Dense(3, activation="softmax", name="probs")(joined)
    return models.Model([features, extra], probs, name="two_heads")


def inputs_for(model, n=12, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(n, *s[1:])).astype(np.float32) for s in model.input_shapes]
    return xs if len(xs) > 1 else xs[0]


def trained(build, optimizer="adam", steps=3, inputs=inputs_for):
    set_random_seed(0)
    model = build()
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = inputs(model, 24)
    classes = model.output_shape[-1]
    y = np.random.default_rng(1).integers(0, classes, 24)
    model.fit(x, y, epochs=steps, batch_size=8, verbose=0)
    return model, x, y


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def h5_tree(raw):
    import io

    found = {}
    with h5py.File(io.BytesIO(raw), "r") as handle:
        handle.visititems(lambda name, obj: found.__setitem__(
            name, (tuple(obj.shape), dict(obj.attrs)) if isinstance(obj, h5py.Dataset)
            else dict(obj.attrs)))
    return found


# --- the layout -------------------------------------------------------------------
def test_sequential_layout_is_keras3s(tmp_path):
    model, _, _ = trained(mlp)
    model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    assert list(files)[:3] == ["metadata.json", "config.json", "model.weights.h5"]
    assert json.loads(files["metadata.json"])["keras_version"].startswith("3.")
    config = json.loads(files["config.json"])
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    entries = config["config"]["layers"]
    assert [e["class_name"] for e in entries] == ["InputLayer", "Flatten", "Dense", "Dropout",
                                                  "Dense"]
    assert entries[0]["config"]["batch_shape"] == [None, 6, 6]
    dense = entries[2]
    assert dense["module"] == "keras.layers" and dense["registered_name"] is None
    assert dense["build_config"] == {"input_shape": [None, 36]}
    assert dense["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    compiled = config["compile_config"]
    assert compiled["optimizer"]["class_name"] == "Adam"
    assert compiled["loss"] == "sparse_categorical_crossentropy"
    assert compiled["metrics"] == ["accuracy"]
    tree = h5_tree(files["model.weights.h5"])
    assert tree["layers/dense/vars/0"][0] == (36, 16)
    assert tree["layers/dense_1/vars/1"][0] == (5,)
    assert tree["layers/dense/vars"] == {"name": model.layers[1].name}  # (names count up)
    assert tree["layers/flatten/vars"] == {"name": model.layers[0].name}
    assert tree["vars"] == {"name": "mlp"}
    # Adam: iterations, learning rate, then m and v of each trainable weight in turn
    assert tree["optimizer/vars/0"][0] == () and tree["optimizer/vars/1"][0] == ()
    shapes = [tree[f"optimizer/vars/{i}"][0] for i in range(2, 10)]
    assert shapes == [(36, 16), (36, 16), (16,), (16,), (16, 5), (16, 5), (5,), (5,)]
    with h5py.File(__import__("io").BytesIO(files["model.weights.h5"]), "r") as handle:
        assert int(handle["optimizer/vars/0"][()]) == model.optimizer.iterations
        np.testing.assert_array_equal(handle["layers/dense_1/vars/0"][()],
                                      model.layers[-1].kernel.data)


def test_functional_layers_in_keras_order(tmp_path):
    model, _, _ = trained(two_heads)
    model.save(tmp_path / "f.keras")
    files = members(tmp_path / "f.keras")
    config = json.loads(files["config.json"])
    entries = config["config"]["layers"]
    assert [e["name"] for e in entries] == ["features", "branch_a", "norm", "dropout", "branch_b",
                                            "sum", "extra", "join", "probs"]
    assert config["config"]["input_layers"] == [["features", 0, 0], ["extra", 0, 0]]
    assert config["config"]["output_layers"] == ["probs", 0, 0]
    node = entries[5]["inbound_nodes"][0]  # Add: one list of two Keras tensors
    assert [t["config"]["keras_history"] for t in node["args"][0]] == [["dropout", 0, 0],
                                                                        ["branch_b", 0, 0]]
    assert node["args"][0][0]["class_name"] == "__keras_tensor__"
    tree = h5_tree(files["model.weights.h5"])
    # numbered per class in Keras's order: branch_a, branch_b, probs are dense, dense_1, dense_2
    assert tree["layers/dense_1/vars"] == {"name": "branch_b"}
    assert tree["layers/dense_2/vars/0"][0] == (9, 3)
    assert [tree[f"layers/batch_normalization/vars/{i}"][0] for i in range(4)] == [(6,)] * 4
    assert tree["layers/input_layer_1/vars"] == {"name": "extra"}
    # optimizer slots follow Keras's trainable order: branch_a, norm (gamma, beta), branch_b
    shapes = [tree[f"optimizer/vars/{i}"][0] for i in range(2, 18)]
    assert shapes == ([(8, 6)] * 2 + [(6,)] * 6 + [(8, 6)] * 2 + [(6,)] * 2 + [(9, 3)] * 2
                      + [(3,)] * 2)  # as in the file Keras 3 wrote for this model


def test_to_snake_case_is_keras():
    assert keras_writer.to_snake_case("MaxPooling2D") == "max_pooling2d"
    assert keras_writer.to_snake_case("BatchNormalization") == "batch_normalization"
    assert keras_writer.to_snake_case("InputLayer") == "input_layer"
    assert keras_writer.to_snake_case("GlobalAveragePooling1D") == "global_average_pooling1d"


# --- minidl's round trip --------------------------------------------------------------
@pytest.mark.parametrize("build", [mlp, cnn, two_heads])
@pytest.mark.parametrize("optimizer", ["adam", optimizers.RMSprop(momentum=0.5),
                                       optimizers.SGD(0.05, momentum=0.9), "nadam"])
def test_round_trip_resumes_training_exactly(tmp_path, build, optimizer):
    model, x, y = trained(build, optimizer)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.mdl")
    again, reference = load_model(tmp_path / "m.keras"), load_model(tmp_path / "m.mdl")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert again.optimizer.get_config() == model.optimizer.get_config()
    assert again.optimizer.iterations == model.optimizer.iterations
    for loaded in (again, reference):
        set_random_seed(5)
        loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(again.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_optimizer_keras_lacks_a_layout_for_stays_minidls(tmp_path):
    model, _, _ = trained(mlp, "nadam")
    model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    assert "compile_config" not in json.loads(files["config.json"])  # Keras: uncompiled
    tree = h5_tree(files["model.weights.h5"])
    assert "optimizer" not in tree and tree["minidl_optimizer/0000_0"][0] == (36, 16)


def test_without_the_optimizer_keras_gets_an_uncompiled_model(tmp_path):
    model, x, _ = trained(mlp)
    model.save(tmp_path / "m.keras", include_optimizer=False)
    files = members(tmp_path / "m.keras")
    assert "compile_config" not in json.loads(files["config.json"])
    assert not any(k.startswith("optimizer") for k in h5_tree(files["model.weights.h5"]))
    assert json.loads(files["minidl.json"])["optimizer"] is None
    np.testing.assert_array_equal(load_model(tmp_path / "m.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_custom_loss_round_trips_and_keras_gets_no_compile_config(tmp_path):
    def my_loss(y_true, y_pred):
        return minidl.losses.sparse_categorical_crossentropy(y_true, y_pred)

    model, x, y = trained(mlp)
    model.compile("adam", my_loss)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    assert "compile_config" not in json.loads(members(tmp_path / "m.keras")["config.json"])
    again = load_model(tmp_path / "m.keras", custom_objects={"my_loss": my_loss})
    assert again.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_load_weights_reads_the_keras_layout(tmp_path):
    model, x, _ = trained(cnn)
    model.save(tmp_path / "m.keras")
    fresh = cnn()
    fresh.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_damaged_dataset_is_refused(tmp_path):
    model, _, _ = trained(mlp)
    model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    manifest = json.loads(files["minidl.json"])
    manifest["weights"][0]["file"] = "layers/dense/vars/1"  # a (16,) dataset for a (36, 16)
    files["minidl.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(minidl.utils.file_checks.FileFormatError, match="shape"):
        load_model(tmp_path / "bad.keras")


def test_manifest_naming_another_weights_file_is_refused(tmp_path):
    model, _, _ = trained(mlp)
    model.save(tmp_path / "m.keras")
    files = members(tmp_path / "m.keras")
    manifest = json.loads(files["minidl.json"])
    manifest["weights_file"] = "../elsewhere.h5"
    files["minidl.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(minidl.utils.file_checks.FileFormatError, match="weights_file"):
        load_model(tmp_path / "bad.keras")


# --- the fallbacks ---------------------------------------------------------------------
def test_without_h5py_writes_minidls_layout_and_says_how_to_install(tmp_path, monkeypatch):
    model, x, _ = trained(mlp)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.warns(UserWarning, match=r"pip install minidl\[keras\]"):
        model.save(tmp_path / "m.keras")
    assert "config.json" not in members(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")  # minidl's own layout needs no h5py
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_reading_the_keras_layout_without_h5py_says_how_to_install(tmp_path, monkeypatch):
    model, _, _ = trained(mlp)
    model.save(tmp_path / "m.keras")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install minidl\[keras\]"):
        load_model(tmp_path / "m.keras")


def cube(x):
    return x * x * x


class Scale(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@pytest.mark.parametrize("case", ["own layer", "activation", "subclassed", "nested",
                                  "masked merge"])
def test_models_keras_cannot_rebuild_stay_minidls_with_a_warning(tmp_path, case):
    if case == "masked merge":  # Keras 3 ORs the masks (minidl, as Keras 2: AND)
        tokens = L.Input(shape=(4,))
        steps = L.Embedding(10, 3, mask_zero=True)(tokens)
        joined = L.Add(name="join")([L.Dense(3)(steps), L.Dense(3)(steps)])
        model = minidl.Model(tokens, L.LSTM(2)(joined))
        reason = r'layer "join" \(Add\) merges timestep masks'
    elif case == "own layer":
        model = minidl.Sequential([L.Dense(3, input_shape=(4,)), Scale(3.0)])
        reason = r'layer "scale.*Scale'
    elif case == "activation":
        model = minidl.Sequential([L.Dense(3, input_shape=(4,)), L.Dense(2, activation=cube)])
        reason = r"activation='cube'.*not one of Keras 3's activations"
    elif case == "nested":
        inner = minidl.Sequential([L.Dense(3, input_shape=(4,))], name="inner")
        model = minidl.Sequential([inner, L.Dense(2)])
        reason = 'layer "inner" is a model inside the model'
    else:
        class Net(models.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = L.Dense(2)

            def call(self, inputs):
                return self.dense(inputs)

            def get_config(self):
                return {"name": self.name}

        model = Net()
        model.build((None, 4))
        reason = "subclassed"
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match=reason):
        model.save(tmp_path / "m.keras")
    assert "config.json" not in members(tmp_path / "m.keras")
    x = np.ones((2, 4), np.float32)
    custom = {"Scale": Scale, "Net": type(model), "cube": cube}
    again = load_model(tmp_path / "m.keras", custom_objects=custom)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


# --- real Keras 3 --------------------------------------------------------------------
KERAS_CHECK = r"""
import json, os, sys, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, keras
report = {}
for name in sys.argv[2:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.models.load_model(os.path.join(sys.argv[1], name + ".keras"))
    with np.load(os.path.join(sys.argv[1], name + ".npz")) as data:
        xs = [data[k] for k in sorted(data) if k.startswith("x")]
        expected = [data[k] for k in sorted(data) if k.startswith("y")]
    got = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    got = got if isinstance(got, list) else [got]
    optimizer = getattr(model, "optimizer", None)
    report[name] = {"max_diff": max(float(np.abs(g - e).max()) for g, e in zip(got, expected,
                                                                               strict=True)),
                    "iterations": int(optimizer.iterations.numpy()) if optimizer else None,
                    "warnings": [str(w.message) for w in caught]}
print(json.dumps(report))
"""


KERAS_RESUME = r"""
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, keras
folder = sys.argv[1]
for name in sys.argv[2:]:
    model = keras.models.load_model(os.path.join(folder, name + ".keras"))
    with np.load(os.path.join(folder, name + "_train.npz")) as data:
        model.fit(data["x"], data["y"], epochs=1, batch_size=len(data["y"]), shuffle=False,
                  verbose=0)
    model.save(os.path.join(folder, name + "_resumed.keras"))
"""


def recurrent():
    return minidl.Sequential([
        L.Input(shape=(9,)), L.Embedding(20, 4), L.Conv1D(5, 3, activation="relu"),
        L.LSTM(3, return_sequences=True), L.GRU(3, return_sequences=True, go_backwards=True),
        L.Bidirectional(L.SimpleRNN(2)), L.Dense(4, activation="softmax")], name="recurrent")


def bidirectional():
    return minidl.Sequential([
        L.Input(shape=(9,)), L.Embedding(20, 4, mask_zero=True),
        L.Bidirectional(L.LSTM(3, return_sequences=True)),
        L.Bidirectional(L.GRU(2), merge_mode="sum"), L.Dense(3, activation="softmax")],
        name="bidirectional")


def token_inputs(model, n=12, seed=0):
    return np.random.default_rng(seed).integers(0, 20, (n, 9)).astype(np.float32)


def test_recurrent_layers_use_keras_paths(tmp_path):
    model = recurrent()
    model.save(tmp_path / "r.keras")
    files = members(tmp_path / "r.keras")
    tree = h5_tree(files["model.weights.h5"])
    assert tree["layers/lstm/cell/vars/0"][0] == (5, 12)
    assert tree["layers/lstm/cell/vars"] == {"name": "lstm_cell"}
    assert tree["layers/gru/cell/vars/2"][0] == (2, 9)
    assert tree["layers/bidirectional/forward_layer/cell/vars/1"][0] == (2, 2)
    assert tree["layers/bidirectional/backward_layer/cell/vars/0"][0] == (3, 2)
    assert tree["layers/embedding/vars/0"][0] == (20, 4)
    assert tree["layers/conv1d/vars/0"][0] == (3, 4, 5)
    layers = json.loads(files["config.json"])["config"]["layers"]
    wrapped = layers[5]["config"]["layer"]
    assert (wrapped["class_name"], wrapped["module"]) == ("SimpleRNN", "keras.layers")
    assert "time_major" not in wrapped["config"] and "implementation" not in layers[3]["config"]
    again = load_model(tmp_path / "r.keras")
    x = token_inputs(model)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def _keras_python():
    python = os.environ.get("MINIDL_KERAS_PYTHON")
    if not python:
        pytest.skip("set MINIDL_KERAS_PYTHON to a Python with Keras 3 to run this test")
    return python


def many_layers():
    """Most layer classes the writer translates, frozen layers and non-default
    initializers and regularizers among them."""
    return minidl.Sequential([
        L.Input(shape=(8, 8, 3)), L.Rescaling(1 / 2, offset=0.1), L.ZeroPadding2D(1),
        L.Conv2D(4, 3, strides=2, kernel_regularizer=regularizers.L2(0.01),
                 kernel_initializer="he_normal", bias_initializer=initializers.Constant(0.1)),
        L.BatchNormalization(trainable=False), L.LeakyReLU(0.2), L.UpSampling2D(2),
        L.AveragePooling2D(2), L.SpatialDropout2D(0.1), L.GaussianNoise(0.1),
        L.Conv2D(3, 1, activation="swish",
                 kernel_initializer=initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")),
        L.ReLU(max_value=6.0), L.GlobalMaxPooling2D(), L.Reshape((3, 1)),
        L.GlobalAveragePooling1D(),
        L.Dense(4, kernel_initializer=initializers.RandomNormal(0.0, 0.1), trainable=False),
        L.Activation("gelu"), L.Dense(3), L.Softmax()], name="many_layers")


def sequence_resampling():
    """The 1-D padding, upsampling, cropping and spatial dropout layers."""
    return minidl.Sequential([
        L.Input(shape=(6, 2)), L.ZeroPadding1D((2, 1)), L.Conv1D(3, 2), L.UpSampling1D(3),
        L.Cropping1D((1, 2)), L.SpatialDropout1D(0.2), L.GlobalAveragePooling1D(),
        L.Dense(3, activation="softmax")], name="sequence_resampling")


def shared_and_merged():
    """A functional model with a shared layer, every merge layer, two outputs."""
    a, b = L.Input(shape=(5,), name="a"), L.Input(shape=(5,), name="b")
    shared = L.Dense(5, activation="elu", name="shared")
    ha, hb = shared(a), shared(b)
    difference, product = L.Subtract()([ha, hb]), L.Multiply()([ha, hb])
    mean = L.Average()([ha, hb])
    low = L.Minimum()([mean, L.Maximum()([difference, product])])
    sequence = L.Conv1D(2, 2, padding="same")(L.Reshape((5, 1))(low))
    pooled = L.Concatenate(axis=1)([L.MaxPooling1D(2)(sequence), L.AveragePooling1D(2)(sequence)])
    classes = L.Dense(2, activation="softmax", name="cls")(L.GlobalMaxPooling1D()(pooled))
    value = L.Dense(1, name="reg")(L.Dropout(0.5)(low, training=False))
    return models.Model([a, b], [classes, value], name="shared_and_merged")


def trained_two_outputs():
    set_random_seed(0)
    model = shared_and_merged()
    model.compile("rmsprop", {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    x = inputs_for(model, 24)
    rng = np.random.default_rng(2)
    model.fit(x, {"cls": rng.integers(0, 2, 24), "reg": rng.normal(size=(24, 1))}, epochs=2,
              batch_size=8, verbose=0)
    return model, x


@pytest.mark.slow
def test_keras3_loads_minidl_files_and_predicts_the_same(tmp_path):
    python = _keras_python()
    made = {name: trained(build, inputs=token_inputs if build in (recurrent, bidirectional)
                          else inputs_for)[:2]
            for name, build in [("mlp", mlp), ("cnn", cnn), ("two_heads", two_heads),
                                ("recurrent", recurrent), ("bidirectional", bidirectional),
                                ("many_layers", many_layers),
                                ("sequence_resampling", sequence_resampling)]}
    made["shared_and_merged"] = trained_two_outputs()
    builds, iterations = list(made), {}
    for name, (model, x) in made.items():
        model.save(tmp_path / f"{name}.keras")
        xs = x if isinstance(x, list) else [x]
        ys = model.predict(x, verbose=0)
        ys = ys if isinstance(ys, list) else [ys]
        np.savez(tmp_path / f"{name}.npz", **{f"x{i}": v for i, v in enumerate(xs)},
                 **{f"y{i}": v for i, v in enumerate(ys)})
        iterations[name] = model.optimizer.iterations
    done = subprocess.run([python, "-c", KERAS_CHECK, str(tmp_path), *builds],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    for name in builds:
        assert report[name]["max_diff"] < 1e-5, (name, report[name])
        assert report[name]["iterations"] == iterations[name]  # the optimizer state loaded
        assert report[name]["warnings"] == [], (name, report[name]["warnings"])


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd", "adagrad", "adamax"])
def test_keras3_resumes_training_where_minidl_stopped(tmp_path, optimizer):
    """Keras 3 takes one step from the loaded optimizer state (slots and iterations), and
    lands where minidl's own next step does: the slots went to the right variables."""
    python = _keras_python()
    if optimizer == "sgd":
        optimizer = optimizers.SGD(0.05, momentum=0.9)
    elif optimizer == "rmsprop":
        optimizer = optimizers.RMSprop(momentum=0.5)
    model, x, y = trained(cnn, optimizer)  # cnn: no dropout, whose masks differ
    model.save(tmp_path / "cnn.keras")
    np.savez(tmp_path / "cnn_train.npz", x=x, y=y)
    done = subprocess.run([python, "-c", KERAS_RESUME, str(tmp_path), "cnn"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    model.fit(x, y, epochs=1, batch_size=len(y), shuffle=False, verbose=0)
    resumed = load_model(tmp_path / "cnn_resumed.keras")  # written by Keras 3
    worst = max(float(np.abs(a - b).max())
                for a, b in zip(model.get_weights(), resumed.get_weights()))
    print(optimizer, worst)
    assert worst < 1e-5
