"""The bug both sample apps share: looking up an order that does not exist."""

from __future__ import annotations


class OrderNotFound(LookupError):
    pass


ORDERS = {1: "tea", 2: "coffee"}


def load_order(order_id: int) -> str:
    if order_id not in ORDERS:
        raise OrderNotFound(f"order {order_id} does not exist")
    return ORDERS[order_id]


def page(title: str, sentiero_url: str, links: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a id="{i}" href="{href}">{i}</a></li>' for i, href in links)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<script src="{sentiero_url}/sentiero/recorder.js"></script></head>'
        f"<body><h1>{title}</h1><ul>{items}</ul></body></html>"
    )
