"""TensorBoard's event files, written and read in plain Python (no TensorFlow, no protobuf).

An event file (``events.out.tfevents.<time>.<host>.<pid>.<n>.v2``) is a list of
*records*, each holding one ``Event`` message encoded as protobuf.

One record (the TFRecord framing)::

    uint64  length              8 bytes, little-endian: the number of data bytes
    uint32  masked_crc(length)  4 bytes: CRC32C of those 8 bytes, masked
    bytes   data[length]        the encoded Event
    uint32  masked_crc(data)    4 bytes

CRC32C is the CRC-32 of the Castagnoli polynomial (reflected: 0x82F63B78; start
0xFFFFFFFF, final XOR 0xFFFFFFFF; ``crc32c(b"123456789") == 0xE3069283``).  The
stored value is "masked" so that a CRC of data that holds CRCs stays well mixed::

    masked = ((crc >> 15) | (crc << 17)) + 0xA282EAD8      (mod 2**32)

Protobuf, the little of it used here: a message is a list of fields, each a *key*
then a value.  The key is ``field_number << 3 | wire_type``, written as a varint
(7 bits a byte, lowest first, the top bit set on every byte but the last).  The
wire types: 0 a varint (ints, enums), 1 eight bytes (a double), 2 a varint length
then that many bytes (strings, bytes, nested messages).  Fields left at their
default (0, empty) are not written; they go in field-number order.

The messages and fields written (the numbers are those of TensorFlow's
event.proto, summary.proto, tensor.proto and tensor_shape.proto)::

    Event             1 wall_time: double (seconds since 1970)
                      2 step: int64
                      3 file_version: string ("brain.Event:2", the first event only)
                      5 summary: Summary
                     10 source_metadata: SourceMetadata (the first event only)
    SourceMetadata    1 writer: string (who wrote the file)
    Summary           1 value: Summary.Value (repeated; one per event here, as TF2 writes)
    Summary.Value     1 tag: string ("epoch_loss")
                      8 tensor: TensorProto
                      9 metadata: SummaryMetadata
    SummaryMetadata   1 plugin_data: PluginData
    PluginData        1 plugin_name: string ("scalars", "histograms", ...: the tab that shows it)
                      2 content: bytes (the plugin's own settings; empty for most)
    TensorProto       1 dtype: enum (1 DT_FLOAT, 2 DT_DOUBLE, 7 DT_STRING)
                      2 tensor_shape: TensorShapeProto (present, empty, for a scalar)
                      4 tensor_content: bytes (the numbers, little-endian, row-major)
                      8 string_val: bytes (repeated; one per string of a DT_STRING tensor)
    TensorShapeProto  2 dim: Dim (repeated)
    Dim               1 size: int64

So a scalar such as ``epoch_loss = 0.5`` at step 3 is the Event
``{wall_time, step: 3, summary: {value: [{tag: "epoch_loss", tensor: {dtype:
DT_FLOAT, tensor_shape: {}, tensor_content: <0.5 as 4 bytes>}, metadata:
{plugin_data: {plugin_name: "scalars"}}}]}}``, the form TensorFlow 2's
``tf.summary.scalar`` writes.  ``read_events`` reads such files back.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time

import numpy as np

FILE_VERSION = "brain.Event:2"
WRITER_NAME = "minidl.callbacks.event_file"

_DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8")}  # TensorProto.dtype -> NumPy
_DT_STRING = 7
_file_numbers = itertools.count()  # the <n> of a file name: unique within this process


# --- CRC32C -------------------------------------------------------------------------------------
def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    """The CRC32C of ``data`` (bytes), one table lookup per byte."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    """``data`` framed as one TFRecord: length, its CRC, the data, the data's CRC."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


# --- protobuf encoding --------------------------------------------------------------------------
def varint(value):
    """A non-negative int as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def int_field(number, value):
    return varint(number << 3) + varint(value) if value else b""


def double_field(number, value):
    return varint(number << 3 | 1) + struct.pack("<d", value)


def bytes_field(number, value, keep_empty=False):
    """A string, bytes or nested message (already encoded); empty ones are left out
    unless ``keep_empty`` (a nested message that is present but has no fields)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not value and not keep_empty:
        return b""
    return varint(number << 3 | 2) + varint(len(value)) + value


def tensor_proto(array):
    """A NumPy array (float32, float64, or strings/bytes) as a TensorProto."""
    array = np.asarray(array)
    shape = b"".join(bytes_field(2, int_field(1, size), keep_empty=True) for size in array.shape)
    if array.dtype.kind in "SUO":
        strings = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in array.ravel()]
        return (int_field(1, _DT_STRING) + bytes_field(2, shape, keep_empty=True)
                + b"".join(bytes_field(8, s, keep_empty=True) for s in strings))
    dtype = {"float32": 1, "float64": 2}.get(array.dtype.name)
    if dtype is None:
        raise TypeError(f"tensor_proto: float32, float64 or string arrays, received {array.dtype}.")
    content = np.ascontiguousarray(array, dtype=_DTYPES[dtype]).tobytes()
    return int_field(1, dtype) + bytes_field(2, shape, keep_empty=True) + bytes_field(4, content)


def summary_value(tag, tensor, plugin_name, plugin_content=b""):
    """One Summary.Value: ``tag``, the tensor, and the plugin (TensorBoard's tab) it is for."""
    plugin_data = bytes_field(1, plugin_name) + bytes_field(2, plugin_content)
    metadata = bytes_field(1, plugin_data, keep_empty=True)
    return (bytes_field(1, tag) + bytes_field(8, tensor_proto(tensor), keep_empty=True)
            + bytes_field(9, metadata, keep_empty=True))


def event(wall_time, step=0, summary_values=(), file_version=None, writer=None):
    """An Event: a summary of some values, or (``file_version``) the file's first event."""
    out = double_field(1, wall_time) + int_field(2, step)
    if file_version is not None:
        out += bytes_field(3, file_version)
    if summary_values:
        out += bytes_field(5, b"".join(bytes_field(1, value) for value in summary_values))
    if writer is not None:
        out += bytes_field(10, bytes_field(1, writer), keep_empty=True)
    return out


# --- the writer ---------------------------------------------------------------------------------
class EventFileWriter:
    """Appends events to one new file in ``directory``, created (with the folder) on
    the first ``add`` and named as TensorFlow 2 names it:
    ``events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2``."""

    def __init__(self, directory, writer_name=WRITER_NAME):
        self.directory = os.fspath(directory)
        self.writer_name = writer_name
        self.path = None
        self._file = None

    def _open(self):
        os.makedirs(self.directory, exist_ok=True)
        now = int(time.time())
        name = (f"events.out.tfevents.{now:010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_file_numbers)}.v2")
        self.path = os.path.join(self.directory, name)
        self._file = open(self.path, "xb")  # "x": never writes over another file
        self._file.write(record(event(float(now), file_version=FILE_VERSION,
                                      writer=self.writer_name)))

    def add(self, summary_value_bytes, step, wall_time=None):
        """Write one event holding one Summary.Value (from ``summary_value``) at ``step``."""
        if self._file is None:
            self._open()
        wall_time = time.time() if wall_time is None else wall_time
        self._file.write(record(event(wall_time, step, [summary_value_bytes])))

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


# --- reading ------------------------------------------------------------------------------------
def read_records(path):
    """The data of each record in the file, its CRCs checked.  A record cut short at
    the end (a file still being written) ends the list; a wrong CRC is a ValueError."""
    with open(path, "rb") as handle:
        data = handle.read()
    offset = 0
    while offset + 12 <= len(data):
        header = data[offset:offset + 8]
        length, = struct.unpack("<Q", header)
        length_crc, = struct.unpack("<I", data[offset + 8:offset + 12])
        if length_crc != masked_crc32c(header):
            raise ValueError(f"{path}: the record at byte {offset} has a damaged length "
                             f"(its CRC does not match).")
        end = offset + 12 + length + 4
        if end > len(data):
            break
        body = data[offset + 12:end - 4]
        if struct.unpack("<I", data[end - 4:end])[0] != masked_crc32c(body):
            raise ValueError(f"{path}: the record at byte {offset} is damaged (its CRC does "
                             f"not match).")
        yield body
        offset = end


def parse_message(data):
    """A protobuf message as ``{field number: [values]}``: ints for varints, bytes for
    length-delimited fields, 8- or 4-byte ``bytes`` for fixed-size ones."""
    fields = {}
    offset = 0
    while offset < len(data):
        key, offset = _read_varint(data, offset)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, offset = _read_varint(data, offset)
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value, offset = data[offset:offset + size], offset + size
        elif wire_type == 2:
            size, offset = _read_varint(data, offset)
            value, offset = data[offset:offset + size], offset + size
        else:
            raise ValueError(f"protobuf wire type {wire_type} (field {number}) is not read here.")
        fields.setdefault(number, []).append(value)
    return fields


def _read_varint(data, offset):
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def read_tensor(data):
    """A TensorProto's bytes as a NumPy array (strings as a list of bytes for DT_STRING)."""
    fields = parse_message(data)
    dtype = fields.get(1, [0])[0]
    shape = tuple(parse_message(dim).get(1, [0])[0]
                  for dim in parse_message(fields.get(2, [b""])[0]).get(2, []))
    if dtype == _DT_STRING:
        return np.array(fields.get(8, []), dtype=object).reshape(shape)
    if dtype not in _DTYPES:
        raise ValueError(f"read_tensor: dtype enum {dtype} is not read here (1, 2 and 7 are).")
    return np.frombuffer(fields.get(4, [b""])[0], dtype=_DTYPES[dtype]).reshape(shape)


def read_events(path):
    """The events of an event file as dicts: ``{"wall_time", "step", "file_version",
    "writer", "values": [{"tag", "tensor", "plugin_name", "plugin_content"}]}``."""
    events = []
    for data in read_records(path):
        fields = parse_message(data)
        values = []
        for summary in fields.get(5, []):
            for value in parse_message(summary).get(1, []):
                value = parse_message(value)
                metadata = parse_message(value.get(9, [b""])[0])
                plugin = parse_message(metadata.get(1, [b""])[0])
                values.append({
                    "tag": value.get(1, [b""])[0].decode("utf-8"),
                    "tensor": read_tensor(value[8][0]) if 8 in value else None,
                    "plugin_name": plugin.get(1, [b""])[0].decode("utf-8"),
                    "plugin_content": plugin.get(2, [b""])[0],
                })
        source = parse_message(fields.get(10, [b""])[0])
        events.append({
            "wall_time": struct.unpack("<d", fields[1][0])[0] if 1 in fields else 0.0,
            "step": fields.get(2, [0])[0],
            "file_version": fields.get(3, [b""])[0].decode("utf-8") or None,
            "writer": source.get(1, [b""])[0].decode("utf-8") or None,
            "values": values,
        })
    return events
