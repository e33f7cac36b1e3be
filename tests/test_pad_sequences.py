"""utils.pad_sequences (Keras's rules), also as preprocessing.sequence.pad_sequences."""

import numpy as np
import pytest

import minidl
from minidl.preprocessing.sequence import pad_sequences as pad_from_preprocessing
from minidl.utils import pad_sequences


def test_defaults_pad_and_truncate_in_front():
    out = pad_sequences([[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]], maxlen=4)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10]])


def test_post_padding_and_truncating_and_value():
    out = pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post", value=-1)
    np.testing.assert_array_equal(out, [[1, 2], [4, -1]])
    out = pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="pre")
    np.testing.assert_array_equal(out, [[2, 3], [4, 0]])


def test_maxlen_none_is_the_longest_and_empty_rows_are_padding():
    out = pad_sequences([[1], [], [2, 3, 4]])
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 0, 0], [2, 3, 4]])
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


def test_dtype_and_float_values():
    out = pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32", value=np.nan)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[np.nan, 0.5, 1.5]])
    out = pad_sequences(np.array([[1, 2], [3]], dtype=object), maxlen=2)
    np.testing.assert_array_equal(out, [[1, 2], [0, 3]])


def test_sequences_of_vectors():
    out = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]], maxlen=3)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out[1], [[0, 0], [0, 0], [5, 6]])
    with pytest.raises(ValueError, match="sequence 1"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_strings_need_an_object_or_string_dtype():
    out = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "b"], ["<pad>", "c"]]
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([[1]], value="x")


@pytest.mark.parametrize("kwargs, match", [
    ({"padding": "middle"}, "padding"),
    ({"truncating": "both"}, "truncating"),
    ({"maxlen": -1}, "maxlen"),
    ({"maxlen": 2.5}, "maxlen"),
])
def test_bad_arguments_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences([[1, 2, 3]], **kwargs)


def test_bad_sequences_refused():
    with pytest.raises(ValueError, match="entry 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="list of sequences"):
        pad_sequences(5)


def test_the_same_function_under_keras_names():
    assert pad_from_preprocessing is pad_sequences
    assert minidl.preprocessing.sequence.pad_sequences is pad_sequences
    assert minidl.keras.preprocessing.sequence.pad_sequences is pad_sequences
