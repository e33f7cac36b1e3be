"""utils: to_categorical, set_random_seed, Progbar."""

import io
import random
import re

import numpy as np
import pytest

import minidl
from minidl.utils import Progbar, normalize, set_random_seed, to_categorical


def test_to_categorical_like_keras():
    out = to_categorical([1, 0, 2])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[1, 0, 2]])
    assert to_categorical(np.array([[1], [3]], dtype=np.uint8), num_classes=5).shape == (2, 5)
    with pytest.raises(ValueError, match="num_classes=3"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=">= 0"):
        to_categorical([-1, 0])


def test_set_random_seed_seeds_everything():
    def draw():
        return (minidl.random.get_generator().random(), np.random.rand(), random.random())

    set_random_seed(7)
    first = draw()
    set_random_seed(7)
    assert draw() == first
    with pytest.raises(ValueError, match="non-negative integer"):
        set_random_seed(-1)


def test_normalize_rows():
    np.testing.assert_allclose(np.linalg.norm(normalize([[3.0, 4.0], [0.0, 0.0]]), axis=-1), [1.0, 0.0])


def test_progbar_final_line_like_keras():
    stream = io.StringIO()
    bar = Progbar(782, stream=stream)
    bar.update(10, [("loss", 0.5)])  # not a terminal: no live line
    bar.update(782, [("loss", 0.28331), ("accuracy", 0.91733), ("val_loss", 0.00001)])
    line = stream.getvalue()
    assert line.startswith("782/782 [==============================] - ")
    assert line.rstrip("\n").endswith("- loss: 0.2833 - accuracy: 0.9173 - val_loss: 1.0000e-05")
    assert "/step" in line and line.count("\n") == 1


def test_progbar_live_bar_in_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = Progbar(100, stream=stream, interval=0)
    bar.update(50, [("loss", 1.0)])
    assert stream.getvalue().startswith("\r 50/100 [==============>...............] - ETA:")


def test_progbar_verbose_2():
    stream = io.StringIO()
    bar = Progbar(5, verbose=2, stream=stream)
    bar.update(5, [("loss", 0.25)])
    line = stream.getvalue()  # tf_keras: "4/4 - 0s - loss: 0.2810 - 476ms/epoch - 119ms/step"
    assert re.fullmatch(r"5/5 - \d+s - loss: 0\.2500 - \d+[mu]?s/epoch - \d+[mu]?s/step\n", line)
