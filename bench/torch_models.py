"""M1..M6 in PyTorch: the same layers, Keras's initial hyperparameters, a plain loop.

Keras's optimizers differ from PyTorch's defaults, so they are set explicitly:
Adam ``eps=1e-7``; RMSprop ``alpha=0.9`` (Keras's ``rho``) and ``eps=1e-7``
(PyTorch adds eps outside the square root, Keras inside; same cost).  The
models end in logits and train with ``cross_entropy`` -- what Keras's
softmax + sparse categorical cross-entropy computes, fused.  Images arrive
NHWC like Keras's and are viewed as NCHW once per batch for the CNN.  M5 and
M6 use ``nn.LSTM(batch_first=True)`` and its last hidden state (what Keras's
``LSTM`` returns); M6 ends in one logit trained with
``binary_cross_entropy_with_logits`` (Keras's sigmoid + binary cross-entropy).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class LastState(nn.Module):
    """``nn.LSTM``'s last hidden state, ``(batch, units)``: Keras's ``LSTM`` output."""

    def __init__(self, features, units):
        super().__init__()
        self.lstm = nn.LSTM(features, units, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[1][0][0]


def build_torch(spec):
    """``(model, optimizer)`` for ``spec`` (a ``tutorial_models.ModelSpec``)."""
    if spec.recurrent == "rows":
        model = nn.Sequential(LastState(28, 128), nn.Linear(128, 10))
    elif spec.recurrent == "tokens":
        model = nn.Sequential(nn.Embedding(10000, 32), LastState(32, 32), nn.Linear(32, 1),
                              nn.Flatten(0))
    elif spec.conv:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        body, width = [nn.Flatten()], 784
        for units in spec.hidden:
            body += [nn.Linear(width, units), nn.ReLU()]
            width = units
        if spec.dropout:
            body.append(nn.Dropout(spec.dropout))
        body.append(nn.Linear(width, 10))
        model = nn.Sequential(*body)
    params = model.parameters()
    lr = spec.learning_rate
    if spec.optimizer == "adam":
        optimizer = torch.optim.Adam(params, lr=lr, eps=1e-7)
    elif spec.optimizer == "rmsprop":
        optimizer = torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    else:
        optimizer = torch.optim.SGD(params, lr=lr)
    return model, optimizer


def to_torch(spec, x):
    """The NHWC float32 images as a tensor in PyTorch's layout (NCHW for the CNN)."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    if spec.conv:
        t = t.permute(0, 3, 1, 2).contiguous()
    return t


def train(model, optimizer, x, y, batch_size, shuffle=True, max_steps=None):
    """One epoch of a plain training loop over tensors ``x``, ``y`` (shuffled like fit).

    ``max_steps`` stops the epoch early (the memory probe).  Float labels mean
    one sigmoid logit per sample (M6), integer labels a softmax over classes.
    """
    loss_fn = F.binary_cross_entropy_with_logits if y.is_floating_point() else F.cross_entropy
    model.train()
    n = x.shape[0]
    order = torch.randperm(n) if shuffle else torch.arange(n)
    if max_steps is not None:
        n = min(n, max_steps * batch_size)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        xb, yb = x[index], y[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    return loss.item()


def predict(model, x, batch_size):
    """Softmax probabilities for every row of ``x``, ``batch_size`` rows at a time (M1..M5)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            out.append(torch.softmax(model(x[start:start + batch_size]), dim=1))
    return torch.cat(out)
