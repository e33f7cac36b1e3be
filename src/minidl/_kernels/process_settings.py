"""Everything minidl changes for the whole process, in this one module.

A library shares its process with the program that imports it: what it sets
beyond its own objects can change how other code runs (numpy's ``@`` uses the
same OpenBLAS, other OpenMP libraries read the same environment).  minidl sets
four things, each here and nowhere else:

1. ``GOMP_SPINCOUNT=200000`` in the environment, when ``minidl._kernels`` is
   imported (``set_environment``), unless you set it or ``OMP_WAIT_POLICY``
   yourself.  Between two parallel loops an OpenMP thread waits by spinning
   that many iterations (a fraction of a millisecond), then sleeps: a training
   step's next loop finds it awake, and an idle program does not keep a core
   busy.  It must be set before the compiled kernels load libgomp.
2. ``OMP_NUM_THREADS`` lowered to ``threads.max_threads()``, with a warning,
   at the same moment (``set_environment``): 100000 threads would make the
   OpenMP runtime crash when a loop starts them.
3. glibc's malloc thresholds (``mallopt``), when the compiled kernels are
   chosen (``keep_freed_memory``; ``minidl._kernels.use("compiled")``).
4. OpenBLAS's own thread pool set to one thread and OpenMP's thread count
   checked, when the compiled kernels load (``configure_threads``); later only
   ``minidl.set_num_threads`` changes them (``threads.py`` says why one pool).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

from minidl._kernels import threads


def set_environment():
    """Settings 1 and 2: the environment the OpenMP runtime reads when it loads.

    ``threads.configure_default`` checks the count again once the runtime has
    loaded (another library may have loaded it first).  Only a plain number is
    checked; the runtime itself judges other forms ("4,2").
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "200000")
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > threads.max_threads():
        os.environ["OMP_NUM_THREADS"] = str(threads.checked_count(int(value), "OMP_NUM_THREADS"))


def configure_threads(blas):
    """Setting 4, when the compiled kernels load with the BLAS library ``blas``."""
    threads.configure_default(blas)


# Setting 3.  A training step allocates the same big arrays every time: im2col's
# patch matrix, a convolution's output, their gradients (several MB each).  glibc's
# malloc hands blocks over 128 KB straight back to the operating system when they
# are freed, so the next step gets fresh pages, and the first write to each 4 KB
# page stops the program while the kernel zeroes it.  On the CNN of the tutorials
# that cost about a tenth of the step.  Raising glibc's two thresholds keeps those
# blocks in the process for reuse: what PyTorch's caching allocator does by other
# means.  Peak memory is unchanged; memory is simply not returned between steps.
# Elsewhere (macOS, Windows, musl) nothing is done.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's upper limit on 64-bit systems
_TRIM_THRESHOLD = 256 << 20

_kept = False


def keep_freed_memory():
    """Ask glibc to keep freed blocks up to 32 MB in the heap; True if it agreed."""
    global _kept
    if _kept:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1 and ok
    except (OSError, AttributeError):
        return False
    _kept = ok
    return ok
