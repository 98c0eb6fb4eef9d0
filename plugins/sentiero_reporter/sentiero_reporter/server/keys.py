"""Ingest keys: one or more per project, stored as SHA-256 hashes only.

A key is 32 random bytes, URL-safe base64, prefixed ``sk_``; what the store
keeps is its hash (the record's key), its project, a short prefix to name
it by, and when it was created and revoked. Every request looks the key up,
so a revocation applies to the next request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any

from sentiero_core.store import RecordUpdate, Store

KEYS = "reporter_keys"
PREFIX_LENGTH = 12
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_project(project: Any) -> str:
    if not isinstance(project, str) or not _PROJECT.match(project):
        raise ValueError(
            f"a project name is 1-64 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit; got {project!r}"
        )
    return project


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_key(store: Store, project: str) -> tuple[str, dict[str, Any]]:
    """A new key for ``project``: the token (shown once) and its record."""
    check_project(project)
    token = "sk_" + secrets.token_urlsafe(32)
    record = await store.update_record(
        KEYS,
        key_hash(token),
        RecordUpdate(
            set_on_insert={
                "project": project,
                "prefix": token[:PREFIX_LENGTH],
                "created_at": int(time.time() * 1000),
                "revoked_at": None,
            }
        ),
    )
    return token, record


async def list_keys(store: Store, project: str) -> list[dict[str, Any]]:
    check_project(project)
    return await store.find_records(
        KEYS, {"project": project}, order_by="created_at", descending=False, limit=1000
    )


async def revoke_key(store: Store, project: str, prefix: str) -> int:
    """Revoke the project's live keys starting with ``prefix``; how many."""
    check_project(project)
    if not isinstance(prefix, str) or len(prefix) < 6:
        raise ValueError("name the key by at least its first 6 characters (see `keys list`)")
    revoked = 0
    for record in await list_keys(store, project):
        live = record["revoked_at"] is None
        if (
            live
            and record["prefix"].startswith(prefix[:PREFIX_LENGTH])
            and await store.compare_and_set_record(
                KEYS, record["_id"], {"revoked_at": None}, {"revoked_at": int(time.time() * 1000)}
            )
        ):
            revoked += 1
    return revoked


async def project_for(store: Store, token: str) -> tuple[str | None, str]:
    """The project a live key belongs to, or None and the reason."""
    if not token.startswith("sk_") or len(token) > 200:
        return None, "ingest key is malformed"
    record = await store.get_record(KEYS, key_hash(token))
    if record is None:
        return None, "unknown ingest key"
    if record.get("revoked_at") is not None:
        return None, "ingest key revoked"
    return str(record["project"]), ""
