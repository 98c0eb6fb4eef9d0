"""The one place that knows which async client the store was given.

PyMongo's ``AsyncMongoClient`` is the default. Motor's ``AsyncIOMotorClient``
(end of life on 2026-05-14, still common in existing apps) can be injected
instead. The two agree on nearly everything the store uses; where they do
not, the store calls the functions here:

- ``aggregate`` must be awaited in PyMongo to get its cursor; Motor returns
  the cursor directly.
- ``close`` must be awaited in PyMongo; in Motor it is a plain call.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

Document = dict[str, Any]


def is_motor(client: Any) -> bool:
    return type(client).__module__.startswith("motor")


def connect(url: str, *, server_selection_timeout_ms: int, connect_timeout_ms: int) -> Any:
    """A PyMongo async client; it connects lazily, on the first command."""
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=connect_timeout_ms,
        retryWrites=True,
        retryReads=True,
        appname="sentiero",
        tz_aware=True,
    )


async def aggregate(collection: Any, pipeline: list[Document]) -> list[Document]:
    if is_motor(collection):
        cursor = collection.aggregate(pipeline)
    else:
        cursor = await collection.aggregate(pipeline)
    return list(await cursor.to_list(None))


async def close_client(client: Any) -> None:
    if is_motor(client):
        client.close()
    else:
        await client.close()


def client_hosts(client: Any) -> str:
    """``host:port`` of every server the client was seeded with, for messages."""
    try:
        addresses = client.topology_description.server_descriptions().keys()
    except Exception:
        return "the injected client's servers"
    return ", ".join(f"{host}:{port}" for host, port in sorted(addresses)) or "no server"
