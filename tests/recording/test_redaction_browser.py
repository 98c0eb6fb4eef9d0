"""The pattern rules run in the recorder, in Chromium: every request the page
sends to the events endpoint is read off the network (gzip bodies
decompressed) and no e-mail address, card number, IBAN, token or key from
the page, its inputs, console, errors, custom events or identified user's
traits appears in any of them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from quart import Response

from sentiero_core import RedactionSettings
from sentiero_core.builtins.redaction_patterns import DEFAULT_BUILTINS
from tests.recording.helpers import (
    EVENTS_PATH,
    all_events,
    new_context,
    posts_from,
    settle,
    wait_for,
    wait_in_page,
)
from tests.recording.site import PAGE_CSP, build_site
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

EMAIL = "grace.hopper@navy.example"
CARD = "5555 5555 5555 4444"
IBAN = "DE89 3704 0044 0532 0130 00"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJncmFjZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
BEARER = "c2VjcmV0LWJlYXJlci10b2tlbg"
AWS = "AKIAIOSFODNN7EXAMPLE"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
GITHUB = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK = "xoxb-123456789012-abcdefABCDEF"
API_VALUE = "Zx9Qw8Er7Ty6Ui5"
SECRETS = [EMAIL, CARD, IBAN, JWT, BEARER, AWS, STRIPE, GITHUB, SLACK, API_VALUE]
# Left alone: proof that the bodies were read, and that near misses survive.
VISIBLE = ["visible-Note-Zz12", "order 4111 1111 1111 1112", "v1.24.3"]

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Account {EMAIL}</title>
<script src="/sentiero/recorder.js"></script>
<style>.card::after {{ content: "{CARD}"; }}</style>
</head><body>
<p id="text">visible-Note-Zz12: write to {EMAIL}, pay {CARD}, IBAN {IBAN}.</p>
<p>order 4111 1111 1111 1112, v1.24.3</p>
<img alt="Avatar of {EMAIL}" title="{IBAN}" src="/avatar.png?sig={AWS}"
     srcset="/a.png?k={STRIPE} 2x" data-token="{JWT}" aria-label="{EMAIL}">
<a href="mailto:{EMAIL}">mail</a>
<input id="note" type="text" placeholder="e.g. {IBAN}">
<div id="later"></div>
</body></html>
"""


@pytest.fixture()
def server() -> Iterator[LiveServer]:
    rules = [*DEFAULT_BUILTINS, "api_key"]  # the default rules and the generic one
    app = build_site(
        flush_interval_ms=60_000,
        mask_all_inputs=False,
        redaction=RedactionSettings(builtin_patterns=rules),
    )

    @app.route("/secrets")
    async def secrets_page() -> Response:
        response = Response(PAGE, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = PAGE_CSP.format(origin="")
        return response

    live = LiveServer(app).start()
    yield live
    live.stop()


def decoded(body: bytes) -> str:
    return (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode()


def test_no_request_carries_a_raw_secret(server: LiveServer, browser: Any) -> None:
    """Ensure that text, attributes, style text, typed input, console
    messages, errors, custom events, identified traits and DOM changes
    leave the page with their secrets already replaced."""
    context = new_context(browser, "redact")
    bodies: list[str] = []

    def capture(request: Any) -> None:
        if EVENTS_PATH in request.url and request.method == "POST":
            bodies.append(decoded(request.post_data_buffer or b""))

    context.on("request", capture)
    try:
        page = context.new_page()
        page.goto(server.url + "/secrets")
        sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
        page.locator("#note").press_sequentially(f"key {AWS} ok")
        page.evaluate(
            f"""() => {{
              console.log('Authorization: Bearer {BEARER}', {{ apiKey: '{API_VALUE}' }});
              window.Sentiero.track('pay', {{ card: '{CARD}', note: 'api_key={API_VALUE}' }});
              window.Sentiero.identify('u1', {{ email: '{EMAIL}', iban: '{IBAN}' }});
              const later = document.getElementById('later');
              later.textContent = 'token {GITHUB}';
              later.setAttribute('title', '{SLACK}');
              setTimeout(() => {{ throw new Error('bad key {STRIPE} for {EMAIL}'); }});
            }}"""
        )
        page.wait_for_timeout(300)
        settle(page)
        wait_for(lambda: len(posts_from(server, "redact")) >= 1, what="a batch")
        wait_for(
            lambda: len(bodies) == len(posts_from(server, "redact")),
            what="every request seen in the page",
        )
        events = all_events(server, sid)
    finally:
        context.close()
    sent = "\n".join(bodies)
    for visible in VISIBLE:
        assert visible in sent, f"{visible!r} is missing: were the bodies read?"
    assert "[redacted]" in sent
    for secret in SECRETS:
        for escaped in {secret, json.dumps(secret)[1:-1]}:
            assert escaped not in sent, f"{secret!r} left the page"
    # and what the recorder sent is what was stored: every location arrived
    stored = json.dumps(events)
    kinds = {e["type"] for e in events}
    assert {2, 3, 4, 5, 6} <= kinds, kinds
    tags = {e["data"].get("tag") for e in events if e["type"] == 5}
    assert {"sentiero:custom", "sentiero:identify", "sentiero:error"} <= tags
    for secret in SECRETS:
        assert secret not in stored
