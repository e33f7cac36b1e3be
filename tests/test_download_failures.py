"""Downloads that go wrong, over real HTTP from a server on 127.0.0.1.

The server (a thread in this process) can serve a file whole, cut the
connection halfway, serve the right length of wrong bytes, answer 404, or
accept and never answer.  Whatever happens, the cache directory must hold no
partial file afterwards, and the error must say what happened.  Finally, a
damaged file already sitting in the cache is refused with a message that
names it.
"""

import dataclasses
import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from minidl.datasets import DatasetNotFoundError, _files, fashion_mnist, mnist


def idx_gz(array, magic):
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)  # ~30 kB: several read chunks
LABELS = RNG.integers(0, 10, size=40, dtype=np.uint8)
CONTENT = {
    "train-images-idx3-ubyte.gz": idx_gz(IMAGES, 0x803),
    "train-labels-idx1-ubyte.gz": idx_gz(LABELS, 0x801),
    "t10k-images-idx3-ubyte.gz": idx_gz(IMAGES[:7], 0x803),
    "t10k-labels-idx1-ubyte.gz": idx_gz(LABELS[:7], 0x801),
}


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /<behaviour>/<file name>; behaviours: good, cut, chunked-cut, wrong, 404, silent."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (the http.server API)
        _, behaviour, name = self.path.split("/", 2)
        body = CONTENT[name]
        self.server.requests.append(self.path)
        if behaviour == "404":
            self.send_error(404, "Not Found")
            return
        if behaviour == "silent":
            time.sleep(3)
            return
        if behaviour == "chunked-cut":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = body[: len(body) // 2]
            self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour == "good":
            self.wfile.write(body)
        elif behaviour == "wrong":
            self.wfile.write(bytes(b ^ 0x5A for b in body))
        elif behaviour == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """$MINIDL_DATA is an empty cache; no other place holds Fashion-MNIST."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def use_server(monkeypatch, server, behaviours):
    """Point fashion_mnist's four files at the test server, with a behaviour each."""
    base = f"http://127.0.0.1:{server.server_address[1]}"
    files = tuple(
        _files.RemoteFile(f.name, f"{base}/{behaviours.get(f.name, 'good')}/{f.name}",
                          hashlib.sha256(CONTENT[f.name]).hexdigest())
        for f in fashion_mnist.SPEC.files
    )
    spec = dataclasses.replace(fashion_mnist.SPEC, files=files, system_dirs=())
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    return spec


def files_in(directory):
    """Every file under ``directory`` (hidden temporaries included)."""
    return sorted(p.relative_to(directory).as_posix() for p in Path(directory).rglob("*") if p.is_file())


COMPLETE = ["fashion-mnist/t10k-images-idx3-ubyte.gz", "fashion-mnist/t10k-labels-idx1-ubyte.gz",
            "fashion-mnist/train-images-idx3-ubyte.gz", "fashion-mnist/train-labels-idx1-ubyte.gz"]


def test_a_good_server_works(server, cache, monkeypatch):
    use_server(monkeypatch, server, {})
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, IMAGES)
    np.testing.assert_array_equal(y_test, LABELS[:7])
    assert files_in(cache) == COMPLETE


@pytest.mark.parametrize("behaviour", ["cut", "chunked-cut"])
def test_connection_cut_midway_leaves_no_partial_file(server, cache, monkeypatch, behaviour):
    use_server(monkeypatch, server, {"train-images-idx3-ubyte.gz": behaviour})
    with pytest.raises(DatasetNotFoundError) as caught:
        fashion_mnist.load_data()
    message = str(caught.value)
    assert "download failed" in message
    assert any(word in message.lower() for word in ("incomplete", "more expected", "connection")), message
    assert "train-images-idx3-ubyte.gz" in message
    # the labels file that arrived whole (and was checked) may stay; nothing partial does
    assert files_in(cache) == ["fashion-mnist/train-labels-idx1-ubyte.gz"]
    # a later attempt with a working server completes the cache
    use_server(monkeypatch, server, {})
    (x_train, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, IMAGES)
    assert files_in(cache) == COMPLETE


def test_wrong_bytes_fail_the_checksum_and_leave_nothing(server, cache, monkeypatch):
    use_server(monkeypatch, server, {"train-labels-idx1-ubyte.gz": "wrong"})
    with pytest.raises(ValueError) as caught:
        fashion_mnist.load_data()
    message = str(caught.value)
    assert "SHA-256" in message and "expected" in message and "was not saved" in message
    assert "/wrong/train-labels-idx1-ubyte.gz" in message
    assert files_in(cache) == []


def test_http_404_says_so(server, cache, monkeypatch):
    use_server(monkeypatch, server, {"train-labels-idx1-ubyte.gz": "404"})
    with pytest.raises(DatasetNotFoundError) as caught:
        fashion_mnist.load_data()
    assert "404" in str(caught.value)
    assert files_in(cache) == []


def test_no_server_listening(cache, monkeypatch):
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = _files.DatasetSpec("Toy", (_files.RemoteFile("toy.bin", f"http://127.0.0.1:{port}/toy.bin", "0" * 64),))
    with pytest.raises(DatasetNotFoundError) as caught:
        _files.locate(spec)
    message = str(caught.value)
    assert "download failed" in message and "refused" in message.lower()
    assert "<urlopen error" not in message  # the socket's reason, unwrapped
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert f"http://127.0.0.1:{port}/toy.bin" in message
    assert files_in(cache) == []


def test_a_server_that_never_answers_times_out(server, cache):
    url = f"http://127.0.0.1:{server.server_address[1]}/silent/train-labels-idx1-ubyte.gz"
    spec = _files.DatasetSpec("Toy", (_files.RemoteFile("labels.gz", url, "0" * 64),))
    started = time.monotonic()
    with pytest.raises(DatasetNotFoundError) as caught:
        _files.locate(spec, downloader=lambda u, out: _files.http_download(u, out, timeout=0.5))
    assert time.monotonic() - started < 10, "the 0.5 s timeout was not applied"
    assert "timed out" in str(caught.value)
    assert files_in(cache) == []


def test_interrupted_download_leaves_no_partial_file(server, cache, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) in the middle of a transfer: the temporary goes too."""
    use_server(monkeypatch, server, {})

    def interrupted(url, out):
        out.write(b"the first bytes")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _files.locate(fashion_mnist.SPEC, downloader=interrupted)
    assert files_in(cache) == []


# --- damaged files already in the cache -----------------------------------------------
def fill_cache(cache):
    directory = cache / "fashion-mnist"
    directory.mkdir(parents=True)
    for name, data in CONTENT.items():
        (directory / name).write_bytes(data)
    return directory


@pytest.mark.parametrize("damage", ["truncated-gzip", "truncated-idx", "too-long", "html-page", "empty"])
def test_damaged_idx_in_cache_is_named(cache, damage):
    directory = fill_cache(cache)
    path = directory / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(CONTENT[path.name])
    path.write_bytes({
        "truncated-gzip": CONTENT[path.name][:-100],
        "truncated-idx": gzip.compress(raw[:-28]),
        "too-long": gzip.compress(raw + bytes(5)),
        "html-page": b"<html><body>Rate limit exceeded</body></html>",
        "empty": b"",
    }[damage])
    with pytest.raises(ValueError) as caught:
        fashion_mnist.load_data()
    message = str(caught.value)
    assert str(path) in message
    assert any(word in message for word in ("truncated", "too long", "damaged", "not an IDX", "too short")), message


def test_image_and_label_files_of_different_lengths(cache):
    directory = fill_cache(cache)
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(idx_gz(LABELS[:39], 0x801))
    with pytest.raises(ValueError) as caught:
        fashion_mnist.load_data()
    assert "40 images" in str(caught.value) and "39 labels" in str(caught.value)


@pytest.mark.parametrize("damage", [
    "truncated", "missing-array",
    "not-a-zip",
])
def test_damaged_npz_in_cache_is_named(cache, damage):
    cache.mkdir(parents=True)
    path = cache / "mnist.npz"
    np.savez(path, x_train=IMAGES, y_train=LABELS, x_test=IMAGES[:7], y_test=LABELS[:7])
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "missing-array":
        np.savez(path, x_train=IMAGES, y_train=LABELS)
    else:
        path.write_bytes(b"GIF89a" + bytes(50))
    with pytest.raises(ValueError) as caught:
        mnist.load_data()
    assert str(path) in str(caught.value)
