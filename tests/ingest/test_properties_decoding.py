"""Properties of the body decoder (sentiero_core.ingest.decoding): any
stream, cut into any chunks, gives the bytes that were compressed or a
clean IngestError, and never holds more than its cap."""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sentiero_core.ingest.decoding import GZIP_MAGIC, BodyDecoder
from sentiero_core.ingest.errors import IngestError
from tests.ingest.helpers import gzip_bomb

ENCODINGS = ("identity", "gzip", "deflate")
BIG = 1 << 30


def compress(data: bytes, how: str) -> bytes:
    """``data`` as the client would send it for ``how``."""
    if how == "gzip":
        return gzip.compress(data)
    if how == "zlib":
        return zlib.compress(data)
    if how == "raw":
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        return deflater.compress(data) + deflater.flush()
    return data


#: the header each way of compressing is sent under
HEADER = {"gzip": "gzip", "zlib": "deflate", "raw": "deflate", "identity": "identity"}

payloads = st.one_of(
    st.binary(min_size=1, max_size=2000),
    # compressible text: long runs make zlib emit back-references
    st.lists(st.sampled_from([b'{"type":3}', b"a" * 50, b"\x00", b"\xff\xfe"]), min_size=1).map(
        b"".join
    ),
)


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at arbitrary points (empty chunks included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def decode(chunks: list[bytes], encoding: str, max_decoded: int = BIG) -> BodyDecoder:
    decoder = BodyDecoder(encoding, max_raw=BIG, max_decoded=max_decoded)
    for chunk in chunks:
        decoder.feed(chunk)
    decoder.result = decoder.finish()  # type: ignore[attr-defined]
    return decoder


def held(decoder: BodyDecoder) -> int:
    return sum(len(part) for part in decoder._parts)


@given(st.data(), payloads, st.sampled_from(["gzip", "zlib", "raw", "identity"]))
def test_any_payload_in_any_chunks_decodes_to_itself(
    data: st.DataObject, payload: bytes, how: str
) -> None:
    # identity bodies that start with the gzip magic are inflated on purpose
    assume(not (how == "identity" and payload.startswith(GZIP_MAGIC)))
    chunks = data.draw(chunked(compress(payload, how)))
    assert decode(chunks, HEADER[how]).result == payload  # type: ignore[attr-defined]


@given(st.data(), payloads, st.sampled_from(["gzip", "zlib", "raw", "identity"]))
def test_over_the_cap_is_413_holding_no_more_than_the_cap(
    data: st.DataObject, payload: bytes, how: str
) -> None:
    assume(not (how == "identity" and payload.startswith(GZIP_MAGIC)))
    cap = data.draw(st.integers(0, len(payload) - 1))
    decoder = BodyDecoder(HEADER[how], max_raw=BIG, max_decoded=cap)
    with pytest.raises(IngestError) as refused:
        for chunk in data.draw(chunked(compress(payload, how))):
            decoder.feed(chunk)
        decoder.finish()
    assert refused.value.status == 413
    assert held(decoder) <= cap


@given(st.lists(payloads, min_size=2, max_size=4), st.data())
def test_concatenated_gzip_members_decode_to_the_concatenation(
    members: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(gzip.compress(m) for m in members)
    chunks = data.draw(chunked(stream))
    assert decode(chunks, "gzip").result == b"".join(members)  # type: ignore[attr-defined]


@given(payloads, st.sampled_from(["gzip", "zlib", "raw"]), st.data())
def test_a_truncated_stream_is_400(payload: bytes, how: str, data: st.DataObject) -> None:
    stream = compress(payload, how)
    cut = data.draw(st.integers(1, len(stream) - 1))
    with pytest.raises(IngestError) as refused:
        decode(data.draw(chunked(stream[:cut])), HEADER[how])
    assert refused.value.status == 400


@given(payloads, st.sampled_from(["zlib", "raw"]), st.binary(min_size=1, max_size=20))
def test_bytes_after_a_deflate_stream_are_400(payload: bytes, how: str, junk: bytes) -> None:
    with pytest.raises(IngestError) as refused:
        decode([compress(payload, how) + junk], "deflate")
    assert refused.value.status == 400


@given(payloads, st.binary(min_size=1, max_size=20))
def test_bytes_after_a_gzip_member_are_400(payload: bytes, junk: bytes) -> None:
    # junk that is itself a whole gzip member would be a second member
    assume(not junk.startswith(GZIP_MAGIC))
    with pytest.raises(IngestError) as refused:
        decode([gzip.compress(payload) + junk], "gzip")
    assert refused.value.status == 400


@given(
    payloads,
    st.sampled_from(["gzip", "zlib", "raw"]),
    st.data(),
    st.integers(1, 255),
)
def test_a_corrupted_stream_is_refused_or_decoded_within_the_cap(
    payload: bytes, how: str, data: st.DataObject, flip: int
) -> None:
    stream = bytearray(compress(payload, how))
    at = data.draw(st.integers(0, len(stream) - 1))
    stream[at] ^= flip
    cap = len(payload) * 4 + 64
    try:
        decoder = decode(data.draw(chunked(bytes(stream))), HEADER[how], cap)
    except IngestError as exc:
        assert exc.status in (400, 413)
    else:
        assert len(decoder.result) <= cap  # type: ignore[attr-defined]


@given(st.binary(max_size=3000), st.sampled_from(ENCODINGS), st.data())
def test_arbitrary_bytes_under_any_encoding(raw: bytes, encoding: str, data: st.DataObject) -> None:
    cap = data.draw(st.integers(0, 4096))
    decoder = BodyDecoder(encoding, max_raw=BIG, max_decoded=cap)
    try:
        for chunk in data.draw(chunked(raw)):
            decoder.feed(chunk)
        result = decoder.finish()
    except IngestError as exc:
        assert exc.status in (400, 413)
        assert held(decoder) <= cap
    else:
        assert len(result) <= cap
        if encoding == "identity" and not raw.startswith(GZIP_MAGIC):
            assert result == raw


@given(st.binary(min_size=1, max_size=5000), st.data())
def test_max_raw_is_enforced_on_the_bytes_sent(raw: bytes, data: st.DataObject) -> None:
    cap = data.draw(st.integers(0, len(raw) - 1))
    decoder = BodyDecoder("identity", max_raw=cap, max_decoded=BIG)
    with pytest.raises(IngestError) as refused:
        for chunk in data.draw(chunked(raw)):
            decoder.feed(chunk)
        decoder.finish()
    assert refused.value.status == 413
    assert held(decoder) <= cap


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1)


def bomb_chunks(stream: bytes, size: int) -> Iterator[bytes]:
    for at in range(0, len(stream), size):
        yield stream[at : at + size]


@given(
    st.integers(1, 4 << 20),
    st.sampled_from([1, 777, 16384, 1 << 20]),
    st.sampled_from(["gzip", "identity"]),
)
def test_a_gzip_bomb_is_refused_holding_at_most_the_cap(
    bomb: bytes, cap: int, chunk_size: int, encoding: str
) -> None:
    """1 GiB of zeros in 1 MB of gzip: refused once the cap is passed, and
    the decoder never holds more than the cap, whatever the chunking."""
    decoder = BodyDecoder(encoding, max_raw=BIG, max_decoded=cap)
    with pytest.raises(IngestError) as refused:
        for chunk in bomb_chunks(bomb, chunk_size):
            decoder.feed(chunk)
        decoder.finish()
    assert refused.value.status == 413
    assert held(decoder) <= cap
    # refused early: at most a little more than the cap's worth of input read
    assert decoder.raw_size <= cap // 100 + 2 * chunk_size + 64
