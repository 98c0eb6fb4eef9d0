"""Client addresses: truncation and where the address comes from (the
forwarded headers are tested through the app in test_routes.py)."""

from __future__ import annotations

import pytest

from sentiero_core.ingest.ip import anonymize, client_address, stored_address

PEER = {"client": ("203.0.113.77", 50123)}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.1.2.255", "10.1.2.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("2001:db8:85a3:ffff::1", "2001:db8:85a3::"),
        ("::ffff:198.51.100.23", "198.51.100.0"),
        ("[2001:db8::1]", "2001:db8::"),
        ("fe80::1%eth0", "fe80::"),
    ],
)
def test_anonymize_truncates_v4_to_24_and_v6_to_48(address: str, expected: str) -> None:
    assert anonymize(address) == expected


@pytest.mark.parametrize("text", ["", "unknown", "300.1.1.1", "<local>", "1.2.3.4; drop"])
def test_anonymize_rejects_non_addresses(text: str) -> None:
    assert anonymize(text) is None


def test_peer_address_from_the_asgi_scope() -> None:
    assert client_address(PEER) == "203.0.113.77"


def test_no_client_in_scope_gives_none() -> None:
    assert client_address({}) is None


def test_stored_address_anonymized_or_not() -> None:
    assert stored_address(PEER, anonymize_ip=True) == "203.0.113.0"
    assert stored_address(PEER, anonymize_ip=False) == "203.0.113.77"
