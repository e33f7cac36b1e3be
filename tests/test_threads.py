"""minidl.set_num_threads sets the one OpenMP pool the kernels use (OpenBLAS's own pool
stays on one thread), and results do not depend on it.

A build without OpenMP (Apple clang without libomp) runs on one thread: every count it
reports is 1, and the tests expect exactly that there.
"""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from child_env import child_env

import minidl
from minidl._kernels import compiled, openmp, threads

BOUND = threads.max_threads()


def expected(n):
    """What a build reports after set_num_threads(n): n with OpenMP, 1 without."""
    return n if openmp.ENABLED else 1


# what OpenBLAS itself reports for its own pool: minidl keeps it on one thread
BLAS_POOL = 1 if compiled.BLAS.get_threads else None


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before["openmp"])


def test_set_num_threads_sets_openmp_and_keeps_blas_on_one_thread(restore_threads):
    for n in (1, 2, 3, 1):
        minidl.set_num_threads(n)
        assert minidl.get_num_threads() == {"blas": BLAS_POOL, "openmp": expected(n)}
        assert compiled.dense.blas_thread_limit() == expected(n)  # big products split n ways
        # what the runtime the kernels are linked to really does, not what was recorded
        assert openmp.loop_threads() == expected(n)


def test_set_num_threads_takes_numpy_integers(restore_threads):
    minidl.set_num_threads(np.int64(1))
    assert minidl.get_num_threads() == {"blas": BLAS_POOL, "openmp": 1}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None, 2.0, -(2**31)])
def test_set_num_threads_refuses_bad_counts_and_changes_nothing(bad, restore_threads):
    minidl.set_num_threads(1)
    with pytest.raises(ValueError, match=r"positive integer, received"):
        minidl.set_num_threads(bad)
    assert minidl.get_num_threads() == {"blas": BLAS_POOL, "openmp": 1}


@pytest.mark.parametrize("huge", [BOUND + 1, 10**6, 2**31, 2**64])
def test_too_many_threads_are_lowered_to_the_bound_with_a_warning(huge, restore_threads):
    with pytest.warns(RuntimeWarning, match=rf"set_num_threads: {huge} threads .* using {BOUND}"):
        minidl.set_num_threads(huge)
    assert minidl.get_num_threads() == {"blas": BLAS_POOL, "openmp": expected(BOUND)}
    x = np.ones((256, 1024), np.float32)
    out = np.empty((256, 1024), np.float32)
    compiled.dense_forward(x, np.ones((1024, 1024), np.float32), None, out, "relu")  # runs
    assert out[0, 0] == 1024
    assert openmp.loop_threads() == expected(BOUND)


def test_the_bound_itself_is_taken_without_a_warning(restore_threads):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minidl.set_num_threads(BOUND)
    assert minidl.get_num_threads()["openmp"] == expected(BOUND)


# a child with capped memory and a timeout: had the clamp failed, 100000 threads crash it
CAPPED_CHILD = textwrap.dedent("""
    import sys
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    except (ImportError, ValueError):
        pass  # no such limit here (Windows); the timeout still stands
    if sys.argv[1] == "preload":  # the runtime already loaded, OMP_NUM_THREADS read
        import ctypes, ctypes.util
        ctypes.CDLL(ctypes.util.find_library("gomp") or "libgomp.so.1")
    import warnings
    warnings.simplefilter("always")
    import numpy as np
    import minidl
    from minidl._kernels import compiled, openmp
    w, g, m, v = np.ones((4, 1 << 20), np.float32)  # big enough for the parallel loop
    compiled.adam_update(w, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7)
    print(minidl.get_num_threads()["openmp"], openmp.loop_threads())
""")


@pytest.mark.parametrize("when", ["import", "preload"])
def test_omp_num_threads_from_the_environment_is_lowered_to_the_bound(when):
    if when == "preload" and not (openmp.ENABLED and sys.platform.startswith("linux")):
        pytest.skip("loads GCC's OpenMP runtime by name: Linux with an OpenMP build only")
    env = child_env(OMP_NUM_THREADS="100000", OPENBLAS_NUM_THREADS="1")
    child = subprocess.run([sys.executable, "-c", CAPPED_CHILD, when], env=env, timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert f"OMP_NUM_THREADS: 100000 threads is more than this machine can use; using {BOUND}" \
        in child.stderr
    assert child.stdout.split() == [str(expected(BOUND))] * 2


def test_kernels_give_the_same_bits_with_one_and_two_threads(restore_threads):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 26, 26, 32)).astype(np.float32)
    w0, g, m0, v0 = rng.normal(size=(4, 1 << 20)).astype(np.float32)  # big enough to run in parallel
    kernel = rng.normal(size=(3, 3, 32, 16)).astype(np.float32)
    results = []
    for n in (1, 2):
        minidl.set_num_threads(n)
        out = np.empty((64, 13, 13, 32), np.float32)
        argmax = np.empty(out.shape, np.int64)
        compiled.max_pool2d_forward(x, 2, 2, 2, 2, 0, 0, out, argmax)
        grad_x = np.empty_like(x)
        compiled.max_pool2d_backward(out, argmax, grad_x)
        cols = np.empty((64 * 24 * 24, 9 * 32), np.float32)
        compiled.im2col(x, 3, 3, 1, 1, 0, 0, 24, 24, cols)
        back = np.empty_like(x)
        compiled.col2im(cols, 3, 3, 1, 1, 0, 0, 24, 24, back)
        w = w0.copy()
        compiled.adam_update(w, g, m0.copy(), np.abs(v0), None, 1e-3, 0.9, 0.999, 1e-7)
        conv_out = np.empty((64, 24, 24, 16), np.float32)
        compiled.conv2d_forward(x, kernel, None, 1, 1, 0, 0, conv_out, "relu")
        grad_k, grad_image = np.empty_like(kernel), np.empty_like(x)
        compiled.conv2d_backward(x, kernel, conv_out, conv_out, 1, 1, 0, 0, grad_image, grad_k, None,
                                 "relu")
        wino_out, wino_k, wino_image = np.empty_like(conv_out), np.empty_like(kernel), np.empty_like(x)
        wino_b = np.empty(16, np.float32)
        compiled.conv2d_winograd_forward(x, kernel, None, 0, 0, wino_out, "relu")
        compiled.conv2d_winograd_backward(x, kernel, wino_out, conv_out, 0, 0, wino_image, wino_k,
                                          wino_b, "relu")
        # M2's second layer: two products side by side, dL/dx through transposes
        a, b = x.reshape(-1)[:32 * 300].reshape(32, 300), w0[:300 * 100].reshape(300, 100)
        dense_out = np.abs(x.reshape(-1)[-32 * 100:]).reshape(32, 100)
        dense_grads = [np.empty_like(a), np.empty_like(b), np.empty(100, np.float32)]
        compiled.dense_backward(a, b, dense_out, dense_out, *dense_grads, "relu")
        results.append([out, argmax, grad_x, cols, back, w, conv_out, grad_k, grad_image,
                        wino_out, wino_k, wino_image, wino_b, *dense_grads])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_split_products_match_across_thread_counts_and_repeat_bitwise(restore_threads):
    """dense.pyx splits big products by rows or columns over the threads.  Each part is
    an ordinary BLAS product, so the results agree with one thread's to rounding (the
    last bits can differ where a part's edge meets BLAS's tiling, as with OpenBLAS's own
    threads) and repeat bit for bit at a given thread count."""
    shapes = [(7744, 288, 64), (64, 784, 300), (33, 1600, 128)]  # split by rows, by columns
    results = {}
    for n, attempt in ((1, 0), (2, 0), (2, 1)):
        minidl.set_num_threads(n)
        rng = np.random.default_rng(1)
        arrays = []
        for rows, inner, cols in shapes:
            x = rng.normal(size=(rows, inner)).astype(np.float32)
            w = rng.normal(size=(inner, cols)).astype(np.float32)
            b = rng.normal(size=cols).astype(np.float32)
            g = rng.normal(size=(rows, cols)).astype(np.float32)
            out = np.empty((rows, cols), np.float32)
            compiled.dense_forward(x, w, b, out, "relu")
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            compiled.dense_backward(x, w, out, g, gx, gw, gb, "relu")
            arrays += [out, gx, gw, gb]
        results[(n, attempt)] = arrays
    for one, two, again in zip(results[(1, 0)], results[(2, 0)], results[(2, 1)]):
        np.testing.assert_array_equal(two, again)
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-3)
