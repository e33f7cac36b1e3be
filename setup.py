"""Build minidl's Cython kernels.

Every ``src/minidl/_kernels/*.pyx`` becomes an extension module, optimized and,
when the C compiler has it, built with OpenMP (for ``prange`` over the batch).
The flags depend on the compiler, and the build prints what it chose:

* GCC and clang (Linux, Windows' MinGW): ``-O3 -fno-math-errno
  -fno-trapping-math -g0`` and ``-fopenmp`` if a test program builds with it.
  -fno-math-errno and -fno-trapping-math change no result: they tell the
  compiler that no code here reads errno or floating-point exception flags,
  which lets it turn the kernels' comparisons into vector instructions.
* Apple clang (macOS) has no ``-fopenmp``; with LLVM's libomp installed
  (``brew install libomp``) it builds with ``-Xpreprocessor -fopenmp -lomp``.
  Without it, or with no OpenMP anywhere, the same code builds serially and
  runs on one thread (``minidl.get_num_threads()`` says 1).
* MSVC (Windows): ``/O2 /std:c11`` (the kernels' ``restrict`` is C11) and
  ``/openmp``, which every MSVC has.

``MINIDL_NATIVE=1`` adds ``-march=native`` (GCC and clang) for a build tuned to
this CPU only (never the default: a wheel must run on other machines).
``MINIDL_OPENMP=0`` builds serially on purpose (how the kernels run on a Mac
without libomp, testable on any machine).
``MINIDL_PLAIN_C=1`` defines MINIDL_PLAIN_C: the kernels build without GCC's
vector extensions and per-CPU clones, as on MSVC (see _kernels/portable.h), so
that code can be tested on Linux.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from glob import glob

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = sorted(glob(os.path.join("src", "minidl", "_kernels", "*.pyx")))

GCC_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-g0"]
MSVC_FLAGS = ["/O2", "/std:c11"]
# MINIDL_PLAIN_C=1: no GCC vector extensions in the kernels (the MSVC code paths)
PLAIN_C = [("MINIDL_PLAIN_C", "1")] if os.environ.get("MINIDL_PLAIN_C") == "1" else []
# where Homebrew puts libomp on Apple Silicon and on Intel Macs
HOMEBREW_LIBOMP = ("/opt/homebrew/opt/libomp", "/usr/local/opt/libomp")


def builds_with(compiler_cmd, compile_args, link_args):
    """Whether a tiny OpenMP program compiles and links with these flags."""
    source = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    workdir = tempfile.mkdtemp()
    try:
        path = os.path.join(workdir, "check.c")
        with open(path, "w") as f:
            f.write(source)
        result = subprocess.run(
            [*compiler_cmd, *compile_args, path, "-o", os.path.join(workdir, "check"), *link_args],
            capture_output=True,
        )
        return result.returncode == 0
    except OSError:
        return False
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def openmp_choices():
    """(compile args, link args, description) to try in order, on GCC or clang."""
    choices = [(["-fopenmp"], ["-fopenmp"], "-fopenmp")]
    if sys.platform == "darwin":  # Apple clang: the preprocessor flag, and libomp by hand
        prefixes = [None, *(p for p in HOMEBREW_LIBOMP if os.path.isdir(p))]
        for prefix in prefixes:
            compile_args, link_args = ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
            if prefix:
                compile_args.append(f"-I{prefix}/include")
                link_args = [f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", "-lomp"]
            choices.append((compile_args, link_args, " ".join(compile_args + link_args)))
    return choices


def compiler_name(compiler_cmd):
    """The first line of ``cc --version`` (which GCC or clang this is), or the command."""
    try:
        version = subprocess.run([*compiler_cmd, "--version"], capture_output=True, text=True)
        return version.stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return " ".join(compiler_cmd)


class BuildKernels(build_ext):
    """build_ext with each compiler's flags, and OpenMP where the compiler has it; the
    kernels compile side by side, one per core (unless ``--parallel`` says otherwise)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        serial_asked = os.environ.get("MINIDL_OPENMP") == "0"
        if self.compiler.compiler_type == "msvc":
            name, flags = "MSVC", list(MSVC_FLAGS)
            openmp = None if serial_asked else (["/openmp"], [], "/openmp")
        else:
            # the whole command: CFLAGS and macOS's -arch (cross-compiling) count too
            command = getattr(self.compiler, "compiler_so", None) or ["cc"]
            name, flags = compiler_name(command[:1]), list(GCC_FLAGS)
            if os.environ.get("MINIDL_NATIVE") == "1":
                flags.append("-march=native")
            openmp = None if serial_asked else next(
                (choice for choice in openmp_choices() if builds_with(command, *choice[:2])), None)
        compile_args, link_args, how = openmp or ([], [], None)
        for ext in self.extensions:
            ext.extra_compile_args += flags + compile_args
            ext.extra_link_args += link_args
        threads = (f"OpenMP with {how}" if openmp else
                   f"no OpenMP{' (MINIDL_OPENMP=0)' if serial_asked else ''}: one thread, serial build")
        plain = "; plain C (MINIDL_PLAIN_C=1)" if PLAIN_C else ""
        print(f"minidl: building the kernels with {name}: {' '.join(flags)}; {threads}{plain}.")
        super().build_extensions()


def extensions():
    from Cython.Build import cythonize

    modules = [
        Extension(
            "minidl._kernels." + os.path.splitext(os.path.basename(path))[0],
            [path],
            include_dirs=[numpy.get_include(), os.path.join("src", "minidl", "_kernels")],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"), *PLAIN_C],
        )
        for path in KERNELS
    ]
    return cythonize(
        modules,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildKernels})
