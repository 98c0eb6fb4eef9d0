"""The plugin manager: built-in features and installed plugins alike.

Built-ins are registered first, then distributions declaring an entry point
in the ``sentiero`` group. ``SENTIERO_LOAD_PLUGINS`` picks which installed
plugins load: unset loads all, an empty value loads none, and a
comma-separated list of entry-point names loads just those.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Mapping
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "sentiero"
LOAD_PLUGINS_ENV = "SENTIERO_LOAD_PLUGINS"

DEFAULT_PLUGINS = (
    "sentiero_core.builtins.memory_store",
    "sentiero_core.builtins.redaction",
    "sentiero_core.builtins.retention",
    "sentiero_core.ingest.routes",
    "sentiero_core.recorder.routes",
    "sentiero_core.dashboard.routes",
    "sentiero_core.api.routes",
    "sentiero_core.api.plugins",
    "sentiero_core.api.analyzers",
)


class PluginError(RuntimeError):
    """A plugin could not be loaded or implements an unknown hook."""


def get_plugin_manager(
    *, load_entrypoints: bool = True, environ: Mapping[str, str] | None = None
) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-ins and the installed plugins."""
    pm = pluggy.PluginManager("sentiero")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        pm.register(module, name=name)
    if load_entrypoints:
        _load_entrypoints(pm, os.environ if environ is None else environ)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from exc
    return pm


def _load_entrypoints(pm: pluggy.PluginManager, environ: Mapping[str, str]) -> None:
    wanted = environ.get(LOAD_PLUGINS_ENV)
    try:
        if wanted is None:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            return
        for name in {n.strip() for n in wanted.split(",") if n.strip()}:
            if pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name) == 0:
                raise PluginError(f"{LOAD_PLUGINS_ENV} names {name!r}, which is not installed")
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"a plugin failed to load: {exc!r}") from exc


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """One entry per distribution providing plugins: name, version, the
    entry points (or built-in modules) and the hooks they implement."""
    dist_of = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    grouped: dict[str, dict[str, Any]] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is hookspecs or plugin is None:
            continue
        dist = dist_of.get(id(plugin))
        if dist is not None:
            dist_name, version = dist.project_name, dist.version
        else:
            dist_name, version = "sentiero-core", _core_version()
        entry = grouped.setdefault(
            dist_name, {"name": dist_name, "version": version, "plugins": [], "hooks": []}
        )
        entry["plugins"].append(name)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        entry["hooks"] = sorted(set(entry["hooks"]) | set(hooks))
    return sorted(grouped.values(), key=lambda e: (e["name"] != "sentiero-core", e["name"]))


def _core_version() -> str:
    try:
        return importlib.metadata.version("sentiero-core")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call every implementation of a hook on its own, so that one failing
    plugin does not stop the others: ``[(plugin_name, result_or_exception)]``."""
    caller = getattr(pm.hook, hook_name)
    results: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            results.append((impl.plugin_name, impl.function(**args)))
        except Exception as exc:
            results.append((impl.plugin_name, exc))
    return results
