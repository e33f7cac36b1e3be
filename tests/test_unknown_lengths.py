"""Layers on sequences of unknown length: every shape-keeping layer states its output
shape, so ``Embedding`` without ``input_length`` followed by ``Dropout`` (TensorFlow's
"Basic text classification" model) builds and trains as in Keras, where it failed
with "cannot find its output shape"."""

import numpy as np
import pytest

import minidl
from minidl import layers


def test_the_text_classification_tutorials_model():
    model = minidl.Sequential([layers.Embedding(100, 8), layers.Dropout(0.2),
                               layers.GlobalAveragePooling1D(), layers.Dropout(0.2),
                               layers.Dense(1)])
    model.compile("adam", minidl.losses.BinaryCrossentropy(from_logits=True))
    model.fit(np.ones((4, 7), np.int64), np.ones((4, 1)), verbose=0)
    assert model.predict(np.ones((2, 9), np.int64), verbose=0).shape == (2, 1)


@pytest.mark.parametrize("make", [lambda: layers.Dropout(0.2), lambda: layers.Activation("relu"),
                                  lambda: layers.BatchNormalization()])
def test_shape_keeping_layers_keep_unknown_sizes(make):
    x = layers.Embedding(100, 8)(layers.Input((None,)))
    assert make()(x).shape == (None, None, 8)


def test_spatial_dropout_on_images_of_any_size():
    assert layers.SpatialDropout2D(0.2)(layers.Input((None, None, 3))).shape == (None, None, None, 3)
