"""The batches the real recorder sends for large pages, measured in Chromium.

Two pages are served over loopback HTTP by Sentiero's own app (memory
store) and recorded by the committed recorder bundle in Debian's Chromium:

- ``docs``: a long documentation page built like the Python docs' largest
  (library/stdtypes): a sidebar of links, hundreds of sections with
  paragraphs, inline code and links, syntax-highlighted code blocks (a span
  per token), tables;
- ``spa``: a single-page app that renders a large DOM from script (a
  data grid with nested cells, badges, inline SVG icons and CSS-in-JS style
  rules), then changes route twice, each a large mutation just under the
  recorder's mutation_limit, while the
  visitor moves, scrolls and types.

Every POST the recorder makes is read back from the browser (its body
inflated), and the figures that size the ingest limits are printed: the
largest batch carrying a full snapshot, the largest batch without one, the
largest single incremental event, and the most events in one batch.

Usage: python bench/batch_sizes.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _results import Figure, write_results  # noqa: E402
from quart import Response  # noqa: E402

from sentiero_core import Settings, create_app  # noqa: E402
from tests.support.browser import launch  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402

WORDS_TEXT = (
    "the object returned by this method is a new view of the mapping and its keys "
    "values items may be compared for equality when the other operand is a set"
)
WORDS = WORDS_TEXT.split()


def sentence(n: int, k: int) -> str:
    return " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(k))


def code_block(n: int, lines: int) -> str:
    rows = []
    for i in range(lines):
        rows.append(
            f'<span class="gp">&gt;&gt;&gt; </span><span class="n">value_{i}</span> '
            f'<span class="o">=</span> <span class="nb">dict</span><span class="p">(</span>'
            f'<span class="n">a</span><span class="o">=</span><span class="mi">{n + i}</span>'
            f'<span class="p">)</span>'
        )
    return '<div class="highlight"><pre>' + "\n".join(rows) + "</pre></div>"


def docs_page(sections: int) -> str:
    toc = "".join(
        f'<li class="toctree-l2"><a class="reference internal" href="#s{n}">'
        f"<code>method_{n}()</code></a></li>"
        for n in range(sections)
    )
    body = []
    for n in range(sections):
        paragraphs = "".join(
            f"<p>{sentence(n + p, 24)} <code class='docutils literal'>obj.attr_{p}</code> "
            f'<a class="reference internal" href="#s{(n + p) % sections}">see also</a> '
            f"{sentence(n + p + 1, 18)}.</p>"
            for p in range(3)
        )
        table = (
            "<table class='docutils'><thead><tr><th>Operation</th><th>Result</th></tr></thead>"
            "<tbody>"
            + "".join(
                f"<tr><td><code>x.op_{r}(y)</code></td><td>{sentence(r, 8)}</td></tr>"
                for r in range(4)
            )
            + "</tbody></table>"
            if n % 3 == 0
            else ""
        )
        body.append(
            f'<section id="s{n}"><h2>method_{n}()<a class="headerlink" href="#s{n}">¶</a></h2>'
            f'<dl class="py method"><dt class="sig"><span class="sig-name">method_{n}</span>'
            f'<span class="sig-paren">(</span><em class="sig-param">key</em>'
            f'<span class="sig-paren">)</span></dt><dd>{paragraphs}{code_block(n, 6)}{table}'
            f"</dd></dl></section>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Built-in Types</title>'
        '<script src="/sentiero/recorder.js"></script>'
        "<style>body{font-family:sans-serif}.highlight{background:#eef}</style></head><body>"
        f'<nav class="sphinxsidebar"><ul>{toc}</ul></nav>'
        f'<div class="body" role="main"><h1>Built-in Types</h1>{"".join(body)}</div>'
        "</body></html>"
    )


SPA = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console</title>
<script src="/sentiero/recorder.js"></script></head><body><div id="app"></div>
<input id="search" placeholder="Search">
<script>
const ROWS = %ROWS%;
const sheet = document.createElement("style");
document.head.appendChild(sheet);
let rule = 0;
function cls(css) {  // CSS-in-JS: one generated class per style, rules inserted
  const name = "css-" + (rule++).toString(36);
  sheet.sheet.insertRule("." + name + "{" + css + "}", sheet.sheet.cssRules.length);
  return name;
}
const icon = '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">' +
  '<path d="M12 2L2 7l10 5 10-5-10-5zm0 7.5L4.5 6 12 2.5 19.5 6 12 9.5z"/></svg>';
function grid(route, count) {
  const rows = [];
  for (let r = 0; r < count; r++) {
    const cells = [];
    for (let c = 0; c < 8; c++) {
      cells.push('<div role="gridcell" class="' + cls("padding:" + (c % 4) + "px") +
        '" data-col="' + c + '"><span class="badge">' + icon + route + " " + r + "." + c +
        '</span></div>');
    }
    rows.push('<div role="row" class="row" data-row-id="' + route + "-" + r +
      '" aria-rowindex="' + r + '">' + cells.join("") + "</div>");
  }
  return '<header><h1>' + route + '</h1><nav>' +
    ["Overview", "Users", "Billing", "Settings"].map(
      (x) => '<a href="/' + x.toLowerCase() + '" class="nav">' + icon + x + "</a>").join("") +
    '</nav></header><main role="grid">' + rows.join("") + "</main>";
}
function render(route, rows) { document.getElementById("app").innerHTML = grid(route, rows); }
render("overview", ROWS);
// a route change stays under the recorder's mutation_limit (10,000 nodes)
window.go = function (route) { history.pushState({}, "", "/spa/" + route); render(route, 200); };
</script></body></html>
"""


def build(scale: float) -> Any:
    app = create_app(Settings(store_url="memory://"))
    pages = {
        "docs": docs_page(int(400 * scale)),
        "spa": SPA.replace("%ROWS%", str(int(1500 * scale))),
    }

    def view(name: str) -> Any:
        async def handler(rest: str = "") -> Response:
            return Response(pages[name], content_type="text/html; charset=utf-8")

        return handler

    for name in pages:
        app.add_url_rule(f"/{name}", f"page_{name}", view(name))
        app.add_url_rule(f"/{name}/<path:rest>", f"page_{name}_deep", view(name))
    return app, {name: len(html.encode()) for name, html in pages.items()}


def measure(browser: Any, url: str, act: Any) -> list[dict[str, Any]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    posts: list[dict[str, Any]] = []

    def on_request(request: Any) -> None:
        if request.method != "POST" or not request.url.split("?")[0].endswith("/events"):
            return
        raw = request.post_data_buffer or b""
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        doc = json.loads(data)
        sizes = [
            len(json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode())
            for e in doc["events"]
        ]
        posts.append(
            {
                "raw": len(raw),
                "decoded": len(data),
                "events": len(doc["events"]),
                "snapshot": any(e["type"] == 2 for e in doc["events"]),
                # what the ingest weighs: bytes, and 16 per JSON object and array
                "weight": len(data) + 16 * (data.count(b"{") + data.count(b"[")),
                "largest_incremental": max(
                    (s for s, e in zip(sizes, doc["events"], strict=True) if e["type"] != 2),
                    default=0,
                ),
            }
        )

    page.on("request", on_request)
    page.goto(url)
    page.wait_for_function("window.Sentiero && window.Sentiero.sessionId", timeout=30_000)
    act(page)
    page.evaluate("window.Sentiero.flush()")
    page.wait_for_timeout(1500)
    context.close()
    return posts


def act_docs(page: Any) -> None:
    for y in range(0, 20000, 2000):
        page.mouse.move(200 + y % 300, 300)
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(60)


def act_spa(page: Any) -> None:
    page.fill("#search", "billing overdue accounts")
    for k in range(200):
        page.mouse.move(100 + k * 3, 200 + k % 50)
    page.evaluate("window.go('users'); 0")
    page.wait_for_timeout(300)
    page.mouse.wheel(0, 3000)
    page.evaluate("window.go('billing'); 0")
    page.wait_for_timeout(300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    app, html_sizes = build(args.scale)
    results: dict[str, list[dict[str, Any]]] = {}
    with LiveServer(app) as live, sync_playwright() as p:
        browser = launch(p)
        try:
            results["docs"] = measure(browser, live.url + "/docs", act_docs)
            results["spa"] = measure(browser, live.url + "/spa", act_spa)
        finally:
            browser.close()
    mib = 1024 * 1024
    figures: list[Figure] = []
    print(
        f"{'page':6s} {'HTML':>9s} {'batches':>7s} {'snapshot batch':>15s} "
        f"{'other batch':>12s} {'largest incr. event':>20s} {'most events':>11s}"
    )
    for name, posts in results.items():
        snap = max((p["decoded"] for p in posts if p["snapshot"]), default=0)
        other = max((p["decoded"] for p in posts if not p["snapshot"]), default=0)
        print(
            f"{name:6s} {html_sizes[name] / mib:7.2f}MB {len(posts):7d} "
            f"{snap / mib:13.2f}MB {other / mib:10.2f}MB "
            f"{max(p['largest_incremental'] for p in posts) / mib:18.2f}MB "
            f"{max(p['events'] for p in posts):11d}"
        )
        figures.append(
            Figure(
                f"largest batch with a snapshot, {name} page (MB)",
                round(snap / mib, 2),
                f"{snap / mib:.2f} (other batches {other / mib:.2f})",
            )
        )
        snap_raw = max((p["raw"] for p in posts if p["snapshot"]), default=0)
        snap_weight = max((p["weight"] for p in posts if p["snapshot"]), default=0)
        other_weight = max((p["weight"] for p in posts if not p["snapshot"]), default=0)
        print(
            f"       snapshot batch on the wire: {snap_raw / 1024:.0f} KiB; weight of the "
            f"largest snapshot batch {snap_weight / mib:.2f} MB, of the largest other "
            f"{other_weight / mib:.2f} MB (bytes + 16 per JSON object and array)"
        )

    write_results("batch_sizes", figures)


if __name__ == "__main__":
    main()
