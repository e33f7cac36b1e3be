"""How ``TextVectorization`` turns strings into tokens, as Keras 2 does.

Three steps, each a choice of the layer::

    "The cat; sat!"  --standardize-->  "the cat sat"
                     --split-------->  ["the", "cat", "sat"]
                     --ngrams=2----->  ["the", "cat", "sat", "the cat", "cat sat"]

standardize
    "lower_and_strip_punctuation" (the default), "lower", "strip_punctuation",
    None, or your function.  Keras 2 lowercases the ASCII letters A-Z only
    ("ÉCOLE" becomes "École") and strips ASCII punctuation only
    (``string.punctuation``: "«", "…" and "—" stay), and so does minidl.
split
    "whitespace" (the default: runs of the ASCII spaces `` \\t\\n\\v\\f\\r``; a
    no-break space does not split), "character" (one token per Unicode
    character), None (the whole string is one token), or your function.
ngrams
    ``n`` gives the 1-, 2-, ..., n-grams, a tuple the widths it lists; the
    tokens of an n-gram are joined by one space, all 1-grams first, then all
    2-grams, and so on.

Your own functions work on a whole batch, as Keras's do: ``standardize``
receives a NumPy array of Python strings (dtype object, shape ``(batch,)``)
and returns one string per row; ``split`` receives that array standardized
and returns one list of tokens per row.  (Keras gives them TensorFlow string
tensors, so a function written with ``tf.strings`` must be rewritten with
Python's string methods, for example
``lambda texts: [t.lower().replace("<br />", " ") for t in texts]``.)
"""

from __future__ import annotations

import re

import numpy as np

STANDARDIZE_CHOICES = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT_CHOICES = ("whitespace", "character")

# Keras 2's DEFAULT_STRIP_REGEX (",-." is the range of the three characters , - .)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile("[ \t\n\v\f\r]+")


def as_strings(values, who, encoding="utf-8"):
    """``values`` (a string, a list of them, an array of str, bytes or objects)
    as a NumPy array of Python strings (dtype object), its shape kept; bytes are
    decoded with ``encoding``.  Anything else is a TypeError naming ``who``."""
    if isinstance(values, (str, bytes)):
        array = np.empty((), dtype=object)
        array[()] = values
    else:
        try:
            array = np.array(values, dtype=object)
        except ValueError:
            raise TypeError(f"{who} takes strings in a rectangular array; converting "
                            f"{type(values).__name__} failed (rows of different lengths?).") from None
    flat = array.reshape(-1)
    for i, value in enumerate(flat):
        if isinstance(value, (bytes, np.bytes_)):
            flat[i] = bytes(value).decode(encoding)
        elif isinstance(value, str):
            flat[i] = str(value)
        else:
            raise TypeError(
                f"{who} takes strings, received {type(value).__name__} {value!r} (in an array of "
                f"shape {array.shape}). Convert numbers to text first, or feed them to a layer "
                "that takes numbers."
            )
    return flat.reshape(array.shape)


def string_array(strings):
    """A list of strings as a 1-D array of dtype object (``np.array`` would make it str_)."""
    array = np.empty(len(strings), dtype=object)
    array[:] = strings
    return array


def standardize_texts(texts, standardize, who):
    """The 1-D array of strings ``texts`` standardized (see the module docstring)."""
    if standardize is None:
        return texts
    if callable(standardize):
        return _own_result(standardize(texts), texts, "standardize", who)
    if standardize in ("lower", "lower_and_strip_punctuation"):
        texts = string_array([text.translate(_ASCII_LOWER) for text in texts])
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        texts = string_array([_PUNCTUATION.sub("", text) for text in texts])
    return texts


def split_texts(texts, split, who):
    """One list of tokens per string of ``texts`` (see the module docstring)."""
    if split is None:
        return [[text] if text else [] for text in texts]
    if split == "character":
        return [list(text) for text in texts]
    if split == "whitespace":
        return [[token for token in _WHITESPACE.split(text) if token] for text in texts]
    tokens = split(texts)
    if not isinstance(tokens, (list, tuple, np.ndarray)) or len(tokens) != len(texts):
        raise ValueError(f"{who}: split function {_name(split)} must return one list of tokens "
                         f"per string ({len(texts)}), received {_preview(tokens)}.")
    return [list(as_strings(row, f"{who}: the tokens split returned").reshape(-1))
            for row in tokens]


def with_ngrams(tokens, widths):
    """The n-grams of one list of tokens, for each width in ``widths`` in turn
    (None: the tokens themselves)."""
    if widths is None:
        return tokens
    grams = []
    for n in widths:
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def _own_result(result, texts, what, who):
    strings = as_strings(result, f"{who}: the {what} function's result")
    if strings.ndim == 2 and strings.shape[1] == 1:
        strings = strings[:, 0]
    if strings.shape != texts.shape:
        raise ValueError(f"{who}: the {what} function must return one string per input "
                         f"string (shape {texts.shape}), received shape {strings.shape}.")
    return strings


def _name(function):
    return getattr(function, "__name__", repr(function))


def _preview(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
