"""From an accepted envelope to a stored batch: redact, append, collect, notify.

Redaction fails closed: a rule that raises (or returns something that is
not a list of events) stops the batch before the store sees any of it.
Collectors and notifications run after the append; their failures are
logged and never undo or fail the request, since the batch is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from pluggy import HookCaller

from ..plugins import call_each
from ..store import Batch, RequestMeta, StoreUnavailable, digest_events
from ..types import Event, RedactionContext, RedactionRule
from .envelope import Envelope
from .errors import IngestError

if TYPE_CHECKING:
    from ..app import Sentiero
    from ..settings import Settings

log = logging.getLogger("sentiero.ingest")

#: What a 503 tells the client to wait (``Retry-After``, seconds) when the
#: store is unavailable: a store that gives up has already waited for its
#: servers a while (MongoDB: ``server_selection_timeout_ms``, 5 s).
STORE_RETRY_AFTER = 5


def rule_name(rule: Any) -> str:
    return str(
        getattr(rule, "name", None)
        or getattr(rule, "__qualname__", None)
        or type(rule).__qualname__
    )


def serialize_events(events: list[dict[str, Any]]) -> bytes:
    """The events as orjson writes them, which every store does too: this
    proves they can be stored (orjson refuses nesting past 254 levels and
    objects that are not JSON)."""
    try:
        return orjson.dumps(events)
    except TypeError as exc:
        if "ecursion" in str(exc):
            raise IngestError(422, "events: nested too deeply") from None
        log.error("events could not be serialized after redaction: %s", exc)
        raise IngestError(422, "redaction failed") from None


def redact(
    rules: Sequence[RedactionRule], envelope: Envelope, settings: Settings
) -> tuple[list[Event], bytes]:
    """The events after every rule, in order, and their JSON text;
    :class:`IngestError` (422) if any rule fails.

    The text is written once before the rules (it proves the events can be
    stored, and rules that screen it need it) and again only if some rule
    may have changed the events. A rule that screens the text
    (:class:`~sentiero_core.types.ScreeningRule`) and finds nothing to do is
    not called, so it provably changed nothing; every rule that is called
    counts as a change."""
    events = envelope.events
    encoded = serialize_events(events)
    context = RedactionContext(envelope.session_id, envelope.window_id, settings)
    changed = False
    for rule in rules:
        screen = getattr(rule, "screen", None)
        try:
            if not changed and screen is not None and not screen(encoded, context):
                continue
            result = rule(events, context)
        except Exception:
            log.exception(
                "redaction rule %s raised; batch for session %s dropped",
                rule_name(rule),
                envelope.session_id,
            )
            raise IngestError(422, "redaction failed") from None
        changed = True
        if result is not None:
            if type(result) is not list or any(type(e) is not dict for e in result):
                log.error(
                    "redaction rule %s returned %s, not a list of events; batch dropped",
                    rule_name(rule),
                    type(result).__name__,
                )
                raise IngestError(422, "redaction failed")
            events = result
    if changed:  # written again after the last rule: the text is current
        return events, serialize_events(events)
    return events, encoded


class RedactionFailed(Exception):
    """A redaction rule raised or returned something else (logged): the
    payload must not be stored or sent on."""


#: The custom event tag a payload travels under through the rules.
PAYLOAD_TAG = "sentiero:payload"


def redact_payload(
    payload: Any,
    settings: Settings,
    rules: Sequence[RedactionRule] | None = None,
    *,
    session_id: str = "",
    window_id: str = "",
    timestamp: int = 0,
) -> Any:
    """A redacted copy of ``payload``, any JSON value, after ``rules`` in
    order (default: the built-in rules for ``settings``; the running app's
    ``redact_payload`` passes every plugin's): it travels through them as the payload of
    one custom event (tag ``sentiero:payload``), so every string in it, keys
    included, is seen by every rule. Fails closed: :class:`RedactionFailed`
    when a rule raises or returns something else, or ``payload`` is not
    JSON."""
    if rules is None:
        from ..builtins.redaction import redaction_rules

        rules = redaction_rules(settings=settings)
    try:
        copy = orjson.loads(orjson.dumps(payload))
    except (TypeError, orjson.JSONDecodeError) as exc:
        raise RedactionFailed(f"payload is not JSON: {exc}") from None
    event: Event = {
        "type": 5,
        "timestamp": timestamp,
        "data": {"tag": PAYLOAD_TAG, "payload": copy},
    }
    try:
        events, _ = redact(rules, Envelope(session_id, window_id, [event]), settings)
    except IngestError as exc:
        raise RedactionFailed(exc.reason) from None
    try:
        return events[0]["data"]["payload"]
    except (IndexError, KeyError, TypeError):
        log.error("redaction rules removed the payload's event; payload refused")
        raise RedactionFailed("a rule removed the payload") from None


def _wants(hook: HookCaller, argument: str) -> bool:
    return any(argument in impl.argnames for impl in hook.get_hookimpls())


async def _notify(hook: HookCaller, **kwargs: Any) -> None:
    """Run every implementation (sync or async) after the append; one
    plugin's failure is logged and skips none of the others."""
    for result in call_each(hook, **kwargs):
        try:
            await result.resolve()
        except Exception:
            log.exception(
                "%s hook of %s failed (the batch is stored)", hook.name, result.plugin_name
            )


async def store_batch(state: Sentiero, envelope: Envelope, meta: RequestMeta) -> Batch | None:
    """Redact, append, collect and notify; the stored batch, or ``None``
    when nothing was stored: no event was left, or the store already had
    this (session, window, seq) from an earlier delivery. A repeat is not
    collected or notified again."""
    settings = state.settings
    events, encoded = redact(state.redaction_rules, envelope, settings)
    if not events:
        return None
    digest = digest_events(
        envelope.window_id,
        events,
        raw_bytes=len(encoded),
        ip=meta.ip,
        user_agent=meta.user_agent,
        dropped_events=envelope.dropped,
    )
    batch = Batch(
        envelope.session_id,
        envelope.window_id,
        events,
        meta,
        digest,
        envelope.seq,
        events_json=encoded,
    )
    store = state.store
    try:
        stored = await store.append(batch)
    except StoreUnavailable as exc:
        log.error("store unavailable, batch for session %s not stored: %s", batch.session_id, exc)
        error = IngestError(503, "store unavailable, retry later")
        error.retry_after = STORE_RETRY_AFTER
        raise error from None
    except Exception:
        log.exception("the store failed to append a batch for session %s", batch.session_id)
        raise IngestError(500, "the batch could not be stored") from None
    if stored is False:
        log.debug("batch %s of window %s delivered again, ignored", batch.seq, batch.window_id)
        return None

    hooks = state.pm.hook
    collect = hooks.collect_batch
    if collect.get_hookimpls():
        # a summary costs a read; fetch it only for collectors that take it
        summary = None
        if _wants(collect, "summary"):
            try:
                summary = await store.get_session(batch.session_id)
            except Exception:
                log.exception("reading the summary for collectors failed (the batch is stored)")
        await _notify(collect, batch=batch, summary=summary, store=store, settings=settings)
    await _notify(hooks.after_batch_stored, batch=batch, settings=settings)
    return batch
