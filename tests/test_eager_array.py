"""TensorFlow's ``.numpy()`` on what minidl gives as NumPy arrays (``minidl.eager_array``),
``Dataset.element_spec``, and ``minidl.device``.

The element specs are what TensorFlow 2.21 printed for the same pipelines (tf.string is
dtype object here)."""

import numpy as np
import pytest

import minidl
from minidl import keras, layers
from minidl.data import Dataset, TensorSpec
from minidl.eager_array import EagerArray

TEXTS = np.array(["a b", "c d e"])
LABELS = np.array([0, 1])


def test_dataset_elements_have_numpy_and_stay_arrays():
    ds = Dataset.from_tensor_slices((TEXTS, LABELS))
    for text, label in ds.batch(2).take(1):
        assert isinstance(text, np.ndarray) and isinstance(text, EagerArray)
        plain = text.numpy()
        assert type(plain) is np.ndarray and plain.tolist() == ["a b", "c d e"]
        assert np.shares_memory(plain, text)  # a view, as the element itself is
        assert type(label.numpy()) is np.ndarray and label.numpy().dtype == np.int64
        assert (label + 1).numpy().tolist() == [1, 2]  # NumPy arithmetic keeps .numpy()
        assert type(np.asarray(label)) is np.ndarray
    text, label = next(ds.as_numpy_iterator())  # plain arrays, as tf.data's
    assert type(text) is np.ndarray and type(label) is np.ndarray


@pytest.mark.parametrize("pipeline", ["map", "filter", "shuffle", "repeat", "skip", "cache",
                                      "zip", "unbatch", "generator"])
def test_every_pipeline_gives_arrays_with_numpy(pipeline):
    ds = Dataset.from_tensor_slices(LABELS)
    ds = {"map": lambda: ds.map(lambda x: x * 2),
          "filter": lambda: ds.filter(lambda x: x >= 0),
          "shuffle": lambda: ds.shuffle(4, seed=1),
          "repeat": lambda: ds.repeat(2),
          "skip": lambda: ds.skip(1),
          "cache": lambda: ds.cache(),
          "zip": lambda: Dataset.zip((ds, ds)).map(lambda a, b: a + b),
          "unbatch": lambda: ds.batch(2).unbatch(),
          "generator": lambda: Dataset.from_generator(lambda: iter([0, 1]))}[pipeline]()
    values = [x.numpy() for x in ds]
    assert values and all(type(v) is np.ndarray for v in values)


def test_map_functions_get_plain_arrays():
    seen = []
    list(Dataset.from_tensor_slices(LABELS).map(lambda x: seen.append(type(x)) or x))
    assert seen == [np.ndarray, np.ndarray]  # (tf.data's map functions get graph tensors)


def test_lookup_and_vectorize_outputs_have_numpy():
    encoder = layers.TextVectorization(max_tokens=10)
    encoder.adapt(["a b c"])
    encoded = encoder(TEXTS)
    assert encoded[:3].numpy().tolist() == [[4, 3, 0], [2, 1, 1]]  # tf_keras 2.21
    lookup = layers.StringLookup(vocabulary=["a", "b"])
    assert lookup(np.array(["b", "z"])).numpy().tolist() == [2, 0]
    assert layers.IntegerLookup(vocabulary=[7, 9])(np.array([9, 7])).numpy().tolist() == [2, 1]
    assert layers.StringLookup(vocabulary=["a", "b"], invert=True)(
        np.array([1, 2])).numpy().tolist() == ["a", "b"]


def test_integer_arrays_with_numpy_still_go_to_an_embedding_as_integers():
    """A model given an EagerArray of word indices reads them as it reads a plain array."""
    minidl.utils.set_random_seed(0)
    encoder = layers.TextVectorization(max_tokens=10, output_sequence_length=4)
    encoder.adapt(["a b c d e f"])
    model = keras.Sequential([layers.Embedding(10, 3), layers.GlobalAveragePooling1D()])
    ids = encoder(TEXTS)
    assert isinstance(ids, EagerArray)
    np.testing.assert_array_equal(model(ids).numpy(), model(ids.numpy()).numpy())
    np.testing.assert_array_equal(model.predict(ids, verbose=0),
                                  model.predict(ids.numpy(), verbose=0))


def test_fit_on_a_dataset_is_unchanged():
    """fit reads a Dataset's batches as plain arrays: the same losses as from arrays."""
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    losses = []
    for data in ((x, y), (Dataset.from_tensor_slices((x, y)).batch(8),)):
        minidl.utils.set_random_seed(1)
        model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
        model.compile("sgd", "binary_crossentropy")
        kwargs = {"batch_size": 8} if len(data) == 2 else {}
        losses.append(model.fit(*data, epochs=2, shuffle=False, verbose=0,
                                **kwargs).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


# --- element_spec: TensorFlow 2.21's for the same pipelines ----------------------------------------
def S(shape, dtype):
    return TensorSpec(shape, dtype)


def test_element_spec_of_slices_batches_and_maps():
    ds = Dataset.from_tensor_slices((TEXTS, LABELS))
    assert ds.element_spec == (S((), object), S((), np.int64))
    assert ds.shuffle(10).batch(2).prefetch(1).element_spec == (S((None,), object),
                                                                S((None,), np.int64))
    assert ds.batch(2, drop_remainder=True).element_spec == (S((2,), object), S((2,), np.int64))
    assert ds.batch(2).map(lambda x, y: (x, y.astype("float32") * 2)).element_spec == (
        S((None,), object), S((None,), np.float32))
    assert ds.batch(2).unbatch().element_spec == (S((), object), S((), np.int64))
    assert Dataset.range(5).batch(2).take(1).element_spec == S((None,), np.int64)
    assert Dataset.range(5).repeat().batch(2, drop_remainder=True).element_spec == S((2,), np.int64)
    rows = {"a": np.zeros((4, 3), "float32"), "b": np.zeros(4, "int32")}
    assert Dataset.from_tensor_slices(rows).batch(3).element_spec == {
        "a": S((None, 3), np.float32), "b": S((None,), np.int32)}
    zipped = Dataset.zip((Dataset.range(3), Dataset.range(3).map(lambda x: np.float32(x) * 1.5)))
    assert zipped.element_spec == (S((), np.int64), S((), np.float32))


def test_element_spec_of_generators():
    signature = TensorSpec((None,), "int32")
    ds = Dataset.from_generator(lambda: iter([]), output_signature=signature)
    assert ds.element_spec == signature  # known without a pass, even when empty
    assert Dataset.from_generator(lambda: iter([[1, 2]])).element_spec == S((2,), np.int32)
    with pytest.raises(ValueError, match="no element.*output_signature"):
        Dataset.from_generator(lambda: iter([])).element_spec


# --- minidl.device ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["CPU:0", "cpu", "/cpu:0", "/device:CPU:0", " CPU:0 ",
                                  "/job:localhost/replica:0/task:0/device:CPU:0", None])
def test_a_cpu_device_runs_the_block_as_it_is(name):
    for device in (minidl.device, keras.device):
        with device(name):
            out = layers.Dense(2, kernel_initializer="ones")(np.ones((1, 3), "float32"))
        np.testing.assert_array_equal(out.numpy(), [[3, 3]])


@pytest.mark.parametrize("name", ["GPU:0", "/device:GPU:0", "/gpu:1", "TPU:0", "CPU:1", ""])
def test_any_other_device_is_refused_when_asked_for(name):
    if name == "":
        with minidl.device(name):  # tf.device("") places nothing: allowed
            pass
        return
    with pytest.raises(ValueError, match="CPU only"):
        minidl.device(name)  # refused at once, before any `with`
    with pytest.raises(TypeError, match="must be a string"):
        minidl.device(0)
