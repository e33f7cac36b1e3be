"""5.4 Visualizing what convnets learn: intermediate activations, filters, heatmaps.

``cats_and_dogs_small_2.h5`` is 5.2's second model, built and saved here untrained
(the book loads the one it trained); ``cat.1700.jpg`` is a small JPEG made with
Pillow.  The intermediate-activations cells run as in the book (the grid of
channel images is computed with NumPy; matplotlib's ``imshow`` is left out).
Visualizing filters and class-activation heatmaps need VGG16 with its ImageNet
weights (``keras.applications.VGG16``), which minidl does not have: strict xfails.
"""

import os

import numpy as np
import pytest

from minidl import layers, models
from minidl.models import load_model
from minidl.preprocessing import image

Image = pytest.importorskip("PIL.Image")


def save_book_model(path):
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(150, 150, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(128, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(128, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(512, activation='relu'))
    model.add(layers.Dense(1, activation='sigmoid'))
    model.compile(loss='binary_crossentropy', optimizer='rmsprop', metrics=['acc'])
    model.save(path)


def test_visualizing_intermediate_activations(tmp_path, capsys):
    save_book_model('cats_and_dogs_small_2.h5')
    os.makedirs(tmp_path / "test" / "cats")
    pixels = np.random.default_rng(0).integers(0, 255, (90, 120, 3)).astype("uint8")
    Image.fromarray(pixels).save(tmp_path / "test" / "cats" / "cat.1700.jpg")

    model = load_model('cats_and_dogs_small_2.h5')
    model.summary()  # As a reminder.
    assert "Total params: 3,453,121" in capsys.readouterr().out

    img_path = str(tmp_path / "test" / "cats" / "cat.1700.jpg")

    # We preprocess the image into a 4D tensor
    img = image.load_img(img_path, target_size=(150, 150))
    img_tensor = image.img_to_array(img)
    img_tensor = np.expand_dims(img_tensor, axis=0)
    # Remember that the model was trained on inputs
    # that were preprocessed in the following way:
    img_tensor /= 255.

    # Its shape is (1, 150, 150, 3)
    print(img_tensor.shape)
    assert capsys.readouterr().out == "(1, 150, 150, 3)\n"

    # Extracts the outputs of the top 8 layers:
    layer_outputs = [layer.output for layer in model.layers[:8]]
    # Creates a model that will return these outputs, given the model input:
    activation_model = models.Model(inputs=model.input, outputs=layer_outputs)

    # This will return a list of 8 Numpy arrays:
    # one array per layer activation
    activations = activation_model.predict(img_tensor, verbose=0)

    first_layer_activation = activations[0]
    print(first_layer_activation.shape)
    assert capsys.readouterr().out == "(1, 148, 148, 32)\n"

    # These are the names of the layers, so can have them as part of our plot
    layer_names = []
    for layer in model.layers[:8]:
        layer_names.append(layer.name)

    images_per_row = 16
    grids = {}
    # Now let's display our feature maps
    for layer_name, layer_activation in zip(layer_names, activations):
        # This is the number of features in the feature map
        n_features = layer_activation.shape[-1]

        # The feature map has shape (1, size, size, n_features)
        size = layer_activation.shape[1]

        # We will tile the activation channels in this matrix
        n_cols = n_features // images_per_row
        display_grid = np.zeros((size * n_cols, images_per_row * size))

        # We'll tile each filter into this big horizontal grid
        for col in range(n_cols):
            for row in range(images_per_row):
                channel_image = layer_activation[0, :, :, col * images_per_row + row]
                # Post-process the feature to make it visually palatable
                channel_image -= channel_image.mean()
                channel_image /= (channel_image.std() + 1e-5)
                channel_image *= 64
                channel_image += 128
                channel_image = np.clip(channel_image, 0, 255).astype('uint8')
                display_grid[col * size: (col + 1) * size,
                             row * size: (row + 1) * size] = channel_image
        grids[layer_name] = display_grid

    assert layer_names == ['conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1',
                           'conv2d_2', 'max_pooling2d_2', 'conv2d_3', 'max_pooling2d_3']
    assert grids['conv2d'].shape == (148 * 2, 16 * 148)
    assert grids['max_pooling2d_3'].shape == (7 * 8, 16 * 7)


@pytest.mark.xfail(strict=True, raises=(AttributeError, ImportError),
                   reason="needs VGG16 with pretrained ImageNet weights "
                          "(keras.applications.VGG16), which minidl does not have")
def test_visualizing_convnet_filters():
    from minidl import backend as K
    from minidl.applications import VGG16

    model = VGG16(weights='imagenet', include_top=False)
    layer_output = model.get_layer('block3_conv1').output
    loss = K.mean(layer_output[:, :, :, 0])
    K.gradients(loss, model.input)


@pytest.mark.xfail(strict=True, raises=(AttributeError, ImportError),
                   reason="needs VGG16 with pretrained ImageNet weights "
                          "(keras.applications.VGG16), which minidl does not have")
def test_visualizing_heatmaps_of_class_activation():
    from minidl.applications.vgg16 import VGG16

    VGG16(weights='imagenet')
