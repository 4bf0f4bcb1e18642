"""The shared machinery of NeuralNetClassifier and NeuralNetRegressor: any
glassnet model as a scikit-learn estimator.

The design follows scikeras (and skorch where they agree):

- ``model=`` is a glassnet :class:`~glassnet.models.Model` (a template: every
  fit trains a fresh copy rebuilt from its ``get_config()``, its unseeded
  initializers and random layers seeded from ``random_state``, so the user's
  instance is never trained and never shared between clones) or a callable
  that builds and returns one. The callable receives the routed
  ``model__<name>`` parameters as keywords, and the fit's meta-information
  (``n_features_in_``, ``n_classes_``, ``classes_``, ``n_outputs_``,
  ``target_type_``, ``X_dtype_``; or all of it as ``meta``) for the names it
  declares.
- ``optimizer__<name>`` parameters are the optimizer's constructor arguments.
- Routed parameters are parameters: ``get_params``, ``set_params``, ``clone``
  and the searches see them (``GridSearchCV(est, {"model__units": [8, 16]})``).
- ``fit`` starts from fresh weights (unless ``warm_start``) and trains for
  ``epochs``; ``partial_fit`` trains one epoch of the same network per call.
- ``random_state`` seeds Python's ``random`` and NumPy's global random state
  (what glassnet's initializers, shuffling and unseeded Dropout layers draw
  from) around building and training, under a lock, and puts them back
  afterwards, as scikeras does for TensorFlow.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import random
import threading
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from glassnet import losses, optimizers
from glassnet.models import Model

#: Prefixes of the parameters passed on to the model's builder and optimizer.
ROUTED_PREFIXES = ("model__", "optimizer__")

# NOTE: an RLock, so a callback that fits another seeded estimator inside a fit
# does not deadlock; the lock serialises seeded fits in threads of one process.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded_global_rng(seed: int | None) -> Iterator[None]:
    """Python's ``random`` and NumPy's global random state seeded with
    ``seed`` inside the block (under a process-wide lock), as
    ``glassnet.utils.set_random_seed`` seeds them, and put back as they were
    afterwards; nothing happens for ``seed=None``.

    What they seed in glassnet: initializers without a seed and ``fit``'s
    shuffling draw from NumPy's state; a Dropout made without a seed takes
    one from Python's ``random``.
    """
    if seed is None:
        yield
        return
    with _GLOBAL_RNG_LOCK:
        python_state, numpy_state = random.getstate(), np.random.get_state()
        random.seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def split_routed(params: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The routed ``params`` of ``prefix`` (``"model__"``), without it."""
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def call_builder(build: Any, routed: dict[str, Any], meta: dict[str, Any]) -> Any:
    """``build(**routed, **declared meta)``: the routed parameters, plus ``meta``
    and each meta name the callable declares (as scikeras passes them)."""
    try:
        parameters = inspect.signature(build).parameters
    except (TypeError, ValueError):  # a builtin or C callable: routed only
        return build(**routed)
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(set(routed) - set(parameters))
    if unknown and not var_keyword:
        raise ValueError(
            f"model__{unknown[0]} is routed to the model builder "
            f"{getattr(build, '__qualname__', build)!r}, which takes no argument "
            f"{unknown[0]!r}; it takes {sorted(parameters)}. "
            f"Received: {', '.join('model__' + k for k in unknown)}"
        )
    kwargs = dict(routed)
    if "meta" in parameters:
        kwargs["meta"] = dict(meta)
    for name, value in meta.items():
        if name in parameters and name not in routed:
            kwargs[name] = value
    return build(**kwargs)


def _seeded_config(config: Any, rng: np.random.RandomState) -> Any:
    """``config`` with every ``"seed": None`` (initializers', Dropout's)
    replaced by a seed drawn from ``rng``, in the config's order."""
    if isinstance(config, list):
        return [_seeded_config(item, rng) for item in config]
    if not isinstance(config, dict):
        return config
    out = {key: _seeded_config(value, rng) for key, value in config.items()}
    if "seed" in out and out["seed"] is None:
        out["seed"] = int(rng.randint(2**31 - 1))
    return out


def fresh_copy(model: Model, seed: int | None) -> Model:
    """A new, uncompiled model with ``model``'s architecture and fresh weights:
    rebuilt from ``get_config()``; its initializers and random layers without a
    seed get one drawn from ``seed`` (None: left unseeded, as in Keras), so the
    copy's weights and dropout masks do not depend on the global state."""
    config = model.get_config()
    if seed is not None:
        config = _seeded_config(config, np.random.RandomState(seed))
    try:
        return type(model).from_config(config)
    except Exception as err:
        raise TypeError(
            f"model= is a {type(model).__name__} instance that cannot be rebuilt "
            f"from its get_config() ({type(err).__name__}: {err}). A subclassed "
            "model needs get_config/from_config that round-trip; or pass a "
            "function that builds the model (model=build_model)."
        ) from err


def resolve_optimizer(optimizer: Any, options: dict[str, Any]) -> Any:
    """A new optimizer from a name, a class or an instance (copied from its
    config, never shared), with ``options`` (the ``optimizer__`` parameters)
    as constructor arguments."""
    if isinstance(optimizer, optimizers.Optimizer):
        return type(optimizer).from_config({**optimizer.get_config(), **options})
    cls = optimizer if isinstance(optimizer, type) else type(optimizers.get(optimizer))
    return cls(**options)


def loss_function(loss: Any) -> Any:
    """The function behind a loss given to ``compile`` (a name, a Loss object
    or a function); None for None."""
    resolved = losses.get(loss) if isinstance(loss, (str, dict)) else loss
    return getattr(resolved, "fn", resolved)


def from_logits(loss: Any) -> bool:
    """Whether the loss reads the model's outputs as logits."""
    resolved = losses.get(loss) if isinstance(loss, (str, dict)) else loss
    return bool(getattr(resolved, "fn_kwargs", {}).get("from_logits", False))


class BaseNeuralNet(BaseEstimator):
    """Base class of the wrappers; use NeuralNetClassifier or NeuralNetRegressor."""

    _parameter_constraints: dict = {
        "model": [Model, callable, None],
        "optimizer": [str, type, optimizers.Optimizer],
        "loss": [str, callable, dict, None],
        "metrics": [list, tuple, None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "callbacks": [list, tuple, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose", StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model=None,
        *,
        optimizer="adam",
        loss=None,
        metrics=None,
        epochs=1,
        batch_size=None,
        validation_split=0.0,
        shuffle=True,
        callbacks=None,
        warm_start=False,
        verbose=0,
        random_state=None,
        **routed,
    ):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        # NOTE: private, so scikit-learn's check that __init__ sets only its
        # signature's parameters holds; get_params and set_params see them.
        # Their names are checked by fit, as every parameter is.
        self._routed_params = dict(routed)

    # --- parameters -----------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        params = self._routed_params
        unknown = [k for k in params if not k.startswith(ROUTED_PREFIXES)]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown parameter(s) {unknown}: its "
                "extra parameters are routed ones, named "
                f"{' or '.join(p + '<name>' for p in ROUTED_PREFIXES)}. "
                f"Received: {', '.join(f'{k}={params[k]!r}' for k in unknown)}"
            )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, the routed ``model__<name>`` and ``optimizer__<name>``
        ones included."""
        params = super().get_params(deep=deep)
        params.update(self.__dict__.get("_routed_params", {}))
        return params

    def set_params(self, **params: Any) -> BaseNeuralNet:
        """Set parameters; a routed one (``model__units=32``) may be new."""
        routed = {
            k: v
            for k, v in params.items()
            if k.startswith(ROUTED_PREFIXES) or k in self._routed_params
        }
        self._routed_params.update(routed)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    # --- meta-information and targets (per task) ----------------------------------
    def _set_target_attributes(self, y: np.ndarray, classes: Any) -> dict[str, Any]:
        """Set the fitted attributes the targets give (``classes_``, ...); return
        them (and ``target_type_``) for the builder."""
        raise NotImplementedError

    def _default_loss(self, model: Model) -> Any:
        raise NotImplementedError

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` as the model's loss reads it."""
        raise NotImplementedError

    def _check_model_outputs(self, model: Model) -> None:
        """A ValueError when the model's outputs cannot serve these targets."""

    # --- building -------------------------------------------------------------------
    def _base_seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _call_seed(self) -> int | None:
        """The global-RNG seed of this call: one per fit / partial_fit call, so
        successive partial_fit epochs shuffle differently yet repeatably."""
        if self._seed is None:
            return None
        sequence = np.random.SeedSequence([self._seed, self._calls])
        self._calls += 1
        return int(sequence.generate_state(1)[0])

    def _build(self, X: np.ndarray, meta: dict[str, Any]) -> Model:
        """A new, compiled model: a fresh copy of ``model=``, or what the builder
        returns (compiled by the wrapper unless the builder compiled it)."""
        if self.model is None:
            raise ValueError(
                f"{type(self).__name__} needs model=: a glassnet Model, or a "
                "function that builds one. Received: model=None"
            )
        routed = split_routed(self._routed_params, "model__")
        if isinstance(self.model, Model):
            if routed:
                raise ValueError(
                    "model__ parameters are passed to a function that builds the "
                    "model; model= is a Model instance, which takes none. "
                    f"Received: {', '.join('model__' + k for k in routed)}"
                )
            model = fresh_copy(self.model, self._seed)
        else:
            model = call_builder(self.model, routed, meta)
            if not isinstance(model, Model):
                raise TypeError(
                    "model= must build and return a glassnet Model. Received: "
                    f"{getattr(self.model, '__qualname__', self.model)!r} returned "
                    f"{type(model).__name__}"
                )
        if not model.built:
            model.build((None, X.shape[1]))
        if len(model.output_shape or ()) != 2:
            raise ValueError(
                f"{type(self).__name__} needs a model whose output is (batch, "
                f"units). Received: output shape {model.output_shape}"
            )
        self._check_model_outputs(model)
        if not model.compiled:
            options = split_routed(self._routed_params, "optimizer__")
            model.compile(
                optimizer=resolve_optimizer(self.optimizer, options),
                loss=self._default_loss(model) if self.loss is None else self.loss,
                metrics=None if self.metrics is None else list(self.metrics),
            )
        return model

    # --- fitting --------------------------------------------------------------------
    def _validate_xy(self, X, y, reset: bool):
        raise NotImplementedError

    def _fit(self, X, y, sample_weight, epochs: int, incremental: bool, classes=None):
        initialize = not hasattr(self, "model_") or not (incremental or self.warm_start)
        if not initialize:
            return self._train(X, y, sample_weight, epochs, initialize)
        # NOTE: a fit that fails while starting over (bad targets for the model,
        # a builder's error) leaves the estimator as it was, not half-updated.
        before = dict(self.__dict__)
        try:
            return self._train(X, y, sample_weight, epochs, initialize, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _train(self, X, y, sample_weight, epochs, initialize, classes=None):
        X, y = self._validate_xy(X, y, reset=initialize)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if initialize:
            meta = self._set_target_attributes(y, classes)
            meta.update(n_features_in_=X.shape[1], X_dtype_=X.dtype, X_shape_=X.shape)
            self._seed, self._calls = self._base_seed(), 0
        else:
            self._check_targets_known(y)
        with seeded_global_rng(self._call_seed()):
            if initialize:
                self.model_ = self._build(X, meta)
                self.history_ = {}
            history = self.model_.fit(
                X,
                self._encode_targets(y),
                batch_size=self.batch_size,
                epochs=epochs,
                verbose=self.verbose,
                callbacks=copy.deepcopy(list(self.callbacks or [])),
                validation_split=self.validation_split,
                shuffle=self.shuffle,
                sample_weight=sample_weight,
            )
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        # NOTE: the History object references the model and duplicates history_.
        self.model_.history = None
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train a new network (``warm_start``: the fitted one) for ``epochs``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The class labels (classifier) or the targets (regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples' losses (Keras's: each scales its sample's
            loss in the batch mean).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, self.epochs, incremental=False)

    def _check_targets_known(self, y: np.ndarray) -> None:
        """On a continued fit: a ValueError for targets the network cannot take."""

    def _model_outputs(self, X) -> np.ndarray:
        """The model's outputs for ``X``, validated as at fit."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self.model_.predict(X, batch_size=self.batch_size, verbose=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.sparse = False
        return tags
