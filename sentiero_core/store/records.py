"""Records: the optional capability through which plugins keep small JSON
documents of their own in the app's store (private module: import from
:mod:`sentiero_core.store`).

A store that declares ``StoreCapabilities(records=True)`` implements the
record primitives of :class:`~sentiero_core.store.Store`. Records live in
named collections; each is a JSON object with a string ``_id``. Updates are
atomic per record, also between several app servers sharing one database
(MongoDB semantics: ``$set``, ``$setOnInsert``, ``$inc``, ``$max``, ``$min``,
``$addToSet``), so counters kept this way are never lost. Queries are
conjunctions of conditions on top-level fields (:data:`Where`).

This module also holds the reference semantics (:func:`apply_update`,
:func:`matches`, :func:`sort_records`) that a store keeping records in
Python, or in JSON text, can use as they are.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAX_KEY_LENGTH = 256


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Condition: the field equals one of ``values`` (or, for a list field,
    holds one of them)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))


@dataclass(frozen=True, slots=True)
class AtLeast:
    """Condition: the field is a number greater than or equal to ``value``."""

    value: int | float


@dataclass(frozen=True, slots=True)
class Below:
    """Condition: the field is a number strictly less than ``value``."""

    value: int | float


Condition = Any  # a JSON scalar (equality, or membership for a list field), AnyOf, AtLeast, Below
Where = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """The changes of one :meth:`Store.update_record`, applied atomically.

    ``set``: fields replaced. ``set_on_insert``: fields written only when
    the record is created. ``inc``: numbers added (a missing field counts
    as 0). ``maximum`` / ``minimum``: a field kept at the larger / smaller
    of its value and this one (a missing field takes this one).
    ``add_to_set``: values added to a list field unless present (a missing
    field becomes a list). A field appears in one of them at most.
    """

    set: Mapping[str, Any] = field(default_factory=dict)
    set_on_insert: Mapping[str, Any] = field(default_factory=dict)
    inc: Mapping[str, int | float] = field(default_factory=dict)
    maximum: Mapping[str, Any] = field(default_factory=dict)
    minimum: Mapping[str, Any] = field(default_factory=dict)
    add_to_set: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def parts(self) -> dict[str, Mapping[str, Any]]:
        return {
            "set": self.set,
            "set_on_insert": self.set_on_insert,
            "inc": self.inc,
            "maximum": self.maximum,
            "minimum": self.minimum,
            "add_to_set": self.add_to_set,
        }


# -- argument checks (the Store base class runs them for every backend) ------


def check_collection(name: Any) -> str:
    if not isinstance(name, str) or not _COLLECTION.match(name):
        raise ValueError(
            f"record collection names are 1-63 lowercase letters, digits and "
            f"underscores starting with a letter, got {name!r}"
        )
    return name


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"a record key is a non-empty string of at most 256 characters, got {key!r}"
        )
    return key


def check_field(name: Any) -> str:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise ValueError(
            f"record fields named in updates and queries are top-level identifiers, got {name!r}"
        )
    return name


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: object keys must be strings, got {key!r}")
            _check_json(item, where)
        return
    raise ValueError(f"{where}: {type(value).__name__} is not a JSON value")


def check_update(update: Any) -> RecordUpdate:
    if not isinstance(update, RecordUpdate):
        raise TypeError(f"update must be a RecordUpdate, got {type(update).__name__}")
    seen: set[str] = set()
    for part, fields in update.parts().items():
        for name, value in fields.items():
            check_field(name)
            if name == "_id":
                raise ValueError("a record's _id is its key and cannot be updated")
            if name in seen:
                raise ValueError(f"field {name!r} appears in more than one part of the update")
            seen.add(name)
            if part == "inc" and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"inc {name!r}: {value!r} is not a number")
            if part == "add_to_set" and not isinstance(value, list | tuple):
                raise ValueError(f"add_to_set {name!r}: give a list of values, got {value!r}")
            _check_json(value, f"{part} {name!r}")
    return update


def check_where(where: Any) -> dict[str, Any]:
    if where is None:
        return {}
    if not isinstance(where, Mapping):
        raise TypeError(f"where must be a mapping of field to condition, got {where!r}")
    for name, condition in where.items():
        check_field(name)
        if isinstance(condition, AnyOf):
            _check_json(list(condition.values), f"where {name!r}")
        elif isinstance(condition, AtLeast | Below):
            if isinstance(condition.value, bool) or not isinstance(condition.value, int | float):
                raise ValueError(f"where {name!r}: compare with a number, got {condition.value!r}")
        elif isinstance(condition, list | dict | tuple):
            raise ValueError(
                f"where {name!r}: use AnyOf(...) for several values, got {condition!r}"
            )
        else:
            _check_json(condition, f"where {name!r}")
    return dict(where)


# -- reference semantics -------------------------------------------------------


def _equal(a: Any, b: Any) -> bool:
    # JSON has no separate boolean/number equality: True is not 1 here.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _holds(value: Any, wanted: Any) -> bool:
    if isinstance(value, list):
        return any(_equal(item, wanted) for item in value)
    return _equal(value, wanted)


def matches(record: Mapping[str, Any], where: Where) -> bool:
    """Whether ``record`` meets every condition of ``where``."""
    for name, condition in where.items():
        value = record.get(name)
        if isinstance(condition, AnyOf):
            if not any(_holds(value, wanted) for wanted in condition.values):
                return False
        elif isinstance(condition, AtLeast | Below):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if isinstance(condition, AtLeast) and not value >= condition.value:
                return False
            if isinstance(condition, Below) and not value < condition.value:
                return False
        elif not _holds(value, condition):
            return False
    return True


def apply_update(
    record: Mapping[str, Any] | None, key: str, update: RecordUpdate
) -> dict[str, Any]:
    """The record after ``update`` (a new one when ``record`` is None)."""
    created = record is None
    doc: dict[str, Any] = {"_id": key} if record is None else copy.deepcopy(dict(record))
    if created:
        doc.update(copy.deepcopy(dict(update.set_on_insert)))
    doc.update(copy.deepcopy(dict(update.set)))
    for name, amount in update.inc.items():
        current = doc.get(name, 0)
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise ValueError(f"cannot inc field {name!r}: it holds {current!r}")
        doc[name] = current + amount
    for name, value in update.maximum.items():
        if name not in doc or doc[name] is None or value > doc[name]:
            doc[name] = value
    for name, value in update.minimum.items():
        if name not in doc or doc[name] is None or value < doc[name]:
            doc[name] = value
    for name, values in update.add_to_set.items():
        current = doc.get(name)
        if current is None:
            current = []
        elif not isinstance(current, list):
            raise ValueError(f"cannot add_to_set field {name!r}: it holds {current!r}")
        else:
            current = list(current)
        for value in values:
            if not any(_equal(item, value) for item in current):
                current.append(copy.deepcopy(value))
        doc[name] = current
    return doc


def sort_records(
    records: Iterable[Mapping[str, Any]], order_by: str | None, descending: bool
) -> list[dict[str, Any]]:
    """Ordered by ``order_by`` then ``_id`` (both descending or both not). A
    missing or null field sorts below every value, as in SQLite and MongoDB."""
    listed = [dict(r) for r in records]
    if order_by is None:
        return sorted(listed, key=lambda r: r["_id"], reverse=descending)
    present = [r for r in listed if r.get(order_by) is not None]
    missing = [r for r in listed if r.get(order_by) is None]
    present.sort(key=lambda r: (r[order_by], r["_id"]), reverse=descending)
    missing.sort(key=lambda r: r["_id"], reverse=descending)
    return present + missing if descending else missing + present


def check_page(order_by: Any, limit: Any, offset: Any) -> None:
    if order_by is not None:
        check_field(order_by)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
