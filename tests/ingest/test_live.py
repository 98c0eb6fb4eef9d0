"""The endpoint over real HTTP (Hypercorn in a thread, httpx as the client):
what the in-process client cannot show, like chunked uploads."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sentiero_core import Settings, create_app
from tests.ingest.helpers import body, envelope, gz, gzip_bomb, plugin_manager
from tests.support.live_server import LiveServer

SITE = "https://shop.example"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    settings = Settings(store_url="memory://", max_request_bytes=64_000, cors_origins=[SITE])
    with LiveServer(create_app(settings, plugin_manager=plugin_manager())) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def stored_count(server: LiveServer, session_id: str) -> int:
    store = server.app.extensions["sentiero"].store
    summary = server.run(store.get_session(session_id))
    return 0 if summary is None else int(summary.event_count)


def test_gzip_batch_over_http(server: LiveServer, client: httpx.Client) -> None:
    response = client.post(
        "/sentiero/events",
        content=gz(envelope(session_id="live_gzip_01")),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert stored_count(server, "live_gzip_01") == 2


def test_declared_length_over_the_cap_is_413(client: httpx.Client) -> None:
    response = client.post(
        "/sentiero/events", content=b" " * 70_000, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 413
    assert response.json() == {"error": "request body over 64000 bytes"}
    # the body was not read: the connection is not reused for a next request
    assert response.headers["connection"] == "close"
    assert client.post("/sentiero/events", content=b"{}").status_code == 422


def test_chunked_body_over_the_cap_is_413(server: LiveServer, client: httpx.Client) -> None:
    doc = body(envelope(session_id="live_chunk_1"))

    def chunks() -> Iterator[bytes]:
        yield doc[:-2]
        for _ in range(20):
            yield b" " * 4000
        yield doc[-2:]

    response = client.post(
        "/sentiero/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert stored_count(server, "live_chunk_1") == 0


def test_chunked_body_under_the_cap_is_stored(server: LiveServer, client: httpx.Client) -> None:
    doc = body(envelope(session_id="live_chunk_2"))

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(doc), 16):
            yield doc[i : i + 16]

    response = client.post(
        "/sentiero/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 204
    assert stored_count(server, "live_chunk_2") == 2


def test_gzip_bomb_over_http_is_refused_quickly(client: httpx.Client) -> None:
    bomb = gzip_bomb(1)
    url = "/sentiero/events?encoding=gzip"
    started = time.perf_counter()

    def trickle() -> Iterator[bytes]:
        # no Content-Length: the decoded cap has to catch it while inflating
        for i in range(0, 60_000, 4096):
            yield bomb[i : i + 4096]

    response = client.post(url, content=trickle(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.json() == {
        "error": f"decoded body over {4 * 2**20} bytes and not a full snapshot"
    }
    assert time.perf_counter() - started < 3


def test_bad_json_over_http(client: httpx.Client) -> None:
    response = client.post(
        "/sentiero/events", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}


def test_cors_preflight_over_http(client: httpx.Client) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,content-encoding",
    }
    allowed = client.options("/sentiero/events", headers={**ask, "Origin": SITE})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert allowed.headers["access-control-allow-credentials"] == "true"
    denied = client.options("/sentiero/events", headers={**ask, "Origin": "https://x.example"})
    assert denied.status_code == 403
    assert "access-control-allow-origin" not in denied.headers


def test_sec_gpc_over_http_stores_nothing(server: LiveServer, client: httpx.Client) -> None:
    response = client.post(
        "/sentiero/events",
        content=body(envelope(session_id="live_gpc_001")),
        headers={"Content-Type": "application/json", "Sec-GPC": "1"},
    )
    assert response.status_code == 204
    assert stored_count(server, "live_gpc_001") == 0
