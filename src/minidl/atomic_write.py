"""Writing a file so that a crash never leaves half of it: ``with replacing(path) as f:``.

Every file minidl writes for you (a saved model, a checkpoint, an ONNX export,
a backup of training, a picture) goes through ``replacing``:

1. the bytes go to a new temporary file in the same folder (``.<name>.<random>.tmp``);
2. when the ``with`` block ends without an error, the file is flushed to the disk
   (``os.fsync``) and renamed over ``path`` with ``os.replace``, which is atomic:
   anyone opening ``path`` sees the old file or the whole new one, never a mix;
3. on any error (Ctrl-C included) the temporary file is removed and ``path`` is
   untouched.

The temporary file is created like any new file (its permissions follow your
umask), and its name is cut short when ``path``'s name is so long that the
temporary name would pass the file system's limit.
"""

import contextlib
import os
import secrets
import sys

_RANDOM_CHARS = 8  # the random hex digits in a temporary name


@contextlib.contextmanager
def replacing(path, suffix=".tmp"):
    """Yield a binary file open for writing; on success it replaces ``path`` atomically.

    ``path``'s folder must exist.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = temporary_prefix(directory, os.path.basename(path), suffix)
    temporary = os.path.join(directory, f"{prefix}{secrets.token_hex(_RANDOM_CHARS // 2)}{suffix}")
    try:
        with open(temporary, "xb") as handle:  # "x": a new file, never someone else's
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_folder(directory)


def temporary_prefix(directory, name, suffix=".tmp"):
    """``.<name>.``, with ``name`` cut short enough that the whole temporary name (this
    prefix, the random digits, ``suffix``) fits the file system's limit, in bytes."""
    room = _name_max(directory) - len("..") - _RANDOM_CHARS - len(suffix)
    short = os.fsencode(name)[:room].decode(sys.getfilesystemencoding(), "ignore")
    return f".{short}."


def _name_max(directory):
    """The longest file name ``directory`` takes, in bytes: PC_NAME_MAX, else 255."""
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf on Windows
        return 255
    return limit if limit > 0 else 255  # -1: no limit that pathconf knows of


def _sync_folder(directory):
    """Make the rename itself durable (where the system lets a folder be fsynced)."""
    try:
        folder = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)
