"""Every file the kernels' build reads ships in the sdist (package-data in pyproject.toml)."""

import fnmatch
import pathlib

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNELS = ROOT / "src" / "minidl" / "_kernels"


@pytest.mark.skipif(not KERNELS.is_dir(), reason="reads the kernel sources: run from a clone or "
                    "an unpacked sdist (cibuildwheel copies the tests alone)")
def test_every_kernel_source_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["minidl"]
    sources = [p for p in KERNELS.iterdir() if p.suffix in (".pyx", ".pxd", ".h")]
    assert sources
    for path in sources:
        relative = path.relative_to(ROOT / "src" / "minidl").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
