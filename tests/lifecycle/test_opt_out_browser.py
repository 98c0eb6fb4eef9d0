"""A visitor's ``Sentiero.optOut()`` in Chromium reaches ``audit_log``
through ``POST <mount>/opt-out``, carrying the session id and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.recording.helpers import new_context, open_settled, wait_for
from tests.recording.site import build_site
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

RECORDS: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(build_site(audit_log=RECORDS.append)) as live:
        yield live


def test_opt_out_is_audited_with_the_session_id_only(server: LiveServer, browser: Any) -> None:
    context = new_context(browser, "opt-out-audit")
    notices: list[Any] = []
    context.on("request", lambda r: notices.append(r) if r.url.endswith("/opt-out") else None)
    try:
        page, sid = open_settled(server, context, server.url + "/")
        page.evaluate("window.Sentiero.optOut(); 0")
        record = wait_for(
            lambda: [r for r in RECORDS if r["action"] == "visitor_opted_out"],
            what="the opt-out audit record",
        )[0]
        assert record["session_id"] == sid
        assert (record["recorded"], record["by"], record["via"]) == (True, None, "recorder")
        assert set(record) == {"action", "at", "by", "session_id", "recorded", "via"}
        (notice,) = notices
        assert json.loads(notice.post_data) == {"session_id": sid}
        assert "cookie" not in {h.lower() for h in notice.all_headers()}
        # a second opt-out in the page sends nothing more
        page.evaluate("window.Sentiero.optOut(); 0")
        page.wait_for_timeout(300)
        assert len(notices) == 1
        assert len([r for r in RECORDS if r["action"] == "visitor_opted_out"]) == 1
    finally:
        context.close()
