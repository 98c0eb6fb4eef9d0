"""The at-rest format of event batches: Zstandard now, zlib blobs still read."""

from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from sentiero_core.store import codec
from sentiero_core.testing import T0, realistic_events


def test_a_batch_round_trips_as_a_zstandard_frame() -> None:
    events = realistic_events(T0, 120, seed=4)
    blob, raw_size = codec.encode_blob(events)
    assert blob[:4] == codec.ZSTD_MAGIC
    assert raw_size == len(orjson.dumps(events))
    assert codec.decode_blob(blob) == events


@pytest.mark.parametrize("level", [5, 6, 9])
def test_blobs_written_as_zlib_before_still_read(level: int) -> None:
    events = realistic_events(T0, 80, seed=level)
    old = zlib.compress(orjson.dumps(events), level)
    assert codec.decode_blob(old) == events


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not compressed at all",
        codec.ZSTD_MAGIC + b"\x00\x01garbage",
        zlib.compress(b"[1,2,3]")[:-3],
    ],
    ids=["empty", "plain", "broken-zstd", "truncated-zlib"],
)
def test_a_damaged_blob_is_a_value_error(blob: bytes) -> None:
    with pytest.raises(ValueError, match="does not decompress"):
        codec.decompress(blob)


def test_a_flipped_byte_in_a_frame_is_caught_by_its_checksum() -> None:
    blob = bytearray(codec.compress(orjson.dumps(realistic_events(T0, 60, seed=1))))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(ValueError):
        codec.decode_blob(bytes(blob))


def test_a_blob_that_is_not_a_list_of_events_is_refused() -> None:
    with pytest.raises(ValueError, match="not a list"):
        codec.decode_blob(codec.compress(b'{"type": 2}'))


def test_threads_compress_and_decompress_at_once() -> None:
    """Stores compress in writer threads and on the event loop at once."""
    batches = [orjson.dumps(realistic_events(T0, 50, seed=k)) for k in range(16)]

    def round_trip(raw: bytes) -> bool:
        return all(codec.decompress(codec.compress(raw)) == raw for _ in range(20))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, batches))


SMALL_CAP = 1 << 20


def test_a_frame_that_claims_a_huge_size_is_refused_before_allocating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A damaged or forged frame header must not make the server allocate it."""
    monkeypatch.setattr(codec, "MAX_BATCH_BYTES", SMALL_CAP)
    huge = codec.compress(b"\0" * (SMALL_CAP + 1))
    assert len(huge) < 1_000
    with pytest.raises(ValueError, match="frame size"):
        codec.decompress(huge)
    assert codec.decompress(codec.compress(b"\0" * SMALL_CAP)) == b"\0" * SMALL_CAP


def test_an_old_zlib_blob_that_inflates_too_far_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codec, "MAX_BATCH_BYTES", SMALL_CAP)
    bomb = zlib.compress(b"\0" * (SMALL_CAP + 1), 9)
    with pytest.raises(ValueError, match="MAX_BATCH_BYTES"):
        codec.decompress(bomb)
