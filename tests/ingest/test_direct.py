"""The ingest route answered past Quart (sentiero_core.ingest.direct) and
through Quart's view give the same answers over real HTTP, and a hook of
the host's own sends the route back through Quart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from quart import Quart
from quart.signals import request_started

from sentiero_core import Settings, create_app
from sentiero_core.ingest.direct import DirectIngest
from tests.ingest.helpers import body, envelope, gz, plugin_manager
from tests.support.live_server import LiveServer

SITE = "https://shop.example"
URL = "/sentiero/events"
GZIP = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def _app() -> Quart:
    settings = Settings(
        store_url="memory://",
        cors_origins=[SITE],
        user_opt_out=True,
        max_request_bytes=64_000,
        ingest_rate_limit=0.001,
        ingest_rate_burst=7,
    )
    return create_app(settings, plugin_manager=plugin_manager())


def _direct(app: Quart) -> DirectIngest:
    direct = app.asgi_app
    assert isinstance(direct, DirectIngest)
    return direct


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LiveServer, LiveServer, list[str]]]:
    """A plain app, and one whose host added a request hook of its own."""
    hooked = _app()
    seen: list[str] = []

    @hooked.before_request
    async def host_hook() -> None:
        from quart import request

        seen.append(request.path)

    with LiveServer(_app()) as plain, LiveServer(hooked) as quart:
        yield plain, quart, seen


REQUESTS: list[tuple[str, dict[str, str], bytes]] = [
    ("", {**GZIP, "Origin": SITE}, gz(envelope(session_id="direct_ok_01"))),
    ("", {"Content-Type": "application/json", "Origin": "https://other.example"}, b"{nope"),
    ("", {"Content-Type": "image/png", "Origin": SITE}, b"x"),
    ("", {**GZIP, "DNT": "1"}, gz(envelope(session_id="direct_dnt_01"))),
    ("", {**GZIP, "Cookie": "a=b; sentiero_optout=1"}, gz(envelope(session_id="direct_opt_01"))),
    ("?encoding=gzip", {"Content-Type": "text/plain"}, gz(envelope(session_id="direct_txt_01"))),
    ("", {"Content-Type": "application/json"}, b"x" * 65_000),
    ("", {"Content-Type": "application/json"}, body(envelope(session_id="bad id"))),
    ("", {"Content-Type": "application/json"}, body(envelope(events=[{"type": -1}]))),
    # the burst of 7 is spent (refusals take a token, declines do not):
    # 429 with Retry-After, a header exposed to the origin
    ("", {**GZIP, "Origin": SITE}, gz(envelope(session_id="direct_429_1"))),
]


def _answer(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, response.content, headers


def test_both_paths_answer_alike(servers: tuple[LiveServer, LiveServer, list[str]]) -> None:
    plain, quart, seen = servers
    answers: list[list[Any]] = [[], []]
    for i, server in enumerate((plain, quart)):
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for query, headers, data in REQUESTS:
                answers[i].append(_answer(client.post(URL + query, content=data, headers=headers)))
    assert [a[0] for a in answers[0]] == [204, 400, 415, 204, 204, 204, 413, 422, 422, 429]
    assert answers[0] == answers[1]
    assert ("access-control-expose-headers", "Retry-After") in answers[0][-1][2]
    assert ("x-content-type-options", "nosniff") in answers[0][0][2]
    # the hooked app's requests all went through Quart, and its hook
    assert seen == [URL] * len(REQUESTS)
    for server in (plain, quart):
        store = server.app.extensions["sentiero"].store
        assert server.run(store.get_session("direct_ok_01")) is not None
        assert server.run(store.get_session("direct_txt_01")) is not None
        assert server.run(store.get_session("direct_dnt_01")) is None
        assert server.run(store.get_session("direct_opt_01")) is None


def test_the_direct_path_only_while_quart_would_run_nothing_else() -> None:
    app = _app()
    direct = _direct(app)
    assert direct.plain()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    request_started.connect(receiver)
    try:
        assert not direct.plain()
    finally:
        request_started.disconnect(receiver)
    assert direct.plain()

    @app.after_request
    async def host_headers(response: Any) -> Any:
        return response

    assert not direct.plain()


def test_an_error_handler_of_the_host_sends_the_route_through_quart() -> None:
    app = _app()

    @app.errorhandler(RuntimeError)
    async def handle(error: Exception) -> Any:
        return "", 500

    assert not _direct(app).plain()
