"""``sentiero purge`` and ``sentiero erase``: the data lifecycle from a shell.

Both say first how many sessions they would remove (``--dry-run`` stops
there), ask for confirmation on the terminal (``--yes`` skips it; without
a terminal and without ``--yes`` they refuse), then remove with a progress
bar on stderr and print what was done. Removals go through the configured
store, reach the ``sessions_removed`` hook of every installed plugin and
``audit_log`` (``via: "cli"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from .dashboard.session_filters import FilterError, _moment
from .lifecycle import describe, erase, erasure_filter, matching_ids, plan_purge, purge
from .settings import MAX_AGE_S, Settings, SettingsError, load_settings
from .store import StoreError

if TYPE_CHECKING:
    from .app import Sentiero

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class CommandError(RuntimeError):
    """The command stopped; the message says why (exit status 1)."""


def _duration_s(text: str) -> int:
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected an age like 3600, 90m, 12h or 30d, got {text!r}"
        )
    seconds = int(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if not 1 <= seconds <= MAX_AGE_S:
        # 0 would purge the sessions being recorded now, too
        raise argparse.ArgumentTypeError(
            f"expected an age from 1 s to 100 years (36500d), got {text!r}"
        )
    return seconds


def _date_ms(text: str) -> int:
    try:
        return _moment(text, "--before", end=False)
    except FilterError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None


def _common(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--store", metavar="URL", help="store URL, e.g. sqlite:///sentiero.db")
    parser.add_argument("--config", metavar="FILE", help="a TOML settings file")
    parser.add_argument(
        "--dry-run", action="store_true", help=f"count what would be {verb}, change nothing"
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", help="do not ask for confirmation (scripts, cron)"
    )


def add_purge_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``sentiero purge``, for commands that wrap it (Django, Flask)."""
    _common(parser, "purged")
    parser.add_argument(
        "--older-than",
        type=_duration_s,
        metavar="AGE",
        help="instead of retention_period: an age such as 3600, 90m, 12h or 30d",
    )


def add_erase_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``sentiero erase``, for commands that wrap it (Django, Flask)."""
    _common(parser, "erased")
    parser.set_defaults(usage_parser=parser)
    parser.add_argument(
        "--session", nargs="+", action="extend", metavar="ID", help="session ids (repeatable)"
    )
    parser.add_argument("--user-id", metavar="ID", help="identified user id (exact)")
    parser.add_argument(
        "--ip", metavar="ADDRESS", help="client address (compared as stored: truncated)"
    )
    parser.add_argument("--url-contains", metavar="TEXT", help="a visited URL contains TEXT")
    parser.add_argument(
        "--before",
        type=_date_ms,
        metavar="DATE",
        help="sessions started before DATE (UTC: 2024-05-01 or 2024-05-01T14:30)",
    )


def add_parsers(sub: Any) -> None:
    add_purge_arguments(
        sub.add_parser(
            "purge", help="remove sessions whose last activity is older than retention_period"
        )
    )
    add_erase_arguments(
        sub.add_parser(
            "erase", help="erase sessions matching every filter given (right to erasure)"
        )
    )


class ProgressBar:
    """``label [#####-----] 50% 250/500`` redrawn in place on a terminal;
    without one, a line at each quarter."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._quarter = -1

    def __call__(self, done: int, total: int) -> None:
        total = max(total, done, 1)
        share = done / total
        if not self.tty:
            quarter = int(share * 4)
            if quarter == self._quarter:
                return
            self._quarter = quarter
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {share:4.0%} {done}/{total}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _confirm(question: str, args: argparse.Namespace, verb: str, past: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(
            f"not {verb}: there is no terminal to confirm on; pass --yes to go ahead "
            "without confirmation"
        )
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CommandError(f"not confirmed: nothing was {past}")


def _plural(n: int) -> str:
    return f"{n} session" + ("" if n == 1 else "s")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _settings(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> Settings:
    overrides = {"store_url": args.store} if args.store else {}
    return load_settings(config_file=args.config, **{**dict(base or {}), **overrides})


async def _opened(stack: contextlib.AsyncExitStack, settings: Settings) -> Sentiero:
    # Imported here: ``sentiero plugins`` does not need the web app.
    from .app import open_sentiero

    try:
        return await stack.enter_async_context(open_sentiero(settings))
    except StoreError as exc:
        raise CommandError(f"the store could not be opened: {exc}") from exc


async def _purge(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> int:
    settings = _settings(args, base)
    if args.older_than is None and settings.retention_period is None:
        raise SettingsError(
            "retention_period is not set, so no session has expired; set it, or give an "
            "age with --older-than (30d, 12h...)"
        )
    async with contextlib.AsyncExitStack() as stack:
        sentiero = await _opened(stack, settings)
        plan = await plan_purge(sentiero.store, settings, args.older_than)
        age = (
            f"--older-than {args.older_than} s"
            if args.older_than is not None
            else f"retention_period {settings.retention_period} s"
        )
        print(
            f"{_plural(plan.count)} last active before {_iso(plan.before)} ({age})"
            + (" would be purged." if args.dry_run else ".")
        )
        if args.dry_run:
            return 0
        if not plan.count:
            print("Nothing to purge.")
            return 0
        _confirm(f"Purge {_plural(plan.count)}?", args, "purging", "purged")
        removed = await purge(
            sentiero.store, settings, plan, by=None, via="cli", progress=ProgressBar("purging")
        )
        print(f"{_plural(removed)} purged.")
        return 0
    raise AssertionError("unreachable")  # pragma: no cover


async def _erase(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> int:
    parser: argparse.ArgumentParser = args.usage_parser
    settings = _settings(args, base)
    try:
        f = erasure_filter(
            settings,
            session_ids=args.session,
            user_id=args.user_id,
            ip=args.ip,
            url_contains=args.url_contains,
            before=args.before,
        )
    except ValueError as exc:
        if "criterion" in str(exc):
            parser.error(
                "erase needs at least one filter: --session, --user-id, --ip, "
                "--url-contains or --before (it never erases everything)"
            )
        parser.error(str(exc))
    criteria = ", ".join(f"{k}={v!r}" for k, v in describe(f).items())
    async with contextlib.AsyncExitStack() as stack:
        sentiero = await _opened(stack, settings)
        count = len(await matching_ids(sentiero.store, f))
        tail = " and would be erased." if args.dry_run else "."
        verb = "matches" if count == 1 else "match"
        print(f"{_plural(count)} {verb} {criteria}{tail}")
        if args.dry_run:
            return 0
        if not count:
            # Audited all the same: the request was carried out.
            await erase(sentiero.store, settings, f, by=None, via="cli")
            print("Nothing to erase.")
            return 0
        _confirm(
            f"Erase {_plural(count)} with everything kept about them? This cannot be undone.",
            args,
            "erasing",
            "erased",
        )
        erased = await erase(
            sentiero.store, settings, f, by=None, via="cli", progress=ProgressBar("erasing")
        )
        print(f"{_plural(erased)} erased.")
        return 0
    raise AssertionError("unreachable")  # pragma: no cover


def run_purge(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> int:
    """Runs ``sentiero purge`` with parsed ``args``; ``base`` are settings
    (a framework's configuration) laid over ``--config`` and the environment;
    ``--store`` wins over all of them."""
    return asyncio.run(_purge(args, base))


def run_erase(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> int:
    """Runs ``sentiero erase`` with parsed ``args``; ``base`` as for :func:`run_purge`."""
    return asyncio.run(_erase(args, base))


def cmd_purge(args: argparse.Namespace) -> int:
    return run_purge(args)


def cmd_erase(args: argparse.Namespace) -> int:
    return run_erase(args)
