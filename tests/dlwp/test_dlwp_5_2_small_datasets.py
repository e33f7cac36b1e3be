"""5.2 Using convnets with small datasets (cats vs dogs from a folder of JPEGs).

Kaggle's 25,000 photos cannot be had here: ``original_dataset_dir`` is a folder of
32 small JPEGs made here with Pillow, named as Kaggle names them (``cat.0.jpg``...;
cats reddish, dogs bluish), and the book's code copies them into
train/validation/test folders (8/4/4 per class instead of 1000/500/500).
``steps_per_epoch`` 100 -> 2, epochs 30/100 -> 2, ``validation_steps`` 50 -> 1;
everything else (150x150 inputs, the model, ImageDataGenerator, flow_from_directory,
fit_generator, model.save('....h5')) is the book's.  matplotlib is left out.
"""

import os
import shutil

import numpy as np
import pytest

from minidl import layers, models, optimizers
from minidl.preprocessing import image
from minidl.preprocessing.image import ImageDataGenerator

Image = pytest.importorskip("PIL.Image")


def write_kaggle_like(folder, per_class=16, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder)
    for animal, channel in (("cat", 0), ("dog", 2)):
        for i in range(per_class):
            pixels = rng.integers(0, 90, (50 + i % 7, 60, 3)).astype("uint8")
            pixels[..., channel] += 150
            Image.fromarray(pixels).save(os.path.join(folder, f"{animal}.{i}.jpg"))


def test_using_convnets_with_small_datasets(tmp_path, capsys):
    original_dataset_dir = str(tmp_path / "kaggle_original_data")
    write_kaggle_like(original_dataset_dir)

    # The directory where we will
    # store our smaller dataset
    base_dir = str(tmp_path / "cats_and_dogs_small")
    os.mkdir(base_dir)

    # Directories for our training,
    # validation and test splits
    train_dir = os.path.join(base_dir, 'train')
    os.mkdir(train_dir)
    validation_dir = os.path.join(base_dir, 'validation')
    os.mkdir(validation_dir)
    test_dir = os.path.join(base_dir, 'test')
    os.mkdir(test_dir)

    train_cats_dir = os.path.join(train_dir, 'cats')
    os.mkdir(train_cats_dir)
    train_dogs_dir = os.path.join(train_dir, 'dogs')
    os.mkdir(train_dogs_dir)
    validation_cats_dir = os.path.join(validation_dir, 'cats')
    os.mkdir(validation_cats_dir)
    validation_dogs_dir = os.path.join(validation_dir, 'dogs')
    os.mkdir(validation_dogs_dir)
    test_cats_dir = os.path.join(test_dir, 'cats')
    os.mkdir(test_cats_dir)
    test_dogs_dir = os.path.join(test_dir, 'dogs')
    os.mkdir(test_dogs_dir)

    for animal, (train, validation, test) in (
            ("cat", (train_cats_dir, validation_cats_dir, test_cats_dir)),
            ("dog", (train_dogs_dir, validation_dogs_dir, test_dogs_dir))):
        for start, stop, dst_dir in ((0, 8, train), (8, 12, validation), (12, 16, test)):
            fnames = [animal + '.{}.jpg'.format(i) for i in range(start, stop)]
            for fname in fnames:
                src = os.path.join(original_dataset_dir, fname)
                dst = os.path.join(dst_dir, fname)
                shutil.copyfile(src, dst)

    print('total training cat images:', len(os.listdir(train_cats_dir)))
    assert capsys.readouterr().out == 'total training cat images: 8\n'

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
    model.add(layers.Dense(512, activation='relu'))
    model.add(layers.Dense(1, activation='sigmoid'))
    model.summary()
    assert "Total params: 3,453,121" in capsys.readouterr().out  # the book's count

    with pytest.warns(DeprecationWarning, match="lr"):
        model.compile(loss='binary_crossentropy', optimizer=optimizers.RMSprop(lr=1e-4),
                      metrics=['acc'])

    # All images will be rescaled by 1./255
    train_datagen = ImageDataGenerator(rescale=1./255)
    test_datagen = ImageDataGenerator(rescale=1./255)

    train_generator = train_datagen.flow_from_directory(
        # This is the target directory
        train_dir,
        # All images will be resized to 150x150
        target_size=(150, 150),
        batch_size=20,
        # Since we use binary_crossentropy loss, we need binary labels
        class_mode='binary')

    validation_generator = test_datagen.flow_from_directory(
        validation_dir, target_size=(150, 150), batch_size=20, class_mode='binary')
    assert capsys.readouterr().out == ('Found 16 images belonging to 2 classes.\n'
                                       'Found 8 images belonging to 2 classes.\n')

    for data_batch, labels_batch in train_generator:
        print('data batch shape:', data_batch.shape)
        print('labels batch shape:', labels_batch.shape)
        break
    assert capsys.readouterr().out == ('data batch shape: (16, 150, 150, 3)\n'
                                       'labels batch shape: (16,)\n')
    assert data_batch.max() <= 1.0 and set(labels_batch) == {0.0, 1.0}

    with pytest.warns(DeprecationWarning, match="fit_generator"):
        history = model.fit_generator(train_generator, steps_per_epoch=2, epochs=2,
                                      validation_data=validation_generator,
                                      validation_steps=1, verbose=0)
    model.save('cats_and_dogs_small_1.h5')
    assert os.path.exists('cats_and_dogs_small_1.h5')

    acc = history.history['acc']
    val_acc = history.history['val_acc']
    loss = history.history['loss']
    val_loss = history.history['val_loss']
    assert len(acc) == len(val_acc) == len(loss) == len(val_loss) == 2

    datagen = ImageDataGenerator(
        rotation_range=40,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=0.2,
        zoom_range=0.2,
        horizontal_flip=True,
        fill_mode='nearest')

    # This is module with image preprocessing utilities
    fnames = [os.path.join(train_cats_dir, fname) for fname in sorted(os.listdir(train_cats_dir))]

    # We pick one image to "augment"
    img_path = fnames[3]

    # Read the image and resize it
    img = image.load_img(img_path, target_size=(150, 150))

    # Convert it to a Numpy array with shape (150, 150, 3)
    x = image.img_to_array(img)

    # Reshape it to (1, 150, 150, 3)
    x = x.reshape((1,) + x.shape)

    # The .flow() command below generates batches of randomly transformed images.
    # It will loop indefinitely, so we need to `break` the loop at some point!
    augmented = []
    i = 0
    for batch in datagen.flow(x, batch_size=1):
        augmented.append(image.array_to_img(batch[0]))
        i += 1
        if i % 4 == 0:
            break
    assert len(augmented) == 4 and augmented[0].size == (150, 150)
    assert not all(np.array_equal(image.img_to_array(a), x[0]) for a in augmented)

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

    with pytest.warns(DeprecationWarning, match="lr"):
        model.compile(loss='binary_crossentropy', optimizer=optimizers.RMSprop(lr=1e-4),
                      metrics=['acc'])

    train_datagen = ImageDataGenerator(
        rescale=1./255,
        rotation_range=40,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=0.2,
        zoom_range=0.2,
        horizontal_flip=True,)

    # Note that the validation data should not be augmented!
    test_datagen = ImageDataGenerator(rescale=1./255)

    train_generator = train_datagen.flow_from_directory(
        train_dir, target_size=(150, 150), batch_size=32, class_mode='binary')
    validation_generator = test_datagen.flow_from_directory(
        validation_dir, target_size=(150, 150), batch_size=32, class_mode='binary')

    with pytest.warns(DeprecationWarning, match="fit_generator"):
        history = model.fit_generator(train_generator, steps_per_epoch=2, epochs=2,
                                      validation_data=validation_generator,
                                      validation_steps=1, verbose=0)
    model.save('cats_and_dogs_small_2.h5')
    assert np.isfinite(history.history['val_loss']).all()
