"""7.2 Inspecting and monitoring deep-learning models using Keras callbacks and
TensorBoard (the book's code; the companion notebooks have no 7.2).

IMDB -> the stand-in of 3.5 (word indices below 2000), 400 + 200 reviews; max_len 500
-> 100, and a few epochs.  The book's own callback (``ActivationLogger``) reads
``self.validation_data``, which Keras 1 filled; Keras 2 leaves it None, so the
callback raises its own RuntimeError there, as it does here.
"""

import os

import numpy as np
import pytest

import minidl as keras
from minidl import layers
from minidl.preprocessing import sequence

from dlwp_data import imdb_like

max_features = 2000
max_len = 100


def imdb_model():
    (x_train, y_train), (x_test, y_test) = imdb_like(num_words=max_features)
    x_train = sequence.pad_sequences(x_train, maxlen=max_len)
    x_test = sequence.pad_sequences(x_test, maxlen=max_len)
    model = keras.models.Sequential()
    model.add(layers.Embedding(max_features, 128, input_length=max_len, name='embed'))
    model.add(layers.Conv1D(32, 7, activation='relu'))
    model.add(layers.MaxPooling1D(5))
    model.add(layers.Conv1D(32, 7, activation='relu'))
    model.add(layers.GlobalMaxPooling1D())
    model.add(layers.Dense(1))
    return model, (x_train, y_train), (x_test, y_test)


def test_the_modelcheckpoint_and_earlystopping_callbacks():
    model, (x, y), (x_val, y_val) = imdb_model()
    callbacks_list = [
        keras.callbacks.EarlyStopping(
            monitor='acc',
            patience=1,
        ),
        keras.callbacks.ModelCheckpoint(
            filepath='my_model.h5',
            monitor='val_loss',
            save_best_only=True,
        )
    ]
    model.compile(optimizer='rmsprop',
                  loss='binary_crossentropy',
                  metrics=['acc'])
    history = model.fit(x, y,
                        epochs=3,
                        batch_size=32,
                        callbacks=callbacks_list,
                        validation_data=(x_val, y_val), verbose=0)
    best = int(np.argmin(history.history['val_loss']))
    saved = keras.models.load_model('my_model.h5')
    # the file holds the model of the best epoch: if that was the last, today's model
    if best == len(history.epoch) - 1:
        np.testing.assert_allclose(saved.predict(x_val[:4], verbose=0),
                                   model.predict(x_val[:4], verbose=0), rtol=1e-5)
    assert saved.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(
        history.history['val_loss'][best], rel=1e-4)


def test_the_reducelronplateau_callback():
    model, (x, y), (x_val, y_val) = imdb_model()
    callbacks_list = [
        keras.callbacks.ReduceLROnPlateau(
            monitor='val_loss',
            factor=0.1,
            patience=10,
        )
    ]
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    history = model.fit(x, y,
                        epochs=2,
                        batch_size=32,
                        callbacks=callbacks_list,
                        validation_data=(x_val, y_val), verbose=0)
    assert history.history['lr'] == pytest.approx([1e-3, 1e-3])  # no plateau of 10 epochs


class ActivationLogger(keras.callbacks.Callback):

    def set_model(self, model):
        self.model = model
        layer_outputs = [layer.output for layer in model.layers]
        self.activations_model = keras.models.Model(model.input,
                                                    layer_outputs)

    def on_epoch_end(self, epoch, logs=None):
        if self.validation_data is None:
            raise RuntimeError('Requires validation_data.')
        validation_sample = self.validation_data[0][0:1]
        activations = self.activations_model.predict(validation_sample)
        f = open('activations_at_epoch_' + str(epoch) + '.npz', 'w')
        np.savez(f, activations)
        f.close()


def test_writing_your_own_callback():
    model, (x, y), (x_val, y_val) = imdb_model()
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    logger = ActivationLogger()
    assert logger.validation_data is None  # Keras 2's attribute, never filled
    with pytest.raises(RuntimeError, match='Requires validation_data'):  # as in Keras 2
        model.fit(x, y, epochs=1, batch_size=128, callbacks=[logger],
                  validation_data=(x_val, y_val), verbose=0)
    # set_model built the model of every layer's output
    outputs = logger.activations_model.predict(x_val[:1], verbose=0)
    assert [o.shape for o in outputs] == [(1, 100, 128), (1, 94, 32), (1, 18, 32), (1, 12, 32),
                                          (1, 32), (1, 1)]


def test_introduction_to_tensorboard(capsys):
    model, (x_train, y_train), _ = imdb_model()
    model.summary()
    assert "Total params: 291,937" in capsys.readouterr().out  # tf_keras: the same layers
    model.compile(optimizer='rmsprop',
                  loss='binary_crossentropy',
                  metrics=['acc'])
    os.mkdir('my_log_dir')
    callbacks = [
        keras.callbacks.TensorBoard(
            log_dir='my_log_dir',
            histogram_freq=1,
            embeddings_freq=1,
        )
    ]
    history = model.fit(x_train, y_train,
                        epochs=2,
                        batch_size=128,
                        validation_split=0.2,
                        callbacks=callbacks, verbose=0)
    assert len(history.epoch) == 2
    assert sorted(os.listdir('my_log_dir')) == ['projector_config.pbtxt', 'train', 'validation']
    train = os.listdir(os.path.join('my_log_dir', 'train'))
    assert 'keras_embedding.embed.tsv' in train
    assert any(name.startswith('events.out.tfevents.') for name in train)
    embedding = np.loadtxt(os.path.join('my_log_dir', 'train', 'keras_embedding.embed.tsv'),
                           delimiter='\t')
    np.testing.assert_allclose(embedding, model.get_layer('embed').get_weights()[0], rtol=1e-5)

    from minidl.utils import plot_model
    plot_model(model, to_file='model.png')
    plot_model(model, show_shapes=True, to_file='model.png')
    assert os.path.getsize('model.png') > 0
