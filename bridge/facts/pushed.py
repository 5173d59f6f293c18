"""Orders a hand-coded shop's server sends: the signature and every field checked, then stored as facts.

Nothing is stored from a request that is refused (a 401 or 400 with what to fix), nor, within a batch,
from any of its orders when one is wrong. A request sent twice, or late after a newer one, changes nothing:
an order's `modified_at` is its version, and the newest stored wins, as for the other platforms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

from bridge.config.model import Config, Shop
from bridge.connectors.custom import key_hash, verify_signature
from bridge.connectors.custom_orders import PushRefused, parse_orders
from bridge.facts.ingest import ingest
from bridge.rewards.facts import is_newer
from bridge.storage.bulk import upsert_many
from bridge.storage.db import db
from bridge.storage.models import CustomOrderKey, Product
from bridge.storage.signals import note_signal

log = logging.getLogger("bridge.facts.pushed")


@dataclass(frozen=True)
class PushResult:
    """What to answer the shop's server: a status, and either a JSON body or an error (code and message)."""

    status: int
    body: dict | None = field(default=None)
    error: tuple[str, str] | None = None


def signed_by_shop(config: Config, shop_id: str, headers: Mapping[str, str], body: bytes, now: datetime,
                   what: str) -> tuple[Shop | None, PushResult | None]:
    """The custom shop a request names if the request is signed by it, or the 404 or 401 to answer."""
    try:
        shop = config.shop(shop_id)
    except KeyError:
        return None, PushResult(404, error=("unknown_shop", f"no shop {shop_id!r}"))
    if shop.platform != "custom":
        return None, PushResult(404, error=("not_a_custom_shop", f"shop {shop_id!r} is a {shop.platform} shop: bridge "
                                                                 "reads its orders from its own API"))
    try:
        verify_signature(shop.custom.signing_secret, headers, body, now)
    except PushRefused as exc:
        return None, refused(shop, what, exc)
    return shop, None


def refused(shop: Shop, what: str, exc: PushRefused) -> PushResult:
    """Log a refused request from a shop's server (without its body) and say what to answer."""
    log.warning(f"{what} refused", extra={"shop": shop.id, "reason": str(exc)})
    return PushResult(exc.status, error=(exc.code, str(exc)))


def receive_orders(config: Config, shop_id: str, headers: Mapping[str, str], body: bytes,
                   now: datetime | None = None) -> PushResult:
    """Check a request from a custom shop's server and store its orders (all of them, or none)."""
    now = now or datetime.now(timezone.utc)
    shop, answer = signed_by_shop(config, shop_id, headers, body, now, "orders")
    if answer:
        return answer
    try:
        pushed = parse_orders(shop, body)
    except PushRefused as exc:
        return refused(shop, "orders", exc)
    latest = {}
    for item in pushed:  # an order twice in one batch: its newest version, as ingestion keeps
        known = latest.get(item.order.id)
        if known is None or is_newer(item.order, known.order):
            latest[item.order.id] = item
    with db.atomic():
        changed = ingest(config, orders=[p.order for p in pushed], now=now)
        stored = sorted(i for i, p in latest.items() if p.order.key in changed)
        upsert_many(CustomOrderKey, [dict(shop=shop.id, order_id=i, key_hash=key_hash(latest[i].key)) for i in stored],
                    [CustomOrderKey.shop, CustomOrderKey.order_id])
        products = {pid: info for i in stored for pid, info in latest[i].products}
        upsert_many(Product, [dict(shop=shop.id, product_id=pid, name=info.name[:255], url=info.url,
                                   image_url=info.image_url, fetched_at=now) for pid, info in sorted(products.items())],
                    [Product.shop, Product.product_id])
        note_signal(shop.id, "orders_received", now, f"{len(latest)} orders, {len(stored)} new or changed")
    log.info("orders received", extra={"shop": shop.id, "orders": len(latest), "stored": len(stored)})
    return PushResult(200, dict(received=len(latest), stored=stored, unchanged=sorted(set(latest) - set(stored))))
