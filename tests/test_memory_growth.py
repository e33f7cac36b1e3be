"""Training does not leak: scripts/memory_growth.py, run as a test (slow)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_cnn_rss_is_flat_after_the_first_epoch():
    env = child_env()
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "memory_growth.py"), "--samples", "600",
                           "--epochs", "3", "--tolerance-mb", "4"],
                          env=env, capture_output=True, text=True, timeout=600)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    rss = [float(mb) for mb in re.findall(r"RSS ([\d.]+) MB", done.stdout)]
    assert len(rss) == 3
    assert rss[2] - rss[0] <= 4.0
