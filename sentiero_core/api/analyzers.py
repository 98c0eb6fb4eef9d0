"""``GET <mount>/api/analyzers`` and ``<mount>/api/analyzers/<name>``:
reports from the analyzers plugins register, as JSON or, with
``?format=csv``, one of their tables as CSV."""

from __future__ import annotations

import csv
import inspect
import io
from collections.abc import Mapping
from typing import Any

from quart import Response, jsonify, request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotImplemented as NotImplementedHTTP

from ..analysis import parse_filters
from ..app import get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..store import AggregatesUnsupported
from ..types import Analyzer
from ..utils import await_me_maybe


async def list_analyzers() -> Any:
    analyzers = get_state().analyzers.values()
    return jsonify({"analyzers": [{"name": a.name, "title": a.title} for a in analyzers]})


def _accepted(analyzer: Analyzer) -> set[str] | None:
    """The argument names ``analyze`` takes (``None``: any, ``**kwargs``)."""
    params = inspect.signature(analyzer.analyze).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}


class BadReportRequest(BadRequest, ValueError):
    """A report's parameters are wrong: a ``ValueError`` for code that
    catches it, and a 400 naming the problem when a page leaves it be."""

    def __str__(self) -> str:
        return str(self.description)


class ReportNeedsAggregates(NotImplementedHTTP):
    """The analyzer reads aggregates the store does not keep (a 501)."""


async def run_report(analyzer: Analyzer, params: Mapping[str, str]) -> Any:
    """Call ``analyze`` with the arguments it names among ``store``,
    ``params``, ``filters`` (parsed by :func:`sentiero_core.parse_filters`)
    and ``settings``. A bad parameter (a ``ValueError`` from the filters or
    from ``analyze``) raises :class:`BadReportRequest`, a ``ValueError``
    that a route answers with a 400 when it does not catch it; a store
    without the aggregates capability a 501 naming the store."""
    try:
        return await _run(analyzer, params)
    except BadReportRequest:
        raise
    except ValueError as exc:
        raise BadReportRequest(str(exc)) from exc
    except AggregatesUnsupported as exc:
        raise ReportNeedsAggregates(
            f"the report {analyzer.name!r} reads aggregates, which this store does not keep "
            f"({exc}): use a store with the aggregates capability"
        ) from exc


async def _run(analyzer: Analyzer, params: Mapping[str, str]) -> Any:
    state = get_state()
    filters = parse_filters(params)
    available = {
        "store": state.store,
        "params": dict(params),
        "filters": filters,
        "settings": state.settings,
    }
    wanted = _accepted(analyzer)
    kwargs = {k: v for k, v in available.items() if wanted is None or k in wanted}
    return await await_me_maybe(analyzer.analyze(**kwargs))


def _csv(report: Any, table: str) -> str:
    rows = report.get(table) if isinstance(report, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        tables = sorted(k for k, v in (report or {}).items() if isinstance(v, list))
        raise ValueError(
            f"this report has no table {table!r} to export as CSV"
            + (f" (its tables: {', '.join(tables)})" if tables else "")
        )
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to spreadsheet programs.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


async def run_analyzer(name: str) -> Any:
    state = get_state()
    analyzer = state.analyzers.get(name)
    if analyzer is None:
        return jsonify({"error": f"no analyzer named {name!r}"}), 404
    params = {k: v for k, v in request.args.items()}
    fmt = params.get("format", "json")
    if fmt not in ("json", "csv"):
        return jsonify({"error": f"format must be json or csv, got {fmt!r}"}), 400
    try:
        report = await run_report(analyzer, params)
        if fmt == "csv":
            body = _csv(report, params.get("table", "rows"))
            return Response(
                body,
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    response = jsonify({"analyzer": name, "report": report})
    if "download" in params:
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@hookimpl
def register_routes() -> list[Route]:
    return [
        Route("/api/analyzers", list_analyzers, name="sentiero.api_analyzers"),
        Route("/api/analyzers/<name>", run_analyzer, name="sentiero.api_analyzer"),
    ]
