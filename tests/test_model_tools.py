"""Model tools as in Keras 2 (tf_keras 2.21): symbolic inputs and outputs,
to_json / model_from_json, clone_model, and saving subclassed models."""


import json

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import clone_model, load_model, model_from_json
from minidl.utils import set_random_seed


def functional_model():
    inputs = minidl.Input(shape=(4,), name="features")
    x = layers.Dense(8, activation="relu", name="hidden")(inputs)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(3, activation="softmax", name="probabilities")(x)
    return minidl.Model(inputs, outputs, name="classifier")


def sequential_model():
    return minidl.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.Dense(3, activation="softmax"),
    ], name="stack")


def two_branch_model():
    """Two inputs, one Dense shared by both, a merge, two outputs."""
    a, b = minidl.Input((4,), name="a"), minidl.Input((4,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    merged = layers.concatenate([shared(a), shared(b)])
    first = layers.Dense(1, name="first")(merged)
    second = layers.Dense(2, name="second")(merged)
    return minidl.Model([a, b], [first, second], name="branches")


def batch(model, n=5, seed=0):
    rng = np.random.default_rng(seed)
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    xs = [rng.normal(size=(n, *s[1:])).astype(np.float32) for s in shapes]
    return xs if len(xs) > 1 else xs[0]


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def assert_same_predictions(a, b, x):
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    for u, v in zip(pa if isinstance(pa, list) else [pa], pb if isinstance(pb, list) else [pb]):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


# --- symbolic inputs and outputs -------------------------------------------------------------
def test_input_has_keras_shape_dtype_and_name():
    x = minidl.Input(shape=(3,), name="inp")
    assert x.shape == (None, 3) and x.dtype == "float32" and x.name == "inp"
    assert repr(x) == "<KerasTensor: shape=(None, 3) dtype=float32 (created by layer 'inp')>"
    assert minidl.Input((2, 2), dtype="float64").dtype == "float64"
    y = layers.Dense(4, dtype="float64", name="wide")(x)
    assert (y.shape, y.dtype, y.name) == ((None, 4), "float64", "wide")


def test_layer_input_output_and_shapes():
    x = minidl.Input((3,), name="inp")
    dense = layers.Dense(4)
    y = dense(x)
    assert dense.input is x and dense.output is y
    assert (dense.input_shape, dense.output_shape) == ((None, 3), (None, 4))
    assert x.layer.input is x and x.layer.output is x  # an InputLayer's own placeholder
    merged = layers.concatenate([x, y])
    assert merged.layer.input == [x, y] and merged.layer.get_input_shape_at(0) == [(None, 3), (None, 4)]


def test_layer_called_twice_keeps_each_call():
    """tf_keras 2.21: ``input``/``output`` are the first call's, get_*_at(i) the others'."""
    shared = layers.Flatten()
    first, second = minidl.Input((2, 3)), minidl.Input((6, 1))
    out1, out2 = shared(first), shared(second)
    assert shared.output is out1 and shared.input is first
    assert shared.get_output_at(1) is out2 and shared.get_input_at(1) is second
    assert shared.get_input_shape_at(1) == (None, 6, 1) and shared.get_output_shape_at(0) == (None, 6)
    with pytest.raises(ValueError, match="node 2.*only 2 inbound node"):
        shared.get_output_at(2)


def test_layer_never_called_symbolically_has_no_input():
    dense = layers.Dense(2)
    dense(np.zeros((1, 3), np.float32))
    with pytest.raises(AttributeError, match='"dense.*never called on symbolic inputs.*Input'):
        dense.output


def test_model_inputs_outputs_and_names():
    model = functional_model()
    assert model.input_names == ["features"] and model.output_names == ["probabilities"]
    assert model.inputs == [model.input] and model.outputs == [model.output]
    assert (model.input_shape, model.output_shape) == ((None, 4), (None, 3))
    stack = sequential_model()
    assert stack.input_names == [stack.layers[0].name + "_input"]
    assert stack.output_names == [stack.layers[-1].name]
    assert stack.input.dtype == "float32" and stack.output.shape == (None, 3)
    branches = two_branch_model()
    assert branches.input_names == ["a", "b"] and branches.output_names == ["first", "second"]
    assert branches.input_shape == [(None, 4), (None, 4)]
    assert branches.output_shape == [(None, 1), (None, 2)]


def test_subclassed_model_has_no_symbolic_input():
    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.zeros((1, 3), np.float32))
    assert net.input_names is None
    with pytest.raises(AttributeError, match="never called on symbolic inputs"):
        net.input
    assert net.input_shape == (None, 3)  # known once it has run (minidl is lenient here)


# --- to_json / model_from_json ---------------------------------------------------------------
def nested_model():
    """A Sequential block used as a layer of a functional model."""
    block = minidl.Sequential([layers.Dense(6, activation="relu", input_shape=(4,)),
                               layers.Dense(6)], name="block")
    inputs = minidl.Input((4,), name="x")
    outputs = layers.Dense(2, name="head")(block(inputs))
    return minidl.Model(inputs, outputs, name="outer")


@pytest.mark.parametrize("make", [sequential_model, functional_model, two_branch_model,
                                  nested_model])
def test_json_round_trip_same_summary_config_and_predictions(make):
    model = make()
    text = model.to_json()
    document = json.loads(text)
    assert set(document) == {"class_name", "config", "keras_version", "backend"}
    assert document["class_name"] == type(model).__name__
    assert document["config"] == json.loads(json.dumps(model.get_config()))
    rebuilt = model_from_json(text)
    assert type(rebuilt) is type(model) and rebuilt.name == model.name
    assert json.loads(rebuilt.to_json()) == document
    assert summary_text(rebuilt) == summary_text(model)
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(rebuilt.get_weights(),
                                                         model.get_weights()))  # new weights
    rebuilt.set_weights(model.get_weights())
    assert_same_predictions(model, rebuilt, batch(model))


def test_json_keeps_shared_layers_shared():
    rebuilt = model_from_json(two_branch_model().to_json())
    shared = rebuilt.get_layer("shared")
    assert len(shared._inbound_nodes) == 2 and len(rebuilt.weights) == 2 + 2 + 2


def test_to_json_passes_keyword_arguments_to_json_dumps():
    model = sequential_model()
    assert model.to_json(indent=2).startswith('{\n  "class_name": "Sequential"')
    assert json.loads(model.to_json(sort_keys=True)) == json.loads(model.to_json())


def test_to_json_turns_numpy_values_into_numbers():
    class Scale(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = np.float32(factor)

        def call(self, x):
            return x * float(self.factor)

        def get_config(self):
            return {**super().get_config(), "factor": self.factor, "table": np.arange(3)}

    inputs = minidl.Input((2,))
    model = minidl.Model(inputs, Scale(2.5)(inputs))
    config = json.loads(model.to_json())["config"]["layers"][1]["config"]
    assert config["factor"] == 2.5 and config["table"] == [0, 1, 2]


def test_model_from_json_finds_custom_objects():
    class Twice(layers.Layer):
        def call(self, x):
            return x * 2

    inputs = minidl.Input((3,))
    text = minidl.Model(inputs, Twice(name="twice")(inputs)).to_json()
    with pytest.raises(ValueError, match="Unknown layer class 'Twice'.*custom_objects"):
        model_from_json(text)
    rebuilt = model_from_json(text, custom_objects={"Twice": Twice})
    np.testing.assert_allclose(rebuilt.predict(np.ones((1, 3)), verbose=0), [[2, 2, 2]])
    with minidl.utils.custom_object_scope({"Twice": Twice}):
        assert isinstance(model_from_json(text).get_layer("twice"), Twice)


@pytest.mark.parametrize("text, message", [
    ("{bad", "not valid JSON"),
    ("[1, 2]", "expected an object"),
    ('{"class_name": "Sequential"}', "expected an object"),
    ('{"class_name": "Nope", "config": {}}', "Unknown layer class 'Nope'"),
    ('{"class_name": "Sequential", "config": {"layers": 3}}', "cannot rebuild the model"),
    ('{"class_name": "Functional", "config": {"layers": [], "input_layers": [["x", 0, 0]], '
     '"output_layers": []}}', "cannot rebuild the model|inconsistent"),
    ("[" * 100000 + "]" * 100000, "not valid JSON"),
])
def test_model_from_json_refuses_bad_text_clearly(text, message):
    with pytest.raises(ValueError, match=message):
        model_from_json(text)


def test_model_from_json_takes_text_only():
    with pytest.raises(TypeError, match="takes the text"):
        model_from_json({"class_name": "Sequential", "config": {}})


def test_yaml_is_refused_as_in_keras_2():
    with pytest.raises(RuntimeError, match=r"to_yaml\(\)` has been removed due to security risk"):
        sequential_model().to_yaml()
    with pytest.raises(RuntimeError, match=r"model_from_yaml\(\)` has been removed"):
        minidl.models.model_from_yaml("class_name: Sequential")


def test_subclassed_model_without_get_config_has_no_json():
    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(NotImplementedError, match="get_config"):
        Net().to_json()


# --- clone_model ----------------------------------------------------------------------------
def train_briefly(model, seed=0):
    model.compile("sgd", "mse")
    x = batch(model, n=16, seed=seed)
    outputs = model.outputs
    targets = [np.ones((16, *t.shape[1:]), np.float32) for t in outputs]
    model.fit(x, targets if len(targets) > 1 else targets[0], epochs=1, batch_size=8, verbose=0)


@pytest.mark.parametrize("make", [sequential_model, functional_model, two_branch_model,
                                  nested_model])
def test_clone_has_same_structure_and_new_weights(make):
    set_random_seed(0)
    model = make()
    clone = clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert clone.get_config() == model.get_config()
    assert summary_text(clone) == summary_text(model)
    assert not any(a is b for a in clone.layers for b in model.layers)
    assert not any(a is b for a in clone.weights for b in model.weights)
    assert any(not np.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()))
    clone.set_weights(model.get_weights())
    assert_same_predictions(model, clone, batch(model))
    assert clone.optimizer is None  # a clone is not compiled, as in Keras


@pytest.mark.parametrize("make", [sequential_model, two_branch_model, nested_model])
def test_clone_trains_independently(make):
    model = make()
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    before = model.get_weights()
    train_briefly(clone)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    assert any(not np.array_equal(a, b) for a, b in zip(clone.get_weights(), before))


def test_clone_keeps_shared_layers_shared_and_nested_models_new():
    clone = clone_model(two_branch_model())
    shared = clone.get_layer("shared")
    assert len(shared._inbound_nodes) == 2 and len(clone.weights) == 6
    model = nested_model()
    clone = clone_model(model)
    block, old_block = clone.get_layer("block"), model.get_layer("block")
    assert isinstance(block, minidl.Sequential) and block is not old_block
    assert not any(a is b for a in block.layers for b in old_block.layers)


def test_clone_keeps_layer_settings():
    model = functional_model()
    model.get_layer("hidden").trainable = False
    clone = clone_model(model)
    assert clone.get_layer("hidden").trainable is False
    assert len(clone.trainable_weights) == 2


def test_clone_function_shares_or_replaces_layers():
    model = functional_model()
    shared = clone_model(model, clone_function=lambda layer: layer)  # Keras's share_weights
    assert shared.get_layer("hidden") is model.get_layer("hidden")
    assert shared.input is not model.input  # inputs are always new

    def relu_to_tanh(layer):
        config = layer.get_config()
        if config.get("activation") == "relu":
            config["activation"] = "tanh"
        return type(layer).from_config(config)

    changed = clone_model(model, clone_function=relu_to_tanh)
    assert changed.get_layer("hidden").get_config()["activation"] == "tanh"
    with pytest.raises(TypeError, match='clone_function must return a layer; for layer "hidden"'):
        clone_model(model, clone_function=lambda layer: None)
    with pytest.raises(ValueError, match="`clone_function` argument to be a callable"):
        clone_model(model, clone_function=3)


def test_clone_on_given_inputs():
    model = two_branch_model()
    a, b = minidl.Input((4,), name="new_a"), minidl.Input((4,), name="new_b")
    clone = clone_model(model, input_tensors=[a, b])
    assert clone.inputs == [a, b] and clone.input_names == ["new_a", "new_b"]
    with pytest.raises(ValueError, match="has 2 input.*gave 1"):
        clone_model(model, input_tensors=a)
    stack = sequential_model()
    start = minidl.Input((4,), name="start")
    clone = clone_model(stack, input_tensors=start)
    assert clone.input is start and clone.input_names == ["start"]
    with pytest.raises(ValueError, match="at most one tensor"):
        clone_model(stack, input_tensors=[start, minidl.Input((4,))])
    with pytest.raises(ValueError, match="other than an `InputLayer`"):
        clone_model(stack, input_tensors=layers.Dense(4)(start))
    with pytest.raises(TypeError, match="placeholders made by Input"):
        clone_model(stack, input_tensors=np.zeros((2, 4)))


def test_clone_of_a_functional_subclass_keeps_its_class():
    class Custom(minidl.Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = minidl.Input((3,))
    model = Custom(inputs, layers.Dense(2)(inputs))
    assert isinstance(clone_model(model), Custom)


class Configured(minidl.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {"units": self.units}


def test_clone_of_a_subclassed_model_uses_its_config():
    clone = clone_model(Configured(units=3))
    assert type(clone) is Configured and clone.units == 3
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional"):
        clone_model(Configured(), clone_function=lambda layer: layer)


def test_clone_refuses_what_it_cannot_copy():
    class Bare(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(NotImplementedError, match="subclassed Bare.*Implement get_config"):
        clone_model(Bare())
    with pytest.raises(ValueError, match="to be a `Model` instance"):
        clone_model(layers.Dense(3))


class Forgetful(layers.Layer):
    """Takes an argument that is not plain data, and has no get_config to write it down."""

    def __init__(self, weights_table, **kwargs):
        super().__init__(**kwargs)
        self.weights_table = np.asarray(weights_table, np.float32)

    def call(self, x):
        return x * self.weights_table


def test_a_config_that_would_lose_arguments_is_refused():
    inputs = minidl.Input((2,))
    model = minidl.Model(inputs, Forgetful(np.array([3.0, 3.0]), name="forgetful")(inputs))
    expected = r'"forgetful" \(Forgetful\) has arguments \[\'weights_table\'\].*get_config'
    with pytest.raises(NotImplementedError, match=expected):
        clone_model(model)
    with pytest.raises(NotImplementedError, match=expected):
        model.to_json()
    with pytest.raises(NotImplementedError, match=expected):
        model.save("never_written.mdl")
    shared = clone_model(model, clone_function=lambda layer: layer)  # no config needed
    np.testing.assert_allclose(shared.predict(np.ones((1, 2)), verbose=0), [[3.0, 3.0]])


class Linear(layers.Layer):
    """The subclassing guide's layer, without get_config: its plain arguments are
    recorded and make its config, as Keras 2 and 3 do."""

    def __init__(self, units=32, use_offset=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_offset = units, use_offset

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="ones")

    def call(self, x):
        y = minidl.ops.matmul(x, self.w)
        return y + self.b if self.use_offset else y


class Positional(layers.Layer):
    """No **kwargs: the base keys it cannot take are left out of its config."""

    def __init__(self, units):
        super().__init__()
        self.units = units

    def call(self, x):
        return x[:, : self.units]


def test_plain_arguments_make_the_config_of_a_layer_without_get_config(tmp_path):
    layer = Linear(5, use_offset=False, name="lin")
    assert layer.get_config() == {"name": "lin", "trainable": True, "dtype": "float32",
                                  "units": 5, "use_offset": False}
    assert Positional(2).get_config() == {"units": 2}
    inputs = minidl.Input((4,))
    model = minidl.Model(inputs, Positional(2)(Linear(3, use_offset=False, name="lin")(inputs)))
    custom = {"Linear": Linear, "Positional": Positional}
    x = batch(model)
    for copy in (model_from_json(model.to_json(), custom_objects=custom),
                 clone_model(model)):
        assert copy.get_layer("lin").units == 3 and copy.get_layer("lin").use_offset is False
        copy.set_weights(model.get_weights())
        assert_same_predictions(model, copy, x)
    model.save(tmp_path / "linear.mdl")
    loaded = load_model(tmp_path / "linear.mdl", custom_objects=custom)
    assert_same_predictions(model, loaded, x)


def test_a_subclass_of_a_minidl_layer_must_list_its_new_arguments():
    class Scaled(layers.Dense):  # Dense's get_config knows units, not scale
        def __init__(self, units, scale=2.0, **kwargs):
            super().__init__(units, **kwargs)
            self.scale = scale

    class Renamed(layers.Dense):  # nothing new: Dense's config holds it all
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)

    inputs = minidl.Input((3,))
    scaled = minidl.Model(inputs, Scaled(2, scale=3.0)(inputs))
    with pytest.raises(NotImplementedError, match=r"\['scale'\].*get_config"):
        clone_model(scaled)
    renamed = minidl.Model(inputs, Renamed(2, name="renamed")(inputs))
    assert clone_model(renamed).get_layer("renamed").units == 2
