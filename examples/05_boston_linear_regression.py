"""Tutorial 004, part 3: linear regression as a one-neuron network (Boston housing).

One input (the average number of rooms), one Dense unit computing w*x + b,
the mean squared error as loss, RMSprop as optimizer. Saves the loss curves
and the learned line over the training and test data (``regression.png``).

Offline it runs on a synthetic stand-in shaped like the data set (clearly
announced); ``--full`` uses the real Boston housing file (Keras's
``boston_housing.npz``, split 80/20 with seed 113).
"""

import numpy as np

from minidl import optimizers, plot
from minidl.layers import Dense
from minidl.models import Sequential
from minidl.utils import set_random_seed

import _common

args = _common.parse_args(__doc__.splitlines()[0])
SEED_VALUE = 42
np.random.seed(SEED_VALUE)
set_random_seed(SEED_VALUE)

(X_train, y_train), (X_test, y_test) = _common.load_boston_housing(args)
print(X_train.shape)
print("Input features: ", X_train[0])
print("Output target: ", y_train[0])

# Keep one feature: the average number of rooms (column 5).
boston_features = {"Average Number of Rooms": 5}
X_train_1d = X_train[:, boston_features["Average Number of Rooms"]]
X_test_1d = X_test[:, boston_features["Average Number of Rooms"]]
print(X_train_1d.shape)

# The model: a single neuron, y' = w * x + b.
model = Sequential()
model.add(Dense(units=1, input_shape=(1,)))
model.summary()

model.compile(optimizer=optimizers.RMSprop(learning_rate=0.005), loss="mse")
history = model.fit(X_train_1d, y_train, batch_size=16, epochs=_common.epochs(args, 101), validation_split=0.3)

# Predict the median price of a home with 3, 4, 5, 6, 7 rooms.
x = [3, 4, 5, 6, 7]
y_pred = model.predict(x)
for idx in range(len(x)):
    print(f"Predicted price of a home with {x[idx]} rooms: ${int(y_pred[idx, 0] * 10) / 10}K")

w, b = (float(v.ravel()[0]) for v in model.get_weights())
print(f"Learned line: price = {w:.2f} * rooms + {b:.2f}")


def plot_data(axes, x_data, y_data, x, y, title):
    axes.scatter(x_data, y_data, label="Ground Truth", color="green", alpha=0.5)
    axes.plot(x, y, color="k", label="Model Predictions")
    axes.set_xlim([3, 9])
    axes.set_ylim([0, 60])
    axes.set_xlabel("Average Number of Rooms")
    axes.set_ylabel("Price [$K]")
    axes.set_title(title)
    axes.grid(True)
    axes.legend()


try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:
    raise SystemExit("No pictures: pip install minidl[plot]")

plot.plot_history(history, path=args.out / "regression_loss.png")

line_x = np.linspace(3, 9, 10)
line_y = model.predict(line_x)
figure = Figure(figsize=(14, 4.5))
FigureCanvasAgg(figure)
left, right = figure.subplots(1, 2)
plot_data(left, X_train_1d, y_train, line_x, line_y, title="Training Dataset")
plot_data(right, X_test_1d, y_test, line_x, line_y, title="Test Dataset")
figure.tight_layout()
plot.show(figure, args.out / "regression.png")  # saved, and shown in a notebook
print(f"Saved {args.out / 'regression_loss.png'} and {args.out / 'regression.png'}")
