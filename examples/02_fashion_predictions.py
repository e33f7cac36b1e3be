"""Tutorial 001: classify clothes with Flatten -> Dense(128) -> Dense(10), then look at a prediction.

The tutorial's interactive viewer ("Pick a number") becomes an argument:
``--index N`` picks test image N, and the picture with the expected label,
the model's guess and its probability for each class is saved to
``prediction_N.png`` in ``--out``.

    python examples/02_fashion_predictions.py --index 7
"""

import numpy as np

import minidl
from minidl import layers, plot

import _common


def add_arguments(parser):
    parser.add_argument("--index", type=int, default=0, help="which test image to look at (default 0)")


args = _common.parse_args(__doc__.splitlines()[0], add_arguments)
minidl.utils.set_random_seed(0)

(train_images, train_labels), (test_images, test_labels) = _common.load_fashion_mnist(args)
train_images, train_labels, test_images, test_labels = _common.shorten(
    args, train_images, train_labels, test_images, test_labels)
print("train_images.shape:", train_images.shape)
print("one pixel, train_images[0, 23, 23]:", train_images[0, 23, 23])
print("the first 10 labels:", train_labels[:10])

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Preprocess: scale the grey values 0..255 to 0..1.
train_images = train_images / 255.0
test_images = test_images / 255.0

model = minidl.Sequential([
    layers.Flatten(input_shape=(28, 28)),    # input layer (1): 784 neurons
    layers.Dense(128, activation="relu"),    # hidden layer (2)
    layers.Dense(10, activation="softmax"),  # output layer (3): one probability per class
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=_common.epochs(args, 10))

test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=1)
print("Test accuracy:", test_acc)

# Predictions: one row of 10 probabilities per image; argmax picks the class.
predictions = model.predict(test_images)
print("predictions[0]:", predictions[0])
print("np.argmax(predictions[0]):", np.argmax(predictions[0]), "- test_labels[0]:", test_labels[0])


def show_prediction(model, image, correct_label, path):
    """The tutorial's viewer: the image, what was expected, what the model guessed, and how sure it was."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    probabilities = model.predict(np.array([image]), verbose=0)[0]
    guess = int(np.argmax(probabilities))
    figure = Figure(figsize=(9, 3.6))
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    shown = left.imshow(image, cmap="binary")
    figure.colorbar(shown, ax=left)
    left.set_title("Expected: " + class_names[correct_label])
    left.set_xlabel("Guess: " + class_names[guess], color="tab:green" if guess == correct_label else "red")
    left.set_xticks([])
    left.set_yticks([])
    colors = ["tab:gray"] * 10
    colors[guess] = "red"
    colors[correct_label] = "tab:green"
    right.barh(range(10), probabilities, color=colors)
    right.set_yticks(range(10), class_names)
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.set_xlabel("probability")
    figure.tight_layout()
    plot.show(figure, path)  # saved, and shown below the cell in a notebook
    return guess


if not 0 <= args.index < len(test_images):
    raise SystemExit(f"--index must be between 0 and {len(test_images) - 1}, received {args.index}.")
path = args.out / f"prediction_{args.index}.png"
guess = show_prediction(model, test_images[args.index], int(test_labels[args.index]), path)
print(f"Test image {args.index}: expected {class_names[test_labels[args.index]]}, guessed {class_names[guess]}.")
print(f"Saved {path}")
