"""RandomCrop, RandomBrightness, RandomHeight, RandomWidth: Keras 2's arguments, configs
and output shapes; their deterministic parts against tf_keras 2.21 literals (inference,
and training with a range of one value); their random parts by property (windows of the
input, ranges, one draw per batch or per image, seeds)."""

import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.testing import gradcheck

LAYERS = [
    lambda: layers.RandomCrop(4, 5),
    lambda: layers.RandomBrightness(0.3),
    lambda: layers.RandomHeight(0.4),
    lambda: layers.RandomWidth((-0.3, 0.5)),
]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def images(n=8, height=6, width=7, channels=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, height, width, channels)).astype(np.float32)


def grid(n=2, height=4, width=6):
    return np.arange(n * height * width, dtype=np.float32).reshape(n, height, width, 1)


@pytest.mark.parametrize("make", LAYERS)
def test_random_while_training_and_repeatable_with_seeds(make):
    x = images()
    assert any(not np.array_equal(np.asarray(make()(x, training=True)), np.asarray(make()(x)))
               for _ in range(3))  # a direct call trains, as in Keras 2
    seeded = [type(make())(**{**make().get_config(), "name": None, "seed": 11}) for _ in range(2)]
    np.testing.assert_array_equal(np.asarray(seeded[0](x, training=True)),
                                  np.asarray(seeded[1](x, training=True)))
    minidl.utils.set_random_seed(12)
    first = np.asarray(make()(x, training=True))
    minidl.utils.set_random_seed(12)
    np.testing.assert_array_equal(np.asarray(make()(x, training=True)), first)


@pytest.mark.parametrize("make", LAYERS[1:])
def test_identity_at_inference(make):
    x = images()
    np.testing.assert_array_equal(np.asarray(make()(x, training=False)), x)
    model = minidl.Sequential([minidl.Input((6, 7, 2)), make()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


@pytest.mark.parametrize("make", LAYERS)
def test_one_image_float64_serialize(make):
    layer = make()
    one = layer(images(1)[0], training=True)  # (H, W, C), as Keras accepts
    assert one.ndim == 3 and one.shape[2] == 2
    config = layer.get_config()
    double = type(layer)(**{**config, "name": None, "dtype": "float64"})
    assert double(images(), training=True).dtype == np.float64
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer) and copy.get_config() == config
    assert layer.count_params() == 0


def test_configs_as_keras_2():
    # tf_keras 2.21's get_config() without name, trainable, dtype and rng_type
    def own(layer):
        return {k: v for k, v in layer.get_config().items()
                if k not in ("name", "trainable", "dtype")}
    assert own(layers.RandomCrop(3, 3)) == {"height": 3, "width": 3, "seed": None}
    assert own(layers.RandomBrightness(0.2)) == {"factor": [-0.2, 0.2], "value_range": [0, 255],
                                                 "seed": None}
    assert own(layers.RandomBrightness((0.3, -0.1), value_range=[1, 0], seed=4)) == {
        "factor": [-0.1, 0.3], "value_range": [0, 1], "seed": 4}  # Keras sorts both
    assert own(layers.RandomHeight(0.2)) == {"factor": 0.2, "interpolation": "bilinear",
                                             "seed": None}
    assert own(layers.RandomWidth((-0.2, 0.3), interpolation="nearest")) == {
        "factor": [-0.2, 0.3], "interpolation": "nearest", "seed": None}


def test_summary_shapes_as_keras_2():
    model = minidl.Sequential([minidl.Input((8, 8, 3)), layers.RandomCrop(5, 6),
                               layers.RandomBrightness(0.1), layers.RandomHeight(0.2),
                               layers.RandomWidth(0.2)])
    lines = []
    model.summary(print_fn=lines.append)
    # tf_keras 2.21's rows (the height and width are unknown after RandomHeight/RandomWidth,
    # even though inference leaves them alone)
    for row in (" random_crop (RandomCrop)    (None, 5, 6, 3)           0",
                " random_brightness (RandomB  (None, 5, 6, 3)           0",
                " random_height (RandomHeigh  (None, None, 6, 3)        0",
                " random_width (RandomWidth)  (None, None, None, 3)     0"):
        assert any(line.startswith(row) for line in lines), row
    assert model.predict(np.ones((2, 8, 8, 3)), verbose=0).shape == (2, 5, 6, 3)


# --- RandomCrop -------------------------------------------------------------------------
# tf_keras 2.21 on grid() = arange(48).reshape(2, 4, 6, 1), first image
TF_KERAS_CROP = {
    # inference: the largest centred window of the target's aspect ratio, resized
    (3, 3, False): [[2.1666667, 3.5, 4.833333], [10.166667, 11.5, 12.833333],
                    [18.166668, 19.5, 20.833336]],
    (2, 5, False): [[6.1, 7.3, 8.5, 9.7, 10.9], [12.1, 13.3, 14.5, 15.7, 16.9]],
    # training, but the image is smaller than the crop: the same resize
    (5, 3, True): [[2.0, 2.5, 3.0], [6.2, 6.7, 7.2], [11.0, 11.5, 12.0], [15.8, 16.3, 16.8],
                   [20.0, 20.5, 21.0]],
}


@pytest.mark.parametrize("height, width, training", sorted(TF_KERAS_CROP))
def test_random_crop_resizes_at_inference_as_keras_2(height, width, training):
    out = np.asarray(layers.RandomCrop(height, width)(grid(), training=training))
    assert out.shape == (2, height, width, 1)
    np.testing.assert_allclose(out[0, :, :, 0], TF_KERAS_CROP[height, width, training], atol=1e-4)
    np.testing.assert_allclose(out[1], out[0] + 24, atol=1e-4)


def test_random_crop_training_cuts_one_random_window_for_the_batch():
    x = grid(3, 6, 7)
    seen = set()
    layer = layers.RandomCrop(4, 3, seed=5)
    for _ in range(200):
        out = np.asarray(layer(x, training=True))
        assert out.shape == (3, 4, 3, 1)
        top, left = divmod(int(out[0, 0, 0, 0]), 7)  # grid: the value says where it was
        np.testing.assert_array_equal(out, x[:, top:top + 4, left:left + 3])  # same window
        seen.add((top, left))
    assert seen == {(t, l) for t in range(3) for l in range(5)}  # every window can come
    same = grid(2, 4, 3)
    np.testing.assert_array_equal(np.asarray(layers.RandomCrop(4, 3)(same, training=True)), same)


def test_random_crop_predict_and_gradients():
    model = minidl.Sequential([minidl.Input((4, 6, 1)), layers.RandomCrop(3, 3)])
    np.testing.assert_allclose(model.predict(grid(), verbose=0)[0, :, :, 0],
                               TF_KERAS_CROP[3, 3, False], atol=1e-4)
    x = minidl.Tensor(grid(2, 5, 5), requires_grad=True)
    layers.RandomCrop(2, 3, seed=1)(x, training=True).sum().backward()
    assert x.grad.sum() == 2 * 2 * 3 and set(np.unique(x.grad)) == {0.0, 1.0}
    start = images(2, 4, 6, 1, seed=2).astype(np.float64) / 255
    gradcheck(lambda t: layers.RandomCrop(3, 3, dtype="float64")(t, training=False), [start])


# --- RandomBrightness -------------------------------------------------------------------
def test_random_brightness_as_keras_2():
    # tf_keras 2.21, training=True, a factor range of one value
    out = layers.RandomBrightness((0.5, 0.5))(np.array([[[[10.0, 200.0]]]]), training=True)
    np.testing.assert_allclose(np.asarray(out), [[[[137.5, 255.0]]]])  # + 0.5 * 255, clipped
    out = layers.RandomBrightness((-0.5, -0.5), value_range=(0, 1))(
        np.array([[[[0.2, 0.9]]]]), training=True)
    np.testing.assert_allclose(np.asarray(out), [[[[0.0, 0.4]]]], atol=1e-6)


def test_random_brightness_one_delta_per_image_in_range():
    x = images(200, 3, 4, 3) * 0.2 + 100  # values in [100, 151]: no clipping with factor 0.3
    out = np.asarray(layers.RandomBrightness((-0.1, 0.3), seed=3)(x, training=True))
    delta = out - x
    np.testing.assert_allclose(delta, delta[:, :1, :1, :1] + 0 * delta, atol=1e-3)  # per image
    per_image = delta[:, 0, 0, 0]
    assert -0.1 * 255 <= per_image.min() < -0.08 * 255 and 0.28 * 255 < per_image.max() <= 0.3 * 255
    assert len(np.unique(np.round(per_image, 3))) > 190  # a new delta for each image
    clipped = np.asarray(layers.RandomBrightness(1.0, value_range=(0, 1))(x / 255, training=True))
    assert clipped.min() >= 0 and clipped.max() <= 1 and (clipped == 0).any() and (clipped == 1).any()


def test_random_brightness_gradients():
    start = images(2, 3, 4, 1, seed=4).astype(np.float64) / 255
    # a fresh layer with the same seed draws the same deltas on each call
    gradcheck(lambda t: layers.RandomBrightness(0.1, value_range=(0, 1), seed=3,
                                                dtype="float64")(t, training=True), [start])


# --- RandomHeight and RandomWidth -------------------------------------------------------
def test_random_height_and_width_as_keras_2():
    # tf_keras 2.21 on grid(), training=True, a factor range of one value
    out = np.asarray(layers.RandomHeight((-0.5, -0.5))(grid(), training=True))
    assert out.shape == (2, 2, 6, 1)
    np.testing.assert_allclose(out[0, :, :, 0], [[3, 4, 5, 6, 7, 8], [15, 16, 17, 18, 19, 20]])
    out = np.asarray(layers.RandomWidth((0.5, 0.5), interpolation="nearest")(grid(), training=True))
    assert out.shape == (2, 4, 9, 1)
    np.testing.assert_array_equal(out[0, 0, :, 0], [0, 1, 1, 2, 3, 3, 4, 5, 5])
    np.testing.assert_array_equal(out[0, 3, :, 0], [18, 19, 19, 20, 21, 21, 22, 23, 23])


@pytest.mark.parametrize("cls, side", [(layers.RandomHeight, 1), (layers.RandomWidth, 2)])
def test_random_side_sizes_one_draw_per_batch(cls, side):
    x = images(3, 10, 10, 2)
    layer = cls((-0.3, 0.2), seed=6)
    sizes = set()
    for _ in range(300):
        out = layer(x, training=True)
        other = 3 - side
        assert out.shape[0] == 3 and out.shape[other] == 10 and out.shape[3] == 2
        sizes.add(out.shape[side])
    assert sizes == set(range(7, 12))  # int(10 * s) for s in [0.7, 1.2): 7 to 11
    shape = [None, 10, 10, 2]
    shape[side] = None
    assert layer.compute_output_shape((None, 10, 10, 2)) == tuple(shape)
    assert layer.compute_output_shape((10, 10, 2)) == tuple(shape[1:])


def test_random_side_gradients_and_a_size_of_zero_refused():
    start = images(2, 4, 5, 1, seed=7).astype(np.float64) / 255
    gradcheck(lambda t: layers.RandomHeight((0.5, 0.5), dtype="float64")(t, training=True),
              [start])
    gradcheck(lambda t: layers.RandomWidth((-0.4, -0.4), dtype="float64")(t, training=True),
              [start])
    with pytest.raises(ValueError, match=r'RandomHeight layer "random_height_\d+": drew a size '
                                          r"factor 0, which resizes 4 pixels to 0"):
        layers.RandomHeight((-1.0, -1.0))(start, training=True)  # Keras: a TensorFlow error


def test_all_in_a_cnn_trained_with_fit_saved_and_loaded(tmp_path):
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([
        minidl.Input((10, 10, 3)),
        layers.RandomCrop(8, 8),
        layers.RandomBrightness(0.2),
        layers.RandomHeight(0.2),
        layers.RandomWidth(0.2),
        layers.Rescaling(1 / 255),
        layers.Conv2D(4, 3, activation="relu"),
        layers.GlobalAveragePooling2D(),  # the size varies in training: no Flatten
        layers.Dense(2, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = images(16, 10, 10, 3, seed=8)
    y = (x[..., 0].mean(axis=(1, 2)) > 127.5).astype(np.int64)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    predictions = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), predictions)
    model.save(tmp_path / "augment.mdl")
    loaded = load_model(tmp_path / "augment.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)
    assert [type(layer).__name__ for layer in loaded.layers[:4]] == [
        "RandomCrop", "RandomBrightness", "RandomHeight", "RandomWidth"]
    assert layers.experimental.preprocessing.RandomCrop is layers.RandomCrop


@pytest.mark.parametrize("make, error, match", [
    (lambda: layers.RandomCrop(-1, 2), ValueError,
     'RandomCrop layer "random_crop": height must be a positive integer, received -1'),
    (lambda: layers.RandomCrop(3, 2.5), ValueError, "width must be a positive integer"),
    (lambda: layers.RandomBrightness(1.5), ValueError,
     r'RandomBrightness layer "random_brightness": factor must have values in \[-1.0, 1.0\]'),
    (lambda: layers.RandomBrightness((0.1, -1.2)), ValueError, "factor must have values in"),
    (lambda: layers.RandomBrightness("x"), ValueError, "factor must be a number or a pair"),
    (lambda: layers.RandomBrightness(0.1, value_range=3), ValueError,
     "value_range must be a pair"),
    (lambda: layers.RandomBrightness(0.1, value_range=(0, 1, 2)), ValueError,
     "value_range must be a pair"),
    (lambda: layers.RandomHeight(-0.2), ValueError,
     'RandomHeight layer "random_height": factor -0.2 has its upper bound below its lower'),
    (lambda: layers.RandomWidth((-1.5, 0)), ValueError,
     r"factor must have values of at least -1 .* received \(-1.5, 0\)"),
    (lambda: layers.RandomWidth(0.2, interpolation="bicubic"), ValueError,
     "interpolation must be 'bilinear' or 'nearest'"),
    (lambda: layers.RandomHeight(0.1, seed=-3), ValueError, "seed must be a non-negative"),
])
def test_bad_arguments_name_the_layer(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make", LAYERS)
def test_wrong_ranks_refused(make):
    with pytest.raises(ValueError, match=r"expects channels-last images.*\(2, 3\)"):
        make()(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"expects channels-last images.*\(None, 28, 28\)"):
        minidl.Sequential([minidl.Input((28, 28)), make()])


@pytest.mark.parametrize("file", ["keras2.h5", "keras2.keras"])
def test_tf_keras_files_load_and_predict_the_same(file):
    """Files tf_keras 2.21 saved (fixtures/augment_more/make_fixtures.py): the four layers
    and a GroupNormalization with its weights come back as minidl's own."""
    folder = pathlib.Path(__file__).parent / "fixtures" / "augment_more"
    model = load_model(folder / file)
    assert [type(layer).__name__ for layer in model.layers[:5]] == [
        "RandomCrop", "RandomBrightness", "RandomHeight", "RandomWidth", "GroupNormalization"]
    stored = np.load(folder / "io.npz")
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored["y"], rtol=1e-5,
                               atol=1e-6)
