"""What notify and track send: exceptions, context, filtering, hooks."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import pytest
import sentiero_reporter
from sentiero_reporter import capture_notifications

from .conftest import ADDRESS


class PaymentError(Exception):
    pass


class CardDeclined(PaymentError):
    pass


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_an_error_report_carries_type_message_frames_and_source() -> None:
    sentiero_reporter.configure(**ADDRESS, environment="prod", release="1.4", transport="null")
    with capture_notifications() as sent:
        assert sentiero_reporter.notify(raised(CardDeclined("card 4242 declined"))) is True
    [(kind, report)] = sent
    assert kind == "errors"
    assert report["project"] == "shop"
    assert (report["environment"], report["release"]) == ("prod", "1.4")
    assert report["context"]["environment"] == "prod" and report["context"]["release"] == "1.4"
    assert report["exception"]["type"].endswith("test_reports.CardDeclined")
    assert report["exception"]["message"] == "card 4242 declined"
    frame = report["exception"]["frames"][-1]
    assert frame["function"] == "raised"
    assert frame["context_line"].strip() == "raise exc"
    assert len(frame["pre_context"]) == 5 and frame["post_context"]
    assert frame["in_app"] is True
    assert isinstance(report["timestamp"], int)
    json.dumps(report)  # the payload is plain JSON


def test_notify_without_argument_reports_the_exception_being_handled() -> None:
    with capture_notifications() as sent:
        try:
            raise KeyError("k")
        except KeyError:
            assert sentiero_reporter.notify() is True
        assert sentiero_reporter.notify() is False  # nothing being handled
    assert sent[0][1]["exception"]["type"] == "KeyError"


def test_causes_are_reported_in_order() -> None:
    try:
        try:
            raise OSError("disk")
        except OSError as inner:
            raise RuntimeError("save failed") from inner
    except RuntimeError as outer:
        error = outer
    with capture_notifications() as sent:
        sentiero_reporter.notify(error)
    exception = sent[0][1]["exception"]
    assert exception["type"] == "RuntimeError"
    assert [c["type"] for c in exception["causes"]] == ["OSError"]


def test_context_lines_option_sets_the_source_window() -> None:
    with capture_notifications(context_lines=1) as sent:
        sentiero_reporter.notify(raised(ValueError("x")))
    frame = sent[0][1]["exception"]["frames"][-1]
    assert len(frame["pre_context"]) == 1 and len(frame["post_context"]) == 1
    with capture_notifications(context_lines=0) as sent:
        sentiero_reporter.notify(raised(ValueError("x")))
    assert "context_line" not in sent[0][1]["exception"]["frames"][-1]


def test_explicit_fingerprint_and_level_are_sent() -> None:
    with capture_notifications() as sent:
        sentiero_reporter.notify(ValueError("x"), fingerprint=["checkout", "card"], level="warning")
        with sentiero_reporter.context(fingerprint="from-context"):
            sentiero_reporter.notify(ValueError("y"))
    assert sent[0][1]["fingerprint"] == ["checkout", "card"]
    assert sent[0][1]["level"] == "warning"
    assert sent[1][1]["fingerprint"] == "from-context"
    assert "fingerprint" not in sent[1][1]["context"]


def test_track_sends_name_level_and_properties() -> None:
    with capture_notifications() as sent:
        assert sentiero_reporter.track("signup", level="info", plan="pro", seats=3) is True
        sentiero_reporter.track("odd", level="loud")
    kind, event = sent[0]
    assert kind == "events"
    assert (event["name"], event["level"], event["properties"]) == (
        "signup",
        "info",
        {"plan": "pro", "seats": 3},
    )
    assert sent[1][1]["level"] == "info"  # unknown levels fall back


# -- context ---------------------------------------------------------------


def test_add_context_context_manager_and_clear() -> None:
    with capture_notifications() as sent:
        sentiero_reporter.add_context(user_id=42)
        sentiero_reporter.add_context({"plan": "pro"})
        with sentiero_reporter.context(request_id="abc"):
            sentiero_reporter.notify(ValueError("inside"), context={"extra": 1})
        sentiero_reporter.notify(ValueError("after"))
        sentiero_reporter.clear_context()
        sentiero_reporter.track("cleared")
    assert sent[0][1]["context"] == {"user_id": 42, "plan": "pro", "request_id": "abc", "extra": 1}
    assert sent[1][1]["context"] == {"user_id": 42, "plan": "pro"}
    assert sent[2][1]["context"] == {}


def test_session_and_window_ids_in_context_link_the_report() -> None:
    with capture_notifications() as sent, sentiero_reporter.context(session_id="s1", window_id=7):
        sentiero_reporter.notify(ValueError("x"))
    report = sent[0][1]
    assert (report["session_id"], report["window_id"]) == ("s1", "7")
    assert "session_id" not in report["context"]


def test_context_is_separate_per_asyncio_task() -> None:
    async def worker(user: int, gate: asyncio.Event) -> None:
        sentiero_reporter.add_context(user_id=user)
        await gate.wait()
        sentiero_reporter.track("done")

    async def main() -> None:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(worker(n, gate)) for n in range(5)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*tasks)

    with capture_notifications() as sent:
        asyncio.run(main())
    assert sorted(e["context"]["user_id"] for _, e in sent) == [0, 1, 2, 3, 4]


def test_context_is_separate_per_thread() -> None:
    barrier = threading.Barrier(4)

    def worker(user: int) -> None:
        sentiero_reporter.add_context(user_id=user)
        barrier.wait()
        sentiero_reporter.track("done")

    with capture_notifications() as sent:
        sentiero_reporter.add_context(user_id="main")
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(e["context"]["user_id"] for _, e in sent) == [0, 1, 2, 3]


# -- ignore_exceptions -----------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        PaymentError,
        CardDeclined,
        "PaymentError",
        f"{__name__}.PaymentError",
        "Exception",
    ],
)
def test_ignore_exceptions_matches_class_ancestors_and_names(rule: Any) -> None:
    with capture_notifications(ignore_exceptions=[rule]) as sent:
        assert sentiero_reporter.notify(CardDeclined("x")) is False
        assert sentiero_reporter.notify(KeyboardInterrupt()) is True
    assert [r["exception"]["type"] for _, r in sent] == ["KeyboardInterrupt"]


def test_ignore_exceptions_leaves_others() -> None:
    with capture_notifications(ignore_exceptions=[CardDeclined, "myapp.NotFound"]) as sent:
        assert sentiero_reporter.notify(PaymentError("parent is not ignored")) is True
    assert len(sent) == 1


# -- before_notify ---------------------------------------------------------


def test_before_notify_can_change_a_report() -> None:
    def hook(report: dict[str, Any]) -> dict[str, Any]:
        report["context"]["tagged"] = True
        report["context"].pop("secret", None)
        return report

    with capture_notifications(before_notify=hook) as sent:
        sentiero_reporter.notify(ValueError("x"), context={"secret": "s"})
    assert sent[0][1]["context"] == {"tagged": True}


@pytest.mark.parametrize("answer", [None, False])
def test_before_notify_can_drop_a_report(answer: Any) -> None:
    with capture_notifications(before_notify=lambda report: answer) as sent:
        assert sentiero_reporter.notify(ValueError("x")) is False
    assert sent == []


def test_a_raising_before_notify_sends_the_report_unchanged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def hook(report: dict[str, Any]) -> dict[str, Any]:
        report["context"]["half-done"] = True
        raise RuntimeError("hook bug")

    with capture_notifications(before_notify=hook) as sent:
        assert sentiero_reporter.notify(ValueError("x"), context={"a": 1}) is True
    assert sent[0][1]["context"] == {"a": 1}
    assert "hook bug" in caplog.text


def test_a_before_notify_returning_junk_sends_the_report_unchanged() -> None:
    with capture_notifications(before_notify=lambda report: 42) as sent:
        sentiero_reporter.notify(ValueError("x"))
    assert sent[0][1]["exception"]["message"] == "x"


def test_before_notify_output_is_filtered_again() -> None:
    def hook(report: dict[str, Any]) -> dict[str, Any]:
        report["context"]["password"] = "added by hook"
        return report

    with capture_notifications(before_notify=hook, filter_keys=["password"]) as sent:
        sentiero_reporter.notify(ValueError("x"))
    assert sent[0][1]["context"]["password"] == "[FILTERED]"


# -- filter_keys -----------------------------------------------------------


def test_filter_keys_by_string_and_regex_at_any_depth() -> None:
    rules = ["password", re.compile(r"secret", re.IGNORECASE)]
    with capture_notifications(filter_keys=rules) as sent:
        sentiero_reporter.notify(
            ValueError("x"),
            context={
                "Password": "p",
                "user": {"name": "ada", "api_secret": "s", "cards": [{"password": "q"}]},
                "MY_SECRET_TOKEN": "t",
                "passwords": "not an exact match",
            },
        )
        sentiero_reporter.track("login", password="p", nested={"clientSecret": "c"})
    context = sent[0][1]["context"]
    assert context["Password"] == "[FILTERED]"
    assert context["user"] == {
        "name": "ada",
        "api_secret": "[FILTERED]",
        "cards": [{"password": "[FILTERED]"}],
    }
    assert context["MY_SECRET_TOKEN"] == "[FILTERED]"
    assert context["passwords"] == "not an exact match"
    properties = sent[1][1]["properties"]
    assert properties == {"password": "[FILTERED]", "nested": {"clientSecret": "[FILTERED]"}}


# -- values that are not JSON ----------------------------------------------


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("repr explodes")

    def __str__(self) -> str:
        raise RuntimeError("str explodes")


class HostileError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("message explodes")


def test_context_values_that_are_not_json_are_reported_safely() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    deep: Any = []
    for _ in range(50):
        deep = [deep]
    with capture_notifications() as sent:
        sentiero_reporter.add_context(
            obj=object(),
            hostile=Hostile(),
            cycle=cycle,
            deep=deep,
            raw=b"\xff",
            nan=float("nan"),
            keys={1: "int key", (2, 3): "tuple key"},
            items={3, 4},
        )
        assert sentiero_reporter.notify(HostileError()) is True
        assert sentiero_reporter.track("t", thing=Hostile()) is True
    report = sent[0][1]
    text = json.dumps(report, allow_nan=False)
    assert "unrepresentable Hostile" in text
    assert report["exception"]["message"] == "<unprintable message>"
    assert report["context"]["keys"] == {"1": "int key", "(2, 3)": "tuple key"}
    assert report["context"]["nan"] is None
    json.dumps(sent[1][1], allow_nan=False)


def test_a_context_mapping_that_raises_is_survived() -> None:
    class BadMapping(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("items explodes")

    with capture_notifications() as sent:
        sentiero_reporter.add_context(bad=BadMapping(a=1))
        assert sentiero_reporter.notify(ValueError("x")) is True
        sentiero_reporter.add_context(123)  # type: ignore[arg-type]
        with sentiero_reporter.context(123):  # type: ignore[arg-type]
            assert sentiero_reporter.track("still works") is True
    assert sent[0][1]["context"]["bad"] == "{'a': 1}"  # its repr, since items() fails
    assert len(sent) == 2
