"""The new optimizers against torch.optim, where PyTorch has the same rule.

Same weights, same gradients, five steps each.  Where the two write a rule
differently, the arguments below convert one into the other:

- Adadelta: the same formula in both (epsilon inside both roots): compared as is.
- Nadam: PyTorch's NAdam warms its momentum up as 0.96^(t * momentum_decay);
  ``momentum_decay=1`` is Keras's 0.96^t, and both add epsilon to sqrt(v_hat).
- Adagrad: PyTorch starts the accumulator at 0 and adds epsilon outside the root
  (sqrt(a) + eps), Keras at 0.1 and inside (sqrt(a + eps)): PyTorch's
  ``initial_accumulator_value=0.1`` and an epsilon of 1e-12 on both sides.
- Adamax: PyTorch puts epsilon into the maximum (max(beta_2 u, |g| + eps)),
  Keras beside it (u + eps): a tiny epsilon makes the two agree.
- AdamW: PyTorch adds epsilon to the bias-corrected sqrt(v_hat), Keras to sqrt(v)
  (as for Adam); both decay by lr * weight_decay first: a tiny epsilon again.
Ftrl has no PyTorch counterpart (its figures come from tf_keras in test_optimizers_more.py).
"""

import numpy as np
import pytest

from minidl import Tensor, optimizers

torch = pytest.importorskip("torch")

EPS = 1e-12
PAIRS = {
    "adadelta": (lambda: optimizers.Adadelta(learning_rate=1.0, rho=0.9, epsilon=1e-6),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
    "nadam": (lambda: optimizers.Nadam(learning_rate=0.01, epsilon=1e-7),
              lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-7,
                                          momentum_decay=1.0)),
    "adagrad": (lambda: optimizers.Adagrad(learning_rate=0.1, epsilon=EPS),
                lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=EPS)),
    "adamax": (lambda: optimizers.Adamax(learning_rate=0.02, epsilon=EPS),
               lambda p: torch.optim.Adamax(p, lr=0.02, betas=(0.9, 0.999), eps=EPS)),
    "adamw": (lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1, epsilon=EPS),
              lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=EPS,
                                          weight_decay=0.1)),
    "adamw_amsgrad": (lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1, epsilon=EPS,
                                               amsgrad=True),
                      lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=EPS,
                                                  weight_decay=0.1, amsgrad=True)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_five_steps_match_pytorch(name):
    make_ours, make_theirs = PAIRS[name]
    rng = np.random.default_rng(4)
    start = rng.normal(size=(6, 5))
    # shrinking gradients, so that AMSGrad's running maximum differs from v
    grads = [rng.normal(size=(6, 5)) * 0.5**k for k in range(5)]
    ours = Tensor(start.copy(), requires_grad=True)
    theirs = torch.nn.Parameter(torch.from_numpy(start.copy()))
    optimizer, torch_optimizer = make_ours(), make_theirs([theirs])
    for g in grads:
        optimizer.apply_gradients([(g, ours)])
        theirs.grad = torch.from_numpy(g.copy())
        torch_optimizer.step()
    # PyTorch keeps NAdam's running product of momenta as a float32 scalar (its
    # _get_scalar_dtype()): ~1e-8 of a step; the others agree to rounding
    atol = 1e-9 if name == "nadam" else 1e-12
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-9, atol=atol)
    assert not np.allclose(ours.data, start)  # the steps moved the weights
