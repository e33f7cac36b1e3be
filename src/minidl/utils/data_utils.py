"""``get_file``: Keras 2's download-once cache for data files, with a hash check and safe extraction.

    path = minidl.utils.get_file("aclImdb_v1.tar.gz", origin=URL, file_hash=SHA256, extract=True)

Where the file is looked for, then cached (the data-set search path of
``minidl.datasets``): with ``cache_dir`` given, ``cache_dir/cache_subdir`` only;
otherwise ``$MINIDL_DATA`` (when set and ``cache_subdir`` is "datasets"),
``~/.minidl/<cache_subdir>``, then ``~/.keras/<cache_subdir>`` (what Keras
downloaded before). A file found with the wrong hash is downloaded again. A
download goes to the first of these places, through a temporary file that is
renamed into place only when complete and, if ``file_hash`` is given, matching
it (SHA-256 for a 64-digit hash, MD5 for a 32-digit one, or ``hash_algorithm``).

Extracting (``extract=True``, or ``untar=True`` for Keras 1's spelling) accepts
tar (plain, gz, bz2, xz) and zip archives and refuses an archive with any member
that would land outside the target folder (an absolute name, ``..``, a link
pointing out) or that is not a plain file or folder (devices, FIFOs): nothing of
such an archive is written. Members are extracted into a temporary folder first
and moved into place, so a failure leaves nothing half-extracted.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.parse
import zipfile
from pathlib import Path, PurePosixPath

from minidl.datasets import _files
from minidl.utils.file_checks import FileFormatError

ARCHIVE_FORMATS = ("tar", "zip")


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False, archive_format="auto",
             cache_dir=None, downloader=None):
    """The local path of ``fname``, downloaded from ``origin`` if it is not cached yet.

    Keras 2's arguments (see the module docstring). Returns the file's path;
    with ``untar=True``, the path of the folder it was extracted to (the name
    without ``.tar.gz``). ``downloader(url, out)`` replaces the HTTP download
    (tests use it).
    """
    if origin is None:
        raise ValueError('get_file: please specify the "origin" argument (the URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _algorithm(hash_algorithm, file_hash)
    fname = os.fspath(fname) if fname is not None else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"get_file: cannot take a file name from the origin {origin!r}; pass fname=.")
    if os.path.basename(fname) != fname or fname in (".", ".."):
        raise ValueError(f"get_file: fname must be a file name, not a path: {fname!r}.")
    untar_name = None
    if untar:
        untar_name = fname[: -len(".tar.gz")] if fname.endswith(".tar.gz") else fname
        fname = untar_name + ".tar.gz"

    places = _cache_dirs(cache_dir, cache_subdir)
    path = _cached(places, fname, file_hash, algorithm)
    if path is None:
        path = places[0] / fname
        try:
            _files.fetch(origin, path, file_hash, downloader=downloader, algorithm=algorithm)
        except ValueError as error:
            raise ValueError(f"get_file: incomplete or corrupted file detected. {error}") from None

    if untar:
        target = path.parent / untar_name
        if not target.exists():
            extract_archive(path, path.parent, "tar")
        return str(target)
    if extract:
        extract_archive(path, path.parent, archive_format)
    return str(path)


def _algorithm(hash_algorithm, file_hash):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', received {hash_algorithm!r}.")
    return "sha256" if file_hash is None or len(file_hash) == 64 else "md5"


def _cache_dirs(cache_dir, cache_subdir):
    if cache_dir is not None:
        return [Path(cache_dir).expanduser() / cache_subdir]
    places = []
    if os.environ.get("MINIDL_DATA") and cache_subdir == "datasets":
        places.append(Path(os.environ["MINIDL_DATA"]).expanduser())
    home = Path.home()
    return places + [home / ".minidl" / cache_subdir, home / ".keras" / cache_subdir]


def _cached(places, fname, file_hash, algorithm):
    """The first regular file named ``fname`` in ``places`` that matches ``file_hash``, or None."""
    for place in places:
        candidate = place / fname
        if candidate.is_file():
            if file_hash is None or _files.file_digest(candidate, algorithm) == file_hash.lower():
                return candidate
            print(f"A local file was found at {candidate}, but its {algorithm} hash does not match "
                  f"{file_hash}: it is incomplete or outdated, so it will be downloaded again.")
    return None


# --- extraction ---------------------------------------------------------------------------
def extract_archive(path, target, archive_format="auto"):
    """Extract the tar or zip archive ``path`` into the folder ``target``, safely (see the
    module docstring). Returns True if it was an archive of an accepted format."""
    path, target = Path(path), Path(target)
    formats = ARCHIVE_FORMATS if archive_format in ("auto", None) else (
        (archive_format,) if isinstance(archive_format, str) else tuple(archive_format))
    for name in formats:
        if name not in ARCHIVE_FORMATS:
            raise ValueError(f"extract_archive: archive_format must be 'auto', 'tar' or 'zip', received {name!r}.")
        if name == "tar" and tarfile.is_tarfile(path):
            with tarfile.open(path) as archive:
                members = archive.getmembers()
                _check_tar_members(members, path)
                _extract_via_temporary(target, lambda folder: _extract_tar(archive, members, folder))
            return True
        if name == "zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                _check_names([info.filename for info in archive.infolist()], path)
                _extract_via_temporary(target, archive.extractall)
            return True
    return False


def _check_names(names, path):
    seen = set()
    for name in names:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if not parts or parts[0] == "/" or ":" in parts[0] or ".." in parts:
            raise FileFormatError(f"{path}: the archive member {name!r} would be written outside the "
                                  "target folder; nothing was extracted.")
        key = "/".join(parts)
        if key in seen:
            raise FileFormatError(f"{path}: the archive holds {name!r} twice; nothing was extracted.")
        seen.add(key)


def _check_tar_members(members, path):
    _check_names([m.name for m in members], path)
    for member in members:
        if member.issym() or member.islnk():
            link = PurePosixPath(member.linkname)
            base = PurePosixPath(member.name).parent if member.issym() else PurePosixPath(".")
            resolved = (base / link).parts
            depth = 0
            for part in resolved:
                depth += -1 if part == ".." else (0 if part == "." else 1)
                if depth < 0 or link.is_absolute():
                    raise FileFormatError(f"{path}: the link {member.name!r} points outside the target "
                                          f"folder ({member.linkname!r}); nothing was extracted.")
        elif not (member.isfile() or member.isdir()):
            raise FileFormatError(f"{path}: the member {member.name!r} is a device or FIFO, not a file or "
                                  "a folder; nothing was extracted.")


def _extract_tar(archive, members, folder):
    for member in members:
        if member.isdir():
            (folder / member.name).mkdir(parents=True, exist_ok=True)
        elif member.isfile():
            destination = folder / member.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)
        else:  # a link checked to stay inside: made as a copy, as on every OS
            source = (folder / member.name).parent / member.linkname if member.issym() else folder / member.linkname
            destination = folder / member.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_file():
                shutil.copyfile(source, destination)


def _extract_via_temporary(target, extract):
    """Extract into a temporary folder inside ``target``, then move each entry into place."""
    target.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=target, prefix=".extracting-"))
    try:
        extract(folder)
        for entry in folder.iterdir():
            destination = target / entry.name
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            elif destination.exists() or destination.is_symlink():
                destination.unlink()
            os.replace(entry, destination)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
