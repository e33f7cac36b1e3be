"""layers.TextVectorization against Keras 2 (tf_keras 2.21).

Every expected vocabulary and output below was printed by tf_keras 2.21's
TextVectorization on the same strings (TEXTS unless the test says otherwise)
and copied here.
"""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.data import Dataset
from minidl.models import load_model

TEXTS = np.array(["the cat sat", "The dog; sat!", "a Cat and a dog", "zeta beta",
                  "beta zeta alpha"])
# tf_keras 2.21: counts (the 2, sat 2, dog 2, cat 2, a 2, zeta 2, beta 2, and 1,
# alpha 1); equal counts in descending order of the token
VOCABULARY = ["", "[UNK]", "zeta", "the", "sat", "dog", "cat", "beta", "a", "and", "alpha"]
INDICES = [[3, 6, 4, 0, 0], [3, 5, 4, 0, 0], [8, 6, 9, 8, 5], [2, 7, 0, 0, 0], [7, 2, 10, 0, 0]]
IDF_2 = 0.9808292388916016  # log(1 + 5 / (1 + 2)): a token in 2 of the 5 strings
IDF_1 = 1.2527629137039185  # log(1 + 5 / (1 + 1))


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def adapted(texts=TEXTS, **kwargs):
    layer = layers.TextVectorization(**kwargs)
    layer.adapt(texts)
    return layer


# --- the vocabulary ------------------------------------------------------------------
def test_vocabulary_by_count_then_token_descending_and_int_output():
    layer = adapted()
    assert layer.get_vocabulary() == VOCABULARY
    assert layer.get_vocabulary(include_special_tokens=False) == VOCABULARY[2:]
    assert layer.vocabulary_size() == 11
    out = layer(TEXTS)
    assert out.dtype == np.int64
    assert out.tolist() == INDICES  # padded to the longest string of the batch


def test_max_tokens_counts_the_special_entries_and_output_sequence_length_pads_and_cuts():
    layer = adapted(max_tokens=6, output_sequence_length=4)
    assert layer.get_vocabulary() == ["", "[UNK]", "zeta", "the", "sat", "dog"]
    assert layer(TEXTS).tolist() == [[3, 1, 4, 0], [3, 5, 4, 0], [1, 1, 1, 1], [2, 1, 0, 0],
                                     [1, 2, 1, 0]]
    short = layers.TextVectorization(output_sequence_length=3, vocabulary=["a", "b"])
    assert short(np.array(["a b a b", "b", ""])).tolist() == [[2, 3, 2], [3, 0, 0], [0, 0, 0]]
    assert adapted(max_tokens=4, output_mode="multi_hot").get_vocabulary() == [
        "[UNK]", "zeta", "the", "sat"]


MULTI_HOT = [[0, 0, 1, 1, 0, 1, 0, 0, 0, 0], [0, 0, 1, 1, 1, 0, 0, 0, 0, 0],
             [0, 0, 0, 0, 1, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 0, 1, 0, 0, 0],
             [0, 1, 0, 0, 0, 0, 1, 0, 0, 1]]


def test_multi_hot_count_and_tf_idf_outputs():
    for mode in ("multi_hot", "count", "tf_idf"):
        assert adapted(output_mode=mode).get_vocabulary() == VOCABULARY[1:]  # no padding entry
    multi_hot = adapted(output_mode="multi_hot")(TEXTS)
    assert multi_hot.dtype == np.float32
    np.testing.assert_array_equal(multi_hot.numpy(), MULTI_HOT)
    count = np.array(MULTI_HOT, dtype=np.float32)
    count[2, 7] = 2  # "a Cat and a dog": "a" twice
    np.testing.assert_array_equal(adapted(output_mode="count")(TEXTS).numpy(), count)
    expected = np.array(MULTI_HOT) * IDF_2
    expected[2, 7], expected[2, 8], expected[4, 9] = 2 * IDF_1, IDF_1, IDF_1
    np.testing.assert_allclose(adapted(output_mode="tf_idf")(TEXTS).numpy(), expected, rtol=1e-6)


def test_tf_idf_out_of_vocabulary_weight_is_the_mean_of_the_kept_tokens():
    texts = np.array(["the cat sat", "the dog sat", "a cat and a dog", "zeta beta",
                      "beta zeta alpha"])
    layer = adapted(texts, output_mode="tf_idf", max_tokens=5)
    assert layer.get_vocabulary() == ["[UNK]", "zeta", "the", "sat", "dog"]
    np.testing.assert_allclose(layer(np.array(["the zzz cat alpha"])).numpy(),
                               [[2.9424877166748047, 0.0, IDF_2, 0.0, 0.0]], rtol=1e-6)
    given = layers.TextVectorization(output_mode="tf_idf", vocabulary=["x", "y"],
                                     idf_weights=[0.5, 0.25])
    assert given.get_vocabulary() == ["[UNK]", "x", "y"]
    np.testing.assert_allclose(given(np.array(["x x y q"])).numpy(), [[0.375, 1.0, 0.25]])
    own_oov = layers.TextVectorization(output_mode="tf_idf", vocabulary=["[UNK]", "a"],
                                       idf_weights=[3.0, 1.0])
    np.testing.assert_allclose(own_oov(np.array(["a q"])).numpy(), [[3.0, 1.0]])


def test_pad_to_max_tokens_widens_the_counts_but_not_the_indices():
    layer = adapted(np.array(["a b"]), max_tokens=5, output_mode="multi_hot",
                    pad_to_max_tokens=True)
    np.testing.assert_array_equal(layer(np.array(["a b z"])).numpy(), [[1, 1, 1, 0, 0]])
    count = layers.TextVectorization(vocabulary=["a", "b"], output_mode="count",
                                     pad_to_max_tokens=True, max_tokens=6)
    np.testing.assert_array_equal(count(np.array(["a b a q"])).numpy(), [[1, 2, 1, 0, 0, 0]])
    indices = layers.TextVectorization(vocabulary=["a", "b"], pad_to_max_tokens=True,
                                       max_tokens=6)
    assert indices(np.array(["a b a q"])).tolist() == [[2, 3, 2, 1]]


def test_ngrams():
    assert adapted(ngrams=2).get_vocabulary() == [
        "", "[UNK]", "zeta", "the", "sat", "dog", "cat", "beta", "a", "zeta beta", "zeta alpha",
        "the dog", "the cat", "dog sat", "cat sat", "cat and", "beta zeta", "and a", "and",
        "alpha", "a dog", "a cat"]
    assert adapted(ngrams=(1, 3)).get_vocabulary() == [
        "", "[UNK]", "zeta", "the", "sat", "dog", "cat", "beta", "a", "the dog sat",
        "the cat sat", "cat and a", "beta zeta alpha", "and a dog", "and", "alpha", "a cat and"]
    assert adapted(ngrams=(2,)).get_vocabulary() == [
        "", "[UNK]", "zeta beta", "zeta alpha", "the dog", "the cat", "dog sat", "cat sat",
        "cat and", "beta zeta", "and a", "a dog", "a cat"]
    # all 1-grams first, then the 2-grams
    layer = layers.TextVectorization(vocabulary=["a", "b", "a b"], ngrams=2,
                                     output_sequence_length=5)
    assert layer(np.array(["a b a"])).tolist() == [[2, 3, 2, 4, 1]]
    characters = layers.TextVectorization(split="character", ngrams=2, vocabulary=["a", "a b"])
    assert characters(np.array(["ab"])).tolist() == [[2, 1, 3]]


UNICODE = np.array(["Héllo, Wörld! ÉCOLE «quoted» — dash", "naïve café… ¿qué?",
                    "a\u00a0b c\u3000d\te"])


@pytest.mark.parametrize("standardize, expected", [
    # Keras 2 lowercases A-Z only and strips ASCII punctuation only; a no-break
    # space and an ideographic space do not split
    ("lower_and_strip_punctuation", ["—", "École", "¿qué", "«quoted»", "wörld", "naïve", "héllo",
                                     "e", "dash", "c\u3000d", "café…", "a\xa0b"]),
    ("lower", ["—", "École", "¿qué?", "«quoted»", "wörld!", "naïve", "héllo,", "e", "dash",
               "c\u3000d", "café…", "a\xa0b"]),
    ("strip_punctuation", ["—", "ÉCOLE", "¿qué", "«quoted»", "naïve", "e", "dash", "c\u3000d",
                           "café…", "a\xa0b", "Wörld", "Héllo"]),
    (None, ["—", "ÉCOLE", "¿qué?", "«quoted»", "naïve", "e", "dash", "c\u3000d", "café…",
            "a\xa0b", "Wörld!", "Héllo,"]),
])
def test_standardize_on_unicode_text(standardize, expected):
    layer = adapted(UNICODE, standardize=standardize)
    assert layer.get_vocabulary(include_special_tokens=False) == expected


def test_split_by_character_and_not_at_all():
    layer = adapted(np.array(["abc ab", "Éé"]), split="character")
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a", "é", "É", "c", " "]
    assert layer(np.array(["abc ab"])).tolist() == [[3, 2, 6, 7, 3, 2]]
    whole = adapted(np.array(["abc ab", "abc ab", "x"]), split=None)
    assert whole.get_vocabulary() == ["", "[UNK]", "abc ab", "x"]


def test_your_own_standardize_and_split_take_the_batch():
    def no_html(texts):
        return [text.replace("<br />", " ") for text in texts]

    def on_commas(texts):
        return [text.split(",") for text in texts]

    layer = adapted(np.array(["a<br />b", "b"]), standardize=no_html)
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    commas = adapted(np.array(["x y,z", "z"]), standardize="lower", split=on_commas)
    assert commas.get_vocabulary() == ["", "[UNK]", "z", "x y"]
    with pytest.raises(ValueError, match="one string per input string"):
        adapted(np.array(["a", "b"]), standardize=lambda texts: ["a"])


# --- inputs ----------------------------------------------------------------------------
def test_inputs_shaped_b_or_b_by_1_lists_and_single_strings():
    layer = adapted()
    assert layer(TEXTS.reshape(-1, 1)).tolist() == INDICES
    assert layer(["the cat", "dog"]).tolist() == [[3, 6], [5, 0]]
    assert layer(np.array(["", "the"])).tolist() == [[0], [3]]
    assert layer(np.array(["  the   ", " "])).tolist() == [[3], [0]]
    assert layer("the zzz").tolist() == [3, 1]  # a single string: no batch axis
    assert layer(np.array([b"the cat"])).tolist() == [[3, 6]]  # bytes are decoded
    assert layer(TEXTS.astype(object)).tolist() == INDICES


def test_refused_inputs_name_the_layer():
    layer = adapted()
    with pytest.raises(ValueError, match='"text_vectorization".*inputs.shape=\\(2, 2\\)'):
        layer(np.array([["a", "b"], ["a", "b"]]))
    with pytest.raises(TypeError, match="takes strings.*float"):
        layer(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="takes strings"):
        layer(minidl.Tensor(np.ones((2, 1))))
    with pytest.raises(ValueError, match="no vocabulary yet: call adapt"):
        layers.TextVectorization()(np.array(["a b"]))
    assert layers.TextVectorization().get_vocabulary() == ["", "[UNK]"]  # as Keras


# --- adapt -------------------------------------------------------------------------------
def test_adapt_reads_lists_datasets_and_iterables_and_starts_afresh():
    assert adapted(list(TEXTS)).get_vocabulary() == VOCABULARY
    assert adapted(Dataset.from_tensor_slices(TEXTS).batch(2)).get_vocabulary() == VOCABULARY
    assert adapted(Dataset.from_tensor_slices(TEXTS)).get_vocabulary() == VOCABULARY
    assert adapted(iter([TEXTS[:2], TEXTS[2:]])).get_vocabulary() == VOCABULARY
    layer = adapted()
    layer.adapt(np.array(["x y y"]))
    assert layer.get_vocabulary() == ["", "[UNK]", "y", "x"]
    layer.adapt(Dataset.from_tensor_slices(TEXTS).batch(2), steps=1)
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "sat", "dog", "cat"]
    assert adapted(np.array(["[UNK] a [UNK]"]), standardize=None).get_vocabulary() == [
        "", "[UNK]", "a"]  # text spelling a special entry is not a token


def test_adapt_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="no strings"):
        adapted(np.array([], dtype=str))
    with pytest.raises(TypeError, match="takes strings"):
        adapted(np.array([1, 2]))
    pairs = Dataset.from_tensor_slices((TEXTS, np.arange(5))).batch(2)
    with pytest.raises(TypeError, match=r"ds.map\(lambda x, y: x\)"):
        adapted(pairs)
    with pytest.raises(ValueError, match="cannot also adapt"):
        layers.TextVectorization(vocabulary=["a"]).adapt(TEXTS)
    with pytest.raises(TypeError, match="adapt\\(\\) takes"):
        adapted(3)


# --- set_vocabulary -----------------------------------------------------------------------
def test_set_vocabulary_with_and_without_the_special_entries(tmp_path):
    layer = layers.TextVectorization(vocabulary=["x", "y", "z"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y", "z"]
    assert layer(np.array(["x q z y"])).tolist() == [[2, 1, 4, 3]]
    assert layers.TextVectorization(vocabulary=["", "[UNK]", "a", "b"]).get_vocabulary() == [
        "", "[UNK]", "a", "b"]
    # Keras strips the special entries only when all of them start the list
    assert layers.TextVectorization(vocabulary=["[UNK]", "a", "b"]).get_vocabulary() == [
        "", "[UNK]", "[UNK]", "a", "b"]
    assert layers.TextVectorization(vocabulary=["[UNK]", "a"],
                                    output_mode="multi_hot").get_vocabulary() == ["[UNK]", "a"]
    layer.set_vocabulary(["q", "r"])
    assert layer.get_vocabulary() == ["", "[UNK]", "q", "r"]
    path = tmp_path / "vocab.txt"
    path.write_text("alpha\nbéta\n", encoding="utf-8")
    layer.set_vocabulary(str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "alpha", "béta"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(vocabulary=["a", "b", "a"]), r"repeats \['a'\]"),
    (dict(vocabulary=["a", ""]), 'reserved padding token ""'),
    (dict(vocabulary=["a", ""], output_mode="multi_hot"), 'reserved padding token ""'),
    (dict(vocabulary=[]), "empty vocabulary"),
    (dict(vocabulary=["a"], idf_weights=[1.0]), "`idf_weights` should only be set"),
    (dict(output_mode="tf_idf", vocabulary=["a"]), "`idf_weights` must be set"),
    (dict(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[1.0]), "same length"),
    (dict(output_mode="tf_idf", idf_weights=[1.0]), "without a vocabulary"),
    (dict(max_tokens=3, vocabulary=["a", "b", "c"]), "Passed vocab size is 5, max vocab size is 3"),
])
def test_bad_vocabularies_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.TextVectorization(**kwargs)


# --- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(max_tokens=1), "greater than 1"),
    (dict(max_tokens=0), "greater than 1"),
    (dict(max_tokens=-3), "greater than 1"),
    (dict(max_tokens=2.5), "greater than 1"),
    (dict(max_tokens=True), "greater than 1"),
    (dict(output_mode="multi_hot", output_sequence_length=3), "must not be set"),
    (dict(output_sequence_length=0), "positive integer"),
    (dict(output_sequence_length=-2), "positive integer"),
    (dict(output_mode="onehot"), "unknown value for `output_mode`"),
    (dict(output_mode=None), "unknown value for `output_mode`"),
    (dict(standardize="upper"), "unknown value for `standardize`"),
    (dict(split="comma"), "unknown value for `split`"),
    (dict(split=3), "unknown value for `split`"),
    (dict(ngrams=0), "`ngrams` must be"),
    (dict(ngrams=2.5), "`ngrams` must be"),
    (dict(ngrams=(1, -1)), "`ngrams` must be"),
    (dict(output_mode="multi_hot", pad_to_max_tokens=True), "needs max_tokens"),
    (dict(encoding="no-such-codec"), "unknown encoding"),
    (dict(dtype="float32"), 'dtype must be "string"'),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.TextVectorization(**kwargs)


def test_ragged_and_sparse_are_refused_by_name():
    with pytest.raises(ValueError, match="cannot give ragged=True"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="cannot give sparse=True"):
        layers.TextVectorization(sparse=True, output_mode="multi_hot")
    # Keras 2's own refusals come first
    with pytest.raises(ValueError, match="`ragged` must not be true"):
        layers.TextVectorization(ragged=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="`sparse` may only be true"):
        layers.TextVectorization(sparse=True)


# --- config, shapes, models --------------------------------------------------------------------
KERAS_CONFIG = {  # tf_keras 2.21: TextVectorization(vocabulary=["x", "y", "z"]).get_config()
    "name": "text_vectorization_15", "trainable": True, "dtype": "string", "max_tokens": None,
    "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
    "output_mode": "int", "output_sequence_length": None, "pad_to_max_tokens": False,
    "sparse": False, "ragged": False, "vocabulary": ["x", "y", "z"], "idf_weights": None,
    "encoding": "utf-8", "vocabulary_size": 5,
}


def test_config_has_keras_keys_and_lists_the_vocabulary():
    layer = layers.TextVectorization.from_config(KERAS_CONFIG)
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y", "z"]
    assert layer.get_config() == KERAS_CONFIG
    learnt = adapted(output_mode="tf_idf", ngrams=(1, 2))
    config = learnt.get_config()
    assert config["batch_input_shape"] == (None,)  # adapt sets it, as Keras's
    assert config["vocabulary"] == learnt.get_vocabulary(include_special_tokens=False)
    assert config["ngrams"] == (1, 2)  # as tf_keras 2.21
    copy = layers.deserialize(layers.serialize(learnt))
    assert copy.get_config() == {**config, "name": copy.name}
    np.testing.assert_array_equal(copy(TEXTS).numpy(), learnt(TEXTS).numpy())


def test_output_shapes_summary_and_symbolic_calls():
    model = minidl.Sequential([
        layers.TextVectorization(vocabulary=["a", "b"], output_sequence_length=4),
        layers.Embedding(4, 2)])
    model.build((None,))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 4)                 0" in text and "(None, 4, 2)              8" in text
    strings = layers.Input(shape=(1,), dtype="string")
    assert strings.layer.dtype == "string"
    multi_hot = layers.TextVectorization(vocabulary=["a", "b"], output_mode="multi_hot")
    assert multi_hot(strings).shape == (None, 3)
    assert layers.TextVectorization(vocabulary=["a", "b"])(strings).shape == (None, None)
    padded = layers.TextVectorization(vocabulary=["a", "b"], output_mode="tf_idf",
                                      idf_weights=[1.0, 2.0], pad_to_max_tokens=True, max_tokens=7)
    assert padded(strings).shape == (None, 7)


def test_model_taking_strings_trains_saves_and_loads(tmp_path):
    texts = np.array(["good great fun", "bad awful boring", "great fun film", "awful bad film"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, dtype=np.float32)
    vectorize = adapted(texts, max_tokens=12, output_sequence_length=5)
    strings = layers.Input(shape=(1,), dtype="string")
    x = layers.Embedding(12, 4)(vectorize(strings))
    outputs = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x))
    model = minidl.Model(strings, outputs)
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    history = model.fit(texts, labels, epochs=3, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    probe = np.array(["good fun", "bad boring zzz"])
    expected = model.predict(probe, verbose=0)
    np.testing.assert_array_equal(model.predict(list(probe), verbose=0), expected)
    path = tmp_path / "model.mdl"
    model.save(path)
    loaded = load_model(path)
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(probe, verbose=0), expected)
    with pytest.raises(TypeError, match="takes strings"):
        model.predict(np.ones((2, 1)), verbose=0)


@minidl.utils.register_keras_serializable(package="text_test")
def keep_case(texts):
    return texts


def test_your_function_saves_by_its_registered_name(tmp_path):
    layer = layers.TextVectorization(standardize=keep_case, vocabulary=["A", "b"])
    assert layer.get_config()["standardize"] == "text_test>keep_case"
    model = minidl.Sequential([layer, layers.Embedding(4, 2)])
    model.build((None,))
    model.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl")
    assert loaded.layers[0].standardize is keep_case
    assert loaded.layers[0](np.array(["A a"])).tolist() == [[2, 1]]

    def unregistered(texts):
        return texts

    model = minidl.Sequential([layers.TextVectorization(standardize=unregistered,
                                                        vocabulary=["a"]), layers.Embedding(3, 2)])
    model.build((None,))
    model.save(tmp_path / "other.mdl")
    with pytest.raises(ValueError, match="unknown value for `standardize`: 'unregistered'"):
        load_model(tmp_path / "other.mdl")
    loaded = load_model(tmp_path / "other.mdl", custom_objects={"unregistered": unregistered})
    assert loaded.layers[0].standardize is unregistered


def test_in_a_dataset_map_as_the_tutorial():
    labels = np.array([1, 0, 1, 0, 1], dtype=np.float32)
    vectorize = adapted(max_tokens=8, output_sequence_length=3)
    ds = Dataset.from_tensor_slices((TEXTS, labels)).batch(2)
    first_texts, first_labels = next(iter(ds.map(lambda x, y: (vectorize(x), y))))
    assert first_texts.dtype == np.int64 and first_texts.tolist() == [[3, 6, 4], [3, 5, 4]]
    assert first_labels.tolist() == [1.0, 0.0]


def test_a_sequential_starting_with_it_builds_on_strings():
    texts = np.array(["good fun", "bad boring"] * 4)
    targets = np.array([1, 0] * 4, dtype=np.float32)
    vocabulary = ["good", "fun", "bad", "boring"]
    model = minidl.Sequential([layers.TextVectorization(vocabulary=vocabulary),
                               layers.Embedding(6, 2), layers.GlobalAveragePooling1D(),
                               layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(texts, targets, epochs=1, verbose=0)  # not built before: built on strings
    assert model.output_shape == (None, 1)
    counts = minidl.Sequential([layers.TextVectorization(vocabulary=vocabulary,
                                                         output_mode="count"), layers.Dense(1)])
    assert counts(texts[:2]).shape == (2, 1)
    assert counts.layers[1].kernel.shape == (5, 1)


def test_models_take_strings_shaped_b_or_b_by_1_whatever_their_input_shape():
    vectorize = adapted(np.array([["a b"], ["b c"]]), output_sequence_length=3)
    assert vectorize.get_config()["batch_input_shape"] == (None, None)  # as tf_keras 2.21
    sequential = minidl.Sequential([vectorize, layers.Embedding(5, 2)])
    for strings in (layers.Input(shape=(1,), dtype="string"), layers.Input(shape=(), dtype="string")):
        functional = minidl.Model(strings, vectorize(strings))
        for texts in (["a b", "c"], [["a b"], ["c"]], np.array(["a b", "c"])):
            assert functional.predict(texts, verbose=0).tolist() == [[4, 2, 0], [3, 0, 0]]
            assert sequential.predict(texts, verbose=0).shape == (2, 3, 2)


def test_a_model_taking_numbers_refuses_strings_and_says_how_to_give_them():
    class Classifier(minidl.Model):
        def __init__(self):
            super().__init__()
            self.vectorize = layers.TextVectorization(vocabulary=["a"], output_mode="multi_hot")
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(self.vectorize(inputs))

    with pytest.raises(TypeError, match="takes numbers and received strings.*dtype='string'"):
        Classifier()(np.array(["a b"]))
    with pytest.raises(TypeError, match="takes numbers and received strings"):
        minidl.Sequential([layers.Dense(1, input_shape=(1,))])(["a"])
