"""Callbacks: code that runs at fixed points of ``fit`` / ``evaluate`` / ``predict``.

The hooks, when they are called and their ``logs`` dicts are Keras 3's:
``on_train_begin/end``, ``on_epoch_begin/end`` (logs ``{"loss": ...,
"val_loss": ..., metrics}``), ``on_train_batch_begin/end`` (also called
through Keras's older names ``on_batch_begin/end``), ``on_test_*`` (in
``evaluate`` and around ``fit``'s validation) and ``on_predict_*``; every hook
gets a dict. A callback stops training by setting
``self.model.stop_training = True``.

:data:`HOOKS` names them all, :data:`ALIASES` the older names
(:mod:`glassnet.callbacks.base`).
:class:`ModelCheckpoint` and :class:`BackupAndRestore`
(:mod:`glassnet.callbacks.checkpoint`) write files through
:mod:`glassnet.saving`, atomically. :class:`TensorBoard`
(:mod:`glassnet.callbacks.tensorboard`) writes TensorBoard's event files
itself, without TensorFlow.
"""

from __future__ import annotations

from glassnet.callbacks.base import (
    ALIASES,
    BATCH_HOOKS,
    HOOKS,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from glassnet.callbacks.checkpoint import BackupAndRestore, ModelCheckpoint
from glassnet.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
