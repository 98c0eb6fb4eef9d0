"""Issues, occurrences and custom events, kept as store records.

Collections: ``reporter_issues`` (one record per project and fingerprint:
counts, first and last seen, environments, releases, status),
``reporter_occurrences`` (one per report, linked to its session),
``reporter_events`` (one per custom event), ``reporter_event_counts``
(per project, name and hour) and ``reporter_event_names``. Every change is
one atomic record update, so several app servers can ingest at once.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from sentiero_core.store import AnyOf, RecordUpdate, Store

from .fingerprint import culprit, fingerprint

ISSUES = "reporter_issues"
OCCURRENCES = "reporter_occurrences"
EVENTS = "reporter_events"
EVENT_COUNTS = "reporter_event_counts"
EVENT_NAMES = "reporter_event_names"
STATUSES = ("open", "resolved", "ignored")
HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def release_key(release: str) -> tuple[tuple[int, int | str], ...]:
    """Order of releases: dotted numbers compare as numbers (1.10 > 1.9)."""
    parts = re.split(r"[.\-+_]", release.lstrip("vV"))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def newer(release: str, than: str) -> bool:
    return release_key(release) > release_key(than)


def title_of(exc_type: str, message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{exc_type}: {first}"[:300] if first else exc_type


async def record_error(store: Store, report: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """File a checked, redacted error report: its issue after the update,
    and the new occurrence's id. Reopens a resolved issue that regressed."""
    exception = report["exception"]
    project = report["project"]
    frames = exception["frames"]
    key = fingerprint(
        project, exception["type"], exception["message"], frames, report.get("fingerprint")
    )
    at = report["timestamp"]
    occurrence_id = uuid.uuid4().hex
    environment, release = report.get("environment"), report.get("release")
    browser = report.get("platform") == "browser"
    issue = await store.update_record(
        ISSUES,
        key,
        RecordUpdate(
            set_on_insert={
                "project": project,
                "type": exception["type"],
                "title": title_of(exception["type"], exception["message"]),
                "culprit": culprit(frames),
                "platform": "browser" if browser else "server",
                "status": "open",
                "created_at": now_ms(),
            },
            set={"last_message": exception["message"][:1000], "last_occurrence": occurrence_id},
            inc={"count": 1},
            maximum={"last_seen": at},
            minimum={"first_seen": at},
            add_to_set={
                "environments": [environment] if environment else [],
                "releases": [release] if release else [],
            },
        ),
    )
    await store.update_record(
        OCCURRENCES,
        occurrence_id,
        RecordUpdate(
            set={
                "issue": key,
                "project": project,
                "timestamp": at,
                "received_at": now_ms(),
                "environment": environment,
                "release": release,
                "session_id": report.get("session_id"),
                "window_id": report.get("window_id"),
                "platform": report.get("platform"),
                "level": report.get("level"),
                "exception": exception,
                "request": report.get("request") or {},
                "context": report.get("context") or {},
            }
        ),
    )
    if issue.get("status") == "resolved" and await _regressed(store, issue, release, at):
        issue = await store.get_record(ISSUES, key) or issue
    return issue, occurrence_id


async def _regressed(store: Store, issue: dict[str, Any], release: str | None, at: int) -> bool:
    """Reopen when it happened again in a newer release than the one it was
    resolved in (or, resolved without a release, at all after resolving)."""
    resolved_in = issue.get("resolved_in_release")
    resolved_at = issue.get("resolved_at") or 0
    if resolved_in:
        if not release or not newer(release, resolved_in):
            return False
    elif at <= resolved_at:
        return False
    return await store.compare_and_set_record(
        ISSUES,
        issue["_id"],
        {"status": "resolved", "resolved_at": issue.get("resolved_at")},
        {"status": "open", "regressed_at": at, "regressed_in_release": release},
    )


async def set_status(store: Store, key: str, status: str) -> dict[str, Any] | None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    issue = await store.get_record(ISSUES, key)
    if issue is None:
        return None
    changes: dict[str, Any] = {"status": status}
    if status == "resolved":
        releases = sorted(issue.get("releases") or [], key=release_key)
        changes.update(resolved_at=now_ms(), resolved_in_release=releases[-1] if releases else None)
    await store.compare_and_set_record(ISSUES, key, {}, changes)
    return await store.get_record(ISSUES, key)


async def record_event(store: Store, report: dict[str, Any]) -> str:
    project, name, at = report["project"], report["name"], report["timestamp"]
    event_id = uuid.uuid4().hex
    await store.update_record(
        EVENTS,
        event_id,
        RecordUpdate(
            set={
                "project": project,
                "name": name,
                "timestamp": at,
                "received_at": now_ms(),
                "level": report.get("level"),
                "properties": report.get("properties") or {},
                "context": report.get("context") or {},
                "environment": report.get("environment"),
                "release": report.get("release"),
                "session_id": report.get("session_id"),
                "window_id": report.get("window_id"),
            }
        ),
    )
    hour = at - at % HOUR_MS
    await store.update_record(
        EVENT_COUNTS,
        f"{project}:{name}:{hour}"[:256],
        RecordUpdate(
            set_on_insert={"project": project, "name": name, "hour": hour}, inc={"count": 1}
        ),
    )
    await store.update_record(
        EVENT_NAMES,
        f"{project}:{name}"[:256],
        RecordUpdate(
            set_on_insert={"project": project, "name": name},
            inc={"count": 1},
            maximum={"last_seen": at},
            minimum={"first_seen": at},
        ),
    )
    return event_id


async def remove_for_sessions(store: Store, session_ids: list[str]) -> int:
    """Remove the occurrences and events of these sessions; issues left
    with no occurrence go too. Counters (counts per hour) keep no personal
    data and stay. How many records went."""
    removed = 0
    for start in range(0, len(session_ids), 500):
        chunk = AnyOf(*session_ids[start : start + 500])
        issues: set[str] = set()
        while True:
            found = await store.find_records(OCCURRENCES, {"session_id": chunk}, limit=1000)
            if not found:
                break
            issues.update(o["issue"] for o in found)
            removed += await store.delete_records(
                OCCURRENCES, {"session_id": chunk, "issue": AnyOf(*{o["issue"] for o in found})}
            )
        removed += await store.delete_records(EVENTS, {"session_id": chunk})
        for key in issues:
            if await store.count_records(OCCURRENCES, {"issue": key}) == 0:
                removed += await store.delete_records(ISSUES, {"_id": key})
    return removed
