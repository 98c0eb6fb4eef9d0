"""sentiero-analytics on the Redis store, end to end: two apps (two app
servers) sharing one Redis ingest the same visits over HTTP, batches split
between them and some delivered to both; once folded, every report equals
the reports of one app on the memory store that got each batch once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import orjson
import pytest
from sentiero_analytics import REPORTS, flush

from sentiero_core import Settings, create_app, parse_filters
from sentiero_core.store import Store
from sentiero_core.testing import T0, click, custom, error, meta

pytestmark = pytest.mark.asyncio

UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "Version/17.0 Safari/605.1.15"
)
RANGE = {"from": "2023-11-01", "to": "2023-11-30"}


def _envelopes() -> list[dict[str, Any]]:
    """Visits of a few pages each: a page view per batch, clicks, an error
    now and then, a custom event."""
    rng = random.Random(21)
    site = ["https://shop.example/", "https://shop.example/list", "https://shop.example/cart"]
    out = []
    for i in range(6):
        t = T0 + i * 60_000
        for seq in range(1, rng.randint(2, 5)):
            events = [meta(t, rng.choice(site))]
            events += [click(t + 100 + n * 300, 20 * n, 40, node_id=n) for n in range(3)]
            if rng.random() < 0.4:
                events.append(error(t + 900, "TypeError: boom"))
            events.append(custom(t + 950, "sentiero:custom", {"name": "added_to_cart"}))
            out.append(
                {"v": 1, "session_id": f"visit-{i:04d}", "window_id": "window-1", "seq": seq}
                | {"sent_at": t + 1_000, "dropped": 0, "events": events}
            )
            t += 4_000 + rng.randint(0, 2_000)
    return out


async def _post(client: Any, envelope: dict[str, Any]) -> None:
    response = await client.post(
        "/sentiero/events",
        data=orjson.dumps(envelope),
        headers={"Content-Type": "application/json", "User-Agent": UA},
    )
    assert response.status_code == 204, await response.get_data(as_text=True)


async def _reports(store: Store) -> dict[str, Any]:
    out = {}
    for report in REPORTS:
        params = dict(RANGE)
        if report.name == "funnels":
            params["steps"] = "/list,/cart"
        if report.name == "heatmap":
            params["page"] = "https://shop.example/"
        out[report.name] = await report.analyze(store, parse_filters(params), None)
    # A funnel's dropped sessions come from the summaries' pages in
    # first-seen order, which is the order batches arrived in: not a total.
    out["funnels"] = out["funnels"]["rows"]
    return out


async def test_analytics_on_two_app_servers_sharing_redis_gives_exact_reports(
    redis_url: str, prefix: str
) -> None:
    envelopes = _envelopes()
    reference = create_app(Settings(store_url="memory://"))
    async with reference.test_app() as running:
        client = running.test_client()
        for envelope in envelopes:
            await _post(client, envelope)
        reference_store = reference.extensions["sentiero"].store
        await flush(reference_store)
        want = await _reports(reference_store)

    settings = Settings(store_url=redis_url, plugins={"store_redis": {"key_prefix": prefix}})
    one, two = create_app(settings), create_app(settings)
    async with one.test_app() as first, two.test_app() as second:
        clients = [first.test_client(), second.test_client()]
        deliveries = [(clients[n % 2], e) for n, e in enumerate(envelopes)]
        deliveries += [(clients[(n + 1) % 2], e) for n, e in enumerate(envelopes) if n % 3 == 0]
        random.Random(4).shuffle(deliveries)
        await asyncio.gather(*(_post(c, e) for c, e in deliveries))
        # one app folds what both left pending (the other's by its sweep)
        await flush(one.extensions["sentiero"].store)
        other = two.extensions["sentiero"].store
        assert await _reports(other) == want

        response = await clients[1].get(
            "/sentiero/api/analyzers/pages?from=2023-11-01&to=2023-11-30"
        )
        rows = (await response.get_json())["report"]["rows"]
        views = sum(r["views"] for r in rows)
        assert views == len(envelopes)  # a page view per batch, each counted once
        assert {r["page"] for r in rows} <= {
            "https://shop.example/",
            "https://shop.example/list",
            "https://shop.example/cart",
        }

        # a visit deleted through one app server leaves the reports of the other
        assert await other.delete_sessions(["visit-0000"]) == 1
        left = await _reports(other)
        response = await clients[0].get(
            "/sentiero/api/analyzers/pages?from=2023-11-01&to=2023-11-30"
        )
        rows = (await response.get_json())["report"]["rows"]
        gone = sum(1 for e in envelopes if e["session_id"] == "visit-0000")
        assert sum(r["views"] for r in rows) == len(envelopes) - gone
        assert left != want
