"""Tutorial 004, part 5: convolutional neural networks.

1. A Sobel kernel applied by hand: the convolution is a weighted sum of each
   3x3 patch; with positive weights on the left and negative on the right it
   measures how brightness changes from left to right, so vertical edges light
   up (``sobel.png``). ``minidl.ops.conv2d`` computes the same numbers.
2. A small CNN: two Conv2D + MaxPooling2D blocks, then Flatten and two Dense
   layers, trained on Fashion-MNIST.
3. What it learned: the 32 kernels of the first layer (``filters.png``) and the
   activation maps of one test image after every convolution and pooling
   (``activation_maps.png``).
"""

import numpy as np

import minidl
from minidl import layers, plot
from minidl.datasets import fashion_mnist

import _common

args = _common.parse_args(__doc__.splitlines()[0])
minidl.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = _common.load_fashion_mnist(args)
x_train, y_train, x_test, y_test = _common.shorten(args, x_train, y_train, x_test, y_test, size=300)
x_train = x_train.astype("float32")[..., None] / 255.0  # (N, 28, 28, 1): images are channels-last
x_test = x_test.astype("float32")[..., None] / 255.0

# --- 1. A Sobel kernel, by hand ------------------------------------------------------
sobel = np.array([[1, 0, -1],
                  [2, 0, -2],
                  [1, 0, -1]], dtype=np.float32)


def convolve(image, kernel):
    """'valid' convolution as deep-learning frameworks define it (no kernel flip):
    out[i, j] = sum over the 3x3 patch at (i, j) of patch * kernel."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


image = x_test[0, :, :, 0]
edges = convolve(image, sobel)
same = minidl.ops.conv2d(minidl.Tensor(image[None, :, :, None]), minidl.Tensor(sobel[:, :, None, None]))
print("By hand and minidl.ops.conv2d agree:", np.allclose(edges, same.data[0, :, :, 0], atol=1e-5))

# --- 2. The CNN ----------------------------------------------------------------------
model = minidl.Sequential([
    layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=_common.epochs(args, 5), batch_size=32, validation_split=0.1)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_accuracy:.4f}")

# --- 3. Pictures ---------------------------------------------------------------------
try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:
    raise SystemExit("No pictures: pip install minidl[plot]")

figure = Figure(figsize=(10, 3.4))
FigureCanvasAgg(figure)
panels = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.8, 1]})
titles = [f"input: {fashion_mnist.class_names[y_test[0]]}", "Sobel kernel", "output: vertical edges"]
for axes, picture, title, cmap in zip(panels, [image, sobel, edges], titles, ["binary", "RdBu_r", "RdBu_r"]):
    limit = np.abs(picture).max()
    axes.imshow(picture, cmap=cmap, vmin=None if cmap == "binary" else -limit, vmax=None if cmap == "binary" else limit)
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
for (i, j), value in np.ndenumerate(sobel):
    panels[1].text(j, i, f"{value:+.0f}", ha="center", va="center", fontsize=14)
figure.tight_layout()
plot.show(figure, args.out / "sobel.png")  # saved, and shown in a notebook

plot.plot_filters(model.layers[0], path=args.out / "filters.png")
plot.plot_feature_maps(model, x_test[0], path=args.out / "activation_maps.png")
for name in ("sobel.png", "filters.png", "activation_maps.png"):
    print(f"Saved {args.out / name}")
