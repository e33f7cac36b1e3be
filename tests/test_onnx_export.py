"""ONNX export (minidl.onnx), checked by running the files in ONNX Runtime.

Every exportable layer is exported inside a small model with random weights
(biases and batch-norm statistics included, so none of them is a no-op), the
file is checked with ``onnx.checker``, run by ONNX Runtime on batches of 1
and 7, and compared with minidl's ``predict`` to float32 rounding.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import Model, Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from minidl.onnx.graph import unique_names  # noqa: E402 (needs onnx)

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "leaky_relu",
               "softplus", "softsign", "selu", "relu6", "gelu", "swish", "mish", "hard_sigmoid",
               "exponential"]


def randomize(model, seed=0):
    """Random weights everywhere; variances positive."""
    rng = np.random.default_rng(seed)
    model.set_weights([
        rng.uniform(0.5, 2.0, w.shape) if "variance" in w.name else rng.normal(0, 0.5, w.shape)
        for w in model.weights
    ])
    return model


def sample(shape, batch, seed, integers=None):
    rng = np.random.default_rng(seed)
    if integers is not None:
        return rng.integers(0, integers, (batch, *shape)).astype(np.float32)
    return rng.normal(0, 1, (batch, *shape)).astype(np.float32)


def check_export(model, tmp_path, integers=None, opset=None, name="model.onnx"):
    """Export, check, run at batch 1 and 7 and compare with predict; returns the session."""
    path = tmp_path / name
    minidl.onnx.export(model, path, opset=opset)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = session.get_inputs()
    assert [f.name for f in feeds] == [t.layer.name for t in model.inputs]
    assert [o.name for o in session.get_outputs()] == unique_names(model.output_names)
    for batch in (1, 7):
        xs = [sample(t.shape[1:], batch, seed=batch + i, integers=integers)
              for i, t in enumerate(model.inputs)]
        expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        got = session.run(None, {f.name: x for f, x in zip(feeds, xs)})
        for e, g in zip(expected, got):
            assert g.shape == e.shape
            scale = max(1.0, float(np.abs(e).max()))
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6 * scale)
    return session


def sequential(*stack, input_shape):
    return randomize(Sequential([layers.InputLayer(input_shape=input_shape), *stack]))


# --- one model per exportable layer ------------------------------------------
LAYER_CASES = {
    "dense": lambda: sequential(layers.Dense(5), input_shape=(6,)),
    "dense_no_bias_rank3": lambda: sequential(layers.Dense(5, use_bias=False), input_shape=(4, 6)),
    "activation_layer": lambda: sequential(layers.Activation("softmax"), input_shape=(6,)),
    "conv2d_valid": lambda: sequential(layers.Conv2D(4, 3, activation="relu"), input_shape=(8, 7, 2)),
    "conv2d_dilated_grouped": lambda: sequential(
        layers.Conv2D(6, (3, 2), dilation_rate=(2, 3), groups=2, padding="same", activation="relu"),
        layers.Conv2D(4, 2, dilation_rate=2, groups=2), input_shape=(9, 8, 4)),
    "conv2d_same_stride2": lambda: sequential(
        layers.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="tanh"),
        input_shape=(9, 7, 2)),
    "conv2d_same_stride3_no_bias": lambda: sequential(
        layers.Conv2D(3, (2, 4), strides=3, padding="same", use_bias=False),
        input_shape=(10, 11, 1)),
    "max_pool_valid": lambda: sequential(layers.MaxPooling2D((3, 2)), input_shape=(9, 7, 3)),
    "max_pool_same": lambda: sequential(
        layers.MaxPooling2D((3, 2), strides=(2, 3), padding="same"), input_shape=(9, 7, 3)),
    "avg_pool_valid": lambda: sequential(layers.AveragePooling2D(2, strides=1), input_shape=(5, 6, 2)),
    "avg_pool_same": lambda: sequential(
        layers.AveragePooling2D((3, 3), strides=2, padding="same"), input_shape=(8, 7, 2)),
    "global_avg_pool": lambda: sequential(layers.GlobalAveragePooling2D(), input_shape=(5, 4, 3)),
    "global_max_pool_keepdims": lambda: sequential(
        layers.GlobalMaxPooling2D(keepdims=True), input_shape=(5, 4, 3)),
    "batch_norm_dense": lambda: sequential(layers.Dense(4), layers.BatchNormalization(),
                                           input_shape=(6,)),
    "batch_norm_image": lambda: sequential(layers.BatchNormalization(epsilon=0.01),
                                           input_shape=(5, 4, 3)),
    "batch_norm_axis1_no_scale": lambda: sequential(
        layers.BatchNormalization(axis=1, scale=False, center=False), input_shape=(3, 4, 2)),
    "dropout": lambda: sequential(layers.Dense(4), layers.Dropout(0.5), input_shape=(6,)),
    "spatial_dropout_noise": lambda: sequential(
        layers.SpatialDropout2D(0.3), layers.GaussianNoise(1.0), layers.GaussianDropout(0.3),
        layers.ActivityRegularization(l1=0.1), input_shape=(4, 4, 2)),
    "spatial_dropout_3d": lambda: sequential(layers.SpatialDropout3D(0.3), layers.Flatten(),
                                             layers.Dense(2), input_shape=(2, 3, 4, 2)),
    "flatten_nhwc_order": lambda: sequential(layers.Conv2D(3, 2), layers.Flatten(), layers.Dense(4),
                                             input_shape=(5, 4, 2)),
    "reshape": lambda: sequential(layers.Reshape((3, 4)), layers.Reshape((-1, 2)),
                                  input_shape=(12,)),
    "permute": lambda: sequential(layers.Permute((2, 1)), input_shape=(3, 5)),
    "repeat_vector": lambda: sequential(layers.RepeatVector(3), input_shape=(5,)),
    "relu_layer": lambda: sequential(layers.ReLU(), input_shape=(6,)),
    "relu_layer_options": lambda: sequential(
        layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.3), input_shape=(6,)),
    "leaky_relu_layer": lambda: sequential(layers.LeakyReLU(alpha=0.25), input_shape=(6,)),
    "elu_layer": lambda: sequential(layers.ELU(alpha=0.7), input_shape=(6,)),
    "thresholded_relu_layer": lambda: sequential(layers.ThresholdedReLU(theta=0.4), input_shape=(6,)),
    "prelu_shared_axes": lambda: sequential(layers.PReLU(shared_axes=[1, 2]), input_shape=(4, 3, 2)),
    "softmax_layer_axis1": lambda: sequential(layers.Softmax(axis=1), input_shape=(4, 3)),
    "conv1d_valid": lambda: sequential(layers.Conv1D(4, 3, activation="relu"), input_shape=(9, 2)),
    "conv1d_same_stride2": lambda: sequential(layers.Conv1D(3, 4, strides=2, padding="same"),
                                              input_shape=(9, 2)),
    "conv1d_causal_dilated": lambda: sequential(
        layers.Conv1D(3, 3, padding="causal", dilation_rate=2), input_shape=(10, 2)),
    "pool1d": lambda: sequential(layers.MaxPooling1D(3, strides=2, padding="same"),
                                 layers.AveragePooling1D(2, padding="same"), input_shape=(9, 3)),
    "global_pool1d": lambda: sequential(layers.GlobalMaxPooling1D(), input_shape=(9, 3)),
    "global_avg_pool1d_keepdims": lambda: sequential(layers.GlobalAveragePooling1D(keepdims=True),
                                                     input_shape=(9, 3)),
    "global_pool1d_channels_first": lambda: sequential(
        layers.GlobalMaxPooling1D(data_format="channels_first"), layers.Dense(2),
        input_shape=(9, 3)),
    "global_avg_pool1d_channels_first": lambda: sequential(
        layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True),
        input_shape=(9, 3)),
    "pool1d_channels_first": lambda: sequential(
        layers.MaxPooling1D(3, strides=2, padding="same", data_format="channels_first"),
        layers.AveragePooling1D(2, data_format="channels_first"),
        layers.GlobalMaxPooling1D(data_format="channels_first", keepdims=True),
        layers.Flatten(data_format="channels_first"), input_shape=(3, 9)),
    "global_avg_pool1d_channels_first_no_keepdims": lambda: sequential(
        layers.GlobalAveragePooling1D(data_format="channels_first"), input_shape=(3, 9)),
    "conv1d_groups_channels_first": lambda: sequential(
        layers.Conv1D(4, 3, groups=2, padding="same", activation="relu",
                      data_format="channels_first"),
        layers.Conv1D(6, 2, groups=2, strides=2, data_format="channels_first"),
        layers.Conv1D(4, 2, groups=2, use_bias=False), input_shape=(4, 9)),
    "flatten_channels_first": lambda: sequential(layers.Flatten(data_format="channels_first"),
                                                 input_shape=(2, 3, 4)),
    "rescaling": lambda: sequential(layers.Rescaling(1 / 255, offset=-0.5), input_shape=(4, 3, 2)),
    "rescaling_per_channel": lambda: sequential(layers.Rescaling([0.5, 2.0]), input_shape=(4, 3, 2)),
    "normalization": lambda: sequential(layers.Normalization(mean=[1.0, -2.0, 0.5],
                                                             variance=[4.0, 0.25, 1e-20]),
                                        input_shape=(3,)),
    "normalization_invert_scalar": lambda: sequential(
        layers.Normalization(axis=None, mean=3.0, variance=2.0, invert=True), input_shape=(3, 2)),
    "zero_padding2d": lambda: sequential(layers.ZeroPadding2D(((1, 2), (0, 3))), input_shape=(4, 3, 2)),
    "cropping2d": lambda: sequential(layers.Cropping2D(((1, 0), (2, 1))), input_shape=(5, 6, 2)),
    "upsampling2d_nearest": lambda: sequential(layers.UpSampling2D((2, 3)), input_shape=(3, 4, 2)),
    "upsampling2d_bilinear": lambda: sequential(
        layers.UpSampling2D((2, 3), interpolation="bilinear"), input_shape=(3, 4, 2)),
    "zero_padding1d": lambda: sequential(layers.ZeroPadding1D((2, 1)), input_shape=(4, 3)),
    "cropping1d": lambda: sequential(layers.Cropping1D((1, 2)), input_shape=(6, 3)),
    "upsampling1d": lambda: sequential(layers.UpSampling1D(3), input_shape=(4, 2)),
    "spatial_dropout1d": lambda: sequential(layers.Conv1D(3, 2), layers.SpatialDropout1D(0.4),
                                            input_shape=(6, 2)),
    "conv2d_transpose_dilated": lambda: sequential(
        layers.Conv2DTranspose(3, (3, 2), dilation_rate=2, padding="same"),
        layers.Conv2DTranspose(2, 2, dilation_rate=3), input_shape=(4, 5, 2)),
    "conv2d_transpose_valid": lambda: sequential(layers.Conv2DTranspose(3, 3, strides=2),
                                                 input_shape=(4, 5, 2)),
    "conv2d_transpose_same": lambda: sequential(
        layers.Conv2DTranspose(3, (3, 4), strides=(2, 3), padding="same", activation="relu"),
        input_shape=(4, 5, 2)),
    "conv2d_transpose_small_kernel": lambda: sequential(
        layers.Conv2DTranspose(2, 2, strides=3, use_bias=False), input_shape=(3, 3, 2)),
    "conv2d_transpose_output_padding": lambda: sequential(
        layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1),
        input_shape=(3, 4, 2)),
    "conv1d_transpose_same": lambda: sequential(
        layers.Conv1DTranspose(3, 7, strides=2, padding="same", activation="relu"),
        input_shape=(6, 2)),
    "conv1d_transpose_even_kernel_output_padding": lambda: sequential(
        layers.Conv1DTranspose(2, 4, strides=3, output_padding=2), input_shape=(5, 2)),
    "conv1d_transpose_small_kernel_same": lambda: sequential(
        layers.Conv1DTranspose(2, 2, strides=3, padding="same", use_bias=False),
        input_shape=(4, 3)),
    "conv1d_transpose_dilated": lambda: sequential(
        layers.Conv1DTranspose(2, 3, dilation_rate=2, padding="same"), input_shape=(5, 3)),
    "augmentation_is_identity": lambda: sequential(
        layers.RandomFlip(), layers.RandomRotation(0.2), layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1), layers.RandomContrast(0.2), input_shape=(6, 5, 3)),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_exports_and_matches(case, tmp_path):
    check_export(LAYER_CASES[case](), tmp_path)


def test_1d_resampling_exports_for_sequences_of_any_length(tmp_path):
    model = sequential(layers.ZeroPadding1D((2, 1)), layers.UpSampling1D(3),
                       layers.Cropping1D((1, 2)), layers.Cropping1D((1, 0)),
                       layers.SpatialDropout1D(0.3), input_shape=(None, 2))
    minidl.onnx.export(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    for steps in (1, 4, 9):
        x = sample((steps, 2), 3, seed=steps)
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_array_equal(got, model.predict(x, verbose=0))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_activations_match(activation, tmp_path):
    check_export(sequential(layers.Dense(5, activation=activation), input_shape=(6,)), tmp_path)


def test_embedding_gathers_rows(tmp_path):
    model = sequential(layers.Embedding(20, 4, mask_zero=True), layers.GlobalAveragePooling1D(),
                       layers.Dense(3, activation="softmax"), input_shape=(5,))
    check_export(model, tmp_path, integers=20)


# --- merge layers and functional graphs ------------------------------------
def two_inputs(shape_a, shape_b):
    return layers.Input(shape=shape_a, name="left"), layers.Input(shape=shape_b, name="right")


MERGE_CASES = {
    "add": lambda a, b: layers.Add()([a, b, layers.Dense(5)(a)]),
    "subtract": lambda a, b: layers.Subtract()([a, b]),
    "multiply": lambda a, b: layers.Multiply()([a, b, b]),
    "average": lambda a, b: layers.Average()([a, b]),
    "maximum": lambda a, b: layers.Maximum()([a, b]),
    "minimum": lambda a, b: layers.Minimum()([a, b]),
    "concatenate": lambda a, b: layers.Concatenate()([a, b]),
    "concatenate_axis1": lambda a, b: layers.Concatenate(axis=1)([a, b]),
    "dot": lambda a, b: layers.Dot(axes=1)([a, b]),
    "dot_normalize": lambda a, b: layers.Dot(axes=1, normalize=True)([a, b]),
}


@pytest.mark.parametrize("case", sorted(MERGE_CASES))
def test_merge_layers(case, tmp_path):
    a, b = two_inputs((5,), (5,))
    model = randomize(Model([a, b], MERGE_CASES[case](a, b)))
    check_export(model, tmp_path)


def test_operators_on_symbolic_tensors(tmp_path):
    """The TFOpLambda layers of ``x + inputs``: one node each, NumPy's broadcasting."""
    a, b = two_inputs((4, 1), (1, 3))
    x = layers.Dense(3)(b)
    outputs = [a + x, a - b, 1.5 - a, a * np.arange(3, dtype=np.float32), -(a / (b * b + 1.0)),
               (b * b) ** 1.5]
    check_export(randomize(Model([a, b], outputs)), tmp_path)


def test_merge_of_different_ranks_broadcasts_after_batch_axis(tmp_path):
    a, b = two_inputs((5,), (3, 5))
    model = Model([a, b], [layers.Add()([a, b]), layers.Maximum()([b, a])])
    check_export(model, tmp_path)


@pytest.mark.parametrize("axes, shape_b", [((2, 2), (5, 4)), ((1, 1), (3, 2)), ((2, 1), (4, 2))])
def test_dot_of_sequences(axes, shape_b, tmp_path):
    a, b = two_inputs((3, 4), shape_b)
    check_export(Model([a, b], layers.Dot(axes=axes)([a, b])), tmp_path)


def test_functional_names_several_outputs_and_nested_model(tmp_path):
    inner = Sequential([layers.Dense(8, activation="relu", input_shape=(6,)), layers.Dense(4)],
                       name="inner")
    inputs = layers.Input(shape=(6,), name="features")
    hidden = inner(inputs)
    probs = layers.Dense(3, activation="softmax", name="probs")(hidden)
    value = layers.Dense(1, name="value")(layers.Concatenate()([hidden, inputs]))
    model = randomize(Model(inputs, [probs, value]))
    session = check_export(model, tmp_path)
    assert [i.name for i in session.get_inputs()] == ["features"]
    assert [o.name for o in session.get_outputs()] == ["probs", "value"]


def test_shared_layer_weights_stored_once(tmp_path):
    shared = layers.Dense(4, name="shared")
    a, b = two_inputs((6,), (6,))
    model = randomize(Model([a, b], layers.Add()([shared(a), shared(b)])))
    check_export(model, tmp_path)
    proto = onnx.load(str(tmp_path / "model.onnx"))
    assert len(proto.graph.initializer) == 2  # one kernel, one bias


def test_batch_axis_is_dynamic(tmp_path):
    model = sequential(layers.Dense(3), input_shape=(4,))
    model.export(tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    for value in (*proto.graph.input, *proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch"
        assert all(d.dim_value > 0 for d in dims[1:])


@pytest.mark.parametrize("opset", [13, 17, 18, None])
def test_opsets(opset, tmp_path):
    newest = onnx.defs.onnx_opset_version()
    opset = newest if opset is None else opset
    a, b = two_inputs((4, 3, 2), (24,))
    pooled = layers.GlobalAveragePooling2D()(a)
    most = layers.GlobalMaxPooling2D()(a)
    cosine = layers.Dot(axes=1, normalize=True)([layers.Flatten()(a), b])
    model = randomize(Model([a, b], layers.Concatenate()([pooled, most, cosine])))
    try:
        check_export(model, tmp_path, opset=opset)
    except ort.capi.onnxruntime_pybind11_state.Fail as error:
        # the newest opset the onnx package knows may be newer than the installed runtime
        # (pip gives Python 3.10 an older onnxruntime): the file itself is checked above
        if opset == newest and "Unsupported model IR version" in str(error):
            pytest.skip(f"onnxruntime {ort.__version__} cannot run opset {opset} yet: {error}")
        raise
    assert onnx.load(str(tmp_path / "model.onnx")).opset_import[0].version == opset


# --- the tutorial models --------------------------------------------------------
def tutorial_mlp():
    return Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def tutorial_cnn():
    return Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


@pytest.mark.parametrize("build", [tutorial_mlp, tutorial_cnn])
def test_tutorial_models_after_training(build, tmp_path):
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.random((64, *model.input_shapes[0][1:]), dtype=np.float32)
    model.fit(x, rng.integers(0, 10, 64), epochs=1, batch_size=32, verbose=0)
    session = check_export(model, tmp_path)
    (probabilities,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(probabilities, model.predict(x, verbose=0), rtol=1e-5, atol=2e-6)


# --- errors and the file ---------------------------------------------------------
def test_unexportable_layer_is_named(tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(4,)), layers.Lambda(lambda t: t * 2, name="doubler")])
    with pytest.raises(NotImplementedError, match=r'layer "doubler" \(Lambda\) cannot be exported'):
        model.export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_custom_activation_is_named(tmp_path):
    model = Sequential([layers.Dense(3, activation=lambda t: t * 2, input_shape=(4,), name="odd")])
    with pytest.raises(NotImplementedError, match='layer "odd" .*activation'):
        model.export(tmp_path / "m.onnx")


def test_subclassed_layer_is_not_exported_as_its_base(tmp_path):
    class Doubled(layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2

    model = Sequential([Doubled(3, input_shape=(4,), name="doubled")])
    with pytest.raises(NotImplementedError, match=r'"doubled" \(Doubled\)'):
        model.export(tmp_path / "m.onnx")


def test_subclassed_model_is_refused(tmp_path):
    class Net(Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(3)

        def call(self, x, training=False):
            return self.dense(x) * 2

    model = Net()
    model(np.zeros((1, 4), np.float32))
    with pytest.raises(NotImplementedError, match=r'model "net" \(Net\) is a subclassed model'):
        model.export(tmp_path / "m.onnx")


def test_layer_called_in_training_mode_is_refused(tmp_path):
    inputs = layers.Input(shape=(4,))
    outputs = layers.Dropout(0.5, name="mc_dropout")(layers.Dense(3)(inputs), training=True)
    with pytest.raises(NotImplementedError, match='"mc_dropout" is called with .*training'):
        Model(inputs, outputs).export(tmp_path / "m.onnx")


def test_unbuilt_model_and_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        Sequential([layers.Dense(3)]).export(tmp_path / "m.onnx")
    model = sequential(layers.Dense(3), input_shape=(4,))
    with pytest.raises(ValueError, match="opset must be an integer from 13"):
        minidl.onnx.export(model, tmp_path / "m.onnx", opset=9)
    with pytest.raises(ValueError, match='format="onnx" only'):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(TypeError, match="takes a minidl model"):
        minidl.onnx.export(layers.Dense(3), tmp_path / "m.onnx")


def test_missing_onnx_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    model = sequential(layers.Dense(3), input_shape=(4,))
    with pytest.raises(ImportError, match=r"pip install minidl\[onnx\]"):
        model.export(tmp_path / "m.onnx")


def test_write_is_atomic_and_replaces(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model = sequential(layers.Dense(3), input_shape=(4,))
    assert model.export(path) == str(path)
    assert onnx.load(str(path)).graph.node  # the new file, whole
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary file left
    bad = Sequential([layers.Dense(3, input_shape=(4,)), layers.Lambda(lambda t: t)])
    before = path.read_bytes()
    with pytest.raises(NotImplementedError):
        bad.export(path)
    assert path.read_bytes() == before


def test_adapted_normalization_exports_its_statistics(tmp_path):
    norm = layers.Normalization(input_shape=(3,))
    norm.adapt(np.random.default_rng(2).normal(5, 3, (50, 3)).astype(np.float32))
    check_export(Sequential([norm, layers.Dense(2)]), tmp_path)


def test_keras_file_to_onnx(tmp_path):
    """The two bridges together: a model Keras saved, loaded by minidl, run by ONNX Runtime."""
    pytest.importorskip("h5py")
    fixtures = os.path.join(os.path.dirname(__file__), "fixtures", "keras")
    model = minidl.models.load_model(os.path.join(fixtures, "functional.keras"))
    session = check_export(model, tmp_path)
    with np.load(os.path.join(fixtures, "functional.npz")) as stored:
        got = session.run(None, {"features": stored["x0"], "extra": stored["x1"]})
        for g, e in zip(got, (stored["y0"], stored["y1"])):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_masked_global_average_pooling_exports_the_masked_mean(tmp_path):
    """The mean over the unmasked steps only, as GlobalAveragePooling1D computes it."""
    model = sequential(layers.Embedding(20, 4, mask_zero=True), layers.GlobalAveragePooling1D(),
                       layers.Dense(3), input_shape=(5,))
    session = check_export(model, tmp_path, integers=20)
    padded = np.array([[3, 7, 0, 0, 0], [0, 0, 5, 1, 2]], np.float32)
    got = session.run(None, {session.get_inputs()[0].name: padded})[0]
    np.testing.assert_allclose(got, model.predict(padded, verbose=0), rtol=1e-5, atol=1e-6)
    table = model.layers[0].embeddings.numpy()
    kernel, bias = (w.numpy() for w in model.layers[2].weights)
    np.testing.assert_allclose(got[0], table[[3, 7]].mean(axis=0) @ kernel + bias, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("merge", ["add", "multiply", "concatenate", "concatenate_steps"])
def test_masks_through_a_merge_reach_the_lstm(merge, tmp_path):
    """The merge layers combine their inputs' masks (as Keras 2); so does the export."""
    left, right = layers.Input(shape=(5,), name="left"), layers.Input(shape=(5,), name="right")
    a = layers.Embedding(10, 3, mask_zero=True)(left)
    b = layers.Embedding(10, 3, mask_zero=True)(right)
    joined = {"add": lambda: layers.Add()([a, b]), "multiply": lambda: layers.Multiply()([a, b]),
              "concatenate": lambda: layers.Concatenate()([a, b]),
              "concatenate_steps": lambda: layers.Concatenate(axis=1)([a, b])}[merge]()
    model = randomize(Model([left, right], layers.LSTM(2)(joined)))
    session = check_export(model, tmp_path, integers=10)
    xs = [np.array([[3, 7, 0, 0, 0], [4, 0, 0, 0, 0]], np.float32),
          np.array([[1, 0, 0, 0, 0], [4, 5, 6, 0, 0]], np.float32)]
    got = session.run(None, {"left": xs[0], "right": xs[1]})[0]
    np.testing.assert_allclose(got, model.predict(xs, verbose=0), rtol=1e-5, atol=1e-6)


def test_joining_masked_and_unmasked_steps_is_refused_by_name(tmp_path):
    left, right = layers.Input(shape=(5,), name="left"), layers.Input(shape=(5, 3), name="right")
    a = layers.Embedding(10, 3, mask_zero=True)(left)
    model = Model([left, right], layers.LSTM(2)(layers.Concatenate(axis=1, name="join")([a, right])))
    with pytest.raises(NotImplementedError, match=r'"join" \(Concatenate\) joins sequences along '
                                                  "their steps, some with a timestep mask"):
        minidl.onnx.export(model, tmp_path / "m.onnx")


def test_a_mask_through_batch_normalization_and_activations_reaches_the_lstm(tmp_path):
    """BatchNormalization and the activation layers pass the mask on (as Keras 2)."""
    model = sequential(layers.Embedding(20, 4, mask_zero=True), layers.BatchNormalization(),
                       layers.LeakyReLU(), layers.GaussianNoise(0.1), layers.LSTM(3),
                       input_shape=(5,))
    session = check_export(model, tmp_path, integers=20)
    padded = np.array([[3, 7, 0, 0, 0], [4, 0, 0, 0, 0]], np.float32)
    got = session.run(None, {session.get_inputs()[0].name: padded})[0]
    np.testing.assert_allclose(got, model.predict(padded, verbose=0), rtol=1e-5, atol=1e-6)


def test_time_distributed_masks_export_as_minidl_computes_them(tmp_path):
    """TimeDistributed folds the mask for its layer and unfolds the layer's own mask."""
    ids = layers.Input(shape=(2, 3), name="ids")
    pooled = layers.TimeDistributed(layers.GlobalAveragePooling1D())(
        layers.TimeDistributed(layers.Embedding(10, 3, mask_zero=True))(ids))
    model = randomize(Model(ids, layers.LSTM(2)(layers.TimeDistributed(layers.Dense(3))(pooled))))
    session = check_export(model, tmp_path, integers=10, name="ids.onnx")
    x = np.array([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [7, 0, 0]]], np.float32)
    got = session.run(None, {"ids": x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    steps = layers.Input(shape=(3, 4, 2), name="steps")
    nested = layers.TimeDistributed(layers.LSTM(2))(layers.Masking()(steps))
    model = randomize(Model(steps, layers.LSTM(2)(nested)))
    session = check_export(model, tmp_path, name="steps.onnx")
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2)).astype(np.float32)
    x[0, 0, 2:] = 0
    x[1, 1, :] = 0
    got = session.run(None, {"steps": x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
