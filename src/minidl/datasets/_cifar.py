"""What CIFAR-10 and CIFAR-100 share: finding the batch files, and reading them without running code.

The CIFAR files are Python pickles: dictionaries holding a (N, 3072) uint8 array
``data`` (each row 1024 red, 1024 green, then 1024 blue values, row by row) and
a list of labels. Plain ``pickle.load`` would run whatever a crafted file asks
for, so ``read_batch`` uses an unpickler that knows five names only: NumPy's
array rebuilders (``_reconstruct``, ``ndarray``, ``dtype``) and ``_codecs.encode``
(how a pickle spells bytes). Anything else is a ``FileFormatError`` naming the
file. The file is read whole first (its size bounded), so a declared length
can never make the unpickler allocate more than the file holds.

Where the files are looked for, in order: ``path=``; the extracted folder
(``cifar-10-batches-py``, as Keras leaves it) in ``$MINIDL_DATA``,
``~/.minidl/datasets``, ``~/.keras/datasets``; an archive there (Keras's
``cifar-10-batches-py.tar.gz`` or the original ``cifar-10-python.tar.gz``),
extracted safely; then the archive is downloaded (SHA-256 checked) into
``$MINIDL_DATA`` or ``~/.minidl/datasets`` and extracted.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minidl.datasets import _files
from minidl.utils.file_checks import FileFormatError

MAX_FILE_BYTES = 256 << 20  # the largest CIFAR file (CIFAR-100's train) is 155 MB
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


@dataclass(frozen=True)
class CifarSpec:
    title: str
    folder: str          # the extracted folder's name
    archives: tuple      # accepted archive names; the first is the download's
    url: str
    sha256: str
    train: tuple         # batch file names
    test: tuple
    classes: dict        # label key -> number of classes


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the file asks for {module}.{name}, which a CIFAR batch never holds")


def read_batch(path, label_key, classes):
    """``(x (N, 32, 32, 3) uint8, labels (N,) uint8)`` from one CIFAR batch file."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFormatError(f"{path}: {size} bytes, more than any CIFAR batch file ({MAX_FILE_BYTES}).")
    try:
        batch = _ArraysOnly(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except Exception as error:  # every malformed pickle: one error naming the file
        raise FileFormatError(f"{path} is not a CIFAR batch file: {error}") from None
    if not isinstance(batch, dict):
        raise FileFormatError(f"{path} is not a CIFAR batch file: it holds a {type(batch).__name__}, not a dict.")
    batch = {k.decode("utf8", "replace") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise FileFormatError(f"{path}: 'data' must be a (N, 3072) uint8 array.")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise FileFormatError(f"{path}: {label_key!r} must be a list of integers.") from None
    if labels.shape != (len(data),) or (labels.size and (labels.min() < 0 or labels.max() >= classes)):
        raise FileFormatError(f"{path}: {label_key!r} must hold {len(data)} labels in 0..{classes - 1}.")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.uint8)


def load(spec, label_key, path=None, download=True, downloader=None):
    """``(x_train, y_train), (x_test, y_test)`` as Keras gives them: labels (N, 1) uint8."""
    folder = _find_folder(spec, path, download, downloader)
    classes = spec.classes[label_key]
    splits = []
    for names in (spec.train, spec.test):
        parts = [read_batch(folder / name, label_key, classes) for name in names]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts]).reshape(-1, 1)
        splits.append((np.ascontiguousarray(x), y))
    return tuple(splits)


def _holds_batches(folder, spec):
    return all((folder / name).is_file() for name in spec.train + spec.test)


def _find_folder(spec, path, download, downloader):
    from minidl.utils.data_utils import extract_archive

    if path is not None:
        path = Path(path).expanduser()
        for candidate in (path, path / spec.folder):
            if candidate.is_dir() and _holds_batches(candidate, spec):
                return candidate
        if path.is_file():
            extract_archive(path, path.parent)
            if _holds_batches(path.parent / spec.folder, spec):
                return path.parent / spec.folder
        raise _files.DatasetNotFoundError(_message(spec, [path], "you passed path= explicitly"))
    roots = _files.data_dirs()
    for root in roots:
        if _holds_batches(root / spec.folder, spec):
            return root / spec.folder
    target = roots[0]
    for root in roots:
        for name in spec.archives:
            if (root / name).is_file():
                extract_archive(root / name, target)
                if _holds_batches(target / spec.folder, spec):
                    return target / spec.folder
    if not download:
        raise _files.DatasetNotFoundError(_message(spec, roots, "downloading was not allowed"))
    try:
        archive = _files.fetch(spec.url, target / spec.archives[0], spec.sha256, downloader=downloader)
    except OSError as error:
        raise _files.DatasetNotFoundError(
            _message(spec, roots, f"download failed: {_files._one_line(error)}")) from None
    extract_archive(archive, target)
    if not _holds_batches(target / spec.folder, spec):
        raise FileFormatError(f"{archive} does not hold the {spec.title} batch files in {spec.folder}/.")
    return target / spec.folder


def _message(spec, searched, reason):
    places = "\n".join(f"  {p}" for p in searched)
    return (f"{spec.title} not found. Looked for the folder {spec.folder}/ or the archive "
            f"{' or '.join(spec.archives)} in:\n{places}\n"
            f"To get it: download {spec.url}\n  into $MINIDL_DATA or ~/.minidl/datasets "
            f"(or pass its folder: load_data(path=...))\n({reason})")
