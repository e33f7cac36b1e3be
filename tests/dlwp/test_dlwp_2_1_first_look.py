"""2.1 A first look at a neural network (MNIST with a two-layer network).

``from keras.datasets import mnist`` -> ``minidl.datasets.mnist`` cannot download
here, so the 60,000 digits are a stand-in: 600 28x28 uint8 images of ten classes
whose pixels tell the class (a bright stripe whose row is the label).
``to_categorical`` comes from ``minidl.utils`` as the book's ``keras.utils``.
"""

import numpy as np

from minidl import layers, models
from minidl.utils import to_categorical

from dlwp_data import mnist_like as load_data


def test_first_look_at_a_neural_network():
    (train_images, train_labels), (test_images, test_labels) = load_data()
    assert train_images.shape == (600, 28, 28) and train_images.dtype == np.uint8

    network = models.Sequential()
    network.add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))
    network.add(layers.Dense(10, activation='softmax'))

    network.compile(optimizer='rmsprop',
                    loss='categorical_crossentropy',
                    metrics=['accuracy'])

    train_images = train_images.reshape((600, 28 * 28))
    train_images = train_images.astype('float32') / 255

    test_images = test_images.reshape((100, 28 * 28))
    test_images = test_images.astype('float32') / 255

    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    history = network.fit(train_images, train_labels, epochs=5, batch_size=128, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]

    test_loss, test_acc = network.evaluate(test_images, test_labels, verbose=0)
    assert test_acc > 0.9, test_acc
    assert network.count_params() == 784 * 512 + 512 + 512 * 10 + 10
