"""How many threads the kernels use: one OpenMP pool for all parallel work.

OpenMP runs the ``prange`` loops (im2col, pooling, the direct convolution,
large optimizer updates) and also the big matrix products: ``dense.pyx``
splits each into one part per thread and gives every part to a
single-threaded OpenBLAS call.  OpenBLAS's own thread pool stays unused.
Two pools on a small machine get in each other's way: after each product
OpenBLAS's idle threads keep spinning for about a tenth of a second, and the
OpenMP loops that followed ran up to twice as slow beside them (the CNN of
the tutorials trained 25% faster once a single pool did everything).

``set_num_threads(n)`` sets that pool, like ``torch.set_num_threads``.  One
thread can be the better choice on a machine where other programs also run:
a parallel loop waits for its slowest thread.  Small products always run on
one thread (see ``dense.pyx``).

The libraries are reached at run time with ``ctypes`` (the compiled kernels
have loaded them); where one cannot be found, it is left alone and
``get_num_threads`` reports ``None`` for it.
"""

from __future__ import annotations

import ctypes
import ctypes.util


def _openmp():
    name = ctypes.util.find_library("gomp") or ctypes.util.find_library("omp")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


_openmp_library = []


def _openmp_function(name):
    """OpenMP's function ``name`` (``ctypes``), or None."""
    if not _openmp_library:
        _openmp_library.append(_openmp())
    return getattr(_openmp_library[0], name, None) if _openmp_library[0] is not None else None


def _blas():
    """The BLAS library the compiled kernels call (loading them if need be)."""
    from minidl._kernels import compiled

    return compiled.BLAS


def set_num_threads(n):
    """Use ``n`` threads for the parallel loops and the big matrix products."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, received {n!r}.")
    omp_setter = _openmp_function("omp_set_num_threads")
    if omp_setter is not None:
        omp_setter(ctypes.c_int(n))
    _tell_dense_kernels(_blas(), n if omp_setter is not None else 1)


def _tell_dense_kernels(blas, n):
    """OpenBLAS to one thread; big products split over ``n`` OpenMP threads."""
    from minidl._kernels import dense

    setter = blas.set_threads
    dense.configure_blas_threads(ctypes.cast(setter, ctypes.c_void_p).value if setter else 0, n)


def configure_default(blas):
    """At load: products split over as many threads as OpenMP has (one without OpenMP)."""
    omp_getter = _openmp_function("omp_get_max_threads")
    _tell_dense_kernels(blas, omp_getter() if omp_getter is not None else 1)


def get_num_threads():
    """``{"blas": n, "openmp": n or None}``: the threads a big product is split over,
    and OpenMP's pool (None where it cannot be found)."""
    from minidl._kernels import dense

    _blas()  # load the kernels
    omp_getter = _openmp_function("omp_get_max_threads")
    return {
        "blas": dense.blas_thread_limit(),
        "openmp": omp_getter() if omp_getter is not None else None,
    }
