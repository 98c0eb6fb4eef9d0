"""Deletions reach ``audit_log``; a failing audit_log never undoes them."""

from __future__ import annotations

from typing import Any

import pytest

from sentiero_core import Settings, create_app
from sentiero_core.testing import make_batch

EVENTS = [{"type": 4, "timestamp": 1_700_000_000_000, "data": {"href": "https://a.example/"}}]


@pytest.mark.asyncio
async def test_api_delete_is_audited() -> None:
    records: list[dict[str, Any]] = []

    async def audit_log(record: dict[str, Any]) -> None:
        records.append(record)

    app = create_app(Settings(store_url="memory://", audit_log=audit_log))
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await store.append(make_batch("sessionAudit1", "windowAudit1", EVENTS))
        client = app.test_client()
        assert (await client.delete("/sentiero/api/sessions/sessionAudit1")).status_code == 204
        assert (await client.delete("/sentiero/api/sessions/sessionAudit1")).status_code == 404
    assert len(records) == 1
    assert records[0]["action"] == "sessions_deleted"
    assert records[0]["session_ids"] == ["sessionAudit1"]
    assert records[0]["via"] == "api"
    assert isinstance(records[0]["at"], int)


@pytest.mark.asyncio
async def test_a_failing_audit_log_does_not_undo_the_delete() -> None:
    def audit_log(record: dict[str, Any]) -> None:
        raise RuntimeError("audit sink down")

    app = create_app(Settings(store_url="memory://", audit_log=audit_log))
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await store.append(make_batch("sessionAudit2", "windowAudit2", EVENTS))
        response = await app.test_client().delete("/sentiero/api/sessions/sessionAudit2")
        assert response.status_code == 204
        assert await store.get_session("sessionAudit2") is None
