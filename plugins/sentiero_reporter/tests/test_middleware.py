"""ASGI and WSGI middleware, and the logging handler."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentiero_reporter
from sentiero_reporter import ReporterHandler, ReporterMiddleware, WSGIReporterMiddleware

HEADERS = [
    (b"host", b"shop.test"),
    (b"user-agent", b"pytest"),
    (b"authorization", b"Bearer secret-token"),
    (b"x-api-key", b"k-123"),
    (b"cookie", b"sentiero_sid=S1; sentiero_wid=W1; sessionid=django-secret; theme=dark"),
]


def asgi_scope(path: str = "/checkout", query: bytes = b"page=2&token=abc") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": HEADERS,
        "server": ("shop.test", 443),
    }


async def failing_app(scope: Any, receive: Any, send: Any) -> None:
    sentiero_reporter.track("before the crash")
    raise ZeroDivisionError("in the view")


async def fine_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(0.05)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def check_request_report(report: dict[str, Any]) -> None:
    assert report["session_id"] == "S1" and report["window_id"] == "W1"
    request = report["request"]
    assert request["method"] == "POST"
    assert request["url"] == "https://shop.test/checkout"
    assert request["query"] == {"page": "2", "token": "[FILTERED]"}
    assert request["headers"]["authorization"] == "[FILTERED]"
    assert request["headers"]["x-api-key"] == "[FILTERED]"
    assert request["headers"]["cookie"] == "[FILTERED]"
    assert request["headers"]["user-agent"] == "pytest"
    assert request["cookies"] == {
        "sentiero_sid": "S1",
        "sentiero_wid": "W1",
        "sessionid": "[FILTERED]",
        "theme": "[FILTERED]",
    }


def test_asgi_middleware_reports_and_reraises() -> None:
    app = ReporterMiddleware(failing_app)
    with sentiero_reporter.capture_notifications() as sent, pytest.raises(ZeroDivisionError):
        asyncio.run(call(app, asgi_scope()))
    kinds = [kind for kind, _ in sent]
    assert kinds == ["events", "errors"]
    check_request_report(sent[1][1])
    # an event tracked during the request is linked to the session too
    assert sent[0][1]["session_id"] == "S1"
    assert sent[1][1]["exception"]["type"] == "ZeroDivisionError"


def test_asgi_middleware_passes_responses_and_other_scopes_through() -> None:
    app = ReporterMiddleware(fine_app)
    with sentiero_reporter.capture_notifications() as sent:
        messages = asyncio.run(call(app, asgi_scope()))
        lifespan = asyncio.run(call(ReporterMiddleware(fine_app), {"type": "lifespan"}))
    assert messages[1]["body"] == b"ok" and lifespan
    assert sent == []


def test_asgi_request_data_is_gone_after_the_request() -> None:
    app = ReporterMiddleware(failing_app)
    with sentiero_reporter.capture_notifications() as sent:
        with pytest.raises(ZeroDivisionError):
            asyncio.run(call(app, asgi_scope()))
        sentiero_reporter.notify(ValueError("outside"))
    assert "request" not in sent[-1][1] and "session_id" not in sent[-1][1]


def test_asgi_middleware_honours_cookie_names_and_filter_keys() -> None:
    scope = asgi_scope()
    scope["headers"] = [(b"cookie", b"my_sid=A; my_wid=B"), (b"x-trace", b"t")]
    app = ReporterMiddleware(failing_app)
    with (
        sentiero_reporter.capture_notifications(
            session_cookie_name="my_sid", window_cookie_name="my_wid", filter_keys=["x-trace"]
        ) as sent,
        pytest.raises(ZeroDivisionError),
    ):
        asyncio.run(call(app, scope))
    report = sent[-1][1]
    assert (report["session_id"], report["window_id"]) == ("A", "B")
    assert report["request"]["headers"]["x-trace"] == "[FILTERED]"


def test_asgi_middleware_with_a_quart_app() -> None:
    from quart import Quart

    quart_app = Quart(__name__)

    @quart_app.get("/boom")
    async def boom() -> str:
        raise LookupError("quart view")

    quart_app.config["PROPAGATE_EXCEPTIONS"] = True
    app = ReporterMiddleware(quart_app)

    async def main() -> list[dict[str, Any]]:
        scope = asgi_scope("/boom", b"")
        scope.update(http_version="1.1", raw_path=b"/boom", client=("127.0.0.1", 5000))
        scope["method"] = "GET"
        scope["extensions"] = {}
        scope["state"] = {}
        try:
            return await call(app, scope)
        except LookupError:
            return []

    with sentiero_reporter.capture_notifications() as sent:
        asyncio.run(main())
    assert [r["exception"]["type"] for k, r in sent if k == "errors"] == ["LookupError"]


# -- WSGI --------------------------------------------------------------------


def wsgi_environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "shop.test",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/checkout",
        "QUERY_STRING": "page=2&token=abc",
        "HTTP_USER_AGENT": "pytest",
        "HTTP_AUTHORIZATION": "Bearer secret-token",
        "HTTP_X_API_KEY": "k-123",
        "HTTP_COOKIE": "sentiero_sid=S1; sentiero_wid=W1; sessionid=django-secret; theme=dark",
        "wsgi.input": io.BytesIO(),
    }


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


def test_wsgi_middleware_reports_and_reraises() -> None:
    def app(environ: dict[str, Any], start: Any) -> list[bytes]:
        raise ZeroDivisionError("in the view")

    with sentiero_reporter.capture_notifications() as sent, pytest.raises(ZeroDivisionError):
        WSGIReporterMiddleware(app)(wsgi_environ(), start_response)
    check_request_report(sent[0][1])


def test_wsgi_middleware_reports_errors_raised_while_streaming() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"part one"
            raise OSError("stream broke")

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start: Any) -> Body:
        start("200 OK", [])
        return Body()

    with sentiero_reporter.capture_notifications() as sent:
        body = WSGIReporterMiddleware(app)(wsgi_environ(), start_response)
        chunks = []
        with pytest.raises(OSError):
            for chunk in body:
                chunks.append(chunk)
        body.close()
    assert chunks == [b"part one"] and closed == [True]
    assert sent[0][1]["exception"]["type"] == "OSError"
    assert sent[0][1]["session_id"] == "S1"


def test_wsgi_middleware_passes_responses_through() -> None:
    def app(environ: dict[str, Any], start: Any) -> list[bytes]:
        start("200 OK", [])
        return [b"ok"]

    with sentiero_reporter.capture_notifications() as sent:
        assert list(WSGIReporterMiddleware(app)(wsgi_environ(), start_response)) == [b"ok"]
    assert sent == []


# -- logging -----------------------------------------------------------------


def test_logger_exception_reports_through_the_handler() -> None:
    log = logging.getLogger("shop.checkout")
    handler = ReporterHandler()
    log.addHandler(handler)
    try:
        with sentiero_reporter.capture_notifications() as sent:
            try:
                raise KeyError("cart")
            except KeyError:
                log.exception("checkout failed for %s", "ada")
            log.error("no exception here")
            logging.getLogger("sentiero_reporter").error("own", exc_info=ValueError("own"))
    finally:
        log.removeHandler(handler)
    assert len(sent) == 1
    report = sent[0][1]
    assert report["exception"]["type"] == "KeyError"
    assert report["context"]["logger"] == "shop.checkout"
    assert report["context"]["log_message"] == "checkout failed for ada"
    assert report["level"] == "error"
