"""The plugin in a real app: its reports through the API (JSON and CSV),
its dashboard pages in the navigation, and its refusal of a store without
the aggregates capability."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sentiero_analytics import flush
from sentiero_analytics.collector import collect
from sentiero_analytics.settings import AnalyticsSettings

from sentiero_core import Settings, create_app
from sentiero_core.store import MemoryStore, StoreCapabilities
from sentiero_core.testing import T0, click, make_batch, meta

pytestmark = pytest.mark.asyncio

RANGE = "from=2023-11-01&to=2023-11-30"


@pytest_asyncio.fixture
async def client() -> AsyncIterator[Any]:
    store = MemoryStore()
    app = create_app(Settings(store_url="memory://"), store=store)
    async with app.test_app() as test_app:
        for sid, page in (("a", "/home"), ("b", "/home"), ("c", "/=cart")):
            batch = make_batch(sid, "w1", [meta(T0, "https://shop.example" + page)], seq=1)
            await store.append(batch)
            await collect(batch, store, AnalyticsSettings())
        more = make_batch("a", "w1", [click(T0 + 50, 10, 10)], seq=2)
        await store.append(more)
        await collect(more, store, AnalyticsSettings())
        # the serving app folds in the background, fold_interval later
        assert await store.aggregate("sessions@browser", 0, 100_000) == {}
        await flush(store)
        yield test_app.test_client()


async def test_reports_are_served_as_json(client: Any) -> None:
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}")
    assert response.status_code == 200
    rows = (await response.get_json())["report"]["rows"]
    assert rows[0] == {
        "page": "https://shop.example/home",
        "views": 2,
        "sessions": 2,
        "avg_time_ms": 25,
        "entries": 2,
        "exits": 2,
        "bounces": 2,
        "bounce_rate": 1.0,
    }
    listed = await (await client.get("/sentiero/api/analyzers")).get_json()
    assert {"pages", "heatmap", "funnels", "vitals"} <= {a["name"] for a in listed["analyzers"]}


async def test_reports_export_as_csv(client: Any) -> None:
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}&format=csv")
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(await response.get_data(as_text=True))))
    assert [(r["page"], r["views"]) for r in table] == [
        ("https://shop.example/home", "2"),
        ("https://shop.example/=cart", "1"),
    ]
    download = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}&download=1")
    assert "attachment" in download.headers["Content-Disposition"]


async def test_bad_filters_answer_400_naming_them(client: Any) -> None:
    response = await client.get("/sentiero/api/analyzers/pages?from=yesterday")
    assert response.status_code == 400
    assert "yesterday" in (await response.get_json())["error"]
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}&viewport=huge")
    assert "viewport must be one of" in (await response.get_json())["error"]
    response = await client.get(f"/sentiero/api/analyzers/funnels?{RANGE}")
    assert "steps" in (await response.get_json())["error"]
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}&format=xml")
    assert response.status_code == 400


async def test_segments_filter_every_report(client: Any) -> None:
    response = await client.get(f"/sentiero/api/analyzers/pages?{RANGE}&browser=firefox")
    assert (await response.get_json())["report"]["rows"] == []


async def test_the_dashboard_shows_the_analytics_pages(client: Any) -> None:
    page = await client.get(f"/sentiero/analytics/pages?{RANGE}")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert 'href="/sentiero/analytics/pages"' in html  # the navigation entry
    assert "https://shop.example/home" in html
    for name in ("heatmap", "funnels", "vitals", "errors"):
        assert f"/sentiero/analytics/{name}" in html
    missing = await client.get("/sentiero/analytics/nope")
    assert missing.status_code == 404


class NoAggregates(MemoryStore):
    name = "plain"
    capabilities = StoreCapabilities(aggregates=False)


async def test_a_store_without_aggregates_is_refused() -> None:
    app = create_app(Settings(store_url="memory://"), store=NoAggregates())
    # Quart reports a failed start-up as its LifespanError, with our message
    with pytest.raises(Exception, match="aggregates capability, and the plain store"):
        async with app.test_app():
            pass


@pytest.mark.parametrize(
    "setting", [{"fold_interval": -1}, {"sweep_interval": 100_000}, {"fold_interval": "soon"}]
)
async def test_bad_fold_settings_stop_start_up(setting: dict[str, Any]) -> None:
    name = next(iter(setting))
    with pytest.raises(Exception, match=f"analytics.{name}"):
        create_app(Settings(store_url="memory://", plugins={"analytics": setting}))


async def test_a_report_page_with_bad_filters_answers_400_with_the_form(client: Any) -> None:
    page = await client.get("/sentiero/analytics/funnels?from=2023-11-01&steps=/only<b>")
    assert page.status_code == 400
    html = await page.get_data(as_text=True)
    assert 'id="report-error"' in html and "steps needs at least two" in html
    assert 'value="/only&lt;b&gt;"' in html  # the form keeps what was typed, escaped
