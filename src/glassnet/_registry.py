"""Name registries shared by initializers, optimizers, activations, losses, ...

A :class:`Registry` maps string names (``"glorot_uniform"``, ``"GlorotUniform"``)
to classes or functions, and its :meth:`Registry.get` turns whatever a user passes
(a name, an instance, a class, a callable or a Keras-style config dict) into the
object to use. Unknown names raise ``ValueError`` with the closest valid
names ("did you mean"), then all of them (:func:`unknown_name`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``; ``"L1L2"`` -> ``"l1l2"``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


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
    """A name -> object table with Keras-style ``get``.

    Parameters
    ----------
    kind : str
        What the registry holds ("initializer", "optimizer", ...), for messages.
    base : type, optional
        Instances of this class are returned by ``get`` as they are.
    instantiate : bool
        When a name resolves to a class, return ``cls()`` (initializers,
        optimizers) rather than the class itself.
    """

    def __init__(self, kind: str, base: type | None = None, instantiate: bool = True):
        self.kind = kind
        self.base = base
        self.instantiate = instantiate
        self._table: dict[str, Any] = {}

    def register(self, *names: str) -> Callable[[Any], Any]:
        """Decorator: add an object under its own ``__name__`` and ``names``
        (default: the snake_case of its name)."""

        def add(obj: Any) -> Any:
            own = obj.__name__
            for name in (own, *(names or (snake_case(own),))):
                self._table[name] = obj
            return obj

        return add

    def add(self, name: str, obj: Any) -> None:
        self._table[name] = obj

    def names(self) -> list[str]:
        """The snake_case names (CamelCase class names are accepted too)."""
        return sorted(n for n in self._table if n == snake_case(n))

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def lookup(self, name: str) -> Any:
        """The registered object itself (a class or a function)."""
        if not isinstance(name, str) or name not in self._table:
            raise unknown_name(self.kind, name, self._table, self.names())
        return self._table[name]

    def name_of(self, obj: Any) -> str | None:
        """The snake_case name under which ``obj`` (or its class) is registered."""
        known = any(value is obj for value in self._table.values())
        target = obj if known else type(obj)
        for name, value in self._table.items():
            if value is target and name == snake_case(name):
                return name
        return None

    def get(self, identifier: Any, default: Any = None) -> Any:
        """Resolve a name, instance, class, callable or config dict.

        ``None`` gives ``default``. A dict must look like
        ``{"class_name": "GlorotUniform", "config": {...}}``.
        """
        if identifier is None:
            return default
        if isinstance(identifier, str):
            obj = self.lookup(identifier)
            return obj() if self.instantiate and isinstance(obj, type) else obj
        if isinstance(identifier, dict):
            if "class_name" not in identifier:
                raise ValueError(
                    f"A {self.kind} config dict needs a 'class_name' key. "
                    f"Received: {identifier!r}"
                )
            cls = self.lookup(identifier["class_name"])
            config = identifier.get("config") or {}
            if hasattr(cls, "from_config"):
                return cls.from_config(config)
            return cls(**config) if isinstance(cls, type) else cls
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
