"""What minidl changes for the whole process is set in process_settings.py and nowhere else."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

import minidl
from minidl._kernels import threads

SOURCE = Path(minidl.__file__).parent
# writing the environment, or glibc's allocator settings
PROCESS_WIDE = re.compile(r"environ\[[^\]]+\]\s*=|environ\.setdefault|os\.putenv|mallopt\(")


def test_only_process_settings_changes_the_environment_or_malloc():
    found = []
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix not in (".py", ".pyx", ".pxd", ".h") or path.name == "process_settings.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PROCESS_WIDE.search(line.split("#")[0]):
                found.append(f"{path.relative_to(SOURCE)}:{number}: {line.strip()}")
    assert found == [], "process-wide settings outside process_settings.py:\n" + "\n".join(found)


CHILD = ("import os, json, minidl._kernels; "
         "print(json.dumps({k: os.environ.get(k) for k in ('GOMP_SPINCOUNT', 'OMP_NUM_THREADS')}))")


def _child_environment(**variables):
    base = {k: v for k, v in os.environ.items()
            if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", CHILD], env=child_env(base, **variables),
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1]), result.stderr


@pytest.mark.parametrize("variables, spincount", [
    ({}, "200000"),                             # minidl's default
    ({"GOMP_SPINCOUNT": "5"}, "5"),             # a value you set wins
    ({"OMP_WAIT_POLICY": "PASSIVE"}, None),     # so does a wait policy of your own
])
def test_importing_the_kernels_sets_the_spin_count_unless_you_did(variables, spincount):
    environment, _ = _child_environment(**variables)
    assert environment["GOMP_SPINCOUNT"] == spincount


def test_importing_the_kernels_lowers_an_absurd_thread_count_with_a_warning():
    environment, stderr = _child_environment(OMP_NUM_THREADS="100000")
    bound = threads.max_threads()
    assert environment["OMP_NUM_THREADS"] == str(bound)
    assert "OMP_NUM_THREADS: 100000 threads is more than this machine can use" in stderr
