"""TensorFlow tutorial "Basic classification: Classify images of clothing"
(tensorflow/docs site/en/tutorials/keras/classification.ipynb), ported with
names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``;
``tf.keras.X`` -> ``keras.X``.  Fashion-MNIST (60,000 + 10,000 images) ->
the sample bundled with minidl (``load_data(sample=True)``: 3,000 + 500
images), of which the first 1,000 training images are used so the file runs
in seconds.  The matplotlib cells (``plt.imshow`` of the images and
``plot_value_array``) are left out; what they show (the pixel range, the
class of each prediction) is asserted instead.
"""

import numpy as np
import pytest

from minidl import keras

N_TRAIN = 1000  # of the sample's 3,000 training images


def load_data():
    fashion_mnist = keras.datasets.fashion_mnist

    # sample=True: the bundled sample instead of the 60,000 downloaded images
    (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data(
        sample=True)
    return (train_images[:N_TRAIN], train_labels[:N_TRAIN]), (test_images, test_labels)


class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']


def build_and_compile():
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(10)
    ])
    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    return model


@pytest.fixture(scope="module")
def trained():
    """The notebook's state after "Train the model": the scaled data and the fitted model."""
    keras.utils.clear_session()
    keras.utils.set_random_seed(1337)
    (train_images, train_labels), (test_images, test_labels) = load_data()
    train_images = train_images / 255.0
    test_images = test_images / 255.0
    model = build_and_compile()
    history = model.fit(train_images, train_labels, epochs=10, verbose=0)
    return model, history, (train_images, train_labels), (test_images, test_labels)


# --- Import the Fashion MNIST dataset ----------------------------------------------------------
def test_import_the_fashion_mnist_dataset():
    (train_images, train_labels), (test_images, test_labels) = load_data()
    assert keras.datasets.fashion_mnist.class_names == class_names


# --- Explore the data ------------------------------------------------------------------------
def test_explore_the_data():
    (train_images, train_labels), (test_images, test_labels) = load_data()
    assert train_images.shape == (N_TRAIN, 28, 28)
    assert len(train_labels) == N_TRAIN
    assert train_labels.dtype == np.uint8
    assert set(np.unique(train_labels)) == set(range(10))
    assert test_images.shape == (500, 28, 28)
    assert len(test_labels) == 500


# --- Preprocess the data ---------------------------------------------------------------------
def test_preprocess_the_data():
    (train_images, train_labels), (test_images, test_labels) = load_data()
    # plt.imshow(train_images[0]); plt.colorbar(): pixel values fall in 0..255
    assert train_images.dtype == np.uint8
    assert train_images[0].max() > 200 and train_images[0].min() == 0

    train_images = train_images / 255.0

    test_images = test_images / 255.0
    assert train_images.dtype == np.float64
    assert 0.0 == train_images.min() < train_images.max() <= 1.0
    assert test_images.max() <= 1.0


# --- Build the model: set up the layers, compile -----------------------------------------------
def test_build_the_model():
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(10)
    ])
    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "sequential"'
    assert lines[4].split() == ["flatten", "(Flatten)", "(None,", "784)", "0"]
    assert lines[6].split() == ["dense", "(Dense)", "(None,", "128)", "100480"]
    assert lines[8].split() == ["dense_1", "(Dense)", "(None,", "10)", "1290"]
    assert "Total params: 101,770" in lines


# --- Train the model: feed the model -----------------------------------------------------------
def test_feed_the_model(capsys):
    (train_images, train_labels), _ = load_data()
    train_images = train_images / 255.0
    model = build_and_compile()

    model.fit(train_images, train_labels, epochs=10)
    out = capsys.readouterr().out
    assert "Epoch 10/10" in out
    assert "32/32 [==============================]" in out
    assert " - loss: " in out and " - accuracy: " in out


def test_feed_the_model_learns(trained):
    _, history, _, _ = trained
    loss, accuracy = history.history["loss"], history.history["accuracy"]
    assert len(loss) == 10
    assert loss[-1] < 0.6 * loss[0]
    # The tutorial reaches about 0.91 on 60,000 images; 1,000 get well past chance (0.1).
    assert accuracy[-1] > 0.8


# --- Evaluate accuracy -------------------------------------------------------------------------
def test_evaluate_accuracy(trained, capsys):
    model, history, _, (test_images, test_labels) = trained
    test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

    print('\nTest accuracy:', test_acc)
    out = capsys.readouterr().out
    assert out.startswith("16/16 - ")
    assert f"\nTest accuracy: {test_acc}\n" in out
    # A little less than on the training data (overfitting), far above chance.
    assert 0.6 < test_acc < history.history["accuracy"][-1]


# --- Make predictions --------------------------------------------------------------------------
def test_make_predictions(trained):
    model, _, _, (test_images, test_labels) = trained
    probability_model = keras.Sequential([model,
                                          keras.layers.Softmax()])

    predictions = probability_model.predict(test_images)

    assert predictions.shape == (500, 10)
    assert predictions[0].shape == (10,)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    logits = model.predict(test_images)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-7)

    assert np.argmax(predictions[0]) == np.argmax(logits[0])
    assert np.mean(np.argmax(predictions, axis=1) == test_labels) > 0.6


# --- Verify predictions ------------------------------------------------------------------------
def test_verify_predictions(trained):
    """plot_image's caption without the plot: "{class} {confidence}% ({true class})"."""
    model, _, _, (test_images, test_labels) = trained
    probability_model = keras.Sequential([model, keras.layers.Softmax()])
    predictions = probability_model.predict(test_images)

    def image_caption(i, predictions_array, true_label):
        predictions_array, true_label = predictions_array, true_label[i]
        predicted_label = np.argmax(predictions_array)
        color = 'blue' if predicted_label == true_label else 'red'
        return "{} {:2.0f}% ({})".format(class_names[predicted_label],
                                         100*np.max(predictions_array),
                                         class_names[true_label]), color

    captions = [image_caption(i, predictions[i], test_labels) for i in range(15)]
    assert all(text.endswith(f"({class_names[test_labels[i]]})")
               for i, (text, _) in enumerate(captions))
    assert sum(color == 'blue' for _, color in captions) >= 9


# --- Use the trained model ---------------------------------------------------------------------
def test_use_the_trained_model(trained, capsys):
    model, _, _, (test_images, test_labels) = trained
    probability_model = keras.Sequential([model, keras.layers.Softmax()])

    # Grab an image from the test dataset.
    img = test_images[1]

    print(img.shape)

    # Add the image to a batch where it's the only member.
    img = (np.expand_dims(img,0))

    print(img.shape)

    predictions_single = probability_model.predict(img)

    print(predictions_single)
    out = capsys.readouterr().out
    assert out.startswith("(28, 28)\n(1, 28, 28)\n")
    assert predictions_single.shape == (1, 10)

    np.testing.assert_allclose(predictions_single[0], probability_model.predict(test_images)[1],
                               rtol=1e-5, atol=1e-7)
