"""A third party packages the analyzer of docs/writing-an-analyzer.md: a
collector, an analyzer and a panel reached through entry points.

The guide's plugin and ``pyproject.toml`` are built into a wheel, installed
beside ``sentiero-core`` in a fresh virtual environment, and an app there
records batches through the real ingest endpoint (shuffled and repeated);
its panel must be in the navigation and its numbers right.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

from tests.platform.test_third_party_store import clean_env
from tests.support.wheels import build_wheel, make_venv

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs/writing-an-analyzer.md"

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, random
    from sentiero_core import Settings, create_app

    T0 = 1_700_000_000_000

    def track(ts, name):
        return {"type": 5, "timestamp": ts,
                "data": {"tag": "sentiero:custom", "payload": {"name": name}}}

    def envelope(session, seq, events):
        return {"v": 1, "session_id": session, "window_id": "window-one", "seq": seq,
                "sent_at": T0, "dropped": 0, "events": events}

    async def main():
        app = create_app(Settings(store_url="memory://"))
        out = {}
        async with app.test_app() as test_app:
            client = test_app.test_client()
            batches = []
            for s in range(3):
                session = f"session-number-{s}"
                batches.append(envelope(session, 1, [
                    {"type": 4, "timestamp": T0, "data": {"href": "https://x.example/",
                     "width": 1280, "height": 720}},
                    track(T0 + 1, "signup")]))
                batches.append(envelope(session, 2, [track(T0 + 2, "search"),
                                                     track(T0 + 3, "search")]))
            deliveries = batches + batches[:3]  # some delivered twice
            random.Random(1).shuffle(deliveries)
            for doc in deliveries:
                r = await client.post("/sentiero/events", json=doc)
                assert r.status_code in (200, 202, 204), (r.status_code, await r.get_data())
            q = "from=2023-11-01&to=2023-11-30"
            r = await client.get(f"/sentiero/api/analyzers/custom-counts?{q}")
            out["report"] = (await r.get_json())["report"]
            r = await client.get(f"/sentiero/api/analyzers/custom-counts?{q}&browser=nope")
            out["filtered"] = (await r.get_json())["report"]
            out["home"] = await (await client.get("/sentiero/")).get_data(as_text=True)
            out["panel"] = await (await client.get(f"/sentiero/custom-counts?{q}")).get_data(
                as_text=True)
            r = await client.get("/sentiero/custom-counts?from=garbage<b>")
            out["bad_page"] = [r.status_code, await r.get_data(as_text=True)]
        from sentiero_core.store import MemoryStore, StoreCapabilities

        class Plain(MemoryStore):
            capabilities = StoreCapabilities()

        app = create_app(Settings(store_url="memory://"), store=Plain())
        async with app.test_app() as test_app:
            client = test_app.test_client()
            r = await client.get("/sentiero/api/analyzers/custom-counts")
            out["no_aggregates"] = [r.status_code, await r.get_json()]
            r = await client.get("/sentiero/custom-counts")
            out["no_aggregates_page"] = [r.status_code, await r.get_data(as_text=True)]
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def guide_distribution(where: Path) -> Path:
    text = GUIDE.read_text()
    blocks = re.findall(r"^```(\w+)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    for lang, body in blocks:
        if lang == "python" and body.startswith("# tinyreport/__init__.py"):
            (where / "tinyreport").mkdir(parents=True)
            (where / "tinyreport/__init__.py").write_text(body)
        elif lang == "toml" and 'name = "tinyreport"' in body:
            (where / "pyproject.toml").write_text(body)
    assert (where / "pyproject.toml").exists() and (where / "tinyreport").exists()
    return where


def test_the_guides_analyzer_works_installed(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    core = build_wheel(ROOT, wheels)
    tiny = build_wheel(guide_distribution(tmp_path / "tinyreport-src"), wheels)
    python = make_venv(tmp_path / "venv", core, tiny)
    run = subprocess.run(
        [str(python), "-c", SCRIPT],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["report"]["rows"] == [
        {"event": "search", "count": 6},
        {"event": "signup", "count": 3},
    ]
    assert out["filtered"]["rows"] == []
    assert 'href="/sentiero/custom-counts"' in out["home"]
    assert "Custom events" in out["home"]
    assert "search: <b>6</b>" in out["panel"] and "signup: <b>3</b>" in out["panel"]
    # the guide's page does not catch run_report's errors: the core answers
    status, page = out["bad_page"]
    assert status == 400 and "garbage&lt;b&gt;" in page and "garbage<b>" not in page
    status, body = out["no_aggregates"]
    assert status == 501 and "aggregates capability" in body["error"], body
    status, page = out["no_aggregates_page"]
    assert status == 501 and "store does not keep aggregates" in page
