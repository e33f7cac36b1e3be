"""``text_dataset_from_directory``: a folder of .txt files, one subfolder per class, as a Dataset.

    aclImdb/train/
        neg/        0_3.txt  1_1.txt  ...
        pos/        0_9.txt  ...

    raw_train_ds = text_dataset_from_directory("aclImdb/train", batch_size=32,
                                               validation_split=0.2, subset="training",
                                               seed=42)
    raw_train_ds.class_names    # ['neg', 'pos']: labels 0, 1
    for texts, labels in raw_train_ds:   # texts: array of 32 Python strings (dtype object)
        ...

It works as ``image_dataset_from_directory`` does, and as Keras 2 does:
the .txt files are listed class folder by class folder (``image_dataset.index_directory``),
shuffled with ``np.random.RandomState(seed)`` and split (the last
``validation_split`` of the list validates), so a seed picks the same files
as Keras; each file is read when its batch is made.  The "training" subset
(and a single subset, as Keras) is shuffled again at every pass through a
buffer of ``8 * batch_size``.

Keras gives the files' bytes; minidl gives the text, decoded from UTF-8 (a file
that is not UTF-8 is an error naming it).  ``max_length`` cuts each file after
that many bytes, as Keras does; a character cut in two by it is dropped.
"""

from __future__ import annotations

import os

import numpy as np

from minidl.data import Dataset
from minidl.random import get_generator
from minidl.utils.image_dataset import (_check_labels, _check_split, encode_labels,
                                        index_directory, split_files)

WHO = "text_dataset_from_directory"


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                batch_size=32, max_length=None, shuffle=True, seed=None,
                                validation_split=None, subset=None, follow_links=False):
    """A Dataset of ``(texts, labels)`` batches read from the .txt files in ``directory``.

    ``labels``: "inferred" (one class per subfolder), None (texts only), or a
    list of integer labels, one per file in the order of a sorted walk.
    ``label_mode``: "int" (int32, shape (batch,)), "categorical" (one-hot float32,
    (batch, classes)), "binary" (float32 0/1, (batch, 1); two classes) or None.
    Texts come as arrays of Python strings (dtype object, shape (batch,));
    ``batch_size=None`` gives single texts (arrays of shape ()).  ``max_length``:
    the most bytes kept of each file.  ``validation_split`` with ``subset``
    "training", "validation" or "both" (a pair of datasets) splits the files;
    give the same ``seed`` to both calls.  Symbolic links are followed only with
    ``follow_links=True``.  The result has ``.class_names`` (and ``.file_paths``).
    """
    directory = os.fspath(directory)
    labels, label_mode = _check_labels(labels, label_mode, class_names)
    _check_split(validation_split, subset, shuffle, seed)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)) or batch_size <= 0):
        raise ValueError(f"{WHO}: batch_size must be a positive integer or None, received "
                         f"{batch_size!r}.")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(
            max_length, (int, np.integer)) or max_length < 0):
        raise ValueError(f"{WHO}: max_length must be a non-negative integer or None, received "
                         f"{max_length!r}.")
    if seed is None:
        seed = int(get_generator().integers(1_000_000))
    paths, label_list, class_names = index_directory(directory, labels, class_names, follow_links,
                                                     (".txt",), "text")
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))  # Keras 2's file shuffle
        paths, label_list = [paths[i] for i in order], label_list[order]
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f'label_mode="binary" needs exactly 2 classes, found {len(class_names)}: '
            f"{class_names}. Use label_mode='int' or 'categorical'."
        )

    def subset_dataset(name, shuffled):
        chosen_paths, chosen_labels = split_files(paths, label_list, validation_split, name)
        if not chosen_paths:
            raise ValueError(f"No {name + ' ' if name else ''}text files found in directory "
                             f"{directory}. Allowed format: .txt")
        targets = None if label_mode is None else encode_labels(chosen_labels, label_mode,
                                                                 len(class_names))
        result = _texts_and_labels(chosen_paths, targets, max_length, batch_size, shuffled, seed)
        result.class_names = class_names
        result.file_paths = chosen_paths
        return result

    if subset == "both":  # Keras shuffles the training part only
        return subset_dataset("training", shuffle), subset_dataset("validation", False)
    return subset_dataset(subset, shuffle)


def read_text(path, max_length=None):
    """The text of the file ``path`` as a 0-d array holding one Python string
    (decoded from UTF-8; at most ``max_length`` bytes of it)."""
    path = str(path)
    with open(path, "rb") as file:
        data = file.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{WHO}: {path} is not UTF-8 text ({error}); convert it to UTF-8 "
                         "(for example iconv -f latin1 -t utf-8).") from None
    if max_length is not None and len(data) > max_length:
        text = data[:max_length].decode("utf-8", errors="ignore")  # only a cut character is lost
    element = np.empty((), dtype=object)
    element[()] = text
    return element


def _texts_and_labels(paths, targets, max_length, batch_size, shuffle, seed):
    """The Dataset of one subset: (path, label) pairs, shuffled, read, batched."""
    paths = np.array(paths)
    pairs = Dataset.from_tensor_slices(paths if targets is None else (paths, targets))
    if shuffle:
        pairs = pairs.shuffle(1024 if batch_size is None else 8 * batch_size, seed=seed)
    if targets is None:
        texts = pairs.map(lambda path: read_text(path, max_length))
    else:
        texts = pairs.map(lambda path, label: (read_text(path, max_length), label))
    return texts if batch_size is None else texts.batch(batch_size)
