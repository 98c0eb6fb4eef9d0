"""``sentiero reporter keys create|list|revoke PROJECT``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from .keys import create_key, list_keys, revoke_key


def add_commands(subparsers: Any) -> None:
    reporter = subparsers.add_parser("reporter", help="sentiero-reporter: manage ingest keys")
    reporter_sub = reporter.add_subparsers(dest="reporter_command", metavar="COMMAND")
    reporter_sub.required = True
    keys = reporter_sub.add_parser("keys", help="create, list and revoke ingest keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    keys_sub.required = True
    for action, text in (
        ("create", "create an ingest key for PROJECT (printed once)"),
        ("list", "list PROJECT's keys (prefix, created, revoked)"),
        ("revoke", "revoke PROJECT's key named by its prefix; refused from the next request"),
    ):
        parser = keys_sub.add_parser(action, help=text)
        parser.add_argument("project", metavar="PROJECT")
        if action == "revoke":
            parser.add_argument("prefix", metavar="KEY_PREFIX", help="as `keys list` shows it")
        parser.add_argument("--config", metavar="FILE", help="a TOML settings file")
        parser.add_argument("--store", metavar="URL", help="store URL, e.g. sqlite:///sentiero.db")
        parser.set_defaults(run=run_keys)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def _keys(args: argparse.Namespace) -> int:
    from sentiero_core import create_app, load_settings

    overrides = {"store_url": args.store} if args.store else {}
    settings = load_settings(config_file=args.config, **overrides)
    # The app picks the store exactly as `sentiero serve` would; it is not served.
    store = create_app(settings).extensions["sentiero"].store
    if not store.capabilities.records:
        print(f"sentiero: the {store.name} store cannot keep ingest keys", file=sys.stderr)
        return 2
    if store.name == "memory":
        print(
            "sentiero: warning: the memory store forgets keys when this command ends; "
            "give --store or store_url",
            file=sys.stderr,
        )
    await store.open()
    try:
        if args.keys_command == "create":
            token, record = await create_key(store, args.project)
            print(token)
            print(
                f"created key {record['prefix']}… for project {args.project}; it is shown "
                "only now, keep it in the app's SENTIERO_REPORTER_INGEST_KEY",
                file=sys.stderr,
            )
        elif args.keys_command == "list":
            rows = await list_keys(store, args.project)
            if not rows:
                print(f"no keys for project {args.project}", file=sys.stderr)
            for row in rows:
                state = "revoked " + _when(row["revoked_at"]) if row["revoked_at"] else "live"
                print(f"{row['prefix']}  created {_when(row['created_at'])}  {state}")
        else:
            count = await revoke_key(store, args.project, args.prefix)
            if not count:
                print(
                    f"sentiero: no live key of project {args.project} starts with {args.prefix}",
                    file=sys.stderr,
                )
                return 1
            print(f"revoked {count} key(s)")
    finally:
        await store.close()
    return 0


def run_keys(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_keys(args))
    except ValueError as exc:
        print(f"sentiero: {exc}", file=sys.stderr)
        return 2
