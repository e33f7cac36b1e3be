"""Attention and AdditiveAttention against tf_keras 2.21: outputs, weights (scores)
and gradients with the same weights, masks, the causal mask, float64 gradient
checks, argument checks, functional models (summary, save and load).

``fixtures/attention/outputs.json`` holds tf_keras's numbers (how, and the cases:
``make_fixtures.py`` there, whose ``values`` helper and masks are repeated here).
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "attention" / "outputs.json")
                   .read_text())["dense_attention"]
QUERY_STEPS = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
VALUE_STEPS = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 0, 0]], bool)
CASES = {
    "Attention-dot": ("Attention", {}, ()),
    "Attention-scale-key": ("Attention", {"use_scale": True}, ("key",)),
    "Attention-concat-scale": ("Attention", {"use_scale": True, "score_mode": "concat"}, ()),
    "Attention-masks": ("Attention", {}, ("masks",)),
    "Attention-causal-masks": ("Attention", {"use_scale": True}, ("causal", "masks", "key")),
    "AdditiveAttention": ("AdditiveAttention", {}, ()),
    "AdditiveAttention-no_scale": ("AdditiveAttention", {"use_scale": False}, ("key",)),
    "AdditiveAttention-causal-masks": ("AdditiveAttention", {}, ("causal", "masks")),
}


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def case_layer(case, dtype=np.float32):
    """The case's layer with the fixture's weights, its inputs and call arguments."""
    class_name, kwargs, call = CASES[case]
    q, v, k = values(0, [(2, 4, 6)], dtype) + values(1, [(2, 5, 6)], dtype) + values(
        2, [(2, 5, 6)], dtype)
    layer = getattr(layers, class_name)(dtype=np.dtype(dtype).name, **kwargs)
    inputs = [q, v, k] if "key" in call else [q, v]
    call_kwargs = {}
    if "masks" in call:
        call_kwargs["mask"] = [QUERY_STEPS, VALUE_STEPS]
    if "causal" in call:
        call_kwargs["use_causal_mask"] = True
    layer(inputs, **call_kwargs)
    layer.set_weights(values(3, [w.shape for w in layer.get_weights()], dtype))
    return layer, inputs, call_kwargs


@pytest.mark.parametrize("case", CASES)
def test_outputs_scores_and_gradients_equal_keras_2(case):
    layer, inputs, call_kwargs = case_layer(case)
    output, scores = layer(inputs, return_attention_scores=True, **call_kwargs)
    np.testing.assert_allclose(np.asarray(output), KERAS[case]["output"], atol=2e-6)
    np.testing.assert_allclose(np.asarray(scores), KERAS[case]["scores"], atol=2e-6)
    if "mask" in call_kwargs:  # the output keeps the query's mask; the scores have none
        np.testing.assert_array_equal(output._keras_mask, QUERY_STEPS)
    assert scores._keras_mask is None
    tensors = [Tensor(a, requires_grad=True) for a in inputs]
    output = layer(tensors, **call_kwargs)
    (output * values(4, [output.shape])[0]).sum().backward()
    got = [t.grad for t in tensors] + [w.grad for w in layer.weights]
    assert len(got) == len(KERAS[case]["gradients"])
    for index, (mine, theirs) in enumerate(zip(got, KERAS[case]["gradients"])):
        np.testing.assert_allclose(mine, theirs, atol=3e-6, err_msg=f"gradient {index}")


@pytest.mark.parametrize("case", ["Attention-concat-scale", "Attention-causal-masks",
                                  "AdditiveAttention-causal-masks"])
def test_gradcheck_float64(case):
    layer, inputs, call_kwargs = case_layer(case, np.float64)
    weights = [w.data.copy() for w in layer.weights]
    names = ["scale", "concat_score_weight"][:len(weights)]

    def attend(*tensors):
        for name, weight in zip(names, tensors[len(inputs):]):
            setattr(layer, name, weight)
        return layer(list(tensors[:len(inputs)]), **call_kwargs)

    assert gradcheck(attend, [*inputs, *weights])


@pytest.mark.parametrize("case", CASES)
def test_weights_and_config_as_keras_2(case):
    layer, _, _ = case_layer(case)
    assert [[w.name.split("/", 1)[1], list(w.shape)] for w in layer.weights] == [
        [name.split("/", 1)[1].replace(":0", ""), shape] for name, shape in KERAS[case]["weights"]]
    config = layer.get_config()
    config.pop("name")
    assert config == KERAS[case]["config"]
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.get_config() == layer.get_config()


def test_dropout_on_the_weights_in_training():
    minidl.utils.set_random_seed(0)
    layer = layers.Attention(dropout=0.5)
    q, v = values(0, [(2, 4, 6)]) + values(1, [(2, 5, 6)])
    _, weights = layer([q, v], return_attention_scores=True)
    _, dropped = layer([q, v], return_attention_scores=True, training=True)
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1, rtol=1e-6)
    kept = np.asarray(dropped) != 0
    assert 0 < kept.mean() < 1  # Keras returns the weights after dropout
    np.testing.assert_allclose(np.asarray(dropped)[kept], 2 * np.asarray(weights)[kept],
                               rtol=1e-6)


def test_causal_constructor_argument_of_keras_2():
    layer, inputs, _ = case_layer("AdditiveAttention")
    causal = layers.AdditiveAttention(causal=True)
    causal(inputs)
    causal.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.asarray(causal(inputs)),
                                  np.asarray(layer(inputs, use_causal_mask=True)))
    assert layers.deserialize(layers.serialize(causal)).causal


@pytest.mark.parametrize("kwargs", [{"score_mode": "x"}, {"dropout": 1.5}, {"dropout": -1}])
def test_bad_arguments_refused(kwargs):
    with pytest.raises(ValueError, match="attention"):
        layers.Attention(**kwargs)


@pytest.mark.parametrize("inputs, match", [
    (np.zeros((2, 4, 6)), "must be called on a list of inputs"),
    ([np.zeros((2, 4, 6))], "must be called on a list of inputs"),
    ([np.zeros((2, 4, 6)), np.zeros((2, 5))], r"value must have shape \(batch, steps"),
    ([np.zeros((2, 4, 6)), np.zeros((2, 5, 6)), np.zeros((2, 5, 3))], "same number of features"),
])
def test_bad_inputs_refused(inputs, match):
    layer = layers.AdditiveAttention()
    with pytest.raises(ValueError, match=match):
        layer(inputs)
    assert not layer.built and layer.weights == []


def test_bad_mask_refused():
    layer = layers.Attention()
    q, v = values(0, [(2, 4, 6)]) + values(1, [(2, 5, 6)])
    with pytest.raises(ValueError, match="mask must be a list"):
        layer([q, v], mask=QUERY_STEPS)
    with pytest.raises(ValueError, match=r"the value mask must have shape \(2, 5\)"):
        layer([q, v], mask=[QUERY_STEPS, QUERY_STEPS])


def test_functional_with_embedding_masks_summary_save_and_load(tmp_path):
    """The shape of TensorFlow's attention tutorials: query and value sequences of words."""
    minidl.utils.set_random_seed(0)
    query_words, value_words = minidl.Input((4,), dtype="int32"), minidl.Input((5,), dtype="int32")
    embedding = layers.Embedding(20, 6, mask_zero=True)
    query, value = embedding(query_words), embedding(value_words)
    attended, scores = layers.AdditiveAttention()([query, value], return_attention_scores=True)
    dotted = layers.Attention(use_scale=True)([query, value], use_causal_mask=True)
    pooled = layers.GlobalAveragePooling1D()(layers.Concatenate()([attended, dotted]))
    model = minidl.Model([query_words, value_words], [layers.Dense(1)(pooled), scores])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "additive_attention (Additi" in text and "Total params: 140" in text
    x = [np.array([[1, 2, 0, 0], [3, 4, 5, 6]]), np.array([[7, 8, 9, 0, 0], [1, 1, 1, 1, 1]])]
    predicted = model.predict(x, verbose=0)
    assert predicted[1].shape == (2, 4, 5)
    np.testing.assert_allclose(predicted[1][0, :, 3:], 0, atol=1e-30)  # padded value steps
    model.save(tmp_path / "attention.mdl")
    loaded = load_model(tmp_path / "attention.mdl")
    for mine, theirs in zip(loaded.predict(x, verbose=0), predicted):
        np.testing.assert_array_equal(mine, theirs)
