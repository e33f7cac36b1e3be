"""minidl.preprocessing.image: Keras 2's image files to arrays and ImageDataGenerator.

apply_transform was compared with tf_keras 2.21's on a random 9x13x3 image for
rotation, shift, shear, zoom, all together, flips and a channel shift, under
each fill mode: identical values (the script compared rounded JSON). Here the
transforms are checked against what they must do by hand.
"""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.preprocessing import image
from minidl.preprocessing.image import ImageDataGenerator, apply_affine_transform

PIL = pytest.importorskip("PIL")

GRID = np.arange(25, dtype=np.float32).reshape(5, 5, 1)


def test_rotation_flip_shift_by_hand():
    np.testing.assert_allclose(apply_affine_transform(GRID, theta=90)[:, :, 0], np.rot90(GRID[:, :, 0]), atol=1e-4)
    generator = ImageDataGenerator()
    np.testing.assert_array_equal(generator.apply_transform(GRID, {"flip_horizontal": True}), GRID[:, ::-1])
    np.testing.assert_array_equal(generator.apply_transform(GRID, {"flip_vertical": True}), GRID[::-1])
    shifted = apply_affine_transform(GRID, ty=1, fill_mode="constant", cval=-1)[:, :, 0]
    np.testing.assert_allclose(shifted[:4], GRID[1:, :, 0])
    assert (shifted[4] == -1).all()
    np.testing.assert_allclose(apply_affine_transform(GRID, ty=1, fill_mode="nearest")[4, :, 0], GRID[4, :, 0])
    assert apply_affine_transform(GRID) is GRID  # the identity does nothing


def test_random_transforms_stay_within_their_ranges():
    g = ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.1, shear_range=0.2,
                           zoom_range=0.2, horizontal_flip=True, channel_shift_range=5.0)
    rng = np.random.default_rng(0)
    params = [g.get_random_transform((20, 30, 3), rng) for _ in range(200)]
    assert all(abs(p["theta"]) <= 40 and abs(p["tx"]) <= 2 and abs(p["ty"]) <= 6 for p in params)
    assert all(0.8 <= p["zx"] <= 1.2 and 0.8 <= p["zy"] <= 1.2 and abs(p["shear"]) <= 0.2 for p in params)
    assert 60 < sum(p["flip_horizontal"] for p in params) < 140
    assert not any(p["flip_vertical"] for p in params)
    pixels = ImageDataGenerator(width_shift_range=[3])
    assert {abs(pixels.get_random_transform((20, 30, 3), rng)["ty"]) for _ in range(20)} == {3}
    assert g.get_random_transform((20, 30, 3), seed=7) == g.get_random_transform((20, 30, 3), seed=7)


def test_flow_batches_labels_weights_and_subsets():
    x = np.random.default_rng(0).random((10, 6, 6, 3)).astype(np.float32)
    y = np.arange(10) % 2
    g = ImageDataGenerator(rescale=2.0, validation_split=0.2)
    it = g.flow(x, y, batch_size=4, shuffle=False)
    assert len(it) == 3
    bx, by = it[0]
    np.testing.assert_allclose(bx, 2 * x[:4])
    np.testing.assert_array_equal(by, y[:4])
    assert it[2][0].shape == (2, 6, 6, 3)
    bx, by, bw = g.flow(x, y, sample_weight=np.ones(10), batch_size=5)[1]
    assert bw.shape == (5,)
    assert len(g.flow(x, y, subset="validation", batch_size=1)) == 2
    assert len(g.flow(x, y, subset="training", batch_size=1)) == 8
    assert next(iter(g.flow(x, batch_size=3))).shape == (3, 6, 6, 3)  # endless iterator, x alone
    with pytest.raises(ValueError, match="different number of classes"):
        g.flow(x, np.sort(y), subset="validation")
    with pytest.raises(ValueError, match="rank 4"):
        g.flow(x[0])
    with pytest.raises(ValueError, match="same length"):
        g.flow(x, y[:3])


def test_featurewise_statistics_and_zca():
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(200, 4, 4, 3)).astype(np.float32)
    g = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    g.fit(x)
    out = g.standardize(x.copy())
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    with pytest.warns(UserWarning, match="overrides"):
        zca = ImageDataGenerator(zca_whitening=True)
    zca.fit(x)
    white = zca.standardize(x.copy()).reshape(200, -1)
    covariance = white.T @ white / 200
    assert np.abs(covariance - np.eye(48)).max() < 0.01
    with pytest.warns(UserWarning, match="hasn't been fit"):
        ImageDataGenerator(featurewise_center=True).standardize(x.copy())


def _write_images(root, counts, size=(12, 10)):
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            image.save_img(root / name / f"{i}.png", rng.integers(0, 256, (*size, 3)).astype(np.uint8), scale=False)
    (root / next(iter(counts)) / "notes.txt").write_text("not an image")


def test_flow_from_directory_as_the_book_uses_it(tmp_path, capsys):
    _write_images(tmp_path, {"cats": 5, "dogs": 3})
    g = ImageDataGenerator(rescale=1 / 255, rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                           shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
    train = g.flow_from_directory(tmp_path, target_size=(8, 8), batch_size=4, class_mode="binary", seed=1)
    assert capsys.readouterr().out == "Found 8 images belonging to 2 classes.\n"
    assert train.class_indices == {"cats": 0, "dogs": 1} and train.classes.tolist() == [0] * 5 + [1] * 3
    assert train.filenames[0] == "cats/0.png"
    x, y = train[0]
    assert x.shape == (4, 8, 8, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == np.float32 and set(y) <= {0.0, 1.0}
    for mode, check in [("categorical", lambda y: y.shape == (4, 2)), ("sparse", lambda y: y.dtype == np.int32),
                        ("input", lambda y: y.shape == (4, 8, 8, 1))]:
        it = ImageDataGenerator().flow_from_directory(tmp_path, target_size=(8, 8), batch_size=4,
                                                      color_mode="grayscale", class_mode=mode)
        assert check(it[0][1])
    assert ImageDataGenerator().flow_from_directory(tmp_path, target_size=(8, 8), class_mode=None)[0].shape[0] == 8

    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Flatten(input_shape=(8, 8, 3)), layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", ["acc"])
    history = model.fit(train, steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_validation_subset_of_a_directory_takes_the_first_files_of_each_class(tmp_path, capsys):
    _write_images(tmp_path, {"a": 5, "b": 5})
    g = ImageDataGenerator(validation_split=0.4)
    val = g.flow_from_directory(tmp_path, target_size=(4, 4), subset="validation")
    train = g.flow_from_directory(tmp_path, target_size=(4, 4), subset="training")
    assert val.filenames == ["a/0.png", "a/1.png", "b/0.png", "b/1.png"] and train.samples == 6


def test_load_img_img_to_array_array_to_img(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (12, 10, 3)).astype(np.uint8)
    path = tmp_path / "x.png"
    image.save_img(path, pixels, scale=False)
    img = image.load_img(path)
    np.testing.assert_array_equal(image.img_to_array(img), pixels.astype(np.float32))
    assert image.img_to_array(image.load_img(path, target_size=(6, 5))).shape == (6, 5, 3)
    assert image.img_to_array(image.load_img(path, color_mode="grayscale")).shape == (12, 10, 1)
    assert image.load_img(path, target_size=(4, 4), keep_aspect_ratio=True).size == (4, 4)
    with pytest.warns(DeprecationWarning):
        assert image.load_img(path, grayscale=True).mode == "L"
    scaled = image.img_to_array(image.array_to_img(np.array([[[0.0], [0.5], [1.0]]])))
    np.testing.assert_array_equal(scaled[0, :, 0], [0, 127, 255])
    assert image.img_to_array(img, data_format="channels_first").shape == (3, 12, 10)


def test_bad_arguments():
    for kwargs, message in [({"fill_mode": "mirror"}, "fill_mode"), ({"zoom_range": "big"}, "zoom_range"),
                            ({"validation_split": 1.5}, "validation_split"), ({"rotation_range": -1}, "rotation"),
                            ({"data_format": "channels_first"}, "channels last"),
                            ({"brightness_range": 0.5}, "brightness_range")]:
        with pytest.raises(ValueError, match=message):
            ImageDataGenerator(**kwargs)
    with pytest.raises(ValueError, match="color_mode"):
        image.load_img("x.png", color_mode="cmyk")
