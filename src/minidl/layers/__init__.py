"""Layers: the pieces models are made of (Keras's names and arguments).

``serialize(layer)`` gives ``{"class_name": "Dense", "config": {...}}`` and
``deserialize`` turns that back into a layer: this is how a saved model's
architecture is stored.
"""

from __future__ import annotations

import difflib
import types

from minidl.layers.activation import (
    ELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Softmax,
    ThresholdedReLU,
)
from minidl.layers.augmentation import (
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from minidl.layers.base import Layer, reset_names
from minidl.layers.conv import Conv2D
from minidl.layers.conv_transpose import Conv2DTranspose
from minidl.layers.core import Activation, Dense, Dropout, Flatten, Reshape
from minidl.layers.image_preprocessing import CenterCrop, Resizing
from minidl.layers.input import Input, InputLayer
from minidl.layers.lambda_layer import Lambda
from minidl.layers.masking import Masking
from minidl.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from minidl.layers.node import KerasTensor
from minidl.layers.normalization import BatchNormalization
from minidl.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from minidl.layers.preprocessing import Normalization, Rescaling
from minidl.layers.recurrent import GRU, LSTM, SimpleRNN
from minidl.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout2D,
)
from minidl.layers.wrappers import Bidirectional, TimeDistributed
from minidl.layers.resampling import Cropping2D, UpSampling2D, ZeroPadding2D

# Keras's aliases.
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

_REGISTRY = {
    cls.__name__: cls
    for cls in (
        Layer, InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Conv2D,
        MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, BatchNormalization,
        Concatenate, Add,
        Softmax, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU,
        Subtract, Multiply, Average, Maximum, Minimum, Dot,
        Normalization, Rescaling, Resizing, CenterCrop,
        RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
        SpatialDropout2D, GaussianNoise, GaussianDropout, ActivityRegularization, Lambda,
        Conv2DTranspose, GlobalMaxPooling2D, UpSampling2D, ZeroPadding2D, Cropping2D,
        SimpleRNN, LSTM, GRU, Masking, Bidirectional, TimeDistributed,
    )
}

# Where Keras 2.3-2.5 kept the preprocessing layers; older tutorials write
# layers.experimental.preprocessing.Rescaling(1. / 255).
experimental = types.SimpleNamespace(preprocessing=types.SimpleNamespace(**{
    cls.__name__: cls for cls in (Normalization, Rescaling, Resizing, CenterCrop, RandomFlip,
                                  RandomRotation, RandomZoom, RandomTranslation, RandomContrast)
}))

__all__ = [*_REGISTRY, "Input", "KerasTensor", "serialize", "deserialize", "reset_names", "add",
           "concatenate", "subtract", "multiply", "average", "maximum", "minimum", "dot",
           "experimental", "Convolution2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
           "Convolution2DTranspose", "GlobalMaxPool2D"]


def serialize(layer):
    """``{"class_name": ..., "config": layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """A new layer (or model) from ``serialize``'s output.

    ``custom_objects`` maps class names to your own Layer subclasses.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"A layer config must be a dict with 'class_name' and 'config', received {config!r}."
        )
    name = config["class_name"]
    known = {**_REGISTRY, **_model_classes(), **(custom_objects or {})}
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else (
            " If it is your own class, pass custom_objects={'%s': %s}." % (name, name))
        raise ValueError(f"Unknown layer class {name!r}.{hint}")
    cls = known[name]
    inner = dict(config.get("config", {}))
    if name in _model_classes() or _rebuilds_a_graph(cls):
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(_with_custom_objects(inner, custom_objects or {}))


def _with_custom_objects(config, custom_objects):
    """Your own activation functions and initializer classes, stored by name
    in a config, replaced by the objects ``custom_objects`` gives."""
    config = dict(config)
    for key, value in config.items():
        if isinstance(value, str) and value in custom_objects:
            config[key] = custom_objects[value]
        elif isinstance(value, dict) and value.get("class_name") in custom_objects:
            config[key] = custom_objects[value["class_name"]](**value.get("config", {}))
    return config


def _rebuilds_a_graph(cls):
    """A model class whose from_config is minidl's (it rebuilds layers, so it takes
    custom_objects); a subclass's own ``from_config(cls, config)`` takes only the config."""
    from minidl.models.model import Model

    return (isinstance(cls, type) and issubclass(cls, Model)
            and getattr(cls.from_config, "__func__", None) is Model.from_config.__func__)


def _model_classes():
    from minidl.models.functional import Functional
    from minidl.models.sequential import Sequential

    return {"Sequential": Sequential, "Functional": Functional, "Model": Functional}
