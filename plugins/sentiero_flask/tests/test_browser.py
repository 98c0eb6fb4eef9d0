"""The sample shop and Sentiero in one ASGI application under Hypercorn
(the documented flaskshop_asgi.py): a visit recorded in Chromium shows up in the
dashboard under /sentiero/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.integrations import hypercorn, record_a_visit

pytestmark = pytest.mark.browser
HERE = Path(__file__).resolve().parent


def test_a_recorded_visit_shows_up_in_the_dashboard(tmp_path: Path) -> None:
    env = {"SHOP_SENTIERO_STORE": f"sqlite:///{tmp_path / 'shop.db'}", "PYTHONPATH": str(HERE)}
    with hypercorn("flaskshop_asgi:application", HERE, tmp_path / "hypercorn.log", env) as url:
        session_id = record_a_visit(url + "/", url + "/sentiero/", "#cart", "Your cart")
    assert session_id
    assert (tmp_path / "shop.db").exists()
