"""Differentiable operations, each a Function with its own local gradient.

Primitives (one Function each): add, sub, mul, div, neg, pow, exp, log, sqrt,
abs, maximum, minimum, clip, where; sum, mean, max, min; reshape, transpose,
broadcast_to (alias ``expand``), getitem, concatenate, stack; matmul,
batch_dot.
Fused into one Function for speed or numerical stability (see each docstring):
tanh, sigmoid, relu, leaky_relu, elu, softplus, softmax, log_softmax, gelu,
silu, softsign; ``linear`` (x @ w + b, one node per dense layer); the losses
softmax_cross_entropy and sigmoid_cross_entropy (log-sum-exp: finite for logits
of 1e4), mean_squared_error, binary_cross_entropy and categorical_cross_entropy
(on probabilities) and weighted_sum (weights and reduces per-sample losses);
l1_l2_penalty (a regularizer's term); batch_norm (with the batch's statistics;
conv2d_batch_norm: a convolution and the batch normalization of its output).

Keras 3's ``keras.ops`` names (``ones``, ``shape``, ``cast``, ``square``, ``mean``,
``argmax``, ``one_hot``, ``expand_dims``, ``where``, ``norm``, ...: ``KERAS_NAMES``)
take NumPy arrays and Tensors alike and return Tensors (``keras_core.py``,
``keras_numpy.py``, ``keras_nn.py``; ``keras_core`` says which dtypes come back).

Importing this package also gives ``Tensor`` its Python operators.
"""

from __future__ import annotations

from glassnet.autograd.tensor import Tensor
from glassnet.ops.arithmetic import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Sub,
    Where,
    abs,
    add,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from glassnet.ops.conv import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    ZeroPad2D,
    conv1d,
    conv2d,
    conv2d_transpose,
    zero_pad2d,
)
from glassnet.ops.embedding import EmbeddingLookup, embedding_lookup
from glassnet.ops.linalg import BatchDot, Linear, MatMul, batch_dot, linear, matmul
from glassnet.ops.loss import (
    BinaryCrossentropyProbs,
    CategoricalCrossentropyProbs,
    SigmoidCrossEntropy,
    SoftmaxCrossEntropy,
    SquaredError,
    WeightedSum,
    binary_cross_entropy,
    categorical_cross_entropy,
    mean_squared_error,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    weighted_sum,
)
from glassnet.ops.nonlinear import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from glassnet.ops.normalization import (
    BatchNorm,
    LayerNorm,
    batch_norm,
    conv2d_batch_norm,
    layer_norm,
)
from glassnet.ops.pool import (
    AvgPool2D,
    MaxPool2D,
    UpSample2D,
    avg_pool2d,
    max_pool2d,
    upsample2d,
)
from glassnet.ops.reduce import (
    Max,
    Mean,
    Min,
    Penalty,
    Sum,
    l1_l2_penalty,
    max,
    mean,
    min,
    sum,
)
from glassnet.ops.shaping import (
    BroadcastTo,
    Concatenate,
    GetItem,
    Reshape,
    Stack,
    Transpose,
    broadcast_to,
    concatenate,
    expand,
    getitem,
    reshape,
    stack,
    transpose,
)


def _swap(op):
    return lambda self, other: op(other, self)


Tensor.__add__ = add
Tensor.__radd__ = _swap(add)
Tensor.__sub__ = sub
Tensor.__rsub__ = _swap(sub)
Tensor.__mul__ = mul
Tensor.__rmul__ = _swap(mul)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _swap(div)
Tensor.__pow__ = pow
Tensor.__rpow__ = _swap(pow)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _swap(matmul)
Tensor.__neg__ = neg
Tensor.__getitem__ = getitem
Tensor.sum = sum
Tensor.mean = mean
Tensor.max = max
Tensor.min = min
Tensor.exp = exp
Tensor.log = log
Tensor.sqrt = sqrt
Tensor.abs = abs
Tensor.__abs__ = abs
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
Tensor.reshape = lambda self, *shape: reshape(
    self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
)
Tensor.transpose = lambda self, *axes: transpose(
    self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes or None
)
Tensor.T = property(lambda self: transpose(self))
Tensor.clip = clip

# NOTE: imported last, after Tensor's operators took the primitives: where a
# Keras name is also a primitive's (add, sum, clip, ...), glassnet.ops.<name>
# is the Keras function, and the primitive stays in its module.
from glassnet.ops import keras_core, keras_nn, keras_numpy  # noqa: E402
from glassnet.ops.keras_core import *  # noqa: E402, F403
from glassnet.ops.keras_nn import *  # noqa: E402, F403
from glassnet.ops.keras_numpy import *  # noqa: E402, F403

#: Keras's ``keras.ops`` names glassnet has.
KERAS_NAMES = sorted([*keras_core.__all__, *keras_numpy.__all__, *keras_nn.__all__])

__all__ = [name for name in dir() if not name.startswith("_")]
