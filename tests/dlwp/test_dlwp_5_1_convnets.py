"""5.1 Introduction to convnets (a small convnet on MNIST).

MNIST -> the stand-in of 2.1 (28x28 uint8 digits whose class is drawn in them),
600 + 100 images; 5 epochs at batch 64 as in the book.  The summaries' parameter
counts are the book's.
"""

import numpy as np

from minidl import layers, models
from minidl.utils import to_categorical

from dlwp_data import mnist_like as load_data


def test_introduction_to_convnets(capsys):
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 3, 3, 64)" in printed and "Total params: 55,744" in printed

    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 576)" in printed and "Total params: 93,322" in printed

    (train_images, train_labels), (test_images, test_labels) = load_data()
    train_images = train_images.reshape((600, 28, 28, 1))
    train_images = train_images.astype('float32') / 255
    test_images = test_images.reshape((100, 28, 28, 1))
    test_images = test_images.astype('float32') / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(train_images, train_labels, epochs=5, batch_size=64, verbose=0)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert test_acc > 0.9, test_acc
    assert np.isfinite(test_loss)
