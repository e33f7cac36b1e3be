"""A masked score gets attention weight exactly 0, as in Keras.

Keras masks attention by adding -1e9 to the scores; exp of that is 0 in float32, and
TensorFlow (denormals flushed) gives 0 for every exp below about -87.  The compiled
softmax's exp once stopped at exp(-87) = 1.6e-38 for all of them.
"""

import numpy as np
import pytest

from minidl import layers
from minidl._kernels import compiled, reference


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_softmax_of_very_negative_scores_is_exactly_zero(backend):
    logits = np.array([[0, -1e9, -90, -np.inf, 1], [3, 2, -200, 1, 0]], np.float32)
    probs = np.empty_like(logits)
    backend.softmax_forward(logits, probs)
    assert probs[0, 1] == probs[0, 2] == probs[0, 3] == probs[1, 2] == 0.0
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)


def test_masked_attention_weights_are_exactly_zero():
    """tf_keras 2.21: weights of masked value steps are 0.0 exactly."""
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 3, 4)).astype(np.float32)
    value = rng.normal(size=(2, 5, 4)).astype(np.float32)
    mask = np.ones((2, 3, 5), bool)
    mask[:, :, 3:] = False
    _, scores = layers.MultiHeadAttention(2, 4)(query, value, attention_mask=mask,
                                                return_attention_scores=True)
    scores = np.asarray(scores.data)
    assert (scores[..., 3:] == 0).all()
    np.testing.assert_allclose(scores.sum(axis=-1), 1, rtol=1e-6)
