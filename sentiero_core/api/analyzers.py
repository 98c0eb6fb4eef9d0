"""``GET <mount>/api/analyzers`` and ``<mount>/api/analyzers/<name>``:
reports from the analyzers plugins register."""

from __future__ import annotations

from typing import Any

from quart import jsonify, request

from ..app import get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..utils import await_me_maybe


async def list_analyzers() -> Any:
    analyzers = get_state().analyzers.values()
    return jsonify({"analyzers": [{"name": a.name, "title": a.title} for a in analyzers]})


async def run_analyzer(name: str) -> Any:
    state = get_state()
    analyzer = state.analyzers.get(name)
    if analyzer is None:
        return jsonify({"error": f"no analyzer named {name!r}"}), 404
    params = {k: v for k, v in request.args.items()}
    try:
        report = await await_me_maybe(analyzer.analyze(state.store, params))
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"analyzer": name, "report": report})


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route("/api/analyzers", list_analyzers, name="sentiero.api_analyzers"),
        Route("/api/analyzers/<name>", run_analyzer, name="sentiero.api_analyzer"),
    ]
