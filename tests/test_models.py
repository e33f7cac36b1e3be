"""Models: Sequential, functional and subclassed; weights, sharing, configs, logits."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, layers, losses, models, optimizers, random


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def mlp():
    return models.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.Dropout(0.2),
        layers.Dense(3, activation="softmax"),
    ])


# --- Sequential -------------------------------------------------------------
def test_sequential_with_input_shape_is_built_at_once():
    model = mlp()
    assert model.built and model.name == "sequential"
    assert [l.name for l in model.layers] == ["dense", "dropout", "dense_1"]
    assert model.input_shapes == [(None, 4)] and model.output_shapes == [(None, 3)]
    assert model.output_names == ["dense_1"] and model.inputs_count == 1
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3
    y = model(np.ones((5, 4)))
    assert isinstance(y, Tensor) and y.shape == (5, 3)
    np.testing.assert_allclose(np.asarray(y).sum(1), 1, rtol=1e-5)


def test_sequential_accepts_lists_and_is_built_on_first_call():
    model = models.Sequential()
    model.add(layers.Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="not been built"):
        model.output_shapes
    y = model([[1.0, 2.0, 3.0]])
    assert y.shape == (1, 2) and model.built and model.input_shapes == [(None, 3)]


def test_sequential_add_pop_and_input():
    model = models.Sequential([layers.Input(shape=(6,)), layers.Dense(4), layers.Dense(2)])
    assert model.built and len(model.layers) == 2
    model.pop()
    assert model.output_shapes == [(None, 4)]
    with pytest.raises(TypeError, match="takes a layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="Input can only be the first"):
        model.add(layers.Input(shape=(3,)))


def test_sequential_of_an_input_alone_takes_layers_later():
    # tf_keras 2.21: Sequential([Input((5, 4))]) has no layers; add(LSTM(3)) gives
    # input_shape (None, 5, 4), output_shape (None, 3). It made a functional model
    # (TypeError: Functional.__init__() missing 'inputs' and 'outputs').
    model = models.Sequential([layers.Input(shape=(5, 4))])
    assert type(model) is models.Sequential and model.layers == []
    model.add(layers.LSTM(3))
    assert model.input_shape == (None, 5, 4) and model.output_shape == (None, 3)


def test_sequential_keeps_the_batch_size_its_first_layer_fixes(tmp_path):
    # tf_keras 2.21: input_shape (2, 5, 4), output_shape (2, 1), summary rows (2, 3) and
    # (2, 1) with batch_input_shape=(2, 5, 4) (a stateful RNN's); the same with
    # batch_size=2, input_shape=(5, 4); build((8, 4)) gives (8, 4) -> (8, 3), and
    # predict still takes any batch. minidl printed None for the batch in all of them.
    model = models.Sequential([layers.LSTM(3, stateful=True, batch_input_shape=(2, 5, 4)),
                               layers.Dense(1)])
    assert model.input_shape == (2, 5, 4) and model.output_shape == (2, 1)
    lines = []
    model.summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines[4:7]] == [
        " lstm (LSTM)                 (2, 3)                    96", "",
        " dense (Dense)               (2, 1)                    4"]
    model.save(tmp_path / "stateful.keras")
    loaded = models.load_model(tmp_path / "stateful.keras")
    assert loaded.input_shape == (2, 5, 4) and loaded.output_shape == (2, 1)
    model = models.Sequential([layers.SimpleRNN(3, stateful=True, batch_size=2,
                                                input_shape=(5, 4))])
    assert model.input_shape == (2, 5, 4) and model.output_shape == (2, 3)
    first = model.predict(np.ones((2, 5, 4), np.float32), verbose=0)
    model.reset_states()
    np.testing.assert_array_equal(model.predict(np.ones((2, 5, 4), np.float32), verbose=0),
                                  first)
    model = models.Sequential([layers.Dense(3)])
    model.build((8, 4))
    assert model.input_shape == (8, 4) and model.output_shape == (8, 3)
    assert model.predict(np.zeros((3, 4), np.float32), verbose=0).shape == (3, 3)


def test_sequential_shape_error_when_adding_rolls_back():
    model = models.Sequential([layers.Flatten(input_shape=(3, 3))])
    with pytest.raises(ValueError, match="expects images"):
        model.add(layers.Conv2D(2, 2))
    assert len(model.layers) == 1


def test_sequential_refuses_a_layer_with_several_outputs_as_keras():
    # tf_keras 2.21: ValueError "All layers in a Sequential model should have a single
    # output tensor. For multi-output layers, use the functional API." (at add, or at
    # the first call of a model built on data); before: AttributeError on a list
    model = models.Sequential()
    model.add(layers.Input(shape=(5, 4)))
    with pytest.raises(ValueError, match='single output tensor, layer "lstm" returns 3.*'
                                         "functional API"):
        model.add(layers.LSTM(3, return_state=True, name="lstm"))
    assert model.layers == []
    with pytest.raises(ValueError, match="single output tensor.*returns 2"):
        models.Sequential([layers.Bidirectional(layers.GRU(3), merge_mode=None,
                                                input_shape=(5, 4))])
    deferred = models.Sequential([layers.GRU(3, return_state=True), layers.Dense(1)])
    with pytest.raises(ValueError, match="single output tensor.*returns 2"):
        deferred.predict(np.zeros((2, 5, 4), np.float32), verbose=0)


def test_sequential_wrong_data_shape_hints_flatten():
    model = models.Sequential([layers.Dense(4, input_shape=(784,))])
    with pytest.raises(ValueError, match=r"\(None, 784\).*\(2, 28, 28\).*[Dd]id you forget Flatten"):
        model(np.zeros((2, 28, 28)))


def test_model_build_with_batch_shape_like_keras():
    model = models.Sequential([layers.Dense(4), layers.Dense(1)])
    model.build((None, 7))
    assert model.built and model.layers[0].kernel.shape == (7, 4)


# --- functional -------------------------------------------------------------
def test_functional_model_from_the_seed():
    input_tensor = layers.Input(shape=(784,))
    x = layers.Dense(32, activation="relu")(input_tensor)
    output_tensor = layers.Dense(10, activation="softmax")(x)
    model = models.Model(inputs=input_tensor, outputs=output_tensor)
    assert isinstance(model, models.Functional) and model.name == "model"
    assert [l.name for l in model.layers] == ["input_1", "dense", "dense_1"]
    assert model.count_params() == 784 * 32 + 32 + 32 * 10 + 10
    assert model(np.zeros((3, 784))).shape == (3, 10)
    assert model.output_names == ["dense_1"]


def test_functional_several_inputs_and_outputs():
    a, b = layers.Input(shape=(5,), name="a"), layers.Input(shape=(2,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), b])
    out_reg = layers.Dense(1, name="price")(h)
    out_cls = layers.Dense(3, activation="softmax", name="kind")(h)
    model = minidl.Model(inputs=[a, b], outputs=[out_reg, out_cls])
    assert model.inputs_count == 2
    assert model.output_names == ["price", "kind"]
    assert model.output_shapes == [(None, 1), (None, 3)]
    price, kind = model([np.ones((4, 5)), np.ones((4, 2))])
    assert price.shape == (4, 1) and kind.shape == (4, 3)
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model(np.ones((4, 5)))


def test_shared_layer_shares_its_weights():
    left, right = layers.Input(shape=(3,)), layers.Input(shape=(3,))
    shared = layers.Dense(2, name="shared")
    out = layers.Add()([shared(left), shared(right)])
    model = models.Model([left, right], out)
    assert len(model.trainable_weights) == 2
    x1, x2 = np.ones((1, 3), np.float32), np.full((1, 3), 2.0, np.float32)
    kernel, bias = shared.get_weights()
    expected = x1 @ kernel + bias + x2 @ kernel + bias
    y = model([x1, x2])
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5)
    y.sum().backward()
    np.testing.assert_allclose(shared.kernel.grad, np.repeat((x1 + x2).T, 2, axis=1), rtol=1e-5)


def test_graph_disconnected_names_the_missing_input():
    a, b = layers.Input(shape=(2,)), layers.Input(shape=(2,))
    out = layers.Concatenate()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected.*input_2"):
        models.Model(inputs=a, outputs=out)


def test_functional_inputs_must_be_placeholders():
    with pytest.raises(TypeError, match="placeholders"):
        models.Model(inputs=np.zeros(3), outputs=np.zeros(3))


# --- subclassing ------------------------------------------------------------
class Net(minidl.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.blocks = [layers.Dense(8, activation="tanh"), layers.Dropout(0.1)]
        self.out = layers.Dense(3)

    def call(self, x, training=False):
        x = self.hidden(x)
        for block in self.blocks:
            x = block(x, training=training)
        return self.out(x)


def test_subclassed_model_finds_layers_by_attribute():
    net = Net()
    assert net.name == "net" and not net.built
    y = net(np.ones((2, 5)))
    assert y.shape == (2, 3) and net.built
    assert [l.name for l in net.layers] == ["dense", "dense_1", "dropout", "dense_2"]
    assert len(net.trainable_weights) == 6
    assert net.output_names == ["output_1"] and net.output_shapes == [(None, 3)]
    assert net.get_layer("dense_2") is net.out
    with pytest.raises(ValueError, match="No layer named"):
        net.get_layer("nope")
    with pytest.raises(NotImplementedError, match="subclassed"):
        net.get_config()


def test_hand_written_training_loop_lowers_the_loss():
    random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    net = Net()
    optimizer = optimizers.SGD(learning_rate=0.1)
    first = None
    for _ in range(30):
        logits = net(x, training=True)
        loss = losses.sparse_categorical_crossentropy(y, logits, from_logits=True).mean()
        for w in net.trainable_weights:
            w.grad = None
        loss.backward()
        optimizer.apply_gradients(zip([w.grad for w in net.trainable_weights], net.trainable_weights))
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first


# --- weights ------------------------------------------------------------------
def test_get_and_set_weights_round_trip_and_errors():
    model = mlp()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    other = mlp()
    other.set_weights(weights)
    x = np.random.default_rng(0).normal(size=(2, 4))
    np.testing.assert_allclose(np.asarray(other(x)), np.asarray(model(x)))
    with pytest.raises(ValueError, match="has 4 weight arrays.*received 3"):
        other.set_weights(weights[:3])
    bad = list(weights)
    bad[2] = np.zeros((3, 8))
    with pytest.raises(ValueError, match=r'"dense_3".*\(8, 3\).*\(3, 8\)'):
        other.set_weights(bad)


def test_freezing_a_layer_or_model():
    model = mlp()
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


def test_batch_norm_weights_are_non_trainable_in_a_model():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    assert [w.name.split("/")[-1] for w in model.weights] == [
        "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


# --- logits for the fused softmax + cross-entropy --------------------------------
def test_a_softmax_output_carries_its_logits():
    model = mlp()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    y_pred = model(x)
    z = y_pred._logits.data
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(y_pred.data, softmax, rtol=1e-5)
    kernel, bias = model.layers[-1].get_weights()
    hidden = model.layers[0](x).data
    np.testing.assert_allclose(z, hidden @ kernel + bias, rtol=1e-5)

    regression = models.Sequential([layers.Dense(1, input_shape=(1,))])
    assert regression(np.ones((2, 1)))._logits is None


def test_logits_after_an_activation_layer_and_in_functional_models():
    model = models.Sequential([layers.Dense(3, input_shape=(2,)), layers.Activation("softmax")])
    y_pred = model(np.ones((1, 2)))
    np.testing.assert_allclose(y_pred._logits.data, model.layers[0](np.ones((1, 2))).data)
    a = layers.Input(shape=(2,))
    h = layers.Dense(3)(a)
    model = models.Model(a, [layers.Dense(2, activation="softmax")(h), layers.Dense(1)(h)])
    first, second = model(np.ones((4, 2)))
    assert first._logits.shape == (4, 2) and second._logits is None and second.shape == (4, 1)


# --- configs -------------------------------------------------------------------
def _same_predictions(model, copy, x):
    copy.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(copy(x)), np.asarray(model(x)), rtol=1e-6)


def test_sequential_config_round_trip():
    model = models.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(),
        layers.BatchNormalization(),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    config = layers.serialize(model)
    copy = models.model_from_config(config)
    assert isinstance(copy, models.Sequential) and copy.built
    assert copy.get_config() == model.get_config()
    _same_predictions(model, copy, np.random.default_rng(0).normal(size=(2, 8, 8, 1)))


def test_functional_config_round_trip_with_sharing():
    a, b = layers.Input(shape=(3,)), layers.Input(shape=(3,))
    shared = layers.Dense(4, activation="relu")
    h = layers.Concatenate()([shared(a), shared(b)])
    model = models.Model([a, b], [layers.Dense(2, activation="softmax")(h), layers.Dense(1)(h)])
    config = {"class_name": "Functional", "config": model.get_config()}
    import json

    copy = models.model_from_config(json.loads(json.dumps(config)))
    assert copy.get_config() == model.get_config()
    assert len(copy.weights) == len(model.weights) == 6
    x = [np.ones((2, 3)), np.full((2, 3), -0.5)]
    copy.set_weights(model.get_weights())
    for got, want in zip(copy(x), model(x)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)


def test_compile_and_fit_come_from_the_trainer():
    model = mlp()
    assert hasattr(model, "compile") and hasattr(model, "fit") and hasattr(model, "predict")


def test_models_nest_inside_models():
    inner = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="inner")
    outer = models.Sequential([layers.Flatten(input_shape=(2, 3)), inner, layers.Activation("softmax")])
    assert inner.built and inner.output_shapes == [(None, 2)]
    assert outer.count_params() == 6 * 4 + 4 + 4 * 2 + 2 and len(outer.weights) == 4
    assert outer(np.ones((5, 2, 3))).shape == (5, 2)
    copy = models.model_from_config(layers.serialize(outer))
    assert copy.count_params() == outer.count_params()

    net = Net()
    inputs = layers.Input(shape=(5,))
    model = models.Model(inputs, layers.Activation("softmax")(net(inputs)))
    assert model.output_shapes == [(None, 3)] and len(model.trainable_weights) == 6
    assert model(np.ones((2, 5))).shape == (2, 3)


def test_intermediate_outputs_of_a_sequential_model_the_keras_way():
    model = models.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    assert model.input.shape == (None, 8, 8, 1) and model.output.shape == (None, 2)
    assert model.layers[1].output.shape == (None, 3, 3, 4)
    activation_model = models.Model(inputs=model.input, outputs=[l.output for l in model.layers[:2]])
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 1))
    conv_map, pooled = activation_model(x)
    np.testing.assert_allclose(np.asarray(conv_map), np.asarray(model.layers[0](x)))
    assert pooled.shape == (1, 3, 3, 4)
    with pytest.raises(AttributeError, match="never called on symbolic inputs"):
        layers.Dense(2).output
    with pytest.raises(AttributeError, match="input_shape="):
        models.Sequential([layers.Dense(2)]).input
