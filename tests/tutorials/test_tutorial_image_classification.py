"""TensorFlow tutorial "Image classification" (tensorflow/docs
site/en/tutorials/images/classification.ipynb), ported with names changed only.

``from tensorflow import keras`` / ``from tensorflow.keras import layers`` /
``from tensorflow.keras.models import Sequential`` -> the same from ``minidl.keras``;
``tf.keras.X`` -> ``keras.X``; ``tf.data.AUTOTUNE`` -> ``minidl.data.AUTOTUNE``;
``tf.nn.softmax`` / ``tf.expand_dims`` -> NumPy.  The 3,670 flower photos
(``get_file(..., untar=True)``) -> 100 small JPEG files written into the same folder
layout (``flower_photos/daisy/*.jpg``, ...), each class a colour with noise, so a
model can tell them apart; img_height and img_width 180 -> 32.  The matplotlib
cells are left out; what they show is asserted instead.  The last section reads its
picture with ``utils.load_img`` and ``img_to_array`` (and once more with Pillow
directly).
"""

import pathlib

import numpy as np
import pytest

import minidl
from minidl import keras
from minidl.keras import layers
from minidl.keras.models import Sequential

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

CLASS_COLOURS = {  # the flowers' colours, roughly
    "daisy": (235, 235, 225), "dandelion": (240, 210, 30), "roses": (200, 20, 40),
    "sunflowers": (245, 150, 20), "tulips": (190, 60, 170),
}
PER_CLASS = 20

batch_size = 32
img_height = 32
img_width = 32


def write_flower_photos(root, seed=0):
    """``get_file('flower_photos', origin=dataset_url, untar=True)``: a folder per class."""
    rng = np.random.default_rng(seed)
    data_dir = pathlib.Path(root) / "flower_photos"
    for name, colour in CLASS_COLOURS.items():
        (data_dir / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            size = (int(rng.integers(36, 60)), int(rng.integers(36, 60)))
            pixels = np.clip(np.array(colour) + rng.normal(0, 35, (*size, 3)), 0, 255)
            background = rng.random(size) < 0.3  # some green leaves
            pixels[background] = (40, 120 + rng.integers(0, 60), 40)
            Image.fromarray(pixels.astype("uint8")).save(data_dir / name / f"{i:03d}.jpg")
    return data_dir


@pytest.fixture
def data_dir(tmp_path):
    return write_flower_photos(tmp_path)


def load_datasets(data_dir):
    train_ds = keras.utils.image_dataset_from_directory(
      data_dir,
      validation_split=0.2,
      subset="training",
      seed=123,
      image_size=(img_height, img_width),
      batch_size=batch_size)
    val_ds = keras.utils.image_dataset_from_directory(
      data_dir,
      validation_split=0.2,
      subset="validation",
      seed=123,
      image_size=(img_height, img_width),
      batch_size=batch_size)
    return train_ds, val_ds


def configured(train_ds, val_ds):
    AUTOTUNE = minidl.data.AUTOTUNE

    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)
    return train_ds, val_ds


def make_data_augmentation():
    return keras.Sequential(
      [
        layers.RandomFlip("horizontal",
                          input_shape=(img_height,
                                      img_width,
                                      3)),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
      ]
    )


# model.summary()'s rows as tf_keras 2.21 prints them for this model (img_height 32).
SUMMARY_ROWS = """\
 rescaling (Rescaling)       (None, 32, 32, 3)         0         
                                                                 
 conv2d (Conv2D)             (None, 32, 32, 16)        448       
                                                                 
 max_pooling2d (MaxPooling2  (None, 16, 16, 16)        0         
 D)                                                              
                                                                 
 conv2d_1 (Conv2D)           (None, 16, 16, 32)        4640      
                                                                 
 max_pooling2d_1 (MaxPoolin  (None, 8, 8, 32)          0         
 g2D)                                                            
                                                                 
 conv2d_2 (Conv2D)           (None, 8, 8, 64)          18496     
                                                                 
 max_pooling2d_2 (MaxPoolin  (None, 4, 4, 64)          0         
 g2D)                                                            
                                                                 
 flatten (Flatten)           (None, 1024)              0         
                                                                 
 dense (Dense)               (None, 128)               131200    
                                                                 
 dense_1 (Dense)             (None, 5)                 645       
                                                                 
================================================================="""


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


# --- Download and explore the dataset -----------------------------------------------------------
def test_download_and_explore_the_dataset(data_dir, capsys):
    image_count = len(list(data_dir.glob('*/*.jpg')))
    print(image_count)
    assert capsys.readouterr().out == "100\n"

    roses = list(data_dir.glob('roses/*'))
    assert PIL.Image.open(str(roses[0])).mode == "RGB"

    tulips = list(data_dir.glob('tulips/*'))
    assert len(tulips) == PER_CLASS


# --- Load data using a Keras utility: create a dataset ------------------------------------------
def test_create_a_dataset(data_dir, capsys):
    train_ds, val_ds = load_datasets(data_dir)
    out = capsys.readouterr().out
    assert out == ("Found 100 files belonging to 5 classes.\nUsing 80 files for training.\n"
                   "Found 100 files belonging to 5 classes.\nUsing 20 files for validation.\n")

    class_names = train_ds.class_names
    print(class_names)
    assert class_names == ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']
    # The same seed splits the files: no file is in both.
    assert not set(train_ds.file_paths) & set(val_ds.file_paths)


# --- Visualize the data ---------------------------------------------------------------------
def test_visualize_the_data(data_dir, capsys):
    train_ds, _ = load_datasets(data_dir)
    class_names = train_ds.class_names
    for images, labels in train_ds.take(1):
        titles = [class_names[labels[i]] for i in range(9)]
        pictures = [images[i].numpy().astype("uint8") for i in range(9)]  # plt.imshow(...)
    assert all(title in class_names for title in titles)
    assert pictures[0].shape == (img_height, img_width, 3)

    capsys.readouterr()
    for image_batch, labels_batch in train_ds:
        print(image_batch.shape)
        print(labels_batch.shape)
        break
    assert capsys.readouterr().out == "(32, 32, 32, 3)\n(32,)\n"


# --- Configure the dataset for performance; standardize the data ----------------------------------
def test_standardize_the_data(data_dir, capsys):
    train_ds, val_ds = configured(*load_datasets(data_dir))

    normalization_layer = layers.Rescaling(1./255)

    normalized_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
    image_batch, labels_batch = next(iter(normalized_ds))
    first_image = image_batch[0]
    # Notice the pixel values are now in `[0,1]`.
    print(np.min(first_image), np.max(first_image))
    low, high = map(float, capsys.readouterr().out.split()[-2:])
    assert 0.0 <= low < high <= 1.0
    assert high > 0.5


def build_model(num_classes):
    return Sequential([
      layers.Rescaling(1./255, input_shape=(img_height, img_width, 3)),
      layers.Conv2D(16, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(32, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(64, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Flatten(),
      layers.Dense(128, activation='relu'),
      layers.Dense(num_classes)
    ])


# --- Create, compile and summarize the model -----------------------------------------------------
def test_create_the_model(data_dir):
    train_ds, _ = load_datasets(data_dir)
    class_names = train_ds.class_names
    num_classes = len(class_names)

    model = build_model(num_classes)

    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    lines = summary_lines(model)
    assert "\n".join(lines[4:28]) == SUMMARY_ROWS
    assert "Total params: 155,429" in lines


# --- Train the model; visualize training results --------------------------------------------------
def test_train_the_model(data_dir, capsys):
    train_ds, val_ds = load_datasets(data_dir)
    class_names = train_ds.class_names
    train_ds, val_ds = configured(train_ds, val_ds)
    model = build_model(len(class_names))
    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    capsys.readouterr()

    epochs=10
    history = model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=epochs
    )
    out = capsys.readouterr().out
    assert "Epoch 10/10\n" in out
    assert "3/3 [==============================]" in out and " - val_accuracy: " in out

    acc = history.history['accuracy']
    val_acc = history.history['val_accuracy']

    loss = history.history['loss']
    val_loss = history.history['val_loss']

    epochs_range = range(epochs)
    assert len(acc) == len(val_acc) == len(loss) == len(val_loss) == len(epochs_range)
    assert loss[-1] < loss[0]
    # Five colours are easy: far above chance (0.2).
    assert val_acc[-1] >= 0.5


# --- Data augmentation ----------------------------------------------------------------------
def test_data_augmentation(data_dir):
    train_ds, _ = load_datasets(data_dir)
    data_augmentation = make_data_augmentation()

    for images, _ in train_ds.take(1):
        augmented = []
        for i in range(9):
            augmented_images = data_augmentation(images)
            augmented.append(augmented_images[0].numpy().astype("uint8"))
    assert augmented[0].shape == (img_height, img_width, 3)
    # As in tf_keras, a direct call augments (the layers' training defaults to True),
    # each time anew; training=False (and predict) leaves the images as they are.
    assert not np.array_equal(augmented[0], augmented[1])
    assert not np.array_equal(augmented[0], images[0].astype("uint8"))
    np.testing.assert_array_equal(data_augmentation(images, training=False).numpy(), images)


# --- Dropout; compile and train the model ---------------------------------------------------------
def augmented_model(num_classes):
    data_augmentation = make_data_augmentation()
    return Sequential([
      data_augmentation,
      layers.Rescaling(1./255),
      layers.Conv2D(16, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(32, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(64, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Dropout(0.2),
      layers.Flatten(),
      layers.Dense(128, activation='relu'),
      layers.Dense(num_classes)
    ])


def test_dropout_compile_and_train_the_model(data_dir):
    train_ds, val_ds = load_datasets(data_dir)
    class_names = train_ds.class_names
    num_classes = len(class_names)
    train_ds, val_ds = configured(train_ds, val_ds)

    model = augmented_model(num_classes)

    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    lines = summary_lines(model)
    assert lines[4].split()[:3] == ["sequential", "(Sequential)", "(None,"]
    assert lines[4].split()[3:] == ["32,", "32,", "3)", "0"]
    assert any(line.split()[:2] == ["dropout", "(Dropout)"] for line in lines)
    assert "Total params: 155,429" in lines

    epochs = 15
    history = model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=epochs
    , verbose=0)
    acc = history.history['accuracy']
    val_acc = history.history['val_accuracy']
    loss = history.history['loss']
    assert len(acc) == epochs
    assert loss[-1] < loss[0]
    assert val_acc[-1] >= 0.5


# --- Predict on new data ----------------------------------------------------------------------
def new_sunflower(tmp_path):
    """A picture of neither set: 'Red_sunflower', written where get_file would put it."""
    rng = np.random.default_rng(99)
    pixels = np.clip(np.array(CLASS_COLOURS["sunflowers"]) + rng.normal(0, 35, (50, 40, 3)),
                     0, 255)
    path = tmp_path / "Red_sunflower.jpg"
    Image.fromarray(pixels.astype("uint8")).save(path)
    return path


def trained_model(data_dir):
    train_ds, val_ds = load_datasets(data_dir)
    class_names = train_ds.class_names
    train_ds, val_ds = configured(train_ds, val_ds)
    model = build_model(len(class_names))
    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    model.fit(train_ds, validation_data=val_ds, epochs=10, verbose=0)
    return model, class_names


def test_predict_on_new_data_load_img(data_dir, tmp_path, capsys):
    """The section as written, with ``utils.load_img`` and ``img_to_array``."""
    model, class_names = trained_model(data_dir)
    sunflower_path = new_sunflower(tmp_path)
    img = keras.utils.load_img(
        sunflower_path, target_size=(img_height, img_width)
    )
    img_array = keras.utils.img_to_array(img)
    img_array = np.expand_dims(img_array, 0)  # Create a batch (tf.expand_dims)

    predictions = model.predict(img_array)
    score = np.exp(predictions[0]) / np.sum(np.exp(predictions[0]))  # tf.nn.softmax
    assert img_array.shape == (1, img_height, img_width, 3) and img_array.dtype == np.float32
    assert class_names[np.argmax(score)] == "sunflowers"


def test_predict_on_new_data(data_dir, tmp_path, capsys):
    """The section with the picture read by Pillow (``load_img``, ``img_to_array``)."""
    model, class_names = trained_model(data_dir)
    sunflower_path = new_sunflower(tmp_path)

    img = Image.open(sunflower_path).convert("RGB").resize((img_width, img_height),
                                                           Image.NEAREST)
    img_array = np.asarray(img, dtype="float32")
    img_array = np.expand_dims(img_array, 0) # Create a batch

    predictions = model.predict(img_array)
    score = np.exp(predictions[0]) / np.sum(np.exp(predictions[0]))  # tf.nn.softmax

    print(
        "This image most likely belongs to {} with a {:.2f} percent confidence."
        .format(class_names[np.argmax(score)], 100 * np.max(score))
    )
    out = capsys.readouterr().out
    assert "This image most likely belongs to sunflowers with a " in out
    assert score.sum() == pytest.approx(1.0, rel=1e-5)
