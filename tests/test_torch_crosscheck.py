"""Training steps match PyTorch: same loss, same updated weights (relative 1e-5).

A minidl model and its PyTorch twin start from the same weights (copied, with
the layout changes: Dense kernels are (in, out) here and (out, in) in torch;
Conv2D kernels HWIO here and OIHW there; images NHWC here and NCHW there).
Both take five steps on the same batch with each optimizer.  The twin runs
in float64, so the differences seen are minidl's float32 rounding.

Keras and PyTorch place epsilon differently (Adam: sqrt(v) + eps against
sqrt(v_hat) + eps; RMSprop: sqrt(s + eps) against sqrt(s) + eps), so the
optimizers use a tiny epsilon here; everything else is the same math.
"""

import numpy as np
import pytest

import minidl
from minidl import layers, optimizers

torch = pytest.importorskip("torch")

EPS = 1e-12
OPTIMIZERS = {
    "sgd": (lambda: optimizers.SGD(learning_rate=0.1),
            lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_nesterov": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda: optimizers.RMSprop(learning_rate=0.01, epsilon=EPS),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=EPS)),
    "adam": (lambda: optimizers.Adam(learning_rate=0.01, epsilon=EPS),
             lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=EPS)),
}


def dense_pair():
    model = minidl.Sequential([
        layers.Dense(6, activation="relu", input_shape=(5,)),
        layers.Dense(4, activation="softmax"),
    ])
    twin = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4)).double()
    with torch.no_grad():
        for i, (kernel, bias) in zip((0, 2), zip(model.get_weights()[::2], model.get_weights()[1::2])):
            twin[i].weight.copy_(torch.from_numpy(kernel.T.astype(np.float64)))
            twin[i].bias.copy_(torch.from_numpy(bias.astype(np.float64)))
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    return model, twin, x, lambda t: t


class ConvTwin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.dense = torch.nn.Linear(2 * 2 * 3, 4)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.dense(x.permute(0, 2, 3, 1).reshape(len(x), -1))  # flatten in NHWC order


def conv_pair():
    model = minidl.Sequential([
        layers.Conv2D(3, (3, 3), activation="relu", input_shape=(6, 6, 2)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(4, activation="softmax"),
    ])
    twin = ConvTwin().double()
    kernel, bias, dense_kernel, dense_bias = model.get_weights()
    with torch.no_grad():
        twin.conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).astype(np.float64)))
        twin.conv.bias.copy_(torch.from_numpy(bias.astype(np.float64)))
        twin.dense.weight.copy_(torch.from_numpy(dense_kernel.T.astype(np.float64)))
        twin.dense.bias.copy_(torch.from_numpy(dense_bias.astype(np.float64)))
    x = np.random.default_rng(0).normal(size=(8, 6, 6, 2)).astype(np.float32)
    return model, twin, x, lambda t: t.permute(0, 3, 1, 2)


def torch_weights_in_minidl_layout(twin):
    out = []
    for name, p in twin.named_parameters():
        w = p.detach().numpy()
        if w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        elif w.ndim == 2:
            w = w.T
        out.append(w)
    return out


@pytest.mark.parametrize("make_pair", [dense_pair, conv_pair], ids=["dense", "conv"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_steps_match_pytorch(make_pair, optimizer):
    minidl.utils.set_random_seed(0)
    model, twin, x, to_torch_layout = make_pair()
    y = np.array([0, 1, 2, 3, 3, 2, 1, 0])
    make_ours, make_theirs = OPTIMIZERS[optimizer]
    model.compile(make_ours(), "sparse_categorical_crossentropy")
    theirs = make_theirs(twin.parameters())
    tx = to_torch_layout(torch.from_numpy(x.astype(np.float64)))
    ty = torch.from_numpy(y)
    for step in range(5):
        loss = model.train_on_batch(x, y)
        theirs.zero_grad()
        their_loss = torch.nn.functional.cross_entropy(twin(tx), ty)
        their_loss.backward()
        theirs.step()
        assert loss == pytest.approx(their_loss.item(), rel=1e-5), f"loss at step {step}"
    for ours, expected in zip(model.get_weights(), torch_weights_in_minidl_layout(twin)):
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


# --- every convolution path, BatchNormalization, Dropout at inference ----------------
# (input shape, filters, kernel, strides, padding, behind a 2x2 max-pool, the kernel that must run)
CONV_PATHS = {
    "direct": ((2, 9, 9, 1), 4, (3, 3), (1, 1), "valid", False, "conv2d_forward"),
    "im2col": ((2, 9, 9, 6), 5, (3, 3), (1, 1), "same", False, "im2col"),
    "winograd": ((2, 10, 10, 16), 16, (3, 3), (1, 1), "same", False, "conv2d_winograd_forward"),
    "strided": ((2, 11, 11, 6), 5, (3, 3), (2, 2), "same", False, "im2col"),
    "5x5": ((2, 12, 12, 3), 4, (5, 5), (1, 1), "valid", False, "im2col"),
    "behind_pooling": ((4, 12, 12, 8), 16, (5, 5), (1, 1), "valid", True, "col2im"),
}


def _torch_padding(padding, kernel, strides, size):
    """Keras's 'same' padding (the extra pixel at the bottom/right) for F.pad."""
    if padding == "valid":
        return (0, 0, 0, 0)
    pads = []
    for k, s, n in zip(kernel, strides, size):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return (left, right, top, bottom)


@pytest.mark.parametrize("path", sorted(CONV_PATHS))
def test_every_convolution_path_matches_pytorch(path):
    shape, filters, kernel, strides, padding, pooled, kernel_name = CONV_PATHS[path]
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape).astype(np.float32)
    conv = layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu")
    pool = layers.MaxPooling2D((2, 2)) if pooled else None
    conv.build((None, *shape[1:]))
    w, b = conv.get_weights()
    b = rng.normal(scale=0.1, size=b.shape).astype(np.float32)
    conv.set_weights([w, b])

    tx = minidl.Tensor(x, requires_grad=True)
    with minidl.profile() as prof:
        out = conv(tx)
        out = pool(out) if pooled else out
        r = rng.normal(size=out.shape)
        (out * minidl.Tensor(r.astype(np.float32))).sum().backward()
    assert kernel_name in {name for _, name, *_ in prof.rows()}, f"{path} did not run {kernel_name}"

    xt = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2).requires_grad_()
    wt = torch.from_numpy(w.astype(np.float64)).permute(3, 2, 0, 1).requires_grad_()
    bt = torch.from_numpy(b.astype(np.float64)).requires_grad_()
    padded = torch.nn.functional.pad(xt, _torch_padding(padding, kernel, strides, shape[1:3]))
    ot = torch.relu(torch.nn.functional.conv2d(padded, wt, bt, stride=strides))
    ot = torch.nn.functional.max_pool2d(ot, 2) if pooled else ot
    (ot * torch.from_numpy(r).permute(0, 3, 1, 2)).sum().backward()

    scale = float(np.abs(out.numpy()).max())
    np.testing.assert_allclose(out.numpy(), ot.detach().permute(0, 2, 3, 1).numpy(), atol=1e-5 * scale)
    for ours, theirs in [(tx.grad, xt.grad.permute(0, 2, 3, 1)), (conv.kernel.grad, wt.grad.permute(2, 3, 1, 0)),
                         (conv.bias.grad, bt.grad)]:
        theirs = theirs.numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-4 * max(np.abs(theirs).max(), 1.0))


def test_batch_normalization_matches_pytorch_in_training_and_inference():
    """Keras's momentum 0.99 is PyTorch's 0.01; epsilon 1e-3 in both; PyTorch's running
    variance is unbiased (n / (n - 1)), Keras's moving variance is the batch's biased one."""
    rng = np.random.default_rng(2)
    x = rng.normal(2.0, 3.0, size=(16, 5, 5, 4)).astype(np.float32)
    ours = layers.BatchNormalization(momentum=0.99, epsilon=1e-3)
    theirs = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=0.01).double()
    tx = minidl.Tensor(x, requires_grad=True)
    out = ours(tx, training=True)
    r = rng.normal(size=x.shape)
    (out * minidl.Tensor(r.astype(np.float32))).sum().backward()
    xt = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2).requires_grad_()
    theirs.train()
    ot = theirs(xt)
    (ot * torch.from_numpy(r).permute(0, 3, 1, 2)).sum().backward()
    np.testing.assert_allclose(out.numpy(), ot.detach().permute(0, 2, 3, 1).numpy(), atol=2e-5)
    np.testing.assert_allclose(tx.grad, xt.grad.permute(0, 2, 3, 1).numpy(), atol=2e-4)
    gamma, beta, moving_mean, moving_variance = ours.get_weights()
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(moving_mean, theirs.running_mean.numpy(), rtol=1e-5)
    n = x.shape[0] * x.shape[1] * x.shape[2]
    unbiased = 0.99 + 0.01 * x.reshape(-1, 4).astype(np.float64).var(axis=0) * n / (n - 1)
    np.testing.assert_allclose(theirs.running_var.numpy(), unbiased, rtol=1e-6)
    np.testing.assert_allclose(moving_variance, 0.99 + 0.01 * x.reshape(-1, 4).var(axis=0), rtol=1e-5)

    # inference: both normalise with their moving statistics (given the same ones)
    with torch.no_grad():
        theirs.running_var.copy_(torch.from_numpy(moving_variance.astype(np.float64)))
    theirs.eval()
    expected = theirs(xt).detach().permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours(x, training=False).numpy(), expected, atol=2e-5)


def test_dropout_at_inference_is_the_identity_as_in_pytorch():
    x = np.random.default_rng(3).normal(size=(8, 6)).astype(np.float32)
    theirs = torch.nn.Dropout(0.5).eval()
    expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(layers.Dropout(0.5)(x, training=False).numpy(), expected)
    model = minidl.Sequential([layers.Dropout(0.5, input_shape=(6,))])
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
