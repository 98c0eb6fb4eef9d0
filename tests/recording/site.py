"""A tiny host site for the recording tests: the Sentiero app plus a few
pages that load the recorder with one script tag, as a customer's site would."""

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
HIDDEN_TOKEN = "csrf-Token-Qw93"
MASKED_TEXT = "private-Note-Vb28"
UNMASKED_TEXT = "public-Note-Hy63"
BLOCKED_TEXT = "blocked-Note-Pp11"

# A host page's own policy: its inline handlers run, and the Sentiero server
# (when on another origin) is allowed to serve scripts and receive batches.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' {origin}; "
    "connect-src 'self' {origin}; style-src 'self' 'unsafe-inline'"
)

HOME = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="/sentiero/recorder.js"></script>
<style>.tall {{ height: 3000px; }}</style>
</head><body>
<h1>Test shop</h1>
<p id="contact">Questions? Write to {EMAIL} any time.</p>
<p data-rr-mask>{MASKED_TEXT}</p>
<div data-rr-mask><span data-sentiero-unmask>{UNMASKED_TEXT}</span></div>
<div data-rr-block>{BLOCKED_TEXT}</div>
<form id="signup" name="signup" action="/second" method="post">
  <label>Password <input id="password" name="password" type="password"></label>
  <label>Card holder <input id="holder" name="holder" type="text"></label>
  <label>Search <input id="search" name="search" type="text" data-sentiero-unmask></label>
  <input type="hidden" name="csrf" value="{HIDDEN_TOKEN}">
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
<script src="/sentiero/recorder.js" defer></script>
</head><body>
<h1>Thanks</h1>
<button id="boom" type="button" onclick="throw new Error('{ERROR_MESSAGE}')">Break</button>
</body></html>
"""


# Inputs for the masking rules when the operator turns mask_all_inputs off.
FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form</title>
<script src="/sentiero/recorder.js"></script>
</head><body>
<input id="plain" type="text">
<div data-sentiero-unmask>
  <input id="section-password" type="password">
  <input id="one-time" type="text" autocomplete="one-time-code">
</div>
</body></html>
"""

# The recorder loaded from another origin (the app on 127.0.0.1 while the
# page is on localhost); {origin} is filled in by build_site.
ELSEWHERE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Elsewhere</title>
<script src="{origin}/sentiero/recorder.js"></script>
</head><body><h1>A page on another origin</h1></body></html>
"""

E2E_SETTINGS: dict[str, Any] = {
    "flush_interval_ms": 400,
    "capture_metadata": True,
    "capture_errors": True,
    "track_navigation": True,
    "track_forms": True,
    "capture_web_vitals": True,
    "track_custom_events": True,
    "capture_console": True,
    "user_opt_out": True,
}


def _page(html: str, script_origin: str) -> Response:
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = PAGE_CSP.format(origin=script_origin).replace(
        "  ", " "
    )
    return response


#: every request that reached the events endpoint: user_agent, method, status,
#: content_type, encoding (header or query)
EventLog = list[dict[str, Any]]


def event_log(app: Quart) -> EventLog:
    return app.config["SITE_EVENT_LOG"]  # type: ignore[no-any-return]


def build_site(db_path: Path | None = None, script_origin: str = "", **settings: Any) -> Quart:
    """The app with the site's pages; a SQLite store at ``db_path`` or in memory.
    ``settings`` override :data:`E2E_SETTINGS`."""
    store_url = f"sqlite:///{db_path}" if db_path is not None else "memory://"
    app = create_app(Settings(store_url=store_url, **{**E2E_SETTINGS, **settings}))
    pages = {
        "home": HOME,
        "second": SECOND,
        "form": FORM,
        "elsewhere": ELSEWHERE.format(origin=script_origin),
    }

    def serve(name: str) -> Any:
        async def view() -> Response:
            return _page(pages[name], script_origin)

        return view

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

    app.add_url_rule("/", "site_home", serve("home"), methods=["GET"])
    app.add_url_rule("/second", "site_second", serve("second"), methods=["GET", "POST"])
    app.add_url_rule("/form", "site_form", serve("form"), methods=["GET"])
    app.add_url_rule("/elsewhere", "site_elsewhere", serve("elsewhere"), methods=["GET"])
    return app
