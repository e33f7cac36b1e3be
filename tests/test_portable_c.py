"""The kernels' C builds on compilers without GCC's extensions (MSVC): checked with
clang standing in for MSVC by scripts/check_portable_c.py (skipped without clang)."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_portable_c.py"

pytestmark = [
    pytest.mark.skipif(shutil.which("clang") is None,
                       reason="clang is not installed (apt-get install clang)"),
    pytest.mark.skipif(not (ROOT / "src" / "minidl" / "_kernels" / "isa.h").exists()
                       or not SCRIPT.exists(),
                       reason="needs the source tree (scripts/ and the kernels' C)"),
]


def load_script():
    spec = importlib.util.spec_from_file_location("check_portable_c", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kernels_have_no_unguarded_gcc_construct():
    """Every header and the Cython-generated C: about 8 s after a build, 25 s when
    Cython has to write the C first."""
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no GCC-only construct" in result.stdout


def test_check_finds_each_unguarded_construct(tmp_path):
    header = tmp_path / "sample.h"
    header.write_text(
        "#include <math.h>\n"                                              # 1
        "typedef float v4 __attribute__((vector_size(16)));\n"             # 2: flagged
        "#if defined(__GNUC__) || defined(__clang__)\n"                    # 3
        "typedef float g4 __attribute__((vector_size(16)));\n"             # 4: guarded
        "#endif\n"                                                         # 5
        "static int twice(int a) { __typeof__(a) b = a; return 2 * b; }\n"  # 6: flagged
        "static int three(void) { return ({ 3; }); }\n"                    # 7: flagged
        "#define SQUARE(x) __builtin_expect((x) * (x), 1)\n"               # 8
        "static int four(void) { return SQUARE(2); }\n"                    # 9: flagged here
        "static double fine(double x) { return sqrt(x); }\n"               # 10
    )
    problems = load_script().check_all(headers=[header], c_files=False)
    flagged = sorted({int(p.split(":")[1]) for p in problems if "GCC-only" in p})
    assert flagged == [2, 6, 7, 9], problems


def test_check_finds_code_that_only_gcc_compiles(tmp_path):
    header = tmp_path / "broken.h"
    header.write_text("#ifdef __GNUC__\ntypedef int word;\n#endif\nstatic word x;\n")
    problems = load_script().check_all(headers=[header], c_files=False)
    assert any("does not compile without GNU C" in p for p in problems), problems
