"""Compliance events for ``settings.audit_log``.

The callable receives one dict per event: ``action``, ``at`` (ms since the
epoch) and details. It runs after the action happened, so its failure is
logged and never undoes or fails the action.
"""

from __future__ import annotations

import logging
from typing import Any

from .settings import Settings
from .utils import await_me_maybe, now_ms

log = logging.getLogger("sentiero.audit")

#: A session was deleted from the dashboard or the API.
SESSIONS_DELETED = "sessions_deleted"
#: Sessions older than ``retention_period`` were purged (``count``, ``before``).
SESSIONS_PURGED = "sessions_purged"


async def audit(settings: Settings, action: str, **details: Any) -> None:
    record = {"action": action, "at": now_ms(), **details}
    log.info("audit: %s %s", action, details)
    if settings.audit_log is None:
        return
    try:
        await await_me_maybe(settings.audit_log(record))
    except Exception:
        log.exception("audit_log failed for %s", action)
