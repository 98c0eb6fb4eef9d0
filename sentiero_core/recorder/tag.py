"""Rendering the recorder's script tag in host-app templates.

``script_tag(settings)`` gives ``<script src="/sentiero/recorder.js" defer>``;
``install_jinja(app_or_env, settings)`` adds the ``sentiero_script_tag()``
global, which picks up the root path of the Quart request, or of the
template's ``request`` variable (Starlette's and FastAPI's
``Jinja2Templates`` pass one), when there is one.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..settings import Settings


def _root_path(request: Any) -> str:
    root = getattr(request, "root_path", None)
    if root is None:
        scope = getattr(request, "scope", None)
        root = scope.get("root_path", "") if isinstance(scope, dict) else ""
    return str(root or "").rstrip("/")


def script_tag(
    settings: Settings,
    request: Any = None,
    *,
    mount: str | None = None,
    base_url: str | None = None,
    nonce: str | None = None,
) -> Markup:
    """The tag that loads the recorder. ``base_url`` points at another
    server (``"https://rec.example.com"``) or prefix, ``settings.public_url``
    when not given; otherwise ``request``'s root path (Quart, Starlette or
    Werkzeug requests) prefixes the mount.
    ``nonce`` is for pages with a strict Content-Security-Policy."""
    mount = settings.mount_path if mount is None else mount.rstrip("/")
    if base_url is None:
        base_url = settings.public_url
    if base_url is not None:
        prefix = base_url.rstrip("/")
    elif request is not None:
        prefix = _root_path(request)
    else:
        prefix = ""
    attrs = f' src="{escape(prefix + mount + "/recorder.js")}"'
    if nonce:
        attrs += f' nonce="{escape(nonce)}"'
    return Markup(f"<script{attrs} defer></script>")


def _current_request() -> Any:
    try:
        from quart import has_request_context, request
    except ImportError:  # pragma: no cover - quart is a dependency
        return None
    return request if has_request_context() else None


def install_jinja(app_or_env: Any, settings: Settings, **defaults: Any) -> None:
    """Add ``sentiero_script_tag(**options)`` to a Jinja2 environment (or an
    app's ``jinja_env``). ``defaults`` are :func:`script_tag` options used
    when a template gives none."""
    env = getattr(app_or_env, "jinja_env", app_or_env)

    @pass_context
    def sentiero_script_tag(context: Context, **options: Any) -> Markup:
        request = _current_request()
        if request is None:
            request = context.get("request")
        return script_tag(settings, request, **{**defaults, **options})

    env.globals["sentiero_script_tag"] = sentiero_script_tag
