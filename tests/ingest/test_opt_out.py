"""``POST <mount>/opt-out``: audited once per session, nothing stored,
bounded against floods."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sentiero_core import Settings, create_app
from sentiero_core.ingest import opt_out
from sentiero_core.testing import T0, make_batch, text_mutation

SID = "sess_0123456789"


def _app(records: list[dict[str, Any]], **options: Any) -> Any:
    settings = Settings(store_url="memory://", audit_log=records.append, **options)
    return create_app(settings)


async def _post(client: Any, body: Any, **headers: str) -> Any:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return await client.post(
        "/sentiero/opt-out", data=data, headers={"Content-Type": "text/plain", **headers}
    )


@pytest.mark.asyncio
async def test_an_opt_out_is_audited_once_and_nothing_is_stored() -> None:
    records: list[dict[str, Any]] = []
    app = _app(records, user_opt_out=True)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        await store.append(make_batch(SID, "w", [text_mutation(T0, "x")]))
        response = await _post(client, {"session_id": SID}, Cookie="sentiero_optout=1")
        assert response.status_code == 204
        assert "Set-Cookie" not in response.headers
        assert (await _post(client, {"session_id": SID})).status_code == 204
        never = await _post(client, {"session_id": "never_recorded_1"})
        assert never.status_code == 204
        assert await store.count_sessions() == 1  # an opt-out stores nothing
    assert [(r["action"], r["session_id"], r["recorded"], r["by"]) for r in records] == [
        ("visitor_opted_out", SID, True, None),
        ("visitor_opted_out", "never_recorded_1", False, None),
    ]


@pytest.mark.asyncio
async def test_without_user_opt_out_the_endpoint_does_not_exist() -> None:
    records: list[dict[str, Any]] = []
    async with _app(records).test_app() as test_app:
        response = await _post(test_app.test_client(), {"session_id": SID})
        assert response.status_code == 404
        assert b"user_opt_out" in await response.get_data()
    assert records == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"not json", 400, "not JSON"),
        ({"session_id": "short"}, 400, "session_id"),
        ({"session_id": "bad id with spaces"}, 400, "session_id"),
        ([SID], 400, "session_id"),
        ({"session_id": SID, "pad": "x" * 2000}, 413, "over 1024 bytes"),
    ],
)
async def test_bad_notices_are_refused(body: Any, status: int, reason: str) -> None:
    records: list[dict[str, Any]] = []
    async with _app(records, user_opt_out=True).test_app() as test_app:
        response = await _post(test_app.test_client(), body)
        assert response.status_code == status
        assert reason in orjson.loads(await response.get_data())["error"]
    assert records == []


@pytest.mark.asyncio
async def test_a_flood_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opt_out, "RATE_PER_MINUTE", 5)
    records: list[dict[str, Any]] = []
    async with _app(records, user_opt_out=True).test_app() as test_app:
        client = test_app.test_client()
        statuses = [
            (await _post(client, {"session_id": f"flood_{i:08d}"})).status_code for i in range(8)
        ]
    assert statuses == [204] * 5 + [429] * 3
    assert len(records) == 5


@pytest.mark.asyncio
async def test_cross_origin_notices_follow_cors_origins() -> None:
    records: list[dict[str, Any]] = []
    app = _app(records, user_opt_out=True, cors_origins=["https://shop.example"])
    async with app.test_app() as test_app:
        client = test_app.test_client()
        response = await _post(client, {"session_id": SID}, Origin="https://shop.example")
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        other = await _post(client, {"session_id": "other_0123456"}, Origin="https://evil.example")
        assert "Access-Control-Allow-Origin" not in other.headers
