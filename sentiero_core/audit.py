"""Compliance events for ``settings.audit_log``.

The callable receives one dict per event, in the order the actions
happened: ``action`` (one of the constants below), ``at`` (ms since the
epoch), ``by`` (the dashboard user, see the ``current_user`` setting, or
``None`` where there is none: the recorder, the retention purge, a script
that does not say) and details. It runs after the action happened, so its
failure is logged and never undoes or fails the action.
"""

from __future__ import annotations

import logging
from typing import Any

from .security import current_user
from .settings import Settings
from .utils import await_me_maybe, now_ms

log = logging.getLogger("sentiero.audit")

#: Sessions deleted from the dashboard or the API (``session_ids``, ``via``).
SESSIONS_DELETED = "sessions_deleted"
#: Sessions purged: older than ``retention_period`` or ``older_than``
#: (``count``, ``before``, ``reason``, ``via``).
SESSIONS_PURGED = "sessions_purged"
#: A right-to-erasure request was carried out (``count``, ``filter``,
#: ``complete``, ``via``); recorded even when nothing matched.
SESSIONS_ERASED = "sessions_erased"
#: A session's events were downloaded as JSON (``session_id``, ``via``).
SESSION_EXPORTED = "session_exported"
#: A shareable replay of a session was downloaded (``session_id``,
#: ``window_id``, ``events``, ``bytes``, ``via``).
SESSION_SHARED = "session_shared"
#: The replay import page was opened (``via``): the file it plays is read in
#: the browser and never reaches the server, so the page view is recorded.
REPLAY_IMPORT_OPENED = "replay_import_opened"
#: A visitor opted out of recording (``session_id``, ``recorded``: whether
#: the store holds anything of that session, ``via``: ``"recorder"``).
VISITOR_OPTED_OUT = "visitor_opted_out"

ACTIONS = (
    SESSIONS_DELETED,
    SESSIONS_PURGED,
    SESSIONS_ERASED,
    SESSION_EXPORTED,
    SESSION_SHARED,
    REPLAY_IMPORT_OPENED,
    VISITOR_OPTED_OUT,
)

#: ``by``'s default: the dashboard user of the current request, if any.
FROM_REQUEST: Any = object()


async def audit(settings: Settings, action: str, *, by: Any = FROM_REQUEST, **details: Any) -> None:
    """Send one record to ``audit_log``. ``by`` defaults to the dashboard
    user of the current request (``None`` outside one)."""
    who = current_user() if by is FROM_REQUEST else by
    record = {"action": action, "at": now_ms(), "by": who, **details}
    log.info("audit: %s by %s %s", action, who, details)
    if settings.audit_log is None:
        return
    try:
        await await_me_maybe(settings.audit_log(record))
    except Exception:
        log.exception("audit_log failed for %s", action)
