"""``GET <mount>/api/plugins``: what is installed and which hooks it implements."""

from __future__ import annotations

from typing import Any

from quart import jsonify

from ..app import get_state
from ..hookspecs import hookimpl
from ..plugins import describe_plugins
from ..routing import Route


async def list_plugins() -> Any:
    return jsonify({"plugins": describe_plugins(get_state().pm)})


@hookimpl
def register_routes() -> list[Route]:
    return [Route("/api/plugins", list_plugins, name="sentiero.api_plugins")]
