"""The batch log's record format: length-prefixed, checksummed, append-only.

A record is ``MAGIC | payload length (u32) | CRC-32 of the payload (u32) |
payload``, little-endian; the payload is ``header length (u32) | header
(JSON) | blob`` where the header describes the batch and the blob is its
events as the core's codec compresses them. A record cut short by a crash,
or whose checksum does not match, ends the readable part of the log.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

MAGIC = b"SFB1"
_FRAME = struct.Struct("<4sII")
_HEADER_LEN = struct.Struct("<I")
FRAME_SIZE = _FRAME.size


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """Where one batch lies in the log, and what it holds (not its events).

    ``arrival`` orders the session's batches by arrival (the middle of an
    event position); ``seq`` is the recorder's batch number, or ``None``.
    """

    arrival: int
    window_id: str
    seq: int | None
    min_ts: int
    max_ts: int
    event_count: int
    start: int  # offset of the record in the log file
    offset: int  # of the blob
    size: int  # of the blob
    end: int  # offset just past the record


def encode_record(
    arrival: int,
    window_id: str,
    seq: int | None,
    min_ts: int,
    max_ts: int,
    event_count: int,
    blob: bytes,
) -> bytes:
    """One record's bytes, ready to append."""
    header = json.dumps(
        {"a": arrival, "w": window_id, "s": seq, "lo": min_ts, "hi": max_ts, "n": event_count},
        separators=(",", ":"),
    ).encode("ascii")  # ensure_ascii keeps lone surrogates in window ids writable
    payload = _HEADER_LEN.pack(len(header)) + header + blob
    return _FRAME.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def scan(data: bytes) -> Iterator[BatchRecord]:
    """The complete, intact records at the start of ``data``, in file order.

    Stops at the first record that is truncated, damaged or not a record:
    what follows a torn write is never read.
    """
    pos = 0
    while pos + FRAME_SIZE <= len(data):
        magic, length, crc = _FRAME.unpack_from(data, pos)
        start = pos + FRAME_SIZE
        end = start + length
        if magic != MAGIC or end > len(data) or length < _HEADER_LEN.size:
            return
        payload = memoryview(data)[start:end]
        if zlib.crc32(payload) != crc:
            return
        (header_len,) = _HEADER_LEN.unpack_from(payload, 0)
        blob_start = _HEADER_LEN.size + header_len
        if blob_start > length:
            return
        try:
            h = json.loads(bytes(payload[_HEADER_LEN.size : blob_start]))
            record = BatchRecord(
                arrival=int(h["a"]),
                window_id=str(h["w"]),
                seq=None if h["s"] is None else int(h["s"]),
                min_ts=int(h["lo"]),
                max_ts=int(h["hi"]),
                event_count=int(h["n"]),
                start=pos,
                offset=start + blob_start,
                size=length - blob_start,
                end=end,
            )
        except (ValueError, KeyError, TypeError):
            return
        yield record
        pos = end
