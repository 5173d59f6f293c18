"""Hand-coded shops: their server sends bridge its orders, signed; bridge reads them back from its own store.

The request: `POST /api/v1/shops/<shop>/orders`, a JSON order (or `{"orders": [...]}`, at most 500),
with the header `Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + the raw body>` under the
shop's `signing_secret` (several v1 values are accepted while a secret is replaced). A timestamp more than
five minutes away from bridge's clock is refused, so a captured request cannot be replayed later (the
body and its checks: `connectors.custom_orders`). There is no API to call back: an order is what the shop's server last sent, and its key (kept as a
SHA-256) is what the widget's report on the thank-you page is checked against.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator, Mapping

from bridge.connectors.base import Connector, CouponSpec, Headers, ProductInfo
from bridge.connectors.custom_orders import PushRefused
from bridge.connectors.errors import FatalError, NotFound
from bridge.rewards.model import Order
from bridge.storage.models import CustomOrderKey, Product
from bridge.storage.rows import read_orders

SIGNATURE_HEADER = "Bridge-Signature"
TOLERANCE = timedelta(minutes=5)


def key_hash(key: str) -> str:
    """What bridge keeps of an order key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def sign(secret: str, body: bytes, at: datetime) -> str:
    """The `Bridge-Signature` header's value for a body sent at `at` (what the shop's server computes)."""
    stamp = int(at.timestamp())
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Raise PushRefused (401) unless the header signs this raw body with the secret, within the time window."""
    value = Headers(headers).get(SIGNATURE_HEADER)
    if not value:
        raise PushRefused(401, "missing_signature", f"the {SIGNATURE_HEADER} header is missing")
    parts: dict[str, list[str]] = {}
    for item in value.split(","):
        name, sep, part = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(part)
    stamps, signatures = parts.get("t", []), parts.get("v1", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise PushRefused(401, "malformed_signature",
                          f"{SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex HMAC-SHA256>")
    at = datetime.fromtimestamp(int(stamps[0]), timezone.utc) if len(stamps[0]) <= 11 else None
    if at is None or abs(now - at) > TOLERANCE:
        raise PushRefused(401, "stale_signature", f"the signature's time t={stamps[0]} is more than 5 minutes from "
                                                  f"bridge's clock ({int(now.timestamp())}): sign each request as it is sent")
    expected = sign(secret, body, at).partition(",v1=")[2].encode()
    # every candidate compared, in constant time each (a rotated secret sends two)
    if not any([hmac.compare_digest(expected, s.strip().lower().encode("ascii", "replace")) for s in signatures]):
        raise PushRefused(401, "bad_signature", "the signature does not match this body under the shop's signing_secret")


class CustomConnector(Connector):
    """A hand-coded shop: the orders are what its server sent (see the module's docstring)."""

    name = "custom"

    def configured_secret(self) -> str | None:
        return self.shop.custom.signing_secret if self.shop.custom else None

    def fetch_order_with_key(self, order_id: str, key: str) -> Order:
        order = read_orders(self.shop.id, [order_id]).get(order_id)
        stored = CustomOrderKey.select(CustomOrderKey.key_hash).where(
            (CustomOrderKey.shop == self.shop.id) & (CustomOrderKey.order_id == order_id)).scalar()
        self.check_key(stored or "-", key_hash(key or ""), order_id)  # (no order: the same answer as a wrong key)
        if order is None:
            raise NotFound("no such order", self.shop.id, 404, order_id)
        return order

    def fetch_order(self, order_id: str) -> Order:
        order = read_orders(self.shop.id, [order_id]).get(order_id)
        if order is None:
            raise NotFound("the shop's server has not sent this order", self.shop.id, 404, order_id)
        return order

    def fetch_changed(self, since: datetime, page_size: int = 100) -> Iterator[list[Order]]:
        return iter(())  # nothing to poll: the shop's server sends each change

    def fetch_product(self, product_id: str) -> ProductInfo:
        row = Product.get_or_none((Product.shop == self.shop.id) & (Product.product_id == product_id))
        if row is None:
            raise NotFound("the shop's server sent no name and page for this product", self.shop.id, 404)
        return ProductInfo(row.name, row.url, row.image_url)

    def create_coupon(self, spec: CouponSpec) -> str:
        raise FatalError("a custom shop's coupons are not available yet", self.shop.id)

    def refund(self, order_id: str, amount: Decimal, key: str, reason: str) -> str:
        raise FatalError("a custom shop's refunds are not available yet", self.shop.id, order=order_id)
