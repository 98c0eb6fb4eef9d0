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

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rec.example.com"}


def _endpoint(script: bytes) -> str | None:
    line = script.partition(b"\n")[0]
    config = orjson.loads(line[line.index(b"{") : line.rindex(b"}") + 1])
    return config.get("endpoint")  # type: ignore[no-any-return]


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
    response = httpx.get(serve + "/sentiero/recorder.js", headers=FORWARDED)
    assert response.status_code == 200
    assert _endpoint(response.content) == "https://rec.example.com/sentiero/events"


def test_serve_without_forwarded_headers_uses_the_request(serve: str) -> None:
    response = httpx.get(serve + "/sentiero/recorder.js")
    assert _endpoint(response.content) == serve + "/sentiero/events"


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
