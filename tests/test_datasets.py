"""Data set loaders on small files written here; a fake downloader stands in for the network."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from minidl.datasets import DatasetNotFoundError, _files, boston_housing, fashion_mnist, mnist
from minidl.datasets._idx import read_idx


def idx_bytes(array, magic):
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion(directory, n_train=12, n_test=5, compress=True, seed=0):
    """Four tiny IDX files in ``directory``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for kind, array, magic in (("images-idx3", images, 0x803), ("labels-idx1", labels, 0x801)):
            data = idx_bytes(array, magic)
            name = f"{prefix}-{kind}-ubyte"
            if compress:
                (directory / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (directory / name).write_bytes(data)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home directory, no $MINIDL_DATA, no system directory, no network."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SPEC", _replace(fashion_mnist.SPEC, system_dirs=(str(tmp_path / "system"),)))

    def no_network(url, out):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(_files, "http_download", no_network)
    return tmp_path / "home"


def _replace(spec, **changes):
    import dataclasses

    return dataclasses.replace(spec, **changes)


# --- IDX reader -----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    data = idx_bytes(images, 0x803)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    np.testing.assert_array_equal(read_idx(path, "images"), images)


def test_read_idx_truncated_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28)), 0x803)[:-10])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        read_idx(path, "images")


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(1000), 0x801))[:-20])
    with pytest.raises(ValueError, match="labels.gz.*gzip"):
        read_idx(path, "labels")


def test_read_idx_too_long(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(10), 0x801) + b"\0")
    with pytest.raises(ValueError, match="too long"):
        read_idx(path, "labels")


def test_read_idx_foreign_file(tmp_path):
    path = tmp_path / "page.gz"
    path.write_bytes(gzip.compress(b"<html>Not Found</html>"))
    with pytest.raises(ValueError, match=r"page.gz.*not an IDX images file.*0x00000803"):
        read_idx(path, "images")


def test_read_idx_labels_file_is_not_images(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(10), 0x801))
    with pytest.raises(ValueError, match="magic number is 0x00000801"):
        read_idx(path, "images")


# --- Fashion-MNIST: search order ---------------------------------------------------------


def test_fashion_explicit_path(tmp_path, home):
    arrays = write_fashion(tmp_path / "mine")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=tmp_path / "mine")
    assert x_train.shape == (12, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (12,) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_test, arrays["t10k"][0])
    np.testing.assert_array_equal(y_test, arrays["t10k"][1])


def test_fashion_explicit_path_missing_is_an_error(tmp_path, home):
    with pytest.raises(DatasetNotFoundError, match="path="):
        fashion_mnist.load_data(path=tmp_path / "nowhere")


def test_fashion_uncompressed_files(tmp_path, home):
    arrays = write_fashion(tmp_path / "raw", compress=False)
    (x_train, _), _ = fashion_mnist.load_data(path=tmp_path / "raw")
    np.testing.assert_array_equal(x_train, arrays["train"][0])


def test_search_order(tmp_path, home, monkeypatch):
    """$MINIDL_DATA beats ~/.minidl, which beats ~/.keras (Keras layout), which beats the system dir."""
    places = {
        "system": tmp_path / "system",
        "keras": home / ".keras" / "datasets" / "fashion-mnist",
        "minidl": home / ".minidl" / "datasets",  # flat, no sub-directory
        "env": tmp_path / "env" / "fashion-mnist",
    }
    expected = {}
    for seed, (name, directory) in enumerate(places.items()):
        expected[name] = write_fashion(directory, n_train=3 + seed)["train"][0]
        if name == "env":
            monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "env"))
        (x_train, _), _ = fashion_mnist.load_data()
        np.testing.assert_array_equal(x_train, expected[name], err_msg=name)


def test_a_directory_with_only_some_files_is_skipped(tmp_path, home):
    complete = write_fashion(tmp_path / "system")
    partial = home / ".minidl" / "datasets" / "fashion-mnist"
    write_fashion(partial, n_train=7)
    (partial / "t10k-images-idx3-ubyte.gz").unlink()
    (x_train, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, complete["train"][0])


def test_offline_and_nothing_found_names_the_places_and_the_fixes(tmp_path, home):
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert isinstance(info.value, DatasetNotFoundError)
    for place in (home / ".minidl" / "datasets", home / ".keras" / "datasets" / "fashion-mnist", tmp_path / "system"):
        assert str(place) in message
    assert "$MINIDL_DATA" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "network is unreachable" in message
    assert "sample=True" in message
    assert "path=" in message


def test_offline_error_shows_the_help_first_and_no_chained_network_errors(home):
    """In a notebook the traceback ends with this message alone: no "During handling of the
    above exception" socket and urllib errors above it, their reason one line at the end."""
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    lines = str(info.value).splitlines()
    assert lines[0].startswith("Fashion-MNIST not found. Looked for train-labels-idx1-ubyte.gz")
    reason = "download failed: train-labels-idx1-ubyte.gz: network is unreachable (test)"
    assert lines[-1] == f"({reason})"
    assert sum("network is unreachable" in line for line in lines) == 1


def test_download_false_does_not_touch_the_network(home, monkeypatch):
    monkeypatch.setattr(_files, "http_download", lambda url, out: pytest.fail("downloaded"))
    with pytest.raises(DatasetNotFoundError, match="not allowed"):
        fashion_mnist.load_data(download=False)


def test_mismatched_files_are_an_error(tmp_path, home):
    write_fashion(tmp_path / "a", n_train=4)
    labels = tmp_path / "a" / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(5), 0x801)))
    with pytest.raises(ValueError, match="4 images but .* 5 labels"):
        fashion_mnist.load_data(path=tmp_path / "a")


# --- downloading ---------------------------------------------------------------------


def fake_server(files):
    """A downloader serving ``{url: bytes}``; records the URLs asked for."""
    asked = []

    def download(url, out):
        asked.append(url)
        out.write(files[url])

    download.asked = asked
    return download


def test_download_checks_sha256_and_writes_the_file(home, monkeypatch):
    payload = b"\x93NUMPY fake"
    spec = _files.DatasetSpec("Toy", (_files.RemoteFile("toy.npz", "https://example.org/toy.npz", hashlib.sha256(payload).hexdigest()),))
    server = fake_server({"https://example.org/toy.npz": payload})
    found = _files.locate(spec, downloader=server)
    assert found["toy.npz"] == home / ".minidl" / "datasets" / "toy.npz"
    assert found["toy.npz"].read_bytes() == payload
    # Found on disk the second time: no download.
    assert _files.locate(spec, downloader=server) == found
    assert server.asked == ["https://example.org/toy.npz"]


def test_download_goes_to_minidl_data_when_set(tmp_path, home, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    payload = b"abc"
    spec = _files.DatasetSpec("Toy", (_files.RemoteFile("t.bin", "u", hashlib.sha256(payload).hexdigest()),), subdir="toy")
    found = _files.locate(spec, downloader=fake_server({"u": payload}))
    assert found["t.bin"] == tmp_path / "data" / "toy" / "t.bin"


def test_checksum_mismatch_leaves_no_file(tmp_path):
    destination = tmp_path / "d" / "file.gz"
    with pytest.raises(ValueError, match="SHA-256"):
        _files.fetch("u", destination, "0" * 64, downloader=fake_server({"u": b"corrupted"}))
    assert list((tmp_path / "d").iterdir()) == []


def test_broken_transfer_leaves_no_file(tmp_path):
    def broken(url, out):
        out.write(b"half of it")
        raise ConnectionResetError("connection reset (test)")

    with pytest.raises(ConnectionResetError):
        _files.fetch("u", tmp_path / "file.gz", "0" * 64, downloader=broken)
    assert list(tmp_path.iterdir()) == []


def test_fashion_download_end_to_end(home, monkeypatch):
    """With nothing on disk, the four files come from their official URLs and are read."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=6, dtype=np.uint8)
    contents = {
        "train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images, 0x803)),
        "train-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels, 0x801)),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images[:2], 0x803)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels[:2], 0x801)),
    }
    files = tuple(
        _files.RemoteFile(f.name, f.url, hashlib.sha256(contents[f.name]).hexdigest()) for f in fashion_mnist.SPEC.files
    )
    monkeypatch.setattr(fashion_mnist, "SPEC", _replace(fashion_mnist.SPEC, files=files))
    server = fake_server({f.url: contents[f.name] for f in files})
    monkeypatch.setattr(_files, "http_download", server)
    (x_train, y_train), (x_test, _) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, images)
    np.testing.assert_array_equal(y_train, labels)
    assert x_test.shape == (2, 28, 28)
    assert all(url.startswith("https://storage.googleapis.com/tensorflow/tf-keras-datasets/") for url in server.asked)
    assert (home / ".minidl" / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_progress_bar_goes_to_stderr(capsys):
    bar = _files._DownloadBar(total=100)
    bar.update(50, force=True)
    bar.finish(100)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "100/100 [==============================]" in captured.err


def test_known_checksums_are_sha256_hex():
    for spec in (fashion_mnist.SPEC, mnist.SPEC, boston_housing.SPEC):
        for remote in spec.files:
            assert len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0
            assert remote.url.startswith("https://storage.googleapis.com/tensorflow/tf-keras-datasets/")


# --- mnist.npz and boston_housing.npz -------------------------------------------------


def test_mnist_from_keras_cache(home):
    rng = np.random.default_rng(2)
    arrays = {
        "x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 5, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    cache = home / ".keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_mnist_damaged_npz(tmp_path, home):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="mnist.npz.*npz"):
        mnist.load_data(path=path)


def test_boston_split_matches_keras(tmp_path, home):
    x = np.arange(506 * 13, dtype=np.float64).reshape(506, 13)
    y = np.arange(506, dtype=np.float64)
    np.savez(tmp_path / "boston_housing.npz", x=x, y=y)

    state = np.random.get_state()
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(path=tmp_path / "boston_housing.npz")
    assert np.array_equal(np.random.get_state()[1], state[1]), "the global NumPy generator was touched"

    # Keras (tf.keras 2.x): np.random.seed(seed); np.random.shuffle(indices)
    np.random.seed(113)
    indices = np.arange(506)
    np.random.shuffle(indices)
    np.random.set_state(state)
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert x_train.dtype == np.float64
    np.testing.assert_array_equal(y_train, y[indices[:404]])
    np.testing.assert_array_equal(x_test, x[indices[404:]])


def test_boston_rejects_bad_test_split(tmp_path):
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(path=tmp_path, test_split=1.0)


# --- bundled sample ------------------------------------------------------------------


def test_bundled_sample():
    if not fashion_mnist.SAMPLE_PATH.exists():
        pytest.skip("bundled sample not built yet (scripts/make_sample.py)")
    assert fashion_mnist.SAMPLE_PATH.stat().st_size < 2_000_000
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(sample=True)
    assert x_train.shape == (3000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (500, 28, 28) and y_test.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [300] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [50] * 10)
    assert x_train.std() > 20  # real pictures, not blanks
