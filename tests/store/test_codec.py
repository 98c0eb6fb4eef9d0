"""The at-rest format of event batches: Zstandard now, zlib blobs still read."""

from __future__ import annotations

import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from sentiero_core.store import codec
from sentiero_core.testing import T0, realistic_events

BLOBS = Path(__file__).resolve().parents[1] / "fixtures" / "blobs"
OLD_BLOBS = sorted(p for p in BLOBS.iterdir() if p.suffix != ".json")


def test_the_old_blobs_are_all_there() -> None:
    """Frames of the zstandard codec and zlib streams of the two before it."""
    kinds = {p.suffix for p in OLD_BLOBS}
    assert kinds == {".zst", ".zlib5", ".zlib6", ".zlib9"}
    assert len([p for p in OLD_BLOBS if p.suffix == ".zst"]) == 7


@pytest.mark.parametrize("blob", OLD_BLOBS, ids=[p.name for p in OLD_BLOBS])
def test_every_blob_written_before_still_reads(blob: Path) -> None:
    expected = blob.with_suffix(".json").read_bytes()
    assert codec.decompress(blob.read_bytes()) == expected
    assert codec.decode_blob(blob.read_bytes()) == orjson.loads(expected)


def test_the_codec_writes_the_frames_it_wrote_before() -> None:
    """Same level, same checksum flag, same stated size: byte for byte."""
    for blob in BLOBS.glob("*.zst"):
        assert codec.compress(blob.with_suffix(".json").read_bytes()) == blob.read_bytes()


def test_python_3_14_uses_the_standard_library() -> None:
    expected = "compression.zstd" if sys.version_info >= (3, 14) else "backports.zstd"
    assert codec.zstd.__name__ == expected


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


def test_a_frame_that_understates_its_size_stops_at_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forged header that passes the size check still cannot inflate far."""
    monkeypatch.setattr(codec, "MAX_BATCH_BYTES", SMALL_CAP)
    forged = bytearray(codec.compress(b"\0" * (4 * SMALL_CAP)))
    # descriptor: a 4-byte content size after a 1-byte window descriptor
    assert forged[4] >> 6 == 2 and not forged[4] & 0x20
    forged[6:10] = SMALL_CAP.to_bytes(4, "little")
    assert codec.zstd.get_frame_info(bytes(forged)).decompressed_size == SMALL_CAP
    with pytest.raises(ValueError, match="over MAX_BATCH_BYTES"):
        codec.decompress(bytes(forged))


def test_a_frame_that_does_not_state_its_size_is_refused() -> None:
    """The codec always states it; a frame without one was not written here."""
    streamed = codec.zstd.ZstdCompressor()
    blob = streamed.compress(b"[1,2,3]") + streamed.flush()
    assert codec.zstd.get_frame_info(blob).decompressed_size is None
    with pytest.raises(ValueError, match="frame size None"):
        codec.decompress(blob)


def test_a_truncated_frame_is_a_value_error() -> None:
    blob = codec.compress(orjson.dumps(realistic_events(T0, 60, seed=2)))
    with pytest.raises(ValueError, match="does not decompress"):
        codec.decompress(blob[: len(blob) // 2])


def test_an_old_zlib_blob_that_inflates_too_far_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codec, "MAX_BATCH_BYTES", SMALL_CAP)
    bomb = zlib.compress(b"\0" * (SMALL_CAP + 1), 9)
    with pytest.raises(ValueError, match="MAX_BATCH_BYTES"):
        codec.decompress(bomb)
