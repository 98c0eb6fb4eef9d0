from sentiero_core import Settings, create_app


def test_app_builds_with_memory_store() -> None:
    app = create_app(Settings(store_url="memory://"))
    assert any(r.rule.startswith("/sentiero/") for r in app.url_map.iter_rules())
