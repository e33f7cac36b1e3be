"""minidl.utils.image_dataset_from_directory against Keras 2's (tf_keras 2.21) behaviour.

The folders are built in tmp_path with Pillow: tiny images of one flat colour
each, so that a resized image still says which file it came from.  Expected
orders and pixel values printed by tf_keras / TensorFlow 2.21 are copied here
with a comment saying so.
"""

import os
import sys

import numpy as np
import pytest

from minidl.utils import image_dataset_from_directory
from minidl.utils.image_files import load_image

Image = pytest.importorskip("PIL.Image")


def save_flat(path, value, size=(6, 5), mode="RGB"):
    """An image of one colour: every channel of every pixel is ``value``."""
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = np.full((*size, channels), value, dtype=np.uint8)
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(path)


def make_folders(root, counts, ext=".png"):
    """``counts[name]`` images in the subfolder ``name``: image k of the c-th name given
    has the value 10 * c + k."""
    for label, (name, count) in enumerate(counts.items()):
        (root / name).mkdir()
        for k in range(count):
            save_flat(root / name / f"img{k}{ext}", 10 * label + k)
    return root


def load(directory, **kwargs):
    return image_dataset_from_directory(str(directory), image_size=(4, 4), **kwargs)


def pixel_values(images):
    """The colour of each flat image of a batch."""
    return images[:, 0, 0, 0].round().astype(int).tolist()


def test_subfolders_are_classes_in_alphanumeric_order(tmp_path, capsys):
    make_folders(tmp_path, {"b_dogs": 2, "a_cats": 3, "c_birds": 1})
    ds = load(tmp_path, shuffle=False)
    assert "Found 6 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["a_cats", "b_dogs", "c_birds"]
    images, labels = next(iter(ds))
    assert images.shape == (6, 4, 4, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and labels.tolist() == [0, 0, 0, 1, 1, 2]
    # a_cats was given second (values 10, 11, 12), b_dogs first (0, 1), c_birds third (20)
    assert pixel_values(images) == [10, 11, 12, 0, 1, 20]
    assert [os.path.relpath(p, tmp_path) for p in ds.file_paths[:2]] == \
        [os.path.join("a_cats", "img0.png"), os.path.join("a_cats", "img1.png")]


def test_files_are_shuffled_and_split_as_keras_does(tmp_path, capsys):
    make_folders(tmp_path, {"c": 14})
    names = sorted(f"img{k}.png" for k in range(14))  # the order of a sorted walk
    shuffled = load(tmp_path, seed=7, batch_size=None)
    # printed by tf_keras 2.21 image_dataset_from_directory(seed=7) over 14 files: their
    # positions in the sorted walk, in the order of .file_paths
    keras_order = [12, 11, 2, 5, 0, 1, 13, 8, 7, 10, 3, 6, 9, 4]
    assert [os.path.basename(p) for p in shuffled.file_paths] == [names[i] for i in keras_order]
    train, val = load(tmp_path, seed=7, validation_split=0.3, subset="both")
    assert "Using 10 files for training." in capsys.readouterr().out
    assert train.file_paths == shuffled.file_paths[:10] and val.file_paths == shuffled.file_paths[10:]
    alone = load(tmp_path, seed=7, validation_split=0.3, subset="validation")
    assert alone.file_paths == val.file_paths


def test_training_and_validation_calls_with_one_seed_do_not_overlap(tmp_path):
    make_folders(tmp_path, {"a": 5, "b": 5})
    train = load(tmp_path, seed=3, validation_split=0.2, subset="training")
    val = load(tmp_path, seed=3, validation_split=0.2, subset="validation")
    assert len(train.file_paths) == 8 and len(val.file_paths) == 2
    assert set(train.file_paths) | set(val.file_paths) == set(load(tmp_path).file_paths)
    assert not set(train.file_paths) & set(val.file_paths)


def test_labels_stay_with_their_images_through_the_shuffles(tmp_path):
    make_folders(tmp_path, {"a": 7, "b": 6})
    ds = load(tmp_path, seed=1, batch_size=4)
    seen = []
    for _ in range(2):  # two passes, each reshuffled through the buffer
        for images, labels in ds:
            assert [value // 10 for value in pixel_values(images)] == labels.tolist()
            seen += pixel_values(images)
    assert sorted(seen[:13]) == sorted(seen[13:]) == list(range(7)) + list(range(10, 16))
    assert seen[:13] != seen[13:]
    assert len(ds) == 4 and ds.class_names == ["a", "b"]


def test_the_same_seed_gives_the_same_batches(tmp_path):
    make_folders(tmp_path, {"a": 4, "b": 4})
    first = [pixel_values(images) for images, _ in load(tmp_path, seed=5, batch_size=3)]
    second = [pixel_values(images) for images, _ in load(tmp_path, seed=5, batch_size=3)]
    assert first == second


def test_label_modes(tmp_path):
    make_folders(tmp_path, {"a": 2, "b": 1})
    _, labels = next(iter(load(tmp_path, shuffle=False, label_mode="categorical")))
    assert labels.dtype == np.float32 and labels.tolist() == [[1, 0], [1, 0], [0, 1]]
    _, labels = next(iter(load(tmp_path, shuffle=False, label_mode="binary")))
    assert labels.dtype == np.float32 and labels.tolist() == [[0.0], [0.0], [1.0]]
    images = next(iter(load(tmp_path, shuffle=False, label_mode=None)))
    assert isinstance(images, np.ndarray) and images.shape == (3, 4, 4, 3)
    (tmp_path / "c").mkdir()
    save_flat(tmp_path / "c" / "x.png", 0)
    with pytest.raises(ValueError, match="binary.*exactly 2 classes, found 3"):
        load(tmp_path, label_mode="binary")


def test_labels_none_reads_every_file_and_labels_lists_give_the_labels(tmp_path, capsys):
    make_folders(tmp_path, {"a": 2, "b": 1})
    save_flat(tmp_path / "top.png", 99)
    ds = load(tmp_path, labels=None, shuffle=False)
    assert "Found 4 files." in capsys.readouterr().out
    assert ds.class_names == [""]  # as Keras 2
    assert pixel_values(next(iter(ds))) == [99, 0, 1, 10]  # a sorted walk: the top folder first
    listed = load(tmp_path, labels=[1, 0, 1, 5], shuffle=False)
    assert listed.class_names == [0, 1, 5]
    assert next(iter(listed))[1].tolist() == [1, 0, 1, 5]
    with pytest.raises(ValueError, match="labels has 2 entries but .* holds 4 image files"):
        load(tmp_path, labels=[0, 1])


def test_class_names_order_the_classes(tmp_path):
    make_folders(tmp_path, {"a": 1, "b": 1})
    ds = load(tmp_path, shuffle=False, class_names=["b", "a"])
    assert ds.class_names == ["b", "a"] and next(iter(ds))[1].tolist() == [1, 0]
    with pytest.raises(ValueError, match="do not match the names of the subfolders"):
        load(tmp_path, class_names=["a", "c"])


def test_batch_size_none_gives_single_images(tmp_path):
    make_folders(tmp_path, {"a": 3})
    image, label = next(iter(load(tmp_path, batch_size=None, seed=0)))
    assert image.shape == (4, 4, 3) and label.shape == ()


def test_color_modes(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((3, 3, 3), [200, 100, 50], np.uint8)).save(tmp_path / "a" / "x.png")
    for mode, channels in (("grayscale", 1), ("rgb", 3), ("rgba", 4)):
        images, _ = next(iter(load(tmp_path, color_mode=mode)))
        assert images.shape == (1, 4, 4, channels)
    rgba, _ = next(iter(load(tmp_path, color_mode="rgba")))
    assert rgba[0, 0, 0].tolist() == [200, 100, 50, 255]
    gray, _ = next(iter(load(tmp_path, color_mode="grayscale")))
    # luma 0.299 R + 0.587 G + 0.114 B; TensorFlow's PNG decoder differs by at most 1
    assert abs(gray[0, 0, 0, 0] - (0.299 * 200 + 0.587 * 100 + 0.114 * 50)) <= 1


def test_pixels_are_resized_as_tf_image_resize(tmp_path):
    path = tmp_path / "ramp.png"
    Image.fromarray((np.arange(6).reshape(2, 3) * 10).astype(np.uint8), "L").save(path)
    # printed by TensorFlow 2.21: tf.image.resize of [[0, 10, 20], [30, 40, 50]] to (3, 4) and (1, 2)
    bilinear = load_image(path, (3, 4), 1)
    assert bilinear.dtype == np.float32
    np.testing.assert_allclose(bilinear[..., 0], [[0.0, 6.25, 13.75, 20.0],
                                                  [15.0, 21.25, 28.75, 35.0],
                                                  [30.0, 36.25, 43.75, 50.0]])
    np.testing.assert_allclose(load_image(path, (1, 2), 1)[..., 0], [[17.5, 32.5]])
    nearest = load_image(path, (3, 4), 1, "nearest")
    assert nearest.dtype == np.uint8  # tf.image.resize keeps the dtype for nearest
    assert nearest[..., 0].tolist() == [[0, 10, 10, 20], [30, 40, 40, 50], [30, 40, 40, 50]]
    assert load_image(path, (1, 2), 1, "nearest")[..., 0].tolist() == [[30, 50]]


def test_crop_to_aspect_ratio_as_smart_resize(tmp_path):
    tall, wide = tmp_path / "tall.png", tmp_path / "wide.png"
    Image.fromarray((np.arange(8).reshape(4, 2) * 10).astype(np.uint8), "L").save(tall)
    Image.fromarray((np.arange(8).reshape(2, 4) * 10).astype(np.uint8), "L").save(wide)
    # printed by tf_keras 2.21: smart_resize of those arrays to (2, 2)
    assert load_image(tall, (2, 2), 1, crop_to_aspect_ratio=True)[..., 0].tolist() == \
        [[20.0, 30.0], [40.0, 50.0]]
    assert load_image(wide, (2, 2), 1, crop_to_aspect_ratio=True)[..., 0].tolist() == \
        [[10.0, 20.0], [50.0, 60.0]]


def test_jpeg_bmp_and_the_first_frame_of_a_gif(tmp_path):
    (tmp_path / "a").mkdir()
    save_flat(tmp_path / "a" / "photo.jpeg", 120)
    save_flat(tmp_path / "a" / "plain.bmp", 60)
    frames = [Image.new("RGB", (5, 6), (v, v, v)) for v in (200, 30)]
    frames[0].save(tmp_path / "a" / "moving.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "a" / "notes.txt").write_text("not an image, and not read")
    ds = load(tmp_path, shuffle=False)
    assert [os.path.basename(p) for p in ds.file_paths] == ["moving.gif", "photo.jpeg", "plain.bmp"]
    values = pixel_values(next(iter(ds))[0])
    assert values[0] == 200 and abs(values[1] - 120) <= 2 and values[2] == 60


def test_a_file_that_is_not_an_image_is_refused_by_name(tmp_path):
    (tmp_path / "a").mkdir()
    save_flat(tmp_path / "a" / "good.png", 1)
    (tmp_path / "a" / "broken.png").write_text("this is text")
    with pytest.raises(ValueError, match=r"broken\.png is not an image file that can be read"):
        list(load(tmp_path, shuffle=False))
    (tmp_path / "a" / "broken.png").unlink()
    Image.new("RGB", (3, 3)).save(tmp_path / "a" / "scan.jpg", format="TIFF")
    with pytest.raises(ValueError, match=r"scan\.jpg is a TIFF image"):
        list(load(tmp_path, shuffle=False))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_links_lead_outside_only_with_follow_links(tmp_path, capsys):
    inside, outside = tmp_path / "data", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    make_folders(inside, {"a": 1})
    save_flat(outside / "secret.png", 77)
    (outside / "more").mkdir()
    save_flat(outside / "more" / "deep.png", 88)
    os.symlink(outside / "secret.png", inside / "a" / "link.png")
    os.symlink(outside / "more", inside / "a" / "linked_folder")
    os.symlink(outside / "more", inside / "linked_class")
    ds = load(inside, shuffle=False)
    assert "Skipped 3 symbolic link(s)" in capsys.readouterr().out
    assert ds.class_names == ["a"] and pixel_values(next(iter(ds))[0]) == [0]
    followed = load(inside, shuffle=False, follow_links=True)
    assert followed.class_names == ["a", "linked_class"]
    assert pixel_values(next(iter(followed))[0]) == [0, 77, 88, 88]


def test_a_link_back_up_is_not_a_loop(tmp_path):
    make_folders(tmp_path, {"a": 1})
    os.symlink(tmp_path / "a", tmp_path / "a" / "up")
    assert len(load(tmp_path, follow_links=True).file_paths) == 1


def test_without_pillow_the_error_says_what_to_install(tmp_path, monkeypatch):
    make_folders(tmp_path, {"a": 1})
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install minidl\[images\]"):
        load(tmp_path)


def test_argument_errors(tmp_path):
    make_folders(tmp_path, {"a": 2})
    with pytest.raises(ValueError, match="subset and validation_split go together"):
        load(tmp_path, validation_split=0.5)
    with pytest.raises(ValueError, match="give a seed"):
        load(tmp_path, validation_split=0.5, subset="training")
    with pytest.raises(ValueError, match="color_mode must be one of"):
        load(tmp_path, color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        load(tmp_path, interpolation="bicubic")
    with pytest.raises(ValueError, match="image_size must be"):
        image_dataset_from_directory(tmp_path, image_size=(4,))
    with pytest.raises(ValueError, match="is not a directory"):
        load(tmp_path / "missing")
    with pytest.raises(ValueError, match="No validation images found"):
        load(tmp_path, validation_split=0.2, subset="validation", seed=1)
