"""How a layer is called (layers/base.py): Keras's shapes, ``training``, dtypes, add_loss."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers, ops
from minidl.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


class Recorder(layers.Layer):
    """Keras's custom-layer template; remembers what build and call received."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.built_with = []
        self.trainings = []

    def build(self, input_shape):
        self.built_with.append(tuple(input_shape))
        # both spellings of the guides: input_shape[-1] and input_shape[1]
        assert input_shape[-1] == input_shape[1]
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")

    def call(self, inputs, training=None):
        self.trainings.append(training)
        return ops.matmul(inputs, self.w)


# --- shapes have the batch axis -----------------------------------------------------
def test_build_gets_the_batch_axis_eagerly_and_symbolically():
    eager = Recorder()
    eager(np.ones((32, 784)))
    assert eager.built_with == [(32, 784)] and eager.input_shape == (None, 784)
    symbolic = Recorder()
    out = symbolic(minidl.Input(shape=(784,)))
    assert symbolic.built_with == [(None, 784)] and out.shape == (None, 3)
    layer = layers.Dense(5)
    layer.build((None, 784))
    assert layer.kernel.shape == (784, 5)
    assert layer.compute_output_shape((None, 784)) == (None, 5)
    assert layer.output_shape == (None, 5)


def test_a_custom_layer_without_compute_output_shape_works_in_a_functional_model():
    """The functional guide's CustomDense: the output shape is found by running call."""
    inputs = minidl.Input(shape=(4,))
    outputs = Recorder(10)(inputs)
    model = minidl.Model(inputs, outputs)
    assert model.output_shape == (None, 10)
    assert model.predict(np.ones((2, 4))).shape == (2, 10)


def test_built_in_layers_use_keras_shapes():
    assert layers.Conv2D(8, 3).compute_output_shape((None, 28, 28, 1)) == (None, 26, 26, 8)
    assert layers.MaxPooling2D().compute_output_shape((None, 26, 26, 8)) == (None, 13, 13, 8)
    assert layers.Flatten().compute_output_shape((None, 13, 13, 8)) == (None, 1352)
    assert layers.GlobalAveragePooling2D().compute_output_shape((5, 7, 7, 3)) == (5, 3)
    assert layers.Concatenate().compute_output_shape([(None, 2), (None, 3)]) == (None, 5)
    bn = layers.BatchNormalization()
    bn.build((None, 4))
    assert bn.gamma.shape == (4,)


# --- training= ------------------------------------------------------------------------
class Block(layers.Layer):
    """A block whose call does not pass training on: Keras's call context does."""

    def __init__(self):
        super().__init__()
        self.inner = Recorder(2)
        self.dropout = layers.Dropout(0.5)

    def call(self, x):
        return self.dropout(self.inner(x))


def test_training_flows_into_layers_called_without_it():
    block = Block()
    x = np.ones((200, 2), np.float32)
    y = block(x, training=True).numpy()
    assert block.inner.trainings == [True]
    assert (y == 0).any(), "the Dropout inside the block must drop during training"
    y = block(x).numpy()
    # nothing said: None, which Keras passes too and every layer reads as "not training"
    assert block.inner.trainings[-1] is None and not (y == 0).all(axis=1).any()


def test_fit_trains_dropout_inside_a_custom_block():
    inputs = minidl.Input(shape=(2,))
    block = Block()
    model = minidl.Model(inputs, layers.Dense(1)(block(inputs)))
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.ones(8), epochs=1, verbose=0)
    assert True in block.inner.trainings
    model.predict(np.ones((2, 2)))
    assert block.inner.trainings[-1] is False


def test_explicit_training_false_in_a_functional_model_is_honoured():
    """The transfer-learning recipe: base(x, training=False) keeps BatchNormalization
    in inference mode even when the outer model trains."""
    base = minidl.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    inputs = minidl.Input(shape=(3,))
    model = minidl.Model(inputs, layers.Dense(1)(base(inputs, training=False)))
    model.compile("adam", "mse")
    bn = base.layers[1]
    moving = [bn.moving_mean.numpy(), bn.moving_variance.numpy()]
    x = np.random.default_rng(0).normal(3, 2, size=(32, 3))
    model.fit(x, np.ones(32), epochs=2, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving[1])
    assert not np.array_equal(bn.gamma.numpy(), np.ones(4)), "gamma still trains (trainable)"


def test_a_frozen_batch_normalization_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = np.random.default_rng(1).normal(5, 3, size=(64, 2)).astype(np.float32)
    bn(x, training=True)
    bn.trainable = False
    moving = bn.moving_mean.numpy()
    y = bn(x, training=True).numpy()
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving)
    np.testing.assert_allclose(y, bn(x, training=False).numpy())


def test_a_call_default_of_training_true_is_used_at_the_top_level():
    class AlwaysTrain(layers.Layer):
        def call(self, x, training=True):
            return x * (2.0 if training else 1.0)

    layer = AlwaysTrain()
    assert layer(np.ones((1, 1))).numpy()[0, 0] == 2.0
    assert layer(np.ones((1, 1)), training=False).numpy()[0, 0] == 1.0


def test_functional_config_keeps_training_false(tmp_path):
    inner = minidl.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dropout(0.9)])
    inputs = minidl.Input(shape=(3,))
    model = minidl.Model(inputs, inner(inputs, training=False))
    model.compile("sgd", "mse")
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl")
    x = np.ones((4, 3), np.float32)
    np.testing.assert_allclose(loaded(x, training=True).numpy(), loaded(x).numpy())


# --- Sequential with a built model first -------------------------------------------------
def test_sequential_starting_with_a_built_model_is_built_at_once():
    base = minidl.Sequential([layers.Dense(4, input_shape=(3,))])
    model = minidl.Sequential([base, layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2)
    model.summary(print_fn=lambda line: None)
    functional_base = minidl.Model(*(lambda i: (i, layers.Dense(5)(i)))(minidl.Input(shape=(6,))))
    stacked = minidl.Sequential([functional_base, layers.Dense(1)])
    assert stacked.built and stacked.input_shape == (None, 6)


# --- dtypes ---------------------------------------------------------------------------------
def test_float64_layers_and_models_end_to_end():
    model = minidl.Sequential([
        layers.Dense(8, activation="relu", input_shape=(3,), dtype="float64"),
        layers.Dense(2, activation="softmax", dtype="float64"),
    ])
    assert all(w.dtype == np.float64 for w in model.weights)
    x = np.random.default_rng(0).normal(size=(16, 3))
    y = (x[:, 0] > 0).astype(int)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x).dtype == np.float64
    assert model.layers[0].dtype == "float64"


def test_float64_layers_pass_gradcheck():
    layer = layers.Dense(3, activation="tanh", dtype="float64")
    x = np.random.default_rng(2).normal(size=(4, 5))
    gradcheck(lambda inputs: layer(inputs), [x])  # through the layer's float64 kernel
    assert layer.kernel.dtype == np.float64


def test_a_float32_layer_casts_float64_tensors_as_keras_does():
    layer = layers.Dense(2)
    out = layer(Tensor(np.ones((1, 3))))
    assert out.dtype == np.float32


def test_unsupported_dtypes_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="float32' or 'float64"):
        layers.Dense(2, dtype="float16")
    with pytest.raises(ValueError, match="mixed precision"):
        layers.Dense(2, dtype="mixed_float16")


# --- add_loss ----------------------------------------------------------------------------------
class ActivityRegularization(layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(inputs))
        return inputs


def test_add_loss_keeps_the_losses_of_the_latest_call():
    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.regularizer = ActivityRegularization()

        def call(self, x):
            return self.regularizer(x)

    outer = Outer()
    assert outer.losses == []
    outer(np.ones((1, 3)))
    assert len(outer.losses) == 1 and float(outer.losses[0]) == pytest.approx(0.03)
    outer(np.ones((1, 3)))
    assert len(outer.losses) == 1, "losses of the previous call are dropped"


def test_fit_minimises_losses_added_by_layers_with_or_without_a_compiled_loss():
    inputs = minidl.Input(shape=(3,))
    model = minidl.Model(inputs, ActivityRegularization(1.0)(layers.Dense(3)(inputs)))
    x = np.random.default_rng(0).random((8, 3))
    model.compile("sgd")
    history = model.fit(x, epochs=3, verbose=0)  # the model's own loss: no targets needed
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.compile("sgd", "mse")
    with_mse = model.evaluate(x, x, verbose=0)
    model.compile("sgd")
    assert with_mse > model.evaluate(x, verbose=0)


def test_a_model_called_without_training_lets_each_layer_take_its_default():
    """Keras 2: data_augmentation(image) augments (RandomFlip's call defaults to
    training=True); Dropout does not drop; predict() turns augmentation off."""
    augment = minidl.Sequential([layers.RandomFlip("horizontal", seed=1), layers.Dropout(0.9)])
    image = np.arange(8, dtype=np.float32).reshape(1, 2, 4, 1)
    flipped = False
    for _ in range(20):
        out = augment(image).numpy()
        assert set(np.unique(out)) <= set(range(8)), "Dropout must stay off"
        flipped |= bool(np.array_equal(out, image[:, :, ::-1]))
    assert flipped
    np.testing.assert_array_equal(augment.predict(image), image)
