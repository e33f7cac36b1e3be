"""Finding data set files on disk, and downloading them when they are nowhere.

Where a data set is looked for, in order (the first directory that holds every
file wins):

1. ``path=`` given to ``load_data`` (then nothing else is tried);
2. the directory named by ``$MINIDL_DATA``;
3. ``~/.minidl/datasets``;
4. ``~/.keras/datasets`` (where Keras keeps what it downloaded);
5. system directories of the data set, e.g. Debian's
   ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``).

In 2-4 a file is looked for under the data set's sub-directory (Keras's layout,
``fashion-mnist/train-images-idx3-ubyte.gz``) and directly in the directory.

If nothing is found the files are downloaded from the data set's own address
into ``$MINIDL_DATA`` (or ``~/.minidl/datasets``). A download goes to a
temporary file in the target directory, is checked against its known SHA-256,
flushed to disk, and only then renamed into place (``os.replace`` is atomic),
so a broken transfer or a wrong file never leaves a file behind.

Offline with nothing found, ``DatasetNotFoundError`` (a ``FileNotFoundError``)
says which files are missing, lists every place searched and how to fill one,
and ends with why nothing was downloaded, in one line. It is raised ``from
None``: a notebook shows that message alone, not the socket and urllib
tracebacks that led to it.

Files found on disk are not hashed: Debian, for one, re-compresses the gzip
files, so their SHA-256 differs from the download's while the data inside is
the same. The readers' own checks (magic numbers, sizes, matching counts)
catch a truncated or foreign file instead.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from minidl.utils.file_checks import FileFormatError

_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are in none of the searched places and could not be downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its name, where it comes from, and its SHA-256."""

    name: str
    url: str
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """What a loader needs to find or fetch its files.

    ``subdir`` is the data set's folder inside a data directory ("" for a
    single file such as ``mnist.npz``); ``system_dirs`` are extra read-only
    places (distribution packages); ``hints`` are extra ways to get the files,
    shown in the not-found message.
    """

    title: str
    files: tuple
    subdir: str = ""
    system_dirs: tuple = ()
    hints: tuple = field(default=())


def data_dirs():
    """The user data directories, in search order: $MINIDL_DATA, ~/.minidl/datasets, ~/.keras/datasets."""
    dirs = []
    if os.environ.get("MINIDL_DATA"):
        dirs.append(Path(os.environ["MINIDL_DATA"]).expanduser())
    home = Path.home()
    dirs += [home / ".minidl" / "datasets", home / ".keras" / "datasets"]
    return dirs


def download_dir(spec):
    """Where downloads go: ``$MINIDL_DATA`` if set, else ``~/.minidl/datasets``, plus the sub-directory."""
    return data_dirs()[0] / spec.subdir


def candidate_dirs(spec):
    """Every directory searched for ``spec``'s files, in order."""
    candidates = []
    for root in data_dirs():
        if spec.subdir:
            candidates.append(root / spec.subdir)
        candidates.append(root)
    candidates += [Path(d) for d in spec.system_dirs]
    return candidates


def find_in(directory, spec):
    """``{name: path}`` when ``directory`` holds every file of ``spec`` (gzipped or not), else None."""
    found = {}
    for remote in spec.files:
        for name in _accepted_names(remote.name):
            candidate = Path(directory) / name
            if candidate.is_file():
                found[remote.name] = candidate
                break
        else:
            return None
    return found


def locate(spec, path=None, download=True, downloader=None):
    """Return ``{file name: Path}`` for every file of ``spec``, searching then downloading.

    ``path`` is a directory holding the files, or (for a one-file data set)
    the file itself. ``downloader(url, out)`` writes the bytes at ``url`` into
    the binary file ``out``; by default ``http_download``.
    """
    if path is not None:
        return _locate_explicit(spec, Path(path).expanduser())
    searched = candidate_dirs(spec)
    for directory in searched:
        found = find_in(directory, spec)
        if found:
            return found
    if not download:
        raise DatasetNotFoundError(_not_found_message(spec, searched, reason="downloading was not allowed"))
    target = download_dir(spec)
    try:
        for remote in spec.files:
            destination = target / remote.name
            if not destination.is_file():
                fetch(remote.url, destination, remote.sha256, downloader=downloader)
    except (OSError, http.client.HTTPException) as error:
        reason = f"download failed: {remote.name}: {_one_line(error)}"
        raise DatasetNotFoundError(_not_found_message(spec, searched, reason)) from None
    return {remote.name: target / remote.name for remote in spec.files}


def fetch(url, destination, sha256, downloader=None, algorithm="sha256"):
    """Download ``url`` to ``destination`` atomically, checking its SHA-256.

    Nothing appears at ``destination`` unless the whole file arrived and its
    digest matched; the temporary file is removed on any failure.
    (``utils.get_file`` also passes ``algorithm="md5"``, or ``sha256=None``
    for a file with no known digest.)
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    download = downloader or http_download
    fd, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            download(url, out)
            out.flush()
            os.fsync(out.fileno())
        # (Keras publishes only an MD5 for a few small files, such as the word index
        # JSON files: a 32-digit digest is one, as Keras's get_file takes it)
        if sha256 is not None and len(sha256) == 32:
            algorithm = "md5"
        digest = file_digest(temporary, algorithm)
        if sha256 is not None and digest != sha256.lower():
            raise ValueError(
                f"The file downloaded from {url} has {_ALGORITHM_NAMES[algorithm]} {digest}, expected {sha256}; "
                f"it was not saved. The transfer was damaged or the file changed upstream: try again, "
                f"or put a good copy at {destination}."
            )
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


_ALGORITHM_NAMES = {"sha256": "SHA-256", "md5": "MD5"}


def file_digest(path, algorithm="sha256"):
    """The hex digest of a file: ``algorithm`` is "sha256" or "md5"."""
    if algorithm not in _ALGORITHM_NAMES:
        raise ValueError(f"unknown hash algorithm {algorithm!r}; use 'sha256' or 'md5'.")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def http_download(url, out, timeout=30):
    """Write the bytes at ``url`` into ``out``, drawing a progress bar on stderr."""
    print(f"Downloading data from {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = _DownloadBar(total)
        received = 0
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            received += len(chunk)
            bar.update(received)
        bar.finish(received)
    if total is not None and received != total:
        raise http.client.IncompleteRead(b"", total - received)


class _DownloadBar:
    """``12345/29515 [=====>........]`` on stderr, redrawn at most ten times a second."""

    width = 30

    def __init__(self, total):
        self.total = total
        self.start = self.last = time.monotonic()

    def update(self, done, force=False):
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        if self.total:
            filled = min(self.width, self.width * done // self.total)
            arrow = ">" if filled < self.width else ""
            bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
            text = f"{done}/{self.total} [{bar}]"
        else:
            text = f"{done} bytes"
        sys.stderr.write(f"\r{text} - {now - self.start:.0f}s")
        sys.stderr.flush()

    def finish(self, done):
        self.update(done, force=True)
        sys.stderr.write("\n")


def _accepted_names(name):
    """A gzipped file may also be present uncompressed."""
    return (name, name[: -len(".gz")]) if name.endswith(".gz") else (name,)


def _locate_explicit(spec, path):
    """The files at ``path``: the file itself (a one-file data set), or in that folder.
    A device or a FIFO is refused: reading ``/dev/zero`` would never end."""
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise FileFormatError(
            f"{path} is not a regular file or a folder but a device, a FIFO or a socket; "
            "path= takes the data set's file or the folder that holds its files."
        )
    if path.is_file() and len(spec.files) == 1:
        return {spec.files[0].name: path}
    found = find_in(path, spec) if path.is_dir() else None
    if found is None and path.is_dir() and spec.subdir:
        found = find_in(path / spec.subdir, spec)
    if found is None:
        raise DatasetNotFoundError(_not_found_message(spec, [path], reason="you passed path= explicitly"))
    return found


def _not_found_message(spec, searched, reason):
    """What is missing, where it was looked for, how to get it; then ``reason``, one line."""
    names = ", ".join(remote.name for remote in spec.files)
    places = "\n".join(f"  {directory}" for directory in searched)
    if not os.environ.get("MINIDL_DATA"):
        places += "\n  ($MINIDL_DATA is not set)"
    urls = "\n".join(f"      {remote.url}" for remote in spec.files)
    hints = "".join(f"\n  - {hint}" for hint in spec.hints)
    return (
        f"{spec.title} not found. Looked for {names} in:\n{places}\n"
        f"To get the files:{hints}\n"
        f"  - {'or ' if spec.hints else ''}download\n{urls}\n"
        f"    into {download_dir(spec)}, or into the directory named by $MINIDL_DATA,\n"
        f"    or into any directory and pass it: load_data(path=...)\n"
        f"({reason})"
    )


def _one_line(error):
    """A download error as one short line, without urllib's ``<urlopen error ...>`` wrapper."""
    if type(error) is urllib.error.URLError:
        error = error.reason
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
