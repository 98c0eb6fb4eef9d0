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


async def _who(settings: Settings) -> list[Any]:
    records: list[dict[str, Any]] = []
    settings.audit_log = records.append
    app = create_app(settings)
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await store.append(make_batch("sessionWho01", "windowWho01", EVENTS))
        response = await app.test_client().delete("/sentiero/api/sessions/sessionWho01")
        assert response.status_code == 204
    return [r["by"] for r in records]


@pytest.mark.asyncio
async def test_who_comes_from_current_user_then_from_auth_callback() -> None:
    """``current_user(request)`` names the user; without it a string that
    ``auth_callback`` returned does; ``True`` or no callback names nobody."""

    async def header_user(request: Any) -> str | None:
        return request.headers.get("X-Forwarded-User", "carol")

    assert await _who(Settings(store_url="memory://", current_user=header_user)) == ["carol"]
    both = Settings(
        store_url="memory://", auth_callback=lambda r: "bob", current_user=lambda r: "carol"
    )
    assert await _who(both) == ["carol"]
    assert await _who(Settings(store_url="memory://", auth_callback=lambda r: "bob")) == ["bob"]
    assert await _who(Settings(store_url="memory://", auth_callback=lambda r: True)) == [None]
    assert await _who(Settings(store_url="memory://")) == [None]


@pytest.mark.asyncio
async def test_a_failing_current_user_leaves_the_user_unknown() -> None:
    def broken(request: Any) -> str:
        raise RuntimeError("directory down")

    assert await _who(Settings(store_url="memory://", current_user=broken)) == [None]


def test_current_user_can_be_named_in_toml() -> None:
    from sentiero_core import load_settings

    settings = load_settings(current_user="os.path:basename")
    assert settings.current_user is not None and settings.current_user("/a/b") == "b"


@pytest.mark.asyncio
async def test_the_audit_log_receives_every_action_in_order_with_who() -> None:
    """Export, dashboard deletion, erasure, purge and opt-out, as they happen."""
    import re

    import orjson

    from sentiero_core.lifecycle import plan_purge, purge
    from sentiero_core.testing import T0, identify, text_mutation

    records: list[dict[str, Any]] = []
    app = create_app(
        Settings(
            store_url="memory://",
            audit_log=records.append,
            auth_callback=lambda request: "dana",
            user_opt_out=True,
        )
    )
    browser = {"Origin": "http://localhost"}
    async with app.test_app() as test_app:
        client = test_app.test_client()
        sentiero = app.extensions["sentiero"]
        store = sentiero.store
        for sid, user in (("sessionOrd01", "u1"), ("sessionOrd02", "u2"), ("sessionOrd03", "u3")):
            await store.append(
                make_batch(sid, "w", [identify(T0, user, {}), text_mutation(T0, "x")])
            )
        export = await client.get("/sentiero/sessions/sessionOrd01/export.json")
        assert export.status_code == 200
        await export.get_data()
        page = await (await client.get("/sentiero/sessions/sessionOrd01")).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        deleted = await client.post(
            "/sentiero/sessions/sessionOrd01/delete",
            form={"csrf_token": token.group(1)},
            headers=browser,
        )
        assert deleted.status_code == 303
        assert await sentiero.erase_where(user_id="u2", by="dpo") == 1
        # as `sentiero purge --older-than 1d` does (no retention_period here:
        # its background purge would race this test)
        plan = await plan_purge(store, sentiero.settings, 86_400)
        assert await purge(store, sentiero.settings, plan, by=None, via="cli") == 1
        notice = await client.post(
            "/sentiero/opt-out", data=orjson.dumps({"session_id": "sessionOrd04"})
        )
        assert notice.status_code == 204
    actions = [(r["action"], r["by"]) for r in records]
    assert actions == [
        ("session_exported", "dana"),
        ("sessions_deleted", "dana"),
        ("sessions_erased", "dpo"),
        ("sessions_purged", None),
        ("visitor_opted_out", None),
    ]
    times = [r["at"] for r in records]
    assert times == sorted(times)
    assert records[0]["session_id"] == "sessionOrd01"
