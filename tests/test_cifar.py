"""minidl.datasets.cifar10 / cifar100: Keras's shapes and dtypes, the search order, and
batch files read without running code. Every file here is made by the test."""

import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

from minidl.datasets import DatasetNotFoundError, _cifar, cifar10, cifar100
from minidl.utils.file_checks import FileFormatError


def _batch(n, seed, label_keys=("labels",), classes=10):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"test batch", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [b"x.png"] * n}
    for key in label_keys:
        batch[key.encode()] = [int(v) for v in rng.integers(0, classes, n)]
    return batch


def write_cifar10(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate(cifar10.SPEC.train + cifar10.SPEC.test):
        batches[name] = _batch(n, i)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    return batches


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)


def test_cifar10_shapes_dtypes_and_pixel_layout(tmp_path):
    batches = write_cifar10(tmp_path / "cifar-10-batches-py")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path)
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8 and x_test.shape == (3, 32, 32, 3)
    data = batches["data_batch_2"][b"data"]
    # a row is 1024 red, 1024 green, 1024 blue values, each 32 rows of 32 pixels
    assert x_train[3, 5, 7, 2] == data[0, 2 * 1024 + 5 * 32 + 7]
    assert list(y_train[3:6, 0]) == batches["data_batch_2"][b"labels"]
    assert y_test[:, 0].tolist() == batches["test_batch"][b"labels"]


def test_cifar100_fine_and_coarse(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name, seed in (("train", 0), ("test", 1)):
        batch = _batch(4, seed, ("fine_labels", "coarse_labels"), classes=20)
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (_, fine), _ = cifar100.load_data(path=folder)
    (_, coarse), _ = cifar100.load_data("coarse", path=folder)
    assert fine.shape == coarse.shape == (4, 1)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium")


def test_found_where_keras_left_it(tmp_path):
    write_cifar10(tmp_path / "home" / ".keras" / "datasets" / "cifar-10-batches-py")
    (x_train, _), _ = cifar10.load_data(download=False)
    assert len(x_train) == 15


def test_an_archive_on_disk_is_extracted(tmp_path, monkeypatch):
    source = tmp_path / "source"
    write_cifar10(source / "cifar-10-batches-py")
    data = tmp_path / "data"
    data.mkdir()
    with tarfile.open(data / "cifar-10-batches-py.tar.gz", "w:gz") as archive:
        archive.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setenv("MINIDL_DATA", str(data))
    (x_train, _), _ = cifar10.load_data(download=False)
    assert len(x_train) == 15 and (data / "cifar-10-batches-py" / "test_batch").is_file()


def test_offline_and_a_download_with_the_wrong_hash(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="CIFAR-10 not found"):
        cifar10.load_data(download=False)
    fake = io.BytesIO()
    with tarfile.open(fileobj=fake, mode="w:gz"):
        pass
    with pytest.raises(ValueError, match="SHA-256"):
        _cifar.load(cifar10.SPEC, "labels", downloader=lambda url, out: out.write(fake.getvalue()))
    assert not any((tmp_path / "home" / ".minidl" / "datasets").glob("*.tar.gz"))


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("payload, message", [
    (pickle.dumps({b"data": _Evil()}, protocol=2), "posix.system|os.system|nt.system"),
    (pickle.dumps([1, 2, 3], protocol=2), "not a dict"),
    (pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2), "3072"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, protocol=2), "labels"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, protocol=2), "uint8"),
    (b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"tiny", "CIFAR batch"),  # BINBYTES8 of 1 TB
    (b"not a pickle at all", "CIFAR batch"),
], ids=["code", "list", "width", "label-range", "dtype", "huge-length", "garbage"])
def test_crafted_batches_are_refused_and_never_run(tmp_path, monkeypatch, payload, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data_batch_1"
    path.write_bytes(payload)
    with pytest.raises(FileFormatError, match=message):
        _cifar.read_batch(path, "labels", 10)
    assert not (tmp_path / "PWNED").exists()
