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


# tf_keras 2.21 writes NaN into int32 as -2147483648 (NumPy's cast, with a warning)
@pytest.mark.parametrize("value, dtype", [
    (np.nan, "int32"), (np.inf, "int32"), (-np.inf, "int64"), (-1, "uint8"), (256, "uint8"),
    (2**40, "int32"),
])
def test_a_padding_value_the_dtype_cannot_hold_is_refused(value, dtype):
    with pytest.raises(ValueError, match=f"dtype {dtype} cannot hold the padding value"):
        pad_sequences([[1, 2], [3]], value=value, dtype=dtype)


def test_padding_values_the_dtype_holds_as_keras():
    # tf_keras 2.21: a float value in an integer dtype is cut to a whole number
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3]], value=-1.5), [[1, 2], [-1, 3]])
    out = pad_sequences([[1.0, 2.0], [3.0]], value=np.nan, dtype="float64")
    np.testing.assert_array_equal(out, [[1, 2], [np.nan, 3]])
    assert pad_sequences([[True], []], dtype=bool, value=1).tolist() == [[True], [True]]


@pytest.mark.parametrize("maxlen", [10**12, 2**62])
def test_a_maxlen_beyond_the_memory_is_a_clear_error_before_allocating(maxlen):
    with pytest.raises(ValueError, match=rf"maxlen={maxlen} .*longest sequence is 2 long"):
        pad_sequences([[1, 2], [3]], maxlen=maxlen)
    assert pad_sequences([], maxlen=10**12).shape == (0, 10**12)  # (holds nothing)


def test_a_bool_maxlen_is_a_type_error_as_keras():
    for maxlen in (True, np.bool_(False), 2.0, "3"):
        with pytest.raises(TypeError, match="maxlen"):
            pad_sequences([[1, 2]], maxlen=maxlen)
