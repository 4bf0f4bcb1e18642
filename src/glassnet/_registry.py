"""Name registries shared by initializers, optimizers, activations, losses, ...

A :class:`Registry` maps string names (``"glorot_uniform"``, ``"GlorotUniform"``)
to classes or functions, and its :meth:`Registry.get` turns whatever a user passes
(a name, an instance, a class, a callable or a Keras-style config dict) into the
object to use. Unknown names raise ``ValueError`` with the closest valid
names ("did you mean"), then all of them (:func:`unknown_name`).

Objects are written in Keras 3's serialization layout,
``{"module", "class_name", "config", "registered_name"}``, with the Keras
``module`` of each registry (``"keras.initializers"``), so a config glassnet
writes is one Keras reads and the other way round. The table of user classes
and functions registered for saving (:mod:`glassnet.saving` has the public
``register_keras_serializable`` / ``custom_object_scope``) lives here too,
since every registry consults it. Nothing is ever imported by the name a
config gives: a name resolves through these tables or not at all.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Keras's module string -> the registry of its objects ("keras.layers", ...).
KERAS_MODULES: dict[str, Registry] = {}

# user objects registered for saving: "package>Name" -> object, and back
GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_scopes = threading.local()

#: Arguments newer Keras 3 releases write for features glassnet does not have,
#: accepted at these (feature off) values by every class and never written, so
#: the files glassnet writes stay readable by older Keras 3 releases.
NEWER_KERAS_DEFAULTS: dict[str, Any] = {
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "input_axes": None,
    "output_axes": None,
    "optional": False,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``; ``"L1L2"`` -> ``"l1l2"``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def custom_object_scopes() -> list[dict[str, Any]]:
    """The ``custom_object_scope`` dicts active in this thread, innermost last."""
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


@contextlib.contextmanager
def custom_object_scope(*scopes: dict[str, Any] | None) -> Iterator[None]:
    """Within this block (in this thread), the names in ``scopes`` resolve to
    their objects when configs are read: ``with custom_object_scope({"Scale":
    Scale}): model = load_model(path)``."""
    table: dict[str, Any] = {}
    for scope in scopes:
        table.update(scope or {})
    stack = custom_object_scopes()
    stack.append(table)
    try:
        yield
    finally:
        stack.pop()


def find_custom_object(*names: Any) -> Any:
    """The user object registered under one of ``names`` (a scope's
    ``custom_objects`` first, innermost scope first, then the global table)."""
    tables = [*reversed(custom_object_scopes()), GLOBAL_CUSTOM_OBJECTS]
    for table in tables:
        for name in names:
            if isinstance(name, str) and name in table:
                return table[name]
    return None


def is_keras_module(module: Any) -> bool:
    """Whether a config's ``module`` names Keras's (or glassnet's) own objects,
    which resolve by class name through the registries."""
    if module is None:
        return True
    if not isinstance(module, str):
        return False
    return module in ("keras", "builtins", "glassnet") or module.startswith(
        ("keras.", "glassnet.")
    )


def without_keras_only(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without the Keras arguments glassnet does not implement.

    Those are ``cls.keras_only`` (``{argument: Keras default}``) and
    :data:`NEWER_KERAS_DEFAULTS`; each is accepted at its default only (a
    Keras feature that is switched on cannot be honoured), else ValueError.
    """
    if not isinstance(config, dict):
        raise TypeError(
            f"A {cls.__name__} config must be a dict. Received: config={config!r}"
        )
    defaults = {**NEWER_KERAS_DEFAULTS, **getattr(cls, "keras_only", {})}
    kept = {}
    for key, value in config.items():
        if key not in defaults:
            kept[key] = value
        elif not _same(value, defaults[key]):
            raise ValueError(
                f"{cls.__name__}: glassnet does not implement Keras's `{key}`; "
                f"only {key}={defaults[key]!r} is accepted. Received: "
                f"{key}={value!r}"
            )
    return kept


def _same(value: Any, default: Any) -> bool:
    if default is None or isinstance(default, bool):
        return value is default
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and isinstance(default, (int, float)):
        # NOTE: Keras writes some float settings rounded through float32
        return math.isclose(value, default, rel_tol=1e-6)
    return value == default


def dtype_policy_name(dtype: Any) -> Any:
    """The dtype of a Keras 3 ``DTypePolicy`` config (``{"class_name":
    "DTypePolicy", "config": {"name": "float32"}}``); other values unchanged."""
    if not isinstance(dtype, dict):
        return dtype
    config = dtype.get("config")
    if dtype.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy") or not (
        isinstance(config, dict) and isinstance(config.get("name"), str)
    ):
        raise ValueError(
            "A dtype given as a dict must be a Keras DTypePolicy config, "
            '{"class_name": "DTypePolicy", "config": {"name": "float32"}}. '
            f"Received: dtype={dtype!r}"
        )
    return config["name"]


def _is_function(obj: Any) -> bool:
    return inspect.isfunction(obj) or inspect.isbuiltin(obj)


def _key(name: str) -> str:
    """What spellings are compared by: ``"GlorotUniform"``, ``"glorot_uniform"``
    and ``"Glorot-Uniform"`` all give ``"glorotuniform"``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def close_matches(name: Any, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` that look like ``name`` (``difflib``,
    ignoring case and underscores), the closest first; of two spellings of one
    name (``"adam"``, ``"Adam"``) the one in ``name``'s style."""
    if not isinstance(name, str):
        return []
    camel = name != snake_case(name)
    by_key: dict[str, str] = {}
    for candidate in sorted(candidates):
        key = _key(candidate)
        if key not in by_key or (candidate != snake_case(candidate)) == camel:
            by_key[key] = candidate
    keys = difflib.get_close_matches(_key(name), list(by_key), n=n, cutoff=0.6)
    return [by_key[key] for key in keys]


def unknown_name(
    kind: str, name: Any, candidates: Iterable[str], valid: Iterable[str]
) -> ValueError:
    """The error for a name that is not one of ``candidates``: the closest of
    them ("did you mean"), the ``valid`` names, and what was received::

        Unknown loss: 'mse2'. Did you mean 'mse'? Valid names are: ...
        Received: loss='mse2'
    """
    guesses = close_matches(name, candidates)
    hint = f" Did you mean {' or '.join(map(repr, guesses))}?" if guesses else ""
    return ValueError(
        f"Unknown {kind}: {name!r}.{hint} Valid names are: {', '.join(valid)}. "
        f"Received: {kind}={name!r}"
    )


class Registry:
    """A name -> object table with Keras-style ``get`` and ``serialize``.

    Parameters
    ----------
    kind : str
        What the registry holds ("initializer", "optimizer", ...), for messages.
    base : type, optional
        Instances of this class are returned by ``get`` as they are.
    instantiate : bool
        When a name resolves to a class, return ``cls()`` (initializers,
        optimizers) rather than the class itself.
    module : str, optional
        Keras's module of these objects (``"keras.initializers"``), written in
        the ``module`` field of their configs.
    """

    def __init__(
        self,
        kind: str,
        base: type | None = None,
        instantiate: bool = True,
        module: str | None = None,
    ):
        self.kind = kind
        self.base = base
        self.instantiate = instantiate
        self.module = module
        self._table: dict[str, Any] = {}
        self._keras: dict[Any, tuple[str | None, str]] = {}
        if module is not None:
            KERAS_MODULES[module] = self

    def register(self, *names: str) -> Callable[[Any], Any]:
        """Decorator: add an object under its own ``__name__`` and ``names``
        (default: the snake_case of its name)."""

        def add(obj: Any) -> Any:
            own = obj.__name__
            for name in (own, *(names or (snake_case(own),))):
                self._table[name] = obj
            return obj

        return add

    def add(
        self,
        name: str,
        obj: Any,
        module: str | None = None,
        keras_name: str | None = None,
    ) -> None:
        """Add ``obj`` under ``name``; ``module`` and ``keras_name`` (default:
        the registry's module, the object's name) are what its configs say."""
        self._table[name] = obj
        if module is not None or keras_name is not None:
            self._keras[obj] = (module, keras_name or obj.__name__)

    def names(self) -> list[str]:
        """The snake_case names (CamelCase class names are accepted too); the
        class names where there are no others (the layers)."""
        return sorted(n for n in self._table if n == snake_case(n)) or sorted(
            self._table
        )

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def holds(self, obj: Any) -> bool:
        """Whether ``obj`` (a class or function) is one of this table's."""
        return any(value is obj for value in self._table.values())

    def lookup(self, name: str) -> Any:
        """The registered object itself (a class or a function)."""
        if not isinstance(name, str) or name not in self._table:
            raise unknown_name(self.kind, name, self._table, self.names())
        return self._table[name]

    def name_of(self, obj: Any) -> str | None:
        """The snake_case name under which ``obj`` (or its class) is registered."""
        target = obj if self.holds(obj) else type(obj)
        for name, value in self._table.items():
            if value is target and name == snake_case(name):
                return name
        return None

    def keras_identity(self, cls: Any) -> tuple[str, str]:
        """``(module, class_name)`` that Keras's configs give ``cls``."""
        module, name = self._keras.get(cls, (None, cls.__name__))
        return module or self.module or "keras", name

    # --- Keras's serialization layout ---------------------------------------------
    def serialize(self, obj: Any) -> Any:
        """``obj`` as Keras 3 writes it: None and names stay, a registered
        function gives its name, an object its ``{"module", "class_name",
        "config", "registered_name"}`` dict."""
        if obj is None or isinstance(obj, str):
            return obj
        return serialize_object(obj, self)

    def get(self, identifier: Any, default: Any = None) -> Any:
        """Resolve a name, instance, class, callable or config dict.

        ``None`` gives ``default``. A dict must look like
        ``{"class_name": "GlorotUniform", "config": {...}}`` (Keras's
        ``module`` and ``registered_name`` are honoured when present).
        """
        if identifier is None:
            return default
        if isinstance(identifier, str):
            obj = find_custom_object(identifier)
            if obj is None:
                obj = self.lookup(identifier)
            return obj() if self.instantiate and isinstance(obj, type) else obj
        if isinstance(identifier, dict):
            return self._from_dict(identifier)
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, type):
            return identifier() if self.instantiate else identifier
        if callable(identifier):
            return identifier
        raise TypeError(
            f"Could not interpret {self.kind} identifier: expected a name, an "
            f"instance, a class, a callable or a config dict. "
            f"Received: {self.kind}={identifier!r}"
        )

    def resolve(self, config: dict[str, Any]) -> Any:
        """The class (or function) a Keras config dict names: a registered user
        object (by ``registered_name``, then by name), else one of this table's
        when the ``module`` is Keras's or glassnet's. Nothing is imported."""
        class_name = config.get("class_name")
        name = config.get("config") if class_name == "function" else class_name
        if not isinstance(name, str):
            raise ValueError(
                f"A {self.kind} config needs a string 'class_name' (and, for a "
                f"function, its name as 'config'). Received: {config!r}"
            )
        registered = config.get("registered_name")
        found = find_custom_object(registered, name)
        if found is not None:
            return found
        module = config.get("module")
        if not is_keras_module(module):
            raise ValueError(
                f"Unknown {self.kind} {name!r} (registered_name={registered!r}, "
                f"module={module!r}): it is not one of glassnet's, and no object "
                "is registered under that name. Register it with "
                "glassnet.saving.register_keras_serializable() or pass it in "
                "custom_objects=. Modules named in a file are never imported."
            )
        return self.lookup(name)

    def _from_dict(self, config: dict[str, Any]) -> Any:
        if "class_name" not in config:
            raise ValueError(
                f"A {self.kind} config dict needs a 'class_name' key. "
                f"Received: {config!r}"
            )
        obj = self.resolve(config)
        if config["class_name"] == "function" or not isinstance(obj, type):
            return obj
        inner = config.get("config")
        inner = {} if inner is None else inner
        if not isinstance(inner, dict):
            raise ValueError(
                f"The config of {self.kind} {config['class_name']!r} must be a "
                f"dict. Received: config={inner!r}"
            )
        if hasattr(obj, "from_config"):
            return obj.from_config(dict(inner))
        return obj(**inner)


def keras_identity(obj: Any) -> tuple[str, str, str | None]:
    """``(module, class_name, registered_name)`` of a class or function, as
    Keras 3 writes them: a registered user object gives its own module and
    ``"package>Name"``, one of glassnet's its Keras module."""
    registered = GLOBAL_CUSTOM_NAMES.get(obj)
    if registered is not None:
        return obj.__module__, obj.__name__, registered
    for registry in KERAS_MODULES.values():
        if registry.holds(obj):
            module, name = registry.keras_identity(obj)
            return module, name, None
    return obj.__module__, obj.__name__, obj.__name__


def serialize_object(obj: Any, registry: Registry | None = None) -> Any:
    """A function or an object with ``get_config`` in Keras 3's layout.

    A function of a registry is written as its name (``"relu"``); another
    function as ``{"class_name": "function", "config": name, ...}``, which
    loads only where that name is registered or given in ``custom_objects``
    (a lambda has no name to load it by, so it cannot be written).
    """
    if _is_function(obj):
        registered = GLOBAL_CUSTOM_NAMES.get(obj)
        if registered is None:
            for table in [registry, *KERAS_MODULES.values()]:
                if table is not None and table.holds(obj):
                    return table.name_of(obj)
        if obj.__name__ == "<lambda>":
            raise ValueError(
                "A lambda cannot be saved: glassnet never stores code. Use a "
                "named function registered with "
                "glassnet.saving.register_keras_serializable(). "
                f"Received: {obj!r}"
            )
        return {
            "module": obj.__module__,
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": registered or obj.__name__,
        }
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r}: it is not a function and has no "
            "get_config() method."
        )
    module, class_name, registered = keras_identity(type(obj))
    if registry is not None and registry.holds(type(obj)):
        module, class_name = registry.keras_identity(type(obj))
    return {
        "module": module,
        "class_name": class_name,
        "config": obj.get_config(),
        "registered_name": registered,
    }
