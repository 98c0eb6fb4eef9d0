"""Reports pass the recordings' redaction rules before they are stored.

The app's ``redact_payload`` runs the built-in rules and every plugin's
``redaction_rules`` over the report as it does over recorded events, and
fails closed: a rule that raises, returns something else or drops the
report means the report is refused, never stored as it came.
"""

from __future__ import annotations

from typing import Any

from sentiero_core import RedactionFailed, Sentiero

__all__ = ["RedactionFailed", "redact_report"]


def redact_report(state: Sentiero, report: dict[str, Any]) -> dict[str, Any]:
    payload = state.redact_payload(
        report,
        session_id=str(report.get("session_id") or ""),
        window_id=str(report.get("window_id") or ""),
    )
    if not isinstance(payload, dict):
        raise RedactionFailed("a rule replaced the report with something else")
    return payload
