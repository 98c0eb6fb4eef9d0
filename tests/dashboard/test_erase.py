"""The dashboard's erase-by-filter action: list filters -> a confirmation
page with the count -> POST with the CSRF token -> erased and audited."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sentiero_core import Settings, create_app, hookimpl
from sentiero_core.testing import T0, identify, make_batch, text_mutation

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BROWSER = {"Origin": "http://localhost"}


async def _app(records: list[dict[str, Any]], **options: Any) -> Any:
    return create_app(Settings(store_url="memory://", audit_log=records.append, **options))


async def _fill(store: Any) -> None:
    for i in range(5):
        user = "erase-me" if i < 3 else "keep-me"
        # as the ingest path stores addresses: truncated
        ip = "198.51.100.0" if i == 0 else "203.0.113.0"
        events = [identify(T0 + i, user, {}), text_mutation(T0 + i + 1, "x")]
        await store.append(make_batch(f"s{i}", "w", events, ip=ip))


async def _text(response: Any) -> str:
    return str(await response.get_data(as_text=True))


@pytest.mark.asyncio
async def test_erase_from_the_filtered_list_with_confirmation() -> None:
    records: list[dict[str, Any]] = []
    removed: list[tuple[str, list[str]]] = []

    class Plugin:
        @hookimpl
        def sessions_removed(self, session_ids: list[str], reason: str) -> None:
            removed.append((reason, sorted(session_ids)))

    app = await _app(records, auth_callback=lambda request: "alice@example.com")
    app.extensions["sentiero"].pm.register(Plugin(), name="erase-test")
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        await _fill(store)
        listing = await _text(await client.get("/sentiero/?user=erase-me"))
        link = re.search(r'id="erase-matching" href="([^"]+)"', listing)
        assert link, "a filtered list offers to erase what it shows"
        assert link.group(1) == "/sentiero/erase?user=erase-me"
        unfiltered = await _text(await client.get("/sentiero/"))
        assert "erase-matching" not in unfiltered

        confirm = await client.get(link.group(1))
        page = await _text(confirm)
        assert confirm.status_code == 200
        assert re.search(r"<strong>3</strong> sessions match now", page)
        token = TOKEN.search(page)
        assert token
        assert 'name="user" value="erase-me"' in page

        forged = await client.post(
            "/sentiero/erase", form={"user": "erase-me", "csrf_token": "forged"}, headers=BROWSER
        )
        assert forged.status_code == 403
        # a token for another action is worth nothing here
        _session_page = await _text(await client.get("/sentiero/sessions/s0"))
        other = TOKEN.search(_session_page)
        assert other
        wrong = await client.post(
            "/sentiero/erase",
            form={"user": "erase-me", "csrf_token": other.group(1)},
            headers=BROWSER,
        )
        assert wrong.status_code == 403
        assert await store.count_sessions() == 5

        done = await client.post(
            "/sentiero/erase",
            form={"user": "erase-me", "csrf_token": token.group(1)},
            headers=BROWSER,
        )
        result = await _text(done)
        assert done.status_code == 200
        assert "3 sessions erased" in result
        assert sorted(s.session_id for s in (await store.list_sessions()).sessions) == ["s3", "s4"]
    assert removed == [("erased", ["s0", "s1", "s2"])]
    erased = [r for r in records if r["action"] == "sessions_erased"]
    assert len(erased) == 1
    assert erased[0]["by"] == "alice@example.com"
    assert (erased[0]["count"], erased[0]["filter"], erased[0]["via"]) == (
        3,
        {"user_id": "erase-me"},
        "dashboard",
    )


@pytest.mark.asyncio
async def test_erase_by_address_compares_the_stored_form() -> None:
    records: list[dict[str, Any]] = []
    app = await _app(records)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        await _fill(store)
        # the visitor's full address finds the session stored truncated
        page = await _text(await client.get("/sentiero/erase?ip=198.51.100.99"))
        assert re.search(r"<strong>1</strong> session matches now", page)
        listing = await _text(await client.get("/sentiero/api/sessions?ip=198.51.100.200"))
        assert '"session_id":"s0"' in listing and '"s1"' not in listing


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Choose at least one filter"),
        ("?browser=", "Choose at least one filter"),
        ("?ip=not-an-address", "ip: expected an IPv4 or IPv6 address"),
        ("?from=yesterday", "from: expected a date"),
    ],
)
async def test_erase_refuses_an_empty_or_bad_filter(query: str, message: str) -> None:
    records: list[dict[str, Any]] = []
    app = await _app(records)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        await _fill(store)
        response = await client.get(f"/sentiero/erase{query}")
        assert response.status_code == 400
        assert message in await _text(response)
        page = await _text(await client.get("/sentiero/erase?user=keep-me"))
        token = TOKEN.search(page)
        assert token
        # the POST re-checks: an empty filter erases nothing, even with a token
        posted = await client.post(
            "/sentiero/erase", form={"csrf_token": token.group(1)}, headers=BROWSER
        )
        assert posted.status_code == 400
        assert await store.count_sessions() == 5
    assert [r for r in records if r["action"] == "sessions_erased"] == []


@pytest.mark.asyncio
async def test_erase_is_behind_auth_callback() -> None:
    records: list[dict[str, Any]] = []
    app = await _app(records, auth_callback=lambda request: False)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await _fill(app.extensions["sentiero"].store)
        assert (await client.get("/sentiero/erase?user=erase-me")).status_code == 403
        posted = await client.post("/sentiero/erase", form={"user": "erase-me"})
        assert posted.status_code == 403
        assert await app.extensions["sentiero"].store.count_sessions() == 5


@pytest.mark.asyncio
async def test_a_filter_matching_nothing_offers_nothing_to_erase() -> None:
    app = await _app([])
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await _fill(app.extensions["sentiero"].store)
        page = await _text(await client.get("/sentiero/erase?user=nobody"))
        assert "nothing to erase" in page
        assert "confirm-erase" not in page
