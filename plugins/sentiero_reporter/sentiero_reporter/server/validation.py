"""Checking report payloads: what the ingest routes accept, with the reason
for what they refuse (422 names the field)."""

from __future__ import annotations

import time
from typing import Any

LEVELS = ("debug", "info", "warning", "error", "critical", "fatal")
MAX_TEXT = 8192
MAX_NAME = 200
MAX_ID = 128
# Reports more than a day off the server's clock get the time they arrived.
CLOCK_SLACK_MS = 86_400_000


class PayloadError(ValueError):
    """A report the server refuses; the message says which field and why."""


def _text(payload: dict[str, Any], name: str, limit: int, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise PayloadError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{name} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise PayloadError(f"{name} must not be empty")
    if len(value) > limit:
        raise PayloadError(f"{name} is longer than {limit} characters")
    return value


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be an object, got {type(value).__name__}")
    return value


def timestamp(payload: dict[str, Any], now_ms: int | None = None) -> int:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = payload.get("timestamp")
    if value is None:
        return now_ms
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("timestamp must be a number (ms since the epoch)")
    value = int(value)
    return value if abs(value - now_ms) <= CLOCK_SLACK_MS else now_ms


def common(payload: Any, project: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    claimed = payload.get("project")
    if claimed is not None and claimed != project:
        raise PayloadError(f"project {claimed!r} does not match the ingest key's project")
    level = payload.get("level", "error")
    if level not in LEVELS:
        raise PayloadError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    return {
        "project": project,
        "timestamp": timestamp(payload),
        "environment": _text(payload, "environment", MAX_NAME),
        "release": _text(payload, "release", MAX_NAME),
        "session_id": _text(payload, "session_id", MAX_ID),
        "window_id": _text(payload, "window_id", MAX_ID),
        "level": level,
        "context": _object(payload, "context"),
        "platform": _text(payload, "platform", 40) or "python",
    }


def _frames(value: Any, where: str, max_frames: int) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.frames must be a list")
    frames: list[dict[str, Any]] = []
    for i, raw in enumerate(value[-max_frames:]):
        if not isinstance(raw, dict):
            raise PayloadError(f"{where}.frames[{i}] must be an object")
        frame: dict[str, Any] = {}
        for name in ("filename", "function", "module", "context_line"):
            text = _text(raw, name, MAX_TEXT)
            if text is not None:
                frame[name] = text
        lineno = raw.get("lineno")
        if lineno is not None:
            if isinstance(lineno, bool) or not isinstance(lineno, int):
                raise PayloadError(f"{where}.frames[{i}].lineno must be an integer")
            frame["lineno"] = lineno
        for name in ("pre_context", "post_context"):
            lines = raw.get(name)
            if lines is None:
                continue
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise PayloadError(f"{where}.frames[{i}].{name} must be a list of strings")
            frame[name] = [x[:MAX_TEXT] for x in lines[:20]]
        frame["in_app"] = bool(raw.get("in_app", False))
        frames.append(frame)
    return frames


def _exception(value: Any, where: str, max_frames: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object with type, message and frames")
    return {
        "type": _text(value, "type", MAX_NAME, required=True),
        "message": _text(value, "message", MAX_TEXT) or "",
        "frames": _frames(value.get("frames"), where, max_frames),
    }


def error_report(payload: Any, project: str, max_frames: int) -> dict[str, Any]:
    """The fields of an error report the server keeps, checked."""
    report = common(payload, project)
    exception = _exception(payload.get("exception"), "exception", max_frames)
    causes = payload["exception"].get("causes") or []
    if not isinstance(causes, list):
        raise PayloadError("exception.causes must be a list")
    exception["causes"] = [
        _exception(c, f"exception.causes[{i}]", max_frames) for i, c in enumerate(causes[:5])
    ]
    report["exception"] = exception
    report["request"] = _object(payload, "request")
    explicit = payload.get("fingerprint")
    if explicit is not None:
        if isinstance(explicit, str):
            if len(explicit) > MAX_NAME:
                raise PayloadError(f"fingerprint is longer than {MAX_NAME} characters")
        elif not (
            isinstance(explicit, list)
            and len(explicit) <= 10
            and all(isinstance(x, str) and len(x) <= MAX_NAME for x in explicit)
        ):
            raise PayloadError("fingerprint must be a string or a list of at most 10 strings")
    report["fingerprint"] = explicit
    return report


def event_report(payload: Any, project: str) -> dict[str, Any]:
    """The fields of a custom event the server keeps, checked."""
    if isinstance(payload, dict) and "level" not in payload:
        payload = {**payload, "level": "info"}
    report = common(payload, project)
    report["name"] = _text(payload, "name", MAX_NAME, required=True)
    report["properties"] = _object(payload, "properties")
    return report
