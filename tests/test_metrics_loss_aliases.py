"""``minidl.metrics.binary_crossentropy`` and the other loss functions, as in Keras 2
(where ``keras.metrics.binary_crossentropy is keras.losses.binary_crossentropy``):
differentiable, because Deep Learning with Python's VAE builds its loss with one."""

import numpy as np
import pytest

import minidl
from minidl import losses, metrics

NAMES = ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
         "hinge"]


@pytest.mark.parametrize("name", NAMES)
def test_metric_alias_is_the_loss_function(name):
    assert getattr(metrics, name) is getattr(losses, name)


def test_alias_gives_gradients():
    p = minidl.Tensor(np.array([[0.3, 0.6]], "float32"), requires_grad=True)
    loss = metrics.binary_crossentropy(np.array([[1.0, 0.0]], "float32"), p)
    loss.sum().backward()
    assert p.grad[0, 0] < 0 < p.grad[0, 1]
