"""load_model reading Keras 3 ``.keras`` and Keras 2 ``.h5`` files (minidl.models.keras_files).

The fixtures in tests/fixtures/keras were written by real Keras 3 and tf_keras
2 (see make_fixtures.py there) with the predictions Keras made on stored inputs;
minidl must load them and predict the same, to float32 rounding.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl.models import keras_files, load_model

pytest.importorskip("h5py")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"
_UNPACKED = tempfile.TemporaryDirectory(prefix="minidl-keras-fixtures-")


def path_of(file):
    """The fixture ``file``; Keras 2's ``.h5`` files are stored gzipped (an HDF5 file of a
    tiny model is mostly empty space) and unpacked here, byte for byte, once."""
    if not file.endswith(".h5"):
        return FIXTURES / file
    target = Path(_UNPACKED.name) / file
    if not target.exists():
        target.write_bytes(gzip.decompress((FIXTURES / f"{file}.gz").read_bytes()))
    return target


def stored(name):
    with np.load(FIXTURES / f"{name}.npz") as data:
        arrays = dict(data)
    def numbered(prefix):
        if prefix in arrays:
            return [arrays[prefix]]
        return [arrays[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in arrays))]

    xs = numbered("x")
    return xs[0] if len(xs) == 1 else xs, numbered("y")


SEQUENCE = ["recurrent", "embedding_lstm", "bidirectional", "conv1d", "tutorial_lstm",
            "tutorial_text", "image_layers", "masked_functional", "recurrent_states", "rnn_cells"]
BOTH = [f"{name}{suffix}" for name in SEQUENCE for suffix in ("", "_keras2")]


def fixture(name):
    return path_of(f"{name}.h5" if name.endswith("keras2") else f"{name}.keras")


@pytest.mark.parametrize("name", ["mlp", "cnn", "functional", "cnn_keras2", "functional_keras2",
                                  "residual_keras2", *BOTH])
def test_keras_made_file_predicts_as_keras_did(name):
    model = load_model(fixture(name))
    x, expected = stored(name)
    got = model.predict(x, verbose=0)
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_keras2_arithmetic_between_layers_loads_as_tfoplambda_layers(tmp_path):
    """x + inputs, 1.0 - x, x * 0.5, x / y, -x: Keras 2's TFOpLambda layers, constants
    (on either side) into their configs, then channels_first pooling."""
    model = load_model(fixture("residual_keras2"))
    operators = [(layer.name, layer.get_config().get("constant"),
                  layer.get_config().get("constant_first"))
                 for layer in model.layers if type(layer).__name__ == "TFOpLambda"]
    assert operators == [
        ("tf.__operators__.add", None, None), ("tf.__operators__.add_1", None, None),
        ("tf.math.multiply", 0.5, False), ("tf.math.subtract", 1.0, True),
        ("tf.math.negative", None, None), ("tf.math.multiply_1", None, None),
        ("tf.__operators__.add_2", 1.0, False), ("tf.math.truediv", None, None)]
    assert model.layers[-2].data_format == "channels_first"
    x, (expected,) = stored("residual_keras2")
    model.save(tmp_path / "residual.mdl")
    np.testing.assert_allclose(load_model(tmp_path / "residual.mdl").predict(x, verbose=0),
                               expected, rtol=1e-5, atol=1e-6)


def test_loaded_model_is_an_ordinary_minidl_model(tmp_path):
    model = load_model(str(FIXTURES / "cnn.keras"))
    assert isinstance(model, minidl.Sequential)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert model.layers[2].padding == "same" and model.layers[-1].activation_name == "softmax"
    lines = []
    model.summary(print_fn=lines.append)
    assert any("Total params: 1,034" in line for line in lines)  # 40 + 296 + 528 + 170
    x, (expected,) = stored("cnn")
    model.save(tmp_path / "cnn.mdl")
    np.testing.assert_array_equal(load_model(tmp_path / "cnn.mdl").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, np.arange(len(x)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("file", ["functional.keras", "functional_keras2.h5"])
def test_functional_names_and_inputs(file):
    model = load_model(path_of(file))
    assert model.name == "two_heads"
    assert [t.layer.name for t in model.inputs] == ["features", "extra"]
    assert model.output_names == ["probs", "value"]


def rewritten(tmp_path, change_config, name="functional"):
    """A copy of a fixture with config.json changed by ``change_config(config)``."""
    path = tmp_path / f"changed_{name}.keras"
    with zipfile.ZipFile(FIXTURES / f"{name}.keras") as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    config = json.loads(members["config.json"])
    change_config(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as target:
        for member, data in members.items():
            target.writestr(member, data)
    return path


def layer_entry(config, name):
    return next(e for e in config["config"]["layers"] if e["config"]["name"] == name)


def test_keras_layer_minidl_lacks_is_named(tmp_path):
    path = rewritten(tmp_path, lambda c: layer_entry(c, "branch_b").update(class_name="DenseFeatures"))
    with pytest.raises(NotImplementedError, match=r'"branch_b" \(DenseFeatures\) has no counterpart'):
        load_model(path)


def test_keras_weight_constraint_loads_as_a_minidl_constraint(tmp_path):
    def constrain(config):
        layer_entry(config, "probs")["config"]["kernel_constraint"] = {
            "module": "keras.constraints", "class_name": "MaxNorm",
            "config": {"max_value": 3, "axis": 0}, "registered_name": None}

    probs = load_model(rewritten(tmp_path, constrain)).get_layer("probs")
    assert isinstance(probs.kernel.constraint, minidl.constraints.MaxNorm)
    assert probs.get_config()["kernel_constraint"]["config"] == {"max_value": 3, "axis": 0}

    def unknown(config):
        layer_entry(config, "probs")["config"]["kernel_constraint"] = {
            "module": None, "class_name": "MyClip", "config": {}, "registered_name": "MyClip"}

    with pytest.raises(ValueError, match=r"kernel_constraint: Unknown constraint: 'MyClip'"):
        load_model(rewritten(tmp_path, unknown))


def test_argument_minidl_lacks_is_refused_unless_off(tmp_path):
    def renorm(config):
        layer_entry(config, "norm")["config"]["renorm"] = True

    with pytest.raises(NotImplementedError, match=r'"norm" \(BatchNormalization\) has renorm=True'):
        load_model(rewritten(tmp_path, renorm))


def test_weights_that_do_not_fit_the_config(tmp_path):
    path = rewritten(tmp_path, lambda c: layer_entry(c, "probs")["config"].update(units=4))
    with pytest.raises(keras_files.KerasFileError, match=r'layer "probs" \(Dense\) has weights of shapes'):
        load_model(path)


def test_not_a_model_file(tmp_path):
    path = rewritten(tmp_path, lambda c: c.update(class_name="Dense"))
    with pytest.raises(keras_files.KerasFileError, match="reads Sequential and functional"):
        load_model(path)


def test_missing_h5py_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install minidl\[keras\]"):
        load_model(FIXTURES / "mlp.keras")
    # an HDF5 file may be anything: a ValueError that still says how to read Keras's
    with pytest.raises(keras_files.KerasFileError, match=r"perhaps a Keras 2 .h5.*minidl\[keras\]"):
        load_model(path_of("cnn_keras2.h5"))


def test_only_keras_archives_are_recognised(tmp_path):
    assert keras_files.is_keras_archive(FIXTURES / "mlp.keras")
    model = minidl.Sequential([minidl.layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "m.mdl")  # minidl's own format for any name but *.keras
    assert not keras_files.is_keras_archive(tmp_path / "m.mdl")
    assert isinstance(load_model(tmp_path / "m.mdl"), minidl.Sequential)
    model.save(tmp_path / "m.keras")  # Keras 3's layout (tests/test_keras_writer.py)
    assert keras_files.is_keras_archive(tmp_path / "m.keras")
    assert isinstance(load_model(tmp_path / "m.keras"), minidl.Sequential)
    assert not keras_files.is_keras_archive(tmp_path / "missing.keras")
    assert not keras_files.is_keras_archive(FIXTURES / "mlp.npz")


def test_keras2_h5_is_recognised_and_other_hdf5_refused(tmp_path):
    import h5py

    assert keras_files.is_keras_h5(path_of("cnn_keras2.h5"))
    assert not keras_files.is_keras_h5(FIXTURES / "cnn.keras")
    other = tmp_path / "data.h5"
    with h5py.File(other, "w") as handle:
        handle["x"] = np.zeros(3)
    with pytest.raises(keras_files.KerasFileError, match="without a Keras model"):
        load_model(other)


def test_keras2_h5_loaded_cnn_matches_its_keras3_twin():
    keras2, keras3 = load_model(path_of("cnn_keras2.h5")), load_model(FIXTURES / "cnn.keras")
    assert [type(a) for a in keras2.layers] == [type(b) for b in keras3.layers]
    assert [w.shape for w in keras2.weights] == [w.shape for w in keras3.weights]


@pytest.mark.parametrize("change", [
    lambda c: layer_entry(c, "probs")["config"].update(units="three"),
    lambda c: layer_entry(c, "probs").update(inbound_nodes=[{"args": [{"config": {}}]}]),
    lambda c: c["config"].update(output_layers=[["nowhere", 0, 0]]),
    lambda c: c["config"].update(layers=7),
])
def test_malformed_config_is_a_file_error_naming_the_file(change, tmp_path):
    path = rewritten(tmp_path, change)
    with pytest.raises(keras_files.KerasFileError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["embedding_lstm", "embedding_lstm_keras2", "tutorial_text",
                                  "tutorial_text_keras2", "recurrent", "recurrent_keras2"])
def test_masks_of_keras_files_are_used(name):
    """The stored inputs are zero-padded and Keras's predictions honour the mask: the
    loaded model agrees with them, and the same model without its mask does not."""
    model = load_model(fixture(name))
    x, (expected,) = stored(name)
    assert (x == 0).any()  # padded steps
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    masker = model.layers[0]
    if hasattr(masker, "mask_zero"):
        masker.mask_zero = False
    else:
        masker.mask_value = np.nan  # nothing equals NaN: no step is masked
    assert not np.allclose(model.predict(x, verbose=0), expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("file", ["recurrent.keras", "recurrent_keras2.h5"])
def test_recurrent_layers_come_back_as_keras_made_them(file):
    model = load_model(path_of(file))
    assert [type(layer).__name__ for layer in model.layers] == [
        "Masking", "SimpleRNN", "GRU", "LSTM", "TimeDistributed", "GRU", "Dense"]
    gru = model.layers[5]
    assert gru.go_backwards and not gru.return_sequences and gru.units == 3
    assert type(model.layers[4].layer).__name__ == "Dense"
    assert [w.shape for w in model.layers[3].weights] == [(4, 20), (5, 20), (20,)]


@pytest.mark.parametrize("file", ["bidirectional.keras", "bidirectional_keras2.h5"])
def test_bidirectional_merge_modes_and_halves(file):
    model = load_model(path_of(file))
    modes = {layer.name: layer.merge_mode for layer in model.layers
             if type(layer).__name__ == "Bidirectional"}
    assert modes == {"bi_concat": "concat", "bi_sum": "sum", "bi_mul": "mul", "bi_ave": "ave",
                     "bi_none": None}
    concat = model.get_layer("bi_concat")
    # Keras 3 writes both halves; the mirror image of the forward one is not kept twice
    assert "backward_layer" not in concat.get_config()
    assert concat.forward_layer.name == "forward_lstm_a"
    assert concat.backward_layer.go_backwards and not concat.forward_layer.go_backwards
    x, (expected,) = stored(file.split(".")[0])
    again = minidl.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("file", ["tutorial_text.keras", "tutorial_text_keras2.h5",
                                  "bidirectional.keras"])
def test_keras_made_recurrent_model_saves_and_reloads_in_minidl(file, tmp_path):
    model = load_model(path_of(file))
    x, (expected,) = stored(file.split(".")[0])
    for target in ("copy.keras", "copy.mdl"):
        model.save(tmp_path / target)
        np.testing.assert_allclose(load_model(tmp_path / target).predict(x, verbose=0), expected,
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["gru_reset_before", "gru_reset_before_keras2"])
def test_gru_reset_after_false_predicts_as_keras(name):
    model = load_model(fixture(name))
    assert model.layers[-1].reset_after is False
    x, (expected,) = stored(name)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_recurrent_arguments_minidl_lacks(tmp_path):
    """zero_output_for_mask and seed are dropped only where they change nothing."""
    def zero_output(config):
        layer_entry(config, "lstm")["config"]["zero_output_for_mask"] = True

    with pytest.raises(NotImplementedError, match=r'"lstm" \(LSTM\) has zero_output_for_mask=True'):
        load_model(rewritten(tmp_path, zero_output, "recurrent"))

    def seeded(config):
        layer_entry(config, "lstm")["config"].update(seed=7)

    x, (expected,) = stored("recurrent")
    np.testing.assert_allclose(load_model(rewritten(tmp_path, seeded, "recurrent")).predict(
        x, verbose=0), expected, rtol=1e-5, atol=1e-6)  # no dropout: the seed is not used

    def seeded_dropout(config):
        layer_entry(config, "lstm")["config"].update(seed=7, dropout=0.5)

    with pytest.raises(NotImplementedError, match=r'"lstm" \(LSTM\) has seed=7'):
        load_model(rewritten(tmp_path, seeded_dropout, "recurrent"))

    def inner_constraint(config):
        inner = layer_entry(config, "bi_sum")["config"]["layer"]["config"]
        inner["recurrent_constraint"] = {"module": "keras.constraints", "class_name": "NonNeg",
                                         "config": {}, "registered_name": None}

    loaded = load_model(rewritten(tmp_path, inner_constraint, "bidirectional")).get_layer("bi_sum")
    assert isinstance(loaded.forward_layer.recurrent_kernel.constraint, minidl.constraints.NonNeg)
    assert loaded.backward_layer.recurrent_kernel.constraint is None  # (its own config has none)


def test_unknown_part_of_a_layer_group_is_named(tmp_path):
    import h5py

    path = tmp_path / "odd.keras"
    with zipfile.ZipFile(FIXTURES / "recurrent.keras") as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    weights = tmp_path / "w.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as handle:
        handle.move("layers/lstm/cell", "layers/lstm/kernel_cell")
    members["model.weights.h5"] = weights.read_bytes()
    with zipfile.ZipFile(path, "w") as target:
        for member, data in members.items():
            target.writestr(member, data)
    with pytest.raises(keras_files.KerasFileError, match=r"'/layers/lstm' have parts \['kernel_cell'\]"):
        load_model(path)


@pytest.mark.parametrize("file", ["image_layers.keras", "image_layers_keras2.h5"])
def test_every_other_layer_keras_has(file):
    """The augmentation, noise, resampling and activation layers and every merge layer
    come back as minidl's own; Keras 3's recorded training=True on its random layers is
    not replayed (Keras 3's predict does not either), Keras 2's file has none."""
    model = load_model(path_of(file))
    names = {type(layer).__name__ for layer in model.layers}
    assert {"Rescaling", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom",
            "RandomTranslation", "RandomContrast", "PReLU", "ZeroPadding2D", "Cropping2D",
            "Conv2DTranspose", "LeakyReLU", "AveragePooling2D", "UpSampling2D",
            "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization",
            "ELU", "ReLU", "Resizing", "CenterCrop", "GlobalMaxPooling2D",
            "GlobalAveragePooling2D", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
            "Dot", "Reshape", "Activation", "Softmax"} <= names
    assert ("ThresholdedReLU" in names) == file.endswith(".h5")  # gone from Keras 3
    x, (expected,) = stored(file.split(".")[0])
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-6)
    assert not model.get_layer("flip")._inbound_nodes[0].call_kwargs.get("training")


@pytest.mark.parametrize("name", ["bidirectional", "embedding_lstm_keras2", "tutorial_lstm",
                                  "tutorial_text", "functional", "cnn_keras2"])
def test_reads_minidl_written_keras_files_without_minidl_members(name, tmp_path):
    """minidl's own .keras (models/keras_writer.py) read as Keras 3 would see it: with only
    config.json, metadata.json and model.weights.h5 (load_model reads minidl's manifest
    first when it is there)."""
    model = load_model(fixture(name))
    model.save(tmp_path / "minidl.keras")
    with zipfile.ZipFile(tmp_path / "minidl.keras") as source:
        members = {n: source.read(n) for n in source.namelist()}
    assert "minidl.json" in members
    with zipfile.ZipFile(tmp_path / "plain.keras", "w") as target:
        for member in ("config.json", "metadata.json", "model.weights.h5"):
            target.writestr(member, members[member])
    x, expected = stored(name)
    got = load_model(tmp_path / "plain.keras").predict(x, verbose=0)
    got = got if isinstance(got, list) else [got]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("file", ["masked_functional.keras", "masked_functional_keras2.h5"])
def test_functional_masks_keras_3_records_as_operations(file):
    """Keras 3 writes the masks of Embedding(mask_zero) and Masking as operations
    (NotEqual, Any) passed as mask= to later layers; minidl makes the same masks itself."""
    model = load_model(path_of(file))
    assert not {"NotEqual", "Any"} & {type(layer).__name__ for layer in model.layers}
    assert [t.layer.name for t in model.inputs] == ["tokens", "signal"]
    xs, (expected,) = stored(file.split(".")[0])
    np.testing.assert_allclose(model.predict(xs, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_mask_operation_used_as_data_is_refused(tmp_path):
    def output_the_mask(config):
        mask = next(e["name"] for e in config["config"]["layers"] if e["class_name"] == "NotEqual")
        config["config"]["output_layers"] = [["out", 0, 0], [mask, 0, 0]]

    path = rewritten(tmp_path, output_the_mask, "masked_functional")
    with pytest.raises(NotImplementedError, match=r'"not_equal\w*" \(NotEqual\) has no counterpart'):
        load_model(path)


@pytest.mark.parametrize("name", ["masked_mean", "masked_mean_keras2"])
def test_masked_global_average_pooling_predicts_as_keras(name):
    """Keras's GlobalAveragePooling1D averages the unmasked steps only; so does minidl's."""
    model = load_model(fixture(name))
    x, (expected,) = stored(name)
    assert (x == 0).any()  # padded steps
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    model.layers[0].mask_zero = False  # the plain mean over every step differs
    assert not np.allclose(model.predict(x, verbose=0), expected, rtol=1e-3, atol=1e-4)


def test_keras_lambda_is_refused_without_running_it(tmp_path):
    def as_lambda(config):
        entry = layer_entry(config, "join")
        entry["class_name"] = "Lambda"
        entry["config"] = {"name": "join", "trainable": True, "function": {
            "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None,
                                                   "closure": None}}, "arguments": {}}

    with pytest.raises(NotImplementedError, match=r'"join" \(Lambda\) holds its function as '
                                                  "Python bytecode"):
        load_model(rewritten(tmp_path, as_lambda))


def test_bidirectional_with_its_own_backward_layer_keeps_it(tmp_path):
    def relu_backward(config):
        layer_entry(config, "bi_concat")["config"]["backward_layer"]["config"]["activation"] = "relu"

    model = load_model(rewritten(tmp_path, relu_backward, "bidirectional"))
    layer = model.get_layer("bi_concat")
    assert layer.get_config()["backward_layer"]["config"]["activation"] == "relu"
    assert layer.backward_layer.go_backwards
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_lstm_a", "backward_lstm_a")
    fixed = load_model(path_of("bidirectional.keras")).get_layer("bi_concat")
    for mine, theirs in zip(layer.weights, fixed.weights):  # the same weights were read
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_mask_through_a_merge_reaches_the_lstm_as_keras_2():
    model = load_model(fixture("masked_merge_keras2"))
    x, (expected,) = stored("masked_merge_keras2")
    assert (x == 0).any()  # padded steps
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["masked_merge", "masked_layers"])
def test_keras_3_masks_through_a_merge_are_refused(name):
    """Keras 3 ORs the masks in its merge layers (Keras 2, which minidl follows: AND)."""
    with pytest.raises(NotImplementedError, match=r'Keras 3 combines timestep masks with '
                                                  r'"logical_or\w*" \(LogicalOr\)'):
        load_model(fixture(name))


@pytest.mark.parametrize("name", ["masked_layers_keras2"])
def test_masks_through_normalization_activation_and_merges_as_keras(name):
    """Embedding(mask_zero) -> BatchNormalization -> LeakyReLU -> Concatenate(axis=1) ->
    LSTM, and -> Multiply -> GlobalAveragePooling1D: Keras's predictions."""
    model = load_model(fixture(name))
    x, (expected,) = stored(name)
    assert (x == 0).any()  # padded steps
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
