"""Every example runs, in its short mode, offline, and writes its pictures."""

import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# script, extra arguments, pictures it must write
CASES = [
    ("01_fashion_mlp.py", [], []),
    ("02_fashion_predictions.py", ["--index", "3"], ["prediction_3.png"]),
    ("03_fashion_300_100.py", [], ["learning_curves.png"]),
    ("04_layers_and_models.py", [], []),
    ("05_boston_linear_regression.py", [], ["regression_loss.png", "regression.png"]),
    ("06_mnist_mlp.py", [], ["mnist_curves.png", "mnist_confusion_matrix.png"]),
    ("07_fashion_cnn.py", [], ["sobel.png", "filters.png", "activation_maps.png"]),
    ("08_custom_op_and_layer.py", [], []),
    ("09_fashion_lstm_rows.py", [], []),
    ("10_imdb_lstm.py", [], []),
    ("11_conv1d_sequences.py", [], ["conv1d_signals.png", "conv1d_filters.png"]),
]


def test_every_example_is_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("[0-9]*.py"))
    assert scripts == sorted(case[0] for case in CASES)


@pytest.mark.parametrize("script, arguments, pictures", CASES, ids=[case[0] for case in CASES])
def test_example_runs(script, arguments, pictures, tmp_path):
    pytest.importorskip("matplotlib")
    env = child_env(HOME=str(tmp_path), USERPROFILE=str(tmp_path), MPLBACKEND="Agg")
    env.pop("MINIDL_DATA", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(tmp_path / "out"), *arguments],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for picture in pictures:
        data = (tmp_path / "out" / picture).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", picture
