"""Built-in redaction: e-mail addresses, card numbers, URL query values and
custom patterns, in every string of every event (keys included).

The rule is registered first (``tryfirst``) so it sees the batch exactly as
received. That lets it skip the walk entirely: every detector below only
matches characters that JSON never escapes, so if none of them finds
anything in the raw JSON text, no string inside it can hold a match
either. A body with ``\\u`` escapes, or custom patterns (whose matches we
cannot reason about), always gets the full walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..hookspecs import hookimpl
from ..settings import RedactionSettings, Settings, SettingsError

# -- e-mail addresses --------------------------------------------------------

_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _email_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``local@domain.tld``. Found from each ``@`` outwards rather
    than with one regex, whose start-anywhere scan is quadratic on long runs."""
    spans: list[tuple[int, int]] = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        m = _DOMAIN.match(text, at + 1) if start < at else None
        if m is not None:
            domain = m.group()
            labels = domain.split(".")
            # the last label must be a TLD (letters, 2+); drop trailing labels until it is
            while len(labels) > 1 and not (labels[-1].isalpha() and len(labels[-1]) >= 2):
                labels.pop()
            if len(labels) > 1:
                end = at + 1 + len(".".join(labels))
                if not spans or start >= spans[-1][1]:
                    spans.append((start, end))
        at = text.find("@", at + 1)
    return spans


# -- card numbers ------------------------------------------------------------

# 13-19 digits starting 2-6 (the major networks), either unbroken or in the
# printed groupings (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) with one kind of
# separator. Looser digit runs would catch SVG paths and version strings.
_CARD = re.compile(
    r"(?<![\d.])(?:"
    r"[2-6]\d{12,18}"
    r"|[2-6]\d{3}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?"
    r"|3\d{3}([ -])\d{6}\2\d{4,5}"
    r")(?!\d)"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_spans(text: str) -> list[tuple[int, int]]:
    return [
        m.span()
        for m in _CARD.finditer(text)
        if luhn_valid(m.group().replace(" ", "").replace("-", ""))
    ]


# -- URL query strings -------------------------------------------------------

# key=value after ?, & or # (tokens also travel in fragments: #access_token=).
# Keys and values stop at every character JSON escapes (and at the next
# separator), so a match in the raw JSON text is exactly a match in a string.
_QUERY_PAIR = re.compile(r"([?&#])([^=&#?\s\"'<>\\]{1,100})=([^&#?\s\"'<>\\]*)")
_QUERY = re.compile(r"\?[^#\s\"'<>\\]+")


def _strip_spans(text: str) -> list[tuple[int, int]]:
    """Query strings attached to something (``/path?x``, ``page.html?a=1``)."""
    return [
        m.span()
        for m in _QUERY.finditer(text)
        if m.start() > 0 and not text[m.start() - 1].isspace()
    ]


class Redactor:
    """The built-in rule: ``redactor(events, context)`` changes events in place."""

    name = "sentiero.builtin_redaction"

    def __init__(self, config: RedactionSettings) -> None:
        self.replacement = config.replacement
        self.emails = "email" in config.builtin_patterns
        self.cards = "card" in config.builtin_patterns
        self.url_mode = config.url_mode
        self.denylist = tuple(k.lower() for k in config.query_denylist if k)
        self.custom: list[re.Pattern[str]] = []
        for i, pattern in enumerate(config.custom_patterns):
            try:
                self.custom.append(re.compile(pattern))
            except re.error as exc:
                raise SettingsError(
                    f"redaction.custom_patterns[{i}]: invalid regular expression: {exc}"
                ) from None
        self.queries = self.url_mode != "keep" or bool(self.denylist)

    @property
    def active(self) -> bool:
        return self.emails or self.cards or self.queries or bool(self.custom)

    # -- one string ---------------------------------------------------------

    def _denied(self, key: str) -> bool:
        lowered = key.lower()
        return any(word in lowered for word in self.denylist)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        if self.emails and "@" in text:
            spans += _email_spans(text)
        if self.cards and len(text) >= 13:
            spans += _card_spans(text)
        return spans

    def _redact_queries(self, text: str) -> str:
        if self.url_mode == "strip":
            spans = _strip_spans(text)
            if spans:
                text = _splice(text, spans, "")
        if "=" not in text:
            return text
        if self.url_mode == "redact_values":
            return _QUERY_PAIR.sub(lambda m: f"{m[1]}{m[2]}={self.replacement}", text)
        return _QUERY_PAIR.sub(
            lambda m: f"{m[1]}{m[2]}={self.replacement}" if self._denied(m[2]) else m[0], text
        )

    def redact_text(self, text: str) -> str:
        """``text`` with every match replaced (the same object if none)."""
        original = text
        spans = self._spans(text)
        if spans:
            text = _splice(text, spans, self.replacement)
        for pattern in self.custom:
            text = pattern.sub(self.replacement, text)
        if self.queries and ("?" in text or "&" in text or "#" in text):
            text = self._redact_queries(text)
        return original if text == original else text

    def might_match(self, raw: str) -> bool:
        """``False`` only when no string inside the JSON text ``raw`` can
        hold a match; the detectors run over the raw text as if it were one
        string (see the module docstring for why that is exact)."""
        if self.custom or "\\u" in raw:
            return True
        if self._spans(raw):
            return True
        if not self.queries:
            return False
        if self.url_mode == "strip" and _strip_spans(raw):
            return True
        if self.url_mode != "keep":
            return _QUERY_PAIR.search(raw) is not None
        return any(self._denied(m[2]) for m in _QUERY_PAIR.finditer(raw))

    # -- a whole batch ------------------------------------------------------

    def __call__(self, events: list[dict[str, Any]], context: dict[str, Any]) -> None:
        if not self.active:
            return
        raw = context.get("raw_json")
        if isinstance(raw, bytes | bytearray) and not self.might_match(
            bytes(raw).decode("utf-8", "replace")
        ):
            return
        self.walk(events)

    def walk(self, root: list[Any] | dict[str, Any]) -> None:
        """Redact every string under ``root`` in place, keys included.
        Iterative: a hostile document cannot exhaust the Python stack."""
        redact = self.redact_text
        stack: list[Any] = [root]
        while stack:
            node = stack.pop()
            if type(node) is dict:
                renamed = False
                for key, value in node.items():
                    kind = type(value)
                    if kind is str:
                        if len(value) > 2:
                            new = redact(value)
                            if new is not value:
                                node[key] = new
                    elif kind is dict or kind is list:
                        stack.append(value)
                    if len(key) > 2 and redact(key) is not key:
                        renamed = True
                if renamed:
                    items = list(node.items())
                    node.clear()
                    node.update((redact(k), v) for k, v in items)
            else:
                for index, value in enumerate(node):
                    kind = type(value)
                    if kind is str:
                        if len(value) > 2:
                            new = redact(value)
                            if new is not value:
                                node[index] = new
                    elif kind is dict or kind is list:
                        stack.append(value)


def _splice(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    """``text`` with each span replaced; overlapping spans merge."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:  # overlaps the previous span: widen it
            pos = max(pos, end)
            continue
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


Rule = Callable[[list[dict[str, Any]], dict[str, Any]], Any]


@hookimpl(tryfirst=True)
def redaction_rules(settings: Settings) -> list[Rule]:
    redactor = Redactor(settings.redaction)
    return [redactor] if redactor.active else []
