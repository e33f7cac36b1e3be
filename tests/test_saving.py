"""model.save / load_model / save_weights / load_weights, and damaged files."""

import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from child_env import child_env

import minidl
from minidl import layers, optimizers
from minidl.models import load_model, saving
from minidl.utils import set_random_seed


def make_model():
    return minidl.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.Dense(3, activation="softmax"),
    ])


def data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


@pytest.fixture
def trained():
    set_random_seed(0)
    x, y = data()
    model = make_model()
    model.compile(optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model


def test_round_trip_resumes_training_exactly(trained, tmp_path):
    path = tmp_path / "model.mdl"
    trained.save(path)
    loaded = load_model(path)
    for a, b in zip(trained.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.optimizer.get_config() == trained.optimizer.get_config()
    assert loaded.optimizer.iterations == trained.optimizer.iterations
    x, y = data()
    np.testing.assert_array_equal(loaded.predict(x), trained.predict(x))
    for model in (trained, loaded):
        set_random_seed(9)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(trained.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.evaluate(x, y, verbose=0) == trained.evaluate(x, y, verbose=0)


def test_file_is_a_documented_zip(trained, tmp_path):
    path = tmp_path / "model.mdl"
    trained.save(path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("minidl.json"))
        assert manifest["format"] == "minidl-model"
        assert manifest["format_version"] == saving.FORMAT_VERSION
        assert "model.json" in archive.namelist()
        assert len(manifest["weights"]) == 4
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_save_and_load_weights(trained, tmp_path):
    path = tmp_path / "weights.mdl"
    trained.save_weights(path)
    other = make_model()
    other.load_weights(path)
    for a, b in zip(trained.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="only weights"):
        load_model(path)


def test_wrong_architecture_weights_change_nothing(trained, tmp_path):
    path = tmp_path / "weights.mdl"
    trained.save_weights(path)
    other = minidl.Sequential([layers.Dense(5, input_shape=(4,)), layers.Dense(3)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"shape \(4, 8\).*\(4, 5\)"):
        other.load_weights(path)
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_truncated_foreign_and_wrong_version_files(trained, tmp_path):
    good = tmp_path / "good.mdl"
    trained.save(good)
    data_bytes = good.read_bytes()
    truncated = tmp_path / "truncated.mdl"
    truncated.write_bytes(data_bytes[: len(data_bytes) // 2])
    with pytest.raises(ValueError, match="truncated.mdl"):
        load_model(truncated)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt.*not a minidl file"):
        load_model(foreign)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("data.csv", "1,2")
    with pytest.raises(ValueError, match="other.zip.*not a minidl file"):
        load_model(other_zip)
    future = tmp_path / "future.mdl"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(future, "w") as dst:
        for item in src.namelist():
            content = src.read(item)
            if item == "minidl.json":
                manifest = json.loads(content)
                manifest["format_version"] = 99
                content = json.dumps(manifest)
            dst.writestr(item, content)
    with pytest.raises(ValueError, match="future.mdl.*version 99"):
        load_model(future)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.mdl")


def test_failed_save_leaves_the_old_file(trained, tmp_path, monkeypatch):
    path = tmp_path / "model.mdl"
    trained.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(saving, "_write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        trained.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.mdl"]


def test_save_before_build_is_refused(tmp_path):
    model = minidl.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="build it first"):
        model.save(tmp_path / "m.mdl")


WRITER = r"""
import sys
import numpy as np
import minidl
from minidl import layers

model = minidl.Sequential([layers.Dense(64, input_shape=(256,)), layers.Dense(4)])
model.compile("adam", "mse")
path = sys.argv[1]
value = 0.0
print("ready", flush=True)
while True:  # alternate two recognisable states: every weight equal to value
    value = 1.0 - value
    model.set_weights([np.full(w.shape, value, np.float32) for w in model.get_weights()])
    model.save(path)
"""


@pytest.mark.slow
def test_killed_while_saving_never_leaves_a_bad_file(tmp_path):
    """SIGKILL at random moments of save(): the file loads, whole, every time."""
    path = tmp_path / "model.mdl"
    rng = np.random.default_rng(0)
    env = child_env()
    for trial in range(20):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline().strip() == b"ready"
        if trial == 0:
            while not path.exists():
                time.sleep(0.001)
        time.sleep(rng.uniform(0.01, 0.3))
        child.kill()
        child.wait()
        child.stdout.close()
        model = load_model(path)
        values = {float(v) for w in model.get_weights() for v in np.unique(w)}
        assert values in ({0.0}, {1.0}), f"trial {trial}: a mixed file {values}"
    leftovers = [p for p in os.listdir(tmp_path) if p != "model.mdl"]
    assert all(p.endswith(".tmp") for p in leftovers)  # a killed writer may leave its temp file, never a bad target


def test_a_flipped_byte_in_the_weights_is_detected(trained, tmp_path):
    path = tmp_path / "model.mdl"
    trained.save(path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights/0000.npy")
    raw[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside the stored array data
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="model.mdl.*damaged.*weights/0000.npy"):
        load_model(path)


def test_a_model_compiled_with_objects_comes_back_compiled(tmp_path):
    """Built-in loss, metric and optimizer objects, not only names."""
    from minidl import losses, metrics

    x, y = data()
    model = make_model()
    model.compile(optimizers.RMSprop(learning_rate=0.002),
                  losses.SparseCategoricalCrossentropy(),
                  [metrics.SparseCategoricalAccuracy(name="sca"), "accuracy",
                   minidl.metrics.sparse_categorical_accuracy])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.mdl")
    loaded = load_model(tmp_path / "m.mdl")
    assert loaded.compiled and isinstance(loaded.optimizer, optimizers.RMSprop)
    assert loaded.optimizer.learning_rate == pytest.approx(0.002)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    assert loaded.metrics_names == model.metrics_names


def test_a_custom_loss_needs_custom_objects_and_the_warning_names_it(tmp_path):
    def my_loss(y_true, y_pred):
        return minidl.losses.sparse_categorical_crossentropy(y_true, y_pred)

    x, y = data()
    model = make_model()
    model.compile("adam", my_loss, ["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.mdl")
    with pytest.warns(UserWarning, match="'my_loss'.*custom_objects=\\{'my_loss': my_loss\\}"):
        uncompiled = load_model(tmp_path / "m.mdl")
    assert not uncompiled.compiled
    loaded = load_model(tmp_path / "m.mdl", custom_objects={"my_loss": my_loss})
    assert loaded.compiled
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
