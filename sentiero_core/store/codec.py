"""How event batches are kept at rest: JSON, then Zstandard (private module:
import from :mod:`sentiero_core.store`).

A single rrweb event barely compresses, a batch compresses about ninefold,
so stores keep whole batches as one blob each.

Zstandard level 1, not zlib: on a real recording cut the way the recorder
flushes (50 events or 10 s) it stores at 8.9x where zlib level 5 gave 8.3x,
and it compresses a 50-event batch in 22 us instead of 126 us (decompression
17 us instead of 37 us with a reused context; ``compression.zstd`` makes a
new one per frame, about 15 us more). At ingest compression was the largest single cost
after parsing; on a two-core server it competes with the event loop for CPU.
Levels 2-4 gain nothing on these batches and level 5 triples the time.

Blobs written before, as zlib streams, still read: a Zstandard frame starts
with the magic number ``28 B5 2F FD``, which no zlib header can (its first
two bytes are a multiple of 31 as a big-endian number; ``28 B5`` is not).
Frames written through the ``zstandard`` package before the move to
``compression.zstd`` are byte for byte what this module writes
(tests/fixtures/blobs holds some of each kind).
"""

from __future__ import annotations

import sys
import threading
import zlib
from typing import Any

import orjson

# Python 3.14's compression.zstd; backports.zstd is the same API packaged for
# 3.11-3.13 (1.4 MB installed where the zstandard package took 24 MB).
if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

LEVEL = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: No stored batch inflates past this: far above any ingest cap
#: (``max_decoded_bytes`` is 25 MiB by default).
MAX_BATCH_BYTES = 256 * 1024 * 1024

_OPTIONS: dict[int, int] = {
    zstd.CompressionParameter.compression_level: LEVEL,
    zstd.CompressionParameter.checksum_flag: 1,
}

# A compressor context is reused (making one costs about as much as
# compressing a batch) and kept per thread, since stores compress in writer
# threads as well as on the event loop. A decompressor reads one frame only,
# so each blob gets its own (about 13 us).
_local = threading.local()


def _compressor() -> Any:
    ctx = getattr(_local, "compressor", None)
    if ctx is None:
        ctx = _local.compressor = zstd.ZstdCompressor(options=_OPTIONS)
    return ctx


def compress(raw: bytes) -> bytes:
    """A blob from a batch's JSON text (as :func:`encode_blob` writes it)."""
    return bytes(_compressor().compress(raw, zstd.ZstdCompressor.FLUSH_FRAME))


def decompress(blob: bytes) -> bytes:
    """The JSON text of a blob from :func:`compress`, or of an older zlib blob;
    :class:`ValueError` for bytes that are neither, are damaged, or would
    inflate past :data:`MAX_BATCH_BYTES`."""
    try:
        if blob[:4] == ZSTD_MAGIC:
            # a damaged or forged header must not take the server's memory:
            # refuse a size it states, and cap the output whatever it says
            size = zstd.get_frame_info(blob).decompressed_size
            if size is None or size > MAX_BATCH_BYTES:
                raise ValueError(f"stored batch does not decompress: frame size {size}")
            frame = zstd.ZstdDecompressor()
            raw = frame.decompress(blob, max_length=MAX_BATCH_BYTES + 1)
            if len(raw) > MAX_BATCH_BYTES:
                raise ValueError("stored batch does not decompress: over MAX_BATCH_BYTES")
            if not frame.eof:
                raise ValueError("stored batch does not decompress: truncated frame")
            return raw
        inflater = zlib.decompressobj()
        raw = inflater.decompress(blob, MAX_BATCH_BYTES + 1)
        if len(raw) > MAX_BATCH_BYTES:
            raise ValueError("stored batch does not decompress: over MAX_BATCH_BYTES")
        if not inflater.eof:
            raise ValueError("stored batch does not decompress: truncated zlib stream")
        return raw
    except (zstd.ZstdError, zlib.error) as exc:
        raise ValueError(f"stored batch does not decompress: {exc}") from None


def encode_blob(events: list[dict[str, Any]]) -> tuple[bytes, int]:
    """A batch's events as a blob to keep: ``(blob, raw_bytes)``, the
    compressed blob and the size in bytes of the events' JSON text."""
    raw = orjson.dumps(events)
    return compress(raw), len(raw)


def decode_blob(blob: bytes) -> list[dict[str, Any]]:
    """The events in a blob from :func:`encode_blob` (or :func:`compress`);
    :class:`ValueError` for a damaged blob."""
    events = orjson.loads(decompress(blob))
    if not isinstance(events, list):
        raise ValueError("stored batch is not a list of events")
    return events
