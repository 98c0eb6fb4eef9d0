"""The streaming body decoder: formats, both caps, broken streams."""

from __future__ import annotations

import gzip
import resource
import time
import zlib

import pytest

from sentiero_core.ingest.decoding import BodyDecoder, parse_encoding
from sentiero_core.ingest.errors import IngestError
from tests.ingest.helpers import gzip_bomb

PAYLOAD = b'{"events": []}' * 200
BIG = 10**8


def decode(
    data: bytes, encoding: str, *, chunk: int = 7, max_raw: int = BIG, max_decoded: int = BIG
) -> bytes:
    decoder = BodyDecoder(encoding, max_raw=max_raw, max_decoded=max_decoded)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
    return decoder.finish()


def refused(data: bytes, encoding: str, **kwargs: int) -> IngestError:
    with pytest.raises(IngestError) as info:
        decode(data, encoding, **kwargs)
    return info.value


def test_identity_passes_through() -> None:
    assert decode(PAYLOAD, "identity") == PAYLOAD


def test_gzip_in_small_chunks() -> None:
    assert decode(gzip.compress(PAYLOAD), "gzip", chunk=1) == PAYLOAD


def test_deflate_zlib_format() -> None:
    assert decode(zlib.compress(PAYLOAD), "deflate") == PAYLOAD


def test_deflate_raw_format() -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = raw.compress(PAYLOAD) + raw.flush()
    assert decode(data, "deflate", chunk=1) == PAYLOAD


def test_gzip_members_back_to_back() -> None:
    data = gzip.compress(PAYLOAD[:100]) + gzip.compress(PAYLOAD[100:])
    assert decode(data, "gzip", chunk=5) == PAYLOAD


def test_undeclared_gzip_is_recognised() -> None:
    assert decode(gzip.compress(PAYLOAD), "identity") == PAYLOAD


def test_raw_cap_refuses_with_413() -> None:
    error = refused(PAYLOAD, "identity", max_raw=100)
    assert error.status == 413 and "100 bytes" in error.reason


def test_raw_cap_counts_compressed_bytes() -> None:
    data = gzip.compress(PAYLOAD)
    assert decode(data, "gzip", max_raw=len(data), max_decoded=len(PAYLOAD)) == PAYLOAD
    assert refused(data, "gzip", max_raw=len(data) - 1).status == 413


def test_decoded_cap_refuses_with_413() -> None:
    error = refused(gzip.compress(PAYLOAD), "gzip", max_decoded=len(PAYLOAD) - 1)
    assert error.status == 413 and "decoded body" in error.reason


def test_gzip_bomb_refused_early_with_little_memory() -> None:
    bomb = gzip_bomb(1)
    assert len(bomb) < 1_100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    decoder = BodyDecoder("gzip", max_raw=5 * 2**20, max_decoded=25 * 2**20)
    with pytest.raises(IngestError) as info:
        for i in range(0, len(bomb), 65536):
            decoder.feed(bomb[i : i + 65536])
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert info.value.status == 413
    assert decoder.decoded_size <= 25 * 2**20 + 1
    # refused after ~2% of the bomb's 1 GiB: fast, and memory stays near the cap
    assert decoder.raw_size < len(bomb) // 10
    assert elapsed < 1.0
    assert grown_kib < 80 * 1024


def test_truncated_gzip_is_400() -> None:
    data = gzip.compress(PAYLOAD)
    error = refused(data[: len(data) // 2], "gzip")
    assert (error.status, error.reason) == (400, "truncated gzip body")


def test_gzip_without_trailer_is_400() -> None:
    assert refused(gzip.compress(PAYLOAD)[:-8], "gzip").status == 400


def test_corrupt_gzip_is_400() -> None:
    data = bytearray(gzip.compress(PAYLOAD))
    data[12:20] = b"\xff" * 8
    error = refused(bytes(data), "gzip")
    assert (error.status, error.reason) == (400, "body is not valid gzip data")


def test_plain_json_declared_as_gzip_is_400() -> None:
    assert refused(PAYLOAD, "gzip").status == 400


def test_garbage_after_deflate_stream_is_400() -> None:
    assert refused(zlib.compress(PAYLOAD) + b"tail", "deflate").status == 400


def test_empty_body_is_400() -> None:
    assert refused(b"", "identity").reason == "empty body"
    assert refused(b"", "gzip").status == 400


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        (None, None, "identity"),
        ("gzip", None, "gzip"),
        ("GZIP", None, "gzip"),
        ("x-gzip", None, "gzip"),
        ("deflate", None, "deflate"),
        ("identity", "gzip", "identity"),
        (None, "gzip", "gzip"),
        ("", "deflate", "deflate"),
    ],
)
def test_encoding_from_header_then_query(
    header: str | None, query: str | None, expected: str
) -> None:
    assert parse_encoding(header, query) == expected


@pytest.mark.parametrize(
    ("header", "query"), [("br", None), ("gzip, deflate", None), (None, "zstd")]
)
def test_unsupported_encoding_is_415(header: str | None, query: str | None) -> None:
    with pytest.raises(IngestError) as info:
        parse_encoding(header, query)
    assert info.value.status == 415
