"""A tiny host site for the recording proof: the Sentiero app plus two pages
that load the recorder with one script tag, as a customer's site would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quart import Quart, Response, request

from sentiero_core import Settings, create_app

PASSWORD = "Hunter2-Pw-Zq81"
MASKED_VALUE = "holder-Value-Kx57"
UNMASKED_VALUE = "search-Value-Jm42"
EMAIL = "alice.secret@example.com"
ERROR_MESSAGE = "boom from the test page"

# A host page's own policy: its inline handlers run, the recorder is same-origin.
PAGE_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"

HOME = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="/sentiero/recorder.js"></script>
<style>.tall {{ height: 3000px; }}</style>
</head><body>
<h1>Test shop</h1>
<p id="contact">Questions? Write to {EMAIL} any time.</p>
<form id="signup" name="signup" action="/second" method="post">
  <label>Password <input id="password" name="password" type="password"></label>
  <label>Card holder <input id="holder" name="holder" type="text"></label>
  <label>Search <input id="search" name="search" type="text" data-sentiero-unmask></label>
  <button id="submit" type="submit">Sign up</button>
</form>
<button id="buy" type="button" data-sentiero-track-click="buy"
        data-sentiero-track-prop-plan="pro">Buy</button>
<p id="counter">clicked 0 times</p>
<a id="outbound" href="https://docs.example.org/guide">Read the guide</a>
<div class="tall"></div>
<script>
  var clicks = 0;
  document.getElementById("buy").addEventListener("click", function () {{
    clicks += 1;
    document.getElementById("counter").textContent = "clicked " + clicks + " times";
  }});
  document.getElementById("outbound").addEventListener("click", function (event) {{
    event.preventDefault();
  }});
</script>
</body></html>
"""

SECOND = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Second page</title>
<script src="/sentiero/recorder.js"></script>
</head><body>
<h1>Thanks</h1>
<button id="boom" type="button" onclick="throw new Error('{ERROR_MESSAGE}')">Break</button>
</body></html>
"""


def _page(html: str) -> Response:
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


#: every request that reached the events endpoint: user_agent, method, status,
#: content_type, encoding (header or query)
EventLog = list[dict[str, Any]]


def event_log(app: Quart) -> EventLog:
    return app.config["SITE_EVENT_LOG"]  # type: ignore[no-any-return]


def build_site(db_path: Path) -> Quart:
    settings = Settings(
        store_url=f"sqlite:///{db_path}",
        flush_interval_ms=400,
        capture_metadata=True,
        capture_errors=True,
        track_navigation=True,
        track_forms=True,
        capture_web_vitals=True,
        track_custom_events=True,
        capture_console=True,
        user_opt_out=True,
    )
    app = create_app(settings)

    async def home() -> Response:
        return _page(HOME)

    async def second() -> Response:
        return _page(SECOND)

    log: EventLog = []
    app.config["SITE_EVENT_LOG"] = log

    # Seen by the server, so it also counts beacons, which Playwright's
    # request events do not report.
    @app.after_request
    async def _log_events(response: Response) -> Response:
        if request.path == "/sentiero/events":
            log.append(
                {
                    "user_agent": request.headers.get("User-Agent", ""),
                    "method": request.method,
                    "status": response.status_code,
                    "content_type": request.mimetype,
                    "encoding": request.headers.get("Content-Encoding")
                    or request.args.get("encoding"),
                }
            )
        return response

    app.add_url_rule("/", "site_home", home, methods=["GET"])
    app.add_url_rule("/second", "site_second", second, methods=["GET", "POST"])
    return app
