"""Built-in redaction: e-mail addresses, card numbers, URL query values and
custom patterns, in every string of every event (keys included).

An ordinary plugin: its rule is a :class:`~sentiero_core.types.ScreeningRule`
registered first (``tryfirst``), so its ``screen`` gets the batch's events
as orjson wrote them before any other rule ran. That text lets it skip
walking the events for most batches: orjson escapes nothing
but quotes, backslashes and control characters, every detector below
matches only characters it never escapes, and no match can cross a string's
quotes; so when no detector fires on the whole text, no string inside it
can hold a match either (tests/ingest/test_redaction.py checks this on
random input). Custom patterns, which we cannot reason about, always get
the full walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from ..hookspecs import hookimpl
from ..settings import RedactionSettings, Settings, SettingsError
from ..types import Event, RedactionContext, RedactionRule
from .redaction_patterns import (
    BLANKED,
    BY_NAME,
    TIMESTAMP,
    PatternRule,
    Span,
    Text,
    luhn_valid,
)

__all__ = ["Redactor", "luhn_valid", "recorder_patterns", "redaction_rules"]

# The recorder's forms of the e-mail and card detectors. The e-mail one
# starts only where a run of name characters starts (the lookbehind), so a
# long run costs one pass, not one per position.
EMAIL_JS = r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

# -- e-mail addresses --------------------------------------------------------

_LOCAL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"
_LOCAL_CHARS = frozenset(_LOCAL)
_LOCAL_BYTES = frozenset(_LOCAL.encode())
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_DOMAIN_BYTES = re.compile(rb"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_LETTERS = re.compile(r"[A-Za-z]*")
_LETTERS_BYTES = re.compile(rb"[A-Za-z]*")


def _email_spans(text: Any) -> list[Span]:
    """Spans of ``local@domain.tld`` in ``text`` (str or bytes), found from
    each ``@`` outwards: one regex would retry at every position of a long
    run of name characters, which is quadratic."""
    is_bytes = isinstance(text, bytes)
    at_sign, local, domain_re, letters = (
        (b"@", _LOCAL_BYTES, _DOMAIN_BYTES, _LETTERS_BYTES)
        if is_bytes
        else ("@", _LOCAL_CHARS, _DOMAIN, _LETTERS)
    )
    spans: list[Span] = []
    at = text.find(at_sign)
    while at != -1:
        start = at
        while start > 0 and text[start - 1] in local:
            start -= 1
        m = domain_re.match(text, at + 1) if start < at else None
        if m is not None:
            domain: Any = m.group()
            labels = domain.split(b".") if is_bytes else domain.split(".")
            # the last label must be a TLD (2+ letters); drop labels until it is
            while len(labels) > 1 and not (labels[-1].isalpha() and len(labels[-1]) >= 2):
                # "jane@shop.com-thanks", "jane@shop.com--": text glued on
                # after the TLD ends the address, it does not hide it
                tld = letters.match(labels[-1])
                if tld is not None and len(tld.group()) >= 2:
                    labels[-1] = tld.group()
                    break
                labels.pop()
            if len(labels) > 1:
                end = at + 1 + sum(len(label) + 1 for label in labels) - 1
                if not spans or start >= spans[-1][1]:
                    spans.append((start, end))
        at = text.find(at_sign, at + 1)
    return spans


# -- card numbers ------------------------------------------------------------

# 13-19 digits starting 2-6 (the major networks), either unbroken or in the
# printed groupings (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) with one kind of
# separator. Looser digit runs would catch SVG paths and version strings.
_CARD_PATTERN = (
    r"(?<![0-9.])(?:"
    r"[2-6][0-9]{12,18}"
    r"|[2-6][0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{3})?"
    r"|3[0-9]{3}([ -])[0-9]{6}\2[0-9]{4,5}"
    r")(?![0-9])"
)
_CARD = re.compile(_CARD_PATTERN)
CARD_JS = _CARD_PATTERN
_CARD_BYTES = re.compile(_CARD_PATTERN.encode())

# Screening JSON text: digits and both separators become "0", the rest
# "x"; every card the pattern can match is a run of at least 13 such
# characters, so one substring search finds every run that could hold one
# (most batches have none), and the card pattern then checks that run.
_SCREEN = bytes(48 if 48 <= b <= 57 or b in (32, 45) else 120 for b in range(256))
_RUN13 = b"0" * 13
_GROUPS = b"0000-0000"
_GROUPS_444 = b"0000-0000-0000"
_GROUPS_46 = b"0000-000000-"
MAX_GROUP_HITS = 16


def _digits(match: str) -> str:
    return match.replace(" ", "").replace("-", "")


def _card_length(candidate: str) -> int:
    """How much of ``candidate``, a match of the card pattern, is a card:
    all of it, its first 19 characters (a grouped 16-digit number that the
    pattern took together with a 3-digit group after it, a CVV say), or
    nothing (0)."""
    if luhn_valid(_digits(candidate)):
        return len(candidate)
    if len(candidate) == 23 and luhn_valid(_digits(candidate[:19])):
        return 19
    return 0


def _next_start(m: re.Match[Any]) -> int:
    """Where to look after a candidate that is not a card. A grouped one may
    hide a card that starts at its second group ("2024 4111 1111 1111 1111");
    no card starts inside a group or an unbroken run (a digit before it)."""
    return m.start() + 5 if m.group(1) or m.group(2) else m.end()


def _card_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    while (m := _CARD.search(text, pos)) is not None:
        length = _card_length(m.group())
        if length:
            spans.append((m.start(), m.start() + length))
            pos = m.start() + length
        else:
            pos = _next_start(m)
    return spans


# Every escape, read from the left: in "\\\\u4111" the first backslash
# escapes the second, and "u4111" is text (a card may start there).
_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|.)")


def _card_candidates(classes: bytes) -> bool:
    """Whether :attr:`Text.classes <.redaction_patterns.Text.classes>`
    could hold a card: every card has 13 digits in a row, or starts with
    groups of 4, 4 and 4 digits or of 4 and 6 (with a separator after
    each). Escapes are not undone: the digits of ``\\u0019`` only add
    candidates. Groups of 4 and 4 alone are common (an SVG's
    ``viewBox="0 0 1792 1792"``): each is checked for the rest."""
    if _RUN13 in classes:
        return True
    pos = classes.find(_GROUPS)
    hits = 0
    while pos != -1:
        if classes.startswith(_GROUPS_444, pos) or classes.startswith(_GROUPS_46, pos):
            return True
        hits += 1
        if hits == MAX_GROUP_HITS:
            return True  # too many to check one by one: let the card screen look
        pos = classes.find(_GROUPS, pos + 1)
    return False


def _might_hold_card(text: Text) -> bool:
    """The card screen's first look: a card lies in one of the text's long
    runs (every character of it is a digit, a space or "-")."""
    runs = text.long_runs()
    if runs is None:
        return _card_candidates(text.classes)
    return any(_card_candidates(run) for run in runs)


def _raw_has_card(raw: bytes) -> bool:
    if b"\\" in raw:
        # "\u0019" before "4111..." would glue hex digits onto the number;
        # the character any escape stands for is a boundary, like "x".
        # (One-byte "in" is memchr; b"\\u" in raw is several times slower.)
        raw = _ESCAPE.sub(b"x", raw)
    # (see TIMESTAMP)
    raw = raw.replace(TIMESTAMP, BLANKED)
    screened = raw.translate(_SCREEN)
    pos = screened.find(_RUN13)
    while pos != -1:
        # pos starts a run: the search began after the previous run's end
        end = screened.find(b"x", pos)
        if end == -1:
            end = len(screened)
        at = pos
        while (m := _CARD_BYTES.search(raw, at, end)) is not None:
            if _card_length(m.group().decode("ascii")):
                return True
            at = _next_start(m)
        pos = screened.find(_RUN13, end)
    return False


# -- URL query strings -------------------------------------------------------

# key=value after ?, & or # (tokens also travel in fragments: #access_token=).
# Keys and values stop at every character JSON escapes and at the next
# separator, so a match in the raw bytes is exactly a match in a string.
# In JSON text a key may hold escapes (``\\u0001`` is 6 bytes for one
# character), so the byte pattern allows backslashes and 6x the length.
_QUERY_PAIR = re.compile(r"([?&#])([^=&#?\s\"'<>\\]{1,100})=([^&#?\s\"'<>\\]*)")
_QUERY_PAIR_BYTES = re.compile(rb"[?&#]([^=&#?\s\"'<>]{1,600})=")
_QUERY = re.compile(r"\?[^#\s\"'<>\\]+")


def _strip_spans(text: str) -> list[Span]:
    """Query strings attached to something (``/path?x``, ``page.html?a=1``)."""
    return [
        m.span()
        for m in _QUERY.finditer(text)
        if m.start() > 0 and not text[m.start() - 1].isspace()
    ]


def _raw_query_keys(raw: bytes) -> list[str | None]:
    """Every ``key`` of ``[?&#]key=`` in the JSON text ``raw``, unescaped
    (``None`` for one that does not unescape: treated as a match)."""
    keys: list[str | None] = []
    for sep in b"?&#":
        pos = raw.find(sep)
        while pos != -1:
            m = _QUERY_PAIR_BYTES.match(raw, pos)
            if m is not None:
                key = m.group(1)
                try:
                    keys.append(orjson.loads(b'"' + key + b'"') if b"\\" in key else key.decode())
                except (orjson.JSONDecodeError, UnicodeDecodeError):
                    keys.append(None)
            pos = raw.find(sep, pos + 1)
    return keys


def _raw_has_attached_query(raw: bytes) -> bool:
    pos = raw.find(b"?")
    while pos != -1:
        after = raw[pos + 1 : pos + 2]
        # a backslash after "?" may start an escaped control character,
        # which the string pattern accepts: count it as a match
        if (
            pos > 0
            and not raw[pos - 1 : pos].isspace()
            and after
            and after not in b"#\"'<>"
            and not after.isspace()
        ):
            return True
        pos = raw.find(b"?", pos + 1)
    return False


MAX_CLEAN_KEYS = 4096


class Redactor:
    """The built-in rule: ``redactor(events, context)`` changes events in place."""

    name = "sentiero.builtin_redaction"

    def __init__(self, config: RedactionSettings) -> None:
        self.replacement = config.replacement
        self.emails = "email" in config.builtin_patterns
        self.cards = "card" in config.builtin_patterns
        self.patterns: tuple[PatternRule, ...] = tuple(
            BY_NAME[name] for name in BY_NAME if name in config.builtin_patterns
        )
        self.folding = any(rule.fold for rule in self.patterns)
        self.url_mode = config.url_mode
        self.denylist = tuple(k.lower() for k in config.query_denylist if k)
        self.allowlist = frozenset(k.lower() for k in config.query_allowlist)
        self.custom: list[re.Pattern[str]] = []
        for i, pattern in enumerate(config.custom_patterns):
            try:
                self.custom.append(re.compile(pattern))
            except re.error as exc:
                raise SettingsError(
                    f"redaction.custom_patterns[{i}]: invalid regular expression: {exc}"
                ) from None
        self.queries = self.url_mode not in ("keep", "denylist") or bool(self.denylist)
        self._clean_keys: set[str] = set()

    @property
    def active(self) -> bool:
        return self.emails or self.cards or bool(self.patterns) or self.queries or bool(self.custom)

    def _denied(self, key: str) -> bool:
        lowered = key.lower()
        if self.url_mode == "allowlist":
            return lowered not in self.allowlist
        return any(word in lowered for word in self.denylist)

    # -- one string ---------------------------------------------------------

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
        spans: list[Span] = []
        if self.emails and "@" in text:
            spans += _email_spans(text)
        if self.cards and len(text) >= 13:
            spans += _card_spans(text)
        if self.patterns and len(text) >= 8:
            lower = text.lower() if self.folding else text
            for rule in self.patterns:
                spans += rule.spans(text, lower)
        if spans:
            text = _splice(text, spans, self.replacement)
        for pattern in self.custom:
            text = pattern.sub(self.replacement, text)
        if self.queries and ("?" in text or "&" in text or "#" in text):
            text = self._redact_queries(text)
        return original if text == original else text

    # -- the raw body -------------------------------------------------------

    def might_match(self, raw: bytes) -> bool:
        """``False`` only when no string inside ``raw``, JSON text written by
        orjson, can hold a match (the module docstring says why)."""
        if self.custom:
            return True
        if self.emails and b"@" in raw and _email_spans(raw):
            return True
        text = Text(raw)
        if self.cards and _might_hold_card(text) and _raw_has_card(raw):
            return True
        for rule in self.patterns:
            if rule.could_match(text) and rule.found_in(text):
                return True
        if not self.queries:
            return False
        if self.url_mode == "strip" and _raw_has_attached_query(raw):
            return True
        if b"=" not in raw:
            return False
        keys = _raw_query_keys(raw)
        if self.url_mode in ("strip", "redact_values"):
            return bool(keys)
        return any(key is None or self._denied(key) for key in keys)

    # -- a whole batch ------------------------------------------------------

    def screen(self, events_json: bytes, context: RedactionContext) -> bool:
        """Whether the batch might need this rule, from its JSON text alone."""
        return self.active and self.might_match(events_json)

    def __call__(self, events: list[Event], context: RedactionContext) -> None:
        if self.active:
            self.walk(events)

    def walk(self, root: list[Any] | dict[str, Any]) -> int:
        """Redact every string under ``root`` in place, keys included; the
        number of strings changed."""
        return walk(root, self.redact_text, self._clean_keys)


def walk(
    root: list[Any] | dict[str, Any],
    redact: Callable[[str], str],
    clean_keys: set[str] | None = None,
    shortest: int = 3,
) -> int:
    """Replace every string under ``root`` (keys included) by ``redact(s)``
    in place, for strings of ``shortest`` characters or more; the number of
    strings changed. ``redact`` returns the same object for a string it
    keeps. ``clean_keys`` remembers keys it kept (rrweb's keys repeat
    endlessly: each is checked once). Iterative: a hostile document cannot
    exhaust the Python stack."""
    changed = 0
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            renamed = False
            for key, value in node.items():
                kind = type(value)
                if kind is str:
                    if len(value) >= shortest:
                        new = redact(value)
                        if new is not value:
                            node[key] = new
                            changed += 1
                elif kind is dict or kind is list:
                    stack.append(value)
                if (clean_keys is None or key not in clean_keys) and len(key) >= shortest:
                    if redact(key) is not key:
                        renamed = True
                    elif clean_keys is not None and len(clean_keys) < MAX_CLEAN_KEYS:
                        clean_keys.add(key)
            if renamed:
                items = list(node.items())
                node.clear()
                node.update((redact(k) if len(k) >= shortest else k, v) for k, v in items)
                changed += 1
        else:
            for index, value in enumerate(node):
                kind = type(value)
                if kind is str:
                    if len(value) >= shortest:
                        new = redact(value)
                        if new is not value:
                            node[index] = new
                            changed += 1
                elif kind is dict or kind is list:
                    stack.append(value)
    return changed


class StringFunction:
    """``redaction.string_function`` as a rule: every string, keys too."""

    name = "sentiero.redaction_string_function"

    def __init__(self, function: Callable[[str], str]) -> None:
        self.function = function

    def _redact(self, text: str) -> str:
        new = self.function(text)
        if type(new) is not str:
            raise TypeError(
                f"redaction.string_function returned {type(new).__name__}, not a string"
            )
        return text if new == text else new

    def __call__(self, events: list[Event], context: RedactionContext) -> None:
        walk(events, self._redact, shortest=0)


class EventFunction:
    """``redaction.event_function`` as a rule: every event."""

    name = "sentiero.redaction_event_function"

    def __init__(self, function: Callable[[Event], Any]) -> None:
        self.function = function

    def __call__(self, events: list[Event], context: RedactionContext) -> list[Event]:
        out: list[Event] = []
        for event in events:
            result = self.function(event)
            result = event if result is None else result
            if type(result) is not dict:
                raise TypeError(
                    f"redaction.event_function returned {type(result).__name__}, not an event"
                )
            out.append(result)
        return out


def _splice(text: str, spans: list[Span], replacement: str) -> str:
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


def recorder_patterns(config: RedactionSettings) -> list[list[str]]:
    """The enabled pattern rules in the recorder's form: ``[source, check]``
    pairs of JavaScript regular expressions (flag ``g``) and the check a
    match must pass (``""``, ``"luhn"``, ``"iban"``, ``"phone"``); custom
    patterns that JavaScript reads the same way are included."""
    out: list[list[str]] = []
    if "email" in config.builtin_patterns:
        out.append([EMAIL_JS, ""])
    if "card" in config.builtin_patterns:
        out.append([CARD_JS, "luhn"])
    for rule in BY_NAME.values():
        if rule.name in config.builtin_patterns:
            out.append([rule.js, rule.check or ""])
    out.extend([pattern, ""] for pattern in config.custom_patterns if js_safe(pattern))
    return out


# Plain regular expressions mean the same in Python and JavaScript; a
# pattern using anything beyond them stays on the server only.
_JS_UNSAFE = re.compile(r"\\[AZzGhHNpPQEx0-9]|\(\?[^:]|[*+?}][+]|\[\[")


def js_safe(pattern: str) -> bool:
    """Whether ``pattern`` is written in the common subset of Python's and
    JavaScript's regular expressions (conservatively: no group but ``(?:``,
    no possessive quantifiers, no ``\\A``/``\\Z`` anchors, no escapes
    they read differently)."""
    if _JS_UNSAFE.search(pattern):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@hookimpl(tryfirst=True)
def redaction_rules(settings: Settings) -> list[RedactionRule]:
    config = settings.redaction
    redactor = Redactor(config)
    rules: list[RedactionRule] = [redactor] if redactor.active else []
    if config.string_function is not None:
        rules.append(StringFunction(config.string_function))
    if config.event_function is not None:
        rules.append(EventFunction(config.event_function))
    return rules
