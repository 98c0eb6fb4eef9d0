"""``sentiero analytics rebuild``: every aggregate computed again from the
stored events, session by session, with the facts and fold of ingest (each
session folded once, after all its facts are merged).

Facts do not depend on how a session's events were cut into batches (see
:mod:`.facts`), so reading each window's events back in chunks gives the
rows ingest gave. What the store no longer holds (events trimmed by
``max_events_per_session``, windows past the summary's ``MAX_WINDOWS``)
cannot count.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from sentiero_core.store import (
    Batch,
    Event,
    RequestMeta,
    SessionSummary,
    Store,
    digest_events,
)

from .facts import batch_facts
from .folding import flush, fold_now
from .settings import AnalyticsSettings

#: Events per pseudo-batch while reading a window back.
CHUNK = 5_000

Progress = Callable[[int, int], None]


async def _window_events(store: Store, session_id: str, window_id: str) -> list[Event]:
    events: list[Event] = []
    cursor = None
    while True:
        page = await store.read_events(session_id, cursor=cursor, limit=1000, window_id=window_id)
        events += page.events
        if page.next is None:
            return events
        cursor = page.next


async def rebuild_session(
    store: Store, summary: SessionSummary, settings: AnalyticsSettings
) -> None:
    """Merge the facts of every stored event of the session, then fold it once."""
    for window in summary.windows:
        events = await _window_events(store, summary.session_id, window)
        for n, start in enumerate(range(0, len(events), CHUNK)):
            chunk = events[start : start + CHUNK]
            meta = RequestMeta(received_at=summary.ended_at, user_agent=summary.user_agent)
            digest = digest_events(window, chunk, user_agent=summary.user_agent)
            batch = Batch(summary.session_id, window, chunk, meta, digest, seq=n)
            await store.merge_facts(summary.session_id, batch_facts(batch))
    await fold_now(store, summary.session_id, settings)


async def rebuild(
    store: Store, settings: AnalyticsSettings | None = None, progress: Progress | None = None
) -> int:
    """Clear every aggregate and collect every stored session again; the
    number of sessions collected."""
    from . import require_aggregates

    require_aggregates(store)
    settings = settings or AnalyticsSettings()
    await store.clear_aggregates()
    total = await store.count_sessions()
    done = 0
    cursor = None
    while True:
        page = await store.list_sessions(cursor=cursor, limit=100)
        for summary in page.sessions:
            await rebuild_session(store, summary, settings)
            done += 1
            if progress is not None:
                progress(done, max(total, done))
        if page.next is None:
            break
        cursor = page.next
    # sessions that gained facts while the rebuild read them (an app
    # serving meanwhile) are folded again
    await flush(store, settings)
    return done


def progress_bar(stream: TextIO | None = None, width: int = 40) -> Progress:
    """A one-line progress bar on ``stream`` (standard error by default)."""

    def show(done: int, total: int) -> None:
        out = stream or sys.stderr
        filled = width * done // total if total else width
        end = "\n" if done >= total else ""
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} sessions{end}")
        out.flush()

    return show


def main(app: Any, stream: TextIO | None = None) -> int:
    """Run a rebuild over the store of ``app`` (a Sentiero app not serving)."""
    import asyncio

    state = app.extensions["sentiero"]

    async def run() -> int:
        await state.store.open()
        try:
            found = state.settings.plugin("analytics")
            settings = found if isinstance(found, AnalyticsSettings) else None
            count = await rebuild(state.store, settings, progress_bar(stream))
        finally:
            await state.store.close()
        return count

    count = asyncio.run(run())
    (stream or sys.stderr).write(f"rebuilt the aggregates of {count} sessions\n")
    return 0


def add_commands(subparsers: Any) -> None:
    """``sentiero analytics rebuild``, added through ``register_commands``."""
    analytics = subparsers.add_parser("analytics", help="sentiero-analytics: maintenance")
    actions = analytics.add_subparsers(dest="analytics_command", metavar="ACTION")
    actions.required = True
    command = actions.add_parser("rebuild", help="recompute every aggregate from the stored events")
    command.add_argument("--store", metavar="URL", help="store URL, e.g. sqlite:///sentiero.db")
    command.add_argument("--config", metavar="FILE", help="a TOML settings file")
    command.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from sentiero_core import create_app, load_settings

    overrides = {"store_url": args.store} if args.store else {}
    # The app picks the store exactly as `sentiero serve` would; it is not served.
    return main(create_app(load_settings(config_file=args.config, **overrides)))
