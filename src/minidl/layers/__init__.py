"""Layers: the pieces models are made of (Keras's names and arguments).

``serialize(layer)`` gives ``{"class_name": "Dense", "config": {...}}`` and
``deserialize`` turns that back into a layer: this is how a saved model's
architecture is stored.
"""

from __future__ import annotations

import inspect

from minidl.errors import did_you_mean
from minidl.layers.activation import (
    ELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Softmax,
    ThresholdedReLU,
)
from minidl.layers.attention import AdditiveAttention, Attention
from minidl.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from minidl.layers.augmentation_sizes import RandomCrop, RandomHeight, RandomWidth
from minidl.layers.base import Layer, reset_names
from minidl.layers.category_encoding import CategoryEncoding
from minidl.layers.conv import Conv2D
from minidl.layers.conv1d import Conv1D
from minidl.layers.conv3d import Conv3D
from minidl.layers.conv3d_transpose import Conv3DTranspose
from minidl.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from minidl.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose
from minidl.layers.core import Activation, Dense, Dropout, Flatten, Identity, Reshape
from minidl.layers.discretization import Discretization
from minidl.layers.einsum_dense import EinsumDense
from minidl.layers.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from minidl.layers.embedding import Embedding
from minidl.layers.group_normalization import GroupNormalization
from minidl.layers.hashing import HashedCrossing, Hashing
from minidl.layers.image_preprocessing import CenterCrop, Resizing
from minidl.layers.index_lookup import IntegerLookup, StringLookup
from minidl.layers.input import Input, InputLayer
from minidl.layers.input_spec import InputSpec
from minidl.layers.lambda_layer import Lambda
from minidl.layers.locally_connected import LocallyConnected1D, LocallyConnected2D
from minidl.layers.op_lambda import TFOpLambda
from minidl.layers.ops_layer import OpsLayer
from minidl.layers.layer_normalization import LayerNormalization
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
from minidl.layers.multi_head_attention import MultiHeadAttention
from minidl.layers.node import KerasTensor
from minidl.layers.normalization import BatchNormalization
from minidl.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from minidl.layers.pooling1d import (
    AveragePooling1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from minidl.layers.pooling3d import (
    AveragePooling3D,
    GlobalAveragePooling3D,
    GlobalMaxPooling3D,
    MaxPooling3D,
)
from minidl.layers.preprocessing import Normalization, Rescaling
from minidl.layers.recurrent import GRU, LSTM, SimpleRNN
from minidl.layers.abstract_rnn_cell import AbstractRNNCell
from minidl.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from minidl.layers.rnn_wrapper import RNN
from minidl.layers.stacked_rnn_cells import StackedRNNCells
from minidl.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from minidl.layers.spectral_normalization import SpectralNormalization
from minidl.layers.text_vectorization import TextVectorization
from minidl.layers.unit_normalization import UnitNormalization
from minidl.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
from minidl.utils.object_registration import names_to_look_up
from minidl.layers.resampling import Cropping2D, UpSampling2D, ZeroPadding2D
from minidl.layers.resampling1d import Cropping1D, UpSampling1D, ZeroPadding1D
from minidl.layers.resampling3d import Cropping3D, UpSampling3D, ZeroPadding3D
from minidl.layers.reshaping import Permute, RepeatVector
from minidl.layers.separable_conv import SeparableConv1D, SeparableConv2D

# Keras's aliases.
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
Convolution1D = Conv1D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
Convolution3D = Conv3D
Convolution3DTranspose = Conv3DTranspose
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
SeparableConvolution2D = SeparableConv2D
SeparableConvolution1D = SeparableConv1D

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
        RandomCrop, RandomBrightness, RandomHeight, RandomWidth,
        SpatialDropout2D, SpatialDropout3D, GaussianNoise, GaussianDropout, ActivityRegularization, Lambda,
        Conv2DTranspose, GlobalMaxPooling2D, UpSampling2D, ZeroPadding2D, Cropping2D,
        Embedding, Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D,
        GlobalMaxPooling1D, RepeatVector, Permute, Conv1DTranspose,
        SimpleRNN, LSTM, GRU, Masking, Bidirectional, TimeDistributed,
        SpatialDropout1D, ZeroPadding1D, UpSampling1D, Cropping1D,
        RNN, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, AbstractRNNCell, ConvLSTM1D,
        ConvLSTM2D, ConvLSTM3D, Conv3DTranspose,
        LayerNormalization, MultiHeadAttention, Attention, AdditiveAttention, TextVectorization,
        TFOpLambda, OpsLayer, LocallyConnected1D, LocallyConnected2D, Identity, AlphaDropout,
        UnitNormalization, DepthwiseConv2D, DepthwiseConv1D, SeparableConv2D, SeparableConv1D,
        GroupNormalization, Conv3D, MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D,
        GlobalMaxPooling3D, UpSampling3D, ZeroPadding3D, Cropping3D, StringLookup, IntegerLookup,
        CategoryEncoding, Discretization, EinsumDense, SpectralNormalization, Hashing,
        HashedCrossing,
    )
}

# Where Keras 2.3-2.5 kept the preprocessing layers (a package, so that
# `from tensorflow.keras.layers.experimental import preprocessing` imports too).
from minidl.layers import experimental  # noqa: E402

__all__ = [*_REGISTRY, "Input", "KerasTensor", "serialize", "deserialize", "reset_names", "add",
           "concatenate", "subtract", "multiply", "average", "maximum", "minimum", "dot",
           "experimental", "Convolution2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
           "Convolution2DTranspose", "Convolution1DTranspose", "GlobalMaxPool2D", "Convolution1D", "MaxPool1D", "AvgPool1D",
           "GlobalAvgPool1D", "GlobalMaxPool1D", "SeparableConvolution2D", "SeparableConvolution1D",
           "Convolution3D", "Convolution3DTranspose", "MaxPool3D", "AvgPool3D", "GlobalAvgPool3D", "GlobalMaxPool3D",
           "InputSpec", "Wrapper"]


def serialize(layer):
    """``{"class_name": ..., "config": layer.get_config()}`` (a model's layers, a saved
    architecture); a class registered with ``register_keras_serializable`` is named
    ``"package>Name"``.  A layer inside another's config has Keras 2's longer form:
    ``serialize_nested``."""
    from minidl.utils.object_registration import get_registered_name

    check_config_complete(layer)
    return {"class_name": get_registered_name(type(layer)), "config": layer.get_config()}


def serialize_nested(layer):
    """A layer inside another layer's config (an RNN's cell, a wrapper's layer) as
    tf_keras 2.21 writes it: ``{"module": "keras.layers", "class_name", "config",
    "registered_name": None}``; your own class with module None and the name it is
    found again by (``"package>Name"`` when registered)."""
    from minidl.utils.object_registration import keras_config

    check_config_complete(layer)
    return keras_config(type(layer), layer.get_config(), "keras.layers")


def check_config_complete(layer):
    """Refuse (NotImplementedError, as Keras 3) to describe your own layer by a
    config that would silently lose constructor arguments: those of an ``__init__``
    written below the class whose ``get_config`` it inherits, which that class's
    ``__init__`` does not take either -- unless they were plain data, which the
    inherited ``Layer.get_config`` then holds (``auto_config``).  minidl's own
    layers list all of theirs."""
    from minidl.models.model import Model

    cls = type(layer)
    if cls.__module__.startswith("minidl.") or isinstance(layer, Model):
        return
    if vars(layer).get("_auto_config") is not None:  # recorded plain arguments: auto_config.py
        return
    init_owner = next(k for k in cls.__mro__ if "__init__" in vars(k))
    config_owner = next(k for k in cls.__mro__ if "get_config" in vars(k))
    if (init_owner is config_owner or not issubclass(init_owner, config_owner)
            or init_owner.__module__.startswith("minidl.")):
        return
    known = set(inspect.signature(config_owner.__init__).parameters)
    known |= set(inspect.signature(Layer.__init__).parameters)
    missing = [name for name, p in inspect.signature(init_owner.__init__).parameters.items()
               if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in known]
    if missing:
        raise NotImplementedError(
            f'Layer "{layer.name}" ({cls.__name__}) has arguments {missing} in __init__() but '
            "does not implement get_config(), so a saved, exported or cloned copy would lose "
            "them. Implement get_config():\n\n"
            "    def get_config(self):\n"
            "        config = super().get_config()\n"
            f"        config.update({{{', '.join(f'{n!r}: self.{n}' for n in missing)}}})\n"
            "        return config"
        )


def deserialize(config, custom_objects=None):
    """A new layer (or model) from ``serialize``'s output.

    ``custom_objects`` maps class names to your own Layer subclasses (and
    functions, such as an activation, named in the config); objects registered
    or in a ``custom_object_scope`` are found too (``minidl.utils.object_registration``).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"A layer config must be a dict with 'class_name' and 'config', received {config!r}."
        )
    from minidl.utils.object_registration import custom_objects_in_effect

    custom = custom_objects_in_effect(custom_objects)
    known = {**_REGISTRY, **_model_classes(), **custom}
    name = next((n for n in names_to_look_up(config) if n in known), config["class_name"])
    if name not in known:
        hint = did_you_mean(name, known)
        hint += (" If it is your own class, pass custom_objects={'%s': %s}, use a "
                 "custom_object_scope, or decorate the class with "
                 "@minidl.utils.register_keras_serializable()." % (name, name))
        raise ValueError(f"Unknown layer class {name!r}.{hint}")
    cls = known[name]
    inner = dict(config.get("config", {}))
    if name in _model_classes() or _rebuilds_a_graph(cls):
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(_with_custom_objects(inner, custom))


def _with_custom_objects(config, custom_objects):
    """Your own activation functions and initializer classes, stored by name
    in a config, replaced by the objects ``custom_objects`` gives."""
    config = dict(config)
    for key, value in config.items():
        if key == "name":
            continue
        if isinstance(value, str) and value in custom_objects:
            config[key] = custom_objects[value]
        elif isinstance(value, dict):
            names = [name for name in names_to_look_up(value) if name in custom_objects]
            if names:
                config[key] = custom_objects[names[0]](**value.get("config", {}))
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
