"""Check that the kernels' C has no GCC-only construct outside guarded blocks.

    python scripts/check_portable_c.py [--clang clang] [--keep-going]

MSVC has no GCC extensions (``__attribute__``, vector types, ``__typeof__``,
``__builtin_*``, statement expressions), so each must sit inside an
``#if defined(__GNUC__) || defined(__clang__)`` block (portable.h, isa.h).
Without a Windows machine, clang stands in for MSVC: with ``__GNUC__`` and
``__clang__`` undefined and ``_MSC_VER`` defined it takes every branch MSVC
takes.  For every header of src/minidl/_kernels and the C Cython generated
from every .pyx it

1. type-checks that branch (``clang -fsyntax-only``): the plain-C code compiles;
2. preprocesses it (``clang -E``) and looks, in the lines that come from the
   kernels' own files (not Python's, NumPy's or the C library's headers), for
   a GCC-only word left after preprocessing, naming the file and line.

The headers are checked a second time as a plain C99 compiler would see them
(no ``_MSC_VER``).  The generated C is the ``.c`` beside each ``.pyx`` when it is
newer than the ``.pyx`` (``python setup.py build_ext --inplace`` leaves it
there), else Cython writes it to a temporary directory.  Exit status 1 and
one line per problem when anything is found; clang 14 or newer.
"""

import argparse
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "src" / "minidl" / "_kernels"

CYTHON_DIRECTIVES = "boundscheck=False,wraparound=False,cdivision=True,initializedcheck=False"

# clang as MSVC sees the code: no GNU C, MSVC's version and extensions
MSVC_FLAGS = ["-U__GNUC__", "-U__GNUC_MINOR__", "-U__GNUC_PATCHLEVEL__", "-U__clang__",
              "-U__clang_major__", "-D_MSC_VER=1930", "-fms-extensions", "-fms-compatibility",
              # MSVC's <complex.h> types, which NumPy's headers use under _MSC_VER
              "-D_Fcomplex=float _Complex", "-D_Dcomplex=double _Complex",
              "-D_Lcomplex=long double _Complex"]
# clang as a plain C99 compiler sees it (the headers only: Python.h wants more)
C99_FLAGS = ["-U__GNUC__", "-U__GNUC_MINOR__", "-U__GNUC_PATCHLEVEL__", "-U__clang__",
             "-U__clang_major__", "-std=c99"]

# words only GCC-compatible compilers know, and GNU statement expressions "({"
GCC_ONLY = re.compile(
    r"\b(__attribute__|__attribute|__typeof__|__typeof|typeof|__builtin_\w+|vector_size"
    r"|__extension__|__asm__|__asm|asm|__restrict__|__inline__|__label__|__auto_type"
    r"|__int128)\b|\(\s*\{")
# what <stddef.h>, <stdarg.h> and <math.h>'s standard macros (offsetof, va_start,
# HUGE_VAL, ...) expand to with this machine's headers: MSVC's define them their own way
STANDARD_MACROS = {"__builtin_offsetof", "__builtin_va_start", "__builtin_va_end",
                   "__builtin_va_arg", "__builtin_va_copy", "__builtin_va_list",
                   "__builtin_huge_val", "__builtin_huge_valf", "__builtin_inff",
                   "__builtin_nanf", "__builtin_nan"}
# included first.  glibc's <sys/cdefs.h> erases __attribute__ and __extension__ for a
# compiler that is not GCC; undoing that keeps an unguarded one in the kernels visible
PRELUDE = """#if defined(__has_include)
#if __has_include(<sys/cdefs.h>)
#include <sys/cdefs.h>
#undef __attribute__
#undef __extension__
#endif
#endif
/* MSVC has none of clang's feature tests: code they guard is GCC/clang-only */
#undef __has_attribute
#define __has_attribute(x) 0
#undef __has_builtin
#define __has_builtin(x) 0
#undef __has_feature
#define __has_feature(x) 0
#undef __has_extension
#define __has_extension(x) 0
"""
LINEMARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"')


def gcc_only_lines(preprocessed, own):
    """(file, line, text) of every GCC-only word in ``preprocessed`` (clang -E
    output) on a line that came from a file ``own(path)`` accepts."""
    found, path, line = [], None, 0
    for text in preprocessed.splitlines():
        marker = LINEMARKER.match(text)
        if marker:
            line, path = int(marker.group(1)), marker.group(2).replace("\\\\", "\\")
            continue
        if path is not None and own(path):
            for match in GCC_ONLY.finditer(text):
                if match.group(0) not in STANDARD_MACROS:
                    found.append((path, line, match.group(0)))
                    break
        line += 1
    return found


def check_source(clang, source, flags, own, include_dirs, prelude):
    """Problems (strings) with one C file under one set of flags."""
    command = [clang, *flags, "-include", str(prelude), *(f"-I{d}" for d in include_dirs),
               str(source)]
    problems = []
    checked = subprocess.run([*command[:1], "-fsyntax-only", *command[1:]],
                             capture_output=True, text=True)
    if checked.returncode != 0:
        first = "\n    ".join(checked.stderr.strip().splitlines()[:8])
        problems.append(f"{source}: does not compile without GNU C ({' '.join(flags)}):\n    {first}")
    pre = subprocess.run([*command[:1], "-E", *command[1:]], capture_output=True, text=True)
    if pre.returncode != 0:
        return problems + [f"{source}: clang -E failed: {pre.stderr.strip()[:400]}"]
    for path, line, word in gcc_only_lines(pre.stdout, own):
        problems.append(f"{path}:{line}: GCC-only '{word}' outside a GCC-guarded block "
                        f"(seen by {Path(source).name} with {' '.join(flags[:5])} ...)")
    return problems


def generated_c(workdir):
    """The Cython-generated .c of every kernel module: beside the .pyx when fresh."""
    sources = []
    for pyx in sorted(KERNELS.glob("*.pyx")):
        c = pyx.with_suffix(".c")
        if not (c.exists() and c.stat().st_mtime >= pyx.stat().st_mtime):
            c = Path(workdir) / c.name
            # setup.py's directives, so this is the C a build would compile
            subprocess.run([sys.executable, "-m", "cython", "-3", "-X", CYTHON_DIRECTIVES,
                            "-I", str(KERNELS), str(pyx), "-o", str(c)],
                           check=True, capture_output=True)
        sources.append(c)
    return sources


def check_all(clang="clang", headers=None, c_files=True):
    """Every problem found, as strings (empty: portable)."""
    import numpy

    headers = sorted(KERNELS.glob("*.h")) if headers is None else headers
    own_dirs = {str(KERNELS), *(str(Path(h).resolve().parent) for h in headers)}

    def own(path):
        resolved = os.path.dirname(os.path.abspath(path))
        return resolved in own_dirs or path.endswith(".c")

    problems = []
    with tempfile.TemporaryDirectory() as workdir:
        prelude = Path(workdir) / "prelude.h"
        prelude.write_text(PRELUDE)
        for header in headers:
            unit = Path(workdir) / f"include_{Path(header).stem}.c"
            unit.write_text(f'#include "{Path(header).resolve()}"\n')
            for flags in (MSVC_FLAGS, C99_FLAGS):
                problems += check_source(clang, unit, flags, own, [KERNELS], prelude)
        if c_files:
            include = [KERNELS, sysconfig.get_paths()["include"], numpy.get_include()]
            for source in generated_c(workdir):
                problems += check_source(clang, source, MSVC_FLAGS, own, include, prelude)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clang", default=os.environ.get("CLANG", "clang"))
    parser.add_argument("--headers-only", action="store_true",
                        help="skip the Cython-generated C")
    args = parser.parse_args()
    problems = check_all(args.clang, c_files=not args.headers_only)
    for problem in problems:
        print(problem)
    headers = len(list(KERNELS.glob("*.h")))
    if problems:
        print(f"check_portable_c: {len(problems)} problem(s)")
        return 1
    print(f"check_portable_c: {headers} headers"
          f"{'' if args.headers_only else ' and the generated C'}: no GCC-only construct "
          "outside guarded blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
