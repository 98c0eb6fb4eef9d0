"""The aggregates capability: counters and small distributions that
collectors keep in the store (private module: import from
:mod:`sentiero_core.store`).

An aggregate row is keyed by ``(name, day, dims)`` and holds a ``count``
and a ``total`` (a sum of values: milliseconds, pixels...). A distribution
is rows whose last dimension is a bucket.

Every row is somebody's contribution: a session contributes rows under a
``key`` of its choosing, and the store keeps each contribution beside the
totals. That is what makes the numbers exact:

- **removal**: deleting, erasing, purging or evicting a session subtracts
  its contributions from the totals (reports then equal reports computed
  without it);
- **repeats**: setting a contribution again under the same key and version
  changes nothing, so a batch delivered twice counts once;
- **order**: a contribution is *replaced*, not added to, when its version
  is higher. A collector that needs the whole session (time on page, exits,
  scroll depth per page view) merges its per-batch facts with
  :meth:`AggregateMethods.merge_facts`, which returns every fact of the
  session and a version that grows with each merge, and sets the rows
  folded from those facts with that version: whatever order batches arrive
  in, the last fold applied is the fold of every fact. The fold need not
  follow each merge: :meth:`AggregateMethods.session_facts` reads the facts
  and their version back whenever the collector chooses to fold, and
  :meth:`AggregateMethods.unfolded_sessions` lists the sessions whose facts
  are newer than their fold (a process that stopped before folding).

A store declares the capability with ``StoreCapabilities(aggregates=True)``
and implements the four primitives of :class:`AggregateMethods`; the
public methods check their arguments the same way for every backend.
The others are optional, with fallbacks: ``aggregates_add_facts``,
``aggregates_facts`` and ``aggregates_unfolded`` (for collectors that fold
later than they merge), and ``aggregates_group`` (sums per group, what
:meth:`AggregateMethods.aggregate` asks for), ``aggregates_group_sizes``
(how many groups have each count, for
:meth:`AggregateMethods.aggregate_group_sizes`) and ``aggregates_latest``
(the first rows of each group, what
:meth:`AggregateMethods.aggregate_latest` asks for); without the last
three the base class computes them from ``aggregates_fetch`` with
:func:`group_rows`, :func:`group_sizes` and :func:`latest_rows`, which are
also the reference a backend's own versions must agree with.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: One day in milliseconds: rows are keyed by UTC day numbers.
DAY_MS = 86_400_000
#: Longest contribution key and aggregate name a store must accept.
MAX_KEY_LENGTH = 200
#: Most rows one contribution may hold.
MAX_CONTRIBUTION_ROWS = 5_000
#: Most facts one session may hold.
MAX_FACTS = 20_000

Dims = tuple[str, ...]
#: What the grouping primitives take as ``where``: the values allowed at each
#: position (one text is a set of one).
Allowed = Mapping[int, frozenset[str]]
#: Most rows per group :meth:`AggregateMethods.aggregate_latest` returns.
MAX_LATEST = 1_000
FactValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class AggregatesUnsupported(NotImplementedError):
    """The store does not declare the aggregates capability."""


def day_of(ms: int) -> int:
    """The UTC day number (days since 1970-01-01) of a time in ms."""
    return int(ms) // DAY_MS


def day_from_date(value: str) -> int:
    """The day number of an ISO date (``2026-12-02``); ``ValueError`` names
    the bad text."""
    try:
        date = _dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return (date - _dt.date(1970, 1, 1)).days


def date_of_day(day: int) -> str:
    """The ISO date of a day number."""
    return (_dt.date(1970, 1, 1) + _dt.timedelta(days=day)).isoformat()


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """One counter: ``count`` occurrences adding up to ``total``."""

    name: str
    day: int
    dims: Dims = ()
    count: int = 1
    total: float = 0.0

    @property
    def key(self) -> tuple[str, int, Dims]:
        return (self.name, self.day, self.dims)


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """Every fact merged so far for one session, and the version of that
    set: higher versions hold every fact of lower ones."""

    facts: dict[str, FactValue]
    version: int


@dataclass(frozen=True, slots=True)
class Tally:
    """What :meth:`AggregateMethods.aggregate` returns per group."""

    count: int = 0
    total: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.total + other.total)


def _check_name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_KEY_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_KEY_LENGTH} characters: {value[:40]!r}...")
    return value


def _row_problem(row: Any) -> Exception | None:
    """What is wrong with a row, if anything (the slow, exact checks)."""
    if not isinstance(row, AggregateRow):
        return TypeError(f"aggregate rows must be AggregateRow, got {type(row).__name__}")
    try:
        _check_name("an aggregate name", row.name)
    except ValueError as exc:
        return exc
    if isinstance(row.day, bool) or not isinstance(row.day, int):
        return ValueError(f"day must be an integer day number, got {row.day!r}")
    if not isinstance(row.dims, tuple) or not all(isinstance(d, str) for d in row.dims):
        return ValueError(f"dims must be a tuple of strings, got {row.dims!r}")
    if isinstance(row.count, bool) or not isinstance(row.count, int):
        return ValueError(f"count must be an integer, got {row.count!r}")
    if not isinstance(row.total, int | float) or not math.isfinite(row.total):
        return ValueError(f"total must be a finite number, got {row.total!r}")
    return None


def check_rows(rows: Iterable[AggregateRow]) -> list[AggregateRow]:
    """``rows`` merged by key (counts and totals added), checked; the rows
    a contribution holds. ``ValueError`` names what is wrong."""
    merged: dict[tuple[str, int, Dims], list[Any]] = {}
    names: set[str] = set()
    # Collectors set hundreds of rows per fold: the checks try the common
    # types first, and only a row they do not pass goes through the exact
    # checks (which also accept subclasses, and name what is wrong).
    for row in rows:
        try:
            name, day, dims, count, total = row.name, row.day, row.dims, row.count, row.total
            fine = (
                type(row) is AggregateRow
                and (name in names or (type(name) is str and 0 < len(name) <= MAX_KEY_LENGTH))
                and type(day) is int
                and type(dims) is tuple
                and type(count) is int
                and (type(total) is float or type(total) is int)
                and total - total == 0  # neither infinite nor NaN
            )
            if fine:
                "".join(dims)  # every dimension a string, or TypeError
        except (AttributeError, TypeError):
            fine = False
        if not fine:
            problem = _row_problem(row)
            if problem is not None:
                raise problem
            name, day, dims, count, total = row.name, row.day, row.dims, row.count, row.total
        names.add(name)
        key = (name, day, dims)
        slot = merged.get(key)
        if slot is None:
            # a row that passed the fast checks is kept while nothing adds
            # to it (building a frozen dataclass costs a microsecond)
            merged[key] = [count, float(total), row if fine else None]
        else:
            slot[0] += count
            slot[1] += total
            slot[2] = None
    out = [
        kept if kept is not None else AggregateRow(n, d, k, int(c), t)
        for (n, d, k), (c, t, kept) in merged.items()
        if c or t
    ]
    if len(out) > MAX_CONTRIBUTION_ROWS:
        raise ValueError(
            f"a contribution holds at most {MAX_CONTRIBUTION_ROWS} rows, got {len(out)}"
        )
    return out


#: A total whose count is 0 and whose sum is within this of 0 is gone:
#: sums of floats added and taken away again rarely come back to exactly 0.
ZERO_TOTAL = 1e-9


def is_zero_total(count: float, total: float) -> bool:
    """Whether a total is zero, so that a store deletes it (and leaves it
    out of what it reads)."""
    return count == 0 and abs(total) < ZERO_TOTAL


def row_delta(old: Sequence[AggregateRow], new: Sequence[AggregateRow]) -> list[AggregateRow]:
    """What to add to the totals to replace ``old`` with ``new`` (rows
    whose difference is zero left out)."""
    delta: dict[tuple[str, int, Dims], list[float]] = {}
    for sign, rows in ((-1, old), (1, new)):
        for r in rows:
            slot = delta.setdefault(r.key, [0, 0.0])
            slot[0] += sign * r.count
            slot[1] += sign * r.total
    return [AggregateRow(n, d, k, int(c), t) for (n, d, k), (c, t) in delta.items() if c or t]


def rows_to_json(rows: Sequence[AggregateRow]) -> list[list[Any]]:
    """A compact JSON form of rows for a backend to keep."""
    return [[r.name, r.day, list(r.dims), r.count, r.total] for r in rows]


def rows_from_json(data: Iterable[Sequence[Any]]) -> list[AggregateRow]:
    return [AggregateRow(n, int(d), tuple(k), int(c), float(t)) for n, d, k, c, t in data]


def _matches(dims: Dims, where: Mapping[int, Any]) -> bool:
    for pos, wanted in where.items():
        value = dims[pos] if pos < len(dims) else ""
        if callable(wanted):
            if not wanted(value):
                return False
        elif isinstance(wanted, str):
            if value != wanted:
                return False
        elif value not in wanted:
            return False
    return True


def _at(dims: Dims, pos: int) -> str:
    return dims[pos] if pos < len(dims) else ""


def _allowed(where: Mapping[int, Any] | None) -> dict[int, frozenset[str]] | None:
    """``where`` as the sets of values allowed per position, or ``None``
    when a predicate is among them (only Python can evaluate it)."""
    out: dict[int, frozenset[str]] = {}
    for pos, wanted in (where or {}).items():
        if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
            raise ValueError(f"a where position must be an integer of at least 0, got {pos!r}")
        if callable(wanted):
            return None
        values = frozenset([wanted] if isinstance(wanted, str) else wanted)
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"where matches text, got {wanted!r} at {pos}")
        out[pos] = values
    return out


def _exact(where: Allowed) -> dict[int, str]:
    """What ``aggregates_fetch`` may use of ``where``: single values. Not
    ``""``, which a row without that dimension matches too, and a backend
    may not know it."""
    return {p: v for p, allowed in where.items() if len(allowed) == 1 for v in allowed if v}


def _positions(what: str, positions: Sequence[int]) -> tuple[int, ...]:
    out = tuple(positions)
    for pos in out:
        if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
            raise ValueError(f"{what} positions must be integers of at least 0, got {pos!r}")
    return out


def group_rows(
    rows: Iterable[AggregateRow],
    where: Allowed,
    group_by: Sequence[int],
    by_day: bool = False,
) -> dict[Dims, Tally]:
    """The reference semantics of ``aggregates_group``: the rows whose
    dimension at each position of ``where`` is one of the values given
    there (a missing dimension is ``""``), summed per group of the
    dimensions at ``group_by``, preceded by the ISO date when ``by_day``."""
    sums: dict[Dims, list[float]] = {}
    for row in rows:
        dims = row.dims
        if any(_at(dims, pos) not in allowed for pos, allowed in where.items()):
            continue
        group = tuple(_at(dims, p) for p in group_by)
        if by_day:
            group = (date_of_day(row.day), *group)
        slot = sums.setdefault(group, [0, 0.0])
        slot[0] += row.count
        slot[1] += row.total
    return {k: Tally(int(c), t) for k, (c, t) in sums.items()}


def group_sizes(groups: Mapping[Dims, Tally]) -> dict[int, int]:
    """The reference semantics of ``aggregates_group_sizes``: how many of
    ``groups`` have each count."""
    sizes: dict[int, int] = {}
    for tally in groups.values():
        sizes[tally.count] = sizes.get(tally.count, 0) + 1
    return sizes


def latest_rows(
    rows: Iterable[AggregateRow],
    where: Allowed,
    group_by: Sequence[int],
    limit: int,
    groups: frozenset[Dims] | None = None,
) -> dict[Dims, list[AggregateRow]]:
    """The reference semantics of ``aggregates_latest``: per group of the
    dimensions at ``group_by`` (only the ``groups`` given, when given), the
    first ``limit`` rows matching ``where`` ordered by day (latest first),
    then total (highest first), then dims (ascending)."""
    found: dict[Dims, list[AggregateRow]] = {}
    for row in rows:
        if any(_at(row.dims, pos) not in allowed for pos, allowed in where.items()):
            continue
        group = tuple(_at(row.dims, p) for p in group_by)
        if groups is None or group in groups:
            found.setdefault(group, []).append(row)
    for items in found.values():
        items.sort(key=lambda r: r.dims)
        items.sort(key=lambda r: (r.day, r.total), reverse=True)
        del items[limit:]
    return found


class AggregateMethods:
    """The aggregates part of :class:`sentiero_core.store.Store`.

    Public methods (what collectors and analyzers call): :meth:`merge_facts`,
    :meth:`add_facts`, :meth:`session_facts`, :meth:`unfolded_sessions`,
    :meth:`set_contribution`, :meth:`aggregate`,
    :meth:`aggregate_group_sizes`, :meth:`aggregate_latest`,
    :meth:`aggregate_rows`, :meth:`clear_aggregates`. A store with
    ``capabilities.aggregates`` implements the primitives whose names start
    with ``aggregates_`` (``aggregates_add_facts``, ``aggregates_facts``,
    ``aggregates_unfolded``, ``aggregates_group``,
    ``aggregates_group_sizes`` and ``aggregates_latest`` are optional); the
    store removes a session's contributions and facts itself whenever it
    removes the session.
    """

    name: str
    capabilities: Any

    def _require_aggregates(self) -> None:
        if not getattr(self.capabilities, "aggregates", False):
            raise AggregatesUnsupported(
                f"the {self.name} store does not keep aggregates "
                "(its StoreCapabilities do not declare aggregates=True)"
            )

    # -- the public interface ------------------------------------------------

    async def merge_facts(
        self, session_id: str, facts: Mapping[str, FactValue]
    ) -> SessionFacts | None:
        """Add ``facts`` to the session's facts, atomically, and return all
        of them with their new version; ``None`` when the session does not
        exist (removed meanwhile). A fact's key names it and its value must
        be what every delivery of it carries (a repeated fact changes
        nothing but the version). Facts go with the session."""
        return await self.aggregates_merge_facts(session_id, self._checked_facts(session_id, facts))

    async def add_facts(self, session_id: str, facts: Mapping[str, FactValue]) -> bool:
        """Merge ``facts`` like :meth:`merge_facts` (atomically, bumping the
        version) without reading the session's facts back: for a collector
        that folds later, this spares carrying every fact of a long session
        at every batch. ``False`` when the session does not exist."""
        checked = self._checked_facts(session_id, facts)
        return bool(await self.aggregates_add_facts(session_id, checked))

    def _checked_facts(
        self, session_id: str, facts: Mapping[str, FactValue]
    ) -> dict[str, FactValue]:
        """``facts`` as a dict, after the checks every merge makes."""
        self._require_aggregates()
        _check_name("session_id", session_id)
        if not isinstance(facts, Mapping):
            raise TypeError(f"facts must be a mapping, got {type(facts).__name__}")
        for key in facts:
            _check_name("a fact key", key)
        return dict(facts)

    async def session_facts(self, session_id: str) -> SessionFacts | None:
        """The session's facts and their version as they stand, changing
        nothing: what a collector folds when it folds later than it merges.
        Version 0 and no facts for a session nothing was merged into yet;
        ``None`` when the session does not exist."""
        self._require_aggregates()
        _check_name("session_id", session_id)
        return await self.aggregates_facts(session_id)

    async def unfolded_sessions(
        self, key: str, *, after: str | None = None, limit: int = 1000
    ) -> list[str]:
        """Sessions whose facts are newer than their contribution under
        ``key`` (their facts version is higher than the contribution's, or
        they have facts and no contribution): facts merged and never folded,
        for instance by a process that stopped before its pending folds.
        At most ``limit`` ids, in ascending order, each greater than
        ``after`` when given (to page through them)."""
        self._require_aggregates()
        _check_name("a contribution key", key)
        if after is not None and not isinstance(after, str):
            raise ValueError(f"after must be a session id, got {after!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an integer of at least 1, got {limit!r}")
        return list(await self.aggregates_unfolded(key, after, limit))

    async def set_contribution(
        self,
        session_id: str,
        key: str,
        rows: Iterable[AggregateRow],
        version: int = 1,
    ) -> bool:
        """Make ``rows`` the session's contribution under ``key``, replacing
        an older version (the totals change by the difference, atomically);
        ``False`` when the stored version is already ``version`` or higher
        (a repeat, or a later fold won) or the session does not exist."""
        self._require_aggregates()
        _check_name("session_id", session_id)
        _check_name("a contribution key", key)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"version must be an integer of at least 1, got {version!r}")
        return await self.aggregates_set(session_id, key, version, check_rows(rows))

    async def aggregate_rows(
        self,
        names: Sequence[str],
        day_from: int,
        day_to: int,
        where: Mapping[int, str] | None = None,
    ) -> list[AggregateRow]:
        """The totals of aggregates ``names`` for days ``day_from`` to
        ``day_to`` inclusive, one row per (name, day, dims), zeros left out;
        only rows whose dimension at each position of ``where`` equals the
        text given there, when given."""
        self._require_aggregates()
        wanted = sorted({_check_name("an aggregate name", n) for n in names})
        if not wanted or day_to < day_from:
            return []
        exact = dict(where or {})
        for pos, value in exact.items():
            if isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
                raise ValueError(f"a where position must be an integer of at least 0, got {pos!r}")
            if not isinstance(value, str):
                raise ValueError(f"aggregate_rows matches text only, got {value!r} at {pos}")
        rows = await self.aggregates_fetch(wanted, int(day_from), int(day_to), exact)
        # A backend may filter or not: the result is the same either way.
        return [r for r in rows if not exact or _matches(r.dims, exact)]

    async def aggregate(
        self,
        name: str,
        day_from: int,
        day_to: int,
        *,
        where: Mapping[int, Any] | None = None,
        group_by: Sequence[int] = (),
        by_day: bool = False,
    ) -> dict[Dims, Tally]:
        """The totals of one aggregate summed per group.

        ``where`` maps a dimension's position to the value it must equal, a
        collection of allowed values, or a predicate; ``group_by`` lists the
        positions of the dimensions that make a group (its key, in that
        order), preceded by the ISO date when ``by_day``. Without
        predicates the store sums in place (``aggregates_group``), so only
        the groups travel."""
        self._require_aggregates()
        _check_name("an aggregate name", name)
        positions = _positions("group_by", group_by)
        allowed = _allowed(where)
        if day_to < day_from:
            return {}
        if allowed is not None:
            if any(not values for values in allowed.values()):
                return {}
            return dict(
                await self.aggregates_group(
                    name, int(day_from), int(day_to), allowed, positions, bool(by_day)
                )
            )
        # a predicate: every row of the range comes to Python
        groups: dict[Dims, Tally] = {}
        exact = {p: v for p, v in (where or {}).items() if isinstance(v, str)}
        for row in await self.aggregate_rows([name], day_from, day_to, exact):
            if where and not _matches(row.dims, where):
                continue
            group = tuple(_at(row.dims, p) for p in positions)
            if by_day:
                group = (date_of_day(row.day), *group)
            groups[group] = groups.get(group, Tally()) + Tally(row.count, row.total)
        return groups

    async def aggregate_group_sizes(
        self,
        name: str,
        day_from: int,
        day_to: int,
        *,
        group_by: Sequence[int],
        where: Mapping[int, str | Iterable[str]] | None = None,
    ) -> dict[int, int]:
        """How many groups (as :meth:`aggregate` makes them) have each
        count: ``{1: 120, 2: 30}`` is 150 groups, 30 of them counted
        twice. Distinct users and returning users, say, without the groups
        leaving the store; ``where`` as for :meth:`aggregate_latest`."""
        self._require_aggregates()
        _check_name("an aggregate name", name)
        positions = _positions("group_by", group_by)
        allowed = _allowed(where)
        if allowed is None:
            raise ValueError(
                "aggregate_group_sizes matches text or collections of text, not predicates"
            )
        if day_to < day_from or any(not v for v in allowed.values()):
            return {}
        return dict(
            await self.aggregates_group_sizes(name, int(day_from), int(day_to), allowed, positions)
        )

    async def aggregate_latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        *,
        group_by: Sequence[int],
        limit: int,
        where: Mapping[int, str | Iterable[str]] | None = None,
        groups: Iterable[Dims] | None = None,
    ) -> dict[Dims, list[AggregateRow]]:
        """Per group of the dimensions at ``group_by``, the first ``limit``
        total rows of ``name`` in the day range, latest day first, then
        highest total, then dims in ascending order; ``where`` as for
        :meth:`aggregate` (text or collections of text). With ``groups``,
        only those groups: a store may then stop reading once each has
        ``limit`` rows. For rows that name a session (a replay link whose
        total is a time), this is the recent sessions of each group without
        reading every session's row."""
        self._require_aggregates()
        _check_name("an aggregate name", name)
        positions = _positions("group_by", group_by)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LATEST:
            raise ValueError(f"limit must be an integer from 1 to {MAX_LATEST}, got {limit!r}")
        allowed = _allowed(where)
        if allowed is None:
            raise ValueError("aggregate_latest matches text or collections of text, not predicates")
        wanted = None
        if groups is not None:
            wanted = frozenset(tuple(g) for g in groups)
            if any(len(g) != len(positions) for g in wanted):
                raise ValueError("every group must have one value per group_by position")
        if day_to < day_from or any(not v for v in allowed.values()) or wanted == frozenset():
            return {}
        return dict(
            await self.aggregates_latest(
                name, int(day_from), int(day_to), allowed, positions, limit, wanted
            )
        )

    async def clear_aggregates(self) -> None:
        """Remove every aggregate, contribution and fact (before a rebuild)."""
        self._require_aggregates()
        await self.aggregates_clear()

    # -- what a backend with the capability implements -------------------------

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, FactValue]
    ) -> SessionFacts | None:
        """Merge (set) ``facts`` into the session's facts and bump their
        version, atomically; all facts and the new version, or ``None`` for
        a session that does not exist."""
        raise AggregatesUnsupported(f"the {self.name} store does not keep aggregates")

    async def aggregates_add_facts(self, session_id: str, facts: dict[str, FactValue]) -> bool:
        """Merge (set) ``facts`` and bump the version, atomically, like
        :meth:`aggregates_merge_facts`, returning only whether the session
        exists. The fallback merges and drops the answer; a backend should
        write without reading the session's facts."""
        return await self.aggregates_merge_facts(session_id, facts) is not None

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        """The session's facts and version without changing them
        (``SessionFacts({}, 0)`` before any merge), or ``None`` for a
        session that does not exist. The fallback merges nothing, which
        reads them at the cost of a write and a version; a backend should
        read them instead."""
        return await self.aggregates_merge_facts(session_id, {})

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> Sequence[str]:
        """Up to ``limit`` ids (ascending, each greater than ``after`` when
        given) of sessions whose facts version is higher than their
        contribution under ``key``, or that have facts and no contribution
        under ``key``. Without it a collector cannot find what a stopped
        process left unfolded."""
        raise AggregatesUnsupported(
            f"the {self.name} store cannot list sessions with unfolded facts "
            "(it does not implement aggregates_unfolded)"
        )

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        """Replace the contribution ``(session_id, key)`` when its stored
        version is lower than ``version`` (or it is absent), adding
        :func:`row_delta` (old, new) to the totals in the same atomic step;
        totals that reach zero (:func:`is_zero_total`) are deleted. ``False`` when
        nothing changed."""
        raise AggregatesUnsupported(f"the {self.name} store does not keep aggregates")

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> Sequence[AggregateRow]:
        """Total rows of these names in the day range (inclusive). ``where``
        (position -> text) may be used to leave out rows whose dimension
        there differs; the caller filters again, so ignoring it is correct,
        only slower."""
        raise AggregatesUnsupported(f"the {self.name} store does not keep aggregates")

    async def aggregates_clear(self) -> None:
        """Drop every total, contribution and fact."""
        raise AggregatesUnsupported(f"the {self.name} store does not keep aggregates")

    # -- optional: a backend that can sum or sort in place overrides these -----

    async def aggregates_group(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
        by_day: bool,
    ) -> Mapping[Dims, Tally]:
        """What :meth:`aggregate` returns for ``where`` given as the values
        allowed per position (none empty); :func:`group_rows` is the
        reference. By default, every row of the range is read with
        ``aggregates_fetch`` and summed here."""
        rows = await self.aggregates_fetch([name], day_from, day_to, _exact(where))
        return group_rows((r for r in rows if r.name == name), where, group_by, by_day)

    async def aggregates_group_sizes(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
    ) -> Mapping[int, int]:
        """What :meth:`aggregate_group_sizes` returns; :func:`group_sizes`
        of ``aggregates_group`` by default."""
        groups = await self.aggregates_group(name, day_from, day_to, where, group_by, False)
        return group_sizes(groups)

    async def aggregates_latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Allowed,
        group_by: tuple[int, ...],
        limit: int,
        groups: frozenset[Dims] | None,
    ) -> Mapping[Dims, list[AggregateRow]]:
        """What :meth:`aggregate_latest` returns; :func:`latest_rows` is the
        reference. By default, days are read one at a time with
        ``aggregates_fetch`` from the latest, until every group asked for
        has ``limit`` rows (or the range ends)."""
        found: dict[Dims, list[AggregateRow]] = {}
        for day in range(day_to, day_from - 1, -1):
            rows = await self.aggregates_fetch([name], day, day, _exact(where))
            for group, items in latest_rows(
                (r for r in rows if r.name == name and r.day == day), where, group_by, limit, groups
            ).items():
                have = found.setdefault(group, [])
                have += items[: limit - len(have)]
            full = all(len(items) >= limit for items in found.values())
            if groups is not None and len(found) == len(groups) and full:
                break
        return found
