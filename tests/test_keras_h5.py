"""model.save("x.h5") and save_weights("x.h5") writing Keras 2's HDF5 layout
(minidl.models.keras_h5), and reading it back (keras_files.load_keras_h5).

The fast tests compare the files minidl writes with files tf_keras 2.21 wrote for the
same models (tests/fixtures/keras_h5, made by its make_fixtures.py from builders.py):
the same groups, datasets, shapes, dtypes, weight names and optimizer variables in
the same order, the same training_config.  They also check minidl's own round trip
(predictions, compile state, optimizer state: training continues identically), the
refusals, and that a file is written whole or not at all.  The slow tests load the files
in real tf_keras (and Keras 3): they run the interpreter named by MINIDL_KERAS_PYTHON
(e.g. /work/tfvenv/bin/python), or skip.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minidl
from minidl import layers as L
from minidl import models, optimizers
from minidl.models import keras_h5, load_model
from minidl.utils import set_random_seed
from minidl.utils.file_checks import FileFormatError

h5py = pytest.importorskip("h5py")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_h5")
sys.path.insert(0, FIXTURES)
import builders  # noqa: E402  (the fixtures' models, for tf_keras and minidl alike)

sys.path.pop(0)
CASES = builders.cases(minidl)


def fixture(name, tmp_path):
    """The tf_keras file ``name`` (stored gzipped), unpacked into ``tmp_path``."""
    target = tmp_path / f"keras2_{name}"
    with open(os.path.join(FIXTURES, f"{name}.gz"), "rb") as handle:
        target.write_bytes(gzip.decompress(handle.read()))
    return target


def trained(name, steps=1, optimizer=None):
    """The model of case ``name``, compiled and trained as make_fixtures.py trains it."""
    build, arguments, default = CASES[name]
    set_random_seed(0)
    model = build(minidl)
    model.compile(optimizer=optimizer or default, **arguments)
    x, y = builders.data(model)
    model.fit(x, y, batch_size=4, epochs=steps, shuffle=False, verbose=0)
    return model, x, y


def tree(path):
    """Every group and dataset of an HDF5 file: path -> (shape, dtype) or attributes
    (name lists as lists of str; the writer's identity, backend, left out)."""
    found = {}

    def attributes(obj):
        return {key: [v.decode() if isinstance(v, bytes) else v for v in value.tolist()]
                if isinstance(value, np.ndarray) else value
                for key, value in obj.attrs.items()
                if key not in ("backend", "keras_version", "model_config", "training_config")}

    with h5py.File(path, "r") as handle:
        found["/"] = attributes(handle)
        handle.visititems(lambda name, obj: found.__setitem__(name, (
            tuple(obj.shape), str(obj.dtype)) if isinstance(obj, h5py.Dataset)
            else attributes(obj)))
    return found


def json_attribute(path, name):
    with h5py.File(path, "r") as handle:
        return json.loads(handle.attrs[name]) if name in handle.attrs else None


def rounded(value):
    """``value`` with floats to 6 digits (tf_keras stores 0.001 as float32)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


# --- the layout is tf_keras's ---------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_whole_model_file_has_tf_keras_layout(tmp_path, name):
    model, _, _ = trained(name)
    model.save(tmp_path / "m.h5")
    keras2 = fixture(f"{name}.h5", tmp_path)
    assert tree(tmp_path / "m.h5") == tree(keras2)
    with h5py.File(tmp_path / "m.h5", "r") as handle:
        assert handle.attrs["keras_version"] == "2.21.0"
        assert handle.attrs["backend"] == "minidl"
    ours = json_attribute(tmp_path / "m.h5", "training_config")
    theirs = json_attribute(keras2, "training_config")
    ours_optimizer, theirs_optimizer = ours.pop("optimizer_config"), theirs.pop("optimizer_config")
    assert ours == theirs  # loss, metrics as fit made them, one list per output
    assert ours_optimizer["class_name"] == theirs_optimizer["class_name"]
    assert rounded(ours_optimizer["config"]) == rounded(theirs_optimizer["config"])


@pytest.mark.parametrize("name", list(CASES))
def test_model_config_uses_only_arguments_keras2_has(tmp_path, name):
    """Every layer's config holds only arguments tf_keras's layer has (it would refuse
    another), and the same layers in the same order with the same calls."""
    model, _, _ = trained(name)
    model.save(tmp_path / "m.h5")
    ours = json_attribute(tmp_path / "m.h5", "model_config")
    theirs = json_attribute(fixture(f"{name}.h5", tmp_path), "model_config")

    def layers(config):
        found = {}
        for entry in config["config"]["layers"]:
            found[entry["config"]["name"]] = entry
            if entry["class_name"] in ("Sequential", "Functional"):
                found.update(layers(entry))
        return found

    ours_layers, theirs_layers = layers(ours), layers(theirs)
    assert set(ours_layers) <= set(theirs_layers)  # (tf_keras lists a Sequential's input too)
    for layer_name, entry in ours_layers.items():
        keras2 = theirs_layers[layer_name]
        assert entry["class_name"] == keras2["class_name"]
        assert set(entry["config"]) - {"build_input_shape"} <= set(keras2["config"]), layer_name
        assert entry.get("inbound_nodes") == keras2.get("inbound_nodes"), layer_name
    if ours["class_name"] == "Functional":
        for key in ("input_layers", "output_layers"):
            assert ours["config"][key] == theirs["config"][key]


@pytest.mark.parametrize("name", list(CASES))
def test_weights_file_has_tf_keras_layout(tmp_path, name):
    model, _, _ = trained(name)
    model.save_weights(tmp_path / "w.h5")
    assert tree(tmp_path / "w.h5") == tree(fixture(f"{name}_weights.h5", tmp_path))


def test_long_name_lists_are_split_as_tf_keras_splits_them(tmp_path):
    names = [f"layer_{i:05d}_{'x' * 40}".encode() for i in range(2000)]  # > 64512 bytes
    with h5py.File(tmp_path / "a.h5", "w") as handle:
        keras_h5._write_list(handle, "layer_names", names)
        assert "layer_names" not in handle.attrs and "layer_names1" in handle.attrs
        assert keras_h5.attribute_list(handle, "layer_names") == [n.decode() for n in names]


# --- tf_keras's files read back whole --------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_tf_keras_files_load_compiled_with_their_optimizer_state(tmp_path, name):
    path = fixture(f"{name}.h5", tmp_path)
    model = load_model(path)
    expected = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    predictions = model.predict(expected["x"], verbose=0)
    for i, y in enumerate(predictions if isinstance(predictions, list) else [predictions]):
        np.testing.assert_allclose(y, expected[f"y{i}"], rtol=1e-5, atol=1e-6)
    assert model.optimizer.iterations == 2
    names, arrays = keras_h5.optimizer_variables(model, model.optimizer)
    with h5py.File(path, "r") as handle:
        group = handle["optimizer_weights"]
        assert names == keras_h5.attribute_list(group, "weight_names")
        for variable, array in zip(names, arrays):
            np.testing.assert_array_equal(array, group[variable][()])
    # the same compile: the History keys tf_keras's fit gives after loading
    build, arguments, _ = CASES[name]
    x, y = builders.data(model)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    keys = {"mlp": ["loss", "accuracy"], "recurrent": ["loss", "accuracy", "weighted_accuracy"],
            "nested": ["loss", "acc"], "legacy_rmsprop": ["loss"],
            "two_heads": ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]}[name]
    assert list(history.history) == keys


def test_tf_keras_weights_load_into_a_model_built_again(tmp_path):
    model = models.clone_model(CASES["nested"][0](minidl))  # other layer names: by position
    model.load_weights(fixture("nested_weights.h5", tmp_path))
    expected = np.load(os.path.join(FIXTURES, "nested.npz"))
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y0"],
                               rtol=1e-5, atol=1e-6)


# --- minidl's round trip ----------------------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop_momentum": lambda: optimizers.RMSprop(momentum=0.5),
    "adam_amsgrad": lambda: optimizers.Adam(amsgrad=True),
    "adamw": lambda: optimizers.AdamW(),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax": lambda: optimizers.Adamax(),
    "nadam": lambda: optimizers.Nadam(),
    "ftrl": lambda: optimizers.Ftrl(0.1),
    "legacy_adam": lambda: optimizers.Adam(decay=0.01),
    "legacy_sgd": lambda: optimizers.SGD(0.05, momentum=0.9, decay=0.01),
    "schedule": lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 2, 0.9)),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_round_trip_resumes_training_exactly(tmp_path, optimizer):
    model, x, y = trained("two_heads", optimizer=OPTIMIZERS[optimizer]())
    model.save(tmp_path / "m.h5")
    again = load_model(tmp_path / "m.h5")
    assert type(again.optimizer) is type(model.optimizer)
    assert again.optimizer.get_config() == model.optimizer.get_config()
    before, after = (m.optimizer.get_state(m.trainable_weights) for m in (model, again))
    assert before["iterations"] == after["iterations"] == 2
    for a, b in zip(before["slots"], after["slots"]):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    histories = [m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
                 for m in (model, again)]
    assert histories[0] == histories[1]
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_of_each_case(tmp_path, name):
    model, x, _ = trained(name)
    model.save(tmp_path / "m.h5")
    again = load_model(tmp_path / "m.h5")
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    ys, zs = model.predict(x, verbose=0), again.predict(x, verbose=0)
    for a, b in zip(ys if isinstance(ys, list) else [ys], zs if isinstance(zs, list) else [zs]):
        np.testing.assert_array_equal(a, b)
    x, y = builders.data(model, seed=1)
    assert again.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(
        x, y, verbose=0, return_dict=True)  # compiled alike: the same metrics, named alike


def test_save_weights_and_load_weights(tmp_path):
    model, x, _ = trained("recurrent")
    model.save_weights(tmp_path / "w.h5")
    fresh = CASES["recurrent"][0](minidl)
    fresh.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    # a whole-model file's weights load too, as in Keras 2
    model.save(tmp_path / "m.h5")
    other = CASES["recurrent"][0](minidl)
    other.load_weights(tmp_path / "m.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_weights_of_another_architecture_are_refused_and_nothing_changes(tmp_path):
    model, _, _ = trained("mlp")
    model.save_weights(tmp_path / "w.h5")
    other = minidl.Sequential([L.Input(shape=(6,)), L.Dense(5), L.Dense(2)])
    before = other.get_weights()
    with pytest.raises(FileFormatError, match=r"holds weights for 3 layers"):
        other.load_weights(tmp_path / "w.h5")
    wider = minidl.Sequential([L.Input(shape=(6,)), L.Dense(7), L.BatchNormalization(), L.Dense(3)])
    with pytest.raises(FileFormatError, match=r"expected numbers of shape \(6, 7\)"):
        wider.load_weights(tmp_path / "w.h5")
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_format_h5_for_any_name_and_function_forms(tmp_path):
    model, x, _ = trained("mlp")
    model.save(tmp_path / "model", save_format="h5")
    models.save_model(model, tmp_path / "again.hdf5")
    minidl.saving.save_model(model, tmp_path / "third", save_format="hdf5")
    for name in ("model", "again.hdf5", "third"):
        with open(tmp_path / name, "rb") as handle:
            assert handle.read(8) == b"\x89HDF\r\n\x1a\n"
        np.testing.assert_array_equal(load_model(tmp_path / name).predict(x, verbose=0),
                                      model.predict(x, verbose=0))
    model.save_weights(tmp_path / "weights", save_format="h5")
    assert tree(tmp_path / "weights")["/"]["layer_names"] == ["hidden", "norm", "drop", "probs"]


def test_save_format_tf_and_unknown_formats_are_refused(tmp_path):
    model, _, _ = trained("mlp")
    with pytest.raises(NotImplementedError, match="SavedModel"):
        model.save(tmp_path / "saved", save_format="tf")
    with pytest.raises(ValueError, match="Expected one of 'keras', 'tf', or 'h5'"):
        model.save(tmp_path / "saved", save_format="pickle")
    assert list(tmp_path.iterdir()) == []


def test_model_checkpoint_writes_h5(tmp_path):
    model, x, y = trained("mlp")
    whole = minidl.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.h5"))
    weights = minidl.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[whole, weights])
    again = load_model(tmp_path / "m-2.h5")
    assert again.optimizer.iterations == model.optimizer.iterations
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = CASES["mlp"][0](minidl)
    fresh.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_uncompiled_or_without_optimizer_loads_uncompiled(tmp_path):
    model, x, _ = trained("mlp")
    model.save(tmp_path / "m.h5", include_optimizer=False)
    assert json_attribute(tmp_path / "m.h5", "training_config") is None
    assert "optimizer_weights" not in tree(tmp_path / "m.h5")
    assert load_model(tmp_path / "m.h5").optimizer is None
    plain = CASES["mlp"][0](minidl)
    plain.save(tmp_path / "plain.h5")
    assert load_model(tmp_path / "plain.h5").optimizer is None
    assert load_model(fixture("mlp.h5", tmp_path), compile=False).optimizer is None


def test_own_layer_round_trips_with_custom_objects(tmp_path):
    class Scale(L.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = minidl.Sequential([L.Input(shape=(3,)), L.Dense(2, name="d"), Scale(3.0, name="s")])
    model.save(tmp_path / "m.h5")
    layers = json_attribute(tmp_path / "m.h5", "model_config")["config"]["layers"]
    assert layers[-1] == {"class_name": "Scale", "config": {
        "name": "s", "trainable": True, "dtype": "float32", "factor": 3.0}}
    with pytest.raises(NotImplementedError, match="Scale"):
        load_model(tmp_path / "m.h5")
    again = load_model(tmp_path / "m.h5", custom_objects={"Scale": Scale})
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# --- what is refused ----------------------------------------------------------------------
def test_subclassed_model_is_refused_as_tf_keras_refuses_it(tmp_path):
    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2, name="dense")

        def call(self, inputs):
            return self.dense(inputs)

        def get_config(self):
            return {}

    model = Net()
    model(np.ones((1, 3), np.float32))
    with pytest.raises(NotImplementedError, match="requires the model to be a Functional model "
                                                  "or a Sequential model"):
        model.save(tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []
    model.save_weights(tmp_path / "w.h5")  # weights only: as in tf_keras
    assert tree(tmp_path / "w.h5")["/"]["layer_names"] == ["dense"]


def test_without_h5py_writes_minidls_format_and_says_how_to_install(tmp_path, monkeypatch):
    model, x, _ = trained("mlp")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.warns(UserWarning, match=r"pip install minidl\[keras\]"):
        model.save(tmp_path / "m.h5")
    with pytest.warns(UserWarning, match=r"pip install minidl\[keras\]"):
        model.save_weights(tmp_path / "w.h5")
    again = load_model(tmp_path / "m.h5")  # minidl's own format needs no h5py
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(FileFormatError, match=r"pip install minidl\[keras\]"):
        load_model(fixture("mlp.h5", tmp_path))


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    model, _, _ = trained("mlp")
    model.save(tmp_path / "m.h5")
    old = (tmp_path / "m.h5").read_bytes()
    model.fit(*builders.data(model), verbose=0)

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(keras_h5, "_write_optimizer", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.h5")
    assert (tmp_path / "m.h5").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


def _rewrite(path, change):
    with h5py.File(path, "r+") as handle:
        change(handle)


def test_weights_stored_outside_the_file_are_refused(tmp_path):
    model, _, _ = trained("mlp")
    model.save(tmp_path / "m.h5")
    np.save(tmp_path / "elsewhere.npy", np.zeros(5, np.float32))

    def external(handle):
        del handle["model_weights/hidden/hidden/bias:0"]
        handle["model_weights/hidden/hidden/bias:0"] = h5py.ExternalLink("other.h5", "/bias")

    _rewrite(tmp_path / "m.h5", external)
    with pytest.raises(FileFormatError, match="not a plain dataset"):
        load_model(tmp_path / "m.h5")


def test_damaged_optimizer_state_is_refused(tmp_path):
    model, _, _ = trained("mlp")
    model.save(tmp_path / "m.h5")

    def negative(handle):
        handle["optimizer_weights/Adam/v/hidden/bias:0"][0] = -1.0

    _rewrite(tmp_path / "m.h5", negative)
    with pytest.raises(FileFormatError, match="non-negative"):
        load_model(tmp_path / "m.h5")


def test_optimizer_state_of_another_layout_warns_and_starts_fresh(tmp_path):
    model, _, _ = trained("mlp")
    model.save(tmp_path / "m.h5")

    def other_optimizer(handle):
        config = json.loads(handle.attrs["training_config"])
        config["optimizer_config"]["class_name"] = "Custom>Adagrad"
        config["optimizer_config"]["config"] = {"learning_rate": 0.1}
        handle.attrs["training_config"] = json.dumps(config)

    _rewrite(tmp_path / "m.h5", other_optimizer)
    with pytest.warns(UserWarning, match="fresh optimizer"):
        again = load_model(tmp_path / "m.h5")
    assert type(again.optimizer) is optimizers.Adagrad and again.optimizer.iterations == 0


# --- tf_keras and Keras 3 load minidl's files (slow) --------------------------------------
KERAS_CHECK = r"""
import json, sys, warnings
import numpy as np
import tf_keras
folder, names = sys.argv[1], sys.argv[2:]
report = {}
for name in names:
    model = tf_keras.models.load_model(f"{folder}/{name}.h5")
    data = np.load(f"{folder}/{name}.npz")
    ys = model.predict(data["x"], verbose=0)
    ys = ys if isinstance(ys, list) else [ys]
    entry = {"max_diff": max(float(np.abs(y - data[f"y{i}"]).max()) for i, y in enumerate(ys)),
             "optimizer": type(model.optimizer).__name__,
             "iterations": int(model.optimizer.iterations)}
    # one more step from the loaded state, saved for minidl to compare with its own
    targets = {k[2:]: data[k] for k in data.files if k.startswith("t_")}
    model.fit(data["x"], targets if len(targets) > 1 else targets[""], batch_size=len(data["x"]),
              epochs=1, shuffle=False, verbose=0)
    model.save(f"{folder}/{name}_resumed.h5")
    try:
        import keras  # Keras 3 reads Keras 2's .h5 files of simple models
        if name in ("mlp_no_dropout",):
            keras3 = keras.models.load_model(f"{folder}/{name}.h5")
            entry["keras3_diff"] = float(np.abs(keras3.predict(data["x"], verbose=0) - data["y0"]).max())
    except ImportError:
        pass
    report[name] = entry
print(json.dumps(report))
"""


def mlp_no_dropout(keras):
    L2 = keras.layers
    return keras.Sequential([keras.Input(shape=(6,)), L2.Dense(5, activation="relu", name="hidden"),
                             L2.BatchNormalization(name="norm"),
                             L2.Dense(3, activation="softmax", name="probs")], name="mlp")


@pytest.mark.slow
def test_tf_keras_loads_minidl_files_and_resumes_training_where_minidl_stopped(tmp_path):
    """tf_keras rebuilds each model from minidl's .h5 (predictions), compiles it with the
    optimizer's state (iterations) and takes one step from there: minidl's own next step
    lands on the same weights, so every slot went to the right variable."""
    python = os.environ.get("MINIDL_KERAS_PYTHON")
    if not python:
        pytest.skip("set MINIDL_KERAS_PYTHON to a Python with tf_keras to run this test")
    cases = {"mlp_no_dropout": (mlp_no_dropout, CASES["mlp"][1], optimizers.Adam(amsgrad=True)),
             "recurrent": CASES["recurrent"], "nested": CASES["nested"],
             "two_heads": CASES["two_heads"],
             "legacy": (mlp_no_dropout, {"loss": "sparse_categorical_crossentropy"},
                        optimizers.RMSprop(0.01, momentum=0.5, decay=0.01)),
             "adadelta": (builders.two_heads, CASES["two_heads"][1], optimizers.Adadelta(1.0)),
             "ftrl": (builders.two_heads, CASES["two_heads"][1], optimizers.Ftrl(0.1)),
             "adamax": (builders.two_heads, CASES["two_heads"][1], optimizers.Adamax()),
             "sgd": (builders.two_heads, CASES["two_heads"][1], optimizers.SGD(0.05)),
             "legacy_adam": (builders.two_heads, CASES["two_heads"][1],
                             optimizers.Adam(decay=0.01))}
    # (Nadam is left out: tf_keras keeps the product of its momentum factors in a variable
    # its .h5 file does not hold, and starts it again at 1 after loading)
    made = {}
    for name, (build, arguments, optimizer) in cases.items():
        set_random_seed(0)
        model = build(minidl)
        model.compile(optimizer=optimizer, **arguments)
        x, y = builders.data(model)
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        model.save(tmp_path / f"{name}.h5")
        ys = model.predict(x, verbose=0)
        targets = {f"t_{k}": v for k, v in y.items()} if isinstance(y, dict) else {"t_": y}
        np.savez(tmp_path / f"{name}.npz", x=x, **targets,
                 **{f"y{i}": v for i, v in enumerate(ys if isinstance(ys, list) else [ys])})
        made[name] = (model, x, y)
    done = subprocess.run([python, "-c", KERAS_CHECK, str(tmp_path), *made],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    for name, (model, x, y) in made.items():
        assert report[name]["max_diff"] < 1e-5, (name, report[name])
        assert report[name]["iterations"] == model.optimizer.iterations
        model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        resumed = load_model(tmp_path / f"{name}_resumed.h5")  # written by tf_keras
        worst = max(float(np.abs(a.data - b.data).max())
                    for a, b in zip(model.trainable_weights, resumed.trainable_weights))
        assert worst < 1e-5, (name, worst)
        # (the moving variance of a batch norm over images differs by ~1e-5 of itself:
        # tf_keras's fused batch norm updates it with the unbiased variance)
        for a, b in zip(model.non_trainable_weights, resumed.non_trainable_weights):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-4, atol=1e-6)
        assert resumed.optimizer.iterations == model.optimizer.iterations
    assert report["mlp_no_dropout"].get("keras3_diff", 0.0) < 1e-5
