"""minidl.random: one seeded generator, and the random Tensors drawn from it."""

import numpy as np
import pytest

import minidl
from minidl import random


def test_seed_gives_the_same_numbers():
    random.seed(123)
    first = random.get_generator().random(5)
    random.seed(123)
    np.testing.assert_array_equal(random.get_generator().random(5), first)


def test_seed_resets_the_existing_generator():
    generator = random.get_generator()
    random.seed(7)
    a = generator.standard_normal(3)
    random.seed(7)
    assert random.get_generator() is generator
    np.testing.assert_array_equal(generator.standard_normal(3), a)


def test_different_seeds_differ():
    random.seed(1)
    a = random.get_generator().random(4)
    random.seed(2)
    assert not np.array_equal(random.get_generator().random(4), a)


def test_is_a_pcg64_generator():
    assert isinstance(random.get_generator(), np.random.Generator)
    assert isinstance(random.get_generator().bit_generator, np.random.PCG64)


# --- random Tensors: tf.random.normal / uniform / truncated_normal ----------------
def test_draws_are_tensors_of_the_shape_and_dtype_asked():
    for draw in (random.normal, random.uniform, random.truncated_normal):
        value = draw((4, 3))
        assert isinstance(value, minidl.Tensor) and value.shape == (4, 3)
        assert value.dtype == np.float32 and not value.requires_grad
        assert draw(5).shape == (5,)
        assert draw([2, 0]).shape == (2, 0)
        assert draw((2,), dtype="float64").dtype == np.float64


def test_draws_follow_their_distributions():
    random.seed(0)
    normal = random.normal((200_000,), mean=3.0, stddev=2.0).numpy()
    assert abs(normal.mean() - 3.0) < 0.02 and abs(normal.std() - 2.0) < 0.02
    uniform = random.uniform((200_000,), minval=-1.0, maxval=3.0).numpy()
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.02
    truncated = random.truncated_normal((200_000,), mean=1.0, stddev=0.5).numpy()
    assert truncated.min() >= 0.0 and truncated.max() <= 2.0
    # N(0, 1) cut at +-2 has standard deviation 0.8796 (the truncated normal's variance)
    assert abs(truncated.std() / 0.5 - 0.8796) < 0.01


def test_the_global_seed_and_a_seed_of_its_own():
    random.set_seed(5)
    first = random.normal((3,)).numpy()
    random.set_seed(5)
    np.testing.assert_array_equal(random.normal((3,)).numpy(), first)
    np.testing.assert_array_equal(random.uniform((3,), seed=7).numpy(),
                                  random.uniform((3,), seed=7).numpy())


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown batch size"):
        random.normal((None, 3))
    with pytest.raises(ValueError, match="non-negative integers"):
        random.normal((2, -1))
    with pytest.raises(ValueError, match="non-negative integers"):
        random.uniform("ab")
    with pytest.raises(ValueError, match="float type"):
        random.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="below maxval"):
        random.uniform((2,), minval=1.0, maxval=1.0)
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed=-1)


def test_backend_and_keras_names():
    from minidl import backend, keras

    assert backend.random_normal((2, 3)).shape == (2, 3)
    assert backend.random_uniform((2,), maxval=5.0).shape == (2,)
    assert keras.random.normal((1,)).shape == (1,)
