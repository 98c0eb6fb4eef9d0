"""Third-party-style host pages for the real-world recording tests: a
single-page app, mutation storms, web components, frames, canvas, a large
DOM, strict Content-Security-Policies, pages that break globals or use
document.write. Each is served by the Sentiero app itself under /rw/<name>
and loads the recorder with one script tag, as a customer's site would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response, request

from sentiero_core import Settings, create_app

#: Recorded quickly in tests: the flush interval is short and the captures a
#: real site turns on are on, so each page also exercises them.
SITE_SETTINGS: dict[str, Any] = {
    "flush_interval_ms": 300,
    "capture_metadata": True,
    "capture_errors": True,
    "capture_console": True,
    "track_forms": True,
    "track_navigation": True,
}
NONCE = "rw-Nonce-7f3k"
RECORDER = '<script src="%ORIGIN%/sentiero/recorder.js"%NONCE_ATTR%></script>'

SPA = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home · Shop</title>
%RECORDER%
</head><body>
<nav>
  <a href="/rw/spa" data-route id="to-home">Home</a>
  <a href="/rw/spa/products" data-route id="to-products">Products</a>
  <a href="/rw/spa/products/7" data-route id="to-item">Item 7</a>
  <a href="#reviews" id="to-reviews">Reviews</a>
  <a href="/rw/spa/legacy" data-route id="to-legacy">Old link</a>
</nav>
<main id="view"></main>
<section id="reviews" style="margin-top: 1500px">Reviews</section>
<script>
  var TITLES = {"/rw/spa": "Home", "/rw/spa/products": "Products", "/rw/spa/products/7": "Item 7"};
  function render() {
    // a retired path: the router redirects at once
    if (location.pathname === "/rw/spa/legacy") history.replaceState({}, "", "/rw/spa/products/7");
    var name = TITLES[location.pathname] || "Not found";
    document.getElementById("view").textContent = "View: " + name;
    // frameworks set the title in an effect, after the URL changed
    setTimeout(function () { document.title = name + " · Shop"; }, 30);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-route]");
    if (!link) return;
    event.preventDefault();
    history.pushState({}, "", link.getAttribute("href"));
    render();
  });
  window.addEventListener("popstate", render);
  history.replaceState({booted: true}, "");  // routers do this: same URL, no page view
  render();
</script>
</body></html>
"""

# A router that redirects while the page loads (/rw/spa-boot -> .../home).
SPA_BOOT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Boot</title>
%RECORDER%
<script>history.replaceState({}, "", "/rw/spa-boot/home");</script>
</head><body><main>Home after the redirect</main></body></html>
"""

STORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Storm</title>
%RECORDER%
</head><body>
<h1>Live board</h1>
<p id="clock">0</p>
<div id="cells"></div>
<div id="board"></div>
<script>
  // thousands of nodes a second: the board is rebuilt every 10 ms
  function storm() {
    var board = document.getElementById("board");
    setInterval(function () {
      board.textContent = "";
      for (var i = 0; i < 400; i++) {
        var row = document.createElement("div");
        row.textContent = "row " + i + " " + Math.random();
        board.appendChild(row);
      }
    }, 10);
  }
  // one large render: past the warning, far below the limit
  function burst(n) {
    var board = document.getElementById("board");
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < n; i++) {
      var item = document.createElement("span");
      item.textContent = i;
      fragment.appendChild(item);
    }
    board.appendChild(fragment);
  }
  // a busy but ordinary page: 30 cells change 20 times a second
  function ticker(ms) {
    var cells = document.getElementById("cells");
    for (var i = 0; i < 30; i++) cells.appendChild(document.createElement("span"));
    var started = Date.now();
    var timer = setInterval(function () {
      for (var i = 0; i < cells.children.length; i++) {
        cells.children[i].textContent = String(Date.now() % 1000 + i);
      }
      if (Date.now() - started > ms) clearInterval(timer);
    }, 50);
  }
</script>
</body></html>
"""

COMPONENTS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Components</title>
%RECORDER%
<script>
  class XCard extends HTMLElement {
    constructor() {
      super();
      var root = this.attachShadow({mode: "open"});
      root.innerHTML = "<style>p { color: teal; }</style><p class='msg'>Shadow hello</p>";
    }
  }
  customElements.define("x-card", XCard);
</script>
</head><body>
<h1>Components</h1>
<x-card id="card"></x-card>
<dialog id="dialog"><p>Dialog body text</p><button id="close" type="button">Close</button></dialog>
<button id="open" type="button">Open dialog</button>
<canvas id="chart" width="120" height="60"></canvas>
<iframe id="child" src="/rw/frame-child" title="child"></iframe>
<iframe id="inline" srcdoc="<p>Inline frame text</p>" title="inline"></iframe>
<script>
  var ctx = document.getElementById("chart").getContext("2d");
  ctx.fillStyle = "#c33";
  ctx.fillRect(10, 10, 80, 30);
  document.getElementById("open").addEventListener("click", function () {
    document.getElementById("dialog").showModal();
  });
  document.getElementById("close").addEventListener("click", function () {
    document.getElementById("dialog").close();
  });
  function later() {
    document.getElementById("card").shadowRoot.querySelector(".msg").textContent = "Shadow updated";
    class XBadge extends HTMLElement {
      connectedCallback() {
        this.attachShadow({mode: "open"}).innerHTML = "<b>Badge inside</b>";
      }
    }
    customElements.define("x-badge", XBadge);
    document.body.appendChild(document.createElement("x-badge"));
    ctx.fillStyle = "#33c";
    ctx.fillRect(50, 20, 40, 30);
    var child = document.getElementById("child").contentDocument;
    child.getElementById("child-text").textContent = "Child frame changed";
  }
</script>
</body></html>
"""

# The same site's page, framed by COMPONENTS: it carries the script tag too.
FRAME_CHILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Child</title>
%RECORDER%
</head><body><p id="child-text">Child frame text</p></body></html>
"""

# A page of 20,000 elements, rendered by the server like a long report.
BIG_ROWS = 5_000
BIG = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Big report</title>
%RECORDER%
</head><body><h1>Report</h1><table id="report">"""
    + "".join(
        f"<tr><td>{n}</td><td>item {n}</td><td>{n * 7 % 1000}</td></tr>" for n in range(BIG_ROWS)
    )
    + """</table><p id="end">End of report</p></body></html>"""
)

# A long log page: %CHARS% characters of text (hidden: laying it out would
# take Chromium seconds), written before the recorder takes its snapshot (so
# they are in it, not a mutation).
LOG = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log</title>
%RECORDER%
</head><body><h1>Build log</h1><pre id="log" hidden></pre>
<script>
  document.getElementById("log").textContent = "build step ok\\n".repeat(%CHARS% / 14);
</script>
</body></html>
"""

# Strict CSP: only nonced scripts (plus the Sentiero origin), no eval, no
# inline handlers, Trusted Types required, nothing but our origin to connect.
STRICT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strict</title>
%RECORDER%
<style nonce="%NONCE%">h1 { color: navy; }</style>
</head><body>
<h1>Strict page</h1>
<button id="go" type="button">Go</button>
<p id="out"></p>
<script nonce="%NONCE%">
  document.getElementById("go").addEventListener("click", function () {
    document.getElementById("out").textContent = "clicked under CSP";
  });
</script>
</body></html>
"""
STRICT_CSP = (
    "default-src 'none'; script-src 'nonce-%NONCE%' %ORIGIN%; style-src 'nonce-%NONCE%'; "
    "connect-src %CONNECT%; img-src 'self'; frame-src 'self'; base-uri 'none'; "
    "object-src 'none'; require-trusted-types-for 'script'"
)

# A page whose own scripts ran before ours and broke what we rely on.
GLOBALS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Globals</title>
<script>
  window.fetch = null;
  // Prototype.js style: arrays serialise as strings
  Array.prototype.toJSON = function () { return "array of " + this.length; };
  JSON.stringify = function () { return '"stringify was replaced"'; };
  // a bare-bones Promise polyfill that replaced the native one
  window.Promise = function MiniPromise(executor) {
    var self = this; self.callbacks = [];
    executor(function (v) {
      setTimeout(function () { self.callbacks.forEach(function (cb) { cb(v); }); }, 0);
    }, function () {});
  };
  window.Promise.prototype.then = function (cb) { this.callbacks.push(cb); return this; };
  window.Promise.resolve = function (v) { return new window.Promise(function (r) { r(v); }); };
</script>
%RECORDER%
</head><body>
<h1>Broken globals</h1>
<ul id="list"><li>one</li><li>two</li></ul>
<button id="add" type="button">Add</button>
<script>
  document.getElementById("add").addEventListener("click", function () {
    var li = document.createElement("li");
    li.textContent = "added item";
    document.getElementById("list").appendChild(li);
  });
</script>
</body></html>
"""

DOC_WRITE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Written</title>
%RECORDER%
<script>document.write("<meta name='written-in-head' content='1'>");</script>
</head><body>
<h1>Legacy page</h1>
<script>
  document.write("<p id='written'>Written by document.write</p>");
  var nested = "<p id='nested'>Nested write</p>";
  document.write("<scr" + "ipt>document.write(" + JSON.stringify(nested) + ")</scr" + "ipt>");
</script>
<p id="after">After the writes</p>
<script>
  // the classic foot-gun: document.write after load replaces the whole page
  function rewrite() {
    setTimeout(function () {
      document.write("<!doctype html><html><head><title>Rewritten</title></head><body>"
        + "<p id='fresh'>A fresh document</p><button id='fresh-button'>Fresh</button>"
        + "</body></html>");
      document.close();
    }, 0);
  }
</script>
</body></html>
"""

# The top page is on another origin and has no recorder: only the framed page records.
EMBED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Embedder</title></head>
<body><h1>A partner site</h1>
<iframe id="embedded" src="%ORIGIN%/rw/embedded" width="600" height="300" title="widget"></iframe>
</body></html>
"""
EMBEDDED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget</title>
%RECORDER%
</head><body><p id="widget">Embedded widget text</p>
<button id="press" type="button">Press</button></body></html>
"""


@dataclass
class PageSpec:
    html: str
    #: the Content-Security-Policy header, if any
    csp: str | None = None
    #: where the page's recorder.js comes from: "" (same origin) or an origin
    script_origin: str = ""
    #: the script tag carries the page's nonce
    nonce: bool = False
    #: more %NAME% tokens to fill in, in the page and its CSP
    tokens: dict[str, str] = field(default_factory=dict)


def fill(text: str, spec: PageSpec) -> str:
    """Fill the %TOKENS% of a page or policy (no str.format: pages are full of braces)."""
    tokens = {
        "%RECORDER%": RECORDER,
        "%NONCE_ATTR%": f' nonce="{NONCE}"' if spec.nonce else "",
        "%NONCE%": NONCE,
        "%ORIGIN%": spec.script_origin,
        **{f"%{k}%": v for k, v in spec.tokens.items()},
    }
    for token, value in tokens.items():
        text = text.replace(token, value)
    return text


def build_app(pages: dict[str, PageSpec], **settings: Any) -> Quart:
    """The Sentiero app (memory store) serving ``pages`` at /rw/<name>;
    ``settings`` override :data:`SITE_SETTINGS`."""
    app = create_app(Settings(store_url="memory://", **{**SITE_SETTINGS, **settings}))

    def serve(name: str) -> Callable[..., Any]:
        async def view(rest: str = "") -> Response:
            spec = pages[name]
            response = Response(fill(spec.html, spec), content_type="text/html; charset=utf-8")
            if spec.csp:
                response.headers["Content-Security-Policy"] = fill(spec.csp, spec)
            return response

        return view

    for name in pages:
        app.add_url_rule(f"/rw/{name}", f"rw_{name}", serve(name), methods=["GET"])
        # deep links of the single-page app are served the same document
        app.add_url_rule(f"/rw/{name}/<path:rest>", f"rw_{name}_deep", serve(name))

    @app.route("/favicon.ico")
    async def _favicon() -> Response:
        return Response(b"", status=204)

    @app.after_request
    async def _no_cache(response: Response) -> Response:
        if request.path.startswith("/rw/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
