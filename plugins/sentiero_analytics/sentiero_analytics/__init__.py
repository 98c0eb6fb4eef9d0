"""sentiero-analytics: cross-session reports aggregated at ingest.

A collector (``collect_batch``) merges every stored batch's facts into
its session, and a background task folds each changed session into
aggregate rows the store keeps (the store's aggregates capability); the
analyzers (``register_analyzers``) read them back for a date range and
segments; the dashboard shows each report at ``<mount>/analytics/<name>``.
docs/analytics.md is the guide.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sentiero_core import SEGMENTS, Panel, Route, Settings, get_state, hookimpl, render, run_report
from sentiero_core.store import Batch, Store

from .collector import collect
from .folding import flush, start_folding, stop_folding
from .reports import REPORTS, Report
from .settings import AnalyticsSettings
from .snapshot import snapshot_view

__all__ = ["REPORTS", "AnalyticsSettings", "Report", "flush", "require_aggregates"]


def require_aggregates(store: Store) -> None:
    """Refuse a store without the aggregates capability, naming it."""
    if not getattr(store.capabilities, "aggregates", False):
        raise RuntimeError(
            f"sentiero-analytics needs a store with the aggregates capability, and the "
            f"{store.name} store ({type(store).__name__}) does not declare it "
            "(StoreCapabilities(aggregates=True)): use the memory, sqlite, file, mongodb or redis "
            "store, or uninstall sentiero-analytics"
        )


def _settings(settings: Settings) -> AnalyticsSettings:
    found = settings.plugin("analytics")
    return found if isinstance(found, AnalyticsSettings) else AnalyticsSettings()


@hookimpl
def register_settings() -> dict[str, type]:
    return {"analytics": AnalyticsSettings}


@hookimpl
def startup(store: Store, settings: Settings) -> None:
    require_aggregates(store)
    start_folding(store, _settings(settings))


@hookimpl
def shutdown(store: Store) -> Any:
    return stop_folding(store)


@hookimpl
def collect_batch(batch: Batch, store: Store, settings: Settings) -> Any:
    if not getattr(store.capabilities, "aggregates", False):
        return None
    return collect(batch, store, _settings(settings))


@hookimpl
def register_analyzers() -> list[Report]:
    return list(REPORTS)


@hookimpl
def dashboard_panels() -> list[Panel]:
    return [Panel(name="analytics", title="Analytics", path="/analytics/pages", order=40)]


async def report_page(name: str) -> Any:
    from quart import request

    report = next((r for r in REPORTS if r.name == name), None)
    if report is None:
        return "no such report", 404
    params = {k: v for k, v in request.args.items() if v != ""}
    error = None
    result: dict[str, Any] = {}
    try:
        result = await run_report(get_state().analyzers[name], params)
    except ValueError as exc:
        error = str(exc)
    chart = None
    daily = result.get("rows") if name in ("engagement", "pages") else None
    if daily and isinstance(daily, list) and "date" in daily[0]:
        value = "sessions" if name == "engagement" else "views"
        chart = {
            "name": value,
            "labels": [r["date"] for r in daily],
            "values": [r[value] for r in daily],
        }
    heatmap = None
    if name == "heatmap" and params.get("page") and not error:
        query = urlencode(
            {k: v for k, v in params.items() if k in ("page", "bucket", "from", "to")}
        )
        heatmap = {
            "snapshot": f"{get_state().settings.mount_path}/analytics/-/snapshot?{query}",
            "cell": result.get("cell_px", 20),
            "cells": result.get("rows", []),
        }
    tables = {
        k: v
        for k, v in result.items()
        if isinstance(v, list) and all(isinstance(r, dict) for r in v)
    }
    scalars = {k: v for k, v in result.items() if k not in tables}
    # the form stays, with the reason beside it, so the filters can be fixed
    page = await render(
        "analytics/report.html",
        name=name,
        report_title=report.title,
        reports=REPORTS,
        segments=SEGMENTS,
        params=params,
        query=urlencode(params),
        error=error,
        tables=tables,
        scalars=scalars,
        chart=chart,
        heatmap=heatmap,
    )
    return page, 400 if error else 200


@hookimpl
def register_commands(subparsers: Any) -> None:
    from .rebuild import add_commands

    add_commands(subparsers)


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route("/analytics/-/snapshot", snapshot_view, name="analytics.snapshot"),
        Route("/analytics/<name>", report_page, name="analytics.report"),
    ]
