"""StringLookup, IntegerLookup, CategoryEncoding and Discretization against Keras 2.

Every expected vocabulary, output and bin boundary below was printed by
tf_keras 2.21 on the same inputs (``import tf_keras``; the snippets are the
tests' own) and copied here as literals.
"""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.data import Dataset
from minidl.models import load_model
from minidl.tensor import Tensor

VOCAB = ["a", "b", "c", "d"]
X = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
ADAPT_DATA = np.array([["b", "a", "c"], ["c", "b", "d"], ["a", "e", "e"], ["f", "g", "b"]])


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(output):
    """A layer's output as a NumPy array (int mode gives arrays, the others Tensors)."""
    return output.data if isinstance(output, Tensor) else output


# --- the guide "Working with preprocessing layers" -----------------------------------
def test_guide_string_lookup_one_hot():
    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(np.array([["a"], ["b"], ["c"], ["b"], ["c"], ["a"]]))
    assert lookup.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    out = lookup(np.array([["a"], ["b"], ["c"], ["d"], ["e"], [""]]))
    assert isinstance(out, Tensor) and out.data.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0],
                                             [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])


def test_guide_integer_lookup_one_hot():
    lookup = layers.IntegerLookup(output_mode="one_hot")
    lookup.adapt(np.array([[10], [20], [20], [10], [30], [0]]))
    assert lookup.get_vocabulary() == [-1, 20, 10, 30, 0]
    out = values(lookup(np.array([[10], [10], [20], [50], [60], [0]])))
    np.testing.assert_array_equal(out, [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0],
                                        [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]])


def test_guide_category_encoding_one_hot():
    out = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(np.array([[3], [2], [0], [1]]))
    assert out.data.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.eye(4)[[3, 2, 0, 1]])


def test_guide_string_lookup_vocabulary_and_invert():
    lookup = layers.StringLookup(vocabulary=VOCAB)
    out = lookup(np.array([["a", "c", "d"], ["d", "z", "b"]]))
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
    np.testing.assert_array_equal(out, [[1, 3, 4], [4, 0, 2]])
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b", "c", "d"]
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    # Keras gives bytes (b"a"); minidl's strings are Python strings
    assert inverse(np.array([[1, 3, 4], [4, 0, 2]])).tolist() == [["a", "c", "d"],
                                                                  ["d", "[UNK]", "b"]]
    assert inverse(np.array([[5, 7, -1]])).tolist() == [["[UNK]"] * 3]


def test_guide_discretization():
    data = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])
    given = layers.Discretization(bin_boundaries=[0., 1., 2.])
    out = given(data)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[0, 2, 3, 1], [1, 3, 2, 1]])
    adapted = layers.Discretization(num_bins=4, epsilon=0.01)
    adapted.adapt(data)
    assert adapted.bin_boundaries == [0.0, 0.5, 1.2999999523162842]
    np.testing.assert_array_equal(adapted(data), [[0, 2, 3, 2], [1, 3, 3, 1]])


# --- adapt: the order of the vocabulary ----------------------------------------------
def test_adapt_orders_by_count_then_token_descending():
    lookup = layers.StringLookup()
    lookup.adapt(ADAPT_DATA)
    assert lookup.get_vocabulary() == ["[UNK]", "b", "e", "c", "a", "g", "f", "d"]
    assert lookup.get_vocabulary(include_special_tokens=False) == ["b", "e", "c", "a", "g",
                                                                    "f", "d"]
    assert lookup.vocabulary_size() == 8
    cut = layers.StringLookup(max_tokens=4, mask_token="")
    cut.adapt(ADAPT_DATA)
    assert cut.get_vocabulary() == ["", "[UNK]", "b", "e"]
    np.testing.assert_array_equal(cut(np.array([["b", "", "a", "zz"]])), [[2, 0, 1, 1]])


def test_integer_adapt_drops_the_oov_and_mask_values():
    data = np.array([[3, 1, 2], [2, 7, 7], [1, 5, 9], [-1, 0, 0]])
    lookup = layers.IntegerLookup()
    lookup.adapt(data)
    assert lookup.get_vocabulary() == [-1, 7, 2, 1, 0, 9, 5, 3]
    np.testing.assert_array_equal(lookup(np.array([[3, 1, 2, 100, -1, 0]])), [[7, 3, 2, 0, 0, 4]])
    masked = layers.IntegerLookup(mask_token=0)
    masked.adapt(data)
    assert masked.get_vocabulary() == [0, -1, 7, 2, 1, 9, 5, 3]
    np.testing.assert_array_equal(masked(np.array([[3, 1, 2, 100, -1, 0]])), [[7, 4, 3, 1, 1, 0]])
    top = layers.IntegerLookup(max_tokens=3)
    top.adapt(np.array([[5, 5, 6], [7, 7, 8]]))
    assert top.get_vocabulary() == [-1, 7, 5]


def test_adapt_again_starts_afresh():
    lookup = layers.StringLookup()
    lookup.adapt(np.array(["a", "b", "b"]))
    lookup.adapt(np.array(["c", "c", "d", "a"]))
    assert lookup.get_vocabulary() == ["[UNK]", "c", "d", "a"]


def test_structured_data_tutorial_from_a_dataset():
    features = {"Type": np.array(["Cat", "Dog", "Dog", "Cat", "Bird", "Dog"]),
                "Age": np.array([1, 3, 3, 2, 1, 3])}
    ds = Dataset.from_tensor_slices((features, np.array([1, 0, 1, 0, 1, 0]))).batch(2)
    index = layers.StringLookup(max_tokens=5)
    index.adapt(ds.map(lambda x, y: x["Type"]))
    assert index.get_vocabulary() == ["[UNK]", "Dog", "Cat", "Bird"]
    encoder = layers.CategoryEncoding(num_tokens=index.vocabulary_size())
    np.testing.assert_array_equal(encoder(index(np.array([["Cat"], ["Bird"], ["Fish"]]))).data,
                                  [[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    ages = layers.IntegerLookup(max_tokens=5)
    ages.adapt(ds.map(lambda x, y: x["Age"]))
    assert ages.get_vocabulary() == [-1, 3, 1, 2]
    encoder = layers.CategoryEncoding(num_tokens=ages.vocabulary_size())
    np.testing.assert_array_equal(encoder(ages(np.array([[1], [3], [9]]))).data,
                                  [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]])


# --- output modes ---------------------------------------------------------------------
@pytest.mark.parametrize("mode, rows, one_d", [
    ("multi_hot", [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]], [1, 1, 0, 0, 0]),
    ("count", [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]], [1, 2, 0, 0, 0]),
])
def test_multi_hot_and_count(mode, rows, one_d):
    lookup = layers.StringLookup(vocabulary=VOCAB, output_mode=mode)
    np.testing.assert_array_equal(values(lookup(X)), rows)
    np.testing.assert_array_equal(values(lookup(np.array(["a", "z", "a"]))), one_d)  # one sample
    np.testing.assert_array_equal(values(lookup(np.array([["a"], ["z"], ["c"]]))),
                                  [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(values(lookup("c")), [0, 0, 0, 1, 0])
    assert lookup.compute_output_shape((None, 4)) == (None, 5)


def test_one_hot_shapes():
    lookup = layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(values(lookup(np.array(["a", "z", "a"]))),
                                  [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0]])
    np.testing.assert_array_equal(values(lookup(np.array([["a"], ["z"], ["c"]]))),
                                  [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(values(lookup("c")), [0, 0, 0, 1, 0])
    # a batch of one value: Keras's eager call gives (5,), its predict (and minidl) (1, 5)
    np.testing.assert_array_equal(values(lookup(np.array(["c"]))), [[0, 0, 0, 1, 0]])
    with pytest.raises(ValueError, match=r"maximum supported output rank is 2.*\(2, 4\)"):
        lookup(X)  # Keras refuses it too: one value per sample for one_hot


@pytest.mark.parametrize("mode, expected", [("multi_hot", [[1, 1, 0, 0, 0, 0, 0, 0]]),
                                            ("count", [[1, 2, 0, 0, 0, 0, 0, 0]])])
def test_mask_is_dropped_and_pad_to_max_tokens(mode, expected):
    lookup = layers.StringLookup(vocabulary=VOCAB, output_mode=mode, mask_token="",
                                 pad_to_max_tokens=True, max_tokens=8)
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b", "c", "d"]  # no mask entry here
    np.testing.assert_array_equal(values(lookup(np.array([["a", "", "z", "a"]]))), expected)
    ints = layers.IntegerLookup(output_mode="count", pad_to_max_tokens=True, max_tokens=6)
    ints.adapt(np.array([1, 2, 2, 3]))
    np.testing.assert_array_equal(values(ints(np.array([[1, 2, 2, 4], [3, 3, 3, 3]]))),
                                  [[1, 2, 0, 1, 0, 0], [0, 0, 4, 0, 0, 0]])


def test_integer_mask_multi_hot_and_invert():
    multi = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], mask_token=0,
                                 output_mode="multi_hot")
    assert multi.get_vocabulary() == [-1, 12, 36, 1138, 42]
    np.testing.assert_array_equal(values(multi(np.array([[12, 0, 7, 42], [0, 0, 0, 0]]))),
                                  [[1, 1, 0, 0, 1], [0, 0, 0, 0, 0]])
    inverse = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], mask_token=0, invert=True)
    out = inverse(np.array([[0, 1, 2, 5, 6]]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[0, -1, 12, 42, -1]])
    plain = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)
    np.testing.assert_array_equal(plain(np.array([[1, 3, 4], [4, 0, 2], [9, 5, -2]])),
                                  [[12, 1138, 42], [42, -1, 36], [-1, -1, -1]])
    masked_strings = layers.StringLookup(vocabulary=VOCAB, invert=True, mask_token="[M]")
    assert masked_strings.get_vocabulary() == ["[M]", "[UNK]", "a", "b", "c", "d"]
    assert masked_strings(np.array([[0, 1, 2, 5, 6]])).tolist() == [["[M]", "[UNK]", "a", "d",
                                                                     "[UNK]"]]


def test_several_or_no_oov_indices():
    two = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)
    assert two.get_vocabulary() == [-1, -1, 12, 36, 1138, 42]
    np.testing.assert_array_equal(two(np.array([[12, 1138, 42], [42, 1000, 36], [-3, 5, 7]])),
                                  [[2, 4, 5], [5, 0, 3], [1, 1, 1]])  # x mod 2
    none = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=0)
    assert none.get_vocabulary() == [12, 36, 1138, 42]
    np.testing.assert_array_equal(none(np.array([[12, 36]])), [[0, 1]])
    with pytest.raises(ValueError, match=r"found OOV values \[5\]"):
        none(np.array([[12, 5]]))
    hot = layers.StringLookup(num_oov_indices=0, vocabulary=["a", "b"], output_mode="one_hot")
    assert hot.vocabulary_size() == 2
    np.testing.assert_array_equal(values(hot(np.array(["b", "a"]))), [[0, 1], [1, 0]])


def test_tf_idf_given_and_adapted():
    given = layers.StringLookup(vocabulary=VOCAB, output_mode="tf_idf",
                                idf_weights=[0.5, 0.25, 0.2, 0.125])
    np.testing.assert_allclose(values(given(X)), [[0.0, 0.5, 0.0, 0.2, 0.25],
                                                  [0.5375, 0.0, 0.25, 0.0, 0.125]], rtol=1e-7)
    own_oov = layers.StringLookup(vocabulary=["[UNK]"] + VOCAB, output_mode="tf_idf",
                                  idf_weights=[0.9, 0.5, 0.25, 0.2, 0.125])
    np.testing.assert_allclose(values(own_oov(X))[1], [1.8, 0.0, 0.25, 0.0, 0.125], rtol=1e-7)
    adapted = layers.StringLookup(output_mode="tf_idf")
    adapted.adapt(np.array([["b", "a", "c"], ["c", "b", "d"], ["a", "e", "f"], ["f", "g", "b"]]))
    assert adapted.get_vocabulary() == ["[UNK]", "b", "f", "c", "a", "g", "e", "d"]
    np.testing.assert_allclose(
        values(adapted(np.array([["b", "b", "a", "q"], ["e", "g", "z", "z"]]))),
        [[0.9329825639724731, 1.3862943649291992, 0, 0, 0.8472978472709656, 0, 0, 0],
         [1.8659651279449463, 0, 0, 0, 0, 1.0986123085021973, 1.0986123085021973, 0]],
        rtol=1e-6)
    one_document = layers.StringLookup(output_mode="tf_idf")  # a 1-D batch is one document
    one_document.adapt(np.array(["a", "b", "b", "c"]))
    np.testing.assert_allclose(values(one_document(np.array([["a", "b", "c"]]))),
                               [[0.0, 0.40546509623527527, 0.40546509623527527,
                                 0.40546509623527527]], rtol=1e-6)


def test_vocabulary_file_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("earth\nwind\nand\nfire\n")
    lookup = layers.StringLookup(vocabulary=str(path))
    assert lookup.get_vocabulary() == ["[UNK]", "earth", "wind", "and", "fire"]
    np.testing.assert_array_equal(lookup(np.array([["earth", "fire", "water"]])), [[1, 4, 0]])
    lookup.set_vocabulary(["x", "y"])
    assert lookup.get_vocabulary() == ["[UNK]", "x", "y"]
    assert layers.StringLookup(vocabulary=["", "[UNK]", "a"],
                               mask_token="").get_vocabulary() == ["", "[UNK]", "a"]
    # the OOV token inside the vocabulary is a plain token unless invert=True
    assert layers.StringLookup(vocabulary=["a", "[UNK]", "b"]).get_vocabulary() == [
        "[UNK]", "a", "[UNK]", "b"]


# --- CategoryEncoding -------------------------------------------------------------------
@pytest.mark.parametrize("mode, rows, one_d", [
    ("multi_hot", [[1, 1, 0, 0, 0], [0, 0, 1, 0, 1]], [0, 1, 0, 1, 0]),
    ("count", [[1, 2, 0, 0, 0], [0, 0, 1, 0, 2]], [0, 1, 0, 2, 0]),
])
def test_category_encoding_modes(mode, rows, one_d):
    encode = layers.CategoryEncoding(num_tokens=5, output_mode=mode)
    np.testing.assert_array_equal(encode(np.array([[0, 1, 1], [4, 4, 2]])).data, rows)
    np.testing.assert_array_equal(encode(np.array([3, 1, 3])).data, one_d)
    np.testing.assert_array_equal(encode(np.array([[3], [1]])).data,
                                  [[0, 0, 0, 1, 0], [0, 1, 0, 0, 0]])
    assert encode.compute_output_shape((None, 3)) == (None, 5)


def test_category_encoding_one_hot_and_count_weights():
    one_hot = layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.array([3, 1, 3])).data, np.eye(5)[[3, 1, 3]])
    with pytest.raises(ValueError, match="maximum supported output rank is 2"):
        one_hot(np.array([[0, 1, 1], [4, 4, 2]]))
    count = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    out = count(np.array([[0, 1, 1], [3, 3, 2]]),
                count_weights=np.array([[0.1, 0.2, 0.3], [0.5, 1.0, 2.0]]))
    np.testing.assert_allclose(out.data, [[0.10000000149011612, 0.5, 0, 0], [0, 0, 2.0, 1.5]])
    np.testing.assert_array_equal(layers.CategoryEncoding(num_tokens=4)(
        np.array([[0.0, 2.0]])).data, [[1, 0, 1, 0]])  # whole floats are categories too
    assert layers.CategoryEncoding(num_tokens=4).get_config() == {
        "name": "category_encoding_3", "trainable": True, "dtype": "float32", "num_tokens": 4,
        "output_mode": "multi_hot", "sparse": False}


# --- Discretization ------------------------------------------------------------------------
def test_discretization_hot_modes_and_inputs():
    boundaries = [0., 1., 2.]
    np.testing.assert_array_equal(
        layers.Discretization(bin_boundaries=boundaries, output_mode="one_hot")(
            np.array([-1.5, 1.0, 3.4, .5])).data, np.eye(4)[[0, 2, 3, 1]])
    for mode in ("multi_hot", "count"):
        layer = layers.Discretization(bin_boundaries=boundaries, output_mode=mode)
        np.testing.assert_array_equal(layer(np.array([[-1.5, 1.0, 3.4, .5]])).data, [[1, 1, 1, 1]])
    np.testing.assert_array_equal(
        layers.Discretization(bin_boundaries=[0.5, 1.5])(np.array([[0, 1, 2]])), [[0, 1, 2]])


@pytest.mark.parametrize("kwargs, data, adapt_kwargs, expected", [
    ({"num_bins": 3}, np.array([5.0, 1.0, 3.0, 2.0, 4.0, 6.0]), {}, [2.0, 4.0]),
    ({"num_bins": 4}, np.array([1, 2, 3]), {}, [1.0, 2.0]),
    ({"num_bins": 4}, np.array([[1.0], [1.0], [2.0], [10.0], [10.0]]), {"batch_size": 2},
     [1.0, 1.4999998807907104, 7.999999523162842]),
    ({"num_bins": 2, "epsilon": 0.1},
     np.array([3.0, 1.0, 2.0, 2.0, 9.0, 4.0, 4.0, 4.0, 0.0, 7.0, 5.0, 6.0]), {}, [4.0]),
    ({"num_bins": 4}, np.arange(250, dtype="float32").reshape(-1, 1) % 37, {"batch_size": 64},
     [8.000018119812012, 17.00002098083496, 26.06199073791504]),
    # compressed summaries: 1000 values in batches of 32, and 300 rows of 3 with epsilon 0.05
    ({"num_bins": 5}, np.random.RandomState(0).standard_normal(1000).round(3), {},
     [-0.8085415959358215, -0.2975662052631378, 0.23202228546142578, 0.8270066380500793]),
])
def test_discretization_adapt_matches_keras_quantile_summary(kwargs, data, adapt_kwargs, expected):
    layer = layers.Discretization(**kwargs)
    layer.adapt(data, **adapt_kwargs)
    assert layer.bin_boundaries == expected


def test_discretization_adapt_2d_compressed():
    rng = np.random.RandomState(0)
    rng.standard_normal(1000)
    data = rng.uniform(0, 10, size=(300, 3)).round(2)
    layer = layers.Discretization(num_bins=7, epsilon=0.05)
    layer.adapt(data)
    assert layer.bin_boundaries == [1.9354838132858276, 3.3029017448425293, 5.095160484313965,
                                    6.222010612487793, 7.5598063468933105, 8.976370811462402]


# --- hostile arguments and inputs: refused, and nothing changed ------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: layers.StringLookup(output_mode="bogus"), "unknown value for `output_mode`"),
    (lambda: layers.StringLookup(num_oov_indices=-1), "num_oov_indices"),
    (lambda: layers.StringLookup(max_tokens=1), "max_tokens"),
    (lambda: layers.IntegerLookup(max_tokens=0), "max_tokens"),
    (lambda: layers.StringLookup(vocabulary=["a", "b", "a"]), r"repeated terms are \['a'\]"),
    (lambda: layers.StringLookup(invert=True, output_mode="count"), "invert"),
    (lambda: layers.StringLookup(sparse=True), "sparse"),
    (lambda: layers.StringLookup(output_mode="count", sparse=True), "no sparse tensors"),
    (lambda: layers.StringLookup(pad_to_max_tokens=True), "max_tokens"),
    (lambda: layers.StringLookup(vocabulary=VOCAB, idf_weights=[1, 2, 3, 4]), "idf_weights"),
    (lambda: layers.StringLookup(vocabulary=VOCAB, output_mode="tf_idf"), "idf_weights"),
    (lambda: layers.StringLookup(vocabulary=VOCAB, max_tokens=3), "vocab size is 5"),
    (lambda: layers.StringLookup(vocabulary=["a", "", "b"], mask_token=""), "mask token"),
    (lambda: layers.StringLookup(vocabulary=["a", "[UNK]", "b"], invert=True), "OOV token"),
    (lambda: layers.IntegerLookup(vocabulary=["a"]), "integers"),
    (lambda: layers.CategoryEncoding(), "num_tokens must be set"),
    (lambda: layers.CategoryEncoding(num_tokens=0), "num_tokens"),
    (lambda: layers.CategoryEncoding(num_tokens=3, output_mode="tf_idf"), "output_mode"),
    (lambda: layers.CategoryEncoding(num_tokens=3, sparse=True), "sparse"),
    (lambda: layers.Discretization(num_bins=3, bin_boundaries=[1.0]), "should not be set"),
    (lambda: layers.Discretization(num_bins=-1), "num_bins"),
    (lambda: layers.Discretization(num_bins=3, output_mode="tf_idf"), "output_mode"),
    (lambda: layers.Discretization(bin_boundaries=[1.5, 0.5]), "sorted"),
])
def test_bad_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="takes strings"):
        layers.StringLookup(vocabulary=VOCAB)(np.array([[1, 2]]))
    with pytest.raises(TypeError, match="takes integers"):
        layers.IntegerLookup(vocabulary=[1, 2])(np.array([["a"]]))
    with pytest.raises(ValueError, match="non-integer"):
        layers.IntegerLookup(vocabulary=[1, 2])(np.array([[1.5]]))
    with pytest.raises(TypeError, match="ragged"):
        layers.StringLookup().adapt([["a", "b"], ["c"]])
    with pytest.raises(TypeError, match="ragged"):
        layers.IntegerLookup().adapt([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="no vocabulary yet"):
        layers.StringLookup(output_mode="count")(np.array([["a"]]))
    with pytest.raises(ValueError, match="range 0 <= values < num_tokens"):
        layers.CategoryEncoding(num_tokens=4)(np.array([[0, 4]]))
    with pytest.raises(ValueError, match="range 0 <= values < num_tokens"):
        layers.CategoryEncoding(num_tokens=4)(np.array([[0, -1]]))
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(num_tokens=4)(np.array([[0]]), count_weights=np.array([[1.0]]))
    with pytest.raises(TypeError, match="takes numbers"):
        layers.Discretization(bin_boundaries=[1.0])(np.array([["a"]]))
    with pytest.raises(ValueError, match="maximum supported output rank is 2"):
        layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(np.array([[["a"]]]))


def test_refused_calls_change_nothing():
    given = layers.StringLookup(vocabulary=VOCAB)
    with pytest.raises(ValueError, match="static vocabulary"):
        given.adapt(np.array(["x"]))
    with pytest.raises(ValueError, match="repeated"):
        given.set_vocabulary(["x", "x"])
    assert given.get_vocabulary() == ["[UNK]"] + VOCAB
    counts = layers.StringLookup(output_mode="count")
    counts.adapt(np.array(["a", "b", "b"]))
    # Keras raises too, but after it has replaced the vocabulary; minidl keeps it
    with pytest.raises(RuntimeError, match="Old vocab size is 3, new vocab size is 4"):
        counts.adapt(np.array(["a", "b", "c"]))
    with pytest.raises(RuntimeError, match="Old vocab size is 3, new vocab size is 4"):
        counts.set_vocabulary(["x", "y", "z"])
    assert counts.get_vocabulary() == ["[UNK]", "b", "a"]
    assert counts.get_config()["batch_input_shape"] == (None,)
    counts.set_vocabulary(["x", "y"])  # the same size is fine
    assert counts.get_vocabulary() == ["[UNK]", "x", "y"]
    bins = layers.Discretization(bin_boundaries=[1.0])
    with pytest.raises(ValueError, match="cannot adapt"):
        bins.adapt(np.array([1.0, 2.0]))
    assert bins.bin_boundaries == [1.0] and bins.get_config()["num_bins"] is None
    empty = layers.Discretization(num_bins=2)
    with pytest.raises(ValueError, match="no values"):
        empty.adapt(np.zeros((0,)))
    assert empty.bin_boundaries == [] and empty._batch_input_shape is None


# --- config, saving, models ------------------------------------------------------------------
def test_config_as_keras():
    assert layers.StringLookup(vocabulary=VOCAB).get_config() == {
        "name": "string_lookup", "trainable": True, "dtype": "int64", "invert": False,
        "max_tokens": None, "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": None,
        "output_mode": "int", "sparse": False, "pad_to_max_tokens": False, "idf_weights": None,
        "vocabulary": ["a", "b", "c", "d"], "vocabulary_size": 5, "encoding": "utf-8"}
    assert layers.IntegerLookup().get_config() == {
        "name": "integer_lookup", "trainable": True, "dtype": "int64", "invert": False,
        "max_tokens": None, "num_oov_indices": 1, "oov_token": -1, "mask_token": None,
        "output_mode": "int", "sparse": False, "pad_to_max_tokens": False, "idf_weights": None,
        "vocabulary": None, "vocabulary_size": None, "vocabulary_dtype": "int64"}
    assert layers.Discretization(bin_boundaries=[0.0, 1.0]).get_config() == {
        "name": "discretization", "trainable": True, "dtype": "int64", "bin_boundaries": [0.0, 1.0],
        "num_bins": None, "epsilon": 0.01, "output_mode": "int", "sparse": False}


@pytest.mark.parametrize("make, data, inputs", [
    (lambda: layers.StringLookup(max_tokens=6, mask_token=""), ADAPT_DATA, X),
    (lambda: layers.StringLookup(output_mode="tf_idf"), ADAPT_DATA[:2], X),
    (lambda: layers.IntegerLookup(output_mode="count", num_oov_indices=2),
     np.array([[3, 1, 2], [2, 7, 7]]), np.array([[3, 4, 7, 7]])),
    (lambda: layers.Discretization(num_bins=3, output_mode="one_hot"),
     np.array([5.0, 1.0, 3.0, 2.0, 4.0, 6.0]), np.array([0.5, 2.5, 4.5])),
])
def test_adapted_layers_rebuild_from_their_config(make, data, inputs):
    layer = make()
    layer.adapt(data)
    twin = layers.deserialize(layers.serialize(layer))
    np.testing.assert_array_equal(values(twin(inputs)), values(layer(inputs)))
    assert twin.get_config() == layer.get_config()


def test_tutorial_model_trains_saves_and_loads(tmp_path):
    animal = np.array([["Cat"], ["Dog"], ["Dog"], ["Cat"], ["Bird"], ["Dog"]], dtype=object)
    age = np.array([[1], [3], [3], [2], [1], [3]])
    fee = np.array([[0.5], [0.1], [0.9], [0.3], [0.2], [0.7]], dtype="float32")
    y = np.array([1, 0, 1, 0, 1, 0])
    type_in = minidl.Input(shape=(1,), name="Type", dtype="string")
    age_in = minidl.Input(shape=(1,), name="Age", dtype="int64")
    fee_in = minidl.Input(shape=(1,), name="Fee")
    types = layers.StringLookup()
    types.adapt(animal)
    ages = layers.IntegerLookup()
    ages.adapt(age)
    fees = layers.Discretization(num_bins=3)
    fees.adapt(fee)
    x = layers.concatenate([
        layers.CategoryEncoding(num_tokens=types.vocabulary_size())(types(type_in)),
        layers.CategoryEncoding(num_tokens=ages.vocabulary_size())(ages(age_in)),
        layers.CategoryEncoding(num_tokens=3, output_mode="one_hot")(fees(fee_in))])
    out = layers.Dense(1, activation="sigmoid")(layers.Dense(8, activation="relu")(x))
    model = minidl.Model([type_in, age_in, fee_in], out)
    assert model.get_layer("concatenate").output.shape == (None, 11)
    assert model.count_params() == 11 * 8 + 8 + 9  # the preprocessing layers hold none
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    model.fit([animal, age, fee], y, epochs=2, verbose=0)
    model.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl")
    np.testing.assert_array_equal(loaded.predict([animal, age, fee], verbose=0),
                                  model.predict([animal, age, fee], verbose=0))
    assert loaded.get_layer("string_lookup").get_vocabulary() == ["[UNK]", "Dog", "Cat", "Bird"]


def test_sequential_starting_with_a_lookup(tmp_path):
    words = minidl.Sequential([layers.StringLookup(vocabulary=["a", "b", "c"]),
                               layers.Embedding(5, 2), layers.Flatten(), layers.Dense(1)])
    words.compile("adam", "mse")
    words.fit(np.array([["a", "b"], ["c", "z"]], dtype=object), np.array([1.0, 0.0]),
              epochs=1, verbose=0)
    words.save(tmp_path / "words.mdl")
    sample = np.array([["a", "b"]], dtype=object)
    np.testing.assert_array_equal(load_model(tmp_path / "words.mdl").predict(sample, verbose=0),
                                  words.predict(sample, verbose=0))
    numbers = minidl.Sequential([layers.IntegerLookup(vocabulary=[10, 20], output_mode="multi_hot"),
                                 layers.Dense(1)])
    numbers.compile("adam", "mse")
    numbers.fit(np.array([[10, 20], [30, 10]]), np.array([1.0, 0.0]), epochs=1, verbose=0)
    assert numbers.layers[0].output.shape == (None, 3)
    bins = minidl.Sequential([layers.Discretization(bin_boundaries=[0.5, 1.5]),
                              layers.CategoryEncoding(num_tokens=3, output_mode="one_hot"),
                              layers.Dense(1)])
    bins.compile("adam", "mse")
    bins.fit(np.array([0.25, 1.0, 2.75]), np.array([1.0, 0.0, 1.0]), epochs=1, verbose=0)
    assert bins.layers[1].output.shape == (None, 3)
    assert bins.layers[0].input.dtype == "float32"  # fractions are not cut to integers


def test_dtype_as_keras():
    assert layers.StringLookup().dtype == "int64"
    assert layers.StringLookup(output_mode="count", dtype="float64").dtype == "float64"
    assert layers.IntegerLookup(output_mode="count", dtype="int64").dtype == "float32"  # Keras drops it
    assert layers.Discretization(num_bins=2).dtype == "int64"
    with pytest.raises(ValueError, match="indices are int64"):
        layers.StringLookup(dtype="float32")
