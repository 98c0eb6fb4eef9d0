"""A plugin's templates and static files are found by convention."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from sentiero_core import Settings, create_app, get_plugin_manager

PLUGIN = """
from sentiero_core import Route, hookimpl
from sentiero_core.app import render


async def report():
    return await render("assetplug_report.html", who="<b>plugin</b>")


@hookimpl
def register_routes():
    return [Route("/assetplug", report, name="assetplug.report")]
"""


@pytest.mark.asyncio
async def test_plugin_templates_and_static_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "assetplug"
    (package / "templates").mkdir(parents=True)
    (package / "static").mkdir()
    (package / "__init__.py").write_text(PLUGIN)
    (package / "templates" / "assetplug_report.html").write_text(
        '{% extends "default:base.html" %}'
        '{% block content %}<p id="who">{{ who }}</p>{% endblock %}'
    )
    (package / "static" / "report.css").write_text("p { color: teal }")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("assetplug")
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(module, name="assetplug")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        async with app.test_app():
            client = app.test_client()
            page = await (await client.get("/sentiero/assetplug")).get_data(as_text=True)
            assert '<p id="who">&lt;b&gt;plugin&lt;/b&gt;</p>' in page
            assert "/sentiero/-/static/dashboard.css" in page  # the dashboard layout
            css = await client.get("/sentiero/-/static/assetplug/report.css")
            assert css.status_code == 200
            assert await css.get_data(as_text=True) == "p { color: teal }"
            escape = await client.get("/sentiero/-/static/assetplug/../__init__.py")
            assert escape.status_code == 404
    finally:
        pm.unregister(name="assetplug")
