"""The ``sentiero`` command: serve, plugins, demo, purge, erase."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from . import lifecycle_cli
from .plugins import PluginError, describe_plugins, get_plugin_manager
from .settings import SettingsError, load_settings
from .store import StoreError


class StartupError(RuntimeError):
    """The server could not start (the store did not open, a plugin failed)."""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port between 1 and 65535, got {value}")
    return value


def build_parser(pm: Any = None) -> argparse.ArgumentParser:
    """The ``sentiero`` parser, with the commands plugins add through
    ``register_commands`` when ``pm`` is given."""
    parser = argparse.ArgumentParser(
        prog="sentiero",
        description="Self-hosted session recording and replay.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser("serve", help="run the Sentiero server with Hypercorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=9292, help="port to bind (default 9292)")
    serve.add_argument("--store", metavar="URL", help="store URL, e.g. sqlite:///sentiero.db")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="an origin allowed to post events (repeatable)",
    )
    serve.add_argument("--config", metavar="FILE", help="a TOML settings file")
    serve.add_argument("--mount", metavar="PATH", help="mount path (default /sentiero)")

    plugins = sub.add_parser("plugins", help="list installed plugins and their hooks")
    plugins.add_argument("--json", action="store_true", help="print JSON")

    demo = sub.add_parser("demo", help="run the demo todo app with recording and dashboard")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=9292)
    demo.add_argument(
        "--store", metavar="URL", help="store URL (default sqlite:///sentiero-demo.db)"
    )
    lifecycle_cli.add_parsers(sub)
    if pm is not None:
        _plugin_commands(pm, sub)
    return parser


def _plugin_commands(pm: Any, sub: Any) -> None:
    from .plugins import call_each

    for result in call_each(pm.hook.register_commands, subparsers=sub):
        try:
            result.get()
        except argparse.ArgumentError as exc:
            raise PluginError(
                f"plugin {result.plugin_name!r} adds a command whose name is taken: {exc}"
            ) from None


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "store", None):
        out["store_url"] = args.store
    if getattr(args, "cors_origin", None):
        out["cors_origins"] = list(args.cors_origin)
    if getattr(args, "mount", None):
        out["mount_path"] = args.mount
    return out


#: Container allocations (net of frees) between two young-generation collections;
#: CPython's default is 700. See :func:`tune_gc`.
GC_GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Garbage collector settings for a server process, applied once it has
    started (``sentiero serve`` and ``sentiero demo`` do it before serving).

    Why: an ingest request parses a batch into about a thousand dicts and
    lists, and with the SQLite store it keeps them until its group commit
    lands, so dozens of requests' objects are alive at any time. With the
    default threshold (700) nearly every request set off a young collection
    that found them still alive and promoted them, which filled the older
    generations and set off full collections, each walking every object of
    the process: modules, Quart, Jinja2, Hypercorn. That cost 0.1 to 0.25 ms
    a request, up to a fifth of the request.

    - ``gc.freeze()`` moves everything alive after start-up (imported
      modules, the app, its routes and templates) to the permanent
      generation, which collections never walk: they live as long as the
      process anyway.
    - A young threshold of 50,000 sits above what the requests in flight
      hold (32 concurrent ingest requests: about 40,000 objects), so their
      objects die by reference counting, as nearly all do, before any
      collection walks them. At 10,000 a young collection still came every
      few requests and walked them all: 2.5 ms each, 0.07 ms a request.
      Memory is unaffected: objects are freed the moment they are
      unreachable; only reference cycles wait for a collection, which comes
      once 50,000 more objects than were freed have been allocated.
    """
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


async def _tune_gc_when_started() -> None:
    tune_gc()


class _StoreFailureIsReported(logging.Filter):
    """Keeps Quart from logging a traceback for a store that cannot open:
    :func:`main` prints the store's one-line reason instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], StoreError))


async def _serve(app: Any, config: Any, sockets: Any) -> None:
    """Hypercorn's ``serve`` on sockets already bound."""
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.utils import wrap_app

    await worker_serve(wrap_app(app, config.wsgi_max_body_size, None), config, sockets=sockets)


def _run_hypercorn(app: Any, host: str, port: int, banner: str = "") -> None:
    from hypercorn.config import Config
    from hypercorn.utils import LifespanFailureError

    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = "-"
    quiet = _StoreFailureIsReported()
    app.logger.addFilter(quiet)

    async def _started() -> None:
        # The store is open and every plugin started; Hypercorn says
        # "Running on ..." once it has bound the address.
        app.logger.removeFilter(quiet)
        if banner:
            print(banner, file=sys.stderr, flush=True)

    app.before_serving(_started)
    # Registered last, so it runs after the store has opened and every
    # plugin's startup: whatever they built is frozen too.
    app.before_serving(_tune_gc_when_started)
    # Bound before start-up: a busy port stops the server before the store
    # opens (and before its retention purge runs).
    try:
        sockets = config.create_sockets()
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        asyncio.run(_serve(app, config, sockets))
    except LifespanFailureError as exc:
        # the store's or a plugin's exception, recorded by the app's start-up:
        # Hypercorn passes on only its text, quoted inside a sentence of its own
        failure = app.extensions.get("sentiero.startup_error", exc)
        raise StartupError(str(failure) or type(failure).__name__) from None
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        for sock in (*sockets.secure_sockets, *sockets.insecure_sockets, *sockets.quic_sockets):
            sock.close()


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import create_app

    settings = load_settings(config_file=args.config, **_overrides(args))
    app = create_app(settings)
    mount = (settings.mount_path or "") + "/"
    _run_hypercorn(app, args.host, args.port, f"Dashboard: http://{args.host}:{args.port}{mount}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    listing = describe_plugins(get_plugin_manager())
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for entry in listing:
        print(f"{entry['name']} {entry['version']}")
        hooks = ", ".join(entry["hooks"]) or "(no hooks yet)"
        print(f"    hooks: {hooks}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import create_demo_app

    app = create_demo_app(store_url=args.store)
    banner = (
        f"Todo app:  http://{args.host}:{args.port}/\n"
        f"Dashboard: http://{args.host}:{args.port}/sentiero/  (user demo, password demo)"
    )
    _run_hypercorn(app, args.host, args.port, banner)
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "plugins": cmd_plugins,
    "demo": cmd_demo,
    "purge": lifecycle_cli.cmd_purge,
    "erase": lifecycle_cli.cmd_erase,
}


def main(argv: Sequence[str] | None = None) -> int:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    ours = logging.getLogger("sentiero")
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    try:
        parser = build_parser(get_plugin_manager())
    except PluginError as exc:
        print(f"sentiero: configuration error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        run = getattr(args, "run", None)
        if args.command not in COMMANDS and callable(run):
            return int(run(args))
        return COMMANDS[args.command](args)
    except (SettingsError, PluginError) as exc:
        parser.exit(2, f"sentiero: configuration error: {exc}\n")
    except StartupError as exc:
        parser.exit(1, f"sentiero: the server could not start: {exc}\n")
    except lifecycle_cli.CommandError as exc:
        parser.exit(1, f"sentiero: {exc}\n")
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
