"""minidl.utils.text_dataset_from_directory against Keras 2 (tf_keras 2.21), and the
core of TensorFlow's "Basic text classification" tutorial on a tiny corpus.

The file lists and texts that tf_keras 2.21 gave for the tree ``make_tree`` builds
are copied here.
"""

import re
import string

import numpy as np
import pytest

import minidl
from minidl import layers, losses
from minidl.utils import text_dataset_from_directory


def make_tree(root):
    """Two classes of .txt files; a subfolder, an upper-case extension, a non-.txt file,
    a hidden folder and a UTF-8 file, each file holding its own name."""
    files = {f"{c}/f{i * 3}.txt": f"{c} file {i * 3}" for c, n in (("neg", 7), ("pos", 6))
             for i in range(n)}
    files.update({"pos/sub/deep.txt": "pos sub deep", "pos/notes.md": "not text",
                  "neg/UPPER.TXT": "neg upper", ".hidden/h.txt": "hidden",
                  "neg/utf.txt": "caf\u00e9 na\u00efve"})
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def pairs(dataset):
    """(text, label) of every element of a dataset of batches."""
    found = []
    for texts, labels in dataset:
        assert texts.dtype == object
        found += [(text, label.tolist()) for text, label in zip(texts, labels)]
    return found


# tf_keras 2.21, shuffle=False: class folders sorted, files sorted within each folder
# (upper-case names first), subfolders after the files
IN_ORDER = [("neg upper", 0), ("neg file 0", 0), ("neg file 12", 0), ("neg file 15", 0),
            ("neg file 18", 0), ("neg file 3", 0), ("neg file 6", 0), ("neg file 9", 0),
            ("café naïve", 0), ("pos file 0", 1), ("pos file 12", 1), ("pos file 15", 1),
            ("pos file 3", 1), ("pos file 6", 1), ("pos file 9", 1), ("pos sub deep", 1)]


def test_files_in_keras_order_with_class_names(tmp_path, capsys):
    ds = text_dataset_from_directory(make_tree(tmp_path), shuffle=False, batch_size=4)
    assert "Found 16 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    texts, labels = next(iter(ds))
    assert texts.shape == (4,) and labels.dtype == np.int32 and labels.shape == (4,)
    assert pairs(ds) == IN_ORDER
    assert len(ds) == 4


def test_validation_split_picks_the_files_keras_picks(tmp_path):
    make_tree(tmp_path)
    kwargs = dict(validation_split=0.3, seed=1337, batch_size=4)
    training = text_dataset_from_directory(tmp_path, subset="training", **kwargs)
    validation = text_dataset_from_directory(tmp_path, subset="validation", **kwargs)
    # tf_keras 2.21 with the same seed
    assert sorted(pairs(training)) == [
        ("neg file 0", 0), ("neg file 12", 0), ("neg file 15", 0), ("neg file 18", 0),
        ("neg file 3", 0), ("neg file 6", 0), ("neg upper", 0), ("pos file 0", 1),
        ("pos file 12", 1), ("pos file 15", 1), ("pos file 9", 1), ("pos sub deep", 1)]
    assert sorted(pairs(validation)) == [("café naïve", 0), ("neg file 9", 0),
                                         ("pos file 3", 1), ("pos file 6", 1)]
    both_training, both_validation = text_dataset_from_directory(tmp_path, subset="both", **kwargs)
    assert sorted(pairs(both_training)) == sorted(pairs(training))
    # the validation part of "both" is not shuffled: Keras's order
    assert pairs(both_validation) == [("café naïve", 0), ("pos file 3", 1), ("pos file 6", 1),
                                      ("neg file 9", 0)]
    assert both_validation.class_names == ["neg", "pos"]


def test_label_modes_class_names_max_length_and_no_labels(tmp_path):
    make_tree(tmp_path)
    binary = text_dataset_from_directory(tmp_path, shuffle=False, max_length=6,
                                         label_mode="binary", batch_size=16)
    texts, labels = next(iter(binary))
    # max_length counts bytes, as Keras: "café " is 6 bytes
    assert texts.tolist() == ["neg up"] + ["neg fi"] * 7 + ["café "] + ["pos fi"] * 6 + ["pos su"]
    assert labels.dtype == np.float32 and labels.shape == (16, 1)
    categorical = text_dataset_from_directory(tmp_path, shuffle=False, batch_size=None,
                                              label_mode="categorical", class_names=["pos", "neg"])
    singles = list(categorical)
    assert singles[0][0].shape == () and singles[0][0][()] == "neg upper"
    assert [label.tolist() for _, label in singles] == [[0.0, 1.0]] * 9 + [[1.0, 0.0]] * 7
    texts_only = text_dataset_from_directory(tmp_path, shuffle=False, labels=None)
    assert [t for batch in texts_only for t in batch] == ["hidden"] + [t for t, _ in IN_ORDER]


def test_bad_arguments_are_refused(tmp_path):
    make_tree(tmp_path)
    with pytest.raises(ValueError, match="is not a directory"):
        text_dataset_from_directory(tmp_path / "missing")
    with pytest.raises(ValueError, match="give a seed"):
        text_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="between 0 and 1"):
        text_dataset_from_directory(tmp_path, validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match="label_mode must be"):
        text_dataset_from_directory(tmp_path, label_mode="sparse")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        text_dataset_from_directory(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="max_length must be a non-negative integer"):
        text_dataset_from_directory(tmp_path, max_length=-1)
    with pytest.raises(ValueError, match="class_names .* do not match"):
        text_dataset_from_directory(tmp_path, class_names=["neg", "other"])
    (tmp_path / "third").mkdir()
    (tmp_path / "third" / "t.txt").write_text("third")
    with pytest.raises(ValueError, match='label_mode="binary" needs exactly 2 classes'):
        text_dataset_from_directory(tmp_path, label_mode="binary")
    (tmp_path / "third" / "latin.txt").write_bytes("caf\u00e9".encode("latin-1"))
    with pytest.raises(ValueError, match="latin.txt is not UTF-8 text"):
        list(text_dataset_from_directory(tmp_path, shuffle=False))
    empty = tmp_path / "empty"
    (empty / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No text files found"):
        text_dataset_from_directory(empty)


# --- TensorFlow's "Basic text classification", on a tiny corpus -------------------------------
GOOD = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "fun"]
BAD = ["awful", "boring", "hated", "dull", "terrible", "waste", "bland"]
NEUTRAL = ["the", "movie", "film", "was", "plot", "actors", "a", "and", "it"]


def make_reviews(root, count=30, seed=0):
    """``count`` short reviews per class: neutral words and words of their class."""
    rng = np.random.RandomState(seed)
    for name, words in (("neg", BAD), ("pos", GOOD)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            chosen = list(rng.choice(NEUTRAL, 5)) + list(rng.choice(words, 3))
            rng.shuffle(chosen)
            text = " ".join(chosen).capitalize() + "!<br /><br />" + rng.choice(NEUTRAL) + "."
            (root / name / f"{i}_{rng.randint(1, 10)}.txt").write_text(text)
    return root


def custom_standardization(input_data):
    """The tutorial's function, in Python: lower case, no <br />, no punctuation."""
    stripped = [text.lower().replace("<br />", " ") for text in input_data]
    return [re.sub("[%s]" % re.escape(string.punctuation), "", text) for text in stripped]


def test_basic_text_classification_tutorial(tmp_path):
    minidl.utils.set_random_seed(0)
    make_reviews(tmp_path / "train")
    make_reviews(tmp_path / "test", count=10, seed=1)
    batch_size, seed = 8, 42
    raw_train_ds = text_dataset_from_directory(tmp_path / "train", batch_size=batch_size,
                                               validation_split=0.2, subset="training", seed=seed)
    raw_val_ds = text_dataset_from_directory(tmp_path / "train", batch_size=batch_size,
                                             validation_split=0.2, subset="validation", seed=seed)
    raw_test_ds = text_dataset_from_directory(tmp_path / "test", batch_size=batch_size)
    assert raw_train_ds.class_names == ["neg", "pos"]

    max_features, sequence_length = 40, 12
    vectorize_layer = layers.TextVectorization(standardize=custom_standardization,
                                               max_tokens=max_features, output_mode="int",
                                               output_sequence_length=sequence_length)
    train_text = raw_train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(train_text)
    assert "br" not in vectorize_layer.get_vocabulary()
    assert vectorize_layer.get_vocabulary()[:2] == ["", "[UNK]"]

    def vectorize_text(text, label):
        text = np.expand_dims(text, -1)
        return vectorize_layer(text), label

    text_batch, label_batch = next(iter(raw_train_ds))
    vectorized, _ = vectorize_text(text_batch, label_batch)
    assert vectorized.shape == (batch_size, sequence_length) and vectorized.dtype == np.int64

    train_ds = raw_train_ds.map(vectorize_text).cache().prefetch(minidl.data.AUTOTUNE)
    val_ds = raw_val_ds.map(vectorize_text).cache()
    test_ds = raw_test_ds.map(vectorize_text).cache()

    model = minidl.Sequential([
        layers.Embedding(max_features, 16),
        layers.Dropout(0.2),
        layers.GlobalAveragePooling1D(),
        layers.Dropout(0.2),
        layers.Dense(1)])
    model.compile(loss=losses.BinaryCrossentropy(from_logits=True), optimizer="adam",
                  metrics=minidl.metrics.BinaryAccuracy(threshold=0.0))
    history = model.fit(train_ds, validation_data=val_ds, epochs=3, verbose=0)
    assert history.history["loss"][2] < history.history["loss"][0]
    assert set(history.history) == {"loss", "binary_accuracy", "val_loss",
                                    "val_binary_accuracy"}
    loss, accuracy = model.evaluate(test_ds, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1

    export_model = minidl.Sequential([vectorize_layer, model, layers.Activation("sigmoid")])
    export_model.compile(loss=losses.BinaryCrossentropy(from_logits=False), optimizer="adam",
                         metrics=["accuracy"])
    metrics = export_model.evaluate(raw_test_ds, return_dict=True, verbose=0)
    assert metrics["accuracy"] == pytest.approx(accuracy)
    examples = ["The movie was great!", "The movie was okay.", "The movie was terrible..."]
    probabilities = export_model.predict(examples, verbose=0)
    assert probabilities.shape == (3, 1)
    expected = 1 / (1 + np.exp(-model.predict(vectorize_layer(examples), verbose=0)))
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)


def test_keras_2_3_module_paths():
    # tf_keras 2.21 keeps both: keras.preprocessing.text_dataset_from_directory and
    # keras.layers.experimental.preprocessing.TextVectorization
    assert minidl.preprocessing.text_dataset_from_directory is text_dataset_from_directory
    assert minidl.preprocessing.image_dataset_from_directory is \
        minidl.utils.image_dataset_from_directory
    assert layers.experimental.preprocessing.TextVectorization is layers.TextVectorization
