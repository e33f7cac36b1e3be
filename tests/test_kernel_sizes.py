"""Products past BLAS's int limit: split into calls BLAS can take, never truncated.

scipy's cython_blas takes C ints (LP64), so ``dense.pyx`` splits a product whose
m, n, k or a leading dimension is over INT_MAX into parts (m and n by blocks, k by
adding each part's product into the output).  ``_set_blas_dim_limit`` lowers that
limit, so the splitting is checked here at small sizes against NumPy, with both
BLAS libraries; one slow test makes a real product of 2**31 + 8 terms.
"""

import contextlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl._kernels import blas_library, compiled, reference

dense = compiled.dense
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LIBRARIES = ["numpy", "scipy"]


@contextlib.contextmanager
def blas_dim_limit(limit, library):
    """Inside: every BLAS call gets sizes and leading dimensions of at most ``limit``,
    and the products call ``library``'s OpenBLAS ("numpy": ILP64, "scipy": LP64)."""
    previous = os.environ.get("MINIDL_BLAS")
    os.environ["MINIDL_BLAS"] = library
    blas_library.install(dense)
    dense._set_blas_dim_limit(limit)
    try:
        yield
    finally:
        dense._set_blas_dim_limit(None)
        if previous is None:
            del os.environ["MINIDL_BLAS"]
        else:
            os.environ["MINIDL_BLAS"] = previous
        blas_library.install(dense)


def test_the_limit_is_the_librarys_own_unless_lowered():
    with blas_dim_limit(3, "scipy"):
        assert dense._set_blas_dim_limit(None) == 3
        assert dense._set_blas_dim_limit(None) == 2**31 - 1  # scipy's LP64: C ints
    with blas_dim_limit(3, "numpy"):
        dense._set_blas_dim_limit(None)
        ilp64 = dense.blas_name() == "numpy"
        assert dense._set_blas_dim_limit(None) == (2**63 - 1 if ilp64 else 2**31 - 1)
    with pytest.raises(ValueError, match="positive int"):
        dense._set_blas_dim_limit(0)


@SETTINGS
@given(m=st.integers(1, 9), n=st.integers(1, 9), k=st.integers(1, 9), ta=st.booleans(),
       tb=st.booleans(), alpha=st.sampled_from([1.0, -0.5]), beta=st.sampled_from([0.0, 0.5]),
       limit=st.integers(1, 5), library=st.sampled_from(LIBRARIES),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999))
def test_gemm_split_over_the_limit_matches_numpy(m, n, k, ta, tb, alpha, beta, limit, library,
                                                 dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k, m) if ta else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if tb else (k, n)).astype(dtype)
    c = rng.normal(size=(m, n)).astype(dtype)
    want = alpha * (a.T if ta else a).astype(np.float64) @ (b.T if tb else b) + beta * c
    out = c.copy()
    with blas_dim_limit(limit, library):
        compiled.gemm(a, b, out, ta, tb, alpha, beta)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)


@SETTINGS
@given(n=st.integers(1, 9), k=st.integers(1, 9), m=st.integers(1, 9),
       activation=st.sampled_from(["linear", "relu", "tanh"]), bias=st.booleans(),
       limit=st.integers(1, 5), library=st.sampled_from(LIBRARIES), seed=st.integers(0, 999))
def test_dense_kernels_split_over_the_limit_match_the_twins(n, k, m, activation, bias, limit,
                                                           library, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    b = rng.normal(size=m) if bias else None
    g = rng.normal(size=(n, m))
    results = []
    for kernels in (compiled, reference):
        out = np.empty((n, m))
        grads = [np.empty((n, k)), np.empty((k, m)), np.empty(m) if bias else None]
        with blas_dim_limit(limit, library):
            kernels.dense_forward(x, w, b, out, activation)
            kernels.dense_backward(x, w, out, g, *grads, activation)
        results.append([out] + [a for a in grads if a is not None])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("library", LIBRARIES)
def test_big_products_split_over_threads_and_the_limit_match_numpy(library):
    """Past PARALLEL_MIN_MACS the product is also cut into one part per thread."""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(150, 97)), rng.normal(size=(97, 101))
    out = np.empty((150, 101))
    with blas_dim_limit(40, library):
        compiled.dense_forward(x, w, None, out, "linear")
    np.testing.assert_allclose(out, x @ w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("library", LIBRARIES)
def test_tensor_matmul_and_its_gradients_split_over_the_limit(library):
    rng = np.random.default_rng(2)
    a = minidl.Tensor(rng.normal(size=(5, 7)), requires_grad=True, dtype="float64")
    b = minidl.Tensor(rng.normal(size=(7, 3)), requires_grad=True, dtype="float64")
    with blas_dim_limit(2, library):
        y = a @ b
        y.sum().backward()
    np.testing.assert_allclose(y.data, a.data @ b.data, rtol=1e-12)
    np.testing.assert_allclose(a.grad, np.ones((5, 3)) @ b.data.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad, a.data.T @ np.ones((5, 3)), rtol=1e-12)


# A product of 2**31 + 8 terms, 8 + 1e6 exactly: a and b are zeros (calloc'd pages that
# cost no memory until written) but for 8 ones at the start and one pair at the end.
# Truncating k to a C int keeps only the first 8 terms: 8.0.
HUGE_PRODUCT = """
import json, sys
import numpy as np
import minidl
from minidl._kernels import compiled
k = 2**31 + 8
try:
    a = np.zeros((1, k), np.float32)
    b = np.zeros((k, 1), np.float32)
except MemoryError:
    print(json.dumps({"skip": "no memory"}))
    sys.exit(0)
a[0, :8] = b[:8, 0] = 1
a[0, -1], b[-1, 0] = 1e6, 1
out = np.empty((1, 1), np.float32)
compiled.gemm(a, b, out)
got = {"gemm": float(out[0, 0])}
compiled.dense_forward(a, b, np.zeros(1, np.float32), out, "relu")
got["dense_forward"] = float(out[0, 0])
got["tensor @"] = float((minidl.Tensor(a) @ minidl.Tensor(b)).numpy()[0, 0])
print(json.dumps({"blas": compiled.dense.blas_name(), "got": got}))
"""


def _available_bytes():
    with open("/proc/meminfo") as f:
        info = dict(line.split(":", 1) for line in f)
    return int(info["MemAvailable"].split()[0]) * 1024


@pytest.mark.slow
@pytest.mark.parametrize("library", LIBRARIES)
def test_a_real_product_of_2_to_the_31_terms(library):
    if not sys.platform.startswith("linux") or _available_bytes() < 4 * 2**30:
        pytest.skip("needs Linux and 4 GB of free memory (the zero pages stay unwritten)")
    env = dict(os.environ, MINIDL_BLAS=library, MINIDL_KERNELS="compiled")
    done = subprocess.run([sys.executable, "-c", HUGE_PRODUCT], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    if "skip" in result:
        pytest.skip(result["skip"])
    assert result["got"] == {"gemm": 1000008.0, "dense_forward": 1000008.0,
                             "tensor @": 1000008.0}
