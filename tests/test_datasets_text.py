"""datasets.imdb and datasets.reuters: Keras's results on small files in Keras's format,
the search order and the download, and files that are never unpickled."""

import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from minidl.datasets import DatasetNotFoundError, _files, imdb, reuters
from minidl.utils.file_checks import FileFormatError


def texts(lists):
    array = np.empty(len(lists), dtype=object)
    array[:] = lists
    return array


IMDB = dict(x_train=texts([[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [3, 3, 3, 3, 3, 3]]),
            y_train=np.array([0, 1, 0, 1, 1]),
            x_test=texts([[2, 2], [11, 1, 3], [5]]), y_test=np.array([1, 0, 0]))
REUTERS = dict(x=texts([[1, 2], [3, 4, 5], [6], [7, 8, 9, 10], [2, 2, 2], [1], [5, 4],
                        [9, 9, 9, 9, 9, 9, 9]]), y=np.arange(8))


def write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home directory, no $MINIDL_DATA, no network."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)

    def no_network(url, out):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(_files, "http_download", no_network)
    return tmp_path / "home"


def as_lists(result):
    (x_train, y_train), (x_test, y_test) = result
    for x in (x_train, x_test):
        assert x.dtype == object and x.ndim == 1
    return [list(x) for x in x_train], y_train.tolist(), [list(x) for x in x_test], y_test.tolist()


# What tf_keras 2.21 returns for the same files (its get_file pointed at them).
@pytest.mark.parametrize("kwargs, expected", [
    ({}, ([[1, 7, 8], [1, 4, 5, 6], [1, 13], [1, 9, 10, 11, 12], [1, 6, 6, 6, 6, 6, 6]],
          [1, 0, 1, 0, 1], [[1, 2, 4, 6], [1, 5, 5], [1, 8]], [0, 1, 0])),
    ({"num_words": 9, "skip_top": 5, "maxlen": 6},
     ([[2, 7, 8], [2, 2, 5, 6], [2, 2], [2, 2, 2, 2, 2]], [1, 0, 1, 0],
      [[2, 2, 2, 6], [2, 5, 5], [2, 8]], [0, 1, 0])),
    ({"start_char": None, "index_from": 1, "oov_char": None, "num_words": 8},
     ([[5, 6], [2, 3, 4], [], [7], [4, 4, 4, 4, 4, 4]], [1, 0, 1, 0, 1],
      [[2, 4], [3, 3], [6]], [0, 1, 0])),
])
def test_imdb_as_keras(tmp_path, home, kwargs, expected):
    path = write_npz(tmp_path / "imdb.npz", IMDB)
    assert as_lists(imdb.load_data(path, **kwargs)) == expected


@pytest.mark.parametrize("kwargs, expected", [
    ({}, ([[1, 6, 7, 8], [1, 10, 11, 12, 2], [1, 8, 7], [1, 4, 5],
           [1, 12, 12, 12, 12, 12, 12, 12], [1, 9]], [1, 3, 6, 0, 7, 2],
          [[1, 5, 5, 5], [1, 4]], [4, 5])),
    ({"num_words": 8, "maxlen": 5, "test_split": 0.5, "seed": 1},
     ([[1, 2], [1, 6, 7, 2], [1, 2, 7]], [2, 1, 6], [[1, 4, 5], [1, 5, 5, 5], [1, 4]],
      [0, 4, 5])),
])
def test_reuters_as_keras(tmp_path, home, kwargs, expected):
    path = write_npz(tmp_path / "reuters.npz", REUTERS)
    assert as_lists(reuters.load_data(path, **kwargs)) == expected


def test_padded_for_a_model(tmp_path, home):
    from minidl.utils import pad_sequences

    (x_train, _), _ = imdb.load_data(write_npz(tmp_path / "imdb.npz", IMDB), num_words=10)
    padded = pad_sequences(x_train, maxlen=4)
    assert padded.shape == (5, 4) and padded.dtype == np.int32 and padded.max() < 10


def test_found_in_the_usual_places(tmp_path, home, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))
    write_npz(tmp_path / "data" / "imdb.npz", IMDB)
    write_npz(home / ".keras" / "datasets" / "reuters.npz", REUTERS)
    assert len(imdb.load_data()[0][0]) == 5
    assert len(reuters.load_data()[0][0]) == 6
    write_npz(home / ".keras" / "datasets" / "my_imdb.npz", IMDB)
    assert len(imdb.load_data("my_imdb.npz")[1][0]) == 3


def test_offline_and_nothing_found(home):
    with pytest.raises(DatasetNotFoundError, match="imdb.npz") as caught:
        imdb.load_data()
    assert "storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz" in str(caught.value)
    with pytest.raises(DatasetNotFoundError, match="reuters_word_index.json"):
        reuters.get_word_index(download=False)


def serve(monkeypatch, files):
    asked = []

    def download(url, out):
        asked.append(url)
        out.write(files[url])

    monkeypatch.setattr(_files, "http_download", download)
    return asked


def test_download_checks_the_published_sha256_then_numpy_reads_it(tmp_path, home, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", IMDB).read_bytes()
    monkeypatch.setattr(imdb, "SHA256", hashlib.sha256(payload).hexdigest())
    asked = serve(monkeypatch, {imdb.URL + "imdb.npz": payload})
    expected = as_lists(imdb.load_data(tmp_path / "served.npz"))  # read without pickle
    assert as_lists(imdb.load_data()) == expected                   # Keras's own: np.load
    assert asked == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"]
    assert (home / ".minidl" / "datasets" / "imdb.npz").read_bytes() == payload


def test_a_download_that_fails_the_check_leaves_nothing(tmp_path, home, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", REUTERS).read_bytes()
    serve(monkeypatch, {reuters.URL + "reuters.npz": payload})  # not Keras's file
    with pytest.raises(ValueError, match="SHA-256"):
        reuters.load_data()
    assert not (home / ".minidl" / "datasets" / "reuters.npz").exists()


def test_word_index_read_and_downloaded_with_keras_md5(tmp_path, home, monkeypatch):
    payload = json.dumps({"the": 1, "and": 2, "film": 19}).encode()
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", hashlib.md5(payload).hexdigest())
    serve(monkeypatch, {imdb.URL + "imdb_word_index.json": payload})
    assert imdb.get_word_index() == {"the": 1, "and": 2, "film": 19}
    serve(monkeypatch, {reuters.URL + "reuters_word_index.json": payload})
    with pytest.raises(ValueError, match="MD5"):
        reuters.get_word_index()
    (tmp_path / "bad.json").write_text('["not", "a", "dict"]')
    with pytest.raises(FileFormatError, match="bad.json"):
        imdb.get_word_index(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text('{"the": ')
    with pytest.raises(FileFormatError, match="broken.json"):
        reuters.get_word_index(tmp_path / "broken.json")
    for name, text in (("deep.json", "[" * 100_000), ("long.json", '{"the": ' + "9" * 5000 + "}")):
        (tmp_path / name).write_text(text)  # (a RecursionError, a ValueError of json.loads)
        with pytest.raises(FileFormatError, match=f"{name}: not a JSON word index"):
            imdb.get_word_index(tmp_path / name)


def test_label_names():
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:3] == ("cocoa", "grain", "veg-oil") and names[-1] == "lead"


def npy_bytes(array, protocol):
    """A .npy member holding ``array`` pickled with ``protocol``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, np.lib.format.header_data_from_array_1_0(array))
    pickle.dump(array, buffer, protocol=protocol)
    return buffer.getvalue()


def plain_npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write_members(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_numpy_writes_is_read(tmp_path, home, protocol):
    members = {"x.npy": npy_bytes(REUTERS["x"], protocol), "y.npy": plain_npy(REUTERS["y"])}
    path = write_members(tmp_path / "reuters.npz", members)
    assert as_lists(reuters.load_data(path)) == as_lists(
        reuters.load_data(write_npz(tmp_path / "plain" / "reuters.npz", REUTERS)))


class Planted:
    """Unpickling this would create a file: a file holding it must not be unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_planted_pickle_is_refused_and_never_run(tmp_path, home, protocol):
    marker = tmp_path / "ran"
    planted = texts([[1, 2], Planted(str(marker))])
    path = write_members(tmp_path / "reuters.npz", {"x.npy": npy_bytes(planted, protocol),
                                                    "y.npy": plain_npy(np.arange(2))})
    with pytest.raises(FileFormatError, match=r"reuters.npz: x.npy.*builtins.*open|io.*open"):
        reuters.load_data(path)
    assert not marker.exists()


@pytest.mark.parametrize("lists, words", [
    ([[1, 2], [1.5]], "other than lists of integers"),
    ([[1, 2], ["word"]], "other than lists of integers"),
    ([[1, 2], (3, 4)], "other than lists of integers"),
    ([[1, 2], [True]], "other than lists of integers"),
])
def test_arrays_holding_other_things_are_refused(tmp_path, home, lists, words):
    path = write_npz(tmp_path / "reuters.npz", {"x": texts(lists), "y": np.arange(2)})
    with pytest.raises(FileFormatError, match=words):
        reuters.load_data(path)


def test_damaged_and_foreign_files(tmp_path, home):
    with pytest.raises(FileFormatError, match="y should be a 1-D array of integers"):
        reuters.load_data(write_npz(tmp_path / "a" / "reuters.npz",
                                    {"x": REUTERS["x"], "y": np.ones(8)}))
    with pytest.raises(FileFormatError, match=r"x.npy should be a 1-D array of lists"):
        reuters.load_data(write_npz(tmp_path / "b" / "reuters.npz",
                                    {"x": np.ones((8, 2)), "y": np.arange(8)}))
    with pytest.raises(FileFormatError, match=r"arrays \['x_test', 'y_test'\] are missing"):
        imdb.load_data(write_npz(tmp_path / "c" / "imdb.npz",
                                 {"x_train": IMDB["x_train"], "y_train": IMDB["y_train"]}))
    (tmp_path / "d.npz").write_bytes(b"not a zip at all")
    with pytest.raises(FileFormatError, match="d.npz"):
        imdb.load_data(tmp_path / "d.npz")
    good = write_npz(tmp_path / "e" / "reuters.npz", REUTERS).read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(FileFormatError, match="cut.npz"):
        reuters.load_data(tmp_path / "cut.npz")
    with pytest.raises(ValueError, match="8 newswires but y 3"):
        reuters.load_data(write_npz(tmp_path / "f" / "reuters.npz",
                                    {"x": REUTERS["x"], "y": np.arange(3)}))


@pytest.mark.parametrize("call, error, match", [
    (lambda p: imdb.load_data(p, num_words=-1), ValueError, "num_words"),
    (lambda p: imdb.load_data(p, maxlen=-3), ValueError, "maxlen"),
    (lambda p: imdb.load_data(p, skip_top=1.5), ValueError, "skip_top"),
    (lambda p: imdb.load_data(p, maxlen=2), ValueError, "increase maxlen"),
    (lambda p: imdb.load_data(p, num_wrods=10), TypeError, "num_wrods"),
    (lambda p: reuters.load_data(p, test_split=1.5), ValueError, "test_split"),
])
def test_bad_arguments(tmp_path, home, call, error, match):
    write_npz(tmp_path / "imdb.npz", IMDB)
    with pytest.raises(error, match=match):
        call(tmp_path / "imdb.npz")


def test_keras_1_nb_words_is_num_words(tmp_path, home):
    path = write_npz(tmp_path / "imdb.npz", IMDB)
    assert as_lists(imdb.load_data(path, nb_words=9)) == as_lists(imdb.load_data(path, num_words=9))


# tf_keras 2.21 on the same files: num_words=0 and maxlen=0 mean no limit (its `if not
# num_words` / `if maxlen`), seed=None a fresh shuffle
def test_zero_num_words_and_maxlen_mean_no_limit_as_keras(tmp_path, home):
    path = write_npz(tmp_path / "imdb.npz", IMDB)
    everything = as_lists(imdb.load_data(path))
    assert as_lists(imdb.load_data(path, num_words=0)) == everything
    assert as_lists(imdb.load_data(path, maxlen=0)) == everything
    assert sorted(map(sorted, as_lists(imdb.load_data(path, seed=None))[0])) == sorted(
        map(sorted, everything[0]))
    with pytest.raises(ValueError, match="num_words"):
        imdb.load_data(path, num_words=-1)
    reuters_path = write_npz(tmp_path / "reuters.npz", REUTERS)
    assert as_lists(reuters.load_data(reuters_path, num_words=0, maxlen=0)) == as_lists(
        reuters.load_data(reuters_path))


def test_cache_dir_as_keras(tmp_path, home, monkeypatch):
    """Keras's cache_dir: the file is looked for in cache_dir/datasets, downloaded there."""
    cache = tmp_path / "cache"
    write_npz(cache / "datasets" / "reuters.npz", REUTERS)
    assert len(reuters.load_data(cache_dir=str(cache))[0][0]) == 6
    with pytest.raises(DatasetNotFoundError):
        imdb.load_data(cache_dir=str(cache), download=False)
    payload = write_npz(tmp_path / "served.npz", IMDB).read_bytes()
    monkeypatch.setattr(imdb, "SHA256", hashlib.sha256(payload).hexdigest())
    asked = serve(monkeypatch, {imdb.URL + "imdb.npz": payload})
    assert len(imdb.load_data(cache_dir=str(cache))[0][0]) == 5
    assert asked == [imdb.URL + "imdb.npz"]
    assert (cache / "datasets" / "imdb.npz").read_bytes() == payload
    assert not (home / ".minidl" / "datasets" / "imdb.npz").exists()


def test_the_bytes_numpy_unpickles_are_the_bytes_whose_sha256_was_checked(tmp_path, home,
                                                                           monkeypatch):
    """A file swapped for a planted one right after its hash was computed is not read
    again: NumPy loads the bytes that were hashed."""
    from minidl.datasets import _object_npz

    path = write_npz(tmp_path / "reuters.npz", REUTERS)
    expected = as_lists(reuters.load_data(path))  # (read without unpickling)
    monkeypatch.setattr(reuters, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    marker = tmp_path / "ran"
    planted = write_members(tmp_path / "planted.npz", {
        "x.npy": npy_bytes(texts([[1, 2], Planted(str(marker))]), 2),
        "y.npy": plain_npy(np.arange(2))}).read_bytes()
    real_sha256 = hashlib.sha256

    def sha256_then_swap(data):
        path.write_bytes(planted)  # (as another process could, between two reads)
        return real_sha256(data)

    monkeypatch.setattr(_object_npz.hashlib, "sha256", sha256_then_swap)
    assert as_lists(reuters.load_data(path)) == expected
    assert not marker.exists()


def test_a_folder_where_the_file_should_be_is_a_clear_error(tmp_path, home):
    from minidl.datasets import _object_npz

    (tmp_path / "imdb.npz").mkdir()
    with pytest.raises(FileFormatError, match="imdb.npz.*is a directory"):
        _object_npz.load_arrays(tmp_path / "imdb.npz", ("x_train",), ("y_train",), imdb.SHA256)
    with pytest.raises(DatasetNotFoundError, match="imdb.npz"):
        imdb.load_data(tmp_path / "imdb.npz")


# tf_keras 2.21 fails on max() of nothing here (or, with num_words, returns empty sets
# with float64 labels); imdb raises "Increase maxlen"
@pytest.mark.parametrize("num_words", [None, 5])
def test_reuters_maxlen_that_drops_every_newswire_is_refused(tmp_path, home, num_words):
    path = write_npz(tmp_path / "reuters.npz", REUTERS)
    with pytest.raises(ValueError, match="maxlen=2; increase maxlen"):
        reuters.load_data(path, maxlen=2, num_words=num_words)
    (x_train, _), (x_test, _) = reuters.load_data(path, maxlen=3)
    assert len(x_train) + len(x_test) == 2  # ([6] and [1], with the start mark)


def test_one_list_repeated_by_the_pickle_memo_is_refused_quickly(tmp_path, home):
    """20000 references to one list of 200000 words: 1.7 kB compressed, 4e9 words read
    (minidl took minutes and tens of GB before giving up)."""
    import time

    shared = [1] * 200_000
    x = np.empty(20_000, dtype=object)
    for i in range(len(x)):
        x[i] = shared
    path = tmp_path / "reuters.npz"
    np.savez_compressed(path, x=x, y=np.zeros(len(x), np.int64))
    start = time.monotonic()
    with pytest.raises(FileFormatError, match="reuters.npz: x.npy.*the same list more than once"):
        reuters.load_data(path)
    assert time.monotonic() - start < 20
