"""The one exception a file's content raises: :class:`FileFormatError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class FileFormatError(ValueError):
    """A model, weights or config file that glassnet cannot load.

    Raised for everything about a file's *content*: not a zip or HDF5 file,
    truncated or corrupted, from a newer major format, naming a class that is
    neither glassnet's nor registered, a weight that is missing, extra, or of
    the wrong shape or dtype, a config a layer rejects. The message says which
    part of the file and what is wrong. A file that cannot be opened at all
    (missing, no permission) raises the ``OSError`` of opening it, and running
    out of memory a ``MemoryError``.
    """


@contextlib.contextmanager
def format_errors(source: str) -> Iterator[None]:
    """Turn every exception raised while reading ``source`` into a
    :class:`FileFormatError` that names it (a MemoryError stays one)."""
    try:
        yield
    except (FileFormatError, MemoryError):
        raise
    except RecursionError:
        raise FileFormatError(f"{source}: the content is nested too deeply.") from None
    except Exception as error:
        detail = str(error)
        if not isinstance(error, (ValueError, TypeError)) or not detail:
            detail = f"{type(error).__name__}: {detail}".rstrip(": ")
        raise FileFormatError(f"{source}: {detail}") from error
