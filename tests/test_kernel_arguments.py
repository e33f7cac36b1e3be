"""Bad arguments to any kernel end in a ValueError from Python, never a crash."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl._kernels import compiled, reference

f32 = np.float32


def z(*shape, dtype=f32):
    return np.zeros(shape, dtype)


# (kernel name, arguments) -- each one wrong in exactly one way
BAD_CALLS = [
    ("dense_forward", (z(4, 3), z(5, 2), None, z(4, 2), "linear")),          # inner sizes differ
    ("dense_forward", (z(4, 3), z(3, 2), z(3), z(4, 2), "linear")),          # bias size
    ("dense_forward", (z(4, 3), z(3, 2), None, z(4, 3), "linear")),          # out shape
    ("dense_forward", (z(4, 3), z(3, 2, dtype=np.float64), None, z(4, 2), "linear")),  # mixed dtypes
    ("dense_forward", (z(4, 3, dtype=np.int32), z(3, 2), None, z(4, 2), "linear")),    # ints
    ("dense_forward", (z(3, 4).T, z(3, 2), None, z(4, 2), "linear")),        # not contiguous
    ("dense_forward", (z(4, 3), z(3, 2), None, z(4, 2), "softmax")),         # not a fused activation
    ("dense_forward", ([[0.0] * 3] * 4, z(3, 2), None, z(4, 2), "linear")),  # a list
    ("dense_forward", (z(4, 3, 1), z(3, 2), None, z(4, 2), "linear")),       # rank
    ("dense_backward", (z(4, 3), z(3, 2), z(4, 2), z(4, 2), z(4, 3), z(2, 3), None, "relu")),
    ("dense_backward", (z(4, 3), z(3, 2), z(4, 2), z(4, 3), z(4, 3), z(3, 2), None, "relu")),
    ("gemm", (z(2, 3), z(2, 3), z(2, 3))),
    ("gemm", (z(2, 3), z(3, 4), z(2, 5))),
    ("im2col", (z(1, 5, 5, 2), 3, 3, 1, 1, 0, 0, 3, 3, z(9, 17))),           # cols shape
    ("im2col", (z(1, 5, 5, 2), 3, 3, 0, 1, 0, 0, 3, 3, z(9, 18))),           # zero stride
    ("im2col", (z(1, 5, 5, 2), 3, 3, -1, 1, 0, 0, 3, 3, z(9, 18))),          # negative stride
    ("im2col", (z(1, 5, 5, 2), 3, 3, 1, 1, -1, 0, 3, 3, z(9, 18))),          # negative padding
    ("im2col", (z(1, 5, 5, 2), 3, 3, 1, 1, 3, 0, 3, 3, z(9, 18))),           # padding >= kernel
    ("im2col", (z(1, 5, 5, 2), 3, 3, 1, 1, 0, 0, 9, 3, z(27, 18))),          # output past input
    ("im2col", (z(5, 5, 2), 3, 3, 1, 1, 0, 0, 3, 3, z(9, 18))),              # rank
    ("col2im", (z(9, 18), 3, 3, 1, 1, 0, 0, 3, 3, z(1, 5, 5, 3))),           # channels
    ("max_pool2d_forward", (z(1, 4, 4, 2), 2, 2, 2, 2, 0, 0, z(1, 2, 2, 2), z(1, 2, 2, 2))),  # argmax float
    ("max_pool2d_forward", (z(1, 4, 4, 2), 2, 2, 2, 2, 0, 0, z(1, 2, 2, 3), z(1, 2, 2, 3, dtype=np.int64))),
    ("max_pool2d_forward", (z(1, 4, 4, 2), 2, 2, 2, 2, 0, 0, z(1, 5, 2, 2), z(1, 5, 2, 2, dtype=np.int64))),
    ("max_pool2d_backward", (z(1, 2, 2, 2), np.full((1, 2, 2, 2), 10**9), z(1, 4, 4, 2))),   # index out of range
    ("max_pool2d_backward", (z(1, 2, 2, 2), np.full((1, 2, 2, 2), -1), z(1, 4, 4, 2))),
    ("max_pool2d_backward", (z(1, 2, 2, 2), np.zeros((1, 2, 2, 3), np.int64), z(1, 4, 4, 2))),
    ("avg_pool2d_forward", (z(1, 4, 4, 2), 5, 5, 4, 4, 0, 0, z(1, 2, 2, 2))),  # window past input
    ("avg_pool2d_backward", (z(1, 2, 2, 2), 2, 2, 2, 2, 0, 0, z(2, 4, 4, 2))),
    ("softmax_forward", (z(3, 4), z(3, 5))),                                  # probs shape
    ("softmax_forward", (z(3, 4), z(4, 4))),                                  # probs rows
    ("softmax_forward", (z(3, 0), z(3, 0))),                                  # no classes
    ("softmax_forward", (z(3, 4), z(3, 4, dtype=np.float64))),                # mixed dtypes
    ("softmax_forward", (z(3, 4, dtype=np.int32), z(3, 4, dtype=np.int32))),  # ints
    ("softmax_forward", (z(4, 3).T, z(3, 4))),                                # logits F-order
    ("softmax_forward", (z(3, 4), z(4, 3).T)),                                # probs F-order
    ("softmax_forward", (z(3, 8)[:, ::2], z(3, 4))),                          # strided
    ("softmax_forward", (z(12), z(12))),                                      # rank
    ("softmax_forward", ([[0.0] * 4] * 3, z(3, 4))),                          # a list
    ("softmax_forward", (z(3, 4), None)),                                     # no output
    ("softmax_cross_entropy_forward", (z(3, 4), np.array([0, 1, 4]), z(3, 4), z(3))),     # label too big
    ("softmax_cross_entropy_forward", (z(3, 4), np.array([0, -1, 2]), z(3, 4), z(3))),    # negative label
    ("softmax_cross_entropy_forward", (z(3, 4), np.array([0, 1]), z(3, 4), z(3))),        # count
    ("softmax_cross_entropy_forward", (z(3, 4), np.array([0, 1, 2], np.int32), z(3, 4), z(3))),  # int32
    ("softmax_cross_entropy_forward", (z(3, 4), z(3, 5), z(3, 4), z(3))),                # one-hot width
    ("softmax_cross_entropy_backward", (z(3, 4), np.array([0, 1, 9]), z(3), z(3, 4))),
    ("sgd_update", (z(5), z(4), None, 0.1)),
    ("sgd_update", (z(5), z(5), z(4), 0.1, 0.9)),
    ("sgd_update", (z(5, 1), z(5, 1), None, 0.1)),
    ("rmsprop_update", (z(5), z(5), z(5, dtype=np.float64), None, 0.1)),
    ("adam_update", (z(5), z(5), z(5), z(6), None, 0.1)),
    ("adam_update", (z(5), z(5), None, z(5), None, 0.1)),                     # no m (was a crash)
    ("adam_update", (z(5), z(5), z(5), None, None, 0.1)),                     # no v
    ("rmsprop_update", (z(5), z(5), None, None, 0.1)),                        # no mean square
    ("rmsprop_update", (z(5), z(5), z(5), None, 0.1, 0.9, 0.5)),              # momentum, no buffer
    ("adam_update", (z(10)[::2], z(5), z(5), z(5), None, 0.1)),
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 2, 4), None, 1, 1, 0, 0, z(2, 3, 3, 4), "relu")),  # channels
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 1, 4), z(5), 1, 1, 0, 0, z(2, 3, 3, 4), "relu")),     # bias size
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 1, 4), None, 1, 1, 0, 0, z(2, 6, 3, 4), "relu")),     # past the image
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 1, 4), None, 0, 1, 0, 0, z(2, 3, 3, 4), "relu")),     # zero stride
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 1, 4), None, 1, 1, 3, 0, z(2, 3, 3, 4), "relu")),     # pad >= kernel
    ("conv2d_forward", (z(2, 5, 5, 1), z(3, 3, 1, 4), None, 1, 1, 0, 0, z(2, 3, 3, 4), "softmax")),
    ("conv2d_forward", (z(2, 5, 5, 1), z(9, 4), None, 1, 1, 0, 0, z(2, 3, 3, 4), "relu")),           # rank
    ("conv2d_backward", (z(2, 5, 5, 1), z(3, 3, 1, 4), z(2, 3, 3, 4), z(2, 3, 3, 5), 1, 1, 0, 0,
                         None, z(3, 3, 1, 4), None, "relu")),                                        # grad_out
    ("conv2d_backward", (z(2, 5, 5, 1), z(3, 3, 1, 4), z(2, 3, 3, 4), z(2, 3, 3, 4), 1, 1, 0, 0,
                         z(2, 5, 5, 2), z(3, 3, 1, 4), None, "relu")),                               # grad_x
    ("conv2d_backward", (z(2, 5, 5, 1), z(3, 3, 1, 4), z(2, 3, 3, 4), z(2, 3, 3, 4), 1, 1, 0, 0,
                         None, z(3, 3, 1, 4, dtype=np.float64), None, "relu")),                      # dtype
    ("conv2d_backward", (z(2, 5, 5, 4), z(3, 3, 4, 8), z(2, 3, 3, 8), z(2, 3, 3, 7), 1, 1, 0, 0,
                         z(2, 5, 5, 4), z(3, 3, 4, 8), None, "relu")),                               # grad_out
    ("conv2d_backward", (z(2, 5, 5, 4), z(3, 3, 4, 8), z(2, 3, 3, 8), z(2, 3, 3, 8), 1, 1, 0, 0,
                         z(2, 5, 5, 4), z(3, 3, 4, 8), z(7), "relu")),                               # grad_b
    ("conv2d_backward", (z(2, 5, 5, 4), z(3, 3, 3, 8), z(2, 3, 3, 8), z(2, 3, 3, 8), 1, 1, 0, 0,
                         None, z(3, 3, 3, 8), None, "relu")),                                        # channels
    ("conv2d_backward", (z(2, 5, 5, 4), z(3, 3, 4, 8), z(2, 6, 3, 8), z(2, 6, 3, 8), 1, 1, 0, 0,
                         None, z(3, 3, 4, 8), None, "relu")),                                        # past the image
    ("conv2d_backward", (z(2, 5, 5, 4), z(3, 3, 4, 8), z(2, 3, 3, 8), z(2, 3, 3, 8), -1, 1, 0, 0,
                         None, z(3, 3, 4, 8), None, "relu")),                                        # stride
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(5, 5, 4, 8), None, 0, 0, z(2, 3, 3, 8), "relu")),  # 5x5
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8), None, 0, 0, z(2, 8, 5, 8), "relu")),  # size
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8), z(7), 0, 0, z(2, 5, 5, 8), "relu")),  # bias
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8), None, 3, 0, z(2, 5, 5, 8), "relu")),  # pad
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8), None, -1, 0, z(2, 5, 5, 8), "relu")),
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8), None, 0, 0, z(2, 5, 5, 8), "softmax")),
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 4, 8, dtype=np.float64), None, 0, 0,
                                 z(2, 5, 5, 8), "relu")),                                            # dtypes
    ("conv2d_winograd_forward", (z(2, 7, 7, 4), z(3, 3, 8, 4).transpose(0, 1, 3, 2), None, 0, 0,
                                 z(2, 5, 5, 8), "relu")),                                            # not contiguous
    ("conv2d_winograd_backward", (z(2, 7, 7, 4), z(3, 3, 4, 8), z(2, 5, 5, 8), z(2, 5, 5, 7), 0, 0,
                                  None, z(3, 3, 4, 8), None, "relu")),                               # grad_out
    ("conv2d_winograd_backward", (z(2, 7, 7, 4), z(3, 3, 4, 8), z(2, 5, 5, 8), z(2, 5, 5, 8), 0, 0,
                                  z(2, 7, 7, 3), z(3, 3, 4, 8), None, "relu")),                      # grad_x
    ("conv2d_winograd_backward", (z(2, 7, 7, 4), z(3, 3, 4, 8), z(2, 5, 5, 8), z(2, 5, 5, 8), 0, 0,
                                  None, z(3, 3, 4, 8), z(9), "relu")),                               # grad_b
    ("conv2d_winograd_backward", (z(2, 7, 7, 4), z(2, 2, 4, 8), z(2, 6, 6, 8), z(2, 6, 6, 8), 0, 0,
                                  None, z(2, 2, 4, 8), None, "relu")),                               # 2x2
    # the compiled kernels' quick checks (fast_checks.pxd) must refuse these too
    ("gemm", (z(2, 3, dtype=">f4"), z(3, 4, dtype=">f4"), z(2, 4, dtype=">f4"))),  # byte-swapped
    ("dense_forward", (z(4, 3), z(3, 2), None, z(4, 2, dtype=">f4"), "linear")),
    ("softmax_forward", (z(3, 4, dtype=">f4"), z(3, 4))),
    ("softmax_forward", (z(3, 4), z(3, 4, dtype=">f4"))),
    ("softmax_forward", (z(3, 4, dtype=">f8"), z(3, 4, dtype=">f8"))),  # one dtype, swapped
    ("softmax_cross_entropy_forward", (z(3, 4, dtype=">f4"), np.array([0, 1, 2]), z(3, 4), z(3))),
    ("softmax_cross_entropy_forward", (z(3, 4), np.array([0, 1, 2], ">i8"), z(3, 4), z(3))),
    ("adam_update", (z(5, dtype=">f4"), z(5), z(5), z(5), None, 0.1)),
    ("dense_backward", (z(4, 3), z(3, 2), z(4, 2), z(4, 2), None, z(3, 2), z(3), "bogus")),
    # an activation that is not a name: a list (unhashable: the compiled quick check's dict
    # lookup raised TypeError) or an array of one name (the reference's `in` accepted it)
    ("dense_forward", (z(4, 3), z(3, 2), None, z(4, 2), np.array(["relu"]))),
    ("lstm_step_forward", (z(2, 12), z(2, 3), z(2, 3), z(2, 3), z(2, 3), None, ["tanh"])),
    ("lstm_step_forward", (z(2, 12), z(2, 3), z(2, 3), z(2, 3), z(2, 3), None, np.array(["tanh"]))),
    ("gru_step_forward", (z(2, 9), z(2, 9), z(2, 3), z(2, 3), None, "tanh", ["sigmoid"])),
    ("rnn_step_backward", (z(2, 3), z(2, 3), None, z(2, 3), z(2, 3), np.array(["tanh"]))),
    ("gru_reset_before_gates_forward", (z(2, 9), z(2, 6), z(2, 3), z(2, 3), ["sigmoid"])),
    # features past what fits a C integer (the compiled quick check raised OverflowError)
    ("lstm_sequence_forward", (z(2, 1, 6), z(1, 6, 64), z(2, 1, 4), z(3, 1, 1), z(3, 1, 1), None,
                               None, 2**63)),
    ("lstm_sequence_backward", (z(2, 1, 6), z(1, 4, 64), z(2, 1, 4), z(3, 1, 1), None, z(1, 1),
                                z(1, 1), None, None, z(2, 1, 4), z(6, 4), 2**64 + 4, 1)),
]

# outputs that overlap an input by a few bytes: views into one buffer (or are the input)
_buffer = z(96)
OVERLAPPING_CALLS = [
    ("gemm", (_buffer[:6].reshape(2, 3), z(3, 2), _buffer[5:9].reshape(2, 2))),
    ("dense_forward", (_buffer[:6].reshape(2, 3), z(3, 2), None, _buffer[5:9].reshape(2, 2), "relu")),
    ("dense_backward", (z(2, 3), z(3, 2), z(2, 2), _buffer[:4].reshape(2, 2), None,
                        _buffer[3:9].reshape(3, 2), None, "relu")),
    ("softmax_cross_entropy_forward", (_buffer[:8].reshape(2, 4), np.array([0, 1]),
                                       _buffer[7:15].reshape(2, 4), z(2))),
    ("softmax_forward", (_buffer[:8].reshape(2, 4), _buffer[7:15].reshape(2, 4))),
    ("softmax_forward", (_buffer[:8].reshape(2, 4), _buffer[:8].reshape(2, 4))),  # in place
    ("adam_update", (_buffer[:5], _buffer[4:9], z(5), z(5), None, 0.1)),
    ("conv2d_winograd_forward", (_buffer[:50].reshape(2, 5, 5, 1), z(3, 3, 1, 2), None, 0, 0,
                                 _buffer[49:85].reshape(2, 3, 3, 2), "relu")),
    ("conv2d_winograd_backward", (z(2, 5, 5, 1), z(3, 3, 1, 2), _buffer[:36].reshape(2, 3, 3, 2),
                                  z(2, 3, 3, 2), 0, 0, _buffer[30:80].reshape(2, 5, 5, 1),
                                  z(3, 3, 1, 2), None, "relu")),
    ("conv2d_backward", (_buffer[:50].reshape(2, 5, 5, 1), z(3, 3, 1, 2), z(2, 3, 3, 2),
                         z(2, 3, 3, 2), 1, 1, 0, 0, z(2, 5, 5, 1),
                         _buffer[40:58].reshape(3, 3, 1, 2), None, "relu")),
]


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("name,args", OVERLAPPING_CALLS,
                         ids=[f"{i}-{c[0]}" for i, c in enumerate(OVERLAPPING_CALLS)])
def test_an_output_overlapping_an_input_is_refused(backend, name, args):
    with pytest.raises(ValueError, match="shares memory"):
        getattr(backend, name)(*args)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("name,args", BAD_CALLS, ids=[f"{i}-{c[0]}" for i, c in enumerate(BAD_CALLS)])
def test_bad_argument_is_a_value_error(backend, name, args):
    with pytest.raises(ValueError):
        getattr(backend, name)(*args)


def test_read_only_output_is_refused():
    out = z(4, 2)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="writeable"):
        compiled.dense_forward(z(4, 3), z(3, 2), None, out, "linear")


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("args,message", [
    ((z(3, 4), z(3, 5)), r"probs must have shape \(3, 4\), received \(3, 5\)"),
    ((z(3, 0), z(3, 0)), "at least one class"),
    ((z(3, 4), z(3, 4, dtype=np.float64)), "share one dtype"),
    ((z(4, 3).T, z(3, 4)), "logits must be C-contiguous"),
    ((z(3, 4, dtype=">f4"), z(3, 4)), "logits must be float32 or float64, received >f4"),
    ((z(3, 4), z(3, 4)[None]), "probs must have 2 dimensions"),
    ((z(3, 4), np.broadcast_to(z(4), (3, 4))), "probs must be C-contiguous"),
    ((z(3, 4), "probs"), "probs must be a numpy array"),
])
def test_softmax_forward_says_what_is_wrong(backend, args, message):
    """The compiled kernel's quick check refuses, then checks.check_softmax names the problem."""
    with pytest.raises(ValueError, match=message):
        backend.softmax_forward(*args)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
def test_read_only_probs_are_refused(backend):
    probs = z(3, 4)
    probs.setflags(write=False)
    with pytest.raises(ValueError, match="probs is an output and must be writeable"):
        backend.softmax_forward(z(3, 4), probs)


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("bad", [-1, 32, 10**12, -(10**12)])
@pytest.mark.parametrize("where", [0, 9, 15])  # the first image, the second, the last index
def test_an_argmax_out_of_range_changes_nothing(backend, bad, where):
    """max_pool2d_backward checks every index before it writes: a refused call leaves
    grad_x as it was (the compiled kernel used to zero and fill the images before the bad one)."""
    rng = np.random.default_rng(0)
    grad_out = rng.standard_normal((2, 2, 2, 2)).astype(f32)
    argmax = rng.integers(0, 32, (2, 2, 2, 2))
    argmax.reshape(-1)[where] = bad
    grad_x = np.full((2, 4, 4, 2), 7.0, f32)
    with pytest.raises(ValueError, match=r"argmax holds indices outside \[0, 32\)"):
        backend.max_pool2d_backward(grad_out, argmax, grad_x)
    assert (grad_x == 7).all()


@settings(max_examples=150, deadline=None)
@given(n=st.integers(-1, 3), h=st.integers(0, 6), w=st.integers(0, 6), k=st.integers(-1, 4),
       s=st.integers(-1, 3), p=st.integers(-1, 3), oh=st.integers(-1, 7), ow=st.integers(-1, 7),
       rows=st.integers(0, 100), dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_random_im2col_and_pool_arguments_never_crash(n, h, w, k, s, p, oh, ow, rows, dtype):
    """Any combination either matches the reference or raises ValueError."""
    x = np.zeros((max(n, 0), h, w, 2), dtype)
    cols = np.zeros((rows, max(k, 0) ** 2 * 2), dtype)
    for backend in (compiled, reference):
        try:
            backend.im2col(x, k, k, s, s, p, p, oh, ow, cols)
        except ValueError:
            pass
        out = np.zeros((max(n, 0), max(oh, 0), max(ow, 0), 2), dtype)
        try:
            backend.max_pool2d_forward(x, k, k, s, s, p, p, out, np.zeros(out.shape, np.int64))
        except ValueError:
            pass


def test_both_backends_provide_every_kernel_function():
    """_kernels.FUNCTIONS is the one list (the profiler times these); both backends have all."""
    from minidl import _kernels

    assert set(compiled.__all__) - set(_kernels.CONSTANTS) == set(_kernels.FUNCTIONS)
    for backend in (compiled, reference):
        assert all(callable(getattr(backend, name)) for name in _kernels.FUNCTIONS)
        assert all(hasattr(backend, name) for name in _kernels.CONSTANTS)
