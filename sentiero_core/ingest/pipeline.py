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

from ..builtins.redaction import Redactor
from ..store import Batch, Event, RequestMeta, StoreUnavailable, digest_events
from ..utils import await_me_maybe
from .envelope import Envelope
from .errors import IngestError

if TYPE_CHECKING:
    from ..app import Sentiero

log = logging.getLogger("sentiero.ingest")


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
    rules: Sequence[Any], envelope: Envelope, settings: Any
) -> tuple[list[Event], bytes, bool]:
    """The events after every rule, in order, their JSON text, and whether
    that text is known to be theirs byte for byte (so that a store may keep
    it as it is); :class:`IngestError` (422) if any rule fails."""
    events = envelope.events
    encoded = serialize_events(events)
    if not rules:
        return events, encoded, True
    context: dict[str, Any] = {
        "session_id": envelope.session_id,
        "window_id": envelope.window_id,
        "settings": settings,
        # the events as JSON, for a rule that screens the text before walking;
        # valid for the first rule only (later ones may see changed events)
        "events_json": encoded,
    }
    changed = False
    # Whether every rule that said it changed nothing is ours. Another
    # rule's word spares a re-serialization for the size count, but the
    # bytes stored are then serialized again by the store: a rule that
    # edits in place and wrongly says otherwise must not get unredacted
    # text stored.
    vouched = True
    for rule in rules:
        # a rule may report that it changed nothing (the built-in does), so
        # the text need not be written again; silence means "maybe changed"
        context["events_changed"] = True
        try:
            result = rule(events, context)
        except Exception:
            log.exception(
                "redaction rule %s raised; batch for session %s dropped",
                rule_name(rule),
                envelope.session_id,
            )
            raise IngestError(422, "redaction failed") from None
        context["events_json"] = None
        unchanged = result is None and context["events_changed"] is False
        changed = changed or not unchanged
        vouched = vouched and (not unchanged or isinstance(rule, Redactor))
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
        return events, serialize_events(events), True
    return events, encoded, vouched


async def _call_each(hook: Any, kwargs: dict[str, Any], what: str) -> None:
    """Call every implementation on its own, in pluggy's order, so one
    plugin's failure (sync or async) does not skip the others."""
    for impl in reversed(hook.get_hookimpls()):
        try:
            await await_me_maybe(impl.function(*[kwargs[name] for name in impl.argnames]))
        except Exception:
            log.exception("%s hook of %s failed (the batch is stored)", what, impl.plugin_name)


def _wants(hook: Any, argument: str) -> bool:
    return any(argument in impl.argnames for impl in hook.get_hookimpls())


async def store_batch(state: Sentiero, envelope: Envelope, meta: RequestMeta) -> Batch | None:
    """Redact, append, collect and notify; the stored batch, or ``None``
    when nothing was stored: no event was left, or the store already had
    this (session, window, seq) from an earlier delivery. A repeat is not
    collected or notified again."""
    settings = state.settings
    events, encoded, encoded_is_current = redact(state.redaction_rules, envelope, settings)
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
        events_json=encoded if encoded_is_current else None,
    )
    store = state.store
    try:
        stored = await store.append(batch)
    except StoreUnavailable as exc:
        log.error("store unavailable, batch for session %s not stored: %s", batch.session_id, exc)
        raise IngestError(503, "store unavailable, retry later") from None
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
        await _call_each(
            collect,
            {"batch": batch, "summary": summary, "store": store, "settings": settings},
            "collect_batch",
        )
    await _call_each(
        hooks.after_batch_stored, {"batch": batch, "settings": settings}, "after_batch_stored"
    )
    return batch
