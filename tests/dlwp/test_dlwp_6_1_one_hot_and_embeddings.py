"""6.1 One-hot encoding of words or characters, and Using word embeddings.

Two notebooks in one file (the same section 6.1).  ``imdb.load_data`` -> the stand-in
of 3.5; the raw ``aclImdb`` folder (train/neg, train/pos, test/... text files) -> a
tiny folder of the same layout written here (40 reviews per split); GloVe's
``glove.6B.100d.txt`` -> a file in GloVe's format (a word, then 100 numbers, per
line) made here with random vectors, since the real one cannot be downloaded.
Epochs 10 -> 3; ``validation_samples`` 10000 -> 20.  matplotlib is left out.
"""

import os
import string

import numpy as np

from minidl import preprocessing
from minidl.layers import Dense, Embedding, Flatten
from minidl.models import Sequential
from minidl.preprocessing.sequence import pad_sequences
from minidl.preprocessing.text import Tokenizer

from dlwp_data import imdb_like


def test_one_hot_encoding_of_words_or_characters(capsys):
    # This is our initial data; one entry per "sample"
    samples = ['The cat sat on the mat.', 'The dog ate my homework.']

    # First, build an index of all tokens in the data.
    token_index = {}
    for sample in samples:
        for word in sample.split():
            if word not in token_index:
                token_index[word] = len(token_index) + 1
    max_length = 10
    results = np.zeros((len(samples), max_length, max(token_index.values()) + 1))
    for i, sample in enumerate(samples):
        for j, word in list(enumerate(sample.split()))[:max_length]:
            index = token_index.get(word)
            results[i, j, index] = 1.
    assert results.shape == (2, 10, 11) and results.sum() == 11

    characters = string.printable  # All printable ASCII characters.
    token_index = dict(zip(range(1, len(characters) + 1), characters))
    max_length = 50
    results = np.zeros((len(samples), max_length, max(token_index.keys()) + 1))
    for i, sample in enumerate(samples):
        for j, character in enumerate(sample[:max_length]):
            index = token_index.get(character)
            results[i, j, index] = 1.
    assert results.shape == (2, 50, 101)

    # We create a tokenizer, configured to only take
    # into account the top-1000 most common words
    tokenizer = Tokenizer(num_words=1000)
    # This builds the word index
    tokenizer.fit_on_texts(samples)
    # This turns strings into lists of integer indices.
    sequences = tokenizer.texts_to_sequences(samples)
    # You could also directly get the one-hot binary representations.
    one_hot_results = tokenizer.texts_to_matrix(samples, mode='binary')
    # This is how you can recover the word index that was computed
    word_index = tokenizer.word_index
    print('Found %s unique tokens.' % len(word_index))
    assert capsys.readouterr().out == 'Found 9 unique tokens.\n'  # as Keras prints it
    assert sequences == [[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]
    assert one_hot_results.shape == (2, 1000) and one_hot_results[0, 1] == 1.

    dimensionality = 1000
    max_length = 10
    results = np.zeros((len(samples), max_length, dimensionality))
    for i, sample in enumerate(samples):
        for j, word in list(enumerate(sample.split()))[:max_length]:
            index = abs(hash(word)) % dimensionality
            results[i, j, index] = 1.
    assert results.sum() == 11


def test_learning_word_embeddings_with_the_embedding_layer(capsys):
    embedding_layer = Embedding(1000, 64)
    assert embedding_layer.output_dim == 64

    max_features = 10000
    maxlen = 20
    (x_train, y_train), (x_test, y_test) = imdb_like(num_words=max_features)
    x_train = preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
    x_test = preprocessing.sequence.pad_sequences(x_test, maxlen=maxlen)

    model = Sequential()
    model.add(Embedding(10000, 8, input_length=maxlen))
    model.add(Flatten())
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    model.summary()
    printed = capsys.readouterr().out
    assert "(None, 20, 8)" in printed and "Total params: 80,161" in printed

    history = model.fit(x_train, y_train, epochs=3, batch_size=32, validation_split=0.2,
                        verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]


def write_acl_imdb(root, per_class=20, seed=0):
    rng = np.random.default_rng(seed)
    good = ["great", "wonderful", "moving", "superb", "brilliant"]
    bad = ["awful", "boring", "dull", "terrible", "worst"]
    filler = ["the", "movie", "film", "plot", "actor", "scene", "was", "and", "a", "story"]
    for split in ("train", "test"):
        for label_type in ("neg", "pos"):
            folder = os.path.join(root, split, label_type)
            os.makedirs(folder)
            for k in range(per_class):
                words = list(rng.choice(filler, 30)) + list(rng.choice(
                    good if label_type == "pos" else bad, 5))
                rng.shuffle(words)
                with open(os.path.join(folder, f"{k}_{rng.integers(1, 10)}.txt"), "w") as f:
                    f.write(" ".join(words).capitalize() + ".")


def write_glove(path, words, dim=100, seed=0):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for word in words:
            f.write(word + " " + " ".join(f"{v:.5f}" for v in rng.normal(size=dim)) + "\n")


def test_from_raw_text_to_word_embeddings_with_glove(tmp_path):
    write_acl_imdb(str(tmp_path / "aclImdb"))

    imdb_dir = str(tmp_path / "aclImdb")
    train_dir = os.path.join(imdb_dir, 'train')

    labels = []
    texts = []

    for label_type in ['neg', 'pos']:
        dir_name = os.path.join(train_dir, label_type)
        for fname in os.listdir(dir_name):
            if fname[-4:] == '.txt':
                f = open(os.path.join(dir_name, fname))
                texts.append(f.read())
                f.close()
                if label_type == 'neg':
                    labels.append(0)
                else:
                    labels.append(1)

    maxlen = 100  # We will cut reviews after 100 words
    training_samples = 20  # We will be training on 200 samples
    validation_samples = 20  # We will be validating on 10000 samples
    max_words = 10000  # We will only consider the top 10,000 words in the dataset

    tokenizer = Tokenizer(num_words=max_words)
    tokenizer.fit_on_texts(texts)
    sequences = tokenizer.texts_to_sequences(texts)

    word_index = tokenizer.word_index
    assert len(word_index) == 20  # 10 filler + 5 good + 5 bad words

    data = pad_sequences(sequences, maxlen=maxlen)

    labels = np.asarray(labels)
    assert data.shape == (40, 100) and labels.shape == (40,)

    # Split the data into a training set and a validation set
    # But first, shuffle the data, since we started from data
    # where sample are ordered (all negative first, then all positive).
    indices = np.arange(data.shape[0])
    np.random.shuffle(indices)
    data = data[indices]
    labels = labels[indices]

    x_train = data[:training_samples]
    y_train = labels[:training_samples]
    x_val = data[training_samples: training_samples + validation_samples]
    y_val = labels[training_samples: training_samples + validation_samples]

    glove_dir = str(tmp_path)
    write_glove(os.path.join(glove_dir, 'glove.6B.100d.txt'),
                list(word_index) + ["unused", "words"])

    embeddings_index = {}
    f = open(os.path.join(glove_dir, 'glove.6B.100d.txt'))
    for line in f:
        values = line.split()
        word = values[0]
        coefs = np.asarray(values[1:], dtype='float32')
        embeddings_index[word] = coefs
    f.close()
    assert len(embeddings_index) == 22

    embedding_dim = 100

    embedding_matrix = np.zeros((max_words, embedding_dim))
    for word, i in word_index.items():
        embedding_vector = embeddings_index.get(word)
        if i < max_words:
            if embedding_vector is not None:
                # Words not found in embedding index will be all-zeros.
                embedding_matrix[i] = embedding_vector

    model = Sequential()
    model.add(Embedding(max_words, embedding_dim, input_length=maxlen))
    model.add(Flatten())
    model.add(Dense(32, activation='relu'))
    model.add(Dense(1, activation='sigmoid'))
    assert model.count_params() == 1000000 + 320032 + 33

    model.layers[0].set_weights([embedding_matrix])
    model.layers[0].trainable = False

    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    history = model.fit(x_train, y_train, epochs=3, batch_size=32,
                        validation_data=(x_val, y_val), verbose=0)
    model.save_weights('pre_trained_glove_model.h5')
    assert sorted(history.history) == ['acc', 'loss', 'val_acc', 'val_loss']
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], embedding_matrix)  # frozen

    test_dir = os.path.join(imdb_dir, 'test')
    labels = []
    texts = []
    for label_type in ['neg', 'pos']:
        dir_name = os.path.join(test_dir, label_type)
        for fname in sorted(os.listdir(dir_name)):
            if fname[-4:] == '.txt':
                f = open(os.path.join(dir_name, fname))
                texts.append(f.read())
                f.close()
                if label_type == 'neg':
                    labels.append(0)
                else:
                    labels.append(1)

    sequences = tokenizer.texts_to_sequences(texts)
    x_test = pad_sequences(sequences, maxlen=maxlen)
    y_test = np.asarray(labels)

    model.load_weights('pre_trained_glove_model.h5')
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
