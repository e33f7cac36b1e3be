"""predict() runs a big batch in slices only where that cannot change the result."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.layers import base
from minidl.models import predict_slices
from minidl.models.predict_slices import predict_slice


def small_cnn():
    return minidl.Sequential([
        layers.Conv2D(8, (3, 3), activation="relu", input_shape=(12, 12, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


class CenterBatch(base.Layer):
    """Subtracts the batch mean: each sample's output depends on the whole batch."""

    def call(self, inputs):
        return inputs - inputs.mean(axis=0, keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape


@pytest.fixture
def tiny_budget(monkeypatch):
    """A budget of 2 KB: the small CNN (10x10x8 = 800 values per sample) runs 1 at a time."""
    monkeypatch.setattr(predict_slices, "SLICE_BYTES", 2048)


def test_the_tutorial_cnn_runs_a_big_batch_in_slices_and_the_mlp_does_not():
    cnn = minidl.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    mlp = minidl.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                             layers.Dense(10, activation="softmax")])
    assert predict_slice(cnn, 1000) == predict_slices.SLICE_BYTES // (26 * 26 * 32 * 4) == 48
    assert predict_slice(cnn, 32) == 32
    assert predict_slice(mlp, 1000) == 1000


def test_sliced_predictions_match_whole_batches(tiny_budget):
    model = small_cnn()
    x = np.random.default_rng(0).random((50, 12, 12, 1), dtype=np.float32)
    assert predict_slice(model, 50) == 1  # 800 values per sample already pass 2 KB
    sliced = model.predict(x, batch_size=50)
    with minidl.no_grad():
        whole = model(x).numpy()
    np.testing.assert_allclose(sliced, whole, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(model.predict(x, batch_size=50), sliced)  # repeatable
    np.testing.assert_allclose(model.predict(x, batch_size=7), sliced, rtol=1e-5, atol=1e-7)


def test_a_functional_model_of_minidl_layers_is_sliced(tiny_budget):
    inputs = minidl.Input(shape=(12, 12, 1))
    hidden = layers.Flatten()(layers.Conv2D(8, (3, 3), activation="relu")(inputs))
    model = minidl.Model(inputs=inputs, outputs=layers.Dense(3)(hidden))
    assert predict_slice(model, 50) == 1
    x = np.random.default_rng(1).random((20, 12, 12, 1), dtype=np.float32)
    with minidl.no_grad():
        whole = model(x).numpy()
    np.testing.assert_allclose(model.predict(x, batch_size=20), whole, rtol=1e-5, atol=1e-7)


def test_models_that_may_mix_samples_are_never_sliced(tiny_budget):
    """A custom layer, or a subclassed model's own call(), may use the whole batch."""
    centered = minidl.Sequential([layers.Flatten(input_shape=(12, 12, 1)), CenterBatch(),
                                  layers.Dense(3)])
    assert predict_slice(centered, 50) == 50
    x = np.random.default_rng(2).random((50, 12, 12, 1), dtype=np.float32)
    with minidl.no_grad():
        whole = centered(x).numpy()
    np.testing.assert_allclose(centered.predict(x, batch_size=50), whole, rtol=1e-6, atol=1e-7)

    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x, training=False):
            return self.dense(x)

    net = Net()
    net(np.ones((2, 5), np.float32))
    assert predict_slice(net, 50) == 50


def test_a_sequential_model_built_by_its_first_call_knows_its_shapes(tiny_budget):
    deferred = minidl.Sequential([layers.Dense(400), layers.Dense(2)])  # no input_shape
    x = np.random.default_rng(0).random((30, 5), dtype=np.float32)
    assert predict_slice(deferred, 30) == 30  # nothing known yet: never sliced
    first = deferred.predict(x)  # built by its first call, with the inputs' shape, as in Keras
    assert deferred.input_shape == (None, 5)
    assert predict_slice(deferred, 30) < 30
    np.testing.assert_allclose(deferred.predict(x, batch_size=30), first, rtol=1e-5)


def test_a_model_with_two_inputs_and_two_outputs_is_sliced_whole(tiny_budget):
    """Every input is sliced alike and every output lands in its own rows."""
    image, extra = minidl.Input(shape=(12, 12, 1)), minidl.Input(shape=(4,))
    features = layers.Flatten()(layers.Conv2D(8, (3, 3), activation="relu")(image))
    joined = layers.Concatenate()([features, extra])
    model = minidl.Model(inputs=[image, extra],
                         outputs=[layers.Dense(3)(joined), layers.Dense(2, activation="softmax")(joined)])
    assert predict_slice(model, 30) == 1
    rng = np.random.default_rng(3)
    xs = [rng.random((30, 12, 12, 1), dtype=np.float32), rng.random((30, 4), dtype=np.float32)]
    with minidl.no_grad():
        whole = [t.numpy() for t in model(xs)]
    sliced = model.predict(xs, batch_size=30)
    assert len(sliced) == 2
    for got, want in zip(sliced, whole):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
