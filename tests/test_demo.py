"""``python -m minidl demo``: trains, reports which data it used, prints accuracy, writes three pictures."""

import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from child_env import child_env

from minidl import __main__ as cli
from minidl.datasets import _files, fashion_mnist

PICTURES = ["training_curves.png", "confusion_matrix.png", "predictions.png"]


@pytest.fixture
def nothing_installed(tmp_path, monkeypatch):
    """No full data anywhere, no network."""
    import dataclasses

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SPEC", dataclasses.replace(fashion_mnist.SPEC, system_dirs=()))

    def offline(url, out):
        raise OSError("no network (test)")

    monkeypatch.setattr(_files, "http_download", offline)
    # A tenth of the bundled sample keeps the test quick.
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_sample()
    small = ((x_train[::10], y_train[::10]), (x_test[::5], y_test[::5]))
    monkeypatch.setattr(fashion_mnist, "load_sample", lambda: small)


def write_small_fashion(directory, n=120):
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    for prefix, count in (("train", n), ("t10k", n // 4)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for name, array, magic in (("images-idx3", images, 0x803), ("labels-idx1", labels, 0x801)):
            header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
            (directory / f"{prefix}-{name}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))


def run_demo(capsys, *arguments):
    pytest.importorskip("matplotlib")
    status = cli.main(["demo", "--epochs", "1", *arguments])
    return status, capsys.readouterr()


def test_demo_on_the_bundled_sample(tmp_path, capsys, nothing_installed):
    status, output = run_demo(capsys, "--out", str(tmp_path / "pictures"))
    assert status == 0
    assert "bundled sample" in output.out and "apt-get install dataset-fashion-mnist" in output.out
    assert "Total params: 101,770" in output.out  # summary() of the 784-128-10 MLP
    assert "Test accuracy: 0." in output.out
    for name in PICTURES:
        path = tmp_path / "pictures" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(path) in output.out


def test_demo_uses_the_full_data_when_found(tmp_path, capsys, nothing_installed, monkeypatch):
    write_small_fashion(tmp_path / "data" / "fashion-mnist")
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    status, output = run_demo(capsys, "--out", str(tmp_path / "p"))
    assert status == 0
    assert f"full Fashion-MNIST from {tmp_path / 'data' / 'fashion-mnist'}" in output.out


def test_demo_full_offline_is_one_clear_error(tmp_path, capsys, nothing_installed):
    status, output = run_demo(capsys, "--full", "--out", str(tmp_path / "p"))
    assert status == 1
    assert "Fashion-MNIST not found" in output.err and "apt-get install dataset-fashion-mnist" in output.err


@pytest.mark.slow
def test_demo_cnn(tmp_path, capsys, nothing_installed):
    status, output = run_demo(capsys, "--model", "cnn", "--sample", "--out", str(tmp_path / "p"))
    assert status == 0 and "conv2d" in output.out.lower()


def test_command_line_without_a_command_prints_help():
    bare = {"PATH": os.defpath, **{k: v for k, v in os.environ.items() if k == "SYSTEMROOT"}}
    result = subprocess.run([sys.executable, "-m", "minidl"], capture_output=True, text=True,
                            env=child_env(bare), timeout=60)
    assert result.returncode == 2
    assert "demo" in result.stdout


def test_unknown_model_is_rejected(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "--model", "resnet"])
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
