"""Hypothesis against every compiled kernel: it matches the reference or says ValueError.

``test_kernels.py`` checks valid arguments against the reference, and
``test_kernel_arguments.py`` a list of wrong ones (and random window
geometries on zero images).  Here hypothesis draws whole calls that are mostly
right and sometimes wrong in several ways at once: shapes (empty ones too),
dtypes, memory layouts (Fortran order, strided and reversed views, read-only
outputs), window sizes, strides and paddings, labels and argmax indices out of
range, and outputs that share memory with an input (the same array passed
twice, or overlapping views of one buffer).

The rule for every call: both backends raise the same ValueError and leave
every array as it was, or the compiled kernel leaves every array exactly as
the NumPy reference does (within float tolerance).  Any other exception, a
mismatch, or a crash fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from minidl._kernels import compiled, reference
from minidl._kernels.panel_checks import panels_shape

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN from sqrt of aliased buffers

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
ODD_DTYPES = (np.dtype(np.float16), np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.complex64),
              np.dtype(np.bool_))
LAYOUTS = ("C", "F", "strided", "reversed", "readonly")
FUZZ = settings(max_examples=60, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@dataclass(frozen=True)
class Arr:
    """How to make one array argument: shape, dtype, layout and what values it holds."""

    shape: tuple
    dtype: np.dtype
    layout: str = "C"
    values: str = "normal"  # normal | positive | unit | weights | labels:<C> | argmax:<size> | onehot
    output: bool = False
    alias_of: str | None = None  # name of an input whose memory this output shares
    alias_offset: int = 0


@dataclass
class Call:
    """A kernel call: argument names in order, each an Arr, None or a plain value."""

    kernel: str
    names: tuple
    args: dict
    seed: int

    def build(self):
        """Fresh arguments (same values every time: both backends get equal copies)."""
        rng = np.random.default_rng(self.seed)
        built = {}
        for name in self.names:
            spec = self.args[name]
            if isinstance(spec, Arr) and spec.alias_of is None:
                built[name] = _make(spec, rng)
            elif not isinstance(spec, Arr):
                built[name] = spec
        for name in self.names:
            spec = self.args[name]
            if isinstance(spec, Arr) and spec.alias_of is not None:
                built[name] = _alias(built[spec.alias_of], spec)
        return [built[name] for name in self.names]


def _values(spec, shape, rng):
    size = int(np.prod(shape, dtype=np.int64))
    kind, _, param = spec.values.partition(":")
    if kind == "labels":
        if int(param) == 0:
            return rng.integers(-1, 2, size=shape)
        return rng.integers(-1 if rng.random() < 0.1 else 0, int(param) + (rng.random() < 0.1), size=shape)
    if kind == "argmax":
        high = max(int(param), 1)
        low, high = (-2, high + 2) if rng.random() < 0.1 else (0, high)
        return rng.integers(low, high, size=shape)
    if kind == "mask":
        return rng.integers(0, 2, size=shape)
    if kind == "onehot":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])] if shape[-1] else np.zeros(shape)
    if kind == "unit":  # in [0, 1): an LSTM's gates as its forward left them
        return rng.random(size=shape)
    if kind == "weights":  # packed B (panels, k, 64) at an initializer's scale, 1 / sqrt(k)
        return rng.normal(size=size).reshape(shape) / np.sqrt(max(shape[-2], 1) if len(shape) > 1 else 1)
    values = rng.normal(size=size).reshape(shape)
    return np.abs(values) if kind == "positive" else values


def _make(spec, rng):
    values = _values(spec, spec.shape, rng)
    if spec.dtype.kind == "c":
        values = values + 0j
    if spec.layout == "strided" and len(spec.shape):
        big = np.zeros((spec.shape[0] * 2,) + spec.shape[1:], spec.dtype)
        array = big[::2]
        array[...] = values
    elif spec.layout == "reversed" and len(spec.shape):
        array = np.ascontiguousarray(values, dtype=spec.dtype)[::-1]
    elif spec.layout == "F":
        array = np.asfortranarray(values, dtype=spec.dtype)
    else:
        array = np.ascontiguousarray(values, dtype=spec.dtype)
    if spec.layout == "readonly":
        array.setflags(write=False)
    return array


def _alias(source, spec):
    """The output shares memory with ``source``: the very same array, or an overlapping view."""
    if spec.alias_offset == 0 and source.shape == spec.shape and source.dtype == spec.dtype:
        return source
    base = source.reshape(-1) if source.flags.c_contiguous else None
    size = int(np.prod(spec.shape, dtype=np.int64))
    if base is None or base.dtype != spec.dtype or spec.alias_offset + size > base.size:
        # a buffer holding the source's values, then our window onto it
        flat = np.zeros(max(source.size, spec.alias_offset + size), spec.dtype)
        return flat[spec.alias_offset:spec.alias_offset + size].reshape(spec.shape)
    return base[spec.alias_offset:spec.alias_offset + size].reshape(spec.shape)


def run(backend, call):
    """The call's arguments after the call, and the ValueError it raised (or None)."""
    args = call.build()
    try:
        getattr(backend, call.kernel)(*args)
    except ValueError as error:
        return args, error
    return args, None


def tolerance(arrays, kernel):
    dtype = next((a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype in FLOATS), np.float64)
    if kernel.startswith("conv2d_winograd"):
        # Winograd's transforms round relative to the largest values a tile mixes (see
        # test_kernels_winograd.py): the tolerance follows the scale of the inputs
        scale = max([float(np.max(np.abs(a), initial=0)) for a in arrays
                     if isinstance(a, np.ndarray) and a.dtype in FLOATS] + [1.0])
        return dict(rtol=3e-4, atol=(3e-5 if dtype == np.float32 else 1e-11) * scale ** 2)
    if kernel.startswith("lstm_sequence"):
        # a time loop: sums over steps and rows of terms as large as the states grow
        # (linear and relu gates), where a small result is the cancellation of big terms
        scale = max([float(np.nanmax(np.abs(a), initial=0)) for a in arrays
                     if isinstance(a, np.ndarray) and a.dtype in FLOATS] + [1.0])
        return dict(rtol=3e-4, atol=(3e-5 if dtype == np.float32 else 1e-11) * scale)
    return dict(rtol=3e-4, atol=3e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)



def check(call):
    """The rule: both backends refuse with the same ValueError and every array is left as
    it was built (a refused call changes nothing), or the compiled kernel leaves every
    array as the reference does."""
    got, refusal = run(compiled, call)
    expected, expected_refusal = run(reference, call)
    if refusal is not None:
        assert expected_refusal is not None, f"{call.kernel}: compiled refused a call the reference accepts ({refusal}): {call}"
        assert str(refusal) == str(expected_refusal), f"{call.kernel}: refused with {refusal!r} but the reference with {expected_refusal!r}: {call}"
        for name, a, fresh in zip(call.names, got, call.build()):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, fresh, err_msg=f"{call.kernel}: {name} written by a refused call")
        return "refused"
    assert expected_refusal is None, f"{call.kernel}: compiled accepted a call the reference refuses ({expected_refusal}): {call}"
    for name, a, b in zip(call.names, got, expected):
        if isinstance(a, np.ndarray):
            if a.dtype.kind in "iub":
                np.testing.assert_array_equal(a, b, err_msg=f"{call.kernel}: {name}")
            else:
                np.testing.assert_allclose(a, b, equal_nan=True, err_msg=f"{call.kernel}: {name}", **tolerance(got, call.kernel))
    return "matched"


# --- drawing calls ----------------------------------------------------------------------
@st.composite
def array_spec(draw, shape, dtype, values="normal", output=False, exact=False):
    """``shape``/``dtype`` as a correct call needs them, sometimes made wrong (never if ``exact``)."""
    shape = tuple(shape)
    if exact:
        return Arr(shape, np.dtype(dtype), "C", values, output)
    if draw(st.integers(0, 9)) == 0:  # a wrong shape: one size off, an axis more or less
        how = draw(st.sampled_from(["size", "more", "less"]))
        if how == "size" and shape:
            axis = draw(st.integers(0, len(shape) - 1))
            shape = shape[:axis] + (max(shape[axis] + draw(st.sampled_from([-1, 1])), 0),) + shape[axis + 1:]
        elif how == "more":
            shape = shape + (1,)
        elif shape:
            shape = shape[:-1]
    if draw(st.integers(0, 11)) == 0:
        dtype = draw(st.sampled_from(ODD_DTYPES))
    layout = "C" if draw(st.integers(0, 5)) else draw(st.sampled_from(LAYOUTS))
    return Arr(shape, np.dtype(dtype), layout, values, output)


def maybe_none(draw, spec):
    return None if draw(st.integers(0, 3)) == 0 else spec


@st.composite
def geometry(draw, h, w, exact=False):
    """kh, kw, sh, sw, pad_top, pad_left, out_h, out_w: usually valid, sometimes not."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pt, pl = draw(st.integers(0, max(kh - 1, 0))), draw(st.integers(0, max(kw - 1, 0)))
    extra_h, extra_w = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    out_h = max((h + pt + extra_h - kh) // sh + 1, 1)
    out_w = max((w + pl + extra_w - kw) // sw + 1, 1)
    while out_h > 1 and (out_h - 1) * sh - pt >= h:
        out_h -= 1
    while out_w > 1 and (out_w - 1) * sw - pl >= w:
        out_w -= 1
    values = [kh, kw, sh, sw, pt, pl, out_h, out_w]
    if not exact and draw(st.integers(0, 7)) == 0:  # one wrong number
        i = draw(st.integers(0, 7))
        values[i] = draw(st.sampled_from([-1, 0, values[i] + 1, values[i] + 5]))
    return values


def with_alias(draw, alias, call, outputs, inputs):
    """With ``alias``, make one output share memory with one input."""
    if not alias:
        return call
    out_name = draw(st.sampled_from(outputs))
    in_names = [n for n in inputs if isinstance(call.args[n], Arr)]
    if not isinstance(call.args[out_name], Arr) or not in_names:
        return call
    in_name = draw(st.sampled_from(in_names))
    source = call.args[in_name]
    out = call.args[out_name]
    offset = draw(st.sampled_from([0, 0, 1, 3]))
    call.args[in_name] = replace(source, layout="C", dtype=out.dtype)
    call.args[out_name] = replace(out, layout="C", alias_of=in_name, alias_offset=offset)
    return call


sizes = st.integers(0, 6)
# a few batches big enough for the compiled code's other paths: dense works in blocks
# of at least 256 rows, image loops go parallel above ~2**17 values
rows = st.one_of(sizes, sizes, sizes, st.sampled_from([255, 256, 257, 600]))
floats = st.sampled_from(FLOATS)
seeds = st.integers(0, 2**31 - 1)


@st.composite
def dense_calls(draw, alias=False):
    n, k, m, dtype = draw(rows), draw(sizes), draw(sizes), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    activation = draw(st.sampled_from(["linear", "relu", "sigmoid", "tanh", "relu", "softmax"]))
    if draw(st.booleans()):
        args = dict(x=a((n, k)), w=a((k, m)), b=maybe_none(draw, a((m,))), out=a((n, m), output=True),
                    activation=activation)
        call = Call("dense_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["out"], ["x", "w", "b"])
    args = dict(x=a((n, k)), w=a((k, m)), out=a((n, m), values="positive"), grad_out=a((n, m), output=True),
                grad_x=maybe_none(draw, a((n, k), output=True)), grad_w=a((k, m), output=True),
                grad_b=maybe_none(draw, a((m,), output=True)), activation=activation)
    call = Call("dense_backward", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["grad_out", "grad_x", "grad_w", "grad_b"], ["x", "w", "out"])


@st.composite
def gemm_calls(draw, alias=False):
    m, n, k, dtype = draw(sizes), draw(sizes), draw(sizes), draw(floats)
    ta, tb = draw(st.booleans()), draw(st.booleans())
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    args = dict(a=a((k, m) if ta else (m, k)), b=a((n, k) if tb else (k, n)), out=a((m, n), output=True),
                trans_a=ta, trans_b=tb, alpha=draw(st.sampled_from([1.0, -0.5, 0.0])),
                beta=draw(st.sampled_from([0.0, 1.0, 0.5])))
    return with_alias(draw, alias, Call("gemm", tuple(args), args, draw(seeds)), ["out"], ["a", "b"])


@st.composite
def image_calls(draw, alias=False):
    if draw(st.integers(0, 9)):
        n, h, w, c = draw(st.integers(0, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(0, 3))
    else:  # big enough for the parallel loops
        n, h, w, c = draw(st.integers(8, 12)), draw(st.integers(28, 32)), draw(st.integers(28, 32)), 16
    dtype = draw(floats)
    kh, kw, sh, sw, pt, pl, oh, ow = draw(geometry(h, w, exact=alias))
    window = dict(kh=kh, kw=kw, sh=sh, sw=sw, pad_top=pt, pad_left=pl)
    a = lambda shape, **kw_: draw(array_spec(shape, dtype, exact=alias, **kw_))  # noqa: E731
    image, pooled = (n, h, w, c), (n, max(oh, 0), max(ow, 0), c)
    cols = (n * max(oh, 0) * max(ow, 0), max(kh, 0) * max(kw, 0) * c)
    kernel = draw(st.sampled_from(["im2col", "col2im", "max_pool2d_forward", "max_pool2d_backward",
                                   "avg_pool2d_forward", "avg_pool2d_backward"]))
    if kernel == "im2col":
        args = dict(x=a(image), **window, out_h=oh, out_w=ow, cols=a(cols, output=True))
        outputs, inputs = ["cols"], ["x"]
    elif kernel == "col2im":
        args = dict(cols=a(cols), **window, out_h=oh, out_w=ow, grad_x=a(image, output=True))
        outputs, inputs = ["grad_x"], ["cols"]
    elif kernel == "max_pool2d_forward":
        args = dict(x=a(image), **window, out=a(pooled, output=True),
                    argmax=draw(array_spec(pooled, np.int64, output=True, exact=alias)))
        outputs, inputs = ["out"], ["x"]
    elif kernel == "max_pool2d_backward":
        args = dict(grad_out=a(pooled), argmax=draw(array_spec(pooled, np.int64, values=f"argmax:{h * w * c}", exact=alias)),
                    grad_x=a(image, output=True))
        outputs, inputs = ["grad_x"], ["grad_out"]
    elif kernel == "avg_pool2d_forward":
        args = dict(x=a(image), **window, out=a(pooled, output=True))
        outputs, inputs = ["out"], ["x"]
    else:
        args = dict(grad_out=a(pooled), **window, grad_x=a(image, output=True))
        outputs, inputs = ["grad_x"], ["grad_out"]
    return with_alias(draw, alias, Call(kernel, tuple(args), args, draw(seeds)), outputs, inputs)


@st.composite
def softmax_calls(draw, alias=False):
    n, c, dtype = draw(sizes), draw(st.integers(0, 6)), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    if draw(st.integers(0, 2)) == 0:  # softmax alone, a third of the calls
        args = dict(logits=a((n, c)), probs=a((n, c), output=True))
        call = Call("softmax_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["probs"], ["logits"])
    if draw(st.booleans()):
        labels = draw(array_spec((n,), np.int64, values=f"labels:{c}", exact=alias))
    else:
        labels = a((n, c), values="onehot")
    if draw(st.booleans()):
        args = dict(logits=a((n, c)), labels=labels, probs=a((n, c), output=True), losses=a((n,), output=True))
        call = Call("softmax_cross_entropy_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["probs", "losses"], ["logits", "labels"])
    args = dict(probs=a((n, c), values="positive"), labels=labels, grad_losses=a((n,)),
                grad_logits=a((n, c), output=True))
    call = Call("softmax_cross_entropy_backward", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["grad_logits"], ["probs", "labels", "grad_losses"])


@st.composite
def optimizer_calls(draw, alias=False):
    size, dtype = draw(st.integers(0, 40)), draw(floats)
    a = lambda **kw: draw(array_spec((size,), dtype, exact=alias, **kw))  # noqa: E731
    kernel = draw(st.sampled_from(["sgd_update", "rmsprop_update", "adam_update"]))
    if kernel == "sgd_update":
        args = dict(param=a(output=True), grad=a(), velocity=maybe_none(draw, a(output=True)), lr=0.1,
                    momentum=draw(st.sampled_from([0.0, 0.9])), nesterov=draw(st.booleans()))
        outputs = ["param", "velocity"]
    elif kernel == "rmsprop_update":
        args = dict(param=a(output=True), grad=a(), mean_square=a(values="positive", output=True),
                    momentum_buffer=maybe_none(draw, a(output=True)), lr=0.01, rho=0.9,
                    momentum=draw(st.sampled_from([0.0, 0.9])), epsilon=1e-7)
        outputs = ["param", "mean_square", "momentum_buffer"]
    else:
        args = dict(param=a(output=True), grad=a(), m=a(output=True), v=a(values="positive", output=True),
                    v_max=maybe_none(draw, a(values="positive", output=True)), lr_t=0.01, beta_1=0.9,
                    beta_2=0.999, epsilon=1e-7)
        outputs = ["param", "m", "v", "v_max"]
    call = Call(kernel, tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, outputs, ["grad"])


@st.composite
def direct_conv_calls(draw, alias=False):
    n, h, w, c = draw(st.integers(0, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(0, 3))
    f, dtype = draw(st.sampled_from([0, 1, 5, 16, 17, 32])), draw(floats)
    kh, kw, sh, sw, pt, pl, oh, ow = draw(geometry(h, w, exact=alias))
    a = lambda shape, **kw_: draw(array_spec(shape, dtype, exact=alias, **kw_))  # noqa: E731
    image, kernel, out = (n, h, w, c), (max(kh, 0), max(kw, 0), c, f), (n, max(oh, 0), max(ow, 0), f)
    activation = draw(st.sampled_from(["linear", "relu", "sigmoid", "tanh", "softmax"]))
    conv = dict(sh=sh, sw=sw, pad_top=pt, pad_left=pl)
    if draw(st.booleans()):
        args = dict(x=a(image), w=a(kernel), b=maybe_none(draw, a((f,))), **conv, out=a(out, output=True),
                    activation=activation)
        call = Call("conv2d_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["out"], ["x", "w", "b"])
    args = dict(x=a(image), w=a(kernel), out=a(out, values="positive"), grad_out=a(out), **conv,
                grad_x=maybe_none(draw, a(image, output=True)), grad_w=a(kernel, output=True),
                grad_b=maybe_none(draw, a((f,), output=True)), activation=activation)
    call = Call("conv2d_backward", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["grad_x", "grad_w", "grad_b"], ["x", "w", "out", "grad_out"])


@st.composite
def winograd_conv_calls(draw, alias=False):
    """conv2d_winograd_*: mostly 3x3 kernels (what they are for; other sizes are refused),
    sometimes batches with enough tiles for several chunks on several threads."""
    n = draw(st.one_of(st.integers(0, 3), st.sampled_from([17, 40])))
    h, w, c = draw(st.integers(1, 11)), draw(st.integers(1, 11)), draw(st.integers(0, 3))
    f, dtype = draw(st.sampled_from([0, 1, 5, 16, 17, 32])), draw(floats)
    kh, kw, _, _, pt, pl, oh, ow = draw(geometry(h, w, exact=alias))
    if draw(st.integers(0, 4)):
        kh = kw = 3
        pt, pl = min(pt, 2), min(pl, 2)
        oh, ow = draw(st.integers(1, max(h + pt, 1))), draw(st.integers(1, max(w + pl, 1)))
    a = lambda shape, **kw_: draw(array_spec(shape, dtype, exact=alias, **kw_))  # noqa: E731
    image, kernel, out = (n, h, w, c), (max(kh, 0), max(kw, 0), c, f), (n, max(oh, 0), max(ow, 0), f)
    activation = draw(st.sampled_from(["linear", "relu", "sigmoid", "tanh", "softmax"]))
    if draw(st.booleans()):
        args = dict(x=a(image), w=a(kernel), b=maybe_none(draw, a((f,))), pad_top=pt, pad_left=pl,
                    out=a(out, output=True), activation=activation)
        call = Call("conv2d_winograd_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["out"], ["x", "w", "b"])
    args = dict(x=a(image), w=a(kernel), out=a(out, values="positive"), grad_out=a(out), pad_top=pt,
                pad_left=pl, grad_x=maybe_none(draw, a(image, output=True)),
                grad_w=a(kernel, output=True), grad_b=maybe_none(draw, a((f,), output=True)),
                activation=activation)
    call = Call("conv2d_winograd_backward", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["grad_x", "grad_w", "grad_b"], ["x", "w", "out", "grad_out"])


@st.composite
def embedding_calls(draw, alias=False):
    n, vocabulary, width, dtype = draw(rows), draw(sizes), draw(sizes), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    indices = draw(array_spec((n,), np.int64, values=f"argmax:{vocabulary}", exact=alias))
    if draw(st.booleans()):
        args = dict(indices=indices, weights=a((vocabulary, width)), out=a((n, width), output=True))
        call = Call("embedding_forward", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["out"], ["indices", "weights"])
    args = dict(indices=indices, grad_out=a((n, width)),
                grad_weights=a((vocabulary, width), output=True))
    call = Call("embedding_backward", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["grad_weights"], ["indices", "grad_out"])


@st.composite
def recurrent_calls(draw, alias=False):
    """The step kernels of recurrent.pyx: LSTM, GRU and SimpleRNN, forward and backward."""
    n, u, dtype = draw(rows), draw(sizes), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    mask = maybe_none(draw, draw(array_spec((n,), np.uint8, values="mask", exact=alias)))
    act = draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "softsign"]))
    ract = draw(st.sampled_from(["sigmoid", "hard_sigmoid", "tanh"]))
    kernel = draw(st.sampled_from(["lstm_step_forward", "lstm_step_backward", "gru_step_forward",
                                   "gru_step_backward", "rnn_step_forward", "rnn_step_backward"]))
    if kernel == "lstm_step_forward":
        args = dict(gates=a((n, 4 * u), output=True), c_prev=a((n, u)), h_prev=a((n, u)),
                    c=a((n, u), output=True), h=a((n, u), output=True), mask=mask,
                    activation=act, recurrent_activation=ract)
        outputs, inputs = ["gates", "c", "h"], ["c_prev", "h_prev", "mask"]
    elif kernel == "lstm_step_backward":
        args = dict(gates=a((n, 4 * u), values="positive"), c_prev=a((n, u)), c=a((n, u)),
                    grad_h=a((n, u)), grad_c=a((n, u)), mask=mask,
                    grad_gates=a((n, 4 * u), output=True), grad_c_prev=a((n, u), output=True),
                    grad_h_prev=a((n, u), output=True), activation=act,
                    recurrent_activation=ract)
        outputs = ["grad_gates", "grad_c_prev", "grad_h_prev"]
        inputs = ["gates", "c_prev", "c", "grad_h", "grad_c", "mask"]
    elif kernel == "gru_step_forward":
        args = dict(gates=a((n, 3 * u), output=True), rec=a((n, 3 * u)), h_prev=a((n, u)),
                    h=a((n, u), output=True), mask=mask, activation=act,
                    recurrent_activation=ract)
        outputs, inputs = ["gates", "h"], ["rec", "h_prev", "mask"]
    elif kernel == "gru_step_backward":
        args = dict(gates=a((n, 3 * u), values="positive"), rec=a((n, 3 * u)), h_prev=a((n, u)),
                    grad_h=a((n, u)), mask=mask, grad_gates=a((n, 3 * u), output=True),
                    grad_rec=a((n, 3 * u), output=True), grad_h_prev=a((n, u), output=True),
                    activation=act, recurrent_activation=ract)
        outputs = ["grad_gates", "grad_rec", "grad_h_prev"]
        inputs = ["gates", "rec", "h_prev", "grad_h", "mask"]
    elif kernel == "rnn_step_forward":
        args = dict(pre=a((n, u), output=True), h_prev=a((n, u)), mask=mask, activation=act)
        outputs, inputs = ["pre"], ["h_prev", "mask"]
    else:
        args = dict(h=a((n, u)), grad_h=a((n, u)), mask=mask, grad_pre=a((n, u), output=True),
                    grad_h_prev=a((n, u), output=True), activation=act)
        outputs, inputs = ["grad_pre", "grad_h_prev"], ["h", "grad_h", "mask"]
    return with_alias(draw, alias, Call(kernel, tuple(args), args, draw(seeds)), outputs, inputs)


@st.composite
def gru_reset_before_calls(draw, alias=False):
    """The four passes of a GRU(reset_after=False) step, forward and backward."""
    n, u, dtype = draw(rows), draw(sizes), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    mask = maybe_none(draw, draw(array_spec((n,), np.uint8, values="mask", exact=alias)))
    act = draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "softsign"]))
    ract = draw(st.sampled_from(["sigmoid", "hard_sigmoid", "tanh", "elu"]))
    kernel = draw(st.sampled_from(["gates_forward", "state_forward", "candidate_backward",
                                   "gates_backward"]))
    if kernel == "gates_forward":
        args = dict(gates=a((n, 3 * u), output=True), rec=a((n, 2 * u)), dropped_h=a((n, u)),
                    reset_h=a((n, u), output=True), recurrent_activation=ract)
        outputs, inputs = ["gates", "reset_h"], ["rec", "dropped_h"]
    elif kernel == "state_forward":
        args = dict(gates=a((n, 3 * u), output=True, values="positive"), rec_h=a((n, u)),
                    h_prev=a((n, u)), h=a((n, u), output=True), mask=mask, activation=act)
        outputs, inputs = ["gates", "h"], ["rec_h", "h_prev", "mask"]
    elif kernel == "candidate_backward":
        args = dict(gates=a((n, 3 * u), values="positive"), grad_h=a((n, u)), mask=mask,
                    grad_candidate=a((n, u), output=True), activation=act)
        outputs, inputs = ["grad_candidate"], ["gates", "grad_h", "mask"]
    else:
        args = dict(gates=a((n, 3 * u), values="positive"), h_prev=a((n, u)),
                    dropped_h=a((n, u)), grad_h=a((n, u)), grad_reset_h=a((n, u)), mask=mask,
                    grad_gates=a((n, 2 * u), output=True), grad_dropped=a((n, u), output=True),
                    grad_h_prev=a((n, u), output=True), recurrent_activation=ract)
        outputs = ["grad_gates", "grad_dropped", "grad_h_prev"]
        inputs = ["gates", "h_prev", "dropped_h", "grad_h", "grad_reset_h", "mask"]
    call = Call(f"gru_reset_before_{kernel}", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, outputs, inputs)


@st.composite
def packed_gemm_calls(draw, alias=False):
    """pack_panels and packed_gemm (an LSTM's recurrent products); now and then a
    packed array with one panel too many or too few."""
    m, k, n, dtype = draw(rows), draw(sizes), draw(sizes), draw(floats)
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=alias, **kw))  # noqa: E731
    panels = -(-n // 64) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    if draw(st.booleans()):
        trans_b = draw(st.booleans())
        args = dict(b=a((n, k) if trans_b else (k, n)), out=a((max(panels, 0), k, 64), output=True),
                    trans_b=trans_b)
        call = Call("pack_panels", tuple(args), args, draw(seeds))
        return with_alias(draw, alias, call, ["out"], ["b"])
    trans_a = draw(st.booleans())
    args = dict(a=a((k, m) if trans_a else (m, k)), packed=a((max(panels, 0), k, 64)),
                out=a((m, n), output=True), accumulate=draw(st.booleans()), trans_a=trans_a)
    call = Call("packed_gemm", tuple(args), args, draw(seeds))
    return with_alias(draw, alias, call, ["out"], ["a", "packed"])


@st.composite
def lstm_sequence_calls(draw, alias=False):
    """lstm_sequence_forward and _backward (an LSTM's whole time loop): T steps of N rows,
    F features, U units (4U crosses the 64 columns of a panel from U = 17 on), K = F + U
    (+ 1 with a bias) columns of xh.  Half the calls draw every array right, half loose
    (``array_spec``'s wrong shapes, dtypes and layouts); a quarter get one argument wrong on
    purpose: a panel too many, masks of the wrong length, xh with K off by 2, grad_gates of
    the wrong shape, first=2, features=-1..."""
    t, f, u = draw(st.integers(0, 4)), draw(st.integers(0, 4)), draw(st.integers(0, 20))
    # a few batches big enough for the threads of the products (and, with U >= 16 and 1024
    # rows, of the gate passes)
    n = draw(st.one_of(sizes, sizes, sizes, st.sampled_from([600, 1024])))
    k, dtype = f + u + draw(st.integers(0, 1)), draw(floats)
    exact = alias or draw(st.booleans())
    a = lambda shape, **kw: draw(array_spec(shape, dtype, exact=exact, **kw))  # noqa: E731
    act = draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear", "hard_sigmoid", "softsign"]))
    ract = draw(st.sampled_from(["sigmoid", "hard_sigmoid", "tanh"]))
    shapes = dict(xh=(t, n, k), gates=(t, n, 4 * u), states=(t + 1, n, u), masks=(t, n),
                  dropout=(n, u), grad_state=(n, u), grad_steps=(t, n, u), grad_gates=(t, n, 4 * u),
                  grad_stacked=(k, 4 * u), packed=panels_shape(k, 4 * u),
                  packed_ut=panels_shape(4 * u, u))
    if draw(st.booleans()):
        shapes["grad_gates"] = (n, 4 * u)  # one step's dL/dz at a time
    numbers = dict(features=f, first=draw(st.integers(0, 1)))
    if not alias and draw(st.integers(0, 3)) == 0:  # one argument wrong on purpose
        wrongs = dict(
            packed=(shapes["packed"][0] + 1,) + shapes["packed"][1:],
            packed_ut=(shapes["packed_ut"][0] + 1,) + shapes["packed_ut"][1:],
            masks=(t, n + 1), xh=(t, n, k + 2), grad_gates=(t + 1, n, 4 * u),
            grad_stacked=(k + 1, 4 * u), states=(0, n, u), dropout=(n, u + 1),
            grad_state=(n + 1, u))
        if k >= 2:
            wrongs["xh"] = draw(st.sampled_from([(t, n, k + 2), (t, n, k - 2)]))
        key = draw(st.sampled_from(sorted(wrongs) + ["features", "first"]))
        if key == "features":
            numbers["features"] = draw(st.sampled_from([-1, f + 2, k + 1]))
        elif key == "first":
            numbers["first"] = draw(st.sampled_from([2, -1]))
        else:
            shapes[key] = wrongs[key]
    masks = maybe_none(draw, draw(array_spec(shapes["masks"], np.uint8, values="mask", exact=exact)))
    dropout = maybe_none(draw, a(shapes["dropout"], values="positive"))
    common = dict(activation=act, recurrent_activation=ract)
    # the weights at an initializer's scale: standard normal ones make "linear" and "relu"
    # states grow ~sqrt(K) times a step, to hundreds, and the float32 rounding of the
    # products that then cancel leaves both backends up to ~1% from the float64 answer
    # (each its own)
    if draw(st.booleans()):
        args = dict(xh=a(shapes["xh"], output=True), packed=a(shapes["packed"], values="weights"),
                    gates=a(shapes["gates"], output=True), cells=a(shapes["states"], output=True),
                    hidden=a(shapes["states"], output=True), masks=masks, dropout=dropout,
                    features=numbers["features"], **common)
        outputs, inputs = ["xh", "gates", "cells", "hidden"], ["packed", "dropout"]
        kernel = "lstm_sequence_forward"
    else:
        args = dict(xh=a(shapes["xh"]), packed_ut=a(shapes["packed_ut"], values="weights"),
                    gates=a(shapes["gates"], values="unit"), cells=a(shapes["states"]),
                    grad_steps=maybe_none(draw, a(shapes["grad_steps"])),
                    grad_h=a(shapes["grad_state"], output=True), grad_c=a(shapes["grad_state"], output=True),
                    masks=masks, dropout=dropout, grad_gates=a(shapes["grad_gates"], output=True),
                    grad_stacked=a(shapes["grad_stacked"], output=True), **numbers, **common)
        outputs = ["grad_h", "grad_c", "grad_gates", "grad_stacked"]
        inputs = ["xh", "packed_ut", "gates", "cells", "grad_steps", "dropout"]
        kernel = "lstm_sequence_backward"
    call = Call(kernel, tuple(args), args, draw(seeds))
    if not alias:
        return call
    # an output over an input, or over another output (the forward's cells and hidden are
    # inputs too: their row 0 is the initial state); not over the uint8 masks, which
    # with_alias would make float (a dtype refusal, not an overlap)
    out_name = draw(st.sampled_from(outputs))
    return with_alias(draw, alias, call, [out_name], [name for name in outputs + inputs if name != out_name])


FAMILIES = {
    "dense": dense_calls, "gemm": gemm_calls, "images": image_calls, "direct-conv": direct_conv_calls,
    "winograd-conv": winograd_conv_calls, "softmax": softmax_calls, "optimizers": optimizer_calls,
    "embedding": embedding_calls,
    "recurrent": recurrent_calls,
    "gru-reset-before": gru_reset_before_calls,
    "packed-gemm": packed_gemm_calls,
    "lstm-sequence": lstm_sequence_calls,
}


# --- calls the fuzzer once caught out, kept as regression tests ------------------------
def _arr(shape, dtype=np.float32, **kw):
    return Arr(tuple(shape), np.dtype(dtype), **kw)


FOUND = {
    "gemm-with-k-0-scales-out-by-beta": Call(
        "gemm", ("a", "b", "out", "trans_a", "trans_b", "alpha", "beta"),
        dict(a=_arr((2, 0)), b=_arr((0, 3)), out=_arr((2, 3), output=True), trans_a=False, trans_b=False,
             alpha=1.0, beta=0.5), seed=1),
    "max-pool-backward-of-an-empty-batch": Call(
        "max_pool2d_backward", ("grad_out", "argmax", "grad_x"),
        dict(grad_out=_arr((0, 2, 2, 1)), argmax=_arr((0, 2, 2, 1), np.int64, values="argmax:16"),
             grad_x=_arr((0, 4, 4, 1), output=True)), seed=1),
    "softmax-probs-written-over-the-logits": Call(
        "softmax_cross_entropy_forward", ("logits", "labels", "probs", "losses"),
        dict(logits=_arr((3, 4)), labels=_arr((3,), np.int64, values="labels:4"),
             probs=_arr((3, 4), output=True, alias_of="logits"), losses=_arr((3,), output=True)), seed=1),
}


@pytest.mark.parametrize("call", list(FOUND.values()), ids=list(FOUND))
def test_found_by_fuzzing(call):
    check(call)


# Found beside the fuzzing (which draws whole numbers and named activations only): the
# compiled kernels took sizes, strides and paddings as Py_ssize_t and the activation as
# str, converted before the checks ran, so True passed as 1 where the reference refuses
# a bool, and 1.0 or None raised Cython's TypeError where the reference names the
# argument.  Now they take them as objects and the one check refuses them alike.
def _lstm_backward(first):
    names = ("xh", "packed_ut", "gates", "cells", "grad_steps", "grad_h", "grad_c", "masks",
             "dropout", "grad_gates", "grad_stacked", "features", "first")
    args = dict(xh=_arr((2, 3, 6)), packed_ut=_arr((1, 12, 64), values="weights"),
                gates=_arr((2, 3, 12), values="unit"), cells=_arr((3, 3, 3)), grad_steps=None,
                grad_h=_arr((3, 3), output=True), grad_c=_arr((3, 3), output=True), masks=None,
                dropout=None, grad_gates=_arr((3, 12), output=True),
                grad_stacked=_arr((6, 12), output=True), features=2, first=first)
    return Call("lstm_sequence_backward", names, args, seed=1)


WHOLE_NUMBERS = {
    "lstm-forward-features-True": Call(
        "lstm_sequence_forward",
        ("xh", "packed", "gates", "cells", "hidden", "masks", "dropout", "features"),
        dict(xh=_arr((2, 3, 5), output=True), packed=_arr((1, 5, 64), values="weights"),
             gates=_arr((2, 3, 12), output=True), cells=_arr((3, 3, 3), output=True),
             hidden=_arr((3, 3, 3), output=True), masks=None, dropout=None, features=True),
        seed=1),
    "lstm-backward-first-True": _lstm_backward(True),
    "lstm-backward-first-1.0": _lstm_backward(1.0),
}
_CONV = dict(x=_arr((1, 4, 4, 2)), w=_arr((3, 3, 2, 3)), b=None, sh=1, sw=1, pad_top=0,
             pad_left=0, out=_arr((1, 2, 2, 3), output=True), activation="linear")
for _name, _value in (("True", True), ("1.0", 1.0)):  # each where 1 is a right value
    _IMAGE = dict(kh=2, kw=2, sh=_value, sw=1, pad_top=0, pad_left=0)
    WHOLE_NUMBERS[f"im2col-stride-{_name}"] = Call(
        "im2col", ("x", *_IMAGE, "out_h", "out_w", "cols"),
        dict(x=_arr((1, 4, 4, 2)), **_IMAGE, out_h=3, out_w=3, cols=_arr((9, 8), output=True)),
        seed=1)
    WHOLE_NUMBERS[f"col2im-stride-{_name}"] = Call(
        "col2im", ("cols", *_IMAGE, "out_h", "out_w", "grad_x"),
        dict(cols=_arr((9, 8)), **_IMAGE, out_h=3, out_w=3, grad_x=_arr((1, 4, 4, 2), output=True)),
        seed=1)
    WHOLE_NUMBERS[f"max-pool-stride-{_name}"] = Call(
        "max_pool2d_forward", ("x", *_IMAGE, "out", "argmax"),
        dict(x=_arr((1, 4, 4, 2)), **_IMAGE, out=_arr((1, 3, 3, 2), output=True),
             argmax=_arr((1, 3, 3, 2), np.int64, output=True)), seed=1)
    WHOLE_NUMBERS[f"avg-pool-backward-stride-{_name}"] = Call(
        "avg_pool2d_backward", ("grad_out", *_IMAGE, "grad_x"),
        dict(grad_out=_arr((1, 3, 3, 2)), **_IMAGE, grad_x=_arr((1, 4, 4, 2), output=True)),
        seed=1)
    WHOLE_NUMBERS[f"conv-stride-{_name}"] = Call(
        "conv2d_forward", tuple(_CONV), {**_CONV, "sw": _value}, seed=1)
    WHOLE_NUMBERS[f"winograd-padding-{_name}"] = Call(
        "conv2d_winograd_forward", ("x", "w", "b", "pad_top", "pad_left", "out", "activation"),
        dict(x=_arr((1, 4, 4, 2)), w=_arr((3, 3, 2, 3)), b=None, pad_top=_value, pad_left=1,
             out=_arr((1, 4, 4, 3), output=True), activation="linear"), seed=1)
for _value in (None, 3, "Relu"):
    WHOLE_NUMBERS[f"dense-activation-{_value}"] = Call(
        "dense_forward", ("x", "w", "b", "out", "activation"),
        dict(x=_arr((2, 3)), w=_arr((3, 4)), b=None, out=_arr((2, 4), output=True),
             activation=_value), seed=1)
    WHOLE_NUMBERS[f"conv-activation-{_value}"] = Call(
        "conv2d_forward", tuple(_CONV), {**_CONV, "activation": _value}, seed=1)


@pytest.mark.parametrize("call", list(WHOLE_NUMBERS.values()), ids=list(WHOLE_NUMBERS))
def test_whole_number_arguments_checked_alike(call):
    check(call)


# --- the fuzzing ---------------------------------------------------------------------
@pytest.mark.parametrize("family", list(FAMILIES))
def test_fuzz_matches_reference_or_refuses(family):
    @FUZZ
    @given(call=FAMILIES[family]())
    def fuzz(call):
        check(call)

    fuzz()


def aliased(call):
    return any(isinstance(spec, Arr) and spec.alias_of for spec in call.args.values())


# Outputs that share memory with an input: the compiled loops would read what they
# have already overwritten (and BLAS forbids it outright), while the reference works
# on copies.  Such a call must be refused, or give the reference's answer.
@pytest.mark.parametrize("family", list(FAMILIES))
def test_fuzz_aliased_outputs_match_reference_or_refuse(family):
    @settings(FUZZ, max_examples=100)
    @given(call=FAMILIES[family](alias=True))
    def fuzz(call):
        assume(aliased(call))  # (a call without array inputs cannot alias)
        check(call)

    fuzz()


def test_the_fuzzer_reaches_both_outcomes():
    """Guard against a fuzzer that only ever builds refused (or only valid) calls."""
    outcomes = {"refused": 0, "matched": 0}

    @settings(FUZZ, max_examples=150)
    @given(call=st.one_of(*(family() for family in FAMILIES.values())))
    def count(call):
        outcomes[check(call)] += 1

    count()
    assert outcomes["refused"] >= 10 and outcomes["matched"] >= 10, outcomes
