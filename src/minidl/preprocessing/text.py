"""Turning texts into lists of word indices and into matrices: Keras 2's ``Tokenizer``.

A text becomes words by ``text_to_word_sequence``: lower-cased, punctuation
(``filters``) replaced by the separator, split on it, empty pieces dropped.

``Tokenizer.fit_on_texts`` counts every word, then numbers the words by how
often they occur, the most frequent first, from 1 (0 is left for padding; with
``oov_token`` that token takes 1). Words of equal count keep the order in which
they were first seen. ``num_words=N`` keeps the vocabulary but makes the
conversions use only the words numbered below N (the N - 1 most frequent).

``texts_to_matrix`` gives one row per text, one column per word index
(``num_words`` columns, or the vocabulary size + 1), with ``mode``:

    binary   1 where the word occurs
    count    how many times it occurs
    freq     count / number of words of the text
    tfidf    (1 + log count) * log(1 + documents / (1 + documents holding the word))

As in Keras, the result is float64 and column 0 stays 0.
"""

from __future__ import annotations

import collections
import hashlib
import json

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """``'This is a sample sentence.'`` -> ``['this', 'is', 'a', 'sample', 'sentence']``."""
    if not isinstance(input_text, str):
        raise TypeError(f"text_to_word_sequence: expected a string, received {type(input_text).__name__}.")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                  analyzer=None):
    """Each word of ``text`` as an index in [1, n), by hashing (collisions possible).

    ``hash_function="md5"`` is stable across runs; Python's ``hash`` (the default)
    is not, for strings.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word):
            return int(hashlib.md5(word.encode()).hexdigest(), 16)
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(text, filters, lower, split)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(input_text, n, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None):
    """Keras's ``one_hot``: ``hashing_trick`` with Python's ``hash``."""
    return hashing_trick(input_text, n, hash, filters, lower, split, analyzer)


class Tokenizer:
    """Keras 2's text tokenizer; see the module docstring for what it computes."""

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, analyzer=None, document_count=0, **kwargs):
        if "nb_words" in kwargs:  # Keras 1's name, which Keras 2 still accepts
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Tokenizer: unrecognized keyword arguments {sorted(kwargs)}.")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int)
                                      or num_words < 1):
            raise ValueError(f"Tokenizer: num_words must be a positive integer or None, received {num_words!r}.")
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.document_count = document_count
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    # --- learning the vocabulary ------------------------------------------------
    def _words(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens) and renumber them."""
        if isinstance(texts, str):
            raise TypeError("Tokenizer.fit_on_texts expects a list of texts, received one string; "
                            "wrap it in a list: fit_on_texts([text]).")
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for word in words:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(words):
                self.word_docs[word] += 1
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in by_count]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        for word, documents in self.word_docs.items():
            self.index_docs[self.word_index[word]] = documents

    def fit_on_sequences(self, sequences):
        """Count, for ``tfidf``, in how many sequences each index occurs."""
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1

    # --- texts -> indices -----------------------------------------------------------
    def texts_to_sequences_generator(self, texts):
        """Yield each text as a list of word indices (see ``texts_to_sequences``)."""
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            sequence = []
            for word in self._words(text):
                index = self.word_index.get(word)
                if index is not None and (not self.num_words or index < self.num_words):
                    sequence.append(index)
                elif oov_index is not None:
                    sequence.append(oov_index)
            yield sequence

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices. Words not in the vocabulary, or numbered
        ``num_words`` or more, are dropped, or become ``oov_token``'s index if it is set."""
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences):
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(index)
                if word is not None and (not self.num_words or index < self.num_words):
                    words.append(word)
                elif oov_index is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def sequences_to_texts(self, sequences):
        """The inverse of ``texts_to_sequences`` (words joined by spaces)."""
        return list(self.sequences_to_texts_generator(sequences))

    # --- matrices -------------------------------------------------------------------
    def texts_to_matrix(self, texts, mode="binary"):
        """(len(texts), num_words) float64; see the module docstring for the modes."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """(len(sequences), num_words) float64 from lists of word indices."""
        if mode not in MODES:
            raise ValueError(f"Tokenizer: unknown vectorization mode {mode!r}; use one of {MODES}.")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            counts = collections.Counter(j for j in sequence if j < width)
            for j, count in counts.items():
                if mode == "count":
                    x[row, j] = count
                elif mode == "freq":
                    x[row, j] = count / len(sequence)
                elif mode == "binary":
                    x[row, j] = 1
                else:  # tfidf
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(count)) * idf
        return x

    # --- saving ---------------------------------------------------------------------
    def get_config(self):
        """The settings and the counts, the dictionaries as JSON strings (as Keras writes them)."""
        return {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower,
            "split": self.split, "char_level": self.char_level, "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """A JSON string ``tokenizer_from_json`` reads back (``kwargs`` go to ``json.dumps``)."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """The ``Tokenizer`` that ``Tokenizer.to_json`` wrote (plain JSON: nothing is executed)."""
    try:
        config = dict(json.loads(json_string).get("config", {}))
        counts = {key: json.loads(config.pop(key)) for key in
                  ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise ValueError(f"tokenizer_from_json: not a Tokenizer's JSON ({error}).") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = collections.OrderedDict(counts["word_counts"])
    tokenizer.word_docs = collections.defaultdict(int, counts["word_docs"])
    tokenizer.index_docs = collections.defaultdict(int, {int(k): v for k, v in counts["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in counts["index_word"].items()}
    tokenizer.word_index = counts["word_index"]
    return tokenizer
