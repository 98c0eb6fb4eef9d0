"""The server half of sentiero-reporter: a Sentiero plugin (needs sentiero-core).

Installed with ``pip install "sentiero-reporter[server]"``; registered in the
``sentiero`` entry-point group. It adds the ingest routes for reports, the
issues and custom-events pages, server errors on replays, JS errors from
recordings as issues, and ``sentiero reporter keys``. Reports are kept as
store records (the store must declare ``capabilities.records``).
"""

from __future__ import annotations

try:
    import sentiero_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "sentiero_reporter.server needs sentiero-core: install it with "
        "pip install 'sentiero-reporter[server]' (the client, sentiero_reporter, "
        "needs nothing beyond the standard library)"
    ) from exc

import logging
from typing import Any

from quart import url_for

from sentiero_core import Panel, Route, Settings, hookimpl
from sentiero_core.store import AnyOf, Batch, SessionSummary, Store

from .browser import error_reports
from .cli import add_commands
from .ingest import ingest_errors, ingest_events
from .issues import ISSUES, OCCURRENCES, record_error, remove_for_sessions
from .redaction import RedactionFailed
from .retention import after_report
from .settings import SECTION, ReporterSettings
from .views import events_page, issue_page, issue_status, issues_list

log = logging.getLogger("sentiero.reporter")


def _options(settings: Settings) -> ReporterSettings:
    section = settings.plugin(SECTION)
    return section if isinstance(section, ReporterSettings) else ReporterSettings()


@hookimpl
def register_settings() -> dict[str, type]:
    return {SECTION: ReporterSettings}


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route(
            "/ingest/errors",
            ingest_errors,
            methods=("POST",),
            public=True,
            name="reporter.ingest_errors",
            csrf=False,
        ),
        Route(
            "/ingest/events",
            ingest_events,
            methods=("POST",),
            public=True,
            name="reporter.ingest_events",
            csrf=False,
        ),
        Route("/issues", issues_list, name="reporter.issues"),
        Route("/issues/<key>", issue_page, name="reporter.issue"),
        Route(
            "/issues/<key>/status", issue_status, methods=("POST",), name="reporter.issue_status"
        ),
        Route("/custom-events", events_page, name="reporter.events"),
    ]


@hookimpl
def dashboard_panels() -> list[Panel]:
    return [
        Panel("reporter.issues", "Issues", "/issues", order=20),
        Panel("reporter.events", "Custom events", "/custom-events", order=25),
    ]


@hookimpl
def startup(store: Store) -> None:
    if not store.capabilities.records:
        log.warning(
            "sentiero-reporter: the %s store has no records capability; reports are refused "
            "(503) and the issues pages are unavailable",
            store.name,
        )


@hookimpl
def sessions_removed(session_ids: list[str], store: Store) -> Any:
    if not store.capabilities.records:
        return None
    return remove_for_sessions(store, session_ids)


@hookimpl
def collect_batch(batch: Batch, store: Store, settings: Settings) -> Any:
    options = _options(settings)
    if not options.browser_errors or not batch.digest.error_count:
        return None
    if not store.capabilities.records:
        return None

    async def file_errors() -> None:
        for report in error_reports(batch.events, options.browser_project):
            # Recorded events were redacted at ingest already.
            report["session_id"] = batch.session_id
            report["window_id"] = batch.window_id
            try:
                issue, _ = await record_error(store, report)
                await after_report(store, options, settings.retention_period, issue)
            except (RedactionFailed, ValueError) as exc:
                log.warning("a browser error could not be filed: %s", exc)

    return file_errors()


@hookimpl
def session_markers(summary: SessionSummary, window: str | None, store: Store) -> Any:
    if not store.capabilities.records:
        return None

    async def markers() -> list[dict[str, Any]]:
        found = await store.find_records(
            OCCURRENCES,
            {"session_id": summary.session_id, "platform": AnyOf("python", "server")},
            order_by="timestamp",
            descending=False,
            limit=200,
        )
        out = []
        for occurrence in found:
            if window and occurrence.get("window_id") not in (None, window):
                continue
            exception = occurrence["exception"]
            out.append(
                {
                    "at": occurrence["timestamp"],
                    "label": f"Server error: {exception['type']}: {exception['message']}"[:200],
                    "kind": "server-error",
                    "url": url_for("reporter.issue", key=occurrence["issue"]),
                }
            )
        return out

    return markers()


@hookimpl
def register_commands(subparsers: Any) -> None:
    add_commands(subparsers)


__all__ = ["ISSUES", "OCCURRENCES", "ReporterSettings"]
