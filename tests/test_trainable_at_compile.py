"""Keras 2's rule: a model trains the weights that were trainable when it was compiled
(checked side by side with tf_keras 2.21: the GAN recipe below gives the same
changed / unchanged weights there)."""

import warnings

import numpy as np
import pytest

import minidl
from minidl import layers


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def gan_parts():
    minidl.utils.set_random_seed(0)
    disc = minidl.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                              layers.Dense(1, activation="sigmoid")])
    disc.compile(optimizer="rmsprop", loss="binary_crossentropy")
    disc.trainable = False
    gen = minidl.Sequential([layers.Dense(3, input_shape=(2,))])
    z = minidl.Input(shape=(2,))
    gan = minidl.Model(z, disc(gen(z)))
    gan.compile(optimizer="rmsprop", loss="binary_crossentropy")
    return disc, gen, gan


def test_the_gan_recipe_of_deep_learning_with_python():
    disc, gen, gan = gan_parts()
    rng = np.random.default_rng(0)
    before = disc.get_weights()
    with pytest.warns(UserWarning, match=f"changed since model '{disc.name}' was compiled"):
        disc.train_on_batch(rng.normal(size=(8, 3)).astype("float32"), np.ones((8, 1), "float32"))
    assert _changed(before, disc.get_weights()), "the discriminator must still train"
    assert disc.trainable is False and disc.trainable_weights == []  # the flags are restored
    d_before, g_before = disc.get_weights(), gen.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the gan was compiled with this state: no warning
        gan.train_on_batch(rng.normal(size=(8, 2)).astype("float32"), np.zeros((8, 1), "float32"))
    assert not _changed(d_before, disc.get_weights())
    assert _changed(g_before, gen.get_weights())


def test_fit_follows_the_compiled_state_and_compile_again_changes_it():
    disc, _, _ = gan_parts()
    x, y = np.random.default_rng(1).normal(size=(16, 3)).astype("float32"), np.ones((16, 1), "float32")
    before = disc.get_weights()
    with pytest.warns(UserWarning, match="compile"):
        disc.fit(x, y, epochs=1, verbose=0)
    assert _changed(before, disc.get_weights())
    disc.compile(optimizer="rmsprop", loss="binary_crossentropy")  # now compiled frozen
    before = disc.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disc.fit(x, y, epochs=1, verbose=0)
    assert not _changed(before, disc.get_weights())


def test_a_frozen_inner_layer_is_restored_after_the_call():
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
    model.layers[0].trainable = False
    model.compile("sgd", "mse")
    model.trainable = False
    with pytest.warns(UserWarning):
        model.train_on_batch(np.ones((2, 3), "float32"), np.ones((2, 1), "float32"))
    assert [layer.trainable for layer in model.layers] == [False, False] and not model.trainable
    model.trainable = True
    model.layers[0].trainable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # back to the compiled state: nothing to say
        model.train_on_batch(np.ones((2, 3), "float32"), np.ones((2, 1), "float32"))
