"""POST <mount>/events through the Quart test client: each answer and what
reaches the store."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import orjson
import pytest

from tests.ingest.helpers import (
    EVENTS_URL,
    JSON,
    SESSION,
    body,
    click_event,
    envelope,
    gz,
    gzip_bomb,
    meta_event,
    running,
)


@pytest.mark.asyncio
async def test_batch_is_stored_and_answered_with_an_empty_204() -> None:
    async with running() as r:
        response = await r.post(body(envelope()))
        assert response.status_code == 204
        assert await response.get_data() == b""
        events = await r.stored_events()
        assert [e["type"] for e in events] == [4, 3]
        summary = await r.store.get_session(SESSION)
        assert summary is not None and summary.click_count == 1
        assert summary.pages == ["https://shop.example/cart"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, ""),
        ({"Content-Type": "text/plain;charset=UTF-8"}, "?encoding=gzip"),
        ({"Content-Type": "application/octet-stream"}, "?encoding=gzip"),
        ({"Content-Type": "application/octet-stream"}, ""),
    ],
)
async def test_gzip_bodies_by_header_query_or_sniffing(headers: dict[str, str], query: str) -> None:
    async with running() as r:
        response = await r.client.post(EVENTS_URL + query, data=gz(envelope()), headers=headers)
        assert response.status_code == 204
        assert len(await r.stored_events()) == 2


@pytest.mark.asyncio
async def test_deflate_body() -> None:
    async with running() as r:
        headers = {**JSON, "Content-Encoding": "deflate"}
        response = await r.post(zlib.compress(body(envelope())), headers)
        assert response.status_code == 204


@pytest.mark.asyncio
async def test_text_plain_json_as_sendbeacon_sends_it() -> None:
    async with running() as r:
        response = await r.post(body(envelope()), {"Content-Type": "text/plain;charset=UTF-8"})
        assert response.status_code == 204


@pytest.mark.asyncio
async def test_unknown_event_types_are_stored_as_sent() -> None:
    events = [meta_event(), {"type": 7, "timestamp": 1_700_000_000_050, "data": {"x": [1]}}]
    async with running() as r:
        assert (await r.post(body(envelope(events)))).status_code == 204
        assert (await r.stored_events())[1] == events[1]


@pytest.mark.asyncio
async def test_empty_batch_is_accepted_and_stores_nothing() -> None:
    async with running() as r:
        assert (await r.post(body(envelope([])))).status_code == 204
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_dropped_count_reaches_the_summary() -> None:
    async with running() as r:
        await r.post(body(envelope(dropped=12)))
        summary = await r.store.get_session(SESSION)
        assert summary is not None and summary.dropped_events == 12


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("bad json", b'{"session_id": "x', 400, "body is not valid JSON"),
    ("non-object", b"[1, 2]", 400, "body must be a JSON object"),
    ("missing id", {"window_id": "w" * 10, "events": []}, 422, "session_id: missing"),
    (
        "bad id",
        envelope(window_id="bad id!"),
        422,
        "window_id: expected 8 to 64 characters from A-Z a-z 0-9 _ -",
    ),
    ("events not a list", {**envelope(), "events": {"a": 1}}, 422, "events: expected a list"),
    (
        "event without type",
        envelope([{"timestamp": 5}]),
        422,
        "events[0].type: expected a non-negative integer",
    ),
    (
        "event without timestamp",
        envelope([{"type": 3}]),
        422,
        "events[0].timestamp: expected a number",
    ),
    ("deep json", b"[" * 1100 + b"]" * 1100, 400, "body JSON is nested too deeply"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("case", "payload", "status", "reason"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_bodies_are_refused_with_a_reason(
    case: str, payload: Any, status: int, reason: str
) -> None:
    data = payload if isinstance(payload, bytes) else body(payload)
    async with running() as r:
        response = await r.post(data)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/json"
        assert await r.error(response) == reason
        assert "Connection" not in response.headers  # read to the end: keep-alive is fine
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_event_nested_deeper_than_stores_can_encode_is_422() -> None:
    # 300 levels: orjson reads up to 1024 but writes at most 254
    deep = b'{"c":' * 300 + b"1" + b"}" * 300
    doc = body(envelope([{"type": 3, "timestamp": 1, "data": "DEEP"}]))
    async with running() as r:
        response = await r.post(doc.replace(b'"DEEP"', deep))
        assert response.status_code == 422
        assert await r.error(response) == "events: nested too deeply"
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_too_many_events_is_413() -> None:
    events = [click_event(1_700_000_000_000 + i) for i in range(6)]
    async with running(max_events_per_request=5) as r:
        response = await r.post(body(envelope(events)))
        assert response.status_code == 413
        assert await r.error(response) == "events: more than 5 events in one request"
        assert (await r.post(body(envelope(events[:5])))).status_code == 204


@pytest.mark.asyncio
async def test_declared_content_length_over_the_cap_is_413() -> None:
    async with running(max_request_bytes=1000) as r:
        response = await r.post(body(envelope([click_event(i + 1) for i in range(50)])))
        assert response.status_code == 413
        assert await r.error(response) == "request body over 1000 bytes"
        assert response.headers["Connection"] == "close"  # the body was never read


@pytest.mark.asyncio
async def test_decoded_size_over_the_cap_is_413() -> None:
    padding = [{"type": 5, "timestamp": i + 1, "data": {"pad": "x" * 1000}} for i in range(20)]
    async with running(max_decoded_bytes=10_000) as r:
        response = await r.post(gz(envelope(padding)), {**JSON, "Content-Encoding": "gzip"})
        assert response.status_code == 413
        assert await r.error(response) == "decoded body over 10000 bytes"


@pytest.mark.asyncio
async def test_gzip_bomb_is_413_and_stores_nothing() -> None:
    async with running() as r:
        response = await r.post(gzip_bomb(1), {**JSON, "Content-Encoding": "gzip"})
        assert response.status_code == 413
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_truncated_gzip_is_400() -> None:
    data = gz(envelope())
    async with running() as r:
        response = await r.post(data[:-20], {**JSON, "Content-Encoding": "gzip"})
        assert response.status_code == 400
        assert await r.error(response) == "truncated gzip body"


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["br", "compress", "gzip, br"])
async def test_unsupported_encoding_is_415(encoding: str) -> None:
    async with running() as r:
        response = await r.post(body(envelope()), {**JSON, "Content-Encoding": encoding})
        assert response.status_code == 415
        assert "encoding" in await r.error(response)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/html",
        "image/png",
    ],
)
async def test_unsupported_content_type_is_415(content_type: str) -> None:
    async with running() as r:
        response = await r.post(body(envelope()), {"Content-Type": content_type})
        assert response.status_code == 415
        assert "content type" in await r.error(response)


@pytest.mark.asyncio
async def test_get_is_not_allowed() -> None:
    async with running() as r:
        assert (await r.client.get(EVENTS_URL)).status_code == 405


# -- privacy signals -------------------------------------------------------


@pytest.mark.asyncio
async def test_gpc_header_means_nothing_is_stored() -> None:
    async with running() as r:
        response = await r.post(body(envelope()), {**JSON, "Sec-GPC": "1"})
        assert response.status_code == 204
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_gpc_header_ignored_when_respect_gpc_is_off() -> None:
    async with running(respect_gpc=False) as r:
        await r.post(body(envelope()), {**JSON, "Sec-GPC": "1"})
        assert await r.store.count_sessions() == 1


@pytest.mark.asyncio
async def test_dnt_header_means_nothing_is_stored() -> None:
    async with running() as r:
        await r.post(body(envelope()), {**JSON, "DNT": "1"})
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_opt_out_cookie_means_nothing_is_stored() -> None:
    async with running(user_opt_out=True, opt_out_cookie_name="no_rec") as r:
        response = await r.post(body(envelope()), {**JSON, "Cookie": "a=b; no_rec=1"})
        assert response.status_code == 204
        assert await r.store.count_sessions() == 0
        await r.post(body(envelope()), {**JSON, "Cookie": "no_rec=0"})
        assert await r.store.count_sessions() == 1


@pytest.mark.asyncio
async def test_opt_out_cookie_ignored_when_user_opt_out_is_off() -> None:
    async with running(user_opt_out=False) as r:
        await r.post(body(envelope()), {**JSON, "Cookie": "sentiero_optout=1"})
        assert await r.store.count_sessions() == 1


# -- request metadata ------------------------------------------------------


async def _stored_ip(peer: str, headers: dict[str, str] | None = None, **options: Any) -> Any:
    async with running(**options) as r:
        response = await r.post(
            body(envelope()), {**JSON, **(headers or {})}, scope_base={"client": (peer, 4000)}
        )
        assert response.status_code == 204
        summary = await r.store.get_session(SESSION)
        assert summary is not None
        return summary.ip


@pytest.mark.asyncio
async def test_ipv4_is_stored_truncated_to_24_bits() -> None:
    assert await _stored_ip("198.51.100.201") == "198.51.100.0"


@pytest.mark.asyncio
async def test_ipv6_is_stored_truncated_to_48_bits() -> None:
    assert await _stored_ip("2001:db8:abcd:12:34::99") == "2001:db8:abcd::"


@pytest.mark.asyncio
async def test_full_ip_is_stored_when_anonymize_ip_is_off() -> None:
    assert await _stored_ip("198.51.100.201", anonymize_ip=False) == "198.51.100.201"


@pytest.mark.asyncio
async def test_forwarded_for_only_when_trusted() -> None:
    xff = {"X-Forwarded-For": "192.0.2.55"}
    assert await _stored_ip("10.0.0.1", xff) == "10.0.0.0"
    assert await _stored_ip("10.0.0.1", xff, trusted_proxy_hops=1) == "192.0.2.0"


@pytest.mark.asyncio
async def test_forwarded_for_takes_the_entry_of_the_farthest_trusted_hop() -> None:
    """Ensure that entries a client wrote to the left of what the trusted
    proxies appended are never believed."""
    xff = {"X-Forwarded-For": "1.1.1.1, 198.51.100.9, 10.0.0.7"}
    assert await _stored_ip("10.0.0.1", xff, trusted_proxy_hops=1) == "10.0.0.0"
    assert await _stored_ip("10.0.0.1", xff, trusted_proxy_hops=2) == "198.51.100.0"


@pytest.mark.asyncio
async def test_forwarded_header_in_modern_mode() -> None:
    headers = {"Forwarded": "for=192.0.2.60;proto=https", "X-Forwarded-For": "203.0.113.5"}
    options = {"trusted_proxy_hops": 1, "proxy_mode": "modern"}
    assert await _stored_ip("10.0.0.1", headers, **options) == "192.0.2.0"


@pytest.mark.asyncio
async def test_an_unparseable_forwarded_address_is_not_stored() -> None:
    """Ensure that nonsense from the proxy stores no address rather than the
    proxy's own, which would pass for a visitor's."""
    xff = {"X-Forwarded-For": "nonsense"}
    assert await _stored_ip("10.0.0.1", xff, trusted_proxy_hops=1) is None


@pytest.mark.asyncio
async def test_user_agent_is_kept_and_capped() -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 " + "x" * 1000
    async with running() as r:
        await r.post(body(envelope()), {**JSON, "User-Agent": agent})
        summary = await r.store.get_session(SESSION)
        assert summary is not None and summary.user_agent == agent[:512]


@pytest.mark.asyncio
async def test_error_bodies_are_small_json() -> None:
    async with running() as r:
        response = await r.post(b"\x00\x01garbage")
        payload = orjson.loads(await response.get_data())
        assert list(payload) == ["error"] and len(await response.get_data()) < 200


def ingest_scope(
    *,
    http_version: str = "1.1",
    query_string: bytes = b"",
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    """An ASGI scope of a JSON POST to the ingest endpoint, for what an
    HTTP client cannot send (or Hypercorn would refuse first)."""
    return {
        "type": "http",
        "http_version": http_version,
        "asgi": {"spec_version": "2.1"},
        "method": "POST",
        "scheme": "http",
        "path": EVENTS_URL,
        "raw_path": b"",
        "query_string": query_string,
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            *(extra_headers or []),
        ],
    }


@pytest.mark.asyncio
async def test_a_trickling_body_times_out_with_408() -> None:
    """Driven through raw ASGI: the first bytes arrive, the rest never do."""
    async with running() as r:
        r.app.config["BODY_TIMEOUT"] = 0.2
        sent: list[dict[str, Any]] = []
        parts = [{"type": "http.request", "body": b'{"session_id": ', "more_body": True}]

        async def receive() -> dict[str, Any]:
            if parts:
                return parts.pop()
            await asyncio.sleep(5)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = ingest_scope()
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(r.app(scope, receive, send), 3)
        assert asyncio.get_running_loop().time() - started < 2
        assert sent[0]["status"] == 408
        assert orjson.loads(sent[1]["body"]) == {"error": "request body took too long to arrive"}


@pytest.mark.asyncio
async def test_raw_bytes_in_the_query_string_get_a_4xx() -> None:
    """Hypercorn's HTTP/1 parser refuses them first; another server may pass them on."""
    async with running() as r:
        payload = body(envelope())
        sent: list[dict[str, Any]] = []
        chunks = [{"type": "http.request", "body": payload, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return chunks.pop() if chunks else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = ingest_scope(
            http_version="2",
            query_string=b"encoding=\xff\xfe&\xc3(=1",
            extra_headers=[(b"content-length", str(len(payload)).encode())],
        )
        await asyncio.wait_for(r.app(scope, receive, send), 3)
        assert sent[0]["status"] == 415
        assert "encoding" in orjson.loads(sent[1]["body"])["error"]
        assert await r.store.get_session(SESSION) is None
