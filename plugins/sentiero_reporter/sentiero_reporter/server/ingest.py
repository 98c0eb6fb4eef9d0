"""``POST <mount>/ingest/errors`` and ``POST <mount>/ingest/events``."""

from __future__ import annotations

import json
import logging
from typing import Any

from quart import Response, jsonify, request

from sentiero_core import get_state
from sentiero_core.store import StoreError

from .issues import record_error, record_event
from .keys import project_for
from .redaction import RedactionFailed, redact_report
from .retention import after_report
from .settings import ReporterSettings
from .validation import PayloadError, error_report, event_report

log = logging.getLogger("sentiero.reporter")


def settings_of(state: Any) -> ReporterSettings:
    section = state.settings.plugin("reporter")
    return section if isinstance(section, ReporterSettings) else ReporterSettings()


def refuse(status: int, reason: str) -> Response:
    response = jsonify({"error": reason})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sentiero-reporter"'
    return response


async def _accept(kind: str) -> Response:
    state = get_state()
    options = settings_of(state)
    store = state.store
    if not store.capabilities.records:
        return refuse(503, f"the {store.name} store cannot keep reports (no records capability)")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return refuse(401, "missing ingest key: send Authorization: Bearer <key>")
    project, why = await project_for(store, token.strip())
    if project is None:
        return refuse(401, why)
    if (request.content_length or 0) > options.max_payload_bytes:
        return refuse(413, f"report larger than {options.max_payload_bytes} bytes")
    body = await request.get_data()
    if len(body) > options.max_payload_bytes:
        return refuse(413, f"report larger than {options.max_payload_bytes} bytes")
    if request.mimetype != "application/json":
        return refuse(415, "send the report as application/json")
    try:
        payload = json.loads(body)
    except ValueError:
        return refuse(400, "the body is not valid JSON")
    try:
        if kind == "errors":
            report = error_report(payload, project, options.max_frames)
        else:
            report = event_report(payload, project)
    except PayloadError as exc:
        return refuse(422, str(exc))
    try:
        report = redact_report(state, report)
    except RedactionFailed:
        return refuse(422, "redaction failed")
    try:
        if kind == "errors":
            issue, occurrence = await record_error(store, report)
            answer = {"issue": issue["_id"], "occurrence": occurrence}
        else:
            issue = None
            answer = {"event": await record_event(store, report)}
        await after_report(store, options, state.settings.retention_period, issue)
    except StoreError as exc:
        log.error("could not store a report: %s", exc)
        return refuse(503, "the store is unavailable")
    response = jsonify(answer)
    response.status_code = 202
    return response


async def ingest_errors() -> Response:
    return await _accept("errors")


async def ingest_events() -> Response:
    return await _accept("events")
