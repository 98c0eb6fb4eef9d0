"""FastAPI and Starlette with Sentiero mounted (no distribution of their
own: a documented recipe and ``install_jinja`` on ``Jinja2Templates``),
through each framework's TestClient, and one real HTTP run each in Chromium."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient as FastAPIClient
from starlette.testclient import TestClient

from tests.support.integrations import hypercorn, record_a_visit

ROOT = Path(__file__).resolve().parents[2]
TAG = '<script src="/sentiero/recorder.js" defer></script>'
SHOPS = ["fastapi_shop", "starlette_shop"]


def shop(name: str) -> ModuleType:
    return importlib.import_module(f"tests.integrations.{name}")


@pytest.mark.parametrize("name", SHOPS)
def test_templates_get_the_script_tag_and_the_mount_serves_sentiero(name: str) -> None:
    client_class = FastAPIClient if name == "fastapi_shop" else TestClient
    with client_class(shop(name).app) as client:  # runs the lifespan: the store opens
        home = client.get("/")
        assert home.status_code == 200
        assert TAG in home.text
        dashboard = client.get("/sentiero/")
        assert dashboard.status_code == 200
        assert 'href="/sentiero/' in dashboard.text
        assert client.get("/sentiero/api/sessions").json() == {"sessions": [], "next": None}
        script = client.get("/sentiero/recorder.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        # the recorder posts to "events" beside its src: Sentiero's ingest answers
        refused = client.post("/sentiero/events", content=b"{}")
        assert (refused.status_code, refused.json()) == (422, {"error": "session_id: missing"})


@pytest.mark.parametrize("name", SHOPS)
def test_the_script_tag_follows_the_root_path(name: str) -> None:
    with TestClient(shop(name).app, root_path="/shop") as client:
        assert '<script src="/shop/sentiero/recorder.js" defer></script>' in client.get("/").text


@pytest.mark.browser
@pytest.mark.parametrize("name", SHOPS)
def test_a_recorded_visit_shows_up_in_the_dashboard(name: str, tmp_path: Path) -> None:
    env = {"SHOP_SENTIERO_STORE": f"sqlite:///{tmp_path / 'shop.db'}", "PYTHONPATH": str(ROOT)}
    app = f"tests.integrations.{name}:app"
    with hypercorn(app, ROOT, tmp_path / "hypercorn.log", env) as url:
        session_id = record_a_visit(url + "/", url + "/sentiero/", "#cart", "Your cart")
    assert session_id
    assert (tmp_path / "shop.db").exists()
