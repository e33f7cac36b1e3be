"""What Keras's ``imdb`` and ``reuters`` loaders do to the stored word indices.

The files hold each text as a list of word ranks: 1 is the most frequent word
of the corpus, 2 the next, and so on.  ``load_data`` then, as Keras does:

1. shuffles (``np.random.RandomState(seed)``, the same order as Keras's);
2. shifts every rank by ``index_from`` (3), freeing 0 for padding, 1 for
   ``start_char`` (put in front of every text) and 2 for ``oov_char``;
3. with ``maxlen`` (not None or 0), drops the texts of ``maxlen`` words or more
   (the start mark counts);
4. keeps the words of rank ``skip_top <= w < num_words`` and replaces the
   others by ``oov_char`` (or drops them when ``oov_char`` is None).  Without
   ``num_words`` (None or 0) the limit is the largest index seen, which (as in
   Keras) makes that one word out of vocabulary too.

The word index files (``imdb_word_index.json``) map each word to its rank
(before the shift of ``index_from``).
"""

from __future__ import annotations

import json

import numpy as np

from minidl.utils.file_checks import FileFormatError, read_regular

# the largest word index file read: Keras's are 1.6 MB (IMDB) and 0.5 MB (Reuters)
MAX_WORD_INDEX_BYTES = 1 << 26


def shift(xs, start_char, index_from):
    """Step 2: every rank + ``index_from``, ``start_char`` (unless None) in front."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def drop_long(xs, labels, maxlen):
    """Step 3: only the texts shorter than ``maxlen`` (all of them when it is None)."""
    if not maxlen:
        return xs, labels
    kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in kept], labels[kept]


def limit_vocabulary(xs, num_words, skip_top, oov_char):
    """Step 4: words outside ``skip_top <= w < num_words`` become ``oov_char`` (or go)."""
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(lists):
    """A 1-D object array holding ``lists`` (what Keras returns for texts)."""
    array = np.empty(len(lists), dtype=object)
    array[:] = lists
    return array


def check_arguments(who, num_words, skip_top, maxlen, seed):
    """Integers >= 0; ``num_words`` and ``maxlen`` None or 0 for no limit, ``seed`` None
    for a fresh shuffle each time (as Keras treats them)."""
    for name, value in (("num_words", num_words), ("maxlen", maxlen), ("skip_top", skip_top),
                        ("seed", seed)):
        if value is None and name != "skip_top":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(
                f"{who}: {name} must be {'' if name == 'skip_top' else 'None or '}"
                f"an integer >= 0, received {value!r}."
            )


def read_word_index(path):
    """``{word: rank}`` from a Keras word index JSON file, checked to be just that."""
    text = read_regular(path, MAX_WORD_INDEX_BYTES)
    if len(text) > MAX_WORD_INDEX_BYTES:
        raise FileFormatError(f"{path}: larger than a word index should be ({MAX_WORD_INDEX_BYTES} bytes).")
    try:  # (ValueError: bad UTF-8 or JSON, an int of 5000 digits; RecursionError: [[[[...)
        index = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise FileFormatError(f"{path}: not a JSON word index ({error}).") from None
    if not isinstance(index, dict) or not all(
            isinstance(word, str) and type(rank) is int for word, rank in index.items()):
        raise FileFormatError(f"{path}: a word index maps words to integer ranks; this file does not.")
    return index


def locate_file(title, default_name, url, digest, path, download, cache_dir=None):
    """The data set's file for Keras's ``path`` argument: a bare file name (the default)
    is searched for in the usual places (``minidl.datasets._files``), then downloaded
    under that name; an existing file or folder, or a path with folders, is used as given.
    With Keras's ``cache_dir``, a bare name is looked for in ``cache_dir/datasets`` only
    and downloaded there (as ``utils.get_file(..., cache_dir=...)``)."""
    from pathlib import Path

    from minidl.datasets._files import DatasetSpec, RemoteFile, locate

    given = Path(path).expanduser()
    explicit = given.exists() or len(given.parts) > 1
    name = default_name if explicit else given.name
    spec = DatasetSpec(title=title, files=(RemoteFile(name, url, digest),))
    if cache_dir is not None and not explicit:
        folder = Path(cache_dir).expanduser() / "datasets"
        if not (folder / name).is_file() and download:
            from minidl.utils.data_utils import get_file

            return Path(get_file(name, url, file_hash=digest, cache_dir=cache_dir))
        return locate(spec, path=folder, download=download)[name]
    return locate(spec, path=given if explicit else None, download=download)[name]
