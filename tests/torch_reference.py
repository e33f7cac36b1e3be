"""PyTorch as an independent oracle: run one function in minidl and in PyTorch on
the same float64 inputs, and compare the outputs and the gradients of
sum(output * weights) for fixed random weights.  Skips when torch is missing."""

import numpy as np
import pytest

from minidl import Tensor


def assert_matches_torch(minidl_fn, torch_fn, arrays, rtol=1e-7, atol=1e-10, seed=0):
    """``minidl_fn(*tensors)`` and ``torch_fn(*torch_tensors)`` agree in value and gradient."""
    torch = pytest.importorskip("torch")
    ours = [Tensor(np.array(a, np.float64), requires_grad=True) for a in arrays]
    out = minidl_fn(*ours)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weights)
    theirs = [torch.tensor(np.array(a, np.float64), requires_grad=True) for a in arrays]
    expected = torch_fn(*theirs)
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {index}")
