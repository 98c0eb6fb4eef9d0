"""A plugin's templates and static files are found by convention."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiero_core import Settings, create_app, get_plugin_manager
from tests.support.live_server import LiveServer

PLUGIN = """
from sentiero_core import Route, hookimpl, render


async def report():
    return await render("assetplug_report.html", who="<b>plugin</b>")


@hookimpl
def register_routes():
    return [Route("/assetplug", report, name="assetplug.report")]
"""


@contextlib.asynccontextmanager
async def plugin_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, str]
) -> AsyncIterator[Any]:
    """A test client of an app with the plugin package ``name`` made of
    ``files`` (paths inside the package), registered as that name."""
    package = tmp_path / name
    for relative, text in {"__init__.py": "", **files}.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(module, name=name)
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        async with app.test_app():
            yield app.test_client()
    finally:
        pm.unregister(name=name)


@pytest.mark.asyncio
async def test_plugin_templates_and_static_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "__init__.py": PLUGIN,
        "templates/assetplug_report.html": '{% extends "default:base.html" %}'
        '{% block content %}<p id="who">{{ who }}</p>{% endblock %}',
        "static/report.css": "p { color: teal }",
    }
    async with plugin_client(tmp_path, monkeypatch, "assetplug", files) as client:
        page = await (await client.get("/sentiero/assetplug")).get_data(as_text=True)
        assert '<p id="who">&lt;b&gt;plugin&lt;/b&gt;</p>' in page
        assert "/sentiero/-/static/dashboard.css" in page  # the dashboard layout
        css = await client.get("/sentiero/-/static/assetplug/report.css")
        assert css.status_code == 200
        assert await css.get_data(as_text=True) == "p { color: teal }"
        escape = await client.get("/sentiero/-/static/assetplug/../__init__.py")
        assert escape.status_code == 404


@pytest.fixture(scope="module")
def served() -> Iterator[LiveServer]:
    """The app behind real Hypercorn: encoded separators and NUL bytes reach
    the route as a server decodes them, not as a test client builds them."""
    app = create_app(
        Settings(store_url="memory://"), plugin_manager=get_plugin_manager(load_entrypoints=False)
    )
    with LiveServer(app) as server:
        yield server


def _raw_get(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> Any:
    async def fetch() -> Any:
        async with httpx.AsyncClient() as client:
            request = client.build_request("GET", server.url, headers=headers)
            # the path goes out byte for byte: httpx would normalise "../"
            request.url = request.url.copy_with(raw_path=path.encode())
            return await client.send(request, follow_redirects=True)

    return server.run(fetch())


@pytest.mark.parametrize(
    "path",
    [
        "/sentiero/-/static/../app.py",
        "/sentiero/-/static/%2e%2e/app.py",
        "/sentiero/-/static/..%2fapp.py",
        "/sentiero/-/static/..%2Fapp.py",
        "/sentiero/-/static/%2E%2E%2Fapp.py",
        "/sentiero/-/static/..%5capp.py",
        "/sentiero/-/static/dashboard.css%00",
        "/sentiero/-/static/%00",
        "/sentiero/-/static//etc/passwd",
        "/sentiero/-/static/%2fetc%2fpasswd",
        "/sentiero/-/static/nothing-here.css",
    ],
)
def test_static_paths_outside_the_folder_are_refused(served: LiveServer, path: str) -> None:
    response = _raw_get(served, path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"create_app" not in response.content


def test_static_files_answer_conditional_requests(served: LiveServer) -> None:
    first = _raw_get(served, "/sentiero/-/static/dashboard.css")
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/css")
    assert "max-age=3600" in first.headers["Cache-Control"]
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = _raw_get(served, "/sentiero/-/static/dashboard.css", {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = _raw_get(served, "/sentiero/-/static/dashboard.css", {"If-Modified-Since": modified})
    assert since.status_code == 304


def test_static_files_answer_ranges_and_head(served: LiveServer) -> None:
    whole = _raw_get(served, "/sentiero/-/static/dashboard.css")
    part = _raw_get(served, "/sentiero/-/static/dashboard.css", {"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == whole.content[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(whole.content)}"

    async def head() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.head(served.url + "/sentiero/-/static/dashboard.css")

    answer = served.run(head())
    assert answer.status_code == 200 and answer.content == b""
    assert int(answer.headers["Content-Length"]) == len(whole.content)


def _open_descriptors() -> set[str]:
    fds = Path("/proc/self/fd")
    found = set()
    for fd in fds.iterdir():
        try:
            found.add(str(fd.readlink()))
        except OSError:
            continue
    return found


def test_dropped_connections_leave_no_asset_open(served: LiveServer) -> None:
    """A browser that has the whole asset may close before the server has
    finished; no asset file may be left open (or to the garbage collector)."""
    import asyncio
    import gc

    async def drop_after_headers() -> None:
        host, port = served.url.removeprefix("http://").split(":")
        for _ in range(40):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /sentiero/-/static/dashboard.css HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            writer.close()
            await writer.wait_closed()

    served.run(drop_after_headers())
    gc.collect()
    # a read still running in its thread closes the file when it ends
    for _ in range(50):
        still = [name for name in _open_descriptors() if name.endswith("dashboard.css")]
        if not still:
            break
        time.sleep(0.05)
    assert not still


@pytest.mark.asyncio
async def test_an_edited_asset_is_served_with_a_new_etag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"static/note.txt": "first"}
    async with plugin_client(tmp_path, monkeypatch, "editplug", files) as client:
        first = await client.get("/sentiero/-/static/editplug/note.txt")
        assert await first.get_data(as_text=True) == "first"
        (tmp_path / "editplug" / "static" / "note.txt").write_text("second, longer")
        again = await client.get(
            "/sentiero/-/static/editplug/note.txt",
            headers={"If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 200
        assert await again.get_data(as_text=True) == "second, longer"
        assert again.headers["ETag"] != first.headers["ETag"]
        assert (await client.get("/sentiero/-/static/editplug/missing.txt")).status_code == 404
        assert (await client.get("/sentiero/-/static/editplug/")).status_code == 404
