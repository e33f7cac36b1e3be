"""How many samples ``predict()`` runs through a model at once.

A CNN's layer outputs are large: at a batch of 1000 the tutorial CNN's first
convolution writes 87 MB, far more than the CPU's caches hold, so the next
layer reads it back from main memory.  In slices of 48 the same work runs
about 1.7x faster.  So ``predict()`` cuts a big batch into slices whose layer
outputs take at most ``SLICE_BYTES`` each -- but only for models where slicing
cannot change the result: Sequential and functional models made of minidl's
own layers, which at inference compute each sample on its own.  (A custom
layer might mix the samples of a batch, say by subtracting the batch mean;
models with one are never sliced.)  The outputs are those of the whole batch,
up to rounding in the last bits: a product over fewer rows may be split over
the threads differently.

A small model is not sliced at all: the tutorial MLP's largest output is 784
values per sample, so a batch of 1000 fits the budget.
"""

from __future__ import annotations

import math

SLICE_BYTES = 4 << 20  # about what one core's share of the caches holds


def predict_slice(model, batch_size):
    """The number of samples to run at once: ``batch_size``, or fewer (see above)."""
    sizes = _values_per_sample(model)
    if not sizes:
        return batch_size
    itemsize = max((w.data.itemsize for w in model.weights), default=4)
    return max(1, min(batch_size, SLICE_BYTES // (max(sizes) * itemsize)))


def _values_per_sample(model):
    """Values per sample of the model's inputs and of every layer's output, or None
    when the model may mix samples or its shapes are not all known."""
    from minidl.models.functional import Functional
    from minidl.models.sequential import Sequential

    if type(model) is Sequential and model._graph is not None:
        tensors = list(model._graph)
    elif type(model) is Functional:
        tensors = list(model.inputs) + [t for node in model._nodes for t in node.outputs]
    else:  # a subclassed model: its call() may do anything
        return None
    if not all(type(layer).__module__.startswith("minidl.layers.") for layer in model.layers):
        return None
    sizes = []
    for tensor in tensors:
        dims = tuple(tensor.shape)[1:]
        if not all(isinstance(d, int) for d in dims):
            return None
        sizes.append(math.prod(dims))
    return sizes
