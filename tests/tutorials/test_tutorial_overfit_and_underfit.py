"""TensorFlow tutorial "Overfit and underfit" (tensorflow/docs
site/en/tutorials/keras/overfit_and_underfit.ipynb), ported with names changed only.

``import tensorflow as tf`` / ``from tensorflow.keras import layers, regularizers``
-> ``from minidl import keras`` / ``from minidl.keras import layers, regularizers``;
``tf.keras.X`` -> ``keras.X``; ``tf.data`` -> ``minidl.data``; ``tf.stack`` /
``tf.add_n`` -> ``np.stack`` / ``sum``.  The Higgs data (11 million rows of a
gzipped CSV read by ``tf.data.experimental.CsvDataset``) -> 600 synthetic rows of
the same layout (a label, then 28 features; the label is a noisy nonlinear
function of a few features, so large models overfit), sliced as the CSV reader
would give them.  Sizes shrink with it: N_VALIDATION 1000 -> 100, N_TRAIN 10000
-> 200, BATCH_SIZE 500 -> 50, and ``compile_and_fit``'s ``max_epochs`` 10000 ->
30; the large models' 512 units -> 128 (the same four layers: at 512 the file
takes ten times as long).  ``tfdocs.modeling.EpochDots`` (a tensorflow_docs helper, not Keras) -> a
``LambdaCallback`` printing the same dots.  ``callbacks.TensorBoard`` writes to the
tutorial's ``logdir`` (a temporary folder, removed when this file's tests end).  Plot
cells and ``%tensorboard`` are left out; what they show (the learning rate, the curves)
is asserted instead.
"""

import functools
import glob
import os
import pathlib
import shutil
import tempfile

import numpy as np
import pytest

import minidl
from minidl import keras
from minidl.callbacks.event_file import read_events
from minidl.keras import layers, regularizers

logdir = pathlib.Path(tempfile.mkdtemp())/"tensorboard_logs"
shutil.rmtree(logdir, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def remove_logdir():
    yield
    shutil.rmtree(logdir.parent, ignore_errors=True)


FEATURES = 28

N_VALIDATION = 100
N_TRAIN = 200
BUFFER_SIZE = 200
BATCH_SIZE = 50
STEPS_PER_EPOCH = N_TRAIN//BATCH_SIZE


def csv_dataset(n=600, seed=0):
    """What ``CsvDataset(gz, [float(),]*(FEATURES+1))`` yields: one tuple of 29 scalars
    a row (the label first)."""
    rng = np.random.default_rng(seed)
    features = np.abs(rng.normal(1.0, 0.6, (n, FEATURES))).astype("float32")
    score = (np.sin(3 * features[:, 0]) * features[:, 1] - (features[:, 2] - 1) ** 2
             + 0.5 * features[:, 3] * features[:, 4] - 0.4)
    label = (score + rng.normal(0, 0.6, n) > 0).astype("float32")
    columns = (label, *features.T)
    return minidl.data.Dataset.from_tensor_slices(columns)


def pack_row(*row):
    label = row[0]
    features = np.stack(row[1:],1)  # tf.stack
    return features, label


def datasets():
    ds = csv_dataset()
    packed_ds = ds.batch(10000).map(pack_row).unbatch()
    validate_ds = packed_ds.take(N_VALIDATION).cache()
    train_ds = packed_ds.skip(N_VALIDATION).take(N_TRAIN).cache()
    validate_ds = validate_ds.batch(BATCH_SIZE)
    train_ds = train_ds.shuffle(BUFFER_SIZE).repeat().batch(BATCH_SIZE)
    return train_ds, validate_ds


lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
  0.001,
  decay_steps=STEPS_PER_EPOCH*1000,
  decay_rate=1,
  staircase=False)


def get_optimizer():
    return keras.optimizers.Adam(lr_schedule)


def epoch_dots():
    """tfdocs.modeling.EpochDots: a '.' each epoch, the logs every 100 epochs."""
    def on_epoch_end(epoch, logs):
        if epoch % 100 == 0:
            print('\nEpoch: {}, '.format(epoch)
                  + ', '.join('{}:{:0.4f}'.format(k, v) for k, v in sorted(logs.items())))
        print('.', end='')
    return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)


def get_callbacks(name):
    return [
        epoch_dots(),
        keras.callbacks.EarlyStopping(monitor='val_binary_crossentropy', patience=200),
        keras.callbacks.TensorBoard(logdir/name),
    ]


def compile_and_fit(model, name, optimizer=None, max_epochs=30):
    train_ds, validate_ds = datasets()
    if optimizer is None:
        optimizer = get_optimizer()
    model.compile(optimizer=optimizer,
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[
                    keras.losses.BinaryCrossentropy(
                        from_logits=True, name='binary_crossentropy'),
                    'accuracy'])

    model.summary()

    history = model.fit(
      train_ds,
      steps_per_epoch = STEPS_PER_EPOCH,
      epochs=max_epochs,
      validation_data=validate_ds,
      callbacks=get_callbacks(name),
      verbose=0)
    return history


def tiny_model():
    return keras.Sequential([
        layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(1)
    ])


def large_model():
    return keras.Sequential([
        layers.Dense(128, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(128, activation='elu'),
        layers.Dense(128, activation='elu'),
        layers.Dense(128, activation='elu'),
        layers.Dense(1)
    ])


def l2_model():
    return keras.Sequential([
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001),
                     input_shape=(FEATURES,)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(1)
    ])


@functools.lru_cache(maxsize=None)
def trained(make_model):
    """One of the tutorial's runs, made once for the whole file: (model, history.history).
    Each starts from the same seed, so models of one shape start from the same weights."""
    keras.utils.set_random_seed(1337)
    model = make_model()
    return model, compile_and_fit(model, make_model.__name__).history


def last(history, key, epochs=10):
    """The mean over the last epochs: the end of a curve without its epoch-to-epoch noise."""
    return float(np.mean(history[key][-epochs:]))


def gap(history):
    """How far the validation loss is above the training loss at the end."""
    return last(history, 'val_binary_crossentropy') - last(history, 'binary_crossentropy')


def squared_kernels(model):
    return sum(float(np.sum(layer.kernel.numpy().astype(np.float64) ** 2))
               for layer in model.layers if hasattr(layer, 'kernel'))


# --- The Higgs dataset -----------------------------------------------------------------------
def test_the_higgs_dataset(capsys):
    ds = csv_dataset()
    packed_ds = ds.batch(10000).map(pack_row).unbatch()

    for features,label in packed_ds.batch(1000).take(1):
        print(features[0])
    assert features.shape == (600, FEATURES) and label.shape == (600,)  # all 600 rows
    assert capsys.readouterr().out.startswith("[")
    assert set(np.unique(label)) == {0.0, 1.0}

    validate_ds = packed_ds.take(N_VALIDATION).cache()
    train_ds = packed_ds.skip(N_VALIDATION).take(N_TRAIN).cache()
    assert sum(1 for _ in validate_ds) == N_VALIDATION
    assert sum(1 for _ in train_ds) == N_TRAIN

    validate_ds = validate_ds.batch(BATCH_SIZE)
    train_ds = train_ds.shuffle(BUFFER_SIZE).repeat().batch(BATCH_SIZE)
    x, y = next(iter(train_ds))
    assert x.shape == (BATCH_SIZE, FEATURES) and y.shape == (BATCH_SIZE,)
    assert train_ds.cardinality() == minidl.data.INFINITE_CARDINALITY
    assert [len(y) for _, y in validate_ds] == [BATCH_SIZE] * (N_VALIDATION // BATCH_SIZE)


# --- Demonstrate overfitting: training procedure ------------------------------------------------
def test_training_procedure():
    step = np.linspace(0,100000)
    lr = lr_schedule(step)
    # "hyperbolically decrease the learning rate to 1/2 of the base rate at 1000 epochs,
    # 1/3 at 2000 epochs and so on"
    np.testing.assert_allclose(lr, 0.001 / (1 + step / (STEPS_PER_EPOCH * 1000)), rtol=1e-6)
    assert float(lr_schedule(STEPS_PER_EPOCH * 1000)) == pytest.approx(0.001 / 2)
    assert float(lr_schedule(STEPS_PER_EPOCH * 2000)) == pytest.approx(0.001 / 3)

    optimizer = get_optimizer()
    assert float(optimizer.learning_rate) == pytest.approx(0.001)


def test_training_procedure_epoch_dots(capsys):
    callbacks = get_callbacks('sizes/Tiny')
    assert isinstance(callbacks[1], keras.callbacks.EarlyStopping)
    model = tiny_model()
    train_ds, validate_ds = datasets()
    model.compile(optimizer=get_optimizer(), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.losses.BinaryCrossentropy(from_logits=True,
                                                           name='binary_crossentropy')])
    model.fit(train_ds, steps_per_epoch=STEPS_PER_EPOCH, epochs=3, validation_data=validate_ds,
              callbacks=callbacks, verbose=0)
    out = capsys.readouterr().out
    assert out.startswith("\nEpoch: 0, binary_crossentropy:")
    assert ", val_binary_crossentropy:" in out
    assert out.endswith("...")


def newest_scalars(run_dir):
    """{tag: [(step, value)]} of the newest event file in ``run_dir`` (the last run's)."""
    path = max(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")),
               key=lambda name: int(name.split(".")[-2]))
    scalars = {}
    for event in read_events(path):
        for value in event["values"]:
            if value["plugin_name"] == "scalars":
                scalars.setdefault(value["tag"], []).append((event["step"], float(value["tensor"])))
    return scalars


def test_training_procedure_tensorboard_callback():
    callback = get_callbacks('sizes/Tiny')[2]
    assert isinstance(callback, keras.callbacks.TensorBoard)
    assert callback.log_dir == str(logdir/'sizes/Tiny')
    model = tiny_model()
    train_ds, validate_ds = datasets()
    model.compile(optimizer=get_optimizer(), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    history = model.fit(train_ds, steps_per_epoch=STEPS_PER_EPOCH, epochs=2,
                        validation_data=validate_ds, callbacks=[callback], verbose=0)
    train = newest_scalars(logdir/'sizes/Tiny'/'train')
    assert sorted(train) == ['epoch_accuracy', 'epoch_learning_rate', 'epoch_loss']
    assert train['epoch_loss'] == [(0, pytest.approx(history.history['loss'][0], rel=1e-6)),
                                   (1, pytest.approx(history.history['loss'][1], rel=1e-6))]
    # the InverseTimeDecay schedule's rate for the step after each epoch
    assert train['epoch_learning_rate'] == [
        (epoch, pytest.approx(float(lr_schedule(STEPS_PER_EPOCH * (epoch + 1))), rel=1e-6))
        for epoch in (0, 1)]
    validation = newest_scalars(logdir/'sizes/Tiny'/'validation')
    assert [step for step, _ in validation['evaluation_loss_vs_iterations']] == [
        STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]
    assert [value for _, value in validation['epoch_loss']] == pytest.approx(
        history.history['val_loss'], rel=1e-6)


# --- Tiny, small, medium and large models -------------------------------------------------------
def test_tiny_model(capsys):
    size_histories = {}
    model = tiny_model()
    history = compile_and_fit(model, 'sizes/Tiny')
    size_histories['Tiny'] = history
    out = capsys.readouterr().out
    assert "Total params: 481" in out
    assert history.epoch == list(range(30))
    h = history.history
    assert sorted(h) == ['accuracy', 'binary_crossentropy', 'loss', 'val_accuracy',
                         'val_binary_crossentropy', 'val_loss']
    # The loss and the metric are the same function without a regularizer.
    np.testing.assert_allclose(h['loss'], h['binary_crossentropy'], rtol=1e-5)
    assert last(h, 'binary_crossentropy') < h['binary_crossentropy'][0]
    assert last(h, 'val_accuracy') > 0.6
    # what `%tensorboard --logdir {logdir}/sizes` would plot: the same curves
    train = newest_scalars(logdir/'sizes/Tiny'/'train')
    assert [step for step, _ in train['epoch_binary_crossentropy']] == list(range(30))
    np.testing.assert_allclose([value for _, value in train['epoch_binary_crossentropy']],
                               h['binary_crossentropy'], rtol=1e-6)


def test_small_model(capsys):
    small_model = keras.Sequential([
        # `input_shape` is only required here so that `.summary` works.
        layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(16, activation='elu'),
        layers.Dense(1)
    ])
    history = compile_and_fit(small_model, 'sizes/Small')
    assert "Total params: 753" in capsys.readouterr().out
    assert last(history.history, 'val_accuracy') > 0.6


def test_medium_model(capsys):
    medium_model = keras.Sequential([
        layers.Dense(64, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(64, activation='elu'),
        layers.Dense(64, activation='elu'),
        layers.Dense(1)
    ])
    history = compile_and_fit(medium_model, "sizes/Medium")
    assert "Total params: 10,241" in capsys.readouterr().out
    h = history.history
    assert last(h, 'binary_crossentropy') < h['binary_crossentropy'][0]


def test_large_model(capsys):
    model = large_model()
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 53,377" in lines
    _, h = trained(large_model)
    # Far more capacity than the problem warrants: the training loss keeps falling
    # while the validation loss has passed its best, early on.
    assert last(h, 'binary_crossentropy') < 0.7 * last(h, 'val_binary_crossentropy')
    assert int(np.argmin(h['val_binary_crossentropy'])) < 10
    assert last(h, 'val_binary_crossentropy') > 1.1 * min(h['val_binary_crossentropy'])


# --- Plot the training and validation losses ----------------------------------------------------
def test_plot_the_training_and_validation_losses():
    """Only the tiny model avoids overfitting: its training and validation losses stay close,
    the large model's part."""
    size_histories = {'Tiny': trained(tiny_model)[1], 'large': trained(large_model)[1]}
    assert gap(size_histories['Tiny']) < 0.1
    assert gap(size_histories['large']) > 3 * gap(size_histories['Tiny'])


# --- Strategies to prevent overfitting: add weight regularization -------------------------------
def test_add_weight_regularization(capsys):
    model = l2_model()
    train_ds, validate_ds = datasets()
    features, _ = next(iter(validate_ds))

    result = model(features)
    regularization_loss=sum(model.losses)  # tf.add_n
    assert result.shape == (BATCH_SIZE, 1)
    assert len(model.losses) == 4
    kernels = [layer.kernel.numpy() for layer in model.layers[:4]]
    expected = sum(0.001 * np.sum(k.astype(np.float64) ** 2) for k in kernels)
    assert float(regularization_loss) == pytest.approx(expected, rel=1e-5)

    # "l2(0.001) means that every coefficient in the weight matrix of the layer will add
    # 0.001 * weight_coefficient_value**2 to the total loss of the network": so the loss
    # is above the binary cross-entropy, which is why the callbacks monitor the latter.
    l2, h = trained(l2_model)
    assert all(loss > bce for loss, bce in zip(h['loss'], h['binary_crossentropy']))
    # The same "Large" model (from the same starting weights) ends with smaller weights.
    large, _ = trained(large_model)
    assert squared_kernels(l2) < 0.9 * squared_kernels(large)


# --- Add dropout ----------------------------------------------------------------------------
def dropout_model():
    return keras.Sequential([
        layers.Dense(128, activation='elu', input_shape=(FEATURES,)),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(1)
    ])


def test_add_dropout():
    model = dropout_model()
    x = next(iter(datasets()[1]))[0]
    # Dropout only when training: inference is deterministic, training is not.
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    assert not np.array_equal(model(x, training=True).numpy(), model(x, training=True).numpy())

    _, h = trained(dropout_model)
    _, large = trained(large_model)
    # Far less overfitting than the "Large" model it is based on.
    assert gap(h) < 0.5 * gap(large)


# --- Combined L2 + dropout ----------------------------------------------------------------------
def combined_model():
    return keras.Sequential([
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu', input_shape=(FEATURES,)),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(1)
    ])


def test_combined_l2_and_dropout():
    regularizer_histories = {}
    regularizer_histories['Tiny'] = trained(tiny_model)[1]
    combined, regularizer_histories['combined'] = trained(combined_model)
    h = regularizer_histories['combined']
    _, large = trained(large_model)
    dropout, _ = trained(dropout_model)
    assert gap(h) < 0.5 * gap(large)
    assert squared_kernels(combined) < squared_kernels(dropout)


def test_early_stopping_ends_a_run_that_stopped_improving():
    """get_callbacks' EarlyStopping (patience=200 over 10,000 epochs in the tutorial; here
    patience=3) ends the large model's run once val_binary_crossentropy stops improving."""
    train_ds, validate_ds = datasets()
    model = large_model()
    model.compile(optimizer=get_optimizer(),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.losses.BinaryCrossentropy(from_logits=True,
                                                           name='binary_crossentropy')])
    history = model.fit(train_ds, steps_per_epoch=STEPS_PER_EPOCH, epochs=60,
                        validation_data=validate_ds, verbose=0,
                        callbacks=[keras.callbacks.EarlyStopping(
                            monitor='val_binary_crossentropy', patience=3)])
    val = history.history['val_binary_crossentropy']
    assert len(val) < 60
    assert int(np.argmin(val)) == len(val) - 4
