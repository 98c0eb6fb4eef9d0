"""The records capability in MongoDB: one collection per record collection
(``<prefix>rec_<name>``), documents keyed by ``_id``.

Updates are ``findAndModify`` / ``update`` commands with MongoDB's own
operators, each atomic on the server whatever the number of app servers.
They are not repeated by the store's retrier (an increment must not land
twice); PyMongo's retryable writes cover a single dropped connection.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from sentiero_core.store import AnyOf, AtLeast, Below, RecordUpdate, StoreError

_OPERATORS = {
    "set": "$set",
    "set_on_insert": "$setOnInsert",
    "inc": "$inc",
    "maximum": "$max",
    "minimum": "$min",
}


def collection_name(prefix: str, collection: str) -> str:
    return f"{prefix}rec_{collection}"


def update_document(update: RecordUpdate) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for part, fields in update.parts().items():
        if not fields:
            continue
        if part == "add_to_set":
            doc["$addToSet"] = {name: {"$each": list(values)} for name, values in fields.items()}
        else:
            doc[_OPERATORS[part]] = dict(fields)
    return doc


def query(where: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {} if key is None else {"_id": key}
    for name, condition in where.items():
        if isinstance(condition, AnyOf):
            found[name] = {"$in": list(condition.values)}
        elif isinstance(condition, AtLeast):
            found[name] = {"$gte": condition.value}
        elif isinstance(condition, Below):
            found[name] = {"$lt": condition.value}
        else:
            found[name] = condition
    if key is not None and "_id" in where:
        # Both the key and a condition on _id: they must agree.
        found = {"$and": [{"_id": key}, query(where)]}
    return found


async def upsert(coll: Any, key: str, update: RecordUpdate) -> dict[str, Any]:
    """Update the record if it exists; otherwise create it with its
    ``set_on_insert`` fields (a concurrent creation by another server is
    fine) and update it then. Every step is atomic on the server."""
    changes = update_document(replace(update, set_on_insert={}))
    if changes:
        after = await coll.find_one_and_update(
            {"_id": key}, changes, return_document=ReturnDocument.AFTER
        )
        if after is not None:
            return dict(after)
    with contextlib.suppress(DuplicateKeyError):
        await coll.insert_one({"_id": key, **update.set_on_insert})
    if not changes:
        found = await coll.find_one({"_id": key})
        return dict(found) if found is not None else {"_id": key}
    after = await coll.find_one_and_update(
        {"_id": key}, changes, return_document=ReturnDocument.AFTER
    )
    if after is None:
        raise StoreError(f"record {key!r} vanished while it was being updated")
    return dict(after)


async def compare_and_set(
    coll: Any, key: str, expected: dict[str, Any], changes: dict[str, Any]
) -> bool:
    if not changes:
        return await coll.count_documents(query(expected, key), limit=1) == 1
    result = await coll.update_one(query(expected, key), {"$set": changes})
    return bool(result.matched_count == 1)


async def find(
    coll: Any,
    where: dict[str, Any],
    order_by: str | None,
    descending: bool,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    direction = -1 if descending else 1
    order = [("_id", direction)]
    if order_by is not None and order_by != "_id":
        order.insert(0, (order_by, direction))
    cursor = coll.find(query(where)).sort(order).skip(offset).limit(limit)
    return [dict(doc) async for doc in cursor]
