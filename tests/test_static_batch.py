"""A static batch size from ``Input(batch_shape=...)`` (or ``batch_size=``) is kept
in the symbolic shapes of the layers after it, as Keras 2 keeps it (tf_keras 2.21:
``Dense(3)(Input(batch_shape=(32, 784))).shape == (32, 3)``); without one the batch
axis is None."""

import numpy as np
import pytest

import minidl
from minidl import layers


def test_dense_and_conv_keep_the_static_batch():
    x = layers.Input(batch_shape=(32, 28, 28, 1))
    y = layers.Conv2D(4, 3)(x)
    z = layers.Dense(3)(layers.Flatten()(layers.MaxPooling2D()(y)))
    assert (y.shape, z.shape) == ((32, 26, 26, 4), (32, 3))
    model = minidl.Model(x, z)
    assert model.output_shape == (32, 3)
    assert model.predict(np.zeros((5, 28, 28, 1), np.float32), verbose=0).shape == (5, 3)


def test_batch_size_argument_and_summary():
    x = layers.Input(shape=(784,), batch_size=16)
    model = minidl.Model(x, layers.Dense(10)(x))
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(16, 10)" in line for line in lines)


def test_without_a_static_batch_the_axis_stays_unknown():
    assert layers.Dense(3)(layers.Input(shape=(784,))).shape == (None, 3)


def test_inputs_that_leave_it_unknown_give_none_and_disagreeing_ones_are_refused():
    a, b = layers.Input(batch_shape=(8, 4)), layers.Input(batch_shape=(4, 4))
    c = layers.Input(shape=(4,))
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([a, b])
    assert layers.Add()([a, c]).shape == (None, 4)
    assert layers.Add()([a, layers.Input(batch_shape=(8, 4))]).shape == (8, 4)


class BatchState(layers.Layer):
    """A layer of your own that needs the static batch (Keras's functional-API guide)."""

    def call(self, inputs):
        state = np.zeros((inputs.shape[0], 2), np.float32)
        return inputs[:, :2] + state


def test_a_layer_of_your_own_sees_the_static_batch():
    y = BatchState()(layers.Input(batch_shape=(6, 5)))
    assert y.shape == (6, 2)


@pytest.mark.parametrize("batch", [3, 200_000])
def test_a_huge_static_batch_is_not_materialised(batch):
    """The output shape of a layer of your own is found by running it on zeros; a batch
    too big to make cheaply runs one sample instead and the batch axis stays None."""
    y = BatchState()(layers.Input(batch_shape=(batch, 64)))
    assert y.shape == ((3, 2) if batch == 3 else (None, 2))
