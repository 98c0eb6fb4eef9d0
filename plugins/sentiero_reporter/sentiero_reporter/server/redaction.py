"""Reports pass the recordings' redaction rules before they are stored.

The rules (the built-in one and every plugin's ``redaction_rules``) take
rrweb events, so a report travels through them inside one custom event and
comes back out. Like recordings, redaction fails closed: a rule that raises
or returns something else means the report is refused, never stored as it
came.
"""

from __future__ import annotations

import logging
from typing import Any

from sentiero_core import RedactionContext, Sentiero

log = logging.getLogger("sentiero.reporter")
CUSTOM_EVENT = 5
TAG = "sentiero:report"


class RedactionFailed(Exception):
    pass


def redact_report(state: Sentiero, report: dict[str, Any]) -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {
            "type": CUSTOM_EVENT,
            "timestamp": report.get("timestamp", 0),
            "data": {"tag": TAG, "payload": report},
        }
    ]
    context = RedactionContext(
        report.get("session_id") or "", report.get("window_id") or "", state.settings
    )
    for rule in state.redaction_rules:
        try:
            result = rule(events, context)
        except Exception as exc:
            log.exception("redaction rule %r raised on a report; report refused", rule)
            raise RedactionFailed from exc
        if result is not None:
            if type(result) is not list:
                raise RedactionFailed
            events = result
    try:
        payload = events[0]["data"]["payload"]
    except (IndexError, KeyError, TypeError):
        raise RedactionFailed from None
    if not isinstance(payload, dict):
        raise RedactionFailed
    return payload
