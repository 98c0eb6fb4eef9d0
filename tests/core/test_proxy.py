"""``trusted_proxy_hops`` reaches ``sentiero serve`` and the ASGI entry: the
forwarded headers of trusted hops set the client, scheme and host, and
nothing else does."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from hypercorn.middleware import ProxyFixMiddleware

from tests.support.live_server import free_port

FORWARDED = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
SESSION = "sess_proxy_0123456789"


def _seen_by(url: str, headers: dict[str, str]) -> tuple[str | None, bool]:
    """What the server believed about a client: the (anonymized) address it
    stored with a batch, and whether the dashboard's CSRF cookie came marked
    Secure (the scheme was https)."""
    event = {"type": 4, "timestamp": 1_700_000_000_000, "data": {"href": "https://s.example/"}}
    doc = {
        "v": 1,
        "session_id": SESSION,
        "window_id": "win_proxy_0123456789",
        "seq": 1,
        "sent_at": 1_700_000_000_100,
        "dropped": 0,
        "events": [event, {**event, "type": 5, "data": {"tag": "x", "payload": {}}}],
    }
    posted = httpx.post(url + "/sentiero/events", content=orjson.dumps(doc), headers=headers)
    assert posted.status_code in (200, 202, 204), posted.text
    summary = httpx.get(f"{url}/sentiero/api/sessions/{SESSION}").json()
    page = httpx.get(f"{url}/sentiero/sessions/{SESSION}", headers=headers)
    httpx.delete(f"{url}/sentiero/api/sessions/{SESSION}")
    cookie = page.headers.get("set-cookie", "")
    assert "sentiero_csrf=" in cookie
    return summary.get("ip", summary.get("session", {}).get("ip")), "secure" in cookie.lower()


@pytest.fixture(scope="module")
def serve() -> Iterator[str]:
    """``sentiero serve`` in its own process, one trusted proxy hop."""
    port = free_port()
    env = {**os.environ, "SENTIERO_TRUSTED_PROXY_HOPS": "1", "SENTIERO_LOAD_PLUGINS": ""}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sentiero_core.cli",
            "serve",
            "--port",
            str(port),
            "--store",
            "memory://",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/sentiero/recorder.js", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_believes_the_trusted_hop(serve: str) -> None:
    assert _seen_by(serve, {**FORWARDED, "Content-Type": "application/json"}) == (
        "203.0.113.0",
        True,
    )


def test_serve_without_forwarded_headers_uses_the_request(serve: str) -> None:
    assert _seen_by(serve, {"Content-Type": "application/json"}) == ("127.0.0.0", False)


def test_the_asgi_entry_applies_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIERO_STORE_URL", "memory://")
    monkeypatch.setenv("SENTIERO_TRUSTED_PROXY_HOPS", "2")
    monkeypatch.setenv("SENTIERO_PROXY_MODE", "modern")
    asgi = importlib.reload(importlib.import_module("sentiero_core.asgi"))
    middleware = asgi.app.asgi_app
    assert isinstance(middleware, ProxyFixMiddleware)
    assert (middleware.trusted_hops, middleware.mode) == (2, "modern")
    monkeypatch.setenv("SENTIERO_TRUSTED_PROXY_HOPS", "0")
    asgi = importlib.reload(asgi)
    assert not isinstance(asgi.app.asgi_app, ProxyFixMiddleware)
