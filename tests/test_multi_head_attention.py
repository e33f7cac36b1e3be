"""MultiHeadAttention against tf_keras 2.21 and torch.nn.MultiheadAttention: outputs,
scores and gradients with the same weights, the masks Keras 2 merges, dropout,
float64 gradient checks, argument and shape checks, functional models (summary,
config, save and load).

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
                   .read_text())["multi_head_attention"]
ATTENTION_MASK = np.array([[[1, 1, 0, 1, 0, 1]] * 4, [[0, 1, 1, 1, 1, 0]] * 4], bool)
QUERY_STEPS = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
VALUE_STEPS = np.array([[1, 1, 0, 1, 1, 0], [1, 1, 1, 1, 0, 0]], bool)
CASES = {
    "plain": ({}, ()),
    "key": ({}, ("key",)),
    "value_dim-output_shape-no_bias": ({"value_dim": 4, "output_shape": 3, "use_bias": False}, ()),
    "attention_mask": ({}, ("mask",)),
    "causal": ({}, ("causal",)),
    "masked": ({}, ("masked",)),
    "masked-attention_mask": ({}, ("masked", "mask")),
}


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def query_value_key(dtype=np.float32):
    return values(0, [(2, 4, 5)], dtype) + values(1, [(2, 6, 6)], dtype) + values(
        2, [(2, 6, 7)], dtype)


def keras_weighted(kwargs=None, dtype="float32"):
    """MultiHeadAttention(2, 3) built on the fixture's shapes, with its weights."""
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, dtype=dtype, **(kwargs or {}))
    q, v, _ = query_value_key()
    layer(q, v)
    layer.set_weights(values(3, [w.shape for w in layer.get_weights()]))
    return layer


@pytest.mark.parametrize("case", CASES)
def test_outputs_and_scores_equal_keras_2(case):
    kwargs, call = CASES[case]
    q, v, k = query_value_key()
    call_kwargs = {"return_attention_scores": True}
    if "key" in call:
        call_kwargs["key"] = k
    if "mask" in call:
        call_kwargs["attention_mask"] = ATTENTION_MASK
    if "causal" in call:
        v = q
        call_kwargs["use_causal_mask"] = True
    if "masked" in call:  # the implicit masks of the query and the value
        q = layers.Masking(0.0)(q * QUERY_STEPS[..., None])
        v = layers.Masking(0.0)(v * VALUE_STEPS[..., None])
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, **kwargs)
    layer(q, v, **call_kwargs)
    layer.set_weights(values(3, [w.shape for w in layer.get_weights()]))
    output, scores = layer(q, v, **call_kwargs)
    np.testing.assert_allclose(np.asarray(output), KERAS[case]["output"], atol=2e-6)
    np.testing.assert_allclose(np.asarray(scores), KERAS[case]["scores"], atol=2e-6)
    expected_mask = KERAS[case]["output_mask"]
    if expected_mask is None:
        assert output._keras_mask is None
    else:
        np.testing.assert_array_equal(output._keras_mask, expected_mask)
    assert scores._keras_mask is None


def test_gradients_equal_keras_2():
    layer = keras_weighted()
    q, v, _ = [Tensor(a, requires_grad=True) for a in query_value_key()]
    (layer(q, v) * values(4, [(2, 4, 5)])[0]).sum().backward()
    got = [q.grad, v.grad] + [w.grad for w in layer.weights]
    assert len(got) == len(KERAS["gradients"]) == 10
    for index, (mine, theirs) in enumerate(zip(got, KERAS["gradients"])):
        np.testing.assert_allclose(mine, theirs, atol=3e-6, err_msg=f"gradient {index}")


@pytest.mark.parametrize("call", [{}, {"use_causal_mask": True}, {"attention_mask": ATTENTION_MASK}])
def test_gradcheck_float64(call):
    layer = keras_weighted(dtype="float64")
    names = ["query_kernel", "query_bias", "key_kernel", "value_kernel", "output_kernel"]
    q, v, _ = query_value_key(np.float64)
    if call.get("use_causal_mask"):
        v = v[:, :4, :5]
        layer = layers.MultiHeadAttention(2, 3, dtype="float64")
        layer(q, v)
        layer.set_weights(values(3, [w.shape for w in layer.get_weights()], np.float64))
    weights = [getattr(layer, name).data.copy() for name in names]

    def attend(query, value, *replaced):
        for name, weight in zip(names, replaced):
            setattr(layer, name, weight)
        return layer(query, value, **call)

    assert gradcheck(attend, [q, v, *weights])


def test_equals_torch_multihead_attention():
    torch = pytest.importorskip("torch")
    q, v, k = query_value_key()
    q = np.concatenate([q, q[..., :1]], axis=-1)  # embed_dim 6 = 2 heads of 3
    reference = torch.nn.MultiheadAttention(6, 2, batch_first=True, kdim=7, vdim=6)
    layer = layers.MultiHeadAttention(2, 3)
    layer(q, v, key=k)
    weights = values(3, [w.shape for w in layer.get_weights()])
    layer.set_weights(weights)
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    with torch.no_grad():  # torch's projections are x @ W^T + b, heads contiguous
        reference.q_proj_weight.copy_(torch.from_numpy(wq.reshape(6, 6).T))
        reference.k_proj_weight.copy_(torch.from_numpy(wk.reshape(7, 6).T))
        reference.v_proj_weight.copy_(torch.from_numpy(wv.reshape(6, 6).T))
        reference.in_proj_bias.copy_(torch.from_numpy(np.concatenate(
            [bq.reshape(-1), bk.reshape(-1), bv.reshape(-1)])))
        reference.out_proj.weight.copy_(torch.from_numpy(wo.reshape(6, 6).T))
        reference.out_proj.bias.copy_(torch.from_numpy(bo))
    tq, tk, tv = (torch.from_numpy(a).requires_grad_() for a in (q, k, v))
    expected, expected_scores = reference(tq, tk, tv, attn_mask=torch.from_numpy(
        np.repeat(~ATTENTION_MASK, 2, axis=0)), average_attn_weights=False)
    g = values(4, [(2, 4, 6)])[0]
    (expected * torch.from_numpy(g)).sum().backward()
    mq, mk, mv = (Tensor(a, requires_grad=True) for a in (q, k, v))
    output, scores = layer(mq, mv, key=mk, attention_mask=ATTENTION_MASK,
                           return_attention_scores=True)
    (output * g).sum().backward()
    np.testing.assert_allclose(np.asarray(output), expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), expected_scores.detach().numpy(), atol=1e-5)
    for mine, theirs in ((mq, tq), (mk, tk), (mv, tv)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), atol=1e-5)


def test_weights_params_and_config_as_keras_2():
    layer = keras_weighted()
    assert [[w.name, list(w.shape)] for w in layer.weights] == [
        [name.replace("multi_head_attention_7", "multi_head_attention").replace(":0", ""), shape]
        for name, shape in KERAS["weights"]]
    assert layer.count_params() == KERAS["params"] == 155
    config = layer.get_config()
    config.pop("name")
    expected = dict(KERAS["config"])
    for key in ("kernel_initializer", "bias_initializer"):  # minidl writes no module
        assert config.pop(key)["class_name"] == expected.pop(key)["class_name"]
    assert {**config, "attention_axes": list(config["attention_axes"])} == expected
    clone = layers.deserialize(layers.serialize(layer))
    assert clone.built and [w.shape for w in clone.weights] == [w.shape for w in layer.weights]


def test_dropout_on_the_scores_only_in_training():
    minidl.utils.set_random_seed(0)
    layer = keras_weighted({"dropout": 0.5})
    q, v, _ = query_value_key()
    plain, scores = layer(q, v, return_attention_scores=True)
    trained, trained_scores = layer(q, v, return_attention_scores=True, training=True)
    np.testing.assert_allclose(np.asarray(plain), KERAS["plain"]["output"], atol=2e-6)
    assert not np.allclose(np.asarray(trained), np.asarray(plain))
    # the scores returned are those before dropout, as Keras returns them
    np.testing.assert_allclose(np.asarray(trained_scores), np.asarray(scores), atol=1e-7)


@pytest.mark.parametrize("kwargs", [
    {"num_heads": 0, "key_dim": 3}, {"num_heads": 2, "key_dim": -1},
    {"num_heads": 2.0, "key_dim": 3}, {"num_heads": 2, "key_dim": True},
    {"num_heads": 2, "key_dim": 3, "value_dim": 0}, {"num_heads": 2, "key_dim": 3, "dropout": 1},
    {"num_heads": 2, "key_dim": 3, "output_shape": 0},
    {"num_heads": 2, "key_dim": 3, "output_shape": (2, "a")},
    {"num_heads": 2, "key_dim": 3, "kernel_constraint": "non_negative"},
    {"num_heads": 2, "key_dim": 3, "activity_regularizer": "l2"},
])
def test_bad_arguments_refused(kwargs):
    with pytest.raises(ValueError, match="multi_head_attention"):
        layers.MultiHeadAttention(**kwargs)


@pytest.mark.parametrize("shapes, call, match", [
    ([(2, 4), (2, 6, 6)], {}, r"query must have shape \(batch, steps, features\)"),
    ([(2, 4, 5), (2, 6, 6, 1)], {}, "value must have shape"),
    ([(2, 4, 5), (2, 6, 6)], {"key": np.zeros((2, 5, 7), np.float32)}, "same number of steps"),
    ([(2, 4, 5), (2, 6, 6)], {"attention_mask": np.ones((2, 4, 5), bool)},
     r"attention_mask must have shape \(batch, query steps, value steps\)"),
])
def test_bad_shapes_refused(shapes, call, match):
    layer = layers.MultiHeadAttention(2, 3)
    q, v = (np.zeros(s, np.float32) for s in shapes)
    with pytest.raises(ValueError, match=match):
        layer(q, v, **call)


def test_refusals_change_nothing():
    layer = keras_weighted()
    before = layer.get_weights()
    q, v, _ = query_value_key()
    with pytest.raises(ValueError, match=r"query expected shape \(batch, steps, 5\)"):
        layer(np.zeros((2, 4, 4), np.float32), v)
    with pytest.raises(TypeError, match="needs a query and a value"):
        layer(q)
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=(2,))(q, v)
    with pytest.raises(TypeError, match="all be symbolic"):
        layer(minidl.Input((4, 5)), v)
    for mine, kept in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(mine, kept)


def test_functional_summary_save_and_load(tmp_path):
    query, value = minidl.Input((4, 5)), minidl.Input((6, 6))
    attended = layers.MultiHeadAttention(2, 3)(query, value)
    decoded, scores = layers.MultiHeadAttention(2, 3, name="self_attention")(
        attended, attended, use_causal_mask=True, return_attention_scores=True)
    model = minidl.Model([query, value], [decoded, scores])
    assert scores.shape == (None, 2, 4, 4)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert " multi_head_attention (Mult  (None, 4, 5)                 155       " in text  # tf_keras 2.21
    assert "self (MultiHeadAttention)" not in text and "Total params: 298" in text
    x = values(5, [(3, 4, 5), (3, 6, 6)])
    predicted = model.predict(x, verbose=0)
    future = np.triu(np.ones((4, 4), bool), 1)  # step t attends to no step after t
    np.testing.assert_allclose(predicted[1][:, :, future], 0, atol=1e-30)
    model.save(tmp_path / "attention.mdl")
    loaded = load_model(tmp_path / "attention.mdl")
    for mine, theirs in zip(loaded.predict(x, verbose=0), predicted):
        np.testing.assert_array_equal(mine, theirs)


def test_embedding_masks_reach_the_attention_in_a_model():
    words = minidl.Input((5,), dtype="int32")
    embedded = layers.Embedding(10, 6, mask_zero=True)(words)
    attended = layers.MultiHeadAttention(2, 3)(embedded, embedded)
    pooled = layers.GlobalAveragePooling1D()(attended)
    model = minidl.Model(words, pooled)
    x = np.array([[3, 4, 0, 0, 0], [1, 2, 3, 4, 5]])
    embedding = model.layers[1]
    embedding.embeddings.data[0] = 100.0  # the padding's vector: masked, so it changes nothing
    before = model.predict(x, verbose=0)
    embedding.embeddings.data[0] = -7.0
    np.testing.assert_allclose(model.predict(x, verbose=0), before, atol=1e-6)


def test_softmax_robust_masking_gives_keras_values():
    layer = keras_weighted({"softmax_robust_masking": True})
    q, v, _ = query_value_key()
    output, scores = layer(q, v, attention_mask=ATTENTION_MASK, return_attention_scores=True)
    np.testing.assert_allclose(np.asarray(output), KERAS["attention_mask"]["output"], atol=2e-6)
    np.testing.assert_allclose(np.asarray(scores), KERAS["attention_mask"]["scores"], atol=2e-6)
    assert layer.get_config()["softmax_robust_masking"] is True
