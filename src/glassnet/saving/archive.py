"""The ``.keras`` zip: ``metadata.json``, ``config.json``, ``model.weights.h5``.

Reading trusts nothing the zip says: the number and names of the members,
their declared and actual sizes, the compression ratio (a few bytes that
inflate to gigabytes are refused before they are inflated), the CRCs, and the
``keras_version`` of the metadata (a newer major format is refused).
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from typing import IO, Any

from glassnet.saving.errors import FileFormatError

METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"

#: The Keras release whose files glassnet's were checked against; written as
#: the metadata's ``keras_version`` (the format's version, for readers).
KERAS_VERSION = "3.15.1"
#: Files of a later major format are refused (their layout may differ).
MAJOR_VERSION = 3

_LIMITS = {METADATA: 1 << 20, CONFIG: 64 << 20}
_MAX_MEMBERS = 4096
# NOTE: Keras stores members uncompressed (1:1); a member past 16 MiB that
# inflates more than 100-fold (Keras's own bound) is a decompression bomb.
_BOMB_FLOOR, _MAX_RATIO = 1 << 24, 100


def write_archive(file: IO[bytes], config: str, weights: bytes) -> None:
    """Write the three members (stored uncompressed, as Keras does)."""
    from glassnet import __version__

    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "glassnet_version": __version__,
    }
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata))
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights)


class KerasArchive:
    """A ``.keras`` file opened for reading, its members checked."""

    def __init__(self, file: Any, source: str) -> None:
        self.source = source
        file.seek(0, io.SEEK_END)
        length = file.tell()
        file.seek(0)
        try:
            self._zip = zipfile.ZipFile(file, "r")
        except zipfile.BadZipFile as error:
            raise FileFormatError(
                f"{source} is not a .keras file (not a readable zip archive: {error})."
            ) from None
        infos = self._zip.infolist()
        names = [info.filename for info in infos]
        if len(infos) > _MAX_MEMBERS or len(set(names)) != len(names):
            raise FileFormatError(
                f"{source}: a .keras file has a few members with distinct names; "
                f"this zip has {len(names)} ({len(set(names))} distinct)."
            )
        for info in infos:
            _check_sizes(info, length, source)
        self._infos = {info.filename: info for info in infos}
        missing = [n for n in (METADATA, CONFIG, WEIGHTS) if n not in self._infos]
        if missing:
            raise FileFormatError(
                f"{source} is not a Keras 3 .keras file: it has no "
                f"{' or '.join(missing)} (members: {sorted(names)[:10]})."
            )

    def size(self, name: str) -> int:
        """The uncompressed size of member ``name`` (checked against the size
        of the file: at most 100 times its part of it)."""
        return self._infos[name].file_size

    def read(self, name: str) -> bytes:
        """The bytes of member ``name``, after checking its size, compression
        and CRC."""
        info = self._infos[name]
        limit = _LIMITS.get(name, info.file_size)
        where = f"{self.source} ({name})"
        if info.file_size > limit:
            raise FileFormatError(
                f"{where}: {info.file_size} bytes is more than the {limit} a "
                "member of this kind may have."
            )
        with self._zip.open(info) as member:
            data = member.read(limit + 1)
        if len(data) != info.file_size:
            raise FileFormatError(
                f"{where}: the member holds {len(data)} bytes, not the "
                f"{info.file_size} the zip declares."
            )
        return data

    def read_json(self, name: str) -> dict[str, Any]:
        return parse_json(self.read(name), f"{self.source} ({name})")

    def close(self) -> None:
        self._zip.close()


def _check_sizes(info: zipfile.ZipInfo, length: int, source: str) -> None:
    """A member's declared sizes must fit the file: its compressed bytes inside
    it, a stored member as long as its bytes, an inflated one at most
    ``_MAX_RATIO`` times longer (past ``_BOMB_FLOOR``)."""
    where = f"{source} ({info.filename})"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FileFormatError(
            f"{where}: compression method {info.compress_type} is not one a "
            ".keras file uses (stored or deflated)."
        )
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.compress_size > length or (stored and info.file_size != info.compress_size):
        raise FileFormatError(
            f"{where}: the zip declares {info.compress_size} stored bytes and "
            f"{info.file_size} inflated, in a file of {length} bytes."
        )
    if info.file_size > max(_BOMB_FLOOR, _MAX_RATIO * info.compress_size):
        raise FileFormatError(
            f"{where}: {info.compress_size} stored bytes declare "
            f"{info.file_size} when inflated; refusing a decompression bomb."
        )


def parse_json(data: bytes | str, where: str) -> dict[str, Any]:
    """A JSON object from ``data``; anything else raises FileFormatError."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise FileFormatError(f"{where}: not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise FileFormatError(
            f"{where}: expected a JSON object, found {type(value).__name__}."
        )
    return value


def check_metadata(metadata: dict[str, Any], where: str) -> None:
    """Refuse a file whose ``keras_version`` is missing, malformed, or of a
    major version after :data:`MAJOR_VERSION`."""
    version = metadata.get("keras_version")
    match = re.match(r"(\d{1,6})(\.|$)", version) if isinstance(version, str) else None
    if match is None:
        raise FileFormatError(
            f"{where}: 'keras_version' should be a version string such as "
            f"'3.15.1'. Received: keras_version={version!r}"
        )
    if int(match.group(1)) > MAJOR_VERSION:
        raise FileFormatError(
            f"{where}: the file was saved by Keras {version}, a newer major "
            f"version of the format than glassnet reads (up to "
            f"{MAJOR_VERSION}.x)."
        )
