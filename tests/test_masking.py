"""Masks: Masking, the mask machinery of Layer.__call__, recurrent layers skipping
padded steps, and losses/metrics ignoring them -- against tf_keras 2.21's numbers."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.layers import Layer
from minidl.models import load_model

X = np.array([[[1., 2.], [0, 0], [3, 4]], [[0, 0], [0, 0], [5, 6]]], np.float32)
MASK = np.array([[True, False, True], [False, False, True]])


def test_masking_makes_the_mask_and_zeroes_padded_steps():
    out = layers.Masking()(X)
    np.testing.assert_array_equal(out._keras_mask, MASK)
    np.testing.assert_array_equal(out.data, X)
    out = layers.Masking(mask_value=3.0)(np.full((1, 2, 2), 3.0, np.float32))
    assert not out._keras_mask.any() and not out.data.any()


@pytest.mark.parametrize("layer, keeps", [
    (layers.Dense(2), True), (layers.Dropout(0.1), True), (layers.Activation("relu"), True),
    (layers.Flatten(), False), (layers.Reshape((6,)), False),
    (layers.LSTM(2, return_sequences=True), True), (layers.LSTM(2), False),
])
def test_which_layers_pass_the_mask_on_as_keras(layer, keeps):
    out = layer(layers.Masking()(X))
    if keeps:
        np.testing.assert_array_equal(out._keras_mask, MASK)
    else:
        assert out._keras_mask is None


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_padded_steps_change_nothing(name, padding):
    """Each sequence, padded with zeros and masked, gives what it gives alone."""
    rng = np.random.default_rng(0)
    lengths = [5, 2, 3]
    layer = getattr(layers, name)(4)
    padded = np.zeros((3, 5, 3), np.float32)
    alone = []
    for i, length in enumerate(lengths):
        sequence = rng.uniform(0.1, 1, size=(1, length, 3)).astype(np.float32)
        alone.append(layer(sequence).data[0])
        if padding == "pre":
            padded[i, 5 - length:] = sequence[0]
        else:
            padded[i, :length] = sequence[0]
    model = minidl.Sequential([layers.Masking(input_shape=(5, 3)), layer])
    np.testing.assert_allclose(model.predict(padded, verbose=0), np.stack(alone), atol=1e-6)


def test_loss_and_metrics_ignore_masked_steps_as_keras():
    model = minidl.Sequential([
        layers.Masking(input_shape=(3, 2)),
        layers.SimpleRNN(1, return_sequences=True, kernel_initializer="ones",
                         recurrent_initializer="zeros")])
    model.compile("sgd", "mse", metrics=["mae"])
    y = np.ones((2, 3, 1), np.float32)
    prediction = model.predict(X, verbose=0)[..., 0]
    # tf_keras 2.21 on the same model: predictions, then evaluate()
    np.testing.assert_allclose(prediction, [[0.9950547, 0.9950547, 0.99999833], [0, 0, 1]],
                               atol=1e-6)
    loss, mae = model.evaluate(X, y, verbose=0)
    np.testing.assert_allclose([loss, mae], [8.1519265222596e-06, 0.001648982404731214],
                               rtol=1e-4)


def test_sample_weights_and_masks_multiply():
    model = minidl.Sequential([layers.Masking(input_shape=(3, 2)), layers.Dense(1)])
    model.compile("sgd", "mae")
    y = np.zeros((2, 3, 1), np.float32)
    prediction = model.predict(X, verbose=0)[..., 0]
    weights = np.array([1.0, 3.0], np.float32)
    loss = model.evaluate(X, y, sample_weight=weights, verbose=0)
    per_step = np.abs(prediction) * weights[:, None] * MASK
    np.testing.assert_allclose(loss, per_step.sum() / MASK.sum(), rtol=1e-5)


def test_masks_flow_through_a_functional_model_and_train():
    inputs = minidl.Input((3, 2))
    hidden = layers.LSTM(4, return_sequences=True)(layers.Masking()(inputs))
    outputs = layers.Dense(1)(hidden)
    model = minidl.Model(inputs, outputs)
    np.testing.assert_array_equal(model(X)._keras_mask, MASK)
    model.compile("adam", "mse")
    history = model.fit(X, np.ones((2, 3, 1), np.float32), epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


class ZeroMasked(Layer):
    """A layer with the interface of Embedding(mask_zero=True): mask = inputs != 0."""

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return inputs.data[..., 0] != 0


def test_a_layer_making_a_mask_from_token_ids():
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]], np.float32)[..., None]
    features = ZeroMasked()(ids)
    np.testing.assert_array_equal(features._keras_mask, [[1, 1, 0, 0], [1, 0, 0, 0]])
    out = layers.LSTM(2, return_sequences=True)(features)
    np.testing.assert_array_equal(out.data[:, 2], out.data[:, 1])  # carried through padding


def test_a_mask_that_is_one_bool_is_a_clear_error():
    class Wrong(ZeroMasked):
        def compute_mask(self, inputs, mask=None):
            return True

    with pytest.raises(TypeError, match="not a boolean array"):
        Wrong()(np.ones((2, 3, 1), np.float32))


def test_an_explicit_mask_argument_wins():
    layer = layers.GRU(3, return_sequences=True)
    x = np.random.default_rng(1).normal(size=(2, 3, 2)).astype(np.float32)
    masked = layer(layers.Masking()(x), mask=np.ones((2, 3), bool))
    np.testing.assert_allclose(masked.data, layer(x).data)


def test_masking_config_and_save_load(tmp_path):
    layer = layers.Masking(mask_value=-1.0)
    assert layers.Masking.from_config(layer.get_config()).mask_value == -1.0
    model = minidl.Sequential([layers.Masking(input_shape=(3, 2)), layers.LSTM(2)])
    expected = model.predict(X, verbose=0)
    model.save(tmp_path / "masked.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "masked.mdl").predict(X, verbose=0),
                                  expected)
    with pytest.raises(ValueError, match="mask_value must be a number"):
        layers.Masking(mask_value="zero")


def test_a_mask_given_to_a_layer_whose_call_takes_none_is_a_type_error_as_keras_2():
    # tf_keras 2.21: "Dense.call() got an unexpected keyword argument 'mask'"; a layer whose
    # call takes **kwargs gets it there
    dense = layers.Dense(2)
    with pytest.raises(TypeError, match=r"Dense.call\(\) got an unexpected keyword argument 'mask'"):
        dense(X, mask=MASK)
    assert not dense.built  # refused before anything changed

    class Doubles(layers.Layer):
        def call(self, inputs, **kwargs):
            self.seen = kwargs.get("mask")
            return inputs * 2

    doubles = Doubles()
    doubles(X, mask=MASK)
    np.testing.assert_array_equal(doubles.seen, MASK)
    masked = layers.Masking()(X)  # the way a mask reaches a layer that takes none
    np.testing.assert_array_equal(layers.Dense(2)(masked)._keras_mask, MASK)
    # a model takes mask= (Keras 2's Sequential and functional calls name it)
    sequential = minidl.Sequential([layers.Dense(2, input_shape=(3, 2))])
    assert sequential(X, mask=MASK).shape == (2, 3, 2)
    inputs = minidl.Input((3, 2))
    assert minidl.Model(inputs, layers.Dense(2)(inputs))(X, mask=MASK).shape == (2, 3, 2)


def test_a_model_used_as_a_layer_keeps_its_output_mask():
    inner = minidl.Sequential([layers.LSTM(2, return_sequences=True, input_shape=(3, 2))])
    outer = minidl.Sequential([layers.Masking(input_shape=(3, 2)), inner, layers.Dense(1)])
    np.testing.assert_array_equal(outer(X)._keras_mask, MASK)
