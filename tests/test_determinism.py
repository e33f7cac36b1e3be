"""Same seed, same weights, bit for bit: across processes and with 1 or 2 threads.

Each run is a fresh Python process that seeds minidl, trains the MLP of the
first tutorial (784-128-10 with Dropout(0.2), Adam(0.001)) and the tutorial CNN
for 2 epochs on the bundled Fashion-MNIST sample, and prints the SHA-256 of
every weight's bytes.  Three runs with ``OMP_NUM_THREADS=1`` must print the
same digests, and three runs with ``OMP_NUM_THREADS=2`` must too (each
setting is compared with itself: a different thread count may sum in another
order).
"""

import json
import subprocess
import sys
import textwrap

import pytest
from child_env import child_env

CHILD = textwrap.dedent(r"""
    import hashlib, json, sys
    import numpy as np
    import minidl
    from minidl import layers
    from minidl.datasets import fashion_mnist

    n_mlp, n_cnn = int(sys.argv[1]), int(sys.argv[2])
    (x, y), _ = fashion_mnist.load_data(sample=True)
    x = x.astype("float32") / 255.0

    def digest(model):
        h = hashlib.sha256()
        for w in model.get_weights():
            h.update(np.ascontiguousarray(w).tobytes())
        return h.hexdigest()

    minidl.utils.set_random_seed(42)
    mlp = minidl.models.Sequential()
    mlp.add(layers.Dense(units=128, activation="relu", input_shape=(784,)))
    mlp.add(layers.Dropout(0.2))
    mlp.add(layers.Dense(units=10, activation="softmax"))
    mlp.compile(optimizer=minidl.optimizers.Adam(learning_rate=0.001),
                loss=minidl.losses.sparse_categorical_crossentropy,
                metrics=[minidl.metrics.sparse_categorical_accuracy])
    mlp.fit(x[:n_mlp].reshape(-1, 784), y[:n_mlp], epochs=2, verbose=0)

    minidl.utils.set_random_seed(42)
    cnn = minidl.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    cnn.fit(x[:n_cnn, :, :, None], y[:n_cnn], epochs=2, batch_size=32, validation_split=0.1, verbose=0)
    print(json.dumps({"mlp": digest(mlp), "cnn": digest(cnn)}))
""")


def run(threads, n_mlp, n_cnn):
    env = child_env(OMP_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_NUM_THREADS", None)  # BLAS follows OMP_NUM_THREADS too
    done = subprocess.run([sys.executable, "-c", CHILD, str(n_mlp), str(n_cnn)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(n_mlp, n_cnn, runs=3):
    digests = {}
    for threads in (1, 2):
        results = [run(threads, n_mlp, n_cnn) for _ in range(runs)]
        for model in ("mlp", "cnn"):
            seen = {r[model] for r in results}
            assert len(seen) == 1, f"{model} with OMP_NUM_THREADS={threads}: {runs} runs gave {len(seen)} different weights"
        digests[threads] = results[0]
    return digests


def test_same_seed_same_weights_short():
    check(n_mlp=600, n_cnn=96)


@pytest.mark.slow
def test_same_seed_same_weights_full_sample():
    """The whole bundled sample (3000 images) for the MLP, 1000 for the CNN."""
    check(n_mlp=3000, n_cnn=1000)
