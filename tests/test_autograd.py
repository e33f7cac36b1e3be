"""The engine: graph recording, reverse walk, accumulation, no_grad, detach."""

import numpy as np
import pytest

import minidl
from minidl import Tensor, no_grad, ops
from minidl.autograd import (
    GraphFreedError,
    InPlaceModificationError,
    grad,
    is_grad_enabled,
    unbroadcast,
)


def test_chain_rule_through_several_ops():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = ((x * x).exp() + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data * np.exp(x.data**2) + 1)


def test_tensor_used_twice_accumulates():
    x = Tensor(np.array([3.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0])  # d/dx (x^2 + x) = 2x + 1


def test_diamond_graph_visits_shared_node_once():
    x = Tensor(np.array([2.0]), requires_grad=True)
    h = x * 3
    y = (h * h + h.exp()).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 3 * (2 * 6 + np.exp(6.0)))


def test_grad_accumulates_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [5, 5])
    x.zero_grad()
    assert x.grad is None


def test_broadcasting_is_undone():
    a = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones((4, 3, 5)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4, 3, 5)
    np.testing.assert_allclose(a.grad, np.full((3, 1), 20.0))


def test_unbroadcast_sums_created_and_stretched_axes():
    grad = np.ones((2, 3, 4))
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1)), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(unbroadcast(grad, ()), 24.0)
    assert unbroadcast(grad, (2, 3, 4)) is grad


def test_no_grad_builds_no_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = ops.relu(x * 2).sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y._backward is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_state_after_error():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_detach_stops_the_gradient():
    x = Tensor(np.array([2.0]), requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0])  # only the first factor counts


def test_only_leaves_that_ask_get_grad():
    x = Tensor(np.ones(2), requires_grad=True)
    c = Tensor(np.ones(2))
    h = x * c
    h.sum().backward()
    assert c.grad is None and h.grad is None and x.grad is not None


def test_backward_needs_scalar_or_matching_grad():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="needs a scalar"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(2,\)"):
        y.backward(np.ones(2))
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad, [2, 4, 6])


def test_graph_released_unless_retained():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4, 4])
    assert y._parents == ()  # released: the arrays kept for backward can be freed
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad, [4, 4])


def test_reusing_a_freed_node_is_an_error_not_a_constant():
    # The example: the second graph reuses h, whose op the first
    # backward released.  Treating h as a constant would give x.grad == [4, 6].
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.raises(GraphFreedError, match="freed by an earlier backward"):
        (h * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2, 2])  # the refused call changed nothing


def test_retain_graph_gives_the_right_gradient_on_reuse():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.sum().backward(retain_graph=True)
    x.grad = None
    (h * x).sum().backward()
    np.testing.assert_allclose(x.grad, [4 * 1, 4 * 2])  # d/dx 2x^2 = 4x


def test_two_losses_on_a_shared_trunk():
    w = Tensor([0.5, -1.0], requires_grad=True)
    trunk = (w * 3).exp()
    loss_a = trunk.sum()
    loss_b = (trunk * trunk).sum()
    loss_a.backward(retain_graph=True)
    loss_b.backward()
    t = np.exp(3 * w.data)
    np.testing.assert_allclose(w.grad, 3 * t + 6 * t * t, rtol=1e-6)
    with pytest.raises(GraphFreedError):
        loss_a.backward()


def test_two_losses_summed_equal_two_backward_calls():
    w = Tensor(np.array([0.3, 0.7]), requires_grad=True)
    trunk = w * w
    (trunk.sum() + (trunk * 2).sum()).backward()
    both = w.grad.copy()
    w.grad = None
    trunk = w * w
    trunk.sum().backward(retain_graph=True)
    (trunk * 2).sum().backward()
    np.testing.assert_allclose(w.grad, both)


def test_leaf_gradients_never_alias():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad += 1
    np.testing.assert_array_equal(b.grad, np.ones(3))
    c = Tensor(np.ones((2, 3)), requires_grad=True)
    d = Tensor(np.ones(6), requires_grad=True)
    (c.reshape(6) + d).sum().backward()  # c's gradient is a view of the sum's
    assert not np.shares_memory(c.grad, d.grad)


def test_backward_with_a_given_gradient_does_not_keep_it():
    x = Tensor(np.ones(3), requires_grad=True)
    given = np.array([1.0, 2.0, 3.0], np.float32)
    (x + 0).backward(given)
    x.grad[0] = 100
    assert given[0] == 1.0


def test_grad_returns_gradients_without_touching_dot_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    unused = Tensor(np.ones(2), requires_grad=True)
    h = x * y
    gx, gh, gu = grad(h.sum() * 2, [x, h, unused])
    np.testing.assert_allclose(gx, 2 * y.data)
    np.testing.assert_allclose(gh, [2, 2])
    assert gu is None and x.grad is None and y.grad is None


def test_deep_graph_does_not_hit_recursion_limit():
    x = Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


# --- tensors changed in place between forward and backward -------------------------
def test_a_weight_changed_in_place_after_the_forward_pass_is_an_error():
    w = minidl.Variable(np.array([1.0, 2.0]))
    x = Tensor(np.array([3.0, 4.0]))
    loss = (w * x * w).sum()
    w.assign([5.0, 6.0])  # the product's backward would read the new w
    with pytest.raises(InPlaceModificationError, match="changed in place"):
        loss.backward()
    assert w.grad is None


def test_an_optimizer_step_between_two_gradients_is_detected():
    """A persistent tape, one optimizer step, then a second gradient of the old graph:
    TensorFlow would use the old values; minidl's ops would read the new ones."""
    w = minidl.Variable(np.array([1.0, 2.0]))
    with minidl.GradientTape(persistent=True) as tape:
        a = (w * w).sum()
        b = (w * 3.0).sum()
    first = tape.gradient(a, [w])
    minidl.optimizers.SGD(0.1).apply_gradients(zip(first, [w]))
    with pytest.raises(InPlaceModificationError):
        tape.gradient(b, [w])


def test_set_weights_after_the_forward_pass_is_detected_too():
    layer = minidl.layers.Dense(2)
    out = layer(np.ones((1, 3))).sum()
    layer.set_weights([np.zeros((3, 2)), np.zeros(2)])
    with pytest.raises(InPlaceModificationError):
        out.backward()


def test_changes_before_the_forward_pass_are_fine():
    w = minidl.Variable(np.array([1.0, 2.0]))
    w.assign([3.0, 4.0])
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, [6.0, 8.0])


def test_two_tapes_open_together_each_get_their_gradient():
    """The DCGAN tutorial's train_step: ``with GradientTape() as gen_tape, GradientTape()
    as disc_tape`` over one forward pass, then one gradient() from each.  As in TensorFlow
    each non-persistent tape gives its gradients once; the graph is released after the
    last of the two has asked, and a single tape still releases it at once."""
    g = Tensor([0.5, -1.0], requires_grad=True)  # the generator's weight
    d = Tensor([2.0, 0.3], requires_grad=True)   # the discriminator's
    with minidl.GradientTape() as gen_tape, minidl.GradientTape() as disc_tape:
        fake = (g * 3).tanh()
        fake_output = (fake * d).sum()
        gen_loss = -fake_output
        disc_loss = fake_output * fake_output + (d * d).sum()
    grad_g = gen_tape.gradient(gen_loss, [g])[0].numpy()
    grad_d = disc_tape.gradient(disc_loss, [d])[0].numpy()
    t = np.tanh(3 * g.data)
    np.testing.assert_allclose(grad_g, -d.data * 3 * (1 - t * t), rtol=1e-6)
    np.testing.assert_allclose(grad_d, 2 * (t * d.data).sum() * t + 2 * d.data, rtol=1e-6)
    with pytest.raises(RuntimeError, match="only be used to compute one set"):
        gen_tape.gradient(gen_loss, [g])
    with pytest.raises(GraphFreedError):  # released after the last tape asked
        disc_loss.backward()

    with minidl.GradientTape() as tape:  # one tape alone: released at once
        loss = (g * 3).tanh().sum()
    tape.gradient(loss, [g])
    with pytest.raises(GraphFreedError):
        loss.backward()
