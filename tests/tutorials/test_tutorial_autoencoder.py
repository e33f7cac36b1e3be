"""TensorFlow tutorial "Intro to Autoencoders" (tensorflow/docs
site/en/tutorials/generative/autoencoder.ipynb), ported with names changed only.

``from tensorflow.keras import layers, losses`` / ``...datasets import fashion_mnist``
/ ``...models import Model`` -> the same from ``minidl.keras``; ``tf.keras.X`` ->
``keras.X``; ``tf.random.normal`` -> ``keras.random.normal``; ``tf.clip_by_value`` /
``tf.newaxis`` / ``tf.squeeze`` / ``tf.reduce_min`` / ``tf.reduce_max`` / ``tf.cast`` /
``tf.math.less`` -> NumPy.  Fashion-MNIST -> the sample bundled with minidl (its
first 600 training and 100 test images).  The ECG5000 CSV (read with pandas, split
with scikit-learn's ``train_test_split``, scored with its ``accuracy_score``,
``precision_score``, ``recall_score``) -> 500 synthetic heartbeats of 140 points
(normal ones one smooth shape, abnormal ones distorted), split and scored with NumPy.
The plot cells are left out; what they show is asserted instead.
"""

import numpy as np

from minidl import keras
from minidl.keras import layers, losses
from minidl.keras.datasets import fashion_mnist
from minidl.keras.models import Model


def load_data():
    # fashion_mnist.load_data(): the bundled sample, its first 600 + 100 images
    (x_train, _), (x_test, _) = fashion_mnist.load_data(sample=True)
    return (x_train[:600], None), (x_test[:100], None)


latent_dim = 64


class Autoencoder(Model):
    def __init__(self, latent_dim):
        super(Autoencoder, self).__init__()
        self.latent_dim = latent_dim
        self.encoder = keras.Sequential([
          layers.Flatten(),
          layers.Dense(latent_dim, activation='relu'),
        ])
        self.decoder = keras.Sequential([
          layers.Dense(784, activation='sigmoid'),
          layers.Reshape((28, 28))
        ])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


class Denoise(Model):
    def __init__(self):
        super(Denoise, self).__init__()
        self.encoder = keras.Sequential([
          layers.Input(shape=(28, 28, 1)),
          layers.Conv2D(16, (3,3), activation='relu', padding='same', strides=2),
          layers.Conv2D(8, (3,3), activation='relu', padding='same', strides=2)])

        self.decoder = keras.Sequential([
          layers.Conv2DTranspose(8, kernel_size=3, strides=2, activation='relu', padding='same'),
          layers.Conv2DTranspose(16, kernel_size=3, strides=2, activation='relu', padding='same'),
          layers.Conv2D(1, kernel_size=(3,3), activation='sigmoid', padding='same')])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


class AnomalyDetector(Model):
    def __init__(self):
        super(AnomalyDetector, self).__init__()
        self.encoder = keras.Sequential([
          layers.Dense(32, activation="relu"),
          layers.Dense(16, activation="relu"),
          layers.Dense(8, activation="relu")])

        self.decoder = keras.Sequential([
          layers.Dense(16, activation="relu"),
          layers.Dense(32, activation="relu"),
          layers.Dense(140, activation="sigmoid")])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


# --- Load the dataset -----------------------------------------------------------------------
def test_load_the_dataset(capsys):
    (x_train, _), (x_test, _) = load_data()

    x_train = x_train.astype('float32') / 255.
    x_test = x_test.astype('float32') / 255.

    print (x_train.shape)
    print (x_test.shape)
    assert capsys.readouterr().out == "(600, 28, 28)\n(100, 28, 28)\n"
    assert 0.0 <= x_train.min() < x_train.max() <= 1.0


# --- First example: basic autoencoder --------------------------------------------------------
def test_first_example_basic_autoencoder(capsys):
    (x_train, _), (x_test, _) = load_data()
    x_train = x_train.astype('float32') / 255.
    x_test = x_test.astype('float32') / 255.

    autoencoder = Autoencoder(latent_dim)

    autoencoder.compile(optimizer='adam', loss=losses.MeanSquaredError())

    history = autoencoder.fit(x_train, x_train,
                              epochs=10,
                              shuffle=True,
                              validation_data=(x_test, x_test))
    out = capsys.readouterr().out
    assert "Epoch 10/10\n19/19 [==============================]" in out
    assert sorted(history.history) == ['loss', 'val_loss']
    loss = history.history['val_loss']
    assert loss[-1] < 0.5 * loss[0]

    encoded_imgs = autoencoder.encoder(x_test).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (100, latent_dim)
    assert decoded_imgs.shape == (100, 28, 28)
    # The reconstructions are closer to their own originals than to the average picture.
    error = np.mean((decoded_imgs - x_test) ** 2)
    assert error < 0.5 * np.mean((x_test.mean(axis=0) - x_test) ** 2)
    assert error == np.float32(loss[-1]) or abs(error - loss[-1]) < 1e-5


# --- Second example: image denoising ---------------------------------------------------------
def noisy_data():
    (x_train, _), (x_test, _) = load_data()
    x_train = x_train.astype('float32') / 255.
    x_test = x_test.astype('float32') / 255.

    x_train = x_train[..., np.newaxis]
    x_test = x_test[..., np.newaxis]

    noise_factor = 0.2
    x_train_noisy = x_train + noise_factor * keras.random.normal(shape=x_train.shape).numpy()
    x_test_noisy = x_test + noise_factor * keras.random.normal(shape=x_test.shape).numpy()

    x_train_noisy = np.clip(x_train_noisy, 0., 1.)  # tf.clip_by_value
    x_test_noisy = np.clip(x_test_noisy, 0., 1.)
    return x_train, x_test, x_train_noisy, x_test_noisy


def test_second_example_image_denoising_data(capsys):
    x_train, x_test, x_train_noisy, x_test_noisy = noisy_data()
    print(x_train.shape)
    assert capsys.readouterr().out == "(600, 28, 28, 1)\n"
    assert x_train_noisy.shape == x_train.shape and x_train_noisy.dtype == np.float32
    assert 0.0 <= x_test_noisy.min() and x_test_noisy.max() <= 1.0
    # About a fifth of a grey level of noise, clipped at 0 and 1.
    assert 0.1 < np.std(x_train_noisy - x_train) < 0.2
    assert np.squeeze(x_test_noisy[0]).shape == (28, 28)  # tf.squeeze, for plt.imshow


def test_define_a_convolutional_autoencoder():
    x_train, x_test, x_train_noisy, x_test_noisy = noisy_data()
    autoencoder = Denoise()

    autoencoder.compile(optimizer='adam', loss=losses.MeanSquaredError())

    history = autoencoder.fit(x_train_noisy, x_train,
                              epochs=10,
                              shuffle=True,
                              validation_data=(x_test_noisy, x_test), verbose=0)
    val_loss = history.history['val_loss']
    assert val_loss[-1] < 0.6 * val_loss[0]

    # The encoder downsamples the images from 28x28 to 7x7 ...
    lines = summary_lines(autoencoder.encoder)
    assert lines[4].split() == ["conv2d", "(Conv2D)", "(None,", "14,", "14,", "16)", "160"]
    assert lines[6].split() == ["conv2d_1", "(Conv2D)", "(None,", "7,", "7,", "8)", "1160"]
    assert "Total params: 1,320" in lines
    # ... and the decoder upsamples them back to 28x28.
    lines = summary_lines(autoencoder.decoder)
    assert lines[4].split()[-5:] == ["(None,", "14,", "14,", "8)", "584"]
    assert lines[7].split()[-5:] == ["(None,", "28,", "28,", "16)", "1168"]
    assert lines[10].split() == ["conv2d_2", "(Conv2D)", "(None,", "28,", "28,", "1)", "145"]
    assert "Total params: 1,897" in lines

    encoded_imgs = autoencoder.encoder(x_test).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (100, 7, 7, 8)
    assert decoded_imgs.shape == (100, 28, 28, 1)
    # Denoised: the reconstructions of the noisy pictures are nearer the clean ones
    # than the noisy pictures are.
    denoised = autoencoder.predict(x_test_noisy, verbose=0)
    assert np.mean((denoised - x_test) ** 2) < np.mean((x_test_noisy - x_test) ** 2)


# --- Third example: anomaly detection --------------------------------------------------------
def ecg_data(n=500, seed=0):
    """What ``pd.read_csv('.../ecg.csv', header=None).values`` holds: 140 readings and a
    label (1 normal, 0 abnormal) a row."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 140)
    normal = np.exp(-((t - 0.3) / 0.03) ** 2) * 3 - np.exp(-((t - 0.6) / 0.1) ** 2)
    labels = (rng.random(n) < 0.6).astype(float)
    shift = np.where(labels == 1, 0.0, rng.uniform(0.1, 0.3, n))
    beats = np.array([np.interp(t - s, t, normal) for s in shift])
    beats[labels == 0] *= rng.uniform(0.3, 0.6, (int((labels == 0).sum()), 1))
    beats += rng.normal(0, 0.1, beats.shape)
    return np.column_stack([beats, labels])


def anomaly_data():
    raw_data = ecg_data()
    # The last element contains the labels
    labels = raw_data[:, -1]

    # The other data points are the electrocadriogram data
    data = raw_data[:, 0:-1]

    # train_test_split(data, labels, test_size=0.2, random_state=21)
    order = np.random.default_rng(21).permutation(len(data))
    n_test = int(0.2 * len(data))
    train_data, test_data = data[order[n_test:]], data[order[:n_test]]
    train_labels, test_labels = labels[order[n_test:]], labels[order[:n_test]]

    min_val = np.min(train_data)  # tf.reduce_min
    max_val = np.max(train_data)

    train_data = (train_data - min_val) / (max_val - min_val)
    test_data = (test_data - min_val) / (max_val - min_val)

    train_data = train_data.astype(np.float32)  # tf.cast
    test_data = test_data.astype(np.float32)

    train_labels = train_labels.astype(bool)
    test_labels = test_labels.astype(bool)

    normal_train_data = train_data[train_labels]
    normal_test_data = test_data[test_labels]

    anomalous_train_data = train_data[~train_labels]
    anomalous_test_data = test_data[~test_labels]
    return (train_data, test_data, test_labels, normal_train_data, normal_test_data,
            anomalous_train_data, anomalous_test_data)


def test_third_example_anomaly_detection(capsys):
    (train_data, test_data, test_labels, normal_train_data, normal_test_data,
     anomalous_train_data, anomalous_test_data) = anomaly_data()
    assert train_data.shape == (400, 140) and test_data.shape == (100, 140)
    assert len(normal_train_data) + len(anomalous_train_data) == 400

    autoencoder = AnomalyDetector()

    autoencoder.compile(optimizer='adam', loss='mae')

    # batch_size 512 -> 32: a few hundred heartbeats make one batch of 512
    history = autoencoder.fit(normal_train_data, normal_train_data,
              epochs=20,
              batch_size=32,
              validation_data=(test_data, test_data),
              shuffle=True, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]

    encoded_imgs = autoencoder.encoder(normal_test_data).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (len(normal_test_data), 8)
    normal_error = np.mean(np.abs(decoded_imgs - normal_test_data))

    encoded_imgs = autoencoder.encoder(anomalous_test_data).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    anomalous_error = np.mean(np.abs(decoded_imgs - anomalous_test_data))
    assert anomalous_error > 1.5 * normal_error

    # Detect anomalies
    reconstructions = autoencoder.predict(normal_train_data)
    train_loss = keras.losses.mae(reconstructions, normal_train_data)
    np.testing.assert_allclose(train_loss.numpy(),
                               np.mean(np.abs(reconstructions - normal_train_data), axis=-1),
                               rtol=1e-5)

    threshold = np.mean(train_loss) + np.std(train_loss)
    print("Threshold: ", threshold)
    assert capsys.readouterr().out.endswith(f"Threshold:  {threshold}\n")

    reconstructions = autoencoder.predict(anomalous_test_data)
    test_loss = keras.losses.mae(reconstructions, anomalous_test_data)
    # "most have greater reconstruction error than the threshold"
    assert np.mean(np.greater(test_loss, threshold)) > 0.5

    def predict(model, data, threshold):
        reconstructions = model(data)
        loss = keras.losses.mae(reconstructions, data)
        return np.less(loss, threshold)  # tf.math.less

    def print_stats(predictions, labels):
        # sklearn.metrics' accuracy_score, precision_score, recall_score
        accuracy = np.mean(predictions == labels)
        precision = np.sum(predictions & labels) / np.sum(predictions)
        recall = np.sum(predictions & labels) / np.sum(labels)
        print("Accuracy = {}".format(accuracy))
        print("Precision = {}".format(precision))
        print("Recall = {}".format(recall))
        return accuracy, precision, recall

    preds = predict(autoencoder, test_data, threshold)
    accuracy, precision, recall = print_stats(preds, test_labels)
    assert capsys.readouterr().out.startswith("Accuracy = ")
    assert accuracy > 0.8 and precision > 0.8 and recall > 0.7
