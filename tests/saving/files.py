"""Helpers that take .keras files apart and put them back together (with
valid CRCs), for the tests that feed glassnet damaged or hostile files."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import h5py


def members(path: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path: Any, contents: dict[str, bytes], deflate: bool = False) -> None:
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def rewrite(path: Any, out: Any, **changes: Callable[[bytes], bytes | None]) -> None:
    """Copy the .keras file ``path`` to ``out``, passing each member named in
    ``changes`` (dots as underscores: ``config_json=...``) through its function
    (None drops the member)."""
    contents = {}
    for name, data in members(path).items():
        change = changes.get(name.replace(".", "_"))
        data = data if change is None else change(data)
        if data is not None:
            contents[name] = data
    write_zip(out, contents)


def edit_json(edit: Callable[[dict], Any]) -> Callable[[bytes], bytes]:
    """A member change that edits the JSON object in place with ``edit``."""

    def change(data: bytes) -> bytes:
        value = json.loads(data)
        edit(value)
        return json.dumps(value).encode()

    return change


def edit_h5(edit: Callable[[h5py.File], Any]) -> Callable[[bytes], bytes]:
    """A member change that edits the HDF5 image with ``edit(file)``."""

    def change(data: bytes) -> bytes:
        buffer = io.BytesIO(data)
        with h5py.File(buffer, "r+") as file:
            edit(file)
        return buffer.getvalue()

    return change


def replace_dataset(path: str, **create: Any) -> Callable[[h5py.File], None]:
    """An HDF5 edit that replaces the dataset at ``path`` by
    ``create_dataset(path, **create)``."""

    def edit(file: h5py.File) -> None:
        del file[path]
        file.create_dataset(path, **create)

    return edit
