"""The client address that goes with a batch, truncated before storage."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Protocol


class HeaderLookup(Protocol):
    def get(self, key: str) -> str | None: ...


IPV4_PREFIX = 24
IPV6_PREFIX = 48


def anonymize(address: str) -> str | None:
    """``203.0.113.77`` -> ``203.0.113.0``, ``2001:db8:85a3:8d3::1`` ->
    ``2001:db8:85a3::``. IPv4-mapped IPv6 is treated as IPv4. ``None`` for
    text that is not an address."""
    ip = _parse(address)
    if ip is None:
        return None
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(
    scope: Mapping[str, Any], headers: HeaderLookup, *, trust_forwarded_for: bool
) -> str | None:
    """The peer from the ASGI scope or, behind a trusted proxy, the last
    X-Forwarded-For entry: the one the proxy appended itself (entries to its
    left come from the client and can be forged)."""
    if trust_forwarded_for:
        forwarded = headers.get("X-Forwarded-For")
        if forwarded:
            last = forwarded.split(",")[-1]
            ip = _parse(last)
            if ip is not None:
                return str(ip)
    client = scope.get("client")
    if client:
        ip = _parse(str(client[0]))
        return str(ip) if ip is not None else None
    return None


def stored_address(
    scope: Mapping[str, Any],
    headers: HeaderLookup,
    *,
    anonymize_ip: bool,
    trust_forwarded_for: bool,
) -> str | None:
    address = client_address(scope, headers, trust_forwarded_for=trust_forwarded_for)
    if address is None or not anonymize_ip:
        return address
    return anonymize(address)
