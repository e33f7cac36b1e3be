"""minidl.constraints against tf_keras 2.21: values, names, configs, training, files.

The literals are what tf_keras 2.21's constraints return on the same arrays; the
fixtures in tests/fixtures/constraints were written by tf_keras (make_fixtures.py there):
its layers' configs, and two models with constraints saved as .h5, with their weights
after one SGD step.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import constraints, layers, ops
from minidl.models import load_model

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "constraints"
_UNPACKED = tempfile.TemporaryDirectory(prefix="minidl-constraint-fixtures-")

W = np.array([[0.3, -1.2, 0.05, 2.0], [-0.4, 0.9, -0.02, 1.5], [1.1, 0.0, 0.01, -0.7]],
             np.float32)

# tf_keras 2.21: constraint(tf.constant(W)).numpy().tolist()
KERAS_VALUES = [
    (constraints.MaxNorm(), [
        [0.29999998211860657, -1.1999999284744263, 0.0499999076128006, 1.5407425165176392],
        [-0.3999999463558197, 0.8999999165534973, -0.01999996230006218, 1.1555569171905518],
        [1.0999999046325684, 0.0, 0.00999998115003109, -0.5392598509788513]]),
    (constraints.max_norm(0.5), [
        [0.12414087355136871, -0.4000000059604645, 0.0499999076128006, 0.3851856291294098],
        [-0.16552115976810455, 0.29999998211860657, -0.01999996230006218, 0.28888922929763794],
        [0.4551831781864166, 0.0, 0.00999998115003109, -0.13481496274471283]]),
    (constraints.MaxNorm(1.0, axis=1), [
        [0.12754414975643158, -0.5101765990257263, 0.02125735767185688, 0.850294291973114],
        [-0.22289744019508362, 0.5015192031860352, -0.011144871823489666, 0.8358653783798218],
        [0.8436365723609924, 0.0, 0.007669423241168261, -0.5368596315383911]]),
    (constraints.MaxNorm(1.0, axis=[0, 1]), [
        [0.0927899181842804, -0.3711596727371216, 0.015464985743165016, 0.6185994148254395],
        [-0.12371988594532013, 0.2783697247505188, -0.006185994017869234, 0.4639495611190796],
        [0.34022969007492065, 0.0, 0.003092997008934617, -0.21650978922843933]]),
    (constraints.non_neg(), [
        [0.30000001192092896, -0.0, 0.05000000074505806, 2.0],
        [-0.0, 0.8999999761581421, -0.0, 1.5],
        [1.100000023841858, 0.0, 0.009999999776482582, -0.0]]),
    (constraints.unit_norm(), [
        [0.24828174710273743, -0.7999999523162842, 0.9128692150115967, 0.7703712582588196],
        [-0.3310423195362091, 0.5999999642372131, -0.3651476800441742, 0.5777784585952759],
        [0.9103663563728333, 0.0, 0.1825738400220871, -0.26962992548942566]]),
    (constraints.UnitNorm(axis=1), [
        [0.12754414975643158, -0.5101765990257263, 0.02125735767185688, 0.850294291973114],
        [-0.22289744019508362, 0.5015192031860352, -0.011144871823489666, 0.8358653783798218],
        [0.8436365723609924, 0.0, 0.007669423241168261, -0.5368596315383911]]),
    (constraints.min_max_norm(), [
        [0.24828174710273743, -0.800000011920929, 0.0499999076128006, 0.7703712582588196],
        [-0.3310423195362091, 0.5999999642372131, -0.01999996230006218, 0.5777784585952759],
        [0.9103663563728333, 0.0, 0.00999998115003109, -0.26962992548942566]]),
    (constraints.MinMaxNorm(0.5, 1.5, 0.5, 1), [
        [0.24565811455249786, -0.9826324582099915, 0.04094301909208298, 1.6377207040786743],
        [-0.36717304587364197, 0.8261393308639526, -0.01835865154862404, 1.376899003982544],
        [1.0999999046325684, 0.0, 0.009999998845160007, -0.6999999284744263]]),
]


@pytest.mark.parametrize("constraint, expected", KERAS_VALUES, ids=repr)
def test_values_are_tf_keras_values(constraint, expected):
    got = constraint(W)
    assert isinstance(got, minidl.Tensor) and got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_epsilon_is_added_to_the_norms():
    """A column whose norm is below max_value is still scaled by norm / (1e-7 + norm)
    (0.0499999076..., not 0.05): Keras's formula exactly, and a zero column stays 0."""
    column = np.array([[0.05], [-0.02], [0.01]], np.float32)
    norm = np.linalg.norm(column)
    np.testing.assert_allclose(constraints.MaxNorm(2)(column).numpy(),
                               column * norm / (1e-7 + norm), rtol=1e-7)
    for constraint in (constraints.MaxNorm(1.0), constraints.UnitNorm(),
                       constraints.MinMaxNorm(0.5, 1.0)):
        assert constraint(np.zeros((3, 2), np.float32)).numpy().tolist() == [[0.0, 0.0]] * 3


def test_non_neg_keeps_keras_signed_zeros():
    assert np.signbit(constraints.NonNeg()(W).numpy()).tolist() == [
        [False, True, False, False], [True, False, True, False], [False, False, False, True]]


def test_float64_weights_stay_float64():
    got = constraints.MaxNorm(0.5)(W.astype(np.float64))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), KERAS_VALUES[1][1], rtol=1e-6)


# tf_keras 2.21 on np.arange(...).reshape(...): rings of one value, read from the diagonal
@pytest.mark.parametrize("shape, expected", [
    ((4, 4, 2, 1), [[30, 30, 30, 30], [30, 10, 10, 30], [30, 10, 10, 30], [30, 30, 30, 30]]),
    ((3, 3, 1, 2), [[8, 8, 8], [8, 0, 8], [8, 8, 8]]),
    ((5, 5, 1, 1), [[18, 18, 18, 18, 18], [18, 12, 12, 12, 18], [18, 12, 6, 12, 18],
                    [18, 12, 12, 12, 18], [18, 18, 18, 18, 18]]),
])
def test_radial_constraint_is_tf_keras(shape, expected):
    kernel = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    got = constraints.radial_constraint()(kernel).numpy()
    assert got.shape == shape
    np.testing.assert_array_equal(got[..., 0, 0], expected)
    if shape == (4, 4, 2, 1):  # each (channel, filter) slice on its own: 31 = w[3, 3, 1, 0]
        assert got[0, 0, 1, 0] == 31 and got[1, 1, 1, 0] == 11
    if shape == (3, 3, 1, 2):
        assert got[..., 0, 1].tolist() == [[9, 9, 9], [9, 1, 9], [9, 9, 9]]


@pytest.mark.parametrize("shape", [(3, 3, 1), (2, 3, 1, 1), (1, 1, 1, 1)])
def test_radial_constraint_refuses_what_it_cannot_shape(shape):
    with pytest.raises(ValueError, match=rf"RadialConstraint.*received a weight of shape "
                                         rf"\({shape[0]}, "):
        constraints.RadialConstraint()(np.ones(shape, np.float32))


# --- names, get, serialize, deserialize --------------------------------------
@pytest.mark.parametrize("name, cls, config", [
    ("max_norm", constraints.MaxNorm, {"max_value": 2, "axis": 0}),
    ("MaxNorm", constraints.MaxNorm, {"max_value": 2, "axis": 0}),
    ("maxnorm", constraints.MaxNorm, {"max_value": 2, "axis": 0}),
    ("non_neg", constraints.NonNeg, {}), ("nonneg", constraints.NonNeg, {}),
    ("unit_norm", constraints.UnitNorm, {"axis": 0}), ("unitnorm", constraints.UnitNorm, {"axis": 0}),
    ("min_max_norm", constraints.MinMaxNorm,
     {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}),
    ("radial_constraint", constraints.RadialConstraint, {}),
    ("Constraint", constraints.Constraint, {}),
])
def test_get_by_name_gives_keras_defaults(name, cls, config):
    constraint = constraints.get(name)
    assert type(constraint) is cls and constraint.get_config() == config


def test_aliases_are_the_classes():
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.radial_constraint is constraints.RadialConstraint
    assert minidl.keras.constraints.MaxNorm is constraints.MaxNorm


def test_get_other_identifiers():
    assert constraints.get(None) is None

    def halve(w):
        return w * 0.5

    assert constraints.get(halve) is halve
    max_norm = constraints.MaxNorm(3)
    assert constraints.get(max_norm) is max_norm
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)
    legacy = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}})
    assert legacy.get_config() == {"max_value": 3, "axis": 1}
    assert constraints.get({"class_name": "max_norm", "config": {}}).get_config() == {
        "max_value": 2, "axis": 0}


@pytest.mark.parametrize("identifier, error, match", [
    ("max_nrom", ValueError, r"Unknown constraint: 'max_nrom'.*Did you mean 'max_norm'"),
    ({"class_name": "Clip", "config": {}}, ValueError, "Unknown constraint: 'Clip'"),
    (3, ValueError, "Could not interpret constraint function identifier: 3"),
    ([1], ValueError, "Could not interpret constraint"),
])
def test_get_refuses_what_it_cannot_interpret(identifier, error, match):
    with pytest.raises(error, match=match):
        constraints.get(identifier)


def test_serialize_is_tf_keras_form():
    # tf_keras 2.21: tf_keras.constraints.serialize(...)
    assert constraints.serialize(constraints.MinMaxNorm()) == {
        "module": "keras.constraints", "class_name": "MinMaxNorm",
        "config": {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
        "registered_name": None}
    assert constraints.serialize(constraints.NonNeg()) == {
        "module": "keras.constraints", "class_name": "NonNeg", "config": {},
        "registered_name": None}
    assert constraints.serialize(None) is None

    def f(w):
        return w

    assert constraints.serialize(f) == {"module": "builtins", "class_name": "function",
                                        "config": "f", "registered_name": "function"}
    assert constraints.deserialize(constraints.serialize(f), custom_objects={"f": f}) is f
    with pytest.raises(ValueError, match="Unknown constraint: 'f'"):
        constraints.deserialize(constraints.serialize(f))


@pytest.mark.parametrize("make, match", [
    (lambda: constraints.MaxNorm(-1.0), r"MaxNorm: max_value must be a number >= 0.*-1\.0"),
    (lambda: constraints.MaxNorm("2"), "max_value must be a number"),
    (lambda: constraints.MaxNorm(True), "max_value must be a number"),
    (lambda: constraints.MaxNorm(float("nan")), "max_value must be a number"),
    (lambda: constraints.MaxNorm(2, axis=1.5), "axis must be an integer or a list"),
    (lambda: constraints.UnitNorm(axis=[]), "axis must be an integer or a list"),
    (lambda: constraints.UnitNorm(axis=True), "axis must be an integer or a list"),
    (lambda: constraints.MinMaxNorm(min_value=-0.5), "min_value must be a number >= 0"),
    (lambda: constraints.MinMaxNorm(2.0, 1.0), r"max_value must be a number >= 2\.0"),
    (lambda: constraints.MinMaxNorm(rate=1.5), r"rate must be a number in \[0.0, 1.0\]"),
    (lambda: constraints.MaxNorm(1, axis=2)(W), r"MaxNorm\(axis=2\).*shape \(3, 4\)"),
    (lambda: constraints.UnitNorm(axis=[0, -3])(W), r"UnitNorm\(axis=\[0, -3\]\)"),
])
def test_bad_arguments_are_refused(make, match):
    """tf_keras takes any of these and fails later, or clips to nothing (MaxNorm(-1) zeroes
    every weight); minidl refuses them at once."""
    with pytest.raises(ValueError, match=match):
        make()


# --- on layers, weights and optimizers -----------------------------------------
def column_norms(layer):
    return np.linalg.norm(layer.kernel.numpy(), axis=0)


class NormsAfterEachStep(minidl.callbacks.Callback):
    def __init__(self, layer):
        super().__init__()
        self.layer, self.norms = layer, []

    def on_train_batch_end(self, batch, logs=None):
        self.norms.append(column_norms(self.layer))


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamax",
                                       "nadam", "adamw", "ftrl"])
def test_fit_keeps_max_norm_after_every_step(optimizer):
    """A real training run whose kernel wants to grow (targets 5x the inputs' sum):
    after every step each unit's incoming weights have a norm <= 0.5, and the
    constraint is what holds them there (they reach 0.5)."""
    minidl.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, (256, 6)).astype(np.float32)
    y = 5 * x.sum(axis=1, keepdims=True)
    hidden = layers.Dense(8, kernel_constraint=constraints.max_norm(0.5))
    model = minidl.Sequential([minidl.Input((6,)), hidden, layers.Dense(1)])
    rate = {"sgd": 0.01, "adadelta": 1.0, "ftrl": 0.5}.get(optimizer, 0.05)
    model.compile(minidl.optimizers.get({"class_name": optimizer,
                                         "config": {"learning_rate": rate}}), "mse")
    steps = NormsAfterEachStep(hidden)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[steps])
    norms = np.array(steps.norms)
    assert norms.shape == (16, 8)
    assert norms.max() <= 0.5 + 1e-6
    assert norms[-1].max() > 0.49  # held at the bound, not merely small

    free = layers.Dense(8)  # the same run without the constraint goes past it
    minidl.utils.set_random_seed(0)
    unconstrained = minidl.Sequential([minidl.Input((6,)), free, layers.Dense(1)])
    unconstrained.compile(minidl.optimizers.get({"class_name": optimizer,
                                                 "config": {"learning_rate": rate}}), "mse")
    unconstrained.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert column_norms(free).max() > 0.5


def test_apply_gradients_by_hand_applies_the_constraint_after_the_update():
    weight = minidl.Variable(np.array([[3.0, 0.1], [4.0, 0.2]], np.float32),
                             constraint=constraints.MaxNorm(1.0))
    minidl.optimizers.SGD(0.1).apply_gradients([(np.array([[-10.0, 1.0], [0.0, 1.0]]), weight)])
    updated = np.array([[4.0, 0.0], [4.0, 0.1]], np.float32)  # w - 0.1 * g
    expected = constraints.MaxNorm(1.0)(updated).numpy()
    np.testing.assert_allclose(weight.numpy(), expected, rtol=1e-6)
    assert np.linalg.norm(weight.numpy(), axis=0)[0] == pytest.approx(1.0, abs=1e-6)


def test_variable_constraint_must_be_callable():
    assert minidl.Variable(np.zeros(2)).constraint is None
    with pytest.raises(ValueError, match="The `constraint` argument must be a callable"):
        minidl.Variable(np.zeros(2), constraint="non_neg")


def test_a_constraint_that_changes_the_shape_is_refused():
    weight = minidl.Variable(np.ones((2, 3), np.float32), constraint=lambda w: ops.sum(w, axis=0))
    with pytest.raises(ValueError, match=r"returned shape \(3,\).*weight's shape\s+\(2, 3\)"):
        minidl.optimizers.SGD(0.1).apply_gradients([(np.ones((2, 3)), weight)])


class Clip(constraints.Constraint):
    """The test's own constraint: every weight in [-limit, limit]."""

    def __init__(self, limit=0.3):
        self.limit = limit

    def __call__(self, w):
        return ops.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


class ScaleLayer(layers.Layer):
    def build(self, input_shape):
        self.scale = self.add_weight("scale", shape=(input_shape[-1],), initializer="ones",
                                     constraint=Clip(0.25))

    def call(self, inputs):
        return inputs * self.scale


def test_add_weight_takes_a_constraint():
    layer = ScaleLayer()
    layer(np.ones((1, 3), np.float32))
    assert isinstance(layer.scale.constraint, Clip)
    minidl.optimizers.Adam(0.01).apply_gradients([(np.ones(3), layer.scale)])
    np.testing.assert_array_equal(layer.scale.numpy(), [0.25, 0.25, 0.25])
    with pytest.raises(ValueError, match=r'ScaleLayer layer "s2": constraint: Unknown constraint'):
        ScaleLayer(name="s2").add_weight("w", shape=(1,), constraint="clip")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_custom_constraint_trains_saves_and_loads(tmp_path, suffix):
    minidl.utils.set_random_seed(1)
    model = minidl.Sequential([minidl.Input((4,)), layers.Dense(3, kernel_constraint=Clip(0.2),
                                                                bias_constraint="non_neg")])
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).uniform(-1, 1, (32, 4)).astype(np.float32)
    model.fit(x, 5 * x[:, :3] - 3, epochs=2, verbose=0)
    kernel, bias = model.get_weights()
    assert np.abs(kernel).max() <= 0.2 and bias.min() >= 0
    assert model.layers[0].get_config()["kernel_constraint"] == {
        "module": None, "class_name": "Clip", "config": {"limit": 0.2}, "registered_name": "Clip"}
    path = tmp_path / f"clip{suffix}"
    model.save(path)
    with pytest.raises(ValueError, match=r"kernel_constraint: Unknown constraint: 'Clip'.*"
                                         "custom_objects"):
        load_model(path)
    loaded = load_model(path, custom_objects={"Clip": Clip})
    dense = loaded.layers[0]
    assert isinstance(dense.kernel.constraint, Clip) and dense.kernel.constraint.limit == 0.2
    assert isinstance(dense.bias.constraint, constraints.NonNeg)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_from_config_round_trip_keeps_the_constraint():
    dense = layers.Dense(2, kernel_constraint=constraints.MinMaxNorm(0.5, 2.0, 0.3, [0]))
    copy = layers.Dense.from_config(dense.get_config())
    assert copy.get_config() == dense.get_config()
    assert copy.kernel_constraint.get_config() == {"min_value": 0.5, "max_value": 2.0,
                                                   "rate": 0.3, "axis": [0]}


# --- tf_keras's configs and files ------------------------------------------------
MINIDL_LAYERS = {
    "Dense": lambda: layers.Dense(3, kernel_constraint=constraints.MaxNorm(1.5),
                                  bias_constraint="non_neg"),
    "Conv2D": lambda: layers.Conv2D(2, 3, kernel_constraint=constraints.UnitNorm([0, 1, 2])),
    "Conv1D": lambda: layers.Conv1D(2, 3, bias_constraint=constraints.MinMaxNorm(0.1, 2.0, 0.5)),
    "Conv2DTranspose": lambda: layers.Conv2DTranspose(2, 3, kernel_constraint="max_norm"),
    "DepthwiseConv2D": lambda: layers.DepthwiseConv2D(3, depthwise_constraint="unit_norm",
                                                      bias_constraint="non_neg"),
    "SeparableConv2D": lambda: layers.SeparableConv2D(
        2, 3, depthwise_constraint="non_neg", pointwise_constraint=constraints.MaxNorm(2.5, 3),
        bias_constraint="min_max_norm"),
    "EinsumDense": lambda: layers.EinsumDense("ab,bc->ac", 4, bias_axes="c",
                                              kernel_constraint="non_neg"),
    "LocallyConnected1D": lambda: layers.LocallyConnected1D(2, 3, kernel_constraint="non_neg"),
    "Embedding": lambda: layers.Embedding(10, 3, embeddings_constraint=constraints.MaxNorm(1, 1)),
    "LSTM": lambda: layers.LSTM(3, kernel_constraint="non_neg", recurrent_constraint="unit_norm",
                                bias_constraint=constraints.MaxNorm(0.5)),
    "GRUCell": lambda: layers.GRUCell(3, recurrent_constraint="non_neg"),
    "SimpleRNN": lambda: layers.SimpleRNN(3, bias_constraint="non_neg"),
    "ConvLSTM2D": lambda: layers.ConvLSTM2D(2, 3, kernel_constraint="non_neg"),
    "BatchNormalization": lambda: layers.BatchNormalization(beta_constraint="non_neg",
                                                            gamma_constraint="unit_norm"),
    "LayerNormalization": lambda: layers.LayerNormalization(gamma_constraint="non_neg"),
    "GroupNormalization": lambda: layers.GroupNormalization(2, beta_constraint="max_norm"),
    "PReLU": lambda: layers.PReLU(alpha_constraint="non_neg"),
    "MultiHeadAttention": lambda: layers.MultiHeadAttention(2, 3, kernel_constraint="unit_norm",
                                                            bias_constraint="non_neg"),
}
KERAS_CONFIGS = json.loads((FIXTURES / "configs.json").read_text())


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_layer_configs_carry_constraints_as_tf_keras(name):
    config = MINIDL_LAYERS[name]().get_config()
    got = {key: value for key, value in config.items() if key.endswith("_constraint")}
    assert json.loads(json.dumps(got)) == KERAS_CONFIGS[name]
    rebuilt = type(MINIDL_LAYERS[name]()).from_config(config)
    assert json.loads(json.dumps(rebuilt.get_config())) == json.loads(json.dumps(config))


def unpacked(name):
    target = Path(_UNPACKED.name) / f"{name}_keras2.h5"
    if not target.exists():
        target.write_bytes(gzip.decompress((FIXTURES / f"{name}_keras2.h5.gz").read_bytes()))
    return target


@pytest.mark.parametrize("name", ["image", "sequence"])
def test_tf_keras_file_with_constraints_loads_and_trains_as_tf_keras(name):
    """tf_keras's model (UnitNorm over a Conv2D's filters, MinMaxNorm with rate 0.5,
    NonNeg, MaxNorm on an Embedding and an LSTM, the custom MyClip) predicts as tf_keras
    did, and one SGD step leaves the weights tf_keras left: update, then constraint."""
    pytest.importorskip("h5py")
    with np.load(FIXTURES / f"{name}.npz") as data:
        stored = dict(data)
    model = load_model(unpacked(name), custom_objects={"MyClip": Clip})
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored["predicted"],
                               rtol=1e-5, atol=1e-5)
    constrained = [w for w in model.trainable_weights if w.constraint is not None]
    assert len(constrained) == {"image": 6, "sequence": 5}[name]

    def one_step(model):
        model.compile(minidl.optimizers.SGD(0.5), "mse")
        model.train_on_batch(stored["x"], stored["y"])
        return [w.numpy() for w in model.trainable_weights]

    after = one_step(model)
    assert len(after) == sum(key.startswith("after") for key in stored)
    for i, weight in enumerate(after):
        np.testing.assert_allclose(weight, stored[f"after{i}"], rtol=1e-5, atol=2e-6)

    free = load_model(unpacked(name), custom_objects={"MyClip": Clip})
    for weight in free.trainable_weights:
        weight.constraint = None
    differs = [not np.allclose(w, stored[f"after{i}"], atol=1e-4)
               for i, w in enumerate(one_step(free))]
    assert sum(differs) >= 3  # without the constraints, tf_keras's weights are not reached


BUILD_INPUTS = {  # an input each layer of MINIDL_LAYERS can be called on
    "Dense": (2, 4), "Conv2D": (1, 5, 5, 2), "Conv1D": (1, 6, 2), "Conv2DTranspose": (1, 4, 4, 2),
    "DepthwiseConv2D": (1, 5, 5, 2), "SeparableConv2D": (1, 5, 5, 2), "EinsumDense": (2, 3),
    "LocallyConnected1D": (1, 6, 2), "Embedding": (2, 3), "LSTM": (2, 4, 3), "SimpleRNN": (2, 4, 3),
    "ConvLSTM2D": (1, 2, 5, 5, 2), "BatchNormalization": (2, 3), "LayerNormalization": (2, 3),
    "GroupNormalization": (2, 4), "PReLU": (2, 3),
}


@pytest.mark.parametrize("name", sorted(MINIDL_LAYERS))
def test_every_weight_carries_its_layers_constraint(name):
    """Not only the config: each weight the optimizer sees holds the constraint given
    for it (kernel_constraint on every kernel, ...), and the others hold none."""
    layer = MINIDL_LAYERS[name]()
    if name == "GRUCell":
        layer = layers.RNN(layer)
        shape, owner = (2, 4, 3), layer.cell
    else:
        shape, owner = BUILD_INPUTS.get(name), layer
    x = np.zeros(shape if shape else (2, 3, 4), np.float32)
    if name == "MultiHeadAttention":
        layer(x, x)
    else:
        layer(x)
    expected = {"kernel": "kernel_constraint", "recurrent_kernel": "recurrent_constraint",
                "bias": "bias_constraint", "embeddings": "embeddings_constraint",
                "depthwise_kernel": "depthwise_constraint", "gamma": "gamma_constraint",
                "pointwise_kernel": "pointwise_constraint", "beta": "beta_constraint",
                "alpha": "alpha_constraint"}
    checked = 0
    for weight in owner.weights:
        role = weight.name.split("/")[-1]
        if role in ("moving_mean", "moving_variance"):
            assert weight.constraint is None
            continue
        assert weight.constraint is getattr(owner, expected[role]), weight.name
        checked += 1
    assert checked >= 1 and any(w.constraint is not None for w in owner.weights)
