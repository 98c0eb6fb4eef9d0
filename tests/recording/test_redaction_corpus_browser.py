"""The recorder's side of redaction (frontend/src/recorder/redact.js, run
in Chromium with the patterns the server sends) against the redaction
corpus: no false negative for the enabled rules, and no false positive the
server would not also make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentiero_core.builtins.redaction import Redactor, recorder_patterns
from sentiero_core.builtins.redaction_patterns import ALL_BUILTINS, DEFAULT_BUILTINS
from sentiero_core.settings import RedactionSettings
from tests.ingest.test_redaction_corpus import CORPUS

pytestmark = pytest.mark.browser

SOURCE = Path(__file__).parents[2] / "frontend" / "src" / "recorder" / "redact.js"

RUN = """([spec, texts]) => texts.map((x) => {
  const event = { data: { x } };
  const redact = window.makeRedact(spec);
  if (redact) redact(event);
  return event.data.x;
})"""


@pytest.mark.parametrize("rules", [list(DEFAULT_BUILTINS), list(ALL_BUILTINS)])
def test_the_recorder_redacts_the_corpus_like_the_server(browser: Any, rules: list[str]) -> None:
    config = RedactionSettings(builtin_patterns=rules, query_denylist=[])
    server = Redactor(config)
    spec = {"r": config.replacement, "p": recorder_patterns(config)}
    source = SOURCE.read_text().replace("export function", "window.makeRedact = function")
    page = browser.new_page()
    try:
        page.add_script_tag(content=source)
        must = [(r, i) for r, items in CORPUS["redact"].items() if r in rules for i in items]
        redacted = page.evaluate(RUN, [spec, [item["text"] for _, item in must]])
        keep = [t for texts in CORPUS["keep"].values() for t in texts]
        kept = page.evaluate(RUN, [spec, keep])
    finally:
        page.close()
    negatives = [
        (rule, item["text"], out)
        for (rule, item), out in zip(must, redacted, strict=True)
        if item["secret"] in out
    ]
    assert negatives == []
    positives = [(text, out) for text, out in zip(keep, kept, strict=True) if out != text]
    # the recorder checks Luhn and IBAN checksums as the server does; a
    # phone-shaped match is not counted for digits there (docs/privacy.md)
    assert positives == [(t, server.redact_text(t)) for t in keep if server.redact_text(t) != t]
