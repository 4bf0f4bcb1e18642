"""TensorBoard's event files, written without TensorFlow: the
:class:`~glassnet.callbacks.TensorBoard` callback's writer.

An event file is a sequence of TFRecords, each one serialized ``Event``
protobuf. Three small layers, from the bottom:

- :func:`crc32c`, the checksum TFRecords use (CRC-32C, Castagnoli), from a
  256-entry table, and :func:`masked_crc32c`, the form a record stores;
- the protobuf wire format, by hand: only the few field kinds an ``Event``
  with scalars, histograms and a model config needs (the field numbers are
  those of TensorBoard's ``event.proto``, ``summary.proto`` and
  ``tensor.proto``);
- :class:`EventFileWriter`: one file in a run folder, named as TensorBoard
  names its own (``events.out.tfevents.<seconds>.<host>.<pid>.<n>``), whose
  first event says the file format (``brain.Event:2``).

Every record is appended in one ``write`` and flushed before the call
returns, so a process that dies loses nothing written before, and a reader
(TensorBoard reads files while they grow) sees whole records, or a last one
still arriving that it reads on its next pass.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time

import numpy as np

# --- CRC-32C ---------------------------------------------------------------------
_CASTAGNOLI = 0x82F63B78  # the Castagnoli polynomial, bits reversed


def _crc32c_table() -> list[int]:
    """The CRC of each byte value alone: the table the byte loop looks up."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (_CASTAGNOLI if crc & 1 else 0)
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data``: ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC as TFRecords store it: rotated right by 15 bits plus a constant,
    so a CRC of data that holds CRCs does not look like one."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tf_record(data: bytes) -> bytes:
    """``data`` framed as a TFRecord: its length (little-endian uint64), the
    length's masked CRC, the data, the data's masked CRC."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# --- the protobuf wire format ----------------------------------------------------
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def _varint(value: int) -> bytes:
    """Seven bits a byte, low bits first; the top bit says "more follow". A
    negative int64 is sent as its 64-bit two's complement, as protobuf does."""
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _int64_field(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(int(value))


def _double_field(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", value)


def _float_field(field: int, value: float) -> bytes:
    return _key(field, _FIXED32) + struct.pack("<f", value)


def _bytes_field(field: int, value: bytes | str) -> bytes:
    """A string, bytes, or an already encoded message."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field, _LENGTH_DELIMITED) + _varint(len(value)) + value


def _packed_doubles_field(field: int, values: np.ndarray) -> bytes:
    return _bytes_field(field, np.asarray(values, "<f8").tobytes())


# --- the messages ------------------------------------------------------------------
def event(wall_time: float, step: int, file_version=None, summary=None) -> bytes:
    """``Event``: wall_time 1, step 2, file_version 3, summary 5."""
    message = _double_field(1, wall_time) + _int64_field(2, step)
    if file_version is not None:
        message += _bytes_field(3, file_version)
    if summary is not None:
        message += _bytes_field(5, summary)
    return message


def summary(values: list[bytes]) -> bytes:
    """``Summary``: its ``Value`` messages, field 1 repeated."""
    return b"".join(_bytes_field(1, value) for value in values)


def scalar_value(tag: str, value: float) -> bytes:
    """``Summary.Value``: tag 1, simple_value 2 (a float32)."""
    return _bytes_field(1, tag) + _float_field(2, value)


def histogram_value(tag: str, values: np.ndarray, buckets: int = 30) -> bytes:
    """``Summary.Value``: tag 1, histo 5, a ``HistogramProto`` of ``values``
    in ``buckets`` equal-width buckets between their min and max (as
    ``tf.summary.histogram`` makes them). ``bucket_limit[i]`` is bucket i's
    right edge. NaN and infinite values are left out."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size:
        counts, edges = np.histogram(values, bins=buckets)
        low, high = values.min(), values.max()
    else:
        counts, edges, low, high = np.zeros(0), np.zeros(1), 0.0, 0.0
    histo = (
        _double_field(1, low)
        + _double_field(2, high)
        + _double_field(3, values.size)
        + _double_field(4, values.sum())
        + _double_field(5, np.dot(values, values))
        + _packed_doubles_field(6, edges[1:])
        + _packed_doubles_field(7, counts)
    )
    return _bytes_field(1, tag) + _bytes_field(5, histo)


def text_tensor_value(tag: str, text: str, plugin_name: str) -> bytes:
    """``Summary.Value`` holding one string for a TensorBoard plugin: tag 1,
    tensor 8 (a ``TensorProto``: dtype 1 = DT_STRING (7), an empty
    tensor_shape 2 for a scalar, string_val 8) and metadata 9 (a
    ``SummaryMetadata`` whose plugin_data 1 has plugin_name 1 and content 2,
    ``b"1"``: the version Keras writes)."""
    tensor = _int64_field(1, 7) + _bytes_field(2, b"") + _bytes_field(8, text)
    plugin_data = _bytes_field(1, plugin_name) + _bytes_field(2, b"1")
    metadata = _bytes_field(1, plugin_data)
    return _bytes_field(1, tag) + _bytes_field(8, tensor) + _bytes_field(9, metadata)


# --- the file ----------------------------------------------------------------------
_numbers = itertools.count()  # two writers started in one second differ


class EventFileWriter:
    """Append events to a new event file in ``run_dir`` (created if missing).

    Each :meth:`write` opens the file, appends one whole record and closes it
    (which flushes it): nothing stays open between epochs, nothing waits in a
    buffer.
    """

    def __init__(self, run_dir: str) -> None:
        os.makedirs(run_dir, exist_ok=True)
        seconds, host, number = int(time.time()), socket.gethostname(), next(_numbers)
        name = f"events.out.tfevents.{seconds:010d}.{host}.{os.getpid()}.{number}"
        self.path = os.path.join(run_dir, name)
        self._append(event(time.time(), 0, file_version="brain.Event:2"))

    def write(self, step: int, values: list[bytes]) -> None:
        """One event at ``step`` holding the ``Summary.Value`` messages
        ``values`` (from :func:`scalar_value`, :func:`histogram_value`, ...)."""
        self._append(event(time.time(), step, summary=summary(values)))

    def _append(self, message: bytes) -> None:
        with open(self.path, "ab") as file:
            file.write(tf_record(message))  # closing flushes it
