"""``conv1d_transpose``: the transposed convolution of sequences (Keras's Conv1DTranspose).

A sequence batch ``x`` is (N, L, C) and the kernel ``w`` is (k, F, C), Keras's
layout (filters before inputs: it is the kernel of the convolution F -> C
that this op undoes).  Every input step adds a copy of the kernel, weighted
by its value, into the output steps it maps to:

    out[n, t*s + j*d, f] += x[n, t, c] * w[j, f, c]      (then "same" crops, + b[f])

Output steps, input ``n``, stride ``s``, span ``K = (k - 1) * d + 1`` (Keras's
``deconv_output_length``):

* ``"valid"``: ``n * s + max(K - s, 0)``, or ``(n - 1) * s + K + output_padding``
* ``"same"``: ``n * s``, or ``(n - 1) * s + K - 2 * (K // 2) + output_padding``

How it runs (no new kernel: the 2-D transposed convolution does the work):

* the sequences are images of height 1, (N, 1, L, C), and the kernel a
  (1, K, F, C) window along the width; the height (size 1, kernel 1,
  stride 1) stays 1.
* dilation d > 1 (stride 1, as Keras requires): the 2-D transposed
  convolution dilated by (1, d), which spreads the kernel out first, d - 1
  zeros after each of its k taps, cut to K.

Backward is the 2-D transposed convolution's, through the reshapes.
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor
from minidl.ops.conv2d_transpose import conv2d_transpose
from minidl.ops.shaping import reshape


def conv1d_transpose(x, w, b=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1):
    """conv1d_transpose(x, w) + b: x (N, L, C), w (k, F, C), b (F,) or None -> (N, OL, F).

    OL: see the module docstring.  ``output_padding``: None or an int smaller
    than ``strides``; ``strides`` > 1 with ``dilation_rate`` > 1 is refused, as
    in Keras.
    """
    w = as_tensor(w)
    x = as_tensor(x, w)
    strides = _positive(strides, "strides")
    dilation = _positive(dilation_rate, "dilation_rate")
    if strides > 1 and dilation > 1:
        raise ValueError(
            f"conv1d_transpose: strides > 1 together with dilation_rate > 1 is not supported "
            f"(as in Keras); received strides={strides}, dilation_rate={dilation}."
        )
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"conv1d_transpose: x must be (batch, steps, channels) and w (kernel_size, "
            f"filters, channels); received x {x.shape} and w {w.shape}."
        )
    n, length, channels = x.shape
    k, filters, kernel_channels = w.shape
    if kernel_channels != channels:
        raise ValueError(
            f"conv1d_transpose: x has {channels} channels (shape {x.shape}) but the kernel "
            f"{w.shape} expects {kernel_channels}."
        )
    if isinstance(output_padding, (tuple, list)) and len(output_padding) == 1:
        output_padding = output_padding[0]
    extra = None if output_padding is None else (0, output_padding)
    image = reshape(x, (n, 1, length, channels))
    out = conv2d_transpose(image, reshape(w, (1, *w.shape)), b, (1, strides), padding, extra,
                           (1, dilation))
    return reshape(out, (n, out.shape[2], filters))


def _positive(value, what):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"conv1d_transpose: {what} must be a positive integer, received {value!r}.")
    return value
