"""Layers and models own what their attributes hold (layers/tracking.py), as in Keras.

Each test fails on a framework that only counts ``add_weight`` weights: a block
of layers would report no weights and "train" nothing without a word.
"""

import numpy as np
import pytest

import minidl
from minidl import GradientTape, Tensor, Variable, layers, ops


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


class MLPBlock(layers.Layer):
    """Three Dense layers held directly, in a list and in a dict inside a tuple."""

    def __init__(self):
        super().__init__()
        self.first = layers.Dense(8, activation="relu")
        self.middle = [layers.Dense(8, activation="relu")]
        self.nested = ({"out": layers.Dense(1)},)

    def call(self, inputs):
        return self.nested[0]["out"](self.middle[0](self.first(inputs)))


class Wrapper(minidl.Model):
    """A subclassed model holding one block."""

    def __init__(self):
        super().__init__()
        self.block = MLPBlock()

    def call(self, x):
        return self.block(x)


def test_a_block_of_layers_owns_their_weights():
    block = MLPBlock()
    block(np.ones((2, 5)))
    assert len(block.weights) == 6 and len(block.trainable_weights) == 6
    assert len(block.trainable_variables) == 6 and block.non_trainable_weights == []
    assert block.count_params() == 5 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    names = [w.name for w in block.weights]
    assert names == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                     "dense_2/kernel", "dense_2/bias"]


def test_a_model_of_blocks_trains_every_weight():
    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [MLPBlock(), MLPBlock()]

        def call(self, x):
            return self.blocks[1](self.blocks[0](x))

    net = Net()
    net.compile("sgd", "mse")
    x = np.random.default_rng(0).random((16, 1)).astype(np.float32)
    net.fit(x, x, epochs=1, verbose=0)  # built by its first call
    assert len(net.trainable_weights) == 12
    before = net.get_weights()
    net.fit(x, x * 3, epochs=2, verbose=0)
    changed = [not np.array_equal(a, b) for a, b in zip(before, net.get_weights())]
    assert all(changed), "every Dense inside the blocks must be trained"


def test_get_set_weights_and_saving_cover_nested_layers(tmp_path):
    block = MLPBlock()
    block(np.ones((2, 5)))
    other = MLPBlock()
    other(np.ones((2, 5)))
    other.set_weights(block.get_weights())
    x = np.random.default_rng(1).random((3, 5))
    np.testing.assert_array_equal(other(x).numpy(), block(x).numpy())

    model, copy = Wrapper(), Wrapper()
    model(x)
    copy(x)
    model.save_weights(tmp_path / "w.mdl")
    copy.load_weights(tmp_path / "w.mdl")
    np.testing.assert_array_equal(copy(x).numpy(), model(x).numpy())


def test_summary_counts_the_weights_of_nested_layers():
    model = Wrapper()
    model(np.ones((1, 5)))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 129" in text and "Trainable params: 129" in text


def test_variables_and_tensors_assigned_as_attributes_are_weights():
    """The subclassing guide's Linear (tf.Variable attributes) and ComputeSum."""

    class Linear(layers.Layer):
        def __init__(self, units=4, input_dim=2):
            super().__init__()
            self.w = Variable(np.random.default_rng(0).normal(size=(input_dim, units)), trainable=True)
            self.b = Tensor(np.zeros(units), requires_grad=True)  # a plain tensor asking for grads
            self.constant = Tensor(np.ones(units))  # not a weight

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b * self.constant

    layer = Linear()
    assert layer.weights == [layer.w, layer.b]

    class ComputeSum(layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = Variable(np.zeros(input_dim), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    total = ComputeSum(2)
    total(np.ones((2, 2)))
    np.testing.assert_array_equal(total(np.ones((2, 2))).numpy(), [4.0, 4.0])
    assert total.trainable_weights == [] and total.non_trainable_weights == [total.total]


def test_weights_in_a_list_appended_later_are_found():
    class Bag(layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = []

        def build(self, input_shape):
            for i in range(3):
                self.parts.append(self.add_weight(f"w{i}", shape=(input_shape[-1],)))
            self.parts.append(layers.Dense(2))
            self.parts.append(Variable(np.zeros(2), trainable=False))

        def call(self, x):
            return self.parts[3](x * self.parts[0])

    bag = Bag()
    bag(np.ones((1, 3)))
    assert len(bag.trainable_weights) == 5 and len(bag.non_trainable_weights) == 1


def test_order_follows_keras():
    """Keras 2: a layer lists its own weights before its sublayers'; a model
    lists its layers' weights (layer by layer) before its own."""

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(2, name="inner")
            self.moving = Variable(np.zeros(1), trainable=False, name="moving")

        def build(self, input_shape):
            self.scale = self.add_weight("scale", shape=(input_shape[-1],))

        def call(self, x):
            return self.inner(x * self.scale)

    block = Block(name="block")
    block(np.ones((1, 3)))
    assert [w.name for w in block.weights] == [
        "block/scale", "inner/kernel", "inner/bias", "moving"]

    class Net(minidl.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(1, name="out")

        def build(self, input_shape):
            self.gain = self.add_weight("gain", shape=(1,))
            super().build(input_shape)  # runs the model once: the Dense is built too

        def call(self, x):
            return self.dense(x) * self.gain

    net = Net(name="net")
    net.build((None, 3))
    assert [w.name for w in net.weights] == ["out/kernel", "out/bias", "net/gain"]
    called = Net(name="called")
    called(np.ones((2, 3)))  # the first call runs the model's own build() first
    assert [w.name for w in called.weights] == ["out/kernel", "out/bias", "called/gain"]


def test_freezing_a_block_freezes_its_sublayers():
    block = MLPBlock()
    block(np.ones((2, 5)))
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 6
    assert not block.first.trainable and not block.middle[0].trainable
    assert not any(w.requires_grad for w in block.weights)


def test_forgetting_super_init_is_an_error_that_says_so():
    class Broken(layers.Layer):
        def __init__(self):
            self.w = Variable(np.zeros(2))
            super().__init__()

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_a_shared_layer_is_counted_once():
    class Twice(layers.Layer):
        def __init__(self):
            super().__init__()
            self.shared = layers.Dense(3)
            self.again = [self.shared]

        def call(self, x):
            return self.again[0](self.shared(x))

    twice = Twice()
    twice(np.ones((1, 3)))
    assert len(twice.weights) == 2


def test_gradient_tape_reaches_nested_weights():
    block = MLPBlock()
    x = np.random.default_rng(0).random((4, 5))
    with GradientTape() as tape:
        loss = ops.mean(block(x) ** 2)
    grads = tape.gradient(loss, block.trainable_weights)
    assert len(grads) == 6 and all(g is not None and g.shape == w.shape
                                   for g, w in zip(grads, block.trainable_weights))
