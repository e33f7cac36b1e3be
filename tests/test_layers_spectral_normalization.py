"""layers.SpectralNormalization: the kernel divided by its largest singular value at each
training call.  Literals from Keras 3.15 (tf_keras 2.21's layer raises TypeError in its
build; its source computes the same), the weights set in Keras 2's order."""

from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model

X = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
KERNEL = (np.arange(12, dtype=np.float32).reshape(4, 3) - 5) / 7
BIAS = np.array([0.1, 0.2, 0.3], np.float32)
U = np.array([[0.3, -0.2, 0.5]], np.float32)


def dense_wrapped(power_iterations=2):
    sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=power_iterations)
    sn(X)
    sn.set_weights([KERNEL, BIAS, U])
    return sn


def test_weights_are_the_layer_s_then_vector_u():
    sn = layers.SpectralNormalization(layers.Dense(3))
    sn(X)
    assert [w.shape for w in sn.weights] == [(4, 3), (3,), (1, 3)]
    assert [w.trainable for w in sn.weights] == [True, True, False]
    assert sn.weights[2].name.endswith("vector_u")
    assert abs(float(sn.vector_u.numpy().std())) < 0.05  # truncated normal, stddev 0.02


def test_inference_runs_the_layer_as_it_is():
    sn = dense_wrapped()
    np.testing.assert_allclose(sn(X, training=False).numpy(), X @ KERNEL + BIAS, rtol=1e-6)
    np.testing.assert_array_equal(sn.layer.kernel.numpy(), KERNEL)  # untouched
    np.testing.assert_array_equal(sn.vector_u.numpy(), U)


def test_training_call_normalizes_the_kernel_as_keras():
    sn = dense_wrapped(power_iterations=2)
    out = sn(X, training=True).numpy()
    np.testing.assert_allclose(out, [[0.2020838, 0.3531257, 0.5041676],
                                     [0.13402794, 0.42118153, 0.70833516],
                                     [0.0659721, 0.48923743, 0.91250277]], rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(sn.layer.kernel.numpy(), [
        [-0.42534912, -0.3402793, -0.25520948], [-0.17013966, -0.08506983, 0.0],
        [0.08506983, 0.17013966, 0.25520948], [0.3402793, 0.42534912, 0.51041895]],
        rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(sn.vector_u.numpy(), [[0.5495007, 0.57691616, 0.60433155]],
                               rtol=2e-6)
    np.testing.assert_allclose(sn(X, training=True).numpy(), [
        [0.20208263, 0.35312396, 0.5041653], [0.13402754, 0.421179, 0.7083305],
        [0.06597249, 0.4892341, 0.91249573]], rtol=2e-6, atol=1e-7)


def test_a_conv_kernel_is_flattened_to_rows_by_filters():
    conv = layers.SpectralNormalization(layers.Conv2D(2, 2))
    x = np.arange(32, dtype=np.float32).reshape(2, 4, 4, 1) / 30
    conv(x)
    conv.set_weights([(np.arange(8, dtype=np.float32).reshape(2, 2, 1, 2) - 3) / 5,
                      np.zeros(2, np.float32), np.array([[0.6, -0.8]], np.float32)])
    out = conv(x, training=True).numpy().ravel()
    np.testing.assert_allclose(out[:8], [0.13352974, 0.20771293, 0.13352974, 0.2373862,
                                         0.13352974, 0.26705948, 0.13352974, 0.32640603],
                               rtol=2e-6)
    np.testing.assert_allclose(out[-2:], [0.13352971, 0.979218], rtol=2e-6)
    np.testing.assert_allclose(conv.layer.kernel.numpy().ravel(), [
        -0.6676487, -0.44509912, -0.22254956, 0.0, 0.22254956, 0.44509912, 0.6676487,
        0.89019823], rtol=2e-6, atol=1e-7)


def test_repeated_training_calls_bring_the_spectral_norm_to_one():
    rng = np.random.default_rng(0)
    sn = layers.SpectralNormalization(layers.Dense(5))
    x = rng.standard_normal((4, 7)).astype(np.float32)
    sn(x)
    sn.layer.kernel.assign(3 * rng.standard_normal((7, 5)).astype(np.float32))
    for _ in range(30):
        sn(x, training=True)
    assert np.linalg.svd(sn.layer.kernel.numpy(), compute_uv=False)[0] == pytest.approx(1, abs=1e-4)


def test_embeddings_are_normalized_too_and_a_zero_kernel_is_left():
    emb = layers.SpectralNormalization(layers.Embedding(5, 3))
    emb(np.array([[1, 2]]))
    assert [w.shape for w in emb.weights] == [(5, 3), (1, 3)]
    emb(np.array([[1, 2]]), training=True)
    assert np.linalg.svd(emb.layer.embeddings.numpy(), compute_uv=False)[0] < 1.5
    zero = layers.SpectralNormalization(layers.Dense(2, kernel_initializer="zeros"))
    np.testing.assert_array_equal(zero(X, training=True).numpy(), np.zeros((3, 2)))
    assert not zero.layer.kernel.numpy().any()


def test_fit_trains_a_normalized_model_and_summary_counts_vector_u(capsys):
    minidl.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype(np.float32)
    model = minidl.Sequential([minidl.Input((4,)),
                               layers.SpectralNormalization(layers.Dense(8, activation="relu")),
                               layers.Dense(1, activation="sigmoid")])
    model.summary()
    printed = capsys.readouterr().out
    assert "spectral_normalization" in printed and "Non-trainable params: 8" in printed
    u_before = model.layers[0].vector_u.numpy().copy()
    model.compile(minidl.optimizers.Adam(0.01), "binary_crossentropy")
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(model.layers[0].vector_u.numpy(), u_before)
    # the last step's update moved the kernel a little past its normalized value
    sigma = np.linalg.svd(model.layers[0].layer.kernel.numpy(), compute_uv=False)[0]
    assert sigma == pytest.approx(1, abs=0.05)


def test_config_and_save_load_round_trip(tmp_path):
    sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=2, name="sn")
    config = sn.get_config()
    assert config["power_iterations"] == 2 and config["layer"]["class_name"] == "Dense"
    again = layers.SpectralNormalization.from_config(config)
    assert again.power_iterations == 2 and isinstance(again.layer, layers.Dense)
    model = minidl.Sequential([minidl.Input((4,)), dense_wrapped()])
    model(X, training=True)
    path = tmp_path / "sn.keras"
    model.save(path)
    loaded = load_model(path)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("bad", [0, -1])
def test_power_iterations_must_be_positive(bad):
    with pytest.raises(ValueError, match=r"`power_iterations` should be greater than zero. "
                                         rf"Received: `power_iterations={bad}`"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=bad)


@pytest.mark.parametrize("bad", [1.5, True, "2"])
def test_power_iterations_must_be_an_integer(bad):
    with pytest.raises(ValueError, match="should be an integer greater than zero"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=bad)


def test_the_kernel_before_build_is_a_clear_error():
    with pytest.raises(ValueError, match="the wrapped Dense has no kernel until it is built"):
        layers.SpectralNormalization(layers.Dense(3)).kernel


def test_a_layer_without_a_kernel_is_refused_with_keras_message():
    with pytest.raises(ValueError, match="Flatten object has no attribute 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.Flatten())(X)
    with pytest.raises(ValueError, match="supplied to wrapper is not a supported layer type"):
        layers.SpectralNormalization("dense")


def test_inputs_with_another_feature_count_are_refused():
    sn = dense_wrapped()
    with pytest.raises(ValueError, match="spectral_normalization"):
        sn(np.zeros((2, 5), np.float32))


def test_a_keras3_file_loads_with_vector_u_and_predicts_as_keras():
    pytest.importorskip("h5py")
    fixtures = Path(__file__).parent / "fixtures" / "spectral_normalization"
    expected = np.load(fixtures / "keras3.npz")
    model = load_model(fixtures / "keras3.keras")
    wrapper = model.layers[0]
    assert isinstance(wrapper, layers.SpectralNormalization) and wrapper.power_iterations == 2
    np.testing.assert_array_equal(wrapper.vector_u.numpy(), expected["vector_u"])
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"], rtol=1e-6,
                               atol=1e-7)
