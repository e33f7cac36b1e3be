"""Model files survive crashes, and damaged ones are refused with a clear error.

Crash test: a child process saves the same model file again and again, each
version with every weight, every optimizer slot and ``iterations`` set to its
own number k.  The parent kills it (SIGKILL, TerminateProcess on Windows: no
cleanup runs) at a random moment.  Whatever moment that was, the file must
load, and load as *one* version: a mix of two versions, or a file that loads wrongly, is a failure.

Damaged files (truncated anywhere, a flipped byte, foreign files, a newer
format version, a weights-only file given to load_model) must raise a
``ValueError`` naming the file, never load.
"""

import json
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
from child_env import child_env

import minidl
from minidl import layers
from minidl.models import load_model, saving

MODEL_CODE = textwrap.dedent("""
    import numpy as np
    import minidl
    from minidl import layers

    def build():
        model = minidl.Sequential([layers.Dense(256, activation="relu", input_shape=(512,)),
                                   layers.Dense(256, activation="relu"),
                                   layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def stamp(model, k):
        # every weight, every optimizer slot and iterations become the version number k
        model.set_weights([np.full(w.shape, k, np.float32) for w in model.get_weights()])
        weights = list(model.trainable_weights)
        slots = [[np.full(w.shape, k, np.float32) for _ in model.optimizer.slot_names()] for w in weights]
        model.optimizer.set_state({"iterations": k, "slots": slots}, weights)
""")

CHILD = MODEL_CODE + textwrap.dedent("""
    import sys
    path = sys.argv[1]
    model = build()
    print("READY", flush=True)
    k = 1
    while True:
        k += 1
        stamp(model, k)
        model.save(path)
""")

namespace = {}
exec(MODEL_CODE, namespace)
build, stamp = namespace["build"], namespace["stamp"]


def check_single_version(path):
    """The file loads, and everything in it comes from one save; returns its version."""
    model = load_model(path)
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"{path} mixes versions {sorted(values)}"
    (k,) = values
    assert model.optimizer.iterations == k
    for slots in model.optimizer.get_state(list(model.trainable_weights))["slots"]:
        for array in slots:
            assert np.all(array == k), "optimizer state from another version than the weights"
    return int(k)


def kill_while_saving(tmp_path, trials, seed):
    """Run ``trials`` crash trials; each one kills a child that is busy saving."""
    path = tmp_path / "model.mdl"
    model = build()
    stamp(model, 1)
    model.save(path)  # the old file
    rng = np.random.default_rng(seed)
    env = child_env(OMP_NUM_THREADS="1")
    versions = []
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(min(trials, 2))]
    for trial in range(trials):
        child = children.pop(0)
        if trial + len(children) + 1 < trials:  # start the next child while this one runs
            children.append(subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        assert child.stdout.readline().strip() == "READY", child.stderr.read()
        time.sleep(float(rng.uniform(0.0, 0.25)))  # a save takes a few ms: anywhere in the loop
        child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no cleanup runs
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
        versions.append(check_single_version(path))
    for child in children:
        child.kill()
        child.wait()
    return versions


def test_kill_during_save_5_trials(tmp_path):
    versions = kill_while_saving(tmp_path, trials=5, seed=None)
    assert all(k >= 1 for k in versions)


@pytest.mark.slow
def test_kill_during_save_25_trials(tmp_path):
    versions = kill_while_saving(tmp_path, trials=25, seed=None)
    assert len(set(versions)) > 1, "the children never managed to replace the file"
    # a temporary left behind by SIGKILL is the proof that a kill landed in the middle of a save
    interrupted = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(interrupted) >= 3, "too few kills landed during a save to test anything"


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    """An exception in the middle of writing: the old file is untouched, the temp file removed."""
    path = tmp_path / "model.mdl"
    model = build()
    stamp(model, 1)
    model.save(path)
    old = path.read_bytes()
    stamp(model, 2)

    def fail(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(saving, "_write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mdl"]
    monkeypatch.undo()
    assert check_single_version(path) == 1


# --- damaged and foreign files -------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small trained model saved with its optimizer, and its bytes."""
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Dense(5, activation="relu", input_shape=(3,)),
                               layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).random((16, 3)).astype(np.float32)
    model.fit(x, np.arange(16) % 2, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("saved") / "good.mdl"
    model.save(path)
    return path, path.read_bytes(), model.get_weights()


def refused(path, loader=load_model):
    """Loading ``path`` raises a ValueError naming it; returns the message."""
    with pytest.raises(ValueError) as caught:
        loader(path)
    message = str(caught.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    return message


def test_the_good_file_loads(saved):
    path, _, weights = saved
    model = load_model(path)
    for a, b in zip(model.get_weights(), weights):
        assert a.tobytes() == b.tobytes()


def test_truncated_anywhere_is_refused(saved, tmp_path):
    _, data, _ = saved
    cuts = sorted(set(np.linspace(0, len(data) - 1, 40).astype(int)) | {1, 4, 22, len(data) - 22})
    for cut in cuts:
        path = tmp_path / f"cut_{cut}.mdl"
        path.write_bytes(data[:cut])
        message = refused(path)
        assert any(word in message for word in ("truncated", "damaged", "not a zip", "not a minidl")), message


def test_flipped_byte_in_a_weight_is_refused(saved, tmp_path):
    """The zip's CRC catches a damaged weight: the model never loads with a wrong number."""
    _, data, _ = saved
    with zipfile.ZipFile(saved[0]) as archive:
        info = archive.getinfo("weights/0000.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in (start + info.file_size - 1, start + info.file_size // 2):
        damaged = bytearray(data)
        damaged[offset] ^= 0x40
        path = tmp_path / f"flip_{offset}.mdl"
        path.write_bytes(bytes(damaged))
        assert "damaged" in refused(path)


def test_foreign_files_are_refused(tmp_path):
    cases = {
        "text.mdl": b"this is not a model\n",
        "empty.mdl": b"",
        "image.png": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "keras.h5": b"\x89HDF\r\n\x1a\n" + bytes(100),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert "not a minidl file" in refused(tmp_path / name)
    np.savez(tmp_path / "arrays.npz", a=np.zeros(3))  # a zip, but not ours
    assert "not a minidl file" in refused(tmp_path / "arrays.npz")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("minidl.json", json.dumps({"format": "something-else"}))
    assert "not a minidl file" in refused(tmp_path / "other.zip")


def rewrite_manifest(source, target, change):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = old.read(info.filename)
            if info.filename == "minidl.json":
                manifest = json.loads(content)
                change(manifest)
                content = json.dumps(manifest).encode()
            new.writestr(info.filename, content)


def test_newer_format_version_is_refused(saved, tmp_path):
    path = tmp_path / "future.mdl"
    rewrite_manifest(saved[0], path, lambda m: m.update(format_version=99))
    message = refused(path)
    assert "99" in message and "version 1" in message


def test_manifest_pointing_at_a_missing_array_is_refused(saved, tmp_path):
    path = tmp_path / "missing.mdl"
    rewrite_manifest(saved[0], path, lambda m: m["weights"][0].update(file="weights/9999.npy"))
    assert "weights/9999.npy" in refused(path)


def test_weights_file_given_to_load_model(saved, tmp_path):
    model = load_model(saved[0])
    path = tmp_path / "only.weights"
    model.save_weights(path)
    assert "load_weights" in refused(path)


def test_load_weights_from_damaged_file_changes_nothing(saved, tmp_path):
    path, data, weights = saved
    model = load_model(path)
    damaged = tmp_path / "half.mdl"
    damaged.write_bytes(data[: len(data) // 2])
    refused(damaged, model.load_weights)
    for a, b in zip(model.get_weights(), weights):
        assert a.tobytes() == b.tobytes()


def test_directory_instead_of_file(tmp_path):
    assert "directory" in refused(tmp_path)
