"""Everything a store author needs: the :class:`Store` base class, the values
it takes and returns, its errors, and the toolkit a backend builds on.

This module is public API; its submodules are private and may change
between releases, so import from here. ``docs/writing-a-store.md`` is the
guide.

The toolkit:

- cursors: :func:`encode_cursor` / :func:`decode_cursor` (opaque, checked),
  :func:`session_cursor` / :func:`parse_session_cursor` (listings),
  :func:`event_cursor` / :func:`parse_event_cursor` (event pages);
- event paging over batches kept as :class:`StoredBatch` rows:
  :func:`page_events` (one page in timestamp order) and :func:`trim_plan`
  (which batches ``max_events_per_session`` drops or rewrites);
- the codec: :func:`encode_blob` / :func:`decode_blob` (events to a
  compressed blob and back), :func:`compress` / :func:`decompress` (for a
  batch's JSON text already serialized, ``Batch.events_json``);
- summaries: :func:`merge_digest` and its bounds (:data:`MAX_PAGES`,
  :data:`MAX_WINDOWS`, :data:`MAX_CUSTOM_EVENTS`); :func:`event_time`, the
  timestamp every store orders events by;
- :func:`limits_from`, the :class:`StoreLimits` a factory reads from settings;
- records, the optional capability for plugins' own documents
  (``StoreCapabilities(records=True)``): :class:`RecordUpdate` and the
  conditions :class:`AnyOf`, :class:`AtLeast`, :class:`Below`, with the
  reference semantics :func:`apply_update`, :func:`matches` and
  :func:`sort_records` for stores that evaluate them in Python;
- removal reasons: :data:`DELETED`, :data:`ERASED`, :data:`PURGED`,
  :data:`EVICTED` (:data:`REMOVAL_REASONS`), what :class:`Store` reports to
  each :data:`RemovalListener`;
- aggregates (the optional capability collectors keep numbers in):
  :class:`AggregateRow`, :class:`SessionFacts`, :class:`Tally`,
  :func:`row_delta`, :func:`is_zero_total` (:data:`ZERO_TOTAL`),
  :func:`check_rows`, :data:`MAX_LATEST` (``aggregate_latest``'s largest
  limit), :func:`rows_to_json` / :func:`rows_from_json`, :func:`day_of`, :func:`day_from_date`,
  :func:`date_of_day`, and the reference semantics of the optional
  grouping primitives, :func:`group_rows`, :func:`group_sizes` and
  :func:`latest_rows`.
"""

from .aggregates import (
    DAY_MS,
    MAX_LATEST,
    ZERO_TOTAL,
    AggregateMethods,
    AggregateRow,
    AggregatesUnsupported,
    SessionFacts,
    Tally,
    check_rows,
    date_of_day,
    day_from_date,
    day_of,
    group_rows,
    group_sizes,
    is_zero_total,
    latest_rows,
    row_delta,
    rows_from_json,
    rows_to_json,
)
from .base import Store, StoreCapabilities
from .codec import compress, decode_blob, decompress, encode_blob
from .cursors import (
    EventPosition,
    SessionPosition,
    decode_cursor,
    encode_cursor,
    event_cursor,
    parse_event_cursor,
    parse_session_cursor,
    session_cursor,
)
from .digest import BatchDigest, digest_events, event_time
from .limits import limits_from

# Last: the memory store is built from everything above.
from .memory import MemoryStore
from .paging import StoredBatch, TrimPlan, page_events, trim_plan
from .records import (
    AnyOf,
    AtLeast,
    Below,
    RecordUpdate,
    Where,
    apply_update,
    matches,
    sort_records,
)
from .removal import DELETED, ERASED, EVICTED, PURGED, REMOVAL_REASONS, RemovalListener
from .summary import MAX_CUSTOM_EVENTS, MAX_PAGES, MAX_WINDOWS, merge_digest
from .types import (
    Batch,
    Event,
    EventPage,
    InvalidCursor,
    RequestMeta,
    SessionFilter,
    SessionPage,
    SessionSummary,
    StoreError,
    StoreLimits,
    StoreStats,
    StoreUnavailable,
)

__all__ = [
    "DAY_MS",
    "DELETED",
    "ERASED",
    "EVICTED",
    "MAX_CUSTOM_EVENTS",
    "MAX_LATEST",
    "MAX_PAGES",
    "MAX_WINDOWS",
    "PURGED",
    "REMOVAL_REASONS",
    "ZERO_TOTAL",
    "AggregateMethods",
    "AggregateRow",
    "AggregatesUnsupported",
    "AnyOf",
    "AtLeast",
    "Batch",
    "BatchDigest",
    "Below",
    "Event",
    "EventPage",
    "EventPosition",
    "InvalidCursor",
    "MemoryStore",
    "RecordUpdate",
    "RemovalListener",
    "RequestMeta",
    "SessionFacts",
    "SessionFilter",
    "SessionPage",
    "SessionPosition",
    "SessionSummary",
    "Store",
    "StoreCapabilities",
    "StoreError",
    "StoreLimits",
    "StoreStats",
    "StoreUnavailable",
    "StoredBatch",
    "Tally",
    "TrimPlan",
    "Where",
    "apply_update",
    "check_rows",
    "compress",
    "date_of_day",
    "day_from_date",
    "day_of",
    "decode_blob",
    "decode_cursor",
    "decompress",
    "digest_events",
    "encode_blob",
    "encode_cursor",
    "event_cursor",
    "event_time",
    "group_rows",
    "group_sizes",
    "is_zero_total",
    "latest_rows",
    "limits_from",
    "matches",
    "merge_digest",
    "page_events",
    "parse_event_cursor",
    "parse_session_cursor",
    "row_delta",
    "rows_from_json",
    "rows_to_json",
    "session_cursor",
    "sort_records",
    "trim_plan",
]
