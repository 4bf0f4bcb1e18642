"""ONNX export: glassnet models and MLP estimators as ONNX files, for any
ONNX runtime.

>>> model.export("model.onnx", format="onnx")       # Keras 3's spelling
>>> glassnet.onnx.export(model, "model.onnx")
>>> glassnet.onnx.export(fitted_mlp_classifier, "mlp.onnx")

The graph is built with the ``onnx`` package (``pip install glassnet[onnx]``),
written for opset 18, checked with ``onnx.checker.check_model`` (full check)
and written atomically. The batch dimension is dynamic (``"batch"``).

**Models**: Sequential models and functional graphs of any shape: several
inputs and outputs (lists and dicts), shared layers (one initializer per
weight, read by each call), models used as layers (inlined), branches and
merges. A model that takes and gives one array has input ``"input"`` and
output ``"output"``; one that takes or gives a list or dict has its inputs
named after its input layers and its outputs after the layers that make
them (``name_1``, ... for repeats), in its flat order (a dict's keys
sorted). Each input has its ``Input``'s dtype (token ids of an
``Input(..., dtype="int32")`` stay int32; a Cast to float32 goes in before
a layer other than Embedding, as glassnet's layers cast); the rest is
float32. Shapes are glassnet's: images stay channels-last at both ends.
ONNX's convolutions and pooling are channels-first, so a Transpose goes in
where the layout changes (once before a run of convolution/pooling layers,
once after it, once per value however many branches read it). Each layer
becomes:

========================== =====================================================
glassnet layer             ONNX nodes
========================== =====================================================
Dense                      Gemm (2-D input) or MatMul + Add, then the activation
Activation, activations    relu: Relu; tanh: Tanh; sigmoid: Sigmoid;
                           softmax / log_softmax: Softmax / LogSoftmax
                           (last axis); elu: Elu; selu: Selu; softplus:
                           Softplus; softsign: Softsign; leaky_relu:
                           LeakyRelu (0.2); relu6: Clip(0, 6);
                           hard_sigmoid: HardSigmoid (1/6, 0.5); hard_silu
                           (hard_swish): HardSwish; silu (swish): Mul(x,
                           Sigmoid(x)); gelu: x * 0.5 * (1 + Erf(x / sqrt 2));
                           exponential: Exp; linear: nothing
Conv1D, Conv2D             Conv (kernel transposed to ``(out, in, *size)``;
                           'same' pads as Keras: the odd one bottom/right;
                           Conv1D 'causal' pads the left), then the activation
Conv2DTranspose            ConvTranspose (kernel ``(in, out, kh, kw)``; explicit
                           pads and output_padding from glassnet's geometry;
                           height and width must be known)
Max/AveragePooling1D/2D    MaxPool / AveragePool (count_include_pad=0:
                           Keras's 'same')
GlobalAveragePooling1D/2D  ReduceMean over the steps, or height and width
GlobalMaxPooling1D/2D      ReduceMax over the steps, or height and width
Flatten                    Flatten (channels-last order, as glassnet)
Reshape                    Reshape (batch kept)
Permute                    Transpose
RepeatVector               Unsqueeze, Expand
Dropout, Identity          nothing (inference)
BatchNormalization         Sub, Mul, Add with the moving statistics
                           (inference form; glassnet's own float32 constants)
LayerNormalization         LayerNormalization (opset 17) when the axes are the
                           last ones; else ReduceMean, Sub, Mul, Sqrt,
                           Reciprocal, Mul, Add (glassnet's steps)
Rescaling                  Mul, Add
Embedding                  Gather of the table's rows (float ids Cast to int64)
ZeroPadding1D/2D           Pad
Cropping1D/2D              Slice
UpSampling1D/2D            Resize (nearest, asymmetric, floor: a repeat)
Add, Subtract, Multiply    Add / Sub / Mul, left to right (inputs of lower
                           rank Unsqueezed after the batch, as glassnet does)
Maximum, Minimum           Max / Min, the same way
Average                    Add, the same way, then Div
Concatenate                Concat (any axis)
Dot                        Einsum per sample (normalize: ReduceSum, Sqrt, Max
                           1e-7, Div first); a (batch,) result Unsqueezed
========================== =====================================================

Refused with :class:`ExportError` (a ``ValueError``) naming the layer and
its class: a layer kind not in the table (Lambda: its function is Python
code; a subclass that overrides ``call``), an activation that is not
glassnet's own (a user function), a layer called with arguments other than
its inputs (``mask=``), a subclassed model, a model that is not built, a
model whose dtype is not float32.

**Estimators**: a fitted :class:`~glassnet.sklearn.MLPRegressor` or
:class:`~glassnet.sklearn.MLPClassifier`, named as skl2onnx names them
(without its ZipMap): input ``"X"`` (float32, ``(batch, n_features_in_)``);
a regressor's output ``"variable"`` (``(batch, n_outputs_)``); a
classifier's outputs ``"label"`` (the class labels, of the dtype of
``classes_``: int64, string, ...; for multilabel models the 0/1 indicator
matrix) and ``"probabilities"`` (``predict_proba``). The weights are cast to
float32, as skl2onnx does.

The layer converters are a registry (:mod:`glassnet.onnx.layers`): a new
layer is one ``@converts(Layer)`` function ``(graph, layer, *inputs) ->
Value``; a new activation one ``@emits(function)``.
"""

from __future__ import annotations

import os
from typing import Any

from glassnet.onnx.graph import OPSET, ExportError, require_onnx
from glassnet.onnx.layers import converts, emits

__all__ = ["OPSET", "ExportError", "converts", "emits", "export"]


def export(model_or_estimator: Any, filepath: Any = None, opset_version=None) -> Any:
    """Export a glassnet model or a fitted MLP estimator to ONNX.

    Writes ``filepath`` (atomically) when given and returns the
    ``onnx.ModelProto``. ``opset_version`` (at least :data:`OPSET`, the
    default) only changes the opset the file declares: the nodes are the same.
    """
    require_onnx()
    opset = OPSET if opset_version is None else int(opset_version)
    if opset < OPSET:
        raise ValueError(
            f"glassnet writes ONNX opset {OPSET} or later. "
            f"Received: opset_version={opset_version!r}"
        )
    from glassnet.onnx.models import model_to_onnx
    from glassnet.onnx.sklearn import estimator_to_onnx, is_estimator

    if is_estimator(model_or_estimator):
        proto = estimator_to_onnx(model_or_estimator, opset)
    else:
        proto = model_to_onnx(model_or_estimator, opset)
    if filepath is not None:
        from glassnet.saving.atomic import write_atomically

        data = proto.SerializeToString()
        write_atomically(os.fspath(filepath), lambda file: file.write(data))
    return proto
