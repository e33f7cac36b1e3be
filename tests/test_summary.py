"""model.summary(): the Keras 2 table, as the tutorials print it."""

import numpy as np
import pytest

from minidl import layers, models


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def check_table(lines, expected, width=65):
    """Lines equal ``expected`` up to trailing spaces, and every ruler and
    table row is padded to the full width, as Keras pads them."""
    assert [line.rstrip() for line in lines] == expected
    table = lines[1:lines.index("=" * width, 3) + 1]
    table += lines[lines.index("=" * width, 3) + 1:-3]
    assert all(len(line) == width for line in table), [len(line) for line in table]


# The table printed by Keras in seed 004 (Fashion-MNIST MLP), trailing spaces removed.
SEED_004_MLP = """\
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 dense (Dense)               (None, 128)               100480

 dense_1 (Dense)             (None, 128)               16512

 dense_2 (Dense)             (None, 10)                1290

=================================================================
Total params: 118,282
Trainable params: 118,282
Non-trainable params: 0""".split("\n")


def test_seed_004_mlp_summary_is_exact():
    model = models.Sequential()
    model.add(layers.Dense(128, activation="relu", input_shape=(784,)))
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    lines = summary_lines(model)
    check_table(lines, SEED_004_MLP)
    assert lines[2] == " Layer (type)                Output Shape              Param #   "
    assert lines[4] == " dense (Dense)               (None, 128)               100480    "


def test_seed_004_regression_summary():
    model = models.Sequential()
    model.add(layers.Dense(units=1, input_shape=(1,)))
    lines = summary_lines(model)
    assert [line.rstrip() for line in lines if line.strip()] == [
        'Model: "sequential"',
        "_" * 65,
        " Layer (type)                Output Shape              Param #",
        "=" * 65,
        " dense (Dense)               (None, 1)                 2",
        "=" * 65,
        "Total params: 2",
        "Trainable params: 2",
        "Non-trainable params: 0",
    ]


def test_seed_000_model_with_dropout():
    model = models.Sequential()
    model.add(layers.Dense(units=128, activation="relu", input_shape=(784,)))
    model.add(layers.Dropout(0.2))
    model.add(layers.Dense(units=10, activation="softmax"))
    lines = summary_lines(model)
    check_table(lines, [
        'Model: "sequential"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " dense (Dense)               (None, 128)               100480", "",
        " dropout (Dropout)           (None, 128)               0", "",
        " dense_1 (Dense)             (None, 10)                1290", "",
        "=" * 65,
        "Total params: 101,770", "Trainable params: 101,770", "Non-trainable params: 0",
    ])


def test_seed_002_flatten_model_counts():
    model = models.Sequential([
        layers.Flatten(input_shape=[28, 28]),
        layers.Dense(300, activation="relu"),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    text = "\n".join(summary_lines(model))
    assert " flatten (Flatten)           (None, 784)               0" in text
    assert " dense (Dense)               (None, 300)               235500" in text
    assert "Total params: 266,610" in text


def test_long_names_wrap_as_in_keras():
    model = models.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.BatchNormalization(),
    ])
    lines = summary_lines(model)
    assert " conv2d (Conv2D)             (None, 26, 26, 32)        320       " in lines
    assert " max_pooling2d (MaxPooling2  (None, 13, 13, 32)        0         " in lines
    assert " D)                                                              " in lines
    assert lines[-3:] == ["Total params: 448", "Trainable params: 384", "Non-trainable params: 64"]


def test_functional_chain_shows_the_input_layer():
    inputs = layers.Input(shape=(784,))
    x = layers.Dense(32, activation="relu")(inputs)
    model = models.Model(inputs=inputs, outputs=layers.Dense(10, activation="softmax")(x))
    lines = summary_lines(model)
    assert lines[0] == 'Model: "model"'
    assert " input_1 (InputLayer)        [(None, 784)]             0         " in lines
    assert lines[-3] == "Total params: 25,450"


def test_branching_model_has_a_connected_to_column():
    a, b = layers.Input(shape=(8,)), layers.Input(shape=(4,))
    h = layers.Concatenate()([layers.Dense(5)(a), layers.Dense(5)(b)])
    model = models.Model([a, b], layers.Dense(1)(h))
    lines = summary_lines(model)
    assert lines[1] == "_" * 98
    # the rows as tf_keras 2.21 prints them (columns at 0.3, 0.6, 0.7 of the line)
    assert lines[2].rstrip() == " Layer (type)                Output Shape                 Param #   Connected to"
    assert " dense (Dense)               (None, 5)                    45        ['input_1[0][0]']             " in lines
    at = lines.index(" concatenate (Concatenate)   (None, 10)                   0         ['dense[0][0]',               ")
    assert lines[at + 1].rstrip() == " " * 69 + "'dense_1[0][0]']"  # the wrapped cell keeps its space


def test_a_chain_with_several_outputs_has_no_connected_to_column():
    # tf_keras 2.21's tables (its byte sizes after the totals left out, as everywhere):
    # an LSTM's output and states, or two layers of one chain, are still a chain
    inputs = layers.Input(shape=(5, 4))
    output, h, c = layers.LSTM(3, return_state=True)(inputs)
    check_table(summary_lines(models.Model(inputs, [output, h, c])), """\
Model: "model"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 input_1 (InputLayer)        [(None, 5, 4)]            0

 lstm (LSTM)                 [(None, 3),               96
                              (None, 3),
                              (None, 3)]

=================================================================
Total params: 96
Trainable params: 96
Non-trainable params: 0""".split("\n"))
    inputs = layers.Input(shape=(4,))
    first = layers.Dense(3)(inputs)
    lines = summary_lines(models.Model(inputs, [first, layers.Dense(2)(first)]))
    assert [line.rstrip() for line in lines[2:9]] == [
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " input_2 (InputLayer)        [(None, 4)]               0", "",
        " dense (Dense)               (None, 3)                 15", "",
        " dense_1 (Dense)             (None, 2)                 8"]
    # two layers that end the model (one on each state) are a branch, as in Keras
    inputs = layers.Input(shape=(5, 4))
    _, h, c = layers.LSTM(3, return_state=True)(inputs)
    model = models.Model(inputs, [layers.Dense(1)(h), layers.Dense(1)(c)])
    assert "Connected to" in summary_lines(model)[2]


def test_summary_before_build_says_what_to_do():
    model = models.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="input_shape=.*call the model"):
        model.summary()
    model(np.ones((1, 2)))
    assert summary_lines(model)[-3] == "Total params: 9"


def test_summary_prints_by_default(capsys):
    models.Sequential([layers.Dense(3, input_shape=(2,))]).summary()
    assert "Total params: 9" in capsys.readouterr().out
