"""The demo app: the todo pages record themselves, the dashboard asks for a password."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sentiero_core.demo import create_demo_app

AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo:demo").decode()}


@pytest.mark.asyncio
async def test_todo_pages_carry_the_recorder_tag(tmp_path: Path) -> None:
    app = create_demo_app(store_url=f"sqlite:///{tmp_path / 'demo.db'}")
    async with app.test_app():
        client = app.test_client()
        for path in ("/", "/account", "/about"):
            response = await client.get(path)
            assert response.status_code == 200
            assert "/sentiero/recorder.js" in await response.get_data(as_text=True)
        added = await client.post("/todos", form={"title": "Buy <milk>"})
        assert added.status_code == 302
        page = await (await client.get("/")).get_data(as_text=True)
        assert "Buy &lt;milk&gt;" in page


@pytest.mark.asyncio
async def test_dashboard_challenges_for_basic_auth(tmp_path: Path) -> None:
    app = create_demo_app(store_url=f"sqlite:///{tmp_path / 'demo.db'}")
    async with app.test_app():
        client = app.test_client()
        denied = await client.get("/sentiero/")
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"].startswith("Basic ")
        wrong = await client.get(
            "/sentiero/", headers={"Authorization": "Basic " + base64.b64encode(b"demo:x").decode()}
        )
        assert wrong.status_code == 401
        assert (await client.get("/sentiero/", headers=AUTH)).status_code == 200
        assert (await client.get("/sentiero/api/sessions", headers=AUTH)).status_code == 200
        # recording stays public
        assert (await client.get("/sentiero/recorder.js")).status_code == 200
        preflight = await client.options("/sentiero/events")
        assert preflight.status_code != 401
