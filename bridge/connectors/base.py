"""The one small interface every connector implements, and the registry of platforms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Mapping

from bridge.config.model import Shop


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified delivery tells us: a ping, a hint that an order changed, or something we ignore."""

    kind: str  # ping | order | ignored
    topic: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class CouponSpec:
    """A single-use coupon for one person: a percentage or an amount off, maybe with a minimum and an end."""

    code: str
    email: str | None
    percent: Decimal | None = None  # 0.10 for 10%
    amount: Decimal | None = None
    minimum_order: Decimal | None = None
    expires_at: datetime | None = None
    description: str = ""


class Headers:
    """Case-insensitive read access to HTTP headers (proxies change their case)."""

    def __init__(self, headers: Mapping[str, str]):
        self._items = {str(k).lower(): v for k, v in dict(headers).items()}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._items.get(name.lower(), default)


class Connector:
    """A shop platform in bridge's terms. Subclasses set `name` and implement what their platform can."""

    name = ""

    def __init__(self, shop: Shop):
        self.shop = shop

    def parse_webhook(self, secret: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a delivery over its raw body and say what it means (raises a WebhookError)."""
        raise NotImplementedError(f"{self.name} does not receive webhooks")


def connector_for(shop: Shop) -> Connector:
    """Return the connector of a shop's platform; a precise error names the known platforms."""
    from bridge.connectors.woocommerce import WooCommerceConnector

    known = {c.name: c for c in (WooCommerceConnector,)}
    if shop.platform not in known:
        raise LookupError(f"no connector for platform {shop.platform!r} yet; available: {', '.join(sorted(known))}")
    return known[shop.platform](shop)
