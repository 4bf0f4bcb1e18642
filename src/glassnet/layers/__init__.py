"""Keras-style layers on the glassnet engine."""

from __future__ import annotations

from glassnet.layers import operations as _operations
from glassnet.layers.activations import ELU, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import KerasTensor, Layer, clear_session
from glassnet.layers.conv import Conv1D, Conv2D, Conv2DTranspose
from glassnet.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Reshape,
)
from glassnet.layers.embedding import Embedding
from glassnet.layers.lambda_layer import Identity, Lambda
from glassnet.layers.merging import (
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
from glassnet.layers.normalization import BatchNormalization, LayerNormalization
from glassnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from glassnet.layers.preprocessing import Rescaling
from glassnet.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from glassnet.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from glassnet.layers.serialization import deserialize, serialize
from glassnet.layers.serialization import register as _register

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "AveragePooling1D",
    "AveragePooling2D",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Embedding",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Identity",
    "Lambda",
    "LayerNormalization",
    "MaxPooling1D",
    "MaxPooling2D",
    "Permute",
    "Rescaling",
    "RepeatVector",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Activation",
    "ELU",
    "LeakyReLU",
    "ReLU",
    "Softmax",
    "BatchNormalization",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Flatten",
    "GRU",
    "LSTM",
    "SimpleRNN",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "Reshape",
    "clear_session",
    "deserialize",
    "serialize",
]

# every exported layer class can be named in a saved config
for _name in __all__:
    if isinstance(globals()[_name], type) and issubclass(globals()[_name], Layer):
        _register(_name, globals()[_name])

# Keras 3 writes the masks of a functional model as operation nodes
_register("NotEqual", _operations.NotEqual, module="keras.src.ops.numpy")
