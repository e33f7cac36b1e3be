"""Extending minidl: your own op, checked by gradcheck, and your own layer, trained, saved and loaded.

The code of docs/extending.md, run end to end. Part 1 writes a differentiable
op (softsign) with ``record()`` and checks its backward against finite
differences; part 2 wraps it in a layer with ``build``/``add_weight``/``call``
/``get_config``, trains a small model with it on Fashion-MNIST, saves it, and
loads it back with ``custom_objects``.
"""

import numpy as np

import minidl
from minidl import layers
from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor
from minidl.testing import gradcheck
from minidl.utils import set_random_seed

import _common

args = _common.parse_args(__doc__.splitlines()[0])
set_random_seed(0)


# ---- Part 1: an op -------------------------------------------------------
def softsign(x):
    """softsign(x) = x / (1 + |x|), position by position.

    The derivative is d/dx = 1 / (1 + |x|)^2, so the backward multiplies the
    gradient that arrives at the output by it (the chain rule for one op).
    Shapes: any; the output and both gradients have x's shape.
    """
    x = as_tensor(x)
    denominator = 1.0 + np.abs(x.data)
    out = x.data / denominator

    def backward(grad):  # grad: dLoss/dout, shaped like out
        return (grad / denominator**2,)  # one gradient per parent: dLoss/dx

    return record(out, (x,), backward)


x = minidl.Tensor([-2.0, 0.0, 3.0], requires_grad=True)
y = softsign(x)
y.sum().backward()
print("softsign", y.numpy(), "gradient", x.grad)  # [-0.667 0. 0.75], [0.111 1. 0.0625]
assert np.allclose(x.grad, 1 / (1 + np.abs([-2.0, 0.0, 3.0])) ** 2)

# Finite differences in float64 agree with the backward (raises AssertionError otherwise).
inputs = np.random.default_rng(0).standard_normal((4, 5))
print("gradcheck:", gradcheck(softsign, [inputs]))


# ---- Part 2: a layer -----------------------------------------------------
class SoftsignDense(layers.Layer):
    """units outputs: softsign(x @ kernel + bias).   x (batch, features) -> (batch, units)."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):  # input_shape has the batch axis: (None, features)
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return softsign(inputs @ self.kernel + self.bias)

    def get_config(self):  # what save() writes, so that load_model can rebuild the layer
        return {**super().get_config(), "units": self.units}


(x_train, y_train), (x_test, y_test) = _common.load_fashion_mnist(args)
x_train, y_train, x_test, y_test = _common.shorten(args, x_train, y_train, x_test, y_test)
x_train, x_test = x_train / 255.0, x_test / 255.0

model = minidl.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    SoftsignDense(64),
    layers.Dense(10, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
model.summary()
model.fit(x_train, y_train, epochs=_common.epochs(args, 3), batch_size=32, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")

path = args.out / "softsign_model.keras"
model.save(path)
restored = minidl.models.load_model(path, custom_objects={"SoftsignDense": SoftsignDense})
same = np.allclose(restored.predict(x_test[:16], verbose=0), model.predict(x_test[:16], verbose=0))
print("saved and loaded:", path, "same predictions:", same)
assert same
