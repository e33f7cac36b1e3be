"""Keras guide "The Sequential model" (fchollet, keras-io guides/sequential_model.py,
tf.keras version), ported with names changed only.

tensorflow/keras -> minidl, ``keras.layers.X`` -> ``minidl.layers.X``; ``tf.ones``
-> ``np.ones`` (minidl has no tensor constructors; models take NumPy arrays).
Each test is one section of the guide, in order, plus assertions of what the
guide prints or states.  Sections that need something minidl lacks are strict
xfails naming it.
"""

import numpy as np
import pytest

import minidl as keras
from minidl import layers

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"minidl lacks {what}", raises=MISSING, strict=True)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def summary_row(lines, layer_name):
    return next(line for line in lines if line.startswith(f" {layer_name} ("))


# --- When to use a Sequential model ------------------------------------------------
def test_when_to_use_a_sequential_model():
    # Define Sequential model with 3 layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    # Call model on a test input
    x = np.ones((3, 3))
    y = model(x)
    assert y.shape == (3, 4)

    # is equivalent to this function:
    # Create 3 layers
    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")

    # Call layers on a test input
    x = np.ones((3, 3))
    y2 = layer3(layer2(layer1(x)))
    assert y2.shape == (3, 4)

    # The same weights give the same outputs.
    for layer, twin in zip(model.layers, [layer1, layer2, layer3]):
        twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer3(layer2(layer1(x))).numpy(), y.numpy(), rtol=1e-6)


# --- Creating a Sequential model -------------------------------------------------------
def test_creating_a_sequential_model():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    # Its layers are accessible via the `layers` attribute:
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"] * 3
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "dense_2"]

    # You can also create a Sequential model incrementally via the `add()` method:
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    assert len(model.layers) == 3

    # there's also a corresponding `pop()` method to remove layers
    model.pop()
    print(len(model.layers))  # 2
    assert len(model.layers) == 2

    # the Sequential constructor accepts a `name` argument
    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"
    assert [layer.name for layer in model.layers] == ["layer1", "layer2", "layer3"]


# --- Specifying the input shape in advance ----------------------------------------------
def test_specifying_the_input_shape_in_advance_layer_weights():
    layer = layers.Dense(3)
    assert layer.weights == []  # Empty

    # Call layer on a test input
    x = np.ones((1, 4))
    layer(x)
    # Now it has weights, of shape (4, 3) and (3,)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]


def test_specifying_the_input_shape_in_advance_unbuilt_model():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!

    # At this point, you can't do this:
    # model.weights
    # You also can't do this:
    # model.summary()
    with pytest.raises(ValueError):
        model.summary()

    # Call the model on a test input
    x = np.ones((1, 4))
    model(x)
    print("Number of weights after calling the model:", len(model.weights))  # 6
    assert len(model.weights) == 6

    # Once a model is "built", you can call its `summary()` method
    lines = summary_lines(model)
    assert "Total params: 35" in lines  # 4*2+2 + 2*3+3 + 3*4+4


def test_specifying_the_input_shape_in_advance_unbuilt_model_weights_raise():
    """The guide: an unbuilt model has no weights "(and calling `model.weights`
    results in an error stating just this)"."""
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    with pytest.raises(ValueError):
        _ = model.weights


def test_specifying_the_input_shape_in_advance_with_input():
    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))

    lines = summary_lines(model)
    assert "(None, 2)" in summary_row(lines, "dense")
    assert summary_row(lines, "dense").rstrip().endswith("10")
    assert "Total params: 10" in lines

    # Note that the `Input` object is not displayed as part of `model.layers`
    assert len(model.layers) == 1
    assert isinstance(model.layers[0], layers.Dense)

    # A simple alternative is to just pass an `input_shape` argument to your first layer:
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))

    lines = summary_lines(model)
    assert "Total params: 10" in lines
    # always have weights (even before seeing any data) and a defined output shape
    assert len(model.weights) == 2
    assert model.output_shape == (None, 2)


# --- A common debugging workflow: add() + summary() -----------------------------------------
def test_a_common_debugging_workflow_add_and_summary():
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))

    # Can you guess what the current output shape is at this point? Probably not.
    # Let's just print it:
    lines = summary_lines(model)
    # The answer was: (40, 40, 32), so we can keep downsampling...
    assert "(None, 40, 40, 32)" in summary_row(lines, "max_pooling2d")
    assert model.output_shape == (None, 40, 40, 32)

    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))

    # And now?
    lines = summary_lines(model)
    # Now that we have 4x4 feature maps, time to apply global max pooling.
    assert "(None, 4, 4, 32)" in summary_row(lines, "max_pooling2d_2")
    assert model.output_shape == (None, 4, 4, 32)


def test_a_common_debugging_workflow_global_max_pooling_head():
    model = keras.Sequential()
    model.add(keras.Input(shape=(4, 4, 32)))
    # Now that we have 4x4 feature maps, time to apply global max pooling.
    model.add(layers.GlobalMaxPooling2D())

    # Finally, we add a classification layer.
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)


# --- Feature extraction with a Sequential model ---------------------------------------------
def test_feature_extraction_with_a_sequential_model():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )

    # Call feature extractor on test input.
    x = np.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [
        (1, 123, 123, 32), (1, 121, 121, 32), (1, 119, 119, 32)]
    np.testing.assert_allclose(features[-1].numpy(), initial_model(x).numpy(), rtol=1e-5)


def test_feature_extraction_with_a_sequential_model_one_layer():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    x = np.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert features.shape == (1, 121, 121, 32)


# --- Transfer learning with a Sequential model ------------------------------------------------
def test_transfer_learning_freeze_all_layers_except_the_last_one():
    def make():
        return keras.Sequential([
            keras.Input(shape=(784)),
            layers.Dense(32, activation='relu'),
            layers.Dense(32, activation='relu'),
            layers.Dense(32, activation='relu'),
            layers.Dense(10),
        ])

    make().save_weights("pretrained.mdl")
    model = make()

    # Presumably you would want to first load pre-trained weights.
    model.load_weights("pretrained.mdl")

    # Freeze all layers except the last one.
    for layer in model.layers[:-1]:
        layer.trainable = False

    # Recompile and train (this will only update the weights of the last layer).
    before = model.get_weights()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.random((64, 784)).astype("float32")
    y = np.random.randint(0, 10, size=(64,))
    model.fit(x, y, epochs=1, verbose=0)
    after = model.get_weights()
    for old, new in zip(before[:-2], after[:-2]):
        np.testing.assert_array_equal(old, new)
    assert not np.array_equal(before[-2], after[-2])


@missing("minidl.applications (keras.applications.Xception with imagenet weights)")
def test_transfer_learning_pretrained_base_from_applications():
    # Load a convolutional base with pre-trained weights
    base_model = keras.applications.Xception(
        weights='imagenet',
        include_top=False,
        pooling='avg')
    # Freeze the base model
    base_model.trainable = False


def test_transfer_learning_stack_a_pretrained_model_and_a_new_classifier():
    # (keras.applications is missing: a small functional model, trained a little,
    # stands in for the pre-trained convolutional base.)
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    outputs = layers.GlobalAveragePooling2D()(x)
    base_model = keras.Model(inputs, outputs)

    # Freeze the base model
    base_model.trainable = False

    # Use a Sequential model to add a trainable classifier on top
    model = keras.Sequential([
        base_model,
        layers.Dense(1000),
    ])

    # Compile & train
    base_before = base_model.get_weights()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.random((32, 32, 32, 3)).astype("float32")
    y = np.random.randint(0, 1000, size=(32,))
    model.fit(x, y, epochs=1, verbose=0)
    assert model.output_shape == (None, 1000)
    assert len(model.trainable_weights) == 2
    for old, new in zip(base_before, base_model.get_weights()):
        np.testing.assert_array_equal(old, new)
