"""CSRF tokens: signed by itsdangerous, bound to an action and to who asked."""

from __future__ import annotations

from typing import Any

import pytest

from sentiero_core import Settings, create_app, get_plugin_manager, security
from sentiero_core.security import csrf_token, valid_csrf_token
from sentiero_core.testing.factories import make_batch

ACTION = "sentiero.session_delete"


def _app() -> Any:
    settings = Settings(store_url="memory://", secret_key="k" * 32)
    return create_app(settings, plugin_manager=get_plugin_manager(load_entrypoints=False))


async def _valid(app: Any, token: str, headers: dict[str, str], action: str = ACTION) -> bool:
    async with app.test_request_context("/sentiero/", headers=headers):
        return valid_csrf_token(token, action)


async def _token(app: Any, headers: dict[str, str], action: str = ACTION) -> str:
    async with app.test_request_context("/sentiero/", headers=headers):
        return csrf_token(action)


@pytest.mark.asyncio
async def test_a_token_is_bound_to_the_browser_cookie_and_the_action() -> None:
    app = _app()
    mine = {"Cookie": "sentiero_csrf=browser-one"}
    token = await _token(app, mine)
    assert await _valid(app, token, mine)
    assert not await _valid(app, token, mine, action="sentiero.api_session_delete")
    assert not await _valid(app, token, {"Cookie": "sentiero_csrf=browser-two"})
    assert not await _valid(app, token, {})
    assert not await _valid(app, token + "x", mine)
    assert not await _valid(app, "", mine)


@pytest.mark.asyncio
async def test_a_token_is_bound_to_the_authorization_header_when_there_is_one() -> None:
    app = _app()
    ann = {"Authorization": "Basic YW5uOnB3", "Cookie": "sentiero_csrf=shared"}
    bob = {"Authorization": "Basic Ym9iOnB3", "Cookie": "sentiero_csrf=shared"}
    token = await _token(app, ann)
    assert await _valid(app, token, ann)
    assert not await _valid(app, token, bob)


@pytest.mark.asyncio
async def test_a_token_from_another_secret_is_refused() -> None:
    mine = {"Cookie": "sentiero_csrf=browser-one"}
    token = await _token(_app(), mine)
    other = create_app(
        Settings(store_url="memory://", secret_key="z" * 32),
        plugin_manager=get_plugin_manager(load_entrypoints=False),
    )
    assert not await _valid(other, token, mine)


@pytest.mark.asyncio
async def test_a_token_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    mine = {"Cookie": "sentiero_csrf=browser-one"}
    token = await _token(app, mine)
    assert security.CSRF_MAX_AGE_S < 12 * 3600
    monkeypatch.setattr(security, "CSRF_MAX_AGE_S", -1)
    assert not await _valid(app, token, mine)


@pytest.mark.asyncio
async def test_the_first_token_sets_a_strict_http_only_cookie_under_the_mount() -> None:
    app = _app()
    async with app.test_app() as test_app:
        client = test_app.test_client()
        store = app.extensions["sentiero"].store
        events = [{"type": 4, "timestamp": 1_700_000_000_000, "data": {"href": "https://a/"}}]
        await store.append(make_batch("sessionAAAA1", "windowAAAA1", events))
        response = await client.get("/sentiero/sessions/sessionAAAA1")
        assert response.status_code == 200
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("sentiero_csrf=")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/sentiero" in cookie
