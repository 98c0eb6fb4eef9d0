"""Dashboard pages, replay links and markers, JS errors, removal, the keys CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sentiero_reporter.server.issues import ISSUES, OCCURRENCES, set_status

from sentiero_core.testing import make_batch, text_mutation

from .conftest import T0, Server, error_payload

TAG_ERROR = "sentiero:error"
SENTIERO = Path(sys.executable).with_name("sentiero")


def main(argv: list[str]) -> int:
    """The real `sentiero` command, in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    done = subprocess.run([str(SENTIERO), *argv], capture_output=True, text=True, env=env)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


async def record_session(server: Server, sid: str = "sess-1", window: str = "win-1") -> None:
    await server.store.append(
        make_batch(sid, window, [text_mutation(T0 - 5_000, "a"), text_mutation(T0 + 5_000, "b")])
    )


@pytest.mark.asyncio
async def test_issues_list_filters_and_sorts(server: Server) -> None:
    await server.post("errors", error_payload("a", exc_type="A", environment="prod", release="1"))
    for _ in range(3):
        await server.post(
            "errors",
            error_payload("b", exc_type="B", environment="staging", timestamp=T0 - 10_000),
        )
    key_a = (await server.store.find_records(ISSUES, {"type": "A"}))[0]["_id"]

    def order(page: str) -> list[str]:
        return re.findall(r'data-issue="([0-9a-f]+)"', page)

    by_last = order(await server.text("/sentiero/issues"))
    by_count = order(await server.text("/sentiero/issues?sort=count"))
    assert by_last[0] == key_a and by_count[-1] == key_a and len(by_last) == 2
    assert order(await server.text("/sentiero/issues?environment=prod")) == [key_a]
    assert order(await server.text("/sentiero/issues?release=1")) == [key_a]
    assert order(await server.text("/sentiero/issues?project=blog")) == []
    await set_status(server.store, key_a, "resolved")
    assert key_a not in order(await server.text("/sentiero/issues"))
    assert order(await server.text("/sentiero/issues?status=resolved")) == [key_a]
    assert len(order(await server.text("/sentiero/issues?status=all"))) == 2
    nav = await server.text("/sentiero/issues")
    assert ">Issues<" in nav and ">Custom events<" in nav
    assert order(await server.text("/sentiero/issues?status=all&platform=browser")) == []
    assert len(order(await server.text("/sentiero/issues?status=all&platform=server"))) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("status=bogus", "status must be one of open, resolved, ignored, all"),
        ("platform=mobile", "platform must be one of server, browser (or empty: any)"),
        ("sort=<b>", "sort must be one of last_seen, count, first_seen"),
        ("page=0", "page must be a whole number"),
        ("page=x", "page must be a whole number"),
    ],
)
async def test_issues_list_refuses_a_filter_it_does_not_know(
    server: Server, query: str, named: str
) -> None:
    response = await server.client.get(f"/sentiero/issues?{query}")
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert named in page and "<b>" not in page.split("</header>")[-1]


@pytest.mark.asyncio
async def test_issue_page_shows_the_trace_and_replay_links_at_the_moment(server: Server) -> None:
    await record_session(server)
    answer = await (
        await server.post(
            "errors", error_payload(session_id="sess-1", window_id="win-1", release="1.0")
        )
    ).get_json()
    await server.post("errors", error_payload(session_id="gone-session"))
    page = await server.text(f"/sentiero/issues/{answer['issue']}")
    assert "load_order" in page and "raise NotFound(f&#39;order {order_id} not found&#39;)" in page
    assert 'class="frame in-app"' in page
    # 5 seconds after the session started
    assert "/sentiero/sessions/sess-1?t=5.000&amp;window=win-1" in page or (
        "/sentiero/sessions/sess-1?window=win-1&amp;t=5.000" in page
    )
    assert "session gone" in page
    assert 'id="histogram"' in page and 'data-count="2"' in page


@pytest.mark.asyncio
async def test_issue_status_changes_through_the_page(server: Server) -> None:
    key = (await (await server.post("errors", error_payload())).get_json())["issue"]
    page = await server.text(f"/sentiero/issues/{key}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    refused = await server.client.post(
        f"/sentiero/issues/{key}/status",
        form={"status": "resolved"},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert refused.status_code == 403
    response = await server.client.post(
        f"/sentiero/issues/{key}/status",
        form={"status": "resolved", "csrf_token": token[1]},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    issue = await server.store.get_record(ISSUES, key)
    assert issue is not None and issue["status"] == "resolved"


@pytest.mark.asyncio
async def test_the_replay_shows_its_server_errors(server: Server) -> None:
    await record_session(server)
    await server.post("errors", error_payload("boom 1", session_id="sess-1", window_id="win-1"))
    page = await server.text("/sentiero/sessions/sess-1")
    assert 'class="plugin-marker server-error"' in page
    assert "Server error: myapp.errors.NotFound: boom 1" in page
    assert "window=win-1&amp;t=5.0" in page


@pytest.mark.asyncio
async def test_js_errors_from_recordings_become_browser_issues(server: Server) -> None:
    def error_event(ts: int, message: str, line: int) -> dict[str, object]:
        return {
            "type": 5,
            "timestamp": ts,
            "data": {
                "tag": TAG_ERROR,
                "payload": {
                    "kind": "error",
                    "message": message,
                    "source": "https://shop.test/app.js?v=3",
                    "line": line,
                    "column": 1,
                    "stack": f"TypeError: {message}\n    at checkout (https://shop.test/app.js?v=3:{line}:7)",
                },
            },
        }

    for n, sid in enumerate(("js-session-1", "js-session-2")):
        envelope = {
            "v": 1,
            "session_id": sid,
            "window_id": "window-1",
            "seq": 1,
            "sent_at": T0,
            "events": [
                {
                    "type": 4,
                    "timestamp": T0,
                    "data": {"href": "https://shop.test/", "width": 1, "height": 1},
                },
                error_event(
                    T0 + 100, f"Cannot read properties of undefined (reading 'x{n}')", 10 + n
                ),
            ],
        }
        response = await server.client.post(
            "/sentiero/events",
            data=orjson.dumps(envelope),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code in (200, 202, 204), await response.get_data(as_text=True)
    issues = await server.store.find_records(ISSUES, {"platform": "browser"})
    assert len(issues) == 1 and issues[0]["count"] == 2
    assert issues[0]["project"] == "browser" and issues[0]["type"] == "TypeError"
    page = await server.text("/sentiero/issues?platform=browser")
    assert 'class="badge error browser"' in page


@pytest.mark.asyncio
async def test_occurrences_go_with_their_sessions(server: Server) -> None:
    await record_session(server, "keep")
    await record_session(server, "erase-me")
    only = (
        await (
            await server.post("errors", error_payload("x", exc_type="Only", session_id="erase-me"))
        ).get_json()
    )["issue"]
    shared = (
        await (await server.post("errors", error_payload("y", session_id="erase-me"))).get_json()
    )["issue"]
    await server.post("errors", error_payload("y", session_id="keep"))
    await server.post("events", {"name": "signup", "session_id": "erase-me"})
    assert await server.store.delete_sessions(["erase-me"]) == 1
    assert await server.store.count_records(OCCURRENCES, {"session_id": "erase-me"}) == 0
    assert await server.store.count_records("reporter_events", {"session_id": "erase-me"}) == 0
    assert await server.store.get_record(ISSUES, only) is None
    assert await server.store.get_record(ISSUES, shared) is not None
    assert await server.store.count_records(OCCURRENCES, {"issue": shared}) == 1


def test_keys_cli_creates_lists_and_revokes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from sentiero_reporter.server.keys import project_for
    from sentiero_store_sqlite import SQLiteStore

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    assert main(["reporter", "keys", "create", "shop", "--store", url]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("sk_")
    assert main(["reporter", "keys", "list", "shop", "--store", url]) == 0
    listing = capsys.readouterr().out
    assert token[:12] in listing and "live" in listing and token not in listing

    async def check() -> tuple[str | None, str]:
        store = SQLiteStore(tmp_path / "keys.db")
        await store.open()
        try:
            return await project_for(store, token)
        finally:
            await store.close()

    assert asyncio.run(check()) == ("shop", "")
    assert main(["reporter", "keys", "revoke", "shop", token[:12], "--store", url]) == 0
    assert asyncio.run(check()) == (None, "ingest key revoked")
    assert main(["reporter", "keys", "revoke", "shop", token[:12], "--store", url]) == 1
    assert main(["reporter", "keys", "create", "bad name!", "--store", url]) == 2
    assert "project name" in capsys.readouterr().err
