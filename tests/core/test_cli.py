"""The `sentiero` command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from sentiero_core.cli import build_parser, main
from tests.support.live_server import free_port


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentiero_core.cli", *args], capture_output=True, text=True
    )


def test_plugins_lists_every_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in (
        "sentiero-core",
        "sentiero-store-sqlite",
        "sentiero-store-mongo",
        "sentiero-store-file",
        "sentiero-analytics",
        "sentiero-reporter",
    ):
        assert name in out


def test_plugins_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing[0]["name"] == "sentiero-core"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["serve", "--port", "eighty"], "expected a port number, got 'eighty'"),
        (["serve", "--port", "70000"], "between 1 and 65535"),
        (["serve", "--colour"], "unrecognized arguments: --colour"),
        (["launch"], "invalid choice: 'launch'"),
    ],
)
def test_wrong_flags_print_a_usage_error(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "usage: sentiero" in result.stderr
    assert message in result.stderr


def test_serve_with_an_unknown_store_scheme_says_so() -> None:
    result = run("serve", "--store", "mongo://oops")
    assert result.returncode == 2
    assert "no installed store handles 'mongo' URLs" in result.stderr


def test_serve_with_a_bad_config_file_names_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "s.toml"
    cfg.write_text("max_sessions = 'lots'\n")
    result = run("serve", "--config", str(cfg))
    assert result.returncode == 2
    assert "max_sessions: expected an integer" in result.stderr


def test_cors_origin_is_repeatable() -> None:
    args = build_parser().parse_args(
        ["serve", "--cors-origin", "https://a.example", "--cors-origin", "https://b.example"]
    )
    assert args.cors_origin == ["https://a.example", "https://b.example"]


def test_tune_gc_freezes_what_start_up_built_and_raises_the_young_threshold() -> None:
    # In a child: freezing and thresholds are process-wide.
    code = (
        "import gc\n"
        "from sentiero_core.cli import GC_GEN0_THRESHOLD, tune_gc\n"
        "before = gc.get_threshold()\n"
        "tune_gc()\n"
        "after = gc.get_threshold()\n"
        "assert after == (GC_GEN0_THRESHOLD, *before[1:]), (before, after)\n"
        "assert GC_GEN0_THRESHOLD > before[0]\n"
        "assert gc.get_freeze_count() > 1000, gc.get_freeze_count()\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_serve_tunes_the_collector_after_every_other_start_up_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sentiero_core import cli

    served: list[object] = []

    async def fake_serve(app: object, config: object, sockets: object) -> None:
        served.append(app)

    monkeypatch.setattr(cli, "_serve", fake_serve)
    assert main(["serve", "--store", "memory://", "--port", "9"]) == 0
    (app,) = served
    assert app.before_serving_funcs[-1] is cli._tune_gc_when_started  # type: ignore[attr-defined]


def _assert_only_the_reason(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sentiero: the server could not start: ")
    assert reason in lines[0]
    assert "Traceback" not in result.stderr and "listening" not in result.stderr.lower()


def test_serve_with_a_sqlite_store_that_cannot_open_prints_the_reason_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ensure that a store failing to open is one line on stderr and exit 1:
    no address announced, no traceback."""
    (tmp_path / "file").write_text("")
    url = f"sqlite:///{tmp_path}/file/sentiero.db"
    result = run("serve", "--store", url, "--port", str(free_port()))
    _assert_only_the_reason(result, "cannot open SQLite database")


STORE_RAISING_OS_ERROR = """
import sys
import sentiero_core.app as app_module
from sentiero_core.cli import main
from sentiero_core.store import MemoryStore


class Broken(MemoryStore):
    async def open(self):
        raise PermissionError(13, "Permission denied", "/srv/it's/data'")


real = app_module.create_app
app_module.create_app = lambda settings=None, **kw: real(settings, store=Broken())
sys.exit(main(["serve", "--store", "memory://", "--port", sys.argv[1]]))
"""


def test_a_store_whose_open_raises_any_error_prints_its_reason_whole() -> None:
    """Ensure that a third-party store's plain ``OSError`` from ``open()``
    is one line naming the store, its text kept to the last quote."""
    result = subprocess.run(
        [sys.executable, "-c", STORE_RAISING_OS_ERROR, str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    _assert_only_the_reason(
        result, "Broken could not open: [Errno 13] Permission denied: \"/srv/it's/data'\""
    )
    assert result.stderr.strip().endswith("\"/srv/it's/data'\"")


def test_serve_with_an_unreachable_mongo_store_prints_the_reason_alone() -> None:
    closed = free_port()  # nothing listens there
    store = f"mongodb://127.0.0.1:{closed}/sentiero"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sentiero_core.cli",
            "serve",
            "--port",
            str(free_port()),
            "--store",
            store,
        ],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "SENTIERO_PLUGINS__STORE_MONGO__SERVER_SELECTION_TIMEOUT_MS": "300",
            "SENTIERO_PLUGINS__STORE_MONGO__RETRY_ATTEMPTS": "1",
        },
        timeout=60,
    )
    _assert_only_the_reason(result, f"127.0.0.1:{closed}")


def test_serve_on_a_port_in_use_says_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--store", "memory://", "--port", str(port))
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_serve_on_a_busy_port_stops_before_the_store_opens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ensure that a port in use is one line, no address announced, and the
    store never opened (no database file made, no start-up purge run)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "never.db"
        result = run("serve", "--store", f"sqlite:///{db}", "--port", str(port))
    _assert_only_the_reason(result, f"cannot listen on 127.0.0.1:{port}")
    assert "Dashboard" not in result.stderr
    assert not db.exists()
