"""``conv1d``: 1-D convolution of sequences, through the 2-D convolution.

A sequence batch ``x`` is (N, L, C): N sequences of L steps with C features
each; the kernel ``w`` is (k, C, F), Keras's layout.  Output step t of filter f
(stride s, dilation d):

    out[n, t, f] = act(b[f] + sum over j < k, c of x[n, t*s + j*d, c] * w[j, c, f])

Paddings, as Keras names them ("valid" adds nothing):

* ``"same"``: zeros on both sides (the extra one after) so that the output
  has ceil(L / s) steps;
* ``"causal"``: (k - 1) * d zeros in front only, so that output step t
  sees input steps t, t - d, ..., never a later one (for models that predict
  the next step: the future must not leak into the present).

How it runs (no new kernel: the 2-D convolution's kernels do the work):

* dilation 1: the sequences are images of height 1, (N, 1, L, C), and the
  kernel a (1, k, C, F) window sliding along the width (conv2d's "same"
  pads the width exactly as above, and nothing on the height).
* dilation d > 1 (stride 1, as Keras requires): cut the padded sequence into
  rows of d steps, (N, L/d, d, C).  Steps d apart are now vertical
  neighbours, so a (k, 1, C, F) window -- k rows, one column -- reads
  exactly x[t], x[t + d], ..., x[t + (k-1)d].  Read the output back row
  by row and keep the first steps.

Backward is the 2-D convolution's, through the reshapes, paddings and slices
(each an op with its own backward), so the gradients need no new calculus.
"""

from __future__ import annotations

import math

from minidl.ops._geometry import check_padding, output_size
from minidl.ops.arithmetic import as_tensor
from minidl.ops.conv2d import conv2d
from minidl.ops.dense import check_activation
from minidl.ops.resampling import zero_pad2d
from minidl.ops.shaping import getitem, reshape

PADDINGS = ("valid", "same", "causal")


def conv1d(x, w, b=None, strides=1, padding="valid", dilation_rate=1, activation="linear"):
    """act(conv1d(x, w) + b): x (N, L, C), w (k, C, F), b (F,) or None -> (N, OL, F).

    OL: "valid" (L - (k-1)*d - 1) // s + 1; "same" and "causal" ceil(L / s).
    ``strides`` > 1 with ``dilation_rate`` > 1 is refused, as in Keras.
    """
    w = as_tensor(w)
    x = as_tensor(x, w)
    strides, dilation = _positive(strides, "strides"), _positive(dilation_rate, "dilation_rate")
    padding = check_padding(padding, "conv1d", PADDINGS)
    check_activation(activation, "conv1d")
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"conv1d: x must be (batch, steps, channels) and w (kernel_size, channels, "
            f"filters); received x {x.shape} and w {w.shape}."
        )
    if strides > 1 and dilation > 1:
        raise ValueError(
            f"conv1d: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras); received strides={strides}, dilation_rate={dilation}."
        )
    n, length, channels = x.shape
    k, kernel_channels, filters = w.shape
    if kernel_channels != channels:
        raise ValueError(
            f"conv1d: x has {channels} channels (shape {x.shape}) but the kernel {w.shape} "
            f"expects {kernel_channels}."
        )
    if length == 0:
        raise ValueError(f"conv1d: received sequences of 0 steps (x of shape {x.shape}): there "
                         "is no step to convolve.")
    span = (k - 1) * dilation + 1  # the steps one output reads, first to last
    before, after = _padding(padding, length, span, strides)
    if length + before + after < span:
        raise ValueError(
            f"conv1d: a kernel spanning {span} steps (kernel_size {k}, dilation_rate "
            f"{dilation}) does not fit sequences of {length} steps with padding={padding!r}; "
            "use padding='same' or 'causal', or a smaller kernel."
        )
    image = reshape(x, (n, 1, length, channels))
    if dilation == 1:
        if padding == "causal":
            image = zero_pad2d(image, ((0, 0), (before, 0)))
        # "same" is conv2d's own (a (1, k) window pads only the width, as above)
        out = conv2d(image, reshape(w, (1, k, channels, filters)), b, (1, strides),
                     "same" if padding == "same" else "valid", activation)
        return reshape(out, (n, out.shape[2], filters))
    padded = length + before + after
    rows = math.ceil(padded / dilation)
    image = zero_pad2d(image, ((0, 0), (before, after + rows * dilation - padded)))
    image = reshape(image, (n, rows, dilation, channels))
    out = conv2d(image, reshape(w, (k, 1, channels, filters)), b, (1, 1), "valid", activation)
    out = reshape(out, (n, (rows - k + 1) * dilation, filters))
    return getitem(out, (slice(None), slice(0, padded - span + 1)))


def _padding(padding, length, span, strides):
    """Zeros (before, after) the sequence for ``padding`` (see the module docstring)."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out, before = output_size(length, span, strides, "same")
    total = max((out - 1) * strides + span - length, 0)
    return before, total - before


def _positive(value, what):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"conv1d: {what} must be a positive integer, received {value!r}.")
    return value
