"""The built-in pattern rules beyond e-mail and cards: tokens, API keys and
secrets, IBANs and phone numbers (docs/privacy.md lists them).

Every pattern here is written so that it can screen the batch's JSON text
as well as match single strings (see :mod:`.redaction`): its character
classes exclude what orjson escapes (quotes, backslashes, control
characters), so no match contains an escape; where a string match needs a
boundary before or after it, the screen replaces each escape in the text by
a space, which is a boundary too. A pattern that is only worth running near
a literal (``anchors``) is skipped when none of its anchors is in the text:
most batches hold none. That first look costs little: an anchor with a
rare byte in it (a capital, ``_``) is looked for at that byte's few places
(``memchr``), and the IBAN rule looks for its shape only in the text's long
runs of capitals, digits and spaces (:meth:`Text.long_runs`, shared with
the card screen), which most batches have none of.

Each rule also carries the same pattern in JavaScript's syntax, which the
recorder runs on every string before it queues an event, so that the raw
value never leaves the page (``check`` names the validation the recorder
applies to a match: ``luhn`` or ``iban``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Span = tuple[int, int]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616's check: the number with its first four characters moved
    to the end, letters as 10-35, is 1 modulo 97."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def phone_valid(text: str) -> bool:
    return 8 <= sum(ch.isdigit() for ch in text) <= 15


@dataclass(frozen=True)
class PatternRule:
    """One built-in rule: ``pattern`` (ASCII, compiled for ``str``), what it
    replaces (the group named ``v`` when there is one, else the match),
    an optional ``valid`` check on that text, the ``anchors`` (lower-case
    when ``fold``) without which it cannot match, and its ``js`` form."""

    name: str
    source: str
    #: The JavaScript form, when it differs from ``source``.
    js_source: str | None = None
    anchors: tuple[str, ...] = ()
    fold: bool = False
    valid: Callable[[str], bool] | None = None
    check: str | None = None
    #: What the screen looks for instead of ``anchors`` (fewer, shared
    #: between rules: each costs a pass over the batch's text).
    raw_anchors: tuple[str, ...] = ()
    #: Where a match can start in the text's :data:`SHAPES` form.
    shape: bytes = b""
    #: Every valid match is :data:`RUN_MIN` or more characters from A-Z,
    #: 0-9, space and "-": the shape is looked for in Text.long_runs only.
    in_runs: bool = False
    flags: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    raw: re.Pattern[bytes] = field(init=False, repr=False, compare=False)

    #: The anchors as the screen looks for them first.
    literals: Anchors = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flags = re.ASCII | self.flags
        object.__setattr__(self, "pattern", re.compile(self.source, flags))
        object.__setattr__(self, "raw", re.compile(self.source.encode(), flags))
        object.__setattr__(self, "literals", Anchors(tuple(a.encode() for a in self.anchors)))
        # Text.has_shape reads shapes in Text.classes, which keeps only these two
        if self.shape.strip(b"A0"):
            raise ValueError(f"{self.name}: a shape holds only 'A' and '0'")

    @property
    def js(self) -> str:
        return self.js_source or self.source

    def spans(self, text: str, lower: str) -> list[Span]:
        """Where ``text`` (``lower``: the same, lower-cased) holds a match."""
        if self.anchors:
            haystack = lower if self.fold else text
            if not any(anchor in haystack for anchor in self.anchors):
                return []
        out: list[Span] = []
        for m in self.pattern.finditer(text):
            span = m.span("v") if "v" in self.pattern.groupindex else m.span()
            if self.valid is None or self.valid(text[span[0] : span[1]]):
                out.append(span)
        return out

    def might_match(self, text: Text) -> bool:
        """``False`` only when no string in the batch's JSON text holds a
        match (``text`` gives that JSON text in the forms this needs):
        :meth:`could_match`, then :meth:`found_in`."""
        return self.could_match(text) and self.found_in(text)

    def could_match(self, text: Text) -> bool:
        """``False`` when the text lacks what every match holds: one of the
        anchors (none of their characters is one JSON escapes, so each
        stands in the text as in its string), or the ``shape`` a match
        starts with. Cheap, and enough for most batches."""
        if self.anchors:
            return self.literals.found_in(text.lower if self.fold else text.raw)
        if self.shape:
            return text.has_shape(self.shape, runs_only=self.in_runs)
        return True

    def found_in(self, text: Text) -> bool:
        """Whether a string in the text holds a match, from the text alone.

        The pattern runs only near each place a match could start: around
        each anchor, or at each ``shape`` of the text as :data:`SHAPES`
        writes it; over the whole text a pattern without a literal start
        costs 10-100x more."""
        if self.shape:
            return any(self._found(text.normalized, pos) for pos in text.shape_at(self.shape))
        anchors = self.raw_anchors or self.anchors
        if anchors and not any(text.has(anchor, self.fold) for anchor in anchors):
            return False
        normalized = text.normalized
        if not anchors:
            return self._found(normalized, 0, len(normalized))
        where = normalized.lower() if self.fold else normalized
        starts = [
            max(0, pos - WINDOW_BEFORE)
            for anchor in anchors
            for pos in _positions(where, anchor.encode())
        ]
        if self.raw_anchors:
            # a shared anchor ("_") is common: only near one of this rule's
            # own anchors is the pattern worth running
            own = [anchor.encode() for anchor in self.anchors]
            starts = [
                start
                for start in starts
                if any(a in where[start : start + 2 * WINDOW_BEFORE] for a in own)
            ]
        return any(self._found(normalized, start, start + WINDOW) for start in starts)

    def _found(self, text: bytes, start: int, end: int | None = None) -> bool:
        """A valid match in ``text[start:end]``, or (no ``end``) at ``start``."""
        if end is None:
            m = self.raw.match(text, start)
            matches: Iterable[re.Match[bytes]] = [m] if m is not None else []
        else:
            matches = self.raw.finditer(text, start, end)
        for m in matches:
            if self.valid is None:
                return True
            span = m.span("v") if "v" in self.raw.groupindex else m.span()
            if self.valid(text[span[0] : span[1]].decode("ascii", "replace")):
                return True
        return False


class Text:
    """A batch's JSON text in the forms the pattern rules screen, each made
    at most once: lower-cased, with each escape a space (``normalized``:
    every escape stands for a character no rule's class accepts, so a
    space, a boundary, is exact), and its :data:`SHAPES`."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._lower: bytes | None = None
        self._normalized: bytes | None = None
        self._shapes: bytes | None = None
        self._blanked: bytes | None = None
        self._classes: bytes | None = None
        self._runs: list[bytes] | None = None
        self._runs_counted = False
        self._has: dict[tuple[str, bool], bool] = {}

    @property
    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.raw.lower()
        return self._lower

    @property
    def has_capitals(self) -> bool:
        # bytes.lower() changes A-Z and nothing else
        return self.lower != self.raw

    @property
    def blanked(self) -> bytes:
        """The text with each timestamp's first digit blanked (see
        :data:`TIMESTAMP`)."""
        if self._blanked is None:
            self._blanked = self.raw.replace(TIMESTAMP, BLANKED)
        return self._blanked

    @property
    def classes(self) -> bytes:
        """The :attr:`blanked` text as :data:`CLASSES` writes it: where a
        card number or a shape could be."""
        if self._classes is None:
            self._classes = self.blanked.translate(CLASSES)
        return self._classes

    def long_runs(self) -> list[bytes] | None:
        """Each run of :data:`RUN_MIN` or more capitals, digits, spaces and
        "-" in the :attr:`blanked` text, as :data:`CLASSES` writes it:
        every card number and IBAN lies in one, and most batches have none
        (timestamps are blanked, and their other numbers are short). ``None``
        when there are more than :data:`MAX_RUNS` (an SVG's path data):
        then search :attr:`classes` whole."""
        if not self._runs_counted:
            self._runs_counted = True
            blanked = self.blanked
            marks = blanked.translate(RUNS)
            runs: list[bytes] | None = []
            pos = marks.find(_LONG_RUN)
            while pos != -1 and runs is not None:
                # pos starts a run: the search began after the previous one
                end = marks.find(b"x", pos + RUN_MIN)
                if end == -1:
                    end = len(marks)
                if len(runs) == MAX_RUNS:
                    runs = None
                else:
                    runs.append(blanked[pos:end].translate(CLASSES))
                    pos = marks.find(_LONG_RUN, end)
            self._runs = runs
        return self._runs

    def has_shape(self, shape: bytes, runs_only: bool = False) -> bool:
        """Whether some string in the text could start with ``shape``
        (``A`` a capital, ``0`` a digit: blanking a timestamp's digit hides
        no shape, since it follows a colon); with ``runs_only``, a shape
        whose every match fills a long run (:meth:`long_runs`)."""
        if b"A" in shape and not self.has_capitals:
            return False
        runs = self.long_runs() if runs_only else None
        if runs is not None:
            return any(shape in run for run in runs)
        # the regular expression engine looks for the shape's rarer first
        # byte; bytes.find checks its last, a digit, and digits are many
        return _literal(shape).search(self.classes) is not None

    def has(self, anchor: str, fold: bool) -> bool:
        # rules share anchors ("_"): each is looked for once a batch
        key = (anchor, fold)
        found = self._has.get(key)
        if found is None:
            found = self._has[key] = anchor.encode() in (self.lower if fold else self.raw)
        return found

    @property
    def normalized(self) -> bytes:
        if self._normalized is None:
            raw = self.raw
            self._normalized = _ANY_ESCAPE.sub(b" ", raw) if b"\\" in raw else raw
        return self._normalized

    def shape_at(self, shape: bytes) -> list[int]:
        if self._shapes is None:
            self._shapes = self.normalized.translate(SHAPES)
        return _positions(self._shapes, shape)


_ANY_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|.)")

#: Bytes that few places of a recorded page's JSON text hold: capitals and
#: "_" (its keys, numbers and CSS are mostly lower-case letters, digits and
#: punctuation).
RARE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
#: How many places of an anchor's rare byte are checked one by one before
#: the anchor itself is searched for (the byte is not rare in this text):
#: a search costs about what checking one place per 512 bytes does.
KEY_HITS = 16
KEY_HITS_PER_BYTE = 1 / 512


class Anchors:
    """The literals a rule's every match holds one of, and the quickest way
    to tell whether a text holds one: from each place of a literal's first
    rare byte, found with ``memchr`` (most texts have few or none), else by
    a substring search (the regular expression engine's, which beats
    ``bytes.find`` on short literals of common letters)."""

    __slots__ = ("by_key", "long", "short")

    def __init__(self, literals: tuple[bytes, ...]) -> None:
        #: rare byte -> (literal, where in it that byte is), for one pass per byte
        self.by_key: dict[bytes, list[tuple[bytes, int]]] = {}
        #: the others: bytes.find skips ahead by about a long literal's length
        self.long: list[bytes] = []
        self.short: list[re.Pattern[bytes]] = []
        for literal in literals:
            offset = next((i for i, b in enumerate(literal) if b in RARE_BYTES), -1)
            if offset >= 0:
                self.by_key.setdefault(literal[offset : offset + 1], []).append((literal, offset))
            elif len(literal) > LONG_LITERAL:
                self.long.append(literal)
            else:
                self.short.append(_literal(literal))

    def found_in(self, haystack: bytes) -> bool:
        # plain loops: this runs for every rule on every batch
        for key, literals in self.by_key.items():
            if key in haystack and _keyed(haystack, key, literals):
                return True
        for literal in self.long:
            if literal in haystack:
                return True
        for pattern in self.short:  # noqa: SIM110 (any() over a generator costs more)
            if pattern.search(haystack) is not None:
                return True
        return False


#: Literals longer than this are found faster by bytes.find than by re.
LONG_LITERAL = 8


@functools.lru_cache(maxsize=64)
def _literal(text: bytes) -> re.Pattern[bytes]:
    return re.compile(re.escape(text))


def _keyed(haystack: bytes, key: bytes, literals: list[tuple[bytes, int]]) -> bool:
    """Whether ``haystack`` holds one of ``literals``, each holding ``key``
    at the offset given."""
    pos = haystack.find(key)
    hits = 0
    most = KEY_HITS + int(len(haystack) * KEY_HITS_PER_BYTE)
    while pos != -1:
        for literal, offset in literals:
            if pos >= offset and haystack.startswith(literal, pos - offset):
                return True
        hits += 1
        if hits == most:
            # not rare here: search for each literal past the places checked
            return any(haystack.find(lit, max(0, pos - off + 1)) != -1 for lit, off in literals)
        pos = haystack.find(key, pos + 1)
    return False


def _positions(text: bytes, needle: bytes) -> list[int]:
    out = []
    pos = text.find(needle)
    while pos != -1:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out


# Around an anchor, where a match can lie: no keyword reaches further back
# than this before its anchor, and the shortest match ends well within.
WINDOW_BEFORE = 32
WINDOW = 512

# The shape of JSON text for rules without anchors: capitals "A", digits
# "0", "+" and "(" kept, anything else "x"; every IBAN starts "AA00".
SHAPES = bytes(
    65 if 65 <= b <= 90 else 48 if 48 <= b <= 57 else b if b in b"+(" else 120 for b in range(256)
)

# Text.classes: capitals "A", digits "0", a space or "-" (what separates
# the groups of a printed card number) "-", anything else "x".
CLASSES = bytes(
    65 if 65 <= b <= 90 else 48 if 48 <= b <= 57 else 45 if b in b" -" else 120 for b in range(256)
)
# Text.long_runs: capitals, digits, a space or "-" "0", anything else "x".
RUNS = bytes(48 if 65 <= b <= 90 or 48 <= b <= 57 or b in b" -" else 120 for b in range(256))
#: The shortest run a card number (13 digits) or an IBAN (15 characters) fills.
RUN_MIN = 13
_LONG_RUN = b"0" * RUN_MIN
#: Past this many long runs, searching the text whole costs less.
MAX_RUNS = 32
# Every event's "timestamp" is a 13-digit number; blanking its first digit
# spares the card screen 50 runs a batch. Exact: after an unescaped quote
# and a colon comes a value, and digits there are a number, never text.
TIMESTAMP = b'timestamp":1'
BLANKED = b'timestamp":x'


# A value: anything up to a boundary (and never an escaped character).
_VALUE = r"[^\x00-\x20\x7f\"'\\<>&,;]"

RULES: tuple[PatternRule, ...] = (
    PatternRule(
        "bearer",
        r"(?i)\bbearer +(?P<v>[A-Za-z0-9._~+/=-]{8,})",
        js_source=r"(?<=\b[Bb][Ee][Aa][Rr][Ee][Rr] +)[A-Za-z0-9._~+/=-]{8,}",
        anchors=("bearer",),
        fold=True,
    ),
    PatternRule(
        "jwt",
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        anchors=("eyJ",),
    ),
    PatternRule(
        "aws_key",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        anchors=("AKIA", "ASIA", "ABIA", "ACCA"),
        shape=b"AAAA",
    ),
    PatternRule(
        "github_token",
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        anchors=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        raw_anchors=("_",),
    ),
    PatternRule(
        "stripe_key",
        r"(?<![A-Za-z0-9_])(?:[sr]k_(?:live|test)|whsec)_[A-Za-z0-9]{10,}",
        anchors=("k_live_", "k_test_", "whsec_"),
        raw_anchors=("_",),
    ),
    PatternRule(
        "slack_token",
        r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"
        r"|hooks\.slack\.com/services/[A-Za-z0-9/]{20,}",
        anchors=("xox", "hooks.slack.com"),
        raw_anchors=("xox", "slack"),
    ),
    PatternRule(
        "api_key",
        r"(?i)(?:api[_-]?key|api[_-]?secret|secret[_-]?(?:access[_-]?)?key|client[_-]?secret"
        r"|access[_-]?token|auth[_-]?token|refresh[_-]?token|password|passwd)"
        rf"[\"' ]?[=:] ?[\"' ]?(?P<v>{_VALUE}{{6,}})",
        js_source=r"(?<=(?:[Aa][Pp][Ii][_-]?(?:[Kk][Ee][Yy]|[Ss][Ee][Cc][Rr][Ee][Tt])"
        r"|[Ss][Ee][Cc][Rr][Ee][Tt][_-]?(?:[Aa][Cc][Cc][Ee][Ss][Ss][_-]?)?[Kk][Ee][Yy]"
        r"|[Cc][Ll][Ii][Ee][Nn][Tt][_-]?[Ss][Ee][Cc][Rr][Ee][Tt]"
        r"|(?:[Aa][Cc][Cc][Ee][Ss][Ss]|[Aa][Uu][Tt][Hh]|[Rr][Ee][Ff][Rr][Ee][Ss][Hh])[_-]?"
        r"[Tt][Oo][Kk][Ee][Nn]|[Pp][Aa][Ss][Ss](?:[Ww][Oo][Rr][Dd]|[Ww][Dd]))"
        rf"[\"' ]?[=:] ?[\"' ]?){_VALUE}{{6,}}",
        anchors=("api", "secret", "token", "passw"),
        fold=True,
    ),
    PatternRule(
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
        r"(?:[^-]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[^-]*)",
        anchors=("PRIVATE KEY-----",),
    ),
    PatternRule(
        "iban",
        r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
        r"(?![A-Za-z0-9])",
        valid=iban_valid,
        check="iban",
        shape=b"AA00",
        in_runs=True,
    ),
    PatternRule(
        "phone",
        r"(?<![A-Za-z0-9+./-])(?:\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,5}"
        r"|\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-][0-9]{4})(?![A-Za-z0-9/-])",
        valid=phone_valid,
        check="phone",
    ),
)

BY_NAME = {rule.name: rule for rule in RULES}
#: Every built-in name, in the order they run (``email`` and ``card`` have
#: their own detectors in :mod:`.redaction`).
ALL_BUILTINS = ("email", "card", *BY_NAME)
#: Off by default: ``phone`` (too close to other numbers) and ``api_key``
#: (a heuristic, and four more passes over every batch).
DEFAULT_BUILTINS = tuple(name for name in ALL_BUILTINS if name not in ("phone", "api_key"))
