"""How many threads the kernels use: OpenMP loops and OpenBLAS.

Two thread pools serve the kernels: OpenMP runs the ``prange`` loops
(im2col, pooling, large optimizer updates), and the OpenBLAS library chosen
by ``blas_library.py`` runs the matrix products.  By default each starts one thread per
core.  ``set_num_threads(n)`` sets both, like ``torch.set_num_threads``.

One thread is often the better choice on a busy machine: a product split over
two threads waits for the slower one, and if another program holds that core
the wait is a whole scheduler time slice.  That is why the dense kernels give
small products one thread whatever is set here (see ``dense.pyx``).

Both pools are reached at run time with ``ctypes`` (the libraries are already
loaded by the compiled kernels); where one cannot be found, it is left alone
and ``get_num_threads`` reports ``None`` for it.
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
    """Use ``n`` threads for both the BLAS products and the OpenMP loops."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, received {n!r}.")
    setter = _blas().set_threads
    if setter is not None:
        setter(ctypes.c_int(n))
        _tell_dense_kernels(setter, n)
    omp_setter = _openmp_function("omp_set_num_threads")
    if omp_setter is not None:
        omp_setter(ctypes.c_int(n))


def _tell_dense_kernels(setter, n):
    """Give the compiled dense kernels the setter's address and the thread limit."""
    from minidl._kernels import dense

    dense.configure_blas_threads(ctypes.cast(setter, ctypes.c_void_p).value, n)


def configure_default(blas):
    """At load: let the dense kernels pick 1 thread or OpenBLAS's default per product."""
    if blas.set_threads is not None and blas.get_threads is not None:
        _tell_dense_kernels(blas.set_threads, blas.get_threads())


def get_num_threads():
    """``{"blas": n or None, "openmp": n or None}``: the threads each pool uses now."""
    from minidl._kernels import dense

    blas = _blas()
    omp_getter = _openmp_function("omp_get_max_threads")
    return {
        "blas": dense.blas_thread_limit() if blas.get_threads is not None else None,
        "openmp": omp_getter() if omp_getter is not None else None,
    }
