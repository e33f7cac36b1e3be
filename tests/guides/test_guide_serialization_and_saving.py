"""Keras guide "Serialization and saving" (Kathy Wu, fchollet, keras-io
guides/serialization_and_saving.py, tf.keras version of 2020/04/28), ported
with names changed only.

tensorflow/keras -> minidl; ``tf.matmul`` / ``tf.nn.tanh`` -> ``minidl.ops.matmul`` /
``tanh``; ``tf.Variable`` -> ``minidl.Variable``; ``tf.ones`` / ``tf.random.*`` ->
NumPy.  minidl writes Keras 2's HDF5 file for a name ending in .h5
("my_h5_model.h5", "weights.h5") and its own format for other names ("my_model",
"ckpt"); what is specific to SavedModel or TensorFlow checkpoints is a strict
xfail, as is every other missing API.
"""

import numpy as np
import pytest

import minidl as keras

MISSING = (AttributeError, ImportError, TypeError, ValueError, NotImplementedError)


def missing(what):
    return pytest.mark.xfail(reason=f"minidl lacks {what}", raises=MISSING, strict=True)


def get_model():
    # Create a simple model.
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def mlp(output_dim=10, dropout=False, name="3_layer_mlp"):
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    if dropout:
        # Add a dropout layer, which does not contain any weights.
        x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(output_dim, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


# --- Whole-model saving & loading: SavedModel format -------------------------------------------
def test_whole_model_saving_and_loading():
    model = get_model()

    # Train the model.
    test_input = np.random.random((128, 32))
    test_target = np.random.random((128, 1))
    model.fit(test_input, test_target, verbose=0)

    # Calling `save('my_model')` creates a SavedModel folder `my_model`.
    model.save("my_model")

    # It can be used to reconstruct the model identically.
    reconstructed_model = keras.models.load_model("my_model")

    # Let's check:
    np.testing.assert_allclose(
        model.predict(test_input), reconstructed_model.predict(test_input)
    )

    # The reconstructed model is already compiled and has retained the optimizer
    # state, so training can resume:
    assert reconstructed_model.optimizer.iterations == model.optimizer.iterations == 4
    reconstructed_model.fit(test_input, test_target, verbose=0)
    model.fit(test_input, test_target, verbose=0, shuffle=False)
    reconstructed_model = keras.models.load_model("my_model")
    reconstructed_model.fit(test_input, test_target, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        model.predict(test_input), reconstructed_model.predict(test_input), rtol=1e-6)


@missing("the SavedModel format (save_format='tf': a folder with saved_model.pb, variables/)")
def test_what_the_savedmodel_contains():
    model = get_model()
    model.save("my_model", save_format="tf")
    import os

    assert {"saved_model.pb", "variables"} <= set(os.listdir("my_model"))


class CustomModel(keras.Model):
    def __init__(self, hidden_units):
        super(CustomModel, self).__init__()
        self.hidden_units = hidden_units
        self.dense_layers = [keras.layers.Dense(u) for u in hidden_units]

    def call(self, inputs):
        x = inputs
        for layer in self.dense_layers:
            x = layer(x)
        return x

    def get_config(self):
        return {"hidden_units": self.hidden_units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_how_savedmodel_handles_custom_objects_option_1():
    model = CustomModel([16, 16, 10])
    # Build the model by calling it
    input_arr = np.random.uniform(size=(1, 5))
    outputs = model(input_arr)
    model.save("my_model")

    # Option 1: Load with the custom_object argument.
    loaded_1 = keras.models.load_model(
        "my_model", custom_objects={"CustomModel": CustomModel})
    np.testing.assert_allclose(loaded_1(input_arr).numpy(), outputs.numpy(), rtol=1e-6)
    print("Original model:", model)
    print("Model Loaded with custom objects:", loaded_1)


@missing("loading a model without its Python class (SavedModel's traced call functions)")
def test_how_savedmodel_handles_custom_objects_option_2():
    model = CustomModel([16, 16, 10])
    input_arr = np.random.uniform(size=(1, 5))
    outputs = model(input_arr)
    model.save("my_model")

    # Option 2: Load without the CustomModel class.
    loaded_2 = keras.models.load_model("my_model")
    np.testing.assert_allclose(loaded_2(input_arr).numpy(), outputs.numpy(), rtol=1e-6)


# --- Keras H5 format ------------------------------------------------------------------------------
def test_keras_h5_format():
    model = get_model()

    # Train the model.
    test_input = np.random.random((128, 32))
    test_target = np.random.random((128, 1))
    model.fit(test_input, test_target, verbose=0)

    # Calling `save('my_model.h5')` creates a h5 file `my_model.h5`.
    model.save("my_h5_model.h5")

    # It can be used to reconstruct the model identically.
    reconstructed_model = keras.models.load_model("my_h5_model.h5")

    # Let's check:
    np.testing.assert_allclose(
        model.predict(test_input), reconstructed_model.predict(test_input)
    )

    # The reconstructed model is already compiled and has retained the optimizer
    # state, so training can resume:
    history = reconstructed_model.fit(test_input, test_target, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --- Saving the architecture: get_config() and from_config() -------------------------------------
def test_saving_the_architecture_get_config_and_from_config():
    # Layer example:
    layer = keras.layers.Dense(3, activation="relu")
    layer_config = layer.get_config()
    new_layer = keras.layers.Dense.from_config(layer_config)
    assert new_layer.get_config() == layer_config

    # Sequential model example:
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    config = model.get_config()
    new_model = keras.Sequential.from_config(config)
    assert new_model.get_config() == config
    assert new_model.count_params() == 33

    # Functional model example:
    inputs = keras.Input((32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config)
    assert new_model.get_config() == config
    assert new_model.count_params() == 33


def test_saving_the_architecture_to_json_and_model_from_json():
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    json_config = model.to_json()
    new_model = keras.models.model_from_json(json_config)
    assert new_model.count_params() == 33


@missing("loading the graph only (tf.saved_model.load)")
def test_custom_objects_loading_the_tensorflow_graph_only():
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    model.save("my_model")
    tensorflow_graph = keras.saved_model.load("my_model")
    x = np.random.uniform(size=(4, 32)).astype(np.float32)
    tensorflow_graph(x).numpy()


# --- Custom objects: defining the config methods -------------------------------------------------
@pytest.mark.xfail(
    reason="minidl's Layer requires super().__init__() before attributes are set "
           "(RuntimeError); the guide's CustomLayer skips it, which TensorFlow tolerates",
    raises=RuntimeError, strict=True)
def test_defining_the_config_methods_as_written():
    class CustomLayer(keras.layers.Layer):
        def __init__(self, a):
            self.var = keras.Variable(a, name="var_a")

        def call(self, inputs, training=False):
            if training:
                return inputs * self.var
            else:
                return inputs

        def get_config(self):
            return {"a": self.var.numpy()}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    CustomLayer(5)


def test_defining_the_config_methods():
    """The section with ``super().__init__()`` added (see the xfail above)."""
    class CustomLayer(keras.layers.Layer):
        def __init__(self, a):
            super().__init__()
            self.var = keras.Variable(a, name="var_a")

        def call(self, inputs, training=False):
            if training:
                return inputs * self.var
            else:
                return inputs

        def get_config(self):
            return {"a": self.var.numpy()}

        # There's actually no need to define `from_config` here, since returning
        # `cls(**config)` is the default behavior.
        @classmethod
        def from_config(cls, config):
            return cls(**config)

    layer = CustomLayer(5)
    layer.var.assign(2)

    serialized_layer = keras.layers.serialize(layer)
    assert serialized_layer == {"class_name": "CustomLayer", "config": {"a": 2}}
    new_layer = keras.layers.deserialize(
        serialized_layer, custom_objects={"CustomLayer": CustomLayer}
    )
    assert isinstance(new_layer, CustomLayer)
    assert float(new_layer.var.numpy()) == 2.0
    np.testing.assert_allclose(new_layer(np.ones((1, 2)), training=True).numpy(), [[2.0, 2.0]])


# --- Custom objects: custom layer and function example -------------------------------------------
class CustomLayer(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super(CustomLayer, self).__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super(CustomLayer, self).get_config()
        config.update({"units": self.units})
        return config


def custom_activation(x):
    return keras.ops.tanh(x) ** 2


def custom_model():
    # Make a model with the CustomLayer and custom_activation
    inputs = keras.Input((32,))
    x = CustomLayer(32)(inputs)
    outputs = keras.layers.Activation(custom_activation)(x)
    return keras.Model(inputs, outputs)


def test_custom_layer_and_function_example_custom_object_scope():
    model = custom_model()

    # Retrieve the config
    config = model.get_config()

    # At loading time, register the custom objects with a `custom_object_scope`:
    custom_objects = {"CustomLayer": CustomLayer, "custom_activation": custom_activation}
    with keras.utils.custom_object_scope(custom_objects):
        new_model = keras.Model.from_config(config)
    assert new_model.count_params() == model.count_params()


def test_custom_layer_and_function_example_custom_objects_argument():
    """The same model rebuilt with the ``custom_objects`` argument (the guide's way 1)."""
    model = custom_model()
    config = model.get_config()
    custom_objects = {"CustomLayer": CustomLayer, "custom_activation": custom_activation}
    new_model = keras.Model.from_config(config, custom_objects=custom_objects)
    assert new_model.count_params() == model.count_params() == 32 * 32 + 32
    assert new_model.layers[-1].activation is custom_activation
    new_model.set_weights(model.get_weights())
    x = np.random.random((2, 32))
    np.testing.assert_allclose(new_model.predict(x), model.predict(x), rtol=1e-6)


# --- In-memory model cloning ----------------------------------------------------------------------
def test_in_memory_model_cloning():
    model = custom_model()
    custom_objects = {"CustomLayer": CustomLayer, "custom_activation": custom_activation}
    with keras.utils.custom_object_scope(custom_objects):
        new_model = keras.models.clone_model(model)
    assert new_model.count_params() == model.count_params()


# --- APIs for in-memory weight transfer ----------------------------------------------------------
def test_transferring_weights_from_one_layer_to_another_in_memory():
    def create_layer():
        layer = keras.layers.Dense(64, activation="relu", name="dense_2")
        layer.build((None, 784))
        return layer

    layer_1 = create_layer()
    layer_2 = create_layer()

    # Copy weights from layer 2 to layer 1
    layer_2.set_weights(layer_1.get_weights())
    for a, b in zip(layer_1.get_weights(), layer_2.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_transferring_weights_from_one_model_to_another_with_a_compatible_architecture():
    # Create a simple functional model
    functional_model = mlp()

    # Define a subclassed model with the same architecture
    class SubclassedModel(keras.Model):
        def __init__(self, output_dim, name=None):
            super(SubclassedModel, self).__init__(name=name)
            self.output_dim = output_dim
            self.dense_1 = keras.layers.Dense(64, activation="relu", name="dense_1")
            self.dense_2 = keras.layers.Dense(64, activation="relu", name="dense_2")
            self.dense_3 = keras.layers.Dense(output_dim, name="predictions")

        def call(self, inputs):
            x = self.dense_1(inputs)
            x = self.dense_2(x)
            x = self.dense_3(x)
            return x

        def get_config(self):
            return {"output_dim": self.output_dim, "name": self.name}

    subclassed_model = SubclassedModel(10)
    # Call the subclassed model once to create the weights.
    subclassed_model(np.ones((1, 784)))

    # Copy weights from functional_model to subclassed_model.
    subclassed_model.set_weights(functional_model.get_weights())

    assert len(functional_model.weights) == len(subclassed_model.weights)
    for a, b in zip(functional_model.weights, subclassed_model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy())


def test_the_case_of_stateless_layers():
    functional_model = mlp()
    functional_model_with_dropout = mlp(dropout=True)

    functional_model_with_dropout.set_weights(functional_model.get_weights())
    x = np.random.random((2, 784))
    np.testing.assert_allclose(functional_model_with_dropout.predict(x),
                               functional_model.predict(x), rtol=1e-6)


# --- APIs for saving weights to disk & loading them back: TF Checkpoint format -------------------
def sequential_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            keras.layers.Dense(64, activation="relu", name="dense_1"),
            keras.layers.Dense(64, activation="relu", name="dense_2"),
            keras.layers.Dense(10, name="predictions"),
        ]
    )


def test_tf_checkpoint_format():
    # Runnable example
    sequential_model = sequential_mlp()
    sequential_model.save_weights("ckpt")
    expected = sequential_model.get_weights()
    for w in sequential_model.weights:
        w.assign(np.zeros(w.shape))
    sequential_model.load_weights("ckpt")
    for a, b in zip(expected, sequential_model.get_weights()):
        np.testing.assert_array_equal(a, b)


@missing("a load status from load_weights (load_status.assert_consumed())")
def test_tf_checkpoint_format_load_status():
    sequential_model = sequential_mlp()
    sequential_model.save_weights("ckpt")
    load_status = sequential_model.load_weights("ckpt")

    # `assert_consumed` can be used as validation that all variable values have been
    # restored from the checkpoint.
    load_status.assert_consumed()


@missing("tf.train.Checkpoint / tf.train.load_checkpoint equivalents")
def test_tf_checkpoint_format_details():
    class CustomLayer(keras.layers.Layer):
        def __init__(self, a):
            super().__init__()
            self.var = keras.Variable(a, name="var_a")

    layer = CustomLayer(5)
    layer_ckpt = keras.train.Checkpoint(layer=layer).save("custom_layer")

    ckpt_reader = keras.train.load_checkpoint(layer_ckpt)

    ckpt_reader.get_variable_to_dtype_map()


def make_pretrained_checkpoint():
    functional_model = mlp()

    # Extract a portion of the functional model defined in the Setup section.
    # The following lines produce a new model that excludes the final output
    # layer of the functional model.
    pretrained = keras.Model(
        functional_model.inputs, functional_model.layers[-1].input, name="pretrained_model"
    )
    # Randomly assign "trained" weights.
    for w in pretrained.weights:
        w.assign(np.random.normal(size=w.shape))
    pretrained.save_weights("pretrained_ckpt")
    return pretrained


@missing("loading a checkpoint into a model with extra layers (TF checkpoints match "
         "by object graph; minidl's load_weights wants exactly the same weights)")
def test_transfer_learning_example_checkpoint_into_a_new_functional_model():
    pretrained = make_pretrained_checkpoint()
    pretrained.summary()

    # Assume this is a separate program where only 'pretrained_ckpt' exists.
    # Create a new functional model with a different output dimension.
    model = mlp(output_dim=5, name="new_model")

    # Load the weights from pretrained_ckpt into model.
    model.load_weights("pretrained_ckpt")

    # Check that all of the pretrained weights have been loaded.
    for a, b in zip(pretrained.weights, model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy())


def test_transfer_learning_example_sequential_model():
    pretrained = make_pretrained_checkpoint()
    lines = []
    pretrained.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "pretrained_model"'
    assert "Total params: 54,400" in lines  # 784*64+64 + 64*64+64

    # Example 2: Sequential model
    # Recreate the pretrained model, and load the saved weights.
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    pretrained_model = keras.Model(inputs=inputs, outputs=x, name="pretrained")

    # Sequential example:
    model = keras.Sequential([pretrained_model, keras.layers.Dense(5, name="predictions")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 54,725" in lines

    pretrained_model.load_weights("pretrained_ckpt")
    for a, b in zip(pretrained.weights, pretrained_model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@missing("tf.train.Checkpoint and Model.add_variable")
def test_transfer_learning_example_checkpoint_of_chosen_layers():
    functional_model = mlp()
    first_dense = functional_model.layers[1]
    last_dense = functional_model.layers[-1]
    ckpt_path = keras.train.Checkpoint(
        dense=first_dense, kernel=last_dense.kernel, bias=last_dense.bias
    ).save("ckpt")

    class ContrivedModel(keras.Model):
        def __init__(self):
            super(ContrivedModel, self).__init__()
            self.first_dense = keras.layers.Dense(64)
            self.kernel = self.add_variable("kernel", shape=(64, 10))
            self.bias = self.add_variable("bias", shape=(10,))

        def call(self, inputs):
            x = self.first_dense(inputs)
            return keras.ops.matmul(x, self.kernel) + self.bias

    model = ContrivedModel()
    _ = model(np.ones((1, 784)))
    keras.train.Checkpoint(
        dense=model.first_dense, kernel=model.kernel, bias=model.bias
    ).restore(ckpt_path).assert_consumed()


# --- HDF5 format ------------------------------------------------------------------------------
def test_hdf5_format():
    # Runnable example
    sequential_model = sequential_mlp()
    sequential_model.save_weights("weights.h5")
    sequential_model.load_weights("weights.h5")


def test_hdf5_format_trainable_changes_the_weights_order():
    class NestedDenseLayer(keras.layers.Layer):
        def __init__(self, units, name=None):
            super(NestedDenseLayer, self).__init__(name=name)
            self.dense_1 = keras.layers.Dense(units, name="dense_1")
            self.dense_2 = keras.layers.Dense(units, name="dense_2")

        def call(self, inputs):
            return self.dense_2(self.dense_1(inputs))

    nested_model = keras.Sequential([keras.Input((784,)), NestedDenseLayer(10, "nested")])
    variable_names = [v.name for v in nested_model.weights]
    print("variables: {}".format(variable_names))
    assert variable_names == [
        "dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias"]

    print("\nChanging trainable status of one of the nested layers...")
    nested_model.get_layer("nested").dense_1.trainable = False

    variable_names_2 = [v.name for v in nested_model.weights]
    print("\nvariables: {}".format(variable_names_2))
    print("variable ordering changed:", variable_names != variable_names_2)
    assert variable_names != variable_names_2
    assert variable_names_2 == [
        "dense_2/kernel", "dense_2/bias", "dense_1/kernel", "dense_1/bias"]


def test_hdf5_format_transfer_learning_example():
    def create_functional_model():
        inputs = keras.Input(shape=(784,), name="digits")
        x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
        x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
        outputs = keras.layers.Dense(10, name="predictions")(x)
        return keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")

    functional_model = create_functional_model()
    functional_model.save_weights("pretrained_weights.h5")

    # In a separate program:
    pretrained_model = create_functional_model()
    pretrained_model.load_weights("pretrained_weights.h5")

    # Create a new model by extracting layers from the original model:
    extracted_layers = pretrained_model.layers[:-1]
    extracted_layers.append(keras.layers.Dense(5, name="dense_3"))
    model = keras.Sequential(extracted_layers)
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 54,725" in lines
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2", "dense_3"]
    for a, b in zip(functional_model.get_weights()[:4], model.get_weights()[:4]):
        np.testing.assert_array_equal(a, b)
