"""Integer inputs: ``Input(shape=(None,), dtype="int32")`` into an Embedding.

Checked side by side with tf_keras 2.21: an int32/int64 Input gives a KerasTensor of
that dtype; Embedding takes it; Dense and BatchNormalization cast it to float32;
Conv1D, Conv2D, AveragePooling and Softmax refuse it.  minidl's refusal names the
layer (tf_keras's TypeError names the TensorFlow op instead).  Deep Learning with
Python's 7.1 model takes ``Input(shape=(None,), dtype='int32')`` text.
"""

import numpy as np
import pytest

import minidl
from minidl import Input, Model, layers


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_input_flows_into_embedding(dtype):
    words = Input(shape=(None,), dtype=dtype)
    assert words.dtype == dtype
    embedded = layers.Embedding(10, 4)(words)
    assert embedded.shape == (None, None, 4) and embedded.dtype == "float32"


def _text_model(seen):
    words = Input(shape=(5,), dtype="int32")
    embedding = layers.Embedding(10, 4)
    call = embedding.call

    def spy(inputs):
        seen.append(np.asarray(inputs.data if isinstance(inputs, minidl.Tensor) else inputs).dtype)
        return call(inputs)

    embedding.call = spy
    x = layers.Flatten()(embedding(words))
    model = Model(words, layers.Dense(1, activation="sigmoid")(x))
    model.compile("rmsprop", "binary_crossentropy")
    return model


def test_fit_and_predict_hand_integers_to_the_embedding():
    seen = []
    model = _text_model(seen)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (16, 5))
    history = model.fit(x, (x[:, 0] > 4).astype("float32"), epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x[:3], verbose=0).shape == (3, 1)
    assert seen and {dt.name for dt in seen} == {"int32"}  # no float32 on the way


def test_whole_floats_are_cast_and_fractions_refused():
    seen = []
    model = _text_model(seen)
    model.predict(np.array([[1.0, 2, 3, 4, 5]]), verbose=0)
    assert seen[-1].name == "int32"
    with pytest.raises(ValueError, match="whole numbers"):
        model.predict(np.array([[1.5, 2, 3, 4, 5]]), verbose=0)


def test_values_beyond_the_dtype_are_refused():
    model = _text_model([])
    with pytest.raises(ValueError, match="int32 cannot hold"):
        model.predict(np.array([[2**40, 1, 2, 3, 4]]), verbose=0)


@pytest.mark.parametrize("make", [lambda: layers.Dense(3), lambda: layers.BatchNormalization()])
def test_layers_keras_casts_for_cast(make):
    inputs = Input(shape=(4,), dtype="int32")
    out = make()(inputs)
    assert out.dtype == "float32"
    model = Model(inputs, out)
    assert model.predict(np.arange(8).reshape(2, 4), verbose=0).dtype == np.float32


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Conv1D(2, 2), (6, 1)),
    (lambda: layers.Conv2D(2, 2), (4, 4, 1)),
    (lambda: layers.Conv2DTranspose(2, 2), (4, 4, 1)),
    (lambda: layers.AveragePooling1D(), (4, 1)),
    (lambda: layers.AveragePooling2D(), (4, 4, 1)),
    (lambda: layers.Softmax(), (4,)),
])
def test_layers_that_need_floats_refuse_integer_inputs(make, shape):
    layer = make()
    with pytest.raises(ValueError, match=f'{type(layer).__name__} layer "{layer.name}".*int32'):
        layer(Input(shape=shape, dtype="int32"))


def test_sequential_starting_with_embedding_keeps_integers():
    model = minidl.Sequential([layers.Embedding(10, 4, input_length=5), layers.Flatten(),
                               layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).integers(0, 10, (8, 5))
    model.fit(x, np.ones(8), epochs=1, verbose=0)
    assert model.integer_inputs() == ["any"]


def test_integer_input_saves_and_loads(tmp_path):
    model = _text_model([])
    assert model.layers[0].get_config()["dtype"] == "int32"
    model.save(tmp_path / "m.keras")
    again = minidl.models.load_model(tmp_path / "m.keras")
    assert again.inputs[0].dtype == "int32"
    x = np.arange(10).reshape(2, 5)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("bad", ["int8", "uint16", "bool"])
def test_other_integer_dtypes_are_refused(bad):
    with pytest.raises(ValueError, match="int32' or 'int64"):
        Input(shape=(3,), dtype=bad)


def test_every_training_entry_point_hands_over_integers():
    seen = []
    model = _text_model(seen)
    x = np.random.default_rng(2).integers(0, 10, (8, 5))
    y = np.ones(8, "float32")

    def batches():
        while True:
            yield x, y

    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    model.predict_on_batch(x)
    model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    model.fit(minidl.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert len(seen) >= 8 and {dt.kind for dt in seen} == {"i"}
