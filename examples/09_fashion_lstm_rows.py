"""An LSTM reads Fashion-MNIST images row by row: each image is a sequence of 28 steps.

A recurrent layer sees a sequence one step at a time and carries a state from
step to step.  Here the 28 rows of a 28x28 image are the 28 steps, and each row
(28 pixels) is the input of one step, so the input shape is ``(timesteps,
features) = (28, 28)``.  ``LSTM(128)`` keeps a state of 128 numbers, updated
at every row by its gates:

    i, f, o = sigmoid(x_t W_i + h U_i + b_i), ...    # input, forget, output gates
    c = f * c + i * tanh(x_t W_c + h U_c + b_c)      # the cell: what to keep, what to add
    h = o * tanh(c)                                  # the output after this row

and gives the last ``h`` (after the bottom row) to a Dense softmax over the 10
classes.  The same weights are used at every row: the model learns what to
remember while scanning down the picture.

``--full`` trains on all 60,000 images (found in /usr/share/datasets/fashion-mnist
after ``apt-get install dataset-fashion-mnist``, or downloaded) and prints the
test accuracy, the epochs and the seconds it took (about 0.87 after 5 epochs).
"""

import time

import minidl
from minidl import layers
from minidl.datasets import fashion_mnist

import _common

args = _common.parse_args(__doc__.splitlines()[0])
minidl.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = _common.load_fashion_mnist(args)
x_train, y_train, x_test, y_test = _common.shorten(args, x_train, y_train, x_test, y_test, size=300)
# (N, 28, 28): N sequences of 28 steps (the rows), each step 28 features (the pixels of a row)
x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
print(f"Training sequences: {x_train.shape} = (samples, timesteps, features)")

model = minidl.Sequential([
    layers.LSTM(128, input_shape=(28, 28)),  # returns the last step's output: (batch, 128)
    layers.Dense(10, activation="softmax"),
])
model.summary()  # LSTM parameters: 4 gates x (28 inputs + 128 recurrent + 1 bias) x 128 units
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

epochs = _common.epochs(args, 5)
start = time.perf_counter()
model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_split=0.1)
seconds = time.perf_counter() - start
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_accuracy:.4f} after {epochs} epochs on {len(x_train)} images, "
      f"{seconds:.1f} s of training")

# what the model says about a few test images
probabilities = model.predict(x_test[:5], verbose=0)
for label, row in zip(y_test[:5], probabilities):
    print(f"  true {fashion_mnist.class_names[label]:<12} predicted "
          f"{fashion_mnist.class_names[row.argmax()]:<12} ({row.max():.2f})")
