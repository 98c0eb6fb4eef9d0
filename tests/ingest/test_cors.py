"""CORS on the ingest endpoint: preflights and the allow headers."""

from __future__ import annotations

import pytest

from sentiero_core.ingest.cors import allow_origin
from tests.ingest.helpers import EVENTS_URL, JSON, body, envelope, running

SITE = "https://shop.example"
OTHER = "https://evil.example"


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, content-encoding",
    }


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        (SITE, [SITE], SITE),
        (OTHER, [SITE], None),
        (OTHER, [SITE, "*"], "*"),
        (SITE, [SITE, "*"], SITE),
        (None, ["*"], None),
        (SITE + "/", [SITE], None),
        ("https://shop.example.evil.example", [SITE], None),
    ],
)
def test_allow_origin_matches_exactly(
    origin: str | None, allowed: list[str], expected: str | None
) -> None:
    assert allow_origin(origin, allowed) == expected


@pytest.mark.asyncio
async def test_preflight_for_a_listed_origin() -> None:
    async with running(cors_origins=[SITE]) as r:
        response = await r.client.options(EVENTS_URL, headers=preflight_headers(SITE))
        assert response.status_code == 204
        h = response.headers
        assert h["Access-Control-Allow-Origin"] == SITE
        assert h["Access-Control-Allow-Credentials"] == "true"
        assert h["Access-Control-Allow-Methods"] == "POST"
        assert {v.strip() for v in h["Access-Control-Allow-Headers"].split(",")} == {
            "Content-Type",
            "Content-Encoding",
        }
        assert "Origin" in h["Vary"]


@pytest.mark.asyncio
async def test_preflight_for_another_origin_is_denied() -> None:
    async with running(cors_origins=[SITE]) as r:
        response = await r.client.options(EVENTS_URL, headers=preflight_headers(OTHER))
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Methods" not in response.headers


@pytest.mark.asyncio
async def test_wildcard_allows_any_origin_without_credentials() -> None:
    async with running(cors_origins=["*"]) as r:
        response = await r.client.options(EVENTS_URL, headers=preflight_headers(OTHER))
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.asyncio
async def test_post_from_a_listed_origin_gets_the_allow_header() -> None:
    async with running(cors_origins=[SITE]) as r:
        response = await r.post(body(envelope()), {**JSON, "Origin": SITE})
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.asyncio
async def test_errors_carry_the_allow_header_too() -> None:
    async with running(cors_origins=[SITE]) as r:
        response = await r.post(b"{", {**JSON, "Origin": SITE})
        assert response.status_code == 400
        assert response.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.asyncio
async def test_post_from_another_origin_gets_no_allow_header() -> None:
    async with running(cors_origins=[SITE]) as r:
        response = await r.post(body(envelope()), {**JSON, "Origin": OTHER})
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.asyncio
async def test_same_origin_post_needs_no_cors() -> None:
    async with running() as r:
        response = await r.post(body(envelope()))
        assert response.status_code == 204
        assert "Access-Control-Allow-Origin" not in response.headers
        assert len(await r.stored_events()) == 2
