"""minidl.preprocessing.text: Keras 2's Tokenizer.

The figures were checked against tf_keras 2.21's Tokenizer on the same texts
(a script comparing word_index, texts_to_sequences, sequences_to_texts and
the four matrix modes for five settings gave identical JSON); here they are
worked out by hand from the rules in the module docstring.
"""

import math

import numpy as np
import pytest

from minidl import preprocessing
from minidl.preprocessing.text import Tokenizer, hashing_trick, text_to_word_sequence, tokenizer_from_json

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "mat mat MAT"]


def test_text_to_word_sequence():
    assert text_to_word_sequence("This is a sample sentence.") == ["this", "is", "a", "sample", "sentence"]
    assert text_to_word_sequence("A-b  c", filters="-", lower=False) == ["A", "b", "c"]
    with pytest.raises(TypeError, match="string"):
        text_to_word_sequence(["a list"])


def test_word_index_by_frequency_ties_in_first_seen_order():
    t = Tokenizer()
    t.fit_on_texts(TEXTS)
    # the: 3, mat: 4, cat/sat/on: 1 each, ...
    assert list(t.word_index.items())[:4] == [("mat", 1), ("the", 2), ("cat", 3), ("sat", 4)]
    assert t.word_index["homework"] == 9 and len(t.word_index) == 9
    assert t.index_word[1] == "mat"
    assert t.document_count == 3 and t.word_docs["the"] == 2 and t.word_counts["mat"] == 4
    assert t.texts_to_sequences(["the cat, unknown mat"]) == [[2, 3, 1]]
    assert t.sequences_to_texts([[2, 3, 1]]) == ["the cat mat"]


def test_num_words_and_oov_token():
    t = Tokenizer(num_words=3, oov_token="<OOV>")
    t.fit_on_texts(TEXTS)
    assert t.word_index["<OOV>"] == 1 and t.word_index["mat"] == 2 and t.word_index["the"] == 3
    # indices >= num_words (3) become the OOV index, as do unknown words
    assert t.texts_to_sequences(["the mat cat zebra"]) == [[1, 2, 1, 1]]
    assert t.sequences_to_texts([[2, 5]]) == ["mat <OOV>"]
    plain = Tokenizer(num_words=3)
    plain.fit_on_texts(TEXTS)
    assert plain.texts_to_sequences(["the mat cat zebra"]) == [[2, 1]]  # dropped
    assert len(plain.word_index) == 9  # the vocabulary is kept whole


def test_matrix_modes_as_keras_computes_them():
    t = Tokenizer(num_words=4)
    t.fit_on_texts(TEXTS)
    texts = ["the the mat cat", "dog"]
    np.testing.assert_array_equal(t.texts_to_matrix(texts, "binary"), [[0, 1, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(t.texts_to_matrix(texts, "count"), [[0, 1, 2, 1], [0, 0, 0, 0]])
    np.testing.assert_allclose(t.texts_to_matrix(texts, "freq"), [[0, 1 / 4, 2 / 4, 1 / 4], [0, 0, 0, 0]])
    tfidf = t.texts_to_matrix(texts, "tfidf")
    # mat: in 2 of 3 documents, once here; the: in 2 documents, twice; cat: in 1
    assert tfidf[0, 1] == pytest.approx(1 * math.log(1 + 3 / 3))
    assert tfidf[0, 2] == pytest.approx((1 + math.log(2)) * math.log(1 + 3 / 3))
    assert tfidf[0, 3] == pytest.approx(1 * math.log(1 + 3 / 2))
    assert tfidf.dtype == np.float64 and tfidf.shape == (2, 4)
    wide = Tokenizer()
    wide.fit_on_texts(TEXTS)
    assert wide.texts_to_matrix(TEXTS).shape == (3, 10)  # vocabulary + 1


def test_refusals():
    with pytest.raises(ValueError, match="Specify a dimension"):
        Tokenizer().texts_to_matrix(["a"])
    with pytest.raises(ValueError, match="tfidf"):
        Tokenizer(num_words=5).sequences_to_matrix([[1]], mode="tfidf")
    t = Tokenizer(num_words=5)
    with pytest.raises(ValueError, match="unknown vectorization mode"):
        t.sequences_to_matrix([[1]], mode="bag")
    with pytest.raises(TypeError, match="one string"):
        t.fit_on_texts("a text, not a list")
    with pytest.raises(ValueError, match="num_words"):
        Tokenizer(num_words=0)


def test_char_level_and_token_lists():
    t = Tokenizer(char_level=True)
    t.fit_on_texts(["abca"])
    assert t.word_index == {"a": 1, "b": 2, "c": 3}
    lists = Tokenizer()
    lists.fit_on_texts([["Hello", "world"], ["hello"]])
    assert lists.word_index == {"hello": 1, "world": 2}


def test_json_round_trip_is_plain_data():
    t = Tokenizer(num_words=6, oov_token="?")
    t.fit_on_texts(TEXTS)
    back = tokenizer_from_json(t.to_json())
    assert back.word_index == t.word_index and back.index_word == t.index_word
    np.testing.assert_array_equal(back.texts_to_matrix(TEXTS, "tfidf"), t.texts_to_matrix(TEXTS, "tfidf"))
    with pytest.raises(ValueError, match="not a Tokenizer"):
        tokenizer_from_json('{"config": {"word_counts": 3}}')


def test_hashing_trick_md5_is_stable_and_in_range():
    indices = hashing_trick("the cat the", 10, hash_function="md5")
    assert indices[0] == indices[2] and all(1 <= i < 10 for i in indices)


def test_module_path():
    assert preprocessing.text.Tokenizer is Tokenizer
