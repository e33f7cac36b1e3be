"""``image_dataset_from_directory``: a folder of images, one subfolder per class, as a Dataset.

    flower_photos/
        daisy/      100080576_f52e8ee070_n.jpg  ...
        roses/      ...
        tulips/     ...

    train_ds = image_dataset_from_directory("flower_photos", validation_split=0.2,
                                            subset="training", seed=123,
                                            image_size=(180, 180), batch_size=32)
    train_ds.class_names    # ['daisy', 'roses', 'tulips']: labels 0, 1, 2

It works in three steps, as Keras 2 does:

1. index: list the image files of each class folder (folders in alphanumeric
   order, files in the order of a sorted walk), each with its class number;
2. shuffle the list with ``np.random.RandomState(seed)`` and cut off the last
   ``validation_split`` of it for validation -- so the same seed gives the same
   split in the "training" and "validation" calls, and the same split as Keras;
3. a Dataset of (path, label) pairs, shuffled again at every pass through a
   buffer of ``8 * batch_size``, mapped to (image, label) by reading each file
   (``image_files.load_image``) and batched.
"""

from __future__ import annotations

import os

import numpy as np

from minidl.data import Dataset
from minidl.random import get_generator
from minidl.utils.image_files import FORMATS, INTERPOLATIONS, load_image, pillow_image_module

_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256),
                                 shuffle=True, seed=None, validation_split=None, subset=None,
                                 interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False):
    """A Dataset of ``(images, labels)`` batches read from the image files in ``directory``.

    ``labels``: "inferred" (one class per subfolder), None (images only), or a
    list of integer labels, one per file in the order of a sorted walk.
    ``label_mode``: "int" (int32, shape (batch,)), "categorical" (one-hot float32,
    (batch, classes)), "binary" (float32 0/1, (batch, 1); two classes) or None.
    ``color_mode``: "grayscale", "rgb" or "rgba" (1, 3 or 4 channels).
    Images come as float32 ``(batch, height, width, channels)`` of values 0-255
    (uint8 with ``interpolation="nearest"``, as in Keras); ``batch_size=None``
    gives single images.  ``validation_split`` with ``subset`` "training",
    "validation" or "both" (a pair of datasets) splits the files; give the same
    ``seed`` to both calls.  Symbolic links are followed only with
    ``follow_links=True``.  The result has ``.class_names`` and ``.file_paths``.
    """
    pillow_image_module()  # fail now, not at the first batch, when Pillow is missing
    directory = os.fspath(directory)
    labels, label_mode = _check_labels(labels, label_mode, class_names)
    num_channels = _check_choice(color_mode, _CHANNELS, "color_mode")
    _check_choice(interpolation, INTERPOLATIONS, "interpolation")
    _check_split(validation_split, subset, shuffle, seed)
    image_size = _check_image_size(image_size)
    if seed is None:
        seed = int(get_generator().integers(1_000_000))
    paths, label_list, class_names = index_directory(directory, labels, class_names, follow_links)
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))  # Keras 2's file shuffle
        paths, label_list = [paths[i] for i in order], label_list[order]
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f'label_mode="binary" needs exactly 2 classes, found {len(class_names)}: '
            f"{class_names}. Use label_mode='int' or 'categorical'."
        )

    def load(path):
        return load_image(str(path), image_size, num_channels, interpolation, crop_to_aspect_ratio)

    def subset_dataset(name, shuffled):
        chosen_paths, chosen_labels = split_files(paths, label_list, validation_split, name)
        if not chosen_paths:
            raise ValueError(
                f"No {name + ' ' if name else ''}images found in directory {directory}. Allowed "
                f"formats: {FORMATS}. (Symbolic links are followed with follow_links=True.)"
            )
        targets = None if label_mode is None else encode_labels(chosen_labels, label_mode,
                                                                 len(class_names))
        result = _images_and_labels(chosen_paths, targets, load, batch_size, shuffled, seed)
        result.class_names = class_names
        result.file_paths = chosen_paths
        return result

    if subset == "both":  # Keras shuffles the training part only
        return subset_dataset("training", shuffle), subset_dataset("validation", False)
    return subset_dataset(subset, shuffle)


def _images_and_labels(paths, targets, load, batch_size, shuffle, seed):
    """The Dataset of one subset (step 3 of the module docstring).

    Keras shuffles after reading the images; shuffling the (path, label) pairs
    before reading them gives the same orders and keeps paths in the buffer,
    not images.
    """
    paths = np.array(paths)
    if targets is None:
        pairs = Dataset.from_tensor_slices(paths)
    else:
        pairs = Dataset.from_tensor_slices((paths, targets))
    if shuffle:
        pairs = pairs.shuffle(1024 if batch_size is None else 8 * batch_size, seed=seed)
    if targets is None:
        images = pairs.map(load)
    else:
        images = pairs.map(lambda path, label: (load(path), label))
    return images if batch_size is None else images.batch(batch_size)


def index_directory(directory, labels, class_names, follow_links, formats=FORMATS, kind="image"):
    """The ``kind`` files under ``directory`` (names ending with one of ``formats``):
    ``(paths, int32 labels, class_names)``.

    With inferred labels each subfolder is a class (hidden ones skipped), in
    alphanumeric order unless ``class_names`` orders them; otherwise every
    such file under ``directory`` counts, and the class names are the labels.
    (``text_dataset_from_directory`` indexes its .txt files here too.)
    """
    if not os.path.isdir(directory):
        raise ValueError(f"{kind}_dataset_from_directory: {directory!r} is not a directory.")
    links = _SkippedLinks()
    if labels == "inferred":
        folders = _class_folders(directory, follow_links, links)
        if class_names and set(class_names) != set(folders):
            raise ValueError(
                f"class_names {list(class_names)} do not match the names of the subfolders of "
                f"{directory}: {folders}."
            )
        class_names = list(class_names) if class_names else folders
    else:
        folders = class_names = [""]  # every file under the directory, whatever its folder
    class_index = {name: i for i, name in enumerate(class_names)}
    paths, found = [], []
    for folder in folders:
        files = _files(os.path.join(directory, folder), directory, follow_links, links, formats)
        paths += files
        found += [class_index[folder]] * len(files)
    label_list = np.array(found, dtype=np.int32)
    if labels not in ("inferred", None):
        if len(labels) != len(paths):
            raise ValueError(
                f"labels has {len(labels)} entries but {directory} holds {len(paths)} {kind} "
                f"files; give one label per file, in the order of a sorted walk."
            )
        label_list = np.array(labels, dtype=np.int32)
        class_names = sorted(set(labels))
    if labels is None:
        print(f"Found {len(paths)} files.")
    else:
        print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    links.report(directory)
    return paths, label_list, class_names


class _SkippedLinks:
    """Counts the symbolic links left alone without follow_links, to say so once."""

    def __init__(self):
        self.count = 0

    def report(self, directory):
        if self.count:
            print(f"Skipped {self.count} symbolic link(s) to folders, or to files outside "
                  f"{directory}; pass follow_links=True to follow them.")


def _class_folders(directory, follow_links, links):
    """The names of the class subfolders of ``directory``, sorted."""
    folders = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        if os.path.islink(path) and not follow_links:
            links.count += 1
            continue
        folders.append(name)
    return folders


def _files(folder, directory, follow_links, links, formats):
    """The files of ``formats`` under ``folder`` (and its subfolders), in Keras's order: folders
    sorted by path, files sorted by name within each.

    Without ``follow_links``, linked folders are not entered and a linked file is
    read only if it lies inside ``directory``.  With it, a link back to a folder
    on the way down (a loop) is not entered.
    """
    inside = os.path.realpath(directory)
    above = {folder: frozenset()}  # for each folder to walk, the real folders on the way to it
    found = []
    for root, subfolders, files in os.walk(folder, followlinks=follow_links):
        images = [name for name in files if name.lower().endswith(formats)]
        if follow_links:
            on_the_way = above.pop(root) | {os.path.realpath(root)}
            subfolders[:] = [name for name in subfolders
                             if os.path.realpath(os.path.join(root, name)) not in on_the_way]
            above.update((os.path.join(root, name), on_the_way) for name in subfolders)
        else:
            links.count += sum(os.path.islink(os.path.join(root, name)) for name in subfolders)
            kept = [name for name in images if _safe(os.path.join(root, name), inside)]
            links.count += len(images) - len(kept)
            images = kept
        found.append((root, sorted(images)))
    return [os.path.join(root, name) for root, names in sorted(found) for name in names]


def _safe(path, inside):
    """Whether reading ``path`` stays under the directory ``inside`` (a link may lead out)."""
    if not os.path.islink(path):
        return True
    return os.path.commonpath([os.path.realpath(path), inside]) == inside


def split_files(paths, labels, validation_split, subset):
    """Keras's split: the last ``int(validation_split * n)`` files validate."""
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - count} files for training.")
        return paths[:len(paths) - count], labels[:len(paths) - count]
    print(f"Using {count} files for validation.")
    return paths[len(paths) - count:], labels[len(paths) - count:]


def encode_labels(labels, label_mode, num_classes):
    """int32 labels as ``label_mode`` wants them: int32 (n,), one-hot float32
    (n, num_classes) or float32 (n, 1)."""
    if label_mode == "categorical":
        return (labels[:, None] == np.arange(num_classes)).astype(np.float32)
    if label_mode == "binary":
        return labels.astype(np.float32).reshape(-1, 1)
    return labels


def _check_labels(labels, label_mode, class_names):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f'labels must be "inferred" (one class per subfolder), None (no labels) or a '
                f"list of integer labels, one per file; received labels={labels!r}."
            )
        if class_names:
            raise ValueError(
                f'class_names can only be given with labels="inferred"; received '
                f"labels={labels!r}, class_names={class_names!r}."
            )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'label_mode must be "int", "categorical", "binary" or None; received '
            f"label_mode={label_mode!r}."
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def _check_choice(value, choices, name):
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; received {name}={value!r}.")
    return choices[value] if isinstance(choices, dict) else value


def _check_split(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, received: {validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError(
            "subset and validation_split go together: give both (for example "
            "validation_split=0.2, subset='training') or neither."
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'subset must be "training", "validation" or "both", received: {subset!r}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "With validation_split and shuffling, give a seed: the training and the validation "
            "calls must shuffle the files the same way, or they would share files."
        )


def _check_image_size(image_size):
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in size):
        raise ValueError(f"image_size must be (height, width), two positive integers; "
                         f"received {image_size!r}.")
    return int(size[0]), int(size[1])
