"""minidl.utils.get_file: Keras 2's cached download, its hash checks, and safe extraction.

No network: ``downloader=`` hands over the bytes a server would send.
"""

import hashlib
import io
import tarfile
import warnings
import zipfile

import pytest

from minidl.utils import get_file, np_utils, to_categorical
from minidl.utils.data_utils import extract_archive
from minidl.utils.file_checks import FileFormatError

PAYLOAD = b"minidl test payload\n" * 100
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class Server:
    def __init__(self, payload=PAYLOAD):
        self.payload, self.calls = payload, 0

    def __call__(self, url, out):
        self.calls += 1
        out.write(self.payload)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    return tmp_path / "home"


def test_downloads_once_into_the_minidl_cache_and_checks_sha256(home):
    server = Server()
    path = get_file("data.bin", origin="http://example.invalid/data.bin", file_hash=SHA256, downloader=server)
    assert path == str(home / ".minidl" / "datasets" / "data.bin")
    assert open(path, "rb").read() == PAYLOAD
    assert get_file("data.bin", origin="http://x/data.bin", file_hash=SHA256, downloader=server) == path
    assert server.calls == 1


def test_md5_and_the_file_name_from_the_origin(tmp_path):
    server = Server()
    path = get_file(origin="http://example.invalid/files/data.bin?x=1", md5_hash=MD5,
                    cache_dir=tmp_path / "cache", cache_subdir="models", downloader=server)
    assert path == str(tmp_path / "cache" / "models" / "data.bin")


def test_a_wrong_hash_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="corrupted"):
        get_file("data.bin", origin="http://x/data.bin", file_hash="0" * 64, cache_dir=tmp_path,
                 downloader=Server())
    assert not any((tmp_path / "datasets").iterdir())


def test_a_cached_file_with_the_wrong_hash_is_downloaded_again(tmp_path, capsys):
    stale = tmp_path / "datasets" / "data.bin"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    server = Server()
    get_file("data.bin", origin="http://x/data.bin", file_hash=SHA256, cache_dir=tmp_path, downloader=server)
    assert server.calls == 1 and stale.read_bytes() == PAYLOAD
    assert "downloaded again" in capsys.readouterr().out


def test_files_keras_already_downloaded_are_used(home):
    kept = home / ".keras" / "datasets" / "data.bin"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(PAYLOAD)
    server = Server()
    assert get_file("data.bin", origin="http://x/data.bin", file_hash=SHA256, downloader=server) == str(kept)
    assert server.calls == 0


def test_minidl_data_is_the_download_target(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    path = get_file("data.bin", origin="http://x/data.bin", downloader=Server())
    assert path == str(tmp_path / "data" / "data.bin")


def _tar_gz(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name, data=b"hello"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_untar_and_extract(tmp_path):
    payload = _tar_gz([_file("corpus/a.txt"), _file("corpus/b/c.txt", b"c")])
    folder = get_file("corpus.tar.gz", origin="http://x/corpus.tar.gz", untar=True, cache_dir=tmp_path,
                      downloader=Server(payload))
    assert folder == str(tmp_path / "datasets" / "corpus")
    assert (tmp_path / "datasets" / "corpus" / "b" / "c.txt").read_bytes() == b"c"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("z/one.txt", "1")
    path = get_file("z.zip", origin="http://x/z.zip", extract=True, cache_dir=tmp_path,
                    downloader=Server(buffer.getvalue()))
    assert path.endswith("z.zip") and (tmp_path / "datasets" / "z" / "one.txt").read_text() == "1"


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _device(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info, None


@pytest.mark.parametrize("members", [
    [_file("ok.txt"), _file("../escaped.txt")],
    [_file("/etc/escaped.txt")],
    [_link("inside/link", "../../escaped.txt")],
    [_link("link", "/etc/passwd")],
    [_link("hard", "../escaped.txt", tarfile.LNKTYPE)],
    [_device("dev/zero")],
    [_file("twice.txt"), _file("twice.txt", b"second")],
], ids=["dotdot", "absolute", "symlink-out", "symlink-absolute", "hardlink-out", "device", "duplicate"])
def test_hostile_tar_archives_are_refused_and_write_nothing(tmp_path, members):
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(_tar_gz(members))
    target = tmp_path / "out"
    with pytest.raises(FileFormatError, match="nothing was extracted"):
        extract_archive(archive, target)
    assert not (tmp_path / "escaped.txt").exists()
    assert not target.exists() or not any(target.iterdir())


def test_hostile_zip_archives_are_refused(tmp_path):
    for names in (["../escaped.txt"], ["/abs.txt"], ["c:/x.txt"], ["same.txt", "same.txt"]):
        path = tmp_path / "bad.zip"
        with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            for name in names:
                archive.writestr(name, "x")
        with pytest.raises(FileFormatError):
            extract_archive(path, tmp_path / "out")
        assert not (tmp_path / "escaped.txt").exists()


def test_links_inside_the_archive_are_kept_as_copies(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(_tar_gz([_file("d/a.txt", b"A"), _link("d/alias.txt", "a.txt")]))
    assert extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "alias.txt").read_bytes() == b"A"
    assert not extract_archive(tmp_path / "ok.tar.gz", tmp_path / "out", "zip")  # not a zip


def test_bad_arguments():
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="not a path"):
        get_file("../x", origin="http://x/x")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x", origin="http://x/x", hash_algorithm="sha1")


def test_np_utils_is_keras_2s_path():
    assert np_utils.to_categorical is to_categorical
