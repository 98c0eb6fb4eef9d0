"""A todo app that records itself.

It shows the two ways to guard the dashboard: route-level HTTP Basic auth
here (401 with a challenge, so the browser asks for a password), while
``auth_callback`` (403 only) suits apps with their own login sessions.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from quart import Quart, Response, redirect, request

from ..app import create_app, get_state
from ..recorder.tag import script_tag
from ..settings import load_settings

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
PUBLIC_SENTIERO_PATHS = ("/events", "/recorder.js")

_templates = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


@dataclass
class Todo:
    id: int
    title: str
    done: bool = False


class TodoList:
    """Process-wide todos: the demo is single-user by design."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.items: list[Todo] = []
        for title in ("Try the recorder", "Open the dashboard", "Watch this session"):
            self.add(title)

    def add(self, title: str) -> None:
        self.items.append(Todo(next(self._ids), title))

    def toggle(self, todo_id: int) -> None:
        for t in self.items:
            if t.id == todo_id:
                t.done = not t.done

    def remove(self, todo_id: int) -> None:
        self.items = [t for t in self.items if t.id != todo_id]


def _basic_auth_ok(header: str | None) -> bool:
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user, DEMO_USER) and hmac.compare_digest(password, DEMO_PASSWORD)


def create_demo_app(store_url: str | None = None, **overrides: Any) -> Quart:
    settings = load_settings(
        store_url=store_url or "sqlite:///sentiero-demo.db",
        capture_metadata=True,
        capture_errors=True,
        track_navigation=True,
        track_custom_events=True,
        track_forms=True,
        capture_web_vitals=True,
        capture_console=True,
        user_opt_out=True,
        flush_interval_ms=5_000,
        **overrides,
    )
    app = create_app(settings)
    todos = TodoList()
    mount = settings.mount_path

    @app.before_request
    async def _dashboard_basic_auth() -> Response | None:
        path = request.path
        if not path.startswith(mount + "/") and path != mount:
            return None
        if path[len(mount) :] in PUBLIC_SENTIERO_PATHS:
            return None
        if _basic_auth_ok(request.headers.get("Authorization")):
            return None
        return Response(
            "Sign in with demo / demo to see the dashboard.",
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="Sentiero demo", charset="UTF-8"'},
        )

    def page(name: str, **context: Any) -> str:
        tag = script_tag(get_state().settings, request=request)
        return _templates.get_template(name).render(
            sentiero_tag=tag, mount=request.root_path + mount, **context
        )

    @app.get("/")
    async def index() -> str:
        return page("index.html", todos=todos.items)

    @app.post("/todos")
    async def add_todo() -> Any:
        title = ((await request.form).get("title") or "").strip()[:200]
        if title:
            todos.add(title)
        return redirect(request.root_path + "/")

    @app.post("/todos/<int:todo_id>/toggle")
    async def toggle_todo(todo_id: int) -> Any:
        todos.toggle(todo_id)
        return redirect(request.root_path + "/")

    @app.post("/todos/<int:todo_id>/delete")
    async def delete_todo(todo_id: int) -> Any:
        todos.remove(todo_id)
        return redirect(request.root_path + "/")

    @app.get("/account")
    async def account() -> str:
        return page("account.html")

    @app.post("/account")
    async def save_account() -> Any:
        return redirect(request.root_path + "/account?saved=1")

    @app.get("/about")
    async def about() -> str:
        return page("about.html")

    return app
