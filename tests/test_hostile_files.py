"""Crafted and careless files (issue 13): a file may be damaged, foreign, or made to hurt.

Whatever a file holds, minidl runs no code from it (configuration names are looked up in
fixed lists, arrays are never unpickled), does not hang on it, does not let it claim more
memory than the data it should hold, and does not change a model half-way: it refuses the
file with a ``FileFormatError`` (a ``ValueError``) that names the file.

The files are made here with zipfile, numpy.lib.format, gzip and struct; a zip writer by
hand makes what zipfile will not (a name twice, a member whose sizes lie). Files that would
be read without end or expand to hundreds of MB are loaded in a child process whose address
space is capped (RLIMIT_AS) and which is killed after a timeout; it reports each error and
how much its peak memory grew.
"""

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from child_env import child_env

from minidl import optimizers
from minidl.datasets import fashion_mnist, mnist
from minidl.datasets._idx import read_idx
from minidl.models import load_model
from minidl.models.saving import FileFormatError

MIB = 1 << 20

MODEL_CODE = textwrap.dedent("""
    import numpy as np
    import minidl
    from minidl import layers

    def classifier(optimizer="adam"):
        model = minidl.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                   layers.Dense(3, activation="softmax")])
        model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
        return model
""")
namespace = {}
exec(MODEL_CODE, namespace)
classifier = namespace["classifier"]


def trained(optimizer="adam"):
    """A classifier after one epoch, so that its optimizer holds state."""
    rng = np.random.default_rng(0)
    model = classifier(optimizer)
    model.fit(rng.random((24, 4)).astype(np.float32), np.arange(24) % 3, epochs=1,
              batch_size=8, verbose=0)
    return model


# --- making files ----------------------------------------------------------------------
@dataclass
class Deflated:
    """A member's raw deflate stream, and the uncompressed size and CRC its headers claim."""

    stream: bytes
    size: int
    crc: int


def write_zip(path, items):
    """A zip archive written by hand from (name, content) items: bytes are stored as they
    are; a ``Deflated`` is written with the size and CRC it claims, true or not. (zipfile
    computes sizes itself, and warns about a name given twice.)"""
    body, directory = bytearray(), bytearray()
    for name, content in items:
        if isinstance(content, Deflated):
            method, data, size, crc = 8, content.stream, content.size, content.crc
        else:
            method, data, size, crc = 0, content, len(content), zlib.crc32(content)
        encoded = name.encode()
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                                 crc, len(data), size, len(encoded), 0, 0, 0, 0, 0, len(body))
        directory += encoded
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data),
                            size, len(encoded), 0)
        body += encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(items), len(items), len(directory),
                      len(body), 0)
    Path(path).write_bytes(bytes(body + directory + end))
    return path


def members(path):
    """The (name, bytes) members of a zip file, in order."""
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def replaced(items, name, content):
    return [(n, content if n == name else c) for n, c in items]


def with_manifest(items, change):
    """``items`` whose manifest was edited in place by ``change(manifest)``."""
    manifest = json.loads(dict(items)["minidl.json"])
    change(manifest)
    return replaced(items, "minidl.json", json.dumps(manifest).encode())


def with_architecture(items, make):
    """``items`` whose model.json is ``make(architecture)``."""
    architecture = make(json.loads(dict(items)["model.json"]))
    return replaced(items, "model.json", json.dumps(architecture).encode())


def npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_header(shape, dtype):
    """Only the header of a .npy file: it may declare any shape."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
        "shape": tuple(shape)})
    return buffer.getvalue()


def deflated_zeros(prefix, mib=400):
    """``prefix`` then ``mib`` MiB of zeros, as a raw deflate stream of about 1 KB per MiB,
    made in milliseconds: after a full flush a compressor starts afresh, so the compressed
    form of one MiB of zeros can simply be repeated."""
    def flushed(data):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = zlib.crc32(prefix)
    zeros = bytes(MIB)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return Deflated(flushed(prefix) + flushed(zeros) * mib + final_block,
                    len(prefix) + mib * MIB, crc)


def gzipped(deflated):
    """A gzip file around a raw deflate stream."""
    header = b"\x1f\x8b\x08\x00" + bytes(4) + b"\x00\xff"
    return header + deflated.stream + struct.pack("<II", deflated.crc, deflated.size % 2**32)


def idx_header(shape):
    return struct.pack(">I", 0x800 + len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def write_fashion(directory, train_images=None):
    """The four Fashion-MNIST files, tiny; ``train_images`` replaces that file's bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        images = idx_header((3, 28, 28)) + bytes(3 * 28 * 28)
        labels = idx_header((3,)) + bytes(3)
        if prefix == "train" and train_images is not None:
            (directory / "train-images-idx3-ubyte.gz").write_bytes(train_images)
        else:
            (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    return directory


def mnist_items(**replace):
    """The members of a small mnist.npz; ``replace`` gives other bytes for some."""
    arrays = {"x_train": np.zeros((5, 28, 28), np.uint8), "y_train": np.zeros(5, np.uint8),
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.zeros(2, np.uint8)}
    return [(f"{key}.npy", replace.get(key, npy(array))) for key, array in arrays.items()]


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    """The members of a trained classifier's file, saved with Adam's state."""
    path = tmp_path_factory.mktemp("saved") / "good.mdl"
    trained().save(path)
    return members(path)


def refused(path, loader=load_model, *words):
    """Loading ``path`` raises FileFormatError naming the file (and ``words``); the message."""
    with pytest.raises(FileFormatError) as caught:
        loader(path)
    message = str(caught.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    for word in words:
        assert word in message.replace(str(path), ""), f"{word!r} is not in {message!r}"
    return message


# --- a child with capped memory, for what reads without end or expands -----------------
CAP_BYTES = 1 << 30
MAX_GROWTH_KB = 100 * 1024  # far below the hundreds of MB a bomb expands to
CHILD = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({CAP_BYTES}, {CAP_BYTES}))\n"
CHILD += MODEL_CODE + textwrap.dedent("""
    import json, sys
    from minidl.datasets import fashion_mnist, mnist
    from minidl.datasets._idx import read_idx
    from minidl.datasets._npz import load_arrays
    from minidl.models import load_model

    LOADERS = {
        "load_model": load_model,
        "load_weights": lambda path: classifier().load_weights(path),
        "read_idx": lambda path: read_idx(path, "images"),
        "load_arrays": lambda path: load_arrays(path, mnist.ARRAYS),
        "fashion_mnist": lambda path: fashion_mnist.load_data(path=path),
        "mnist": lambda path: mnist.load_data(path=path),
    }
    for loader, path in json.loads(sys.argv[1]):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            LOADERS[loader](path)
            outcome = "loaded"
        except BaseException as error:  # a MemoryError too: the parent reports it
            outcome = f"{type(error).__name__}: {error}"
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(json.dumps({"outcome": outcome, "growth_kb": growth}), flush=True)
""")


def run_capped(cases, timeout=30):
    """Run ``(loader, path)`` cases in a child with at most 1 GiB of address space; each
    case's outcome ("ErrorType: message" or "loaded") and peak-memory growth, in order."""
    pytest.importorskip("resource")
    env = child_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    arguments = json.dumps([(loader, str(path)) for loader, path in cases])
    try:
        child = subprocess.run([sys.executable, "-c", CHILD, arguments], env=env, timeout=timeout,
                               capture_output=True, text=True)
    except subprocess.TimeoutExpired as timeout_error:
        done = len((timeout_error.stdout or b"").splitlines())
        pytest.fail(f"the child hung: killed after {timeout} s, in case {cases[done]}")
    assert child.returncode == 0, child.stderr
    return [json.loads(line) for line in child.stdout.splitlines()]


def assert_all_refused(cases, results, *words):
    """Each case ended in FileFormatError naming its file (and ``words``), in little memory."""
    assert len(results) == len(cases)
    for (loader, path), result in zip(cases, results):
        outcome = result["outcome"]
        assert outcome.startswith("FileFormatError: "), f"{loader}({path}): {outcome}"
        assert str(path) in outcome, f"{loader}({path}): the file is not named: {outcome}"
        for word in words:
            assert word in outcome.replace(str(path), ""), f"{loader}({path}): no {word!r}"
        assert result["growth_kb"] < MAX_GROWTH_KB, (
            f"{loader}({path}) grew the memory by {result['growth_kb'] // 1024} MB")


# --- 1. a refused load or set_weights changes nothing ----------------------------------
@pytest.mark.parametrize("third", [
    np.zeros((8, 3), np.complex64),  # complex: assign() refused it after writing two weights
    np.zeros((8, 3), np.float64),    # the manifest says float32: a real float, but not it
    np.zeros((8, 3), np.int32),      # ints where floats are expected are refused, not cast
], ids=["complex", "float64", "int32"])
def test_load_weights_with_a_bad_third_array_changes_nothing(items, tmp_path, third):
    path = write_zip(tmp_path / "third.mdl", replaced(items, "weights/0002.npy", npy(third)))
    model = classifier()
    before = model.get_weights()
    refused(path, model.load_weights, "weights/0002.npy", str(third.dtype))
    for a, b in zip(before, model.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_set_weights_casts_everything_before_writing_anything():
    """A float64 too large for float32 becomes inf, as Tensor.assign makes it; with warnings
    turned into errors that cast must not interrupt set_weights after two weights."""
    model = classifier()
    values = [w.astype(np.float64) + 1 for w in model.get_weights()]
    values[2][0, 0] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_weights(values)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], values[0].astype(np.float32))
    assert after[2][0, 0] == np.inf


# --- 2. the optimizer's state is checked like the weights -------------------------------
@pytest.mark.parametrize("iterations", [-1, 2.5, "3", True, None, [1]])
def test_iterations_must_be_a_non_negative_integer(items, tmp_path, iterations):
    path = write_zip(tmp_path / "iterations.mdl", with_manifest(
        items, lambda m: m["optimizer"].update(iterations=iterations)))
    refused(path, load_model, "iterations")


@pytest.mark.parametrize("optimizer, member, value", [
    ("adam", "optimizer/0001_1.npy", -1.0),        # v: Adam's running mean of g**2
    ("adam", "optimizer/0001_1.npy", np.nan),
    ("adam", "optimizer/0000_1.npy", np.inf),
    ("amsgrad", "optimizer/0002_2.npy", -1e-3),    # v_max
    ("rmsprop", "optimizer/0003_0.npy", -2.0),     # rms
    ("rmsprop", "optimizer/0000_0.npy", np.inf),
])
def test_second_moments_must_be_non_negative_and_finite(tmp_path, optimizer, member, value):
    model = trained(optimizers.Adam(amsgrad=True) if optimizer == "amsgrad" else optimizer)
    good = tmp_path / "good.mdl"
    model.save(good)
    items = members(good)
    slot = np.lib.format.read_array(io.BytesIO(dict(items)[member]))
    slot.flat[1] = value
    path = write_zip(tmp_path / f"{optimizer}.mdl", replaced(items, member, npy(slot)))
    refused(path, load_model, member, "non-negative")


@pytest.mark.parametrize("array", [
    np.zeros((8, 4), np.float32),                      # the weight's shape is (4, 8)
    np.zeros((4, 8), np.float64),                      # the weight is float32
    np.zeros((4, 8), np.int64),
    np.zeros((4, 8), np.complex64),
    np.zeros((4, 8), "datetime64[s]"),
    np.zeros((4, 8), "S4"),
    np.zeros((4, 8), [("a", np.float32)]),
    np.zeros((4, 8), bool),
], ids=lambda a: f"{a.dtype}{a.shape}")
@pytest.mark.parametrize("member", ["weights/0000.npy", "optimizer/0000_0.npy"])
def test_weights_and_slots_of_other_shapes_or_dtypes_are_refused(items, tmp_path, array, member):
    path = write_zip(tmp_path / "dtype.mdl", replaced(items, member, npy(array)))
    refused(path, load_model, member)


def test_an_object_array_is_refused_and_never_unpickled(items, tmp_path):
    objects = np.empty((4, 8), object)
    objects[0, 0] = print  # unpickling would import it
    path = write_zip(tmp_path / "pickle.mdl",
                     replaced(items, "optimizer/0000_1.npy", npy(objects, allow_pickle=True)))
    refused(path, load_model, "optimizer/0000_1.npy", "object")


def test_a_wrong_number_of_slots_is_refused(items, tmp_path):
    path = write_zip(tmp_path / "slots.mdl", with_manifest(
        items, lambda m: m["optimizer"]["slots"][1].__delitem__(-1)))
    refused(path, load_model, "slots")


# --- 3. a name twice -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["minidl.json", "weights/0000.npy", "model.json"])
def test_a_model_file_naming_a_member_twice_is_refused(items, tmp_path, name):
    second = npy(np.zeros((4, 8), np.float32)) if name.endswith(".npy") else dict(items)[name]
    path = write_zip(tmp_path / "twice.mdl", [*items, (name, second)])
    refused(path, load_model, name, "twice")
    refused(path, classifier().load_weights, name, "twice")


def test_a_data_set_naming_an_array_twice_is_refused(tmp_path):
    path = write_zip(tmp_path / "mnist.npz",
                     [*mnist_items(), ("x_train.npy", npy(np.ones((5, 28, 28), np.uint8)))])
    refused(path, lambda p: mnist.load_data(path=p), "x_train.npy", "twice")


# --- 4. small files that expand to hundreds of MB ------------------------------------------
def test_zip_and_gzip_bombs_are_refused_in_little_memory(items, tmp_path):
    header = npy_header((4, 8), np.float32)
    honest = deflated_zeros(header)  # says it expands to 400 MiB, and does
    lying = Deflated(honest.stream, len(header) + 4 * 8 * 4, honest.crc)  # says 128 bytes of data
    images = idx_header((3, 28, 28))
    cases = [
        ("load_model", write_zip(tmp_path / "bomb.mdl",
                                 replaced(items, "weights/0000.npy", honest))),
        ("load_weights", write_zip(tmp_path / "lying.mdl",
                                   replaced(items, "weights/0000.npy", lying))),
        ("mnist", write_zip(tmp_path / "mnist.npz", mnist_items(
            x_train=deflated_zeros(npy_header((5, 28, 28), np.uint8))))),
        ("fashion_mnist", write_fashion(tmp_path / "long", gzipped(deflated_zeros(images)))),
        ("fashion_mnist", write_fashion(tmp_path / "many", gzipped(
            deflated_zeros(idx_header((535_000, 28, 28)))))),
    ]
    bombs = [p for _, p in cases[:3]] + [p / "train-images-idx3-ubyte.gz" for _, p in cases[3:]]
    assert all(os.path.getsize(p) < 500_000 for p in bombs)
    results = run_capped(cases)
    assert_all_refused(cases, results)
    for (_, path), result, words in zip(cases, results, (
            ["weights/0000.npy"], ["weights/0000.npy", "damaged"], ["x_train.npy"], ["too long"],
            ["535000"])):
        outcome = result["outcome"].replace(str(path), "")
        assert all(word in outcome for word in words), (words, outcome)


# --- 5. headers declaring absurd sizes -------------------------------------------------
def test_an_npy_header_declaring_2_40_elements_is_refused_before_reading(items, tmp_path):
    absurd = npy_header((2**40,), np.float32) + bytes(64)
    path = write_zip(tmp_path / "absurd.mdl", replaced(items, "weights/0001.npy", absurd))
    refused(path, load_model, "weights/0001.npy", str(2**40))
    refused(path, classifier().load_weights, "weights/0001.npy", str(2**40))


@pytest.mark.parametrize("key, shape, dtype", [
    ("y_train", (2**40,), np.uint8),
    ("x_train", (2**40 // 784, 28, 28), np.uint8),
    ("x_test", (10_001, 28, 28), np.uint8),   # MNIST has 10,000 test images
    ("x_train", (5, 28, 28), np.float64),     # MNIST is uint8
    ("y_test", (2,), object),
])
def test_a_data_set_npy_header_out_of_bounds_is_refused_before_reading(tmp_path, key, shape,
                                                                       dtype):
    content = npy_header(shape, dtype) + bytes(64)
    path = write_zip(tmp_path / "mnist.npz", mnist_items(**{key: content}))
    refused(path, lambda p: mnist.load_data(path=p), key)


def test_idx_dimensions_multiplying_past_2_63_are_refused(tmp_path):
    """2**22 * 2**21 * 2**21 is 2**64: np.prod in int64 wraps it to 0, which a file holding
    only the header matched."""
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header((2**22, 2**21, 2**21)))
    refused(path, lambda p: read_idx(p, "images"), str(2**22))


def test_fashion_images_of_another_size_are_refused_from_the_header(tmp_path):
    directory = write_fashion(tmp_path / "f", gzip.compress(idx_header((3, 32, 32))))
    refused(directory / "train-images-idx3-ubyte.gz",
            lambda p: fashion_mnist.load_data(path=p.parent), "(28, 28)")


# --- 6. files without end: devices, FIFOs, directories -------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_devices_and_fifos_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    readers = ("load_model", "load_weights", "read_idx", "load_arrays", "mnist")
    cases = [(loader, fifo) for loader in (*readers, "fashion_mnist")]
    if os.path.exists("/dev/zero"):
        cases += [(loader, "/dev/zero") for loader in readers]
    assert_all_refused(cases, run_capped(cases, timeout=20), "not a regular file")


def test_a_directory_is_refused_by_the_readers(tmp_path):
    refused(tmp_path, lambda p: read_idx(p, "labels"), "directory")
    refused(tmp_path, classifier().load_weights, "directory")


# --- 7. malformed manifests and configurations ------------------------------------------
MANIFEST_CHANGES = {
    "weights not a list": lambda m: m.update(weights=5),
    "a weight entry not an object": lambda m: m["weights"].__setitem__(0, "weights/0000.npy"),
    "file not a string": lambda m: m["weights"][0].update(file=7),
    "file missing": lambda m: m["weights"][0].__delitem__("file"),
    "name not a string": lambda m: m["weights"][1].update(name=5),
    "shape not a list": lambda m: m["weights"][0].update(shape="4, 8"),
    "shape of booleans": lambda m: m["weights"][2].update(shape=[True, 3]),
    "dtype int32": lambda m: m["weights"][0].update(dtype="int32"),
    "dtype a list": lambda m: m["weights"][0].update(dtype=["float32"]),
    "format_version true": lambda m: m.update(format_version=True),
    "minidl_version a number": lambda m: m.update(minidl_version=1),
    "optimizer a string": lambda m: m.update(optimizer="adam"),
    "optimizer class_name a list": lambda m: m["optimizer"].update(class_name=["Adam"]),
    "optimizer config a number": lambda m: m["optimizer"].update(config=5),
    "optimizer config unknown argument": lambda m: m["optimizer"]["config"].update(gamma=1),
    "optimizer slots a number": lambda m: m["optimizer"].update(slots=5),
    "compile loss_weights a string": lambda m: m["compile"].update(loss_weights="abc"),
    "compile loss nested deeply": lambda m: m["compile"].update(
        loss=json.loads("[" * 600 + "]" * 600)),
}


@pytest.mark.parametrize("change", MANIFEST_CHANGES.values(), ids=list(MANIFEST_CHANGES))
def test_a_manifest_field_of_the_wrong_type_is_refused(items, tmp_path, change):
    path = write_zip(tmp_path / "manifest.mdl", with_manifest(items, change))
    refused(path, load_model)


def nested_sequentials(depth):
    config = {"class_name": "Dense", "config": {"units": 2, "batch_input_shape": [None, 4]}}
    for _ in range(depth):
        config = {"class_name": "Sequential", "config": {"layers": [config]}}
    return {**config, "build_config": {"input_shapes": [[None, 4]]}}


def functional(change):
    """A functional model's configuration, changed by ``change(config)``."""
    config = {"name": "model", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [None, 4]},
         "name": "in", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "out", "units": 3}, "name": "out",
         "inbound_nodes": [{"inputs": [["in", 0, 0]], "list_input": False}]},
    ], "input_layers": [["in", 0, 0]], "output_layers": [["out", 0, 0]]}
    change(config)
    return {"class_name": "Functional", "config": config}


MODEL_JSON = {
    "a list": lambda a: [a],
    "Sequentials nested 300 deep": lambda a: nested_sequentials(300),
    "an empty input reference": lambda a: functional(lambda c: c.update(input_layers=[[]])),
    "no inputs": lambda a: functional(lambda c: c.update(input_layers=[])),
    "a node that is a list": lambda a: functional(
        lambda c: c["layers"][1].update(inbound_nodes=[[["in", 0, 0]]])),
    "a reference to a missing tensor": lambda a: functional(
        lambda c: c["layers"][1]["inbound_nodes"][0].update(inputs=[["in", 5, 0]])),
    "layers a number": lambda a: {**a, "config": {**a["config"], "layers": 5}},
    "units a string": lambda a: {**a, "config": {**a["config"], "layers": [
        {"class_name": "Dense", "config": {"units": "many", "batch_input_shape": [None, 4]}}]}},
    "build_config a string": lambda a: {**a, "build_config": "abc"},
}


@pytest.mark.parametrize("change", MODEL_JSON.values(), ids=list(MODEL_JSON))
def test_a_malformed_model_configuration_is_refused(items, tmp_path, change):
    path = write_zip(tmp_path / "config.mdl", with_architecture(items, change))
    refused(path, load_model)


def test_json_nested_past_the_recursion_limit_is_refused(items, tmp_path):
    for name in ("model.json", "minidl.json"):
        path = write_zip(tmp_path / "deep.mdl",
                         replaced(items, name, b"[" * 100_000 + b"]" * 100_000))
        refused(path, load_model, name)


# --- 8. long file names -------------------------------------------------------------------
def name_limit(directory):
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return 255


@pytest.mark.parametrize("character", ["m", "é"])
def test_a_name_as_long_as_the_file_system_allows_saves(tmp_path, character):
    """The temporary file's name adds characters to the target's: it must be shortened."""
    limit = min(250, name_limit(tmp_path))
    name = character * ((limit - 4) // len(character.encode())) + ".mdl"
    model = trained()
    model.save(tmp_path / name)
    model.save_weights(tmp_path / name)  # overwrites it in the same way
    restored = classifier()
    restored.load_weights(tmp_path / name)
    for a, b in zip(restored.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    assert os.listdir(tmp_path) == [name]
