"""A layer you write, called on functional-API inputs of unknown sizes (``Input(shape=(None,
16))``): its output shape is found by running ``call`` on two stand-in sizes (sizes that
follow them are None, as Keras 2's symbolic call gives them); a ``call(inputs, mask=None)``
that needs its mask gets one; ``model(x, True)`` passes training positionally, as Keras 2.
And the masks placeholders will carry, ``x._keras_mask``, as Keras 2 shows them."""

import numpy as np
import pytest

import minidl
from minidl import layers, ops


class Relu(layers.Layer):
    supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


class FirstHalf(layers.Layer):
    def call(self, inputs):
        return inputs[:, : inputs.shape[1] // 2]


class LastThree(layers.Layer):
    def call(self, inputs):
        return inputs[:, -3:]


class SumOverSteps(layers.Layer):
    def call(self, inputs):
        return [ops.sum(inputs, axis=1), inputs]


class NeedsMask(layers.Layer):
    def call(self, inputs, mask=None):
        return inputs * np.expand_dims(mask.astype("float32"), -1)


class Refuses(layers.Layer):
    def call(self, inputs):
        raise RuntimeError("no stand-ins here")


@pytest.mark.parametrize("layer, shape", [
    (Relu(), (None, None, 16)), (FirstHalf(), (None, None, 16)), (LastThree(), (None, 3, 16)),
    (SumOverSteps(), [(None, 16), (None, None, 16)]), (NeedsMask(), (None, None, 16)),
])
def test_output_shapes_on_unknown_steps_as_keras_gives_them(layer, shape):
    out = layer(layers.Embedding(50, 16, mask_zero=True)(minidl.Input((None,), dtype="int32")))
    got = [o.shape for o in out] if isinstance(out, list) else out.shape
    assert got == shape


def test_a_model_of_them_runs_on_any_length_and_passes_the_mask():
    inputs = minidl.Input((None,), dtype="int32")
    x = NeedsMask()(Relu()(layers.Embedding(50, 4, mask_zero=True)(inputs)))
    model = minidl.Model(inputs, x)
    tokens = np.array([[3, 0, 5, 0, 7], [1, 2, 3, 4, 5]])
    y = model.predict(tokens, verbose=0)
    assert y.shape == (2, 5, 4)
    np.testing.assert_array_equal(y[0, [1, 3]], 0)  # masked steps zeroed by the mask


def test_a_layer_that_fails_on_stand_ins_says_to_implement_compute_output_shape():
    with pytest.raises(ValueError, match=r'"refuses" \(Refuses\) cannot find its output shape '
                                         r"for input shape \(None, None, 16\).*no stand-ins here"
                                         r".*implement compute_output_shape"):
        Refuses()(minidl.Input((None, 16)))


def test_training_given_positionally_as_in_keras():
    inputs = minidl.Input((3,))
    model = minidl.Model(inputs, layers.Dropout(0.5)(inputs))
    x = np.ones((4, 3), "float32")
    np.testing.assert_array_equal(model(x, False).numpy(), x)
    assert set(np.unique(model(x, True).numpy())) <= {0.0, 2.0}
    assert set(np.unique(layers.Dropout(0.5)(x, True).numpy())) <= {0.0, 2.0}
    with pytest.raises(TypeError, match=r'"model(_\d+)?" \(Functional\): training must be True, False '
                                        r"or None, received ndarray of shape \(4, 3\)"):
        model(x, np.ones((4, 3)))


class TemporalSplit(layers.Layer):
    def call(self, inputs):
        half = inputs.shape[1] // 2
        return [inputs[:, :half], inputs[:, half:]]

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else np.split(mask, 2, axis=1)


def test_symbolic_masks_as_keras_shows_them():
    """tf_keras 2.21: Embedding(mask_zero=True) and Masking give a bool KerasTensor of shape
    (None, steps); an Input, an LSTM without return_sequences, its states: none."""
    inputs = minidl.Input((None,), dtype="int32")
    assert inputs._keras_mask is None
    x = layers.Embedding(50, 4, mask_zero=True)(inputs)
    assert x._keras_mask.shape == (None, None) and x._keras_mask.dtype == "bool"
    assert "bool" in repr(x._keras_mask) and "embedding" in repr(x._keras_mask)
    assert layers.Masking()(minidl.Input((5, 3)))._keras_mask.shape == (None, 5)
    assert layers.LSTM(3)(x)._keras_mask is None
    out, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(x)
    assert out._keras_mask.shape == (None, None) and h._keras_mask is None is c._keras_mask
    assert Relu()(x)._keras_mask is not None  # supports_masking: passed on
    assert FirstHalf()(x)._keras_mask is None  # a custom layer drops it, as in Keras
    first, second = TemporalSplit()(layers.Masking()(minidl.Input((6, 3))))
    assert first._keras_mask.shape == second._keras_mask.shape == (None, 3)


def test_a_symbolic_mask_given_as_mask_is_that_runs_mask():
    inputs = minidl.Input((None,), dtype="int32")
    x = layers.Embedding(50, 4, mask_zero=True)(inputs)
    plain = layers.Dense(4)(x)
    model = minidl.Model(inputs, layers.LSTM(3)(plain, mask=x._keras_mask))
    padded = model.predict(np.array([[4, 9, 0, 0]]), verbose=0)
    np.testing.assert_allclose(padded, model.predict(np.array([[4, 9]]), verbose=0), atol=1e-6)
