"""1-D convolutions on time series: Conv1D finds short patterns wherever they occur in a sequence.

A ``Conv1D(filters, kernel_size)`` slides ``filters`` small windows of
``kernel_size`` steps along the time axis: at step t each filter computes

    out[t, f] = bias[f] + sum over k < kernel_size, c < channels of x[t + k, c] * W[k, c, f]

the same weights at every step, like Conv2D on a picture but along one axis.
Input ``(batch, steps, channels)``, output ``(batch, steps - kernel_size + 1,
filters)`` ("valid" padding).  Stacked with MaxPooling1D it sees longer and
longer stretches; GlobalMaxPooling1D keeps, per filter, the strongest match
anywhere -- so the model finds a pattern whatever its position.

The task (synthetic, so the script runs offline): 1-channel signals of 128
steps, noise plus one short burst that is either a sine wave (class 0), a
square wave (class 1) or a sawtooth (class 2), placed at a random time.
The first layer's kernels are drawn as ``conv1d_filters.png``, and an example
of each class as ``conv1d_signals.png``.  ``--full`` only makes more signals.
"""

import numpy as np

import minidl
from minidl import layers, plot

import _common

STEPS = 128
CLASSES = ["sine burst", "square burst", "sawtooth burst"]

args = _common.parse_args(__doc__.splitlines()[0])
minidl.utils.set_random_seed(0)


def make_signals(n, rng):
    """``(x float32 (n, 128, 1), y int64 (n,))``: noise plus one 24-step burst of a class's shape."""
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, STEPS)).astype(np.float32)
    t = np.arange(24)
    for i, label in enumerate(y):
        period = rng.uniform(6, 10)
        phase = t / period + rng.uniform(0, 1)
        shape = [np.sin(2 * np.pi * phase),
                 np.sign(np.sin(2 * np.pi * phase)),
                 2 * (phase % 1) - 1][label]
        start = rng.integers(0, STEPS - 24)
        x[i, start:start + 24] += rng.uniform(0.8, 1.2) * shape
    return x[..., None], y  # channels last: one channel


rng = np.random.default_rng(0)
n = 300 if args.quick else (20000 if args.full else 3000)
x_train, y_train = make_signals(n, rng)
x_test, y_test = make_signals(max(n // 5, 100), rng)
print(f"Signals: {x_train.shape} = (samples, steps, channels)")

model = minidl.Sequential([
    layers.Conv1D(16, 7, activation="relu", input_shape=(STEPS, 1)),  # (batch, 122, 16)
    layers.MaxPooling1D(2),                                           # (batch, 61, 16)
    layers.Conv1D(32, 5, activation="relu"),                          # (batch, 57, 32)
    layers.GlobalMaxPooling1D(),                                      # (batch, 32): best match per filter
    layers.Dense(3, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=_common.epochs(args, 10), batch_size=32, validation_split=0.1)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_accuracy:.4f} (chance: 0.33)")

# --- pictures ----------------------------------------------------------------------
try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:
    raise SystemExit("No pictures: pip install minidl[plot]")

figure = Figure(figsize=(10, 5))
FigureCanvasAgg(figure)
panels = figure.subplots(3, 1, sharex=True)
for label, axes in enumerate(panels):
    i = int(np.flatnonzero(y_test == label)[0])
    axes.plot(x_test[i, :, 0], linewidth=1)
    axes.set_title(f"{CLASSES[label]} (predicted: {CLASSES[int(model.predict(x_test[i:i + 1], verbose=0).argmax())]})",
                   fontsize=10)
panels[-1].set_xlabel("step")
figure.tight_layout()
plot.show(figure, args.out / "conv1d_signals.png")

kernels = model.layers[0].get_weights()[0]  # (kernel_size 7, channels 1, filters 16)
figure = Figure(figsize=(10, 4))
FigureCanvasAgg(figure)
panels = figure.subplots(2, 8, sharey=True)
for f, axes in enumerate(panels.flat):
    axes.plot(kernels[:, 0, f], marker="o", markersize=3)
    axes.set_xticks([])
    axes.set_title(f"filter {f}", fontsize=8)
figure.suptitle("The 16 kernels of the first Conv1D (7 steps each)")
figure.tight_layout()
plot.show(figure, args.out / "conv1d_filters.png")
for name in ("conv1d_signals.png", "conv1d_filters.png"):
    print(f"Saved {args.out / name}")
